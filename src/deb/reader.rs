//! [`read_deb`]: parses a `.deb` with our own ar reader, the tar crate's raw entry parser and
//! xz/gzip decoders, and validates it the way dpkg does while reading: ar member order and
//! `debian-binary`, allowed tar entry types (no PAX), a parent entry for every path, conffiles
//! present as regular files, and every md5sums line matching the file's content.
//! [`DebInfo`] prints like `dpkg-deb --info` + `--contents` and serialises for `--json`.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use serde::Serialize;

use super::ar::ArReader;
use super::compress::xz_decoder;
use super::DebError;
use crate::fsx;

/// One control field, in file order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlField {
    pub name: String,
    /// Multi-line values keep their continuation lines (each starting with a space).
    pub value: String,
}

/// A control.tar member besides `control`, `md5sums` and `conffiles` (maintainer scripts,
/// `triggers`, `templates`…).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlScript {
    pub name: String,
    pub mode: u32,
    /// The contents as text (invalid UTF-8 replaced).
    pub contents: String,
}

/// Size and line count of a control.tar member, for the `--info` style listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ControlMemberInfo {
    pub name: String,
    pub mode: u32,
    pub size: u64,
    pub lines: usize,
}

/// One `md5sums` line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Md5Line {
    pub md5: String,
    pub path: String,
}

/// A data.tar entry type (the ones dpkg accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DataKind {
    File,
    HardLink,
    Symlink,
    CharDevice,
    BlockDevice,
    Dir,
    Fifo,
}

/// One data.tar entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataEntry {
    /// The name as stored (`./usr/share/`).
    pub path: String,
    pub kind: DataKind,
    pub mode: u32,
    pub size: u64,
    pub link_target: Option<String>,
    pub uid: u64,
    pub gid: u64,
    pub uname: String,
    pub gname: String,
    pub mtime: u64,
}

/// An outer ar member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberInfo {
    pub name: String,
    pub size: u64,
    pub mtime: u64,
    pub mode: u32,
}

/// Everything [`read_deb`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DebInfo {
    pub path: PathBuf,
    pub size: u64,
    pub members: Vec<MemberInfo>,
    pub control: Vec<ControlField>,
    pub control_members: Vec<ControlMemberInfo>,
    pub conffiles: Vec<String>,
    pub md5sums: Vec<Md5Line>,
    pub scripts: Vec<ControlScript>,
    pub data: Vec<DataEntry>,
}

impl DebInfo {
    /// The value of a control field.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.control.iter().find(|f| f.name == name).map(|f| f.value.as_str())
    }

    /// A listing in the spirit of `dpkg-deb --info` followed by `dpkg-deb --contents`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let control_size = self.members.get(1).map_or(0, |m| m.size);
        let _ = writeln!(out, " new Debian package, version 2.0.");
        let _ = writeln!(out, " size {} bytes: control archive={control_size} bytes.", self.size);
        for m in &self.control_members {
            let exec = if m.mode & 0o111 != 0 { '*' } else { ' ' };
            let interp = self
                .scripts
                .iter()
                .find(|s| s.name == m.name && s.contents.starts_with("#!"))
                .and_then(|s| s.contents.lines().next())
                .unwrap_or("");
            let line = format!(
                " {:>7} bytes, {:>5} lines   {exec}  {:<20} {interp}",
                m.size, m.lines, m.name
            );
            let _ = writeln!(out, "{}", line.trim_end());
        }
        for f in &self.control {
            // Like dpkg-deb --info: every control line indented by one space.
            let _ = writeln!(out, " {}: {}", f.name, f.value.replace('\n', "\n "));
        }
        if !self.conffiles.is_empty() {
            let _ = writeln!(out, "conffiles:");
            for c in &self.conffiles {
                let _ = writeln!(out, " {c}");
            }
        }
        let _ = writeln!(out, "contents:");
        for e in &self.data {
            let link = e.link_target.as_deref().map(|t| format!(" -> {t}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "{} {}/{} {:>9} {} {}{link}",
                mode_string(e.kind, e.mode),
                e.uname,
                e.gname,
                e.size,
                format_time(e.mtime),
                e.path
            );
        }
        out
    }
}

fn mode_string(kind: DataKind, mode: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(match kind {
        DataKind::File | DataKind::HardLink => '-',
        DataKind::Symlink => 'l',
        DataKind::CharDevice => 'c',
        DataKind::BlockDevice => 'b',
        DataKind::Dir => 'd',
        DataKind::Fifo => 'p',
    });
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 7;
        s.push(if bits & 4 != 0 { 'r' } else { '-' });
        s.push(if bits & 2 != 0 { 'w' } else { '-' });
        s.push(if bits & 1 != 0 { 'x' } else { '-' });
    }
    s
}

fn format_time(mtime: u64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    i64::try_from(mtime)
        .ok()
        .and_then(|t| time::OffsetDateTime::from_unix_timestamp(t).ok())
        .and_then(|t| t.format(fmt).ok())
        .unwrap_or_else(|| mtime.to_string())
}

/// Reads and validates a `.deb`.
pub fn read_deb(path: &Path) -> Result<DebInfo, DebError> {
    let file = fsx::open(path)?;
    let size = file
        .metadata()
        .map_err(|source| DebError::ReadSource { path: path.to_path_buf(), source })?
        .len();
    let mut reader = Reader { path, info: DebInfo::empty(path, size) };
    reader.read(BufReader::with_capacity(256 << 10, file))?;
    Ok(reader.info)
}

impl DebInfo {
    fn empty(path: &Path, size: u64) -> Self {
        DebInfo {
            path: path.to_path_buf(),
            size,
            members: Vec::new(),
            control: Vec::new(),
            control_members: Vec::new(),
            conffiles: Vec::new(),
            md5sums: Vec::new(),
            scripts: Vec::new(),
            data: Vec::new(),
        }
    }
}

struct Reader<'a> {
    path: &'a Path,
    info: DebInfo,
}

/// Which ar member the reader expects next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    DebianBinary,
    Control,
    Data,
    Done,
}

impl Reader<'_> {
    fn invalid(&self, detail: impl Into<String>) -> DebError {
        DebError::Invalid { path: self.path.to_path_buf(), detail: detail.into() }
    }

    /// Format problems become `Invalid`; other I/O failures `ReadSource`.
    fn io(&self, context: &str, e: io::Error) -> DebError {
        match e.kind() {
            io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof | io::ErrorKind::Other => {
                self.invalid(format!("{context}: {e}"))
            }
            _ => DebError::ReadSource { path: self.path.to_path_buf(), source: e },
        }
    }

    fn read(&mut self, input: impl Read) -> Result<(), DebError> {
        let mut ar = ArReader::new(input).map_err(|e| self.io("ar archive", e))?;
        let mut stage = Stage::DebianBinary;
        while let Some(h) = ar.next_member().map_err(|e| self.io("ar archive", e))? {
            self.info.members.push(MemberInfo {
                name: h.name.clone(),
                size: h.size,
                mtime: h.mtime,
                mode: h.mode,
            });
            let name = h.name.as_str();
            stage = match stage {
                Stage::DebianBinary if name == "debian-binary" => {
                    let mut text = Vec::new();
                    ar.body().take(64).read_to_end(&mut text).map_err(|e| self.io(name, e))?;
                    if !(text.starts_with(b"2.") && text.ends_with(b"\n")) {
                        return Err(self.invalid(format!(
                            "debian-binary is {:?}, expected \"2.0\\n\"",
                            String::from_utf8_lossy(&text)
                        )));
                    }
                    Stage::Control
                }
                Stage::DebianBinary => {
                    return Err(self.invalid(format!("first member is `{name}`, not debian-binary")))
                }
                Stage::Control | Stage::Data if name.starts_with('_') => stage,
                Stage::Control if name.starts_with("control.tar") => {
                    let tar = decompress(name, ar.body()).map_err(|e| self.io(name, e))?;
                    self.read_control(tar)?;
                    Stage::Data
                }
                Stage::Data if name.starts_with("data.tar") => {
                    let tar = decompress(name, ar.body()).map_err(|e| self.io(name, e))?;
                    self.read_data(tar)?;
                    Stage::Done
                }
                Stage::Control | Stage::Data => {
                    return Err(self.invalid(format!("unexpected member `{name}` (order)")))
                }
                // Anything after data.tar (e.g. signatures) is ignored, as dpkg does.
                Stage::Done => Stage::Done,
            };
        }
        if stage != Stage::Done {
            return Err(self.invalid("archive ends before data.tar"));
        }
        self.check_conffiles()
    }

    fn read_control(&mut self, input: impl Read) -> Result<(), DebError> {
        let mut control_text = None;
        for_each_entry(input, |entry, body| {
            let name = entry.path.strip_prefix("./").unwrap_or(&entry.path).to_string();
            if entry.kind == DataKind::Dir && (name.is_empty() || entry.path == ".") {
                return Ok(());
            }
            if entry.kind != DataKind::File || name.contains('/') {
                return Err(TarError::NotPlainFile { path: entry.path });
            }
            let mut contents = Vec::new();
            body.read_to_end(&mut contents)?;
            self.info.control_members.push(ControlMemberInfo {
                name: name.clone(),
                mode: entry.mode,
                size: contents.len() as u64,
                lines: contents.iter().filter(|&&b| b == b'\n').count(),
            });
            let text = String::from_utf8_lossy(&contents).into_owned();
            match name.as_str() {
                "control" => control_text = Some(text),
                "conffiles" => {
                    self.info.conffiles = parse_conffiles(&text).map_err(TarError::Member)?;
                }
                "md5sums" => self.info.md5sums = parse_md5sums(&text).map_err(TarError::Member)?,
                _ => {
                    self.info.scripts.push(ControlScript { name, mode: entry.mode, contents: text })
                }
            }
            Ok(())
        })
        .map_err(|e| self.invalid(format!("control.tar: {e}")))?;
        let text = control_text.ok_or_else(|| self.invalid("control.tar has no control file"))?;
        self.info.control = parse_control(&text).map_err(|e| self.invalid(e))?;
        for required in ["Package", "Version", "Architecture"] {
            if self.info.field(required).is_none() {
                return Err(self.invalid(format!("control has no {required} field")));
            }
        }
        Ok(())
    }

    fn read_data(&mut self, input: impl Read) -> Result<(), DebError> {
        let expected: HashMap<String, String> =
            self.info.md5sums.iter().map(|l| (l.path.clone(), l.md5.clone())).collect();
        let mut dirs: HashSet<String> = HashSet::new();
        let mut seen_md5 = 0usize;
        let mut data = Vec::new();
        for_each_entry(input, |entry, body| {
            let rel = normalise(&entry.path);
            if !rel.is_empty() {
                let parent = rel.rsplit_once('/').map_or("", |(p, _)| p);
                if !parent.is_empty() && !dirs.contains(parent) {
                    return Err(TarError::NoParent { path: entry.path });
                }
            }
            if entry.kind == DataKind::Dir {
                dirs.insert(rel.to_string());
            }
            if entry.kind == DataKind::File {
                if let Some(want) = expected.get(rel) {
                    let mut hasher = Md5::new();
                    io::copy(body, &mut HashWriter(&mut hasher))?;
                    let got = hex::encode(hasher.finalize());
                    if &got != want {
                        let (path, want) = (rel.to_string(), want.clone());
                        return Err(TarError::Md5Mismatch { path, got, want });
                    }
                    seen_md5 += 1;
                }
            }
            data.push(entry);
            Ok(())
        })
        .map_err(|e| self.invalid(format!("data.tar: {e}")))?;
        if seen_md5 != expected.len() {
            let files: HashSet<&str> = data
                .iter()
                .filter(|e| e.kind == DataKind::File)
                .map(|e| normalise(&e.path))
                .collect();
            let missing = self.info.md5sums.iter().find(|l| !files.contains(l.path.as_str()));
            let which = missing.map_or("?", |l| l.path.as_str());
            return Err(self.invalid(format!("md5sums lists `{which}`, not a file in data.tar")));
        }
        self.info.data = data;
        Ok(())
    }

    fn check_conffiles(&self) -> Result<(), DebError> {
        let files: HashSet<&str> = self
            .info
            .data
            .iter()
            .filter(|e| e.kind == DataKind::File)
            .map(|e| normalise(&e.path))
            .collect();
        for c in &self.info.conffiles {
            let (removed, path) = match c.strip_prefix("remove-on-upgrade ") {
                Some(path) => (true, path),
                None => (false, c.as_str()),
            };
            let present = files.contains(path.trim_start_matches('/'));
            if !removed && !present {
                let detail = format!("conffile `{c}` is not a regular file in data.tar");
                return Err(self.invalid(detail));
            }
            if removed && present {
                let detail = format!("conffile `{c}` is in data.tar but flagged for removal");
                return Err(self.invalid(detail));
            }
        }
        Ok(())
    }
}

/// `./usr/share/` → `usr/share`.
fn normalise(name: &str) -> &str {
    let n = name.strip_prefix("./").or_else(|| name.strip_prefix('/')).unwrap_or(name);
    let n = n.trim_end_matches('/');
    if n == "." {
        ""
    } else {
        n
    }
}

struct HashWriter<'a>(&'a mut Md5);

impl io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn decompress<'a>(name: &str, body: impl Read + 'a) -> io::Result<Box<dyn Read + 'a>> {
    let ext = name.split_once(".tar").map_or("", |(_, ext)| ext);
    match ext {
        ".xz" => Ok(Box::new(xz_decoder(body)?)),
        ".gz" => Ok(Box::new(flate2::read::MultiGzDecoder::new(body))),
        "" => Ok(Box::new(body)),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("unsupported compression `{other}`"),
        )),
    }
}

/// Why a control.tar or data.tar stream was refused, by [`for_each_entry`] or by its visitor;
/// the reader puts `control.tar: ` or `data.tar: ` before it in [`DebError::Invalid`].
#[derive(Debug, thiserror::Error)]
enum TarError {
    /// Reading the stream or an entry's body failed.
    #[error(transparent)]
    Io(#[from] io::Error),
    /// A GNU long name or long link (`L`/`K`) record that is not UTF-8.
    #[error("non-UTF-8 long name")]
    LongName,
    /// A header type dpkg refuses (PAX `x`/`g` included).
    #[error("unknown tar header type `{}` (dpkg refuses it)", char::from(*flag).escape_default())]
    UnknownType { flag: u8 },
    /// A numeric header field (mode, size, uid, gid, mtime) of the entry at `path` is unreadable.
    #[error("`{path}`: {source}")]
    Header { path: String, source: io::Error },
    /// A control.tar entry that is not a plain file at the top level.
    #[error("control.tar entry `{path}` is not a plain file")]
    NotPlainFile { path: String },
    /// `conffiles` or `md5sums` does not parse.
    #[error("{0}")]
    Member(String),
    /// A data.tar entry before (or without) the entry of its parent directory.
    #[error("`{path}` comes before (or without) its parent")]
    NoParent { path: String },
    /// A data.tar file whose MD5 is not the one `md5sums` lists for it.
    #[error("md5sum of `{path}` is {got}, md5sums says {want}")]
    Md5Mismatch { path: String, got: String, want: String },
}

/// Walks a tar stream entry by entry, folding GNU `L`/`K` records into the next entry and
/// refusing every type dpkg refuses (PAX `x`/`g` included). `visit` gets the entry and its body.
fn for_each_entry(
    input: impl Read,
    mut visit: impl FnMut(DataEntry, &mut dyn Read) -> Result<(), TarError>,
) -> Result<(), TarError> {
    let mut archive = tar::Archive::new(input);
    let entries = archive.entries()?.raw(true);
    let mut long_name: Option<String> = None;
    let mut long_link: Option<String> = None;
    for entry in entries {
        let mut entry = entry?;
        let h = entry.header();
        let flag = h.entry_type().as_byte();
        let kind = match flag {
            b'L' | b'K' => {
                let mut value = Vec::new();
                entry.read_to_end(&mut value)?;
                while value.last() == Some(&0) {
                    value.pop();
                }
                let value = String::from_utf8(value).map_err(|_| TarError::LongName)?;
                if flag == b'L' {
                    long_name = Some(value);
                } else {
                    long_link = Some(value);
                }
                continue;
            }
            b'0' | b'\0' => DataKind::File,
            b'1' => DataKind::HardLink,
            b'2' => DataKind::Symlink,
            b'3' => DataKind::CharDevice,
            b'4' => DataKind::BlockDevice,
            b'5' => DataKind::Dir,
            b'6' => DataKind::Fifo,
            flag => return Err(TarError::UnknownType { flag }),
        };
        let header_name = String::from_utf8_lossy(&h.path_bytes()).into_owned();
        let path = long_name.take().unwrap_or(header_name);
        let link = long_link
            .take()
            .or_else(|| h.link_name_bytes().map(|l| String::from_utf8_lossy(&l).into_owned()));
        let header = |source| TarError::Header { path: path.clone(), source };
        let num = |r: io::Result<u64>| r.map_err(header);
        let data = DataEntry {
            kind,
            mode: h.mode().map_err(header)? & 0o7777,
            size: num(h.size())?,
            link_target: if matches!(kind, DataKind::Symlink | DataKind::HardLink) {
                link
            } else {
                None
            },
            uid: num(h.uid())?,
            gid: num(h.gid())?,
            uname: h
                .username_bytes()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default(),
            gname: h
                .groupname_bytes()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default(),
            mtime: num(h.mtime())?,
            path,
        };
        visit(data, &mut entry)?;
    }
    Ok(())
}

pub(super) fn parse_control(text: &str) -> Result<Vec<ControlField>, String> {
    let fields = crate::deb822::parse_paragraph(text).map_err(|e| format!("control: {e}"))?;
    Ok(fields.into_iter().map(|(name, value)| ControlField { name, value }).collect())
}

fn parse_conffiles(text: &str) -> Result<Vec<String>, String> {
    text.lines()
        .map(|line| {
            let path = line.strip_prefix("remove-on-upgrade ").unwrap_or(line);
            if path.starts_with('/') {
                Ok(line.to_string())
            } else {
                Err(format!("conffile `{line}` is not an absolute path"))
            }
        })
        .collect()
}

fn parse_md5sums(text: &str) -> Result<Vec<Md5Line>, String> {
    text.lines()
        .map(|line| {
            let (md5, path) =
                line.split_once("  ").ok_or_else(|| format!("bad md5sums line `{line}`"))?;
            let hex_ok = md5.len() == 32 && md5.bytes().all(|b| b.is_ascii_hexdigit());
            if !hex_ok || path.is_empty() {
                return Err(format!("bad md5sums line `{line}`"));
            }
            let path = path.trim_start_matches("./").trim_start_matches('/');
            Ok(Md5Line { md5: md5.to_ascii_lowercase(), path: path.to_string() })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_parsing_keeps_order_and_continuations() {
        let fields = parse_control("Package: a\nDescription: x\n y\n .\n z\nVersion: 1\n").unwrap();
        let names: Vec<_> = fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Package", "Description", "Version"]);
        assert_eq!(fields[1].value, "x\n y\n .\n z");
        assert!(parse_control("Package: a\n\nVersion: 1\n").is_err());
        assert!(parse_control("Package: a\nPackage: b\n").is_err());
    }

    #[test]
    fn md5sums_and_conffiles_are_checked() {
        assert!(parse_md5sums("d41d8cd98f00b204e9800998ecf8427e  usr/a\n").is_ok());
        assert!(parse_md5sums("d41d8cd98f00b204e9800998ecf8427e usr/a\n").is_err());
        assert!(parse_conffiles("/etc/a\nremove-on-upgrade /etc/b\n").is_ok());
        assert!(parse_conffiles("etc/a\n").is_err());
    }

    /// A tar of `(type flag, path, body)` entries; `edit` changes each header before its checksum.
    fn tar_of(entries: &[(u8, &str, &[u8])], edit: impl Fn(&mut tar::Header)) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (flag, path, body) in entries {
            let mut h = tar::Header::new_gnu();
            // Byte by byte: `set_path` would drop the `./` that dpkg-deb writes.
            h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(0);
            h.set_entry_type(tar::EntryType::new(*flag));
            h.set_mode(if *flag == b'5' { 0o755 } else { 0o644 });
            h.set_size(body.len() as u64);
            edit(&mut h);
            h.set_cksum();
            builder.append(&h, *body).unwrap();
        }
        builder.into_inner().unwrap()
    }

    fn walk_error(tar: &[u8]) -> String {
        for_each_entry(tar, |_, _| Ok(())).unwrap_err().to_string()
    }

    #[test]
    fn the_walk_names_what_it_refuses() {
        let pax = tar_of(&[(b'x', "./a", b"")], |_| ());
        assert_eq!(walk_error(&pax), "unknown tar header type `x` (dpkg refuses it)");
        let long = tar_of(&[(b'L', "././@LongLink", b"\xff\0"), (b'0', "./a", b"")], |_| ());
        assert_eq!(walk_error(&long), "non-UTF-8 long name");
        let mode = tar_of(&[(b'0', "./a", b"")], |h| h.as_old_mut().mode = *b"9999999\0");
        let mut bad = tar::Header::new_gnu();
        bad.as_old_mut().name[..3].copy_from_slice(b"./a");
        bad.as_old_mut().mode = *b"9999999\0";
        let reason = bad.mode().unwrap_err();
        assert_eq!(walk_error(&mode), format!("`./a`: {reason}"));
        let cut = tar_of(&[(b'0', "./a", b"body")], |_| ());
        assert!(for_each_entry(&cut[..700], |_, _| Ok(())).is_err(), "a cut stream is refused");
    }

    fn reader_error(control: bool, md5sums: &[Md5Line], tar: &[u8]) -> String {
        let path = Path::new("x.deb");
        let mut reader = Reader { path, info: DebInfo::empty(path, 0) };
        reader.info.md5sums = md5sums.to_vec();
        let result = if control { reader.read_control(tar) } else { reader.read_data(tar) };
        result.unwrap_err().to_string()
    }

    #[test]
    fn the_visitors_name_what_they_refuse() {
        let nested = tar_of(&[(b'0', "./sub/x", b"")], |_| ());
        assert_eq!(
            reader_error(true, &[], &nested),
            "`x.deb` is not a valid .deb: control.tar: control.tar entry `./sub/x` is not a plain \
             file"
        );
        let conffiles = tar_of(&[(b'0', "./conffiles", b"etc/a\n")], |_| ());
        assert_eq!(
            reader_error(true, &[], &conffiles),
            "`x.deb` is not a valid .deb: control.tar: conffile `etc/a` is not an absolute path"
        );
        let orphan = tar_of(&[(b'5', "./", b""), (b'0', "./a/b", b"")], |_| ());
        assert_eq!(
            reader_error(false, &[], &orphan),
            "`x.deb` is not a valid .deb: data.tar: `./a/b` comes before (or without) its parent"
        );
        let file = tar_of(&[(b'5', "./", b""), (b'0', "./a", b"x")], |_| ());
        let want = Md5Line { md5: "0".repeat(32), path: "a".into() };
        assert_eq!(
            reader_error(false, &[want], &file),
            "`x.deb` is not a valid .deb: data.tar: md5sum of `a` is \
             9dd4e461268c8034f5c8564e155c67a6, md5sums says 00000000000000000000000000000000"
        );
    }

    #[test]
    fn mode_strings() {
        assert_eq!(mode_string(DataKind::Dir, 0o755), "drwxr-xr-x");
        assert_eq!(mode_string(DataKind::Symlink, 0o777), "lrwxrwxrwx");
        assert_eq!(mode_string(DataKind::File, 0o644), "-rw-r--r--");
    }
}
