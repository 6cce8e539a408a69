//! File-system steps of the publisher, built on [`crate::fsx`]'s calls: atomic replace
//! (temp file in the same directory, fsync, rename), content-addressed writes, hard links, the
//! repository lock and the fault-injection points used by the kill tests. Every failure is an
//! [`FsError`] naming the verb and the path, like `fsx`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt;

use crate::fsx::{self, FsError};
use crate::report::Reporter;

/// Marker in the names of temporary files: `.<name>.cts-tmp.<pid>`. Under the repository lock
/// any such file is left over from a killed publisher and can be removed.
pub const TMP_MARKER: &str = ".cts-tmp.";

fn tmp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}{TMP_MARKER}{}", std::process::id()))
}

/// Creates the parent directory of `path`.
pub fn ensure_parent(path: &Path) -> fsx::Result<()> {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => fsx::create_dir_all(p),
        _ => Ok(()),
    }
}

/// Creates (or truncates) `path` with `contents` and returns it, still open.
fn create(path: &Path, contents: &[u8], mode: Option<u32>) -> fsx::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    if let Some(mode) = mode {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    let mut f = fsx::open_with(&options, path, "create")?;
    f.write_all(contents).map_err(|e| FsError::new("write", path, e))?;
    Ok(f)
}

fn write_file(path: &Path, contents: &[u8], mode: Option<u32>, sync: bool) -> fsx::Result<()> {
    let f = create(path, contents, mode)?;
    if sync {
        f.sync_data().map_err(|e| FsError::new("sync", path, e))?;
    }
    Ok(())
}

/// Writes `contents` to a temporary file next to `path`, syncs it and renames it over `path`:
/// readers see the old file or the new one, never a mix.
pub fn replace(path: &Path, contents: &[u8]) -> fsx::Result<()> {
    ensure_parent(path)?;
    let tmp = tmp_path(path);
    write_file(&tmp, contents, None, true)?;
    fsx::rename(&tmp, path)
}

/// [`replace`] without the per-file sync, for bulk writes that [`sync_filesystem`] makes
/// durable afterwards (pool files, by-hash indices).
pub fn replace_unsynced(path: &Path, contents: &[u8]) -> fsx::Result<()> {
    ensure_parent(path)?;
    let tmp = tmp_path(path);
    write_file(&tmp, contents, None, false)?;
    fsx::rename(&tmp, path)
}

/// A file written to its temporary name (and kept open for more), renamed into place by
/// [`Staged::commit`]; lets a caller make several files durable with one [`sync_filesystem`]
/// before the renames.
#[derive(Debug)]
pub struct Staged {
    tmp: PathBuf,
    path: PathBuf,
    file: File,
}

impl Staged {
    pub fn write(path: &Path, contents: &[u8]) -> fsx::Result<Staged> {
        ensure_parent(path)?;
        let tmp = tmp_path(path);
        let file = create(&tmp, contents, None)?;
        Ok(Staged { tmp, path: path.to_path_buf(), file })
    }

    /// Adds `contents` after what was written so far.
    pub fn append(&mut self, contents: &[u8]) -> fsx::Result<()> {
        self.file.write_all(contents).map_err(|e| FsError::new("write", &self.tmp, e))
    }

    /// Makes what was written so far durable (`fdatasync`).
    pub fn sync_data(&self) -> fsx::Result<()> {
        self.file.sync_data().map_err(|e| FsError::new("sync", &self.tmp, e))
    }

    /// Removes the temporary file instead of committing it.
    pub fn discard(self) {
        // Best effort: a leftover temporary file (its name carries TMP_MARKER) is removed by
        // `repo gc`.
        let _ = fsx::remove_file(&self.tmp);
    }

    pub fn tmp_path(&self) -> &Path {
        &self.tmp
    }

    pub fn commit(self) -> fsx::Result<()> {
        fsx::rename(&self.tmp, &self.path)
    }
}

/// `syncfs(2)` on the file system holding `path`: one call makes every earlier write durable.
pub fn sync_filesystem(path: &Path) -> fsx::Result<()> {
    let dir = fsx::open(path)?;
    rustix::fs::syncfs(&dir).map_err(|e| FsError::new("sync", path, e.into()))
}

/// Makes `files` durable: one `fdatasync` each, all at once (the device gets them as one
/// queue), when they are few; else one `syncfs` on the file system of `root` (cheaper than
/// thousands of fsyncs, but it also flushes other processes' writes, so it is not used for a
/// handful of files).
pub fn make_durable(files: &[PathBuf], root: &Path) -> fsx::Result<()> {
    const FEW: usize = 32;
    if files.len() > FEW {
        return sync_filesystem(root);
    }
    let sync = |f: &PathBuf| -> fsx::Result<()> {
        let file = fsx::open(f)?;
        file.sync_data().map_err(|e| FsError::new("sync", f, e))
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = files.iter().map(|f| s.spawn(move || sync(f))).collect();
        handles.into_iter().try_for_each(crate::par::joined)
    })
}

/// fsync on a directory, making the renames inside it durable.
pub fn sync_dir(path: &Path) -> fsx::Result<()> {
    let dir = fsx::open(path)?;
    dir.sync_all().map_err(|e| FsError::new("sync", path, e))
}

/// Like [`replace`], with the file created with `mode` (e.g. `0o600` for a secret key).
pub fn replace_with_mode(path: &Path, contents: &[u8], mode: u32) -> fsx::Result<()> {
    ensure_parent(path)?;
    let tmp = tmp_path(path);
    write_file(&tmp, contents, Some(mode), true)?;
    fsx::rename(&tmp, path)
}

/// Writes an immutable, content-addressed file unless it already exists with the right size
/// (the caller guarantees that the name determines the content). Not synced: see
/// [`sync_filesystem`]. Returns whether it wrote.
pub fn write_once(path: &Path, contents: &[u8]) -> fsx::Result<bool> {
    if fsx::metadata(path).is_ok_and(|m| m.len() == contents.len() as u64) {
        return Ok(false);
    }
    replace_unsynced(path, contents)?;
    Ok(true)
}

/// Makes `link` another name of `target` (same file system); copies when linking fails.
/// `link` is replaced atomically if it exists.
pub fn link_or_copy(target: &Path, link: &Path) -> fsx::Result<()> {
    ensure_parent(link)?;
    let tmp = tmp_path(link);
    let _ = fsx::remove_file(&tmp);
    if fsx::hard_link(target, &tmp).is_err() {
        fsx::copy(target, &tmp)?;
    }
    fsx::rename(&tmp, link)
}

/// Removes a file; a file that is already gone is fine.
pub fn remove_if_exists(path: &Path) -> fsx::Result<bool> {
    match fsx::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.source.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Removes `dir` and its empty parents up to (not including) `stop`.
pub fn prune_empty_dirs(dir: &Path, stop: &Path) {
    let mut d = dir.to_path_buf();
    while d.starts_with(stop) && d != stop {
        if fsx::remove_dir(&d).is_err() {
            break;
        }
        if !d.pop() {
            break;
        }
    }
}

/// Every regular file below `dir` (recursively), or nothing if `dir` does not exist.
pub fn files_below(dir: &Path) -> fsx::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if !dir.exists() {
        return Ok(out);
    }
    for entry in walkdir::WalkDir::new(dir) {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_path_buf();
            FsError::new("list", &path, e.into())
        })?;
        if entry.file_type().is_file() {
            out.push(entry.into_path());
        }
    }
    Ok(out)
}

/// The exclusive repository lock: an `flock(2)` on `.cts-repo/lock`. The kernel releases it
/// when the holder exits or is killed, so it can never go stale; there is no PID file to clean.
#[derive(Debug)]
pub struct RepoLock {
    _file: File,
}

impl RepoLock {
    /// Blocks until the lock is ours, telling the reporter when it has to wait.
    pub fn acquire(path: &Path, reporter: &dyn Reporter) -> fsx::Result<RepoLock> {
        ensure_parent(path)?;
        let file = fsx::open_with(
            OpenOptions::new().read(true).write(true).create(true).truncate(false),
            path,
            "open lock file",
        )?;
        let got = FileExt::try_lock_exclusive(&file).map_err(|e| FsError::new("lock", path, e))?;
        if !got {
            reporter.info(&format!("waiting for another publisher to release {}", path.display()));
            FileExt::lock_exclusive(&file).map_err(|e| FsError::new("lock", path, e))?;
        }
        Ok(RepoLock { _file: file })
    }
}

/// Fault injection for the kill tests: with `CTS_DEB_FAULT=after:<step>` the process exits with
/// status 86 right after `<step>`, without unwinding or running destructors, like a kill.
/// With `CTS_DEB_TIMINGS` set, also prints the time since the process started (benchmarks).
pub fn fault_point(step: &str) {
    if std::env::var_os("CTS_DEB_TIMINGS").is_some() {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let start = START.get_or_init(std::time::Instant::now);
        // Resident memory in MiB (second field of statm, in 4 KiB pages).
        let rss = fsx::read_to_string(Path::new("/proc/self/statm"))
            .ok()
            .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map_or(0, |pages| pages * 4 / 1024);
        eprintln!("cts-deb: timing: {step}: {:.3} s, {rss} MiB", start.elapsed().as_secs_f64());
    }
    if let Ok(spec) = std::env::var("CTS_DEB_FAULT") {
        if spec.strip_prefix("after:") == Some(step) {
            eprintln!("cts-deb: fault injected after {step}");
            std::process::exit(86);
        }
    }
}
