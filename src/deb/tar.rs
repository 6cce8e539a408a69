//! The tar writer for `control.tar` and `data.tar`, producing the same bytes as GNU tar in
//! `--format=gnu` mode (what dpkg-deb runs): GNU headers (`ustar  ` magic), numeric ids 0 with
//! `root`/`root` names, names written into the header bytes directly (so `./` survives), GNU `L`/`K`
//! records for names and link targets longer than 100 bytes (never PAX), base-256 sizes above
//! 8 GiB, and the end-of-archive zero blocks padded to GNU tar's 10240-byte record.
//!
//! The writer knows nothing about plans: callers pass archive names (`./usr/`) and stream bodies.

use std::io::{self, Write};

/// One tar block.
pub const BLOCK: usize = 512;
/// GNU tar's default record size (blocking factor 20); the archive is padded to a multiple of it.
const RECORD: u64 = 20 * BLOCK as u64;
/// Longest name or link target that fits in a header field without a GNU long-name record.
const NAME_FIELD: usize = 100;
/// The largest size an 11-digit octal field holds; larger sizes use GNU base-256.
const MAX_OCTAL_SIZE: u64 = 0o77_777_777_777;
const LONG_LINK_NAME: &[u8] = b"././@LongLink";

/// The tar entry types this writer emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    File,
    Dir,
    Symlink,
    /// GNU long name record (`L`).
    LongName,
    /// GNU long link-target record (`K`).
    LongLink,
}

impl EntryType {
    fn flag(self) -> u8 {
        match self {
            EntryType::File => b'0',
            EntryType::Dir => b'5',
            EntryType::Symlink => b'2',
            EntryType::LongName => b'L',
            EntryType::LongLink => b'K',
        }
    }
}

/// Everything that goes into one header block.
struct HeaderSpec<'a> {
    name: &'a [u8],
    link: &'a [u8],
    mode: u32,
    size: u64,
    mtime: u64,
    kind: EntryType,
}

/// Writes `value` as zero-padded octal filling `field` except for a trailing NUL.
fn put_octal(field: &mut [u8], value: u64) {
    let digits = field.len() - 1;
    let text = format!("{value:0digits$o}");
    debug_assert_eq!(text.len(), digits, "octal value {value} overflows its field");
    field[..digits].copy_from_slice(text.as_bytes());
    field[digits] = 0;
}

/// Writes a size field: octal when it fits, GNU base-256 otherwise.
fn put_size(field: &mut [u8; 12], size: u64) {
    if size <= MAX_OCTAL_SIZE {
        put_octal(field, size);
    } else {
        field.fill(0);
        field[0] = 0x80;
        field[4..].copy_from_slice(&size.to_be_bytes());
    }
}

fn encode_header(spec: &HeaderSpec<'_>) -> [u8; BLOCK] {
    let mut h = [0u8; BLOCK];
    let name_len = spec.name.len().min(NAME_FIELD);
    h[..name_len].copy_from_slice(&spec.name[..name_len]);
    put_octal(&mut h[100..108], u64::from(spec.mode));
    put_octal(&mut h[108..116], 0);
    put_octal(&mut h[116..124], 0);
    let mut size = [0u8; 12];
    put_size(&mut size, spec.size);
    h[124..136].copy_from_slice(&size);
    put_octal(&mut h[136..148], spec.mtime);
    h[156] = spec.kind.flag();
    let link_len = spec.link.len().min(NAME_FIELD);
    h[157..157 + link_len].copy_from_slice(&spec.link[..link_len]);
    h[257..265].copy_from_slice(b"ustar  \0");
    h[265..269].copy_from_slice(b"root");
    h[297..301].copy_from_slice(b"root");
    // The checksum is computed with its own field read as eight spaces, and written the way
    // GNU tar does: six octal digits, NUL, space.
    h[148..156].fill(b' ');
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    let text = format!("{sum:06o}\0 ");
    h[148..156].copy_from_slice(text.as_bytes());
    h
}

/// Zero bytes needed after `len` body bytes to reach a block boundary.
pub fn padding(len: u64) -> usize {
    ((BLOCK as u64 - len % BLOCK as u64) % BLOCK as u64) as usize
}

/// A GNU tar stream writer over any `Write`.
pub struct TarWriter<W: Write> {
    out: W,
    mtime: u64,
    written: u64,
}

impl<W: Write> TarWriter<W> {
    /// Every entry gets `mtime`.
    pub fn new(out: W, mtime: u64) -> Self {
        TarWriter { out, mtime, written: 0 }
    }

    fn raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn long_record(&mut self, kind: EntryType, value: &[u8]) -> io::Result<()> {
        let size = value.len() as u64 + 1;
        // GNU tar writes these with mode 0644 and mtime 0.
        let spec =
            HeaderSpec { name: LONG_LINK_NAME, link: b"", mode: 0o644, size, mtime: 0, kind };
        self.raw(&encode_header(&spec))?;
        self.raw(value)?;
        self.raw(&[0])?;
        self.raw(&[0; BLOCK][..padding(size)])
    }

    fn header(
        &mut self,
        name: &str,
        link: &str,
        mode: u32,
        size: u64,
        kind: EntryType,
    ) -> io::Result<()> {
        if link.len() > NAME_FIELD {
            self.long_record(EntryType::LongLink, link.as_bytes())?;
        }
        if name.len() > NAME_FIELD {
            self.long_record(EntryType::LongName, name.as_bytes())?;
        }
        let spec = HeaderSpec {
            name: name.as_bytes(),
            link: link.as_bytes(),
            mode,
            size,
            mtime: self.mtime,
            kind,
        };
        self.raw(&encode_header(&spec))
    }

    /// A directory; `name` is the archive name (`./` or `./usr/`).
    pub fn append_dir(&mut self, name: &str, mode: u32) -> io::Result<()> {
        self.header(name, "", mode, 0, EntryType::Dir)
    }

    /// A symbolic link (mode 0777, as GNU tar records it).
    pub fn append_symlink(&mut self, name: &str, target: &str) -> io::Result<()> {
        self.header(name, target, 0o777, 0, EntryType::Symlink)
    }

    /// A regular file whose `size` body bytes the caller writes into the returned handle.
    pub fn start_file(&mut self, name: &str, mode: u32, size: u64) -> io::Result<FileBody<'_, W>> {
        self.header(name, "", mode, size, EntryType::File)?;
        Ok(FileBody { tar: self, expected: size, written: 0 })
    }

    /// A regular file from memory.
    pub fn append_bytes(&mut self, name: &str, mode: u32, contents: &[u8]) -> io::Result<()> {
        let mut body = self.start_file(name, mode, contents.len() as u64)?;
        body.write_all(contents)?;
        body.finish()
    }

    /// The end-of-archive marker (two zero blocks), padded to a whole record like GNU tar.
    /// Returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.raw(&[0; 2 * BLOCK])?;
        let rest = (RECORD - self.written % RECORD) % RECORD;
        io::copy(&mut io::Read::take(io::repeat(0), rest), &mut self.out)?;
        Ok(self.out)
    }
}

/// The body of a file entry being written. Refuses more bytes than announced;
/// [`FileBody::finish`] refuses fewer and writes the block padding.
pub struct FileBody<'a, W: Write> {
    tar: &'a mut TarWriter<W>,
    expected: u64,
    written: u64,
}

impl<W: Write> FileBody<'_, W> {
    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Checks the length and pads to the block boundary.
    pub fn finish(self) -> io::Result<()> {
        if self.written != self.expected {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("tar entry got {} of {} bytes", self.written, self.expected),
            ));
        }
        self.tar.raw(&[0; BLOCK][..padding(self.expected)])
    }
}

impl<W: Write> Write for FileBody<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written + buf.len() as u64 > self.expected {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("tar entry is longer than the announced {} bytes", self.expected),
            ));
        }
        self.tar.raw(buf)?;
        self.written += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tar.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_match_gnu_tar() {
        let mut t = TarWriter::new(Vec::new(), 1_700_000_000);
        t.append_dir("./", 0o755).unwrap();
        let out = t.finish().unwrap();
        assert_eq!(out.len(), 10240);
        let h = &out[..BLOCK];
        assert_eq!(&h[..3], b"./\0");
        assert_eq!(&h[100..108], b"0000755\0");
        assert_eq!(&h[124..136], b"00000000000\0");
        assert_eq!(&h[136..148], b"14524770400\0");
        assert_eq!(&h[148..156], b"007714\0 ");
        assert_eq!(h[156], b'5');
        assert_eq!(&h[257..265], b"ustar  \0");
        assert_eq!(&h[265..270], b"root\0");
        let parsed = tar::Header::from_byte_slice(h);
        assert_eq!(parsed.cksum().unwrap(), 0o7714);
    }

    #[test]
    fn long_names_use_gnu_records() {
        let name = format!("./usr/{}", "n".repeat(150));
        let target = "t".repeat(120);
        let mut t = TarWriter::new(Vec::new(), 1);
        t.append_bytes(&name, 0o644, b"hi").unwrap();
        t.append_symlink("./usr/l", &target).unwrap();
        let out = t.finish().unwrap();
        assert_eq!(out[156], b'L');
        let mut archive = tar::Archive::new(&out[..]);
        let entries: Vec<_> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let link = e.link_name_bytes().map(|l| String::from_utf8(l.into_owned()).unwrap());
                (String::from_utf8(e.path_bytes().into_owned()).unwrap(), link)
            })
            .collect();
        assert_eq!(entries, vec![(name, None), ("./usr/l".to_string(), Some(target))]);
    }

    #[test]
    fn base256_sizes_above_8_gib() {
        let mut field = [0u8; 12];
        put_size(&mut field, 10 << 30);
        assert_eq!(field[0], 0x80);
        let mut h = tar::Header::new_gnu();
        h.as_mut_bytes()[124..136].copy_from_slice(&field);
        assert_eq!(h.size().unwrap(), 10 << 30);
    }

    #[test]
    fn file_body_length_is_enforced() {
        let mut t = TarWriter::new(Vec::new(), 1);
        let mut body = t.start_file("./a", 0o644, 3).unwrap();
        assert!(body.write_all(b"abcd").is_err());
        let mut t = TarWriter::new(Vec::new(), 1);
        let mut body = t.start_file("./a", 0o644, 3).unwrap();
        body.write_all(b"ab").unwrap();
        assert!(body.finish().is_err());
    }
}
