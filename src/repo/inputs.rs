//! Finding and opening `publish` inputs, on all cores.
//!
//! An argument that is a file is itself an input; one that is a directory stands for every
//! `*.deb` below it, in path order (a CI artifacts directory, or a whole pool to re-index).
//! A pool has a directory per source package, so publishing a pool is mostly system calls:
//! directories are read with rustix's `Dir` (getdents only; std's `read_dir` adds an `fstat`
//! per directory), and each package is opened relative to its directory while that is open
//! (no second walk of its path) and handed to the caller's reader right there, on the same
//! thread. Explicit files are read on all cores too.

use std::ffi::{CStr, CString};
use std::fs::File;
use std::path::{Path, PathBuf};

use rustix::fd::BorrowedFd;
use rustix::fs::{AtFlags, FileType, Mode, OFlags};

use super::error::{RepoError, Result};
use crate::fsx::{self, FsError};

/// Reads every input with `read` (given the open file and its path), keeping argument order;
/// the packages below a directory come in path order.
pub fn read_all<T, F>(args: &[PathBuf], read: F) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(File, &Path) -> Result<T> + Sync,
{
    let mut out = Vec::with_capacity(args.len());
    let mut files: Vec<PathBuf> = Vec::new();
    let read_path = |p: &PathBuf| read(fsx::open(p)?, p);
    for arg in args {
        if !arg.is_dir() {
            files.push(arg.clone());
            continue;
        }
        for r in crate::par::map(&std::mem::take(&mut files), 32, read_path) {
            out.push(r?);
        }
        let below = read_below(arg, &read)?;
        if below.is_empty() {
            return Err(RepoError::Usage(format!("no .deb files below `{}`", arg.display())));
        }
        if out.is_empty() {
            out = below;
        } else {
            out.extend(below);
        }
    }
    for r in crate::par::map(&files, 32, read_path) {
        out.push(r?);
    }
    Ok(out)
}

fn is_deb(name: &[u8]) -> bool {
    name.ends_with(b".deb")
}

fn list_error(path: &Path, e: impl Into<std::io::Error>) -> RepoError {
    FsError::new("list", path, e.into()).into()
}

/// Every `*.deb` below `dir`, read, in path order. The top levels are listed here until there
/// are enough directories to share out; then each subtree is walked and read on its own core.
/// Each directory is listed in name order, so the results come out in path order with no
/// sort of the whole list at the end (one core would sort while the other idled).
fn read_below<T, F>(dir: &Path, read: &F) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(File, &Path) -> Result<T> + Sync,
{
    /// A package read on this thread, or a directory still to walk, in path order.
    enum Node<T> {
        Read(T),
        Dir(PathBuf),
    }
    const ENOUGH: usize = 64;
    let is_dir = |n: &Node<T>| matches!(n, Node::Dir(_));
    let mut frontier = vec![Node::Dir(dir.to_path_buf())];
    while frontier.iter().any(is_dir) && frontier.len() < ENOUGH {
        let mut next = Vec::new();
        for node in frontier {
            let Node::Dir(d) = node else {
                next.push(node);
                continue;
            };
            list_dir(&d, &mut |child| {
                next.push(match child {
                    Child::Dir(path) => Node::Dir(path),
                    Child::Deb(fd, name, path) => Node::Read(open_and_read(fd, name, &path, read)?),
                });
                Ok(())
            })?;
        }
        frontier = next;
    }
    fn walk<T, F>(dir: &Path, read: &F, found: &mut Vec<T>) -> Result<()>
    where
        F: Fn(File, &Path) -> Result<T>,
    {
        list_dir(dir, &mut |child| match child {
            Child::Dir(path) => walk(&path, read, found),
            Child::Deb(fd, name, path) => {
                found.push(open_and_read(fd, name, &path, read)?);
                Ok(())
            }
        })
    }
    // Subtrees are shared out in runs of up to RUN consecutive directories, each run read into
    // one vector: a vector per directory (a pool has one per source package) would hold one
    // package in room for four.
    const RUN: usize = 8;
    /// A package read at the top levels, or the place of the next run.
    enum Segment<T> {
        Read(T),
        Run,
    }
    let mut segments: Vec<Segment<T>> = Vec::new();
    let mut runs: Vec<Vec<PathBuf>> = Vec::new();
    for node in frontier {
        match node {
            Node::Read(t) => segments.push(Segment::Read(t)),
            Node::Dir(d) => match (segments.last(), runs.last_mut()) {
                (Some(Segment::Run), Some(run)) if run.len() < RUN => run.push(d),
                _ => {
                    runs.push(vec![d]);
                    segments.push(Segment::Run);
                }
            },
        }
    }
    let walked = crate::par::map(&runs, 1, |run| {
        let mut part = Vec::with_capacity(run.len());
        run.iter().try_for_each(|d| walk(d, read, &mut part)).map(|()| part)
    });
    let mut parts = Vec::with_capacity(walked.len());
    for part in walked {
        parts.push(part?);
    }
    let mut out = Vec::with_capacity(segments.len() + parts.iter().map(Vec::len).sum::<usize>());
    let mut parts = parts.into_iter();
    for segment in segments {
        match segment {
            Segment::Read(t) => out.push(t),
            Segment::Run => out.extend(parts.next().into_iter().flatten()),
        }
    }
    Ok(out)
}

fn open_and_read<T>(
    dir: BorrowedFd<'_>,
    name: &CStr,
    path: &Path,
    read: &impl Fn(File, &Path) -> Result<T>,
) -> Result<T> {
    let fd = rustix::fs::openat(dir, name, OFlags::RDONLY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| RepoError::from(FsError::new("open", path, e.into())))?;
    read(File::from(fd), path)
}

/// An entry of a directory being listed: a subdirectory, or a `*.deb` (with the open
/// directory, its name there and its full path).
enum Child<'a> {
    Dir(PathBuf),
    Deb(BorrowedFd<'a>, &'a CStr, PathBuf),
}

/// Calls `visit` for each subdirectory and `*.deb` in `dir`, in name order (bytewise, as
/// path order compares names), while the directory is open. Entry types come from the
/// directory itself, with a `stat` only where the file system does not record them.
fn list_dir(dir: &Path, visit: &mut dyn FnMut(Child<'_>) -> Result<()>) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let fd = rustix::fs::open(dir, flags, Mode::empty()).map_err(|e| list_error(dir, e))?;
    let mut entries = rustix::fs::Dir::new(fd).map_err(|e| list_error(dir, e))?;
    let mut children: Vec<(CString, bool)> = Vec::new();
    while let Some(entry) = entries.read() {
        let entry = entry.map_err(|e| list_error(dir, e))?;
        let name = entry.file_name();
        if matches!(name.to_bytes(), b"." | b"..") {
            continue;
        }
        let mut kind = entry.file_type();
        if kind == FileType::Unknown {
            let dir_fd = entries.fd().map_err(|e| list_error(dir, e))?;
            let stat = rustix::fs::statat(dir_fd, name, AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| list_error(dir, e))?;
            kind = FileType::from_raw_mode(stat.st_mode);
        }
        match kind {
            FileType::Directory => children.push((name.to_owned(), true)),
            FileType::RegularFile if is_deb(name.to_bytes()) => {
                children.push((name.to_owned(), false));
            }
            _ => {}
        }
    }
    children.sort_unstable();
    let dir_fd = entries.fd().map_err(|e| list_error(dir, e))?;
    for (name, is_dir) in &children {
        let path = dir.join(std::ffi::OsStr::from_bytes(name.to_bytes()));
        visit(if *is_dir { Child::Dir(path) } else { Child::Deb(dir_fd, name, path) })?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests may use std::fs directly
mod tests {
    use std::path::{Path, PathBuf};

    #[test]
    fn packages_below_a_directory_come_in_path_order() {
        let tmp = tempfile::tempdir().unwrap();
        // Enough directories that the walk is shared out, and names where bytewise order of
        // whole paths differs from path order (`a/b` before `a-`, as `/` > `-`).
        let mut names: Vec<String> = (0..80).map(|i| format!("p/{i:03}/x.deb")).collect();
        names.extend(
            ["p/a/b.deb", "p/a-.deb", "p/a/b/c.deb", "p/a.b.deb", "p/ab.deb", "p/a/a-b.deb"]
                .map(String::from),
        );
        // A package between two directories of what would otherwise be one run.
        names.push("p/042.deb".into());
        names.extend(
            ["p/a/.deb", "p/a b.deb", "p/\u{e9}.deb", "p/z.deb", "top.deb"].map(String::from),
        );
        for n in &names {
            let path = tmp.path().join(n);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, b"").unwrap();
        }
        std::fs::write(tmp.path().join("p/not-a-package.txt"), b"").unwrap();
        let read = |_: std::fs::File, p: &Path| Ok(p.to_path_buf());
        let found = super::read_below(tmp.path(), &read).unwrap();
        let mut expected: Vec<PathBuf> = names.iter().map(|n| tmp.path().join(n)).collect();
        expected.sort();
        assert_eq!(found, expected);
    }
}
