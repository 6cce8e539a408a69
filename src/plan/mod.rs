//! The package plan: every entry of data.tar, every control.tar member and every control field,
//! decided before anything is written. [`crate::deb`] only serialises a [`PackagePlan`].
//!
//! Paths in a plan are relative to the package root, without a leading `./` or `/`
//! (`usr/share/cts-server/app/manage.py`); directories carry no trailing slash here, the tar
//! writer adds it.
//!
//! [`plan`] (in `build`) takes the steps in order; each part lives in a module of
//! its own: `paths` (where the package puts things), `payload` (the data.tar entries),
//! `docs` (changelog and copyright), `control` (the control file and the Depends) and `version`
//! (the package version and where it came from).

use std::path::PathBuf;

mod build;
mod control;
mod docs;
mod paths;
mod payload;
mod programs;
mod pydeps;
mod version;

pub use build::{plan, Inputs, PlanError, Planned, Role, Wheels};
pub use programs::{programs, Program, ProgramPaths, Reload};
pub use pydeps::{is_deps_of, Wheel};
pub use version::{package_version, IgnoredTag, PackageVersion, VersionOrigin};

/// Where a regular file's bytes come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileSource {
    /// Read (streamed) from this file at write time.
    Disk(PathBuf),
    /// Rendered in memory (conffiles, docs, small generated files).
    Bytes(Vec<u8>),
}

/// What one data.tar entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    Dir,
    File { source: FileSource, size: u64 },
    Symlink { target: String },
}

/// One data.tar entry. Owner is always root:root (uid/gid 0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub mode: u32,
    pub kind: EntryKind,
}

/// One control.tar member besides `control`, `md5sums` and `conffiles` (which the writer derives):
/// maintainer scripts (mode 0755) and e.g. `triggers` (0644).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlMember {
    pub name: String,
    pub mode: u32,
    pub contents: Vec<u8>,
}

/// The complete, resolved description of one .deb.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagePlan {
    /// Control fields in output order, `Installed-Size` already computed. Multi-line values
    /// (Description) are stored already folded (continuation lines start with a space).
    pub control: Vec<(String, String)>,
    /// data.tar entries: sorted by path (byte order), every parent directory present, root excluded
    /// (the writer emits `./` first).
    pub entries: Vec<Entry>,
    /// Absolute paths of conffiles, in entry order.
    pub conffiles: Vec<String>,
    /// Scripts and other extra control members, sorted by name.
    pub control_members: Vec<ControlMember>,
    /// The one clock: mtime for every tar entry and ar header.
    pub mtime: u64,
    /// `<name>_<version>_<arch>.deb` (epoch stripped).
    pub file_name: String,
}

impl PackagePlan {
    /// The value of a control field, if present.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.control.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// `Installed-Size` by dpkg-gencontrol's rule: each regular file and symlink rounded up to whole
/// KiB, plus 1 KiB for every other object (directories). Hard links are not planned, so every file
/// counts once.
pub fn installed_size_kib(entries: &[Entry]) -> u64 {
    entries
        .iter()
        .map(|e| match &e.kind {
            EntryKind::File { size, .. } => size.div_ceil(1024),
            EntryKind::Symlink { target } => (target.len() as u64).div_ceil(1024),
            EntryKind::Dir => 1,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, size: u64) -> Entry {
        Entry {
            path: path.into(),
            mode: 0o644,
            kind: EntryKind::File { source: FileSource::Bytes(vec![0; size as usize]), size },
        }
    }

    #[test]
    fn installed_size_follows_dpkg_gencontrol() {
        let entries = vec![
            Entry { path: "usr".into(), mode: 0o755, kind: EntryKind::Dir },
            file("usr/a", 0),
            file("usr/b", 1),
            file("usr/c", 1024),
            file("usr/d", 1025),
            Entry {
                path: "usr/l".into(),
                mode: 0o777,
                kind: EntryKind::Symlink { target: "a".into() },
            },
        ];
        // dir 1 + 0 + 1 + 1 + 2 + symlink 1
        assert_eq!(installed_size_kib(&entries), 6);
    }
}
