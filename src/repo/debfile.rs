//! Reading an input `.deb` for publishing: the whole file's hashes and the `control` paragraph
//! from `control.tar{,.gz,.xz}`. This is a deliberately small reader (the full one is
//! `crate::deb`); it also refuses zstd members, which dpkg before 1.21.18 cannot read.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::control::Paragraph;
use super::error::{RepoError, Result};
use crate::deb::ar::ArReader;
use crate::fsx::FsError;

/// Size and the four digests that go into a Packages stanza.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Hashes {
    pub size: u64,
    pub md5: String,
    pub sha1: String,
    pub sha256: String,
    pub sha512: String,
}

impl Hashes {
    pub fn of(bytes: &[u8]) -> Hashes {
        Hashes {
            size: bytes.len() as u64,
            md5: hex::encode(Md5::digest(bytes)),
            sha1: hex::encode(Sha1::digest(bytes)),
            sha256: hex::encode(Sha256::digest(bytes)),
            sha512: hex::encode(Sha512::digest(bytes)),
        }
    }
}

/// A `.deb` read into memory and hashed.
#[derive(Debug)]
pub struct DebFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub hashes: Hashes,
}

impl DebFile {
    /// Reads the .deb at `path` (as opened by the caller: `file`), and its control paragraph.
    pub fn from_file(file: std::fs::File, path: &Path) -> Result<(DebFile, Paragraph)> {
        // Read to the end without asking the size first (File's own read_to_end costs an
        // fstat and an lseek, which show when indexing a pool of thousands): room for a
        // typical small package, grown as needed, trimmed to fit.
        let mut bytes = Vec::with_capacity(64 * 1024);
        file.take(u64::MAX).read_to_end(&mut bytes).map_err(|e| FsError::new("read", path, e))?;
        bytes.shrink_to_fit();
        let control = read_control(&bytes)
            .map_err(|reason| RepoError::InvalidDeb { path: path.to_path_buf(), reason })?;
        let hashes = Hashes::of(&bytes);
        Ok((DebFile { path: path.to_path_buf(), bytes, hashes }, control))
    }
}

/// Extracts and parses `control` from a .deb held in memory. The ar reader refuses a member
/// that runs past the end of the file, also data.tar, which is skipped, not read: a cut-off
/// upload's control member still reads, and apt would fetch it for dpkg to fail on a server.
pub fn read_control(deb: &[u8]) -> std::result::Result<Paragraph, String> {
    let bad_ar = |e: std::io::Error| format!("bad ar archive: {e}");
    let mut archive = ArReader::new(deb).map_err(bad_ar)?;
    let mut control_text = None;
    let mut has_data = false;
    let mut index = 0;
    while let Some(header) = archive.next_member().map_err(bad_ar)? {
        let name = header.name;
        let member = |prefix| name.starts_with(prefix);
        if (member("control.tar") || member("data.tar")) && name.ends_with(".zst") {
            return Err(format!(
                "member {name} is zstd-compressed, which dpkg before 1.21.18 cannot read; \
                 rebuild with xz"
            ));
        }
        has_data |= member("data.tar");
        // Only debian-binary and control.tar.* are read; data.tar is skipped, not copied.
        let mut data = Vec::new();
        if index == 0 || member("control.tar") {
            // The size comes from the file: no more than the file itself (a cut-off member
            // is refused by the reader).
            data.reserve_exact(usize::try_from(header.size).unwrap_or(0).min(deb.len()));
            archive.body().read_to_end(&mut data).map_err(bad_ar)?;
        }
        match (index, name.as_str()) {
            (0, "debian-binary") if !data.starts_with(b"2.") => {
                return Err(format!(
                    "unsupported format version {:?}",
                    String::from_utf8_lossy(&data).trim()
                ));
            }
            (0, "debian-binary") => {}
            (0, other) => return Err(format!("first member is `{other}`, not debian-binary")),
            (_, n) if n.starts_with("control.tar") => {
                control_text = Some(control_from(n, data)?);
            }
            _ => {}
        }
        index += 1;
    }
    let text = control_text.ok_or("no control.tar member")?;
    if !has_data {
        return Err("no data.tar member".into());
    }
    let text = String::from_utf8(text).map_err(|_| "control file is not UTF-8".to_string())?;
    Paragraph::parse(&text).map_err(|e| format!("control file: {e}"))
}

/// The `control` file of the control member `name` (`control.tar{,.gz,.xz}`). The member is
/// decompressed as the tar reader goes and only up to `./control`: dpkg-deb writes it near
/// the start, so the maintainer scripts, md5sums and the archive's zero padding after it are
/// not inflated (on a pool of small packages, that padding was most of the work).
fn control_from(name: &str, data: Vec<u8>) -> std::result::Result<Vec<u8>, String> {
    let found = match name.strip_prefix("control.tar") {
        Some("") => find_control(&data[..]),
        Some(".gz") => GZ_DECODER.with(|slot| {
            // One decoder per thread, reset for each member: a new one allocates and clears
            // its 32 KiB window, which cost more than inflating a small control member.
            let mut slot = slot.borrow_mut();
            let decoder = match slot.as_mut() {
                Some(decoder) => {
                    decoder.reset(Cursor::new(data));
                    decoder
                }
                None => slot.insert(flate2::bufread::GzDecoder::new(Cursor::new(data))),
            };
            find_control(decoder)
        }),
        // bufread: the member is already in memory, no second buffer.
        Some(".xz") => find_control(xz2::bufread::XzDecoder::new(&data[..])),
        _ => return Err(format!("unknown member {name}")),
    };
    found.map_err(|e| format!("{name}: {e}"))
}

thread_local! {
    static GZ_DECODER: std::cell::RefCell<Option<flate2::bufread::GzDecoder<Cursor<Vec<u8>>>>> =
        const { std::cell::RefCell::new(None) };
}

fn find_control(tar: impl Read) -> std::result::Result<Vec<u8>, String> {
    let mut archive = tar::Archive::new(tar);
    let entries = archive.entries().map_err(|e| e.to_string())?;
    for entry in entries {
        let mut entry = entry.map_err(|e| e.to_string())?;
        let path = entry.path().map_err(|e| e.to_string())?;
        let path = path.to_string_lossy();
        if path == "./control" || path == "control" {
            let mut text = Vec::with_capacity(entry.size() as usize);
            entry.read_to_end(&mut text).map_err(|e| e.to_string())?;
            return Ok(text);
        }
    }
    Err("no control file".into())
}
