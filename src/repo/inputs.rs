//! Finding and opening `publish` inputs, on all cores.
//!
//! An argument that is a file is itself an input; one that is a directory stands for every
//! `*.deb` below it, in path order (a CI artifacts directory, or a whole pool to re-index).
//! A pool has a directory per source package, so publishing a pool is mostly system calls:
//! directories are read with rustix's `Dir` (getdents only; std's `read_dir` adds an `fstat`
//! per directory), and each package is opened relative to its directory while that is open
//! (no second walk of its path) and handed to the caller's reader right there, on the same
//! thread. Explicit files are read on all cores too.

use std::ffi::CStr;
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
        out.extend(below);
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
fn read_below<T, F>(dir: &Path, read: &F) -> Result<Vec<T>>
where
    T: Send,
    F: Fn(File, &Path) -> Result<T> + Sync,
{
    const ENOUGH: usize = 64;
    let mut found: Vec<(Vec<u8>, T)> = Vec::new();
    let mut frontier = vec![dir.to_path_buf()];
    while !frontier.is_empty() && frontier.len() < ENOUGH {
        let mut next = Vec::new();
        for d in &frontier {
            list_dir(d, &mut next, &mut |fd, name, path| {
                found.push((order_key(&path), open_and_read(fd, name, &path, read)?));
                Ok(())
            })?;
        }
        frontier = next;
    }
    fn walk<T, F>(dir: &Path, read: &F, found: &mut Vec<(Vec<u8>, T)>) -> Result<()>
    where
        F: Fn(File, &Path) -> Result<T>,
    {
        let mut dirs = Vec::new();
        list_dir(dir, &mut dirs, &mut |fd, name, path| {
            found.push((order_key(&path), open_and_read(fd, name, &path, read)?));
            Ok(())
        })?;
        dirs.iter().try_for_each(|d| walk(d, read, found))
    }
    for part in crate::par::map(&frontier, 8, |d| {
        let mut part = Vec::new();
        walk(d, read, &mut part).map(|()| part)
    }) {
        found.extend(part?);
    }
    // Sort an index by the keys rather than the (large) items themselves, then take each item
    // once, in that order.
    let (keys, items): (Vec<Vec<u8>>, Vec<T>) = found.into_iter().unzip();
    let mut order: Vec<usize> = (0..keys.len()).collect();
    order.sort_unstable_by(|&a, &b| keys[a].cmp(&keys[b]));
    let mut items: Vec<Option<T>> = items.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| items[i].take()).collect())
}

/// A byte string that sorts as `path` does in path order (component by component, `Path`'s
/// `Ord`): each separator becomes NUL, which no file name holds and which sorts before every
/// other byte, so `a/b` comes before `a-`. Comparing these is one memcmp; comparing `Path`s
/// walks their components, which showed when sorting a pool of thousands. (The paths below
/// one argument are all joined from it and plain names, so no `.` or doubled separators.)
fn order_key(path: &Path) -> Vec<u8> {
    use std::os::unix::ffi::OsStrExt;
    path.as_os_str().as_bytes().iter().map(|&b| if b == b'/' { 0 } else { b }).collect()
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

/// Adds the subdirectories of `dir` to `dirs` and calls `on_deb` for each `*.deb` in it (with
/// the open directory, the name in it and the full path). Entry types come from the directory
/// itself, with a `stat` only where the file system does not record them.
fn list_dir(
    dir: &Path,
    dirs: &mut Vec<PathBuf>,
    on_deb: &mut dyn FnMut(BorrowedFd<'_>, &CStr, PathBuf) -> Result<()>,
) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let fd = rustix::fs::open(dir, flags, Mode::empty()).map_err(|e| list_error(dir, e))?;
    let mut entries = rustix::fs::Dir::new(fd).map_err(|e| list_error(dir, e))?;
    while let Some(entry) = entries.read() {
        let entry = entry.map_err(|e| list_error(dir, e))?;
        let name = entry.file_name();
        if matches!(name.to_bytes(), b"." | b"..") {
            continue;
        }
        let dir_fd = entries.fd().map_err(|e| list_error(dir, e))?;
        let mut kind = entry.file_type();
        if kind == FileType::Unknown {
            let stat = rustix::fs::statat(dir_fd, name, AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| list_error(dir, e))?;
            kind = FileType::from_raw_mode(stat.st_mode);
        }
        let path = dir.join(std::ffi::OsStr::from_bytes(name.to_bytes()));
        match kind {
            FileType::Directory => dirs.push(path),
            FileType::RegularFile if is_deb(name.to_bytes()) => on_deb(dir_fd, name, path)?,
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn order_keys_sort_as_paths_do() {
        let names = [
            "p/a/b.deb",
            "p/a-.deb",
            "p/a/b/c.deb",
            "p/a.b.deb",
            "p/ab.deb",
            "p/a/a-b.deb",
            "p/a0/x.deb",
            "p/a/.deb",
            "p/a b.deb",
            "p/\u{e9}.deb",
            "p/z.deb",
            "p/a/b-c/d.deb",
        ];
        let mut by_path: Vec<&Path> = names.iter().map(Path::new).collect();
        by_path.sort();
        let mut by_key = by_path.clone();
        by_key.reverse();
        by_key.sort_by_key(|p| super::order_key(p));
        assert_eq!(by_key, by_path);
    }
}
