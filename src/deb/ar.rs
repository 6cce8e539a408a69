//! The outer `ar` container of a `.deb`: the common (System V / GNU without a name table) variant
//! that dpkg writes, with fixed 60-byte member headers. Owns writing member headers and bodies
//! (with the odd-size pad byte) and parsing them back strictly.
//!
//! Why ours and not the `ar` crate: `repo::debfile` read uploads with `ar` (0.9) until commit
//! e235081, and that crate stops quietly at a short file, so a truncated upload read as an
//! archive with fewer or shorter members; debfile needed its own offset arithmetic on top to
//! notice. [`ArReader`] refuses a member or header that runs past the end and names the member
//! and both offsets, whether the body is read or skipped. Writing is a 60-byte header per member
//! whose every field we fix anyway (mtime from the plan, uid/gid 0, mode `100644`, names of at
//! most 15 characters, no GNU or BSD name table), so a crate saves little there. A crate could
//! replace this module if it reported truncation as an error, with the member and offsets.

use std::io::{self, Read, Write};

/// The global archive magic.
pub const MAGIC: &[u8; 8] = b"!<arch>\n";
/// Length of one member header.
pub const HEADER_LEN: usize = 60;
/// Longest member name the common variant holds without a name table.
const MAX_NAME: usize = 15;
/// The largest size the 10-digit decimal size field can hold.
const MAX_SIZE: u64 = 9_999_999_999;

/// What one member header says (mode is the octal file mode, e.g. `0o100644`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberHeader {
    pub name: String,
    pub mtime: u64,
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub size: u64,
}

/// Why a member header could not be written or parsed.
#[derive(Debug, thiserror::Error)]
pub enum ArFormatError {
    #[error("member name `{0}` does not fit the 15-character ar name field")]
    NameTooLong(String),
    #[error("member `{name}` is {size} bytes, more than the ar size field can hold")]
    TooLarge { name: String, size: u64 },
    #[error("not an ar archive (missing `!<arch>` magic)")]
    BadMagic,
    #[error("member header at offset {offset} is malformed: {detail}")]
    BadHeader { offset: u64, detail: &'static str },
}

/// Writes the global magic.
pub fn write_magic(w: &mut impl Write) -> io::Result<()> {
    w.write_all(MAGIC)
}

/// Renders a member header. Fails only for names or sizes the format cannot hold.
pub fn encode_header(h: &MemberHeader) -> Result<[u8; HEADER_LEN], ArFormatError> {
    if h.name.len() > MAX_NAME || !h.name.is_ascii() || h.name.contains([' ', '/']) {
        return Err(ArFormatError::NameTooLong(h.name.clone()));
    }
    if h.size > MAX_SIZE {
        return Err(ArFormatError::TooLarge { name: h.name.clone(), size: h.size });
    }
    let text = format!(
        "{:<16}{:<12}{:<6}{:<6}{:<8o}{:<10}`\n",
        h.name, h.mtime, h.uid, h.gid, h.mode, h.size
    );
    let mut out = [0u8; HEADER_LEN];
    if text.len() != HEADER_LEN {
        // Only possible when a numeric field overflows its width (e.g. an absurd mtime).
        return Err(ArFormatError::TooLarge { name: h.name.clone(), size: h.size });
    }
    out.copy_from_slice(text.as_bytes());
    Ok(out)
}

/// Writes one member: header, `size` bytes copied from `body`, and the pad byte for odd sizes.
/// Returns an `UnexpectedEof` error when `body` holds fewer than `size` bytes.
pub fn write_member(
    w: &mut impl Write,
    header: &MemberHeader,
    body: &mut impl Read,
) -> io::Result<()> {
    let encoded =
        encode_header(header).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    w.write_all(&encoded)?;
    let copied = io::copy(&mut body.take(header.size), w)?;
    if copied != header.size {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("member `{}` ended after {copied} of {} bytes", header.name, header.size),
        ));
    }
    if header.size % 2 == 1 {
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// Parses a member header found at `offset` (for error messages).
pub fn parse_header(raw: &[u8; HEADER_LEN], offset: u64) -> Result<MemberHeader, ArFormatError> {
    let bad = |detail| ArFormatError::BadHeader { offset, detail };
    if &raw[58..60] != b"`\n" {
        return Err(bad("missing the header terminator"));
    }
    let field = |range: std::ops::Range<usize>| -> Result<&str, ArFormatError> {
        std::str::from_utf8(&raw[range]).map(str::trim_end).map_err(|_| bad("non-ASCII field"))
    };
    let name = field(0..16)?;
    // GNU ar terminates names with `/`; dpkg accepts both spellings.
    let name = name.strip_suffix('/').unwrap_or(name);
    if name.is_empty() || name.starts_with('/') || name.starts_with("#1/") {
        return Err(bad("name tables and BSD long names are not used in .deb files"));
    }
    let dec = |range, what| -> Result<u64, ArFormatError> {
        let s = field(range)?;
        if s.is_empty() {
            return Ok(0);
        }
        s.parse().map_err(|_| bad(what))
    };
    let mode_text = field(40..48)?;
    let mode = if mode_text.is_empty() {
        0
    } else {
        u32::from_str_radix(mode_text, 8).map_err(|_| bad("mode is not octal"))?
    };
    Ok(MemberHeader {
        name: name.to_string(),
        mtime: dec(16..28, "mtime is not decimal")?,
        uid: u32::try_from(dec(28..34, "uid is not decimal")?).map_err(|_| bad("uid"))?,
        gid: u32::try_from(dec(34..40, "gid is not decimal")?).map_err(|_| bad("gid"))?,
        mode,
        size: dec(48..58, "size is not decimal")?,
    })
}

/// Reads an ar archive member by member from a sequential reader. A member whose body runs
/// past the end of the input (a cut-off download) is an error naming it, whether its body is
/// read or skipped; a missing pad byte after the last member is not (nothing follows it).
pub struct ArReader<R: Read> {
    inner: R,
    offset: u64,
    /// The current member's name, and the offset where its body ends.
    member: String,
    body_end: u64,
    /// Bytes of the current member's body not consumed yet.
    body_left: u64,
    /// The pad byte after an odd-sized member, not consumed yet.
    pad_left: u64,
}

impl<R: Read> ArReader<R> {
    /// Checks the global magic.
    pub fn new(mut inner: R) -> io::Result<Self> {
        let mut magic = [0u8; 8];
        inner.read_exact(&mut magic).map_err(|_| invalid(ArFormatError::BadMagic))?;
        if &magic != MAGIC {
            return Err(invalid(ArFormatError::BadMagic));
        }
        Ok(ArReader {
            inner,
            offset: 8,
            member: String::new(),
            body_end: 8,
            body_left: 0,
            pad_left: 0,
        })
    }

    /// The current member ends past the end of the input, which came at `self.offset`.
    fn truncated(&self) -> io::Error {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "truncated: member {} ends at byte {}, but the archive ends at byte {}",
                self.member, self.body_end, self.offset
            ),
        )
    }

    /// The next member's header, skipping whatever the caller left unread of the previous one.
    /// `Ok(None)` at the end of the archive.
    pub fn next_member(&mut self) -> io::Result<Option<MemberHeader>> {
        let rest = self.body_left + self.pad_left;
        if rest > 0 {
            let skipped = io::copy(&mut (&mut self.inner).take(rest), &mut io::sink())?;
            self.offset += skipped;
            if skipped < self.body_left {
                return Err(self.truncated());
            }
            if skipped < rest {
                // Only the pad byte is missing: the input ended right after this member.
                return Ok(None);
            }
            self.body_left = 0;
            self.pad_left = 0;
        }
        let mut raw = [0u8; HEADER_LEN];
        let mut got = 0;
        while got < HEADER_LEN {
            match self.inner.read(&mut raw[got..])? {
                0 if got == 0 => return Ok(None),
                0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "truncated ar member header",
                    ))
                }
                n => got += n,
            }
        }
        let header = parse_header(&raw, self.offset).map_err(invalid)?;
        self.offset += HEADER_LEN as u64;
        self.member.clone_from(&header.name);
        self.body_end = self.offset + header.size;
        self.body_left = header.size;
        self.pad_left = header.size % 2;
        Ok(Some(header))
    }

    /// A reader over the current member's body (without the pad byte).
    pub fn body(&mut self) -> MemberBody<'_, R> {
        MemberBody { ar: self }
    }
}

/// The body of the current member; reading it advances the archive.
pub struct MemberBody<'a, R: Read> {
    ar: &'a mut ArReader<R>,
}

impl<R: Read> Read for MemberBody<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ar.body_left == 0 {
            return Ok(0);
        }
        let max = buf.len().min(usize::try_from(self.ar.body_left).unwrap_or(usize::MAX));
        let n = self.ar.inner.read(&mut buf[..max])?;
        if n == 0 {
            return Err(self.ar.truncated());
        }
        self.ar.body_left -= n as u64;
        self.ar.offset += n as u64;
        Ok(n)
    }
}

fn invalid(e: ArFormatError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(name: &str, size: u64) -> MemberHeader {
        MemberHeader {
            name: name.into(),
            mtime: 1_700_000_000,
            uid: 0,
            gid: 0,
            mode: 0o100644,
            size,
        }
    }

    #[test]
    fn header_matches_dpkg_deb_bytes() {
        let h = encode_header(&header("debian-binary", 4)).unwrap();
        assert_eq!(
            &h[..],
            b"debian-binary   1700000000  0     0     100644  4         `\n".as_slice()
        );
    }

    #[test]
    fn odd_members_are_padded_and_read_back() {
        let mut out = Vec::new();
        write_magic(&mut out).unwrap();
        write_member(&mut out, &header("a", 3), &mut &b"abc"[..]).unwrap();
        write_member(&mut out, &header("b", 2), &mut &b"de"[..]).unwrap();
        assert_eq!(out.len(), 8 + 60 + 4 + 60 + 2);
        assert_eq!(out[8 + 60 + 3], b'\n');

        let mut ar = ArReader::new(&out[..]).unwrap();
        let a = ar.next_member().unwrap().unwrap();
        assert_eq!(a, header("a", 3));
        let mut body = Vec::new();
        ar.body().read_to_end(&mut body).unwrap();
        assert_eq!(body, b"abc");
        // The second member is found even when its body is not read.
        assert_eq!(ar.next_member().unwrap().unwrap(), header("b", 2));
        assert!(ar.next_member().unwrap().is_none());
    }

    #[test]
    fn a_cut_off_member_is_named_whether_read_or_skipped() {
        let mut out = Vec::new();
        write_magic(&mut out).unwrap();
        write_member(&mut out, &header("a", 3), &mut &b"abc"[..]).unwrap();
        write_member(&mut out, &header("b", 10), &mut &b"0123456789"[..]).unwrap();
        let cut = &out[..out.len() - 4];
        let message = "truncated: member b ends at byte 142, but the archive ends at byte 138";
        let mut ar = ArReader::new(cut).unwrap();
        ar.next_member().unwrap();
        assert_eq!(ar.next_member().unwrap().unwrap().name, "b");
        assert_eq!(ar.next_member().unwrap_err().to_string(), message);
        let mut ar = ArReader::new(cut).unwrap();
        ar.next_member().unwrap();
        ar.next_member().unwrap();
        let err = ar.body().read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(err.to_string(), message);
        // Without the pad byte after an odd last member, the archive simply ends.
        let mut ar = ArReader::new(&out[..8 + 60 + 3]).unwrap();
        ar.next_member().unwrap();
        assert!(ar.next_member().unwrap().is_none());
    }

    #[test]
    fn short_body_is_an_error() {
        let mut out = Vec::new();
        let err = write_member(&mut out, &header("a", 5), &mut &b"abc"[..]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn long_names_are_refused() {
        assert!(encode_header(&header("a-very-long-member-name", 1)).is_err());
    }
}
