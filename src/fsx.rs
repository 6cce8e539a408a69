//! The one wrapper around `std::fs`: every failure names the verb and the path
//! (after cargo-util's `paths.rs`). Other modules call these instead of `std::fs`; clippy's
//! `disallowed_methods` (clippy.toml) refuses raw `std::fs` calls anywhere else outside tests.

#![allow(clippy::disallowed_methods)]

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A file-system failure with the path it happened on.
#[derive(Debug, thiserror::Error)]
#[error("failed to {verb} `{}`: {source}", path.display())]
pub struct FsError {
    pub verb: &'static str,
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

impl FsError {
    pub fn new(verb: &'static str, path: &Path, source: io::Error) -> Self {
        FsError { verb, path: path.to_path_buf(), source }
    }
}

pub type Result<T> = std::result::Result<T, FsError>;

pub fn read(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| FsError::new("read", path, e))
}

pub fn read_to_string(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(|e| FsError::new("read", path, e))
}

pub fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result<()> {
    fs::write(path, contents).map_err(|e| FsError::new("write", path, e))
}

pub fn create_dir_all(path: &Path) -> Result<()> {
    fs::create_dir_all(path).map_err(|e| FsError::new("create directory", path, e))
}

pub fn metadata(path: &Path) -> Result<fs::Metadata> {
    fs::metadata(path).map_err(|e| FsError::new("stat", path, e))
}

pub fn symlink_metadata(path: &Path) -> Result<fs::Metadata> {
    fs::symlink_metadata(path).map_err(|e| FsError::new("stat", path, e))
}

pub fn read_link(path: &Path) -> Result<PathBuf> {
    fs::read_link(path).map_err(|e| FsError::new("read link", path, e))
}

pub fn open(path: &Path) -> Result<fs::File> {
    fs::File::open(path).map_err(|e| FsError::new("open", path, e))
}

pub fn rename(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).map_err(|e| FsError::new("rename into place", to, e))
}

pub fn canonicalize(path: &Path) -> Result<PathBuf> {
    fs::canonicalize(path).map_err(|e| FsError::new("resolve", path, e))
}

/// Opens `path` with `options`; `verb` says what for in the error (`create`, `open lock file`).
pub fn open_with(options: &fs::OpenOptions, path: &Path, verb: &'static str) -> Result<fs::File> {
    options.open(path).map_err(|e| FsError::new(verb, path, e))
}

pub fn read_dir(path: &Path) -> Result<fs::ReadDir> {
    fs::read_dir(path).map_err(|e| FsError::new("list", path, e))
}

pub fn remove_file(path: &Path) -> Result<()> {
    fs::remove_file(path).map_err(|e| FsError::new("remove", path, e))
}

pub fn remove_dir(path: &Path) -> Result<()> {
    fs::remove_dir(path).map_err(|e| FsError::new("remove directory", path, e))
}

pub fn hard_link(target: &Path, link: &Path) -> Result<()> {
    fs::hard_link(target, link).map_err(|e| FsError::new("link", link, e))
}

pub fn copy(from: &Path, to: &Path) -> Result<u64> {
    fs::copy(from, to).map_err(|e| FsError::new("copy to", to, e))
}
