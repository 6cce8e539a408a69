//! [`write_deb`]: checks the plan, streams data.tar.xz into a temporary file in the output
//! directory (md5sums computed on the way), builds control.tar.xz, assembles the ar archive in a
//! second temporary file and renames it over the target. Nothing is held in memory but control
//! members and copy buffers; a failure leaves neither a partial `.deb` nor a clobbered old one
//! (the temporary files are removed when dropped).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};

use md5::{Digest, Md5};
use tempfile::NamedTempFile;

use super::ar::{self, MemberHeader};
use super::compress::{xz_encoder, XzOptions};
use super::control;
use super::tar::{FileBody, TarWriter};
use super::DebError;
use crate::fsx;
use crate::plan::{EntryKind, FileSource, PackagePlan};
use crate::report::Reporter;

/// Prefix of every temporary file the writer creates next to the output.
pub const TEMP_PREFIX: &str = ".cts-deb-";
const COPY_BUF: usize = 256 << 10;
const AR_MODE: u32 = 0o100644;

/// Knobs that never change what the package means (and, for `threads`, not even its bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOptions {
    pub xz: XzOptions,
}

/// Writes `out_dir/plan.file_name` with the default options and returns its path.
pub fn write_deb(
    plan: &PackagePlan,
    out_dir: &Path,
    reporter: &dyn Reporter,
) -> Result<PathBuf, DebError> {
    write_deb_with(plan, out_dir, &WriteOptions::default(), reporter)
}

/// [`write_deb`] with explicit options.
pub fn write_deb_with(
    plan: &PackagePlan,
    out_dir: &Path,
    options: &WriteOptions,
    reporter: &dyn Reporter,
) -> Result<PathBuf, DebError> {
    stage_deb(plan, out_dir, options, reporter)?.persist()
}

/// A complete .deb in a temporary file beside its final name: [`StagedDeb::persist`] renames it
/// into place, dropping it deletes it. Several packages built together are all staged first, so
/// a failure in any of them leaves the output directory as it was.
pub struct StagedDeb {
    temp: NamedTempFile,
    target: PathBuf,
}

impl StagedDeb {
    /// Stages a copy of the finished package `from` (a cached one) as `out_dir/file_name`, and
    /// returns it with the SHA-256 of the bytes copied (what the caller checks, not `from`,
    /// which could change after).
    pub fn copy_of(
        from: &Path,
        out_dir: &Path,
        file_name: &str,
    ) -> Result<(StagedDeb, String), DebError> {
        let mut src = fsx::open(from)?;
        let mut deb = temp_in(out_dir, ".deb.tmp")?;
        let deb_path = deb.path().to_path_buf();
        let out_err = |source| DebError::WriteOutput { path: deb_path.clone(), source };
        let mut hashing = HashingWriter { inner: deb.as_file_mut(), hash: sha2::Sha256::new() };
        io::copy(&mut src, &mut hashing).map_err(out_err)?;
        let digest = hex::encode(hashing.hash.finalize());
        deb.as_file().sync_all().map_err(out_err)?;
        set_readable(deb.as_file()).map_err(out_err)?;
        Ok((StagedDeb { temp: deb, target: out_dir.join(file_name) }, digest))
    }

    /// Renames the package to its final name (replacing a file of that name) and returns it.
    pub fn persist(self) -> Result<PathBuf, DebError> {
        let target = self.target;
        self.temp
            .persist(&target)
            .map_err(|e| DebError::WriteOutput { path: target.clone(), source: e.error })?;
        Ok(target)
    }
}

/// Writes the whole package into a synced temporary file in `out_dir`, not yet under its name.
pub fn stage_deb(
    plan: &PackagePlan,
    out_dir: &Path,
    options: &WriteOptions,
    reporter: &dyn Reporter,
) -> Result<StagedDeb, DebError> {
    let conffiles = check_plan(plan)?;
    let control_text = control::render_control(&plan.control)?;
    let target = out_dir.join(&plan.file_name);
    reporter.info(&format!(
        "writing {} ({} entries, xz -{} with {} threads)",
        target.display(),
        plan.entries.len(),
        options.xz.preset,
        options.xz.threads
    ));

    let data = temp_in(out_dir, ".data.tar.xz.tmp")?;
    let md5sums = write_data(plan, &conffiles, &data, &options.xz)?;
    let members = control::members(
        control_text,
        control::render_md5sums(&md5sums),
        &plan.conffiles,
        &plan.control_members,
    )?;
    let control_xz = control_tar_xz(&members, plan.mtime, &options.xz)
        .map_err(|source| DebError::Compress { member: "control.tar.xz", source })?;

    let mut deb = temp_in(out_dir, ".deb.tmp")?;
    let deb_path = deb.path().to_path_buf();
    let out_err = |source| DebError::WriteOutput { path: deb_path.clone(), source };
    assemble(deb.as_file_mut(), plan.mtime, &control_xz, data.as_file()).map_err(out_err)?;
    deb.as_file().sync_all().map_err(out_err)?;
    set_readable(deb.as_file()).map_err(out_err)?;
    Ok(StagedDeb { temp: deb, target })
}

/// Writes through to `inner`, hashing what it writes.
struct HashingWriter<W> {
    inner: W,
    hash: sha2::Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        sha2::Digest::update(&mut self.hash, &buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn temp_in(dir: &Path, suffix: &str) -> Result<NamedTempFile, DebError> {
    tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(suffix)
        .tempfile_in(dir)
        .map_err(|source| DebError::WriteOutput { path: dir.to_path_buf(), source })
}

#[cfg(unix)]
fn set_readable(file: &File) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // tempfile creates 0600; a package is meant to be world-readable.
    file.set_permissions(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn set_readable(_file: &File) -> io::Result<()> {
    Ok(())
}

/// Checks what the writer relies on: names, order, parents, conffiles. Returns the conffiles
/// as package paths (without the leading `/`).
fn check_plan(plan: &PackagePlan) -> Result<HashSet<&str>, DebError> {
    if plan.mtime == 0 {
        return Err(DebError::ZeroMtime);
    }
    let name = &plan.file_name;
    if !name.ends_with(".deb") || name.contains('/') || name.starts_with('.') {
        return Err(DebError::BadFileName {
            name: name.clone(),
            reason: "must be a plain `<name>_<version>_<arch>.deb` file name",
        });
    }
    let mut dirs: HashSet<&str> = HashSet::from([""]);
    let mut is_file: HashMap<&str, bool> = HashMap::with_capacity(plan.entries.len());
    let mut prev: Option<&str> = None;
    for e in &plan.entries {
        let bad = |reason| DebError::BadEntry { path: e.path.clone(), reason };
        check_path(&e.path).map_err(bad)?;
        if prev.is_some_and(|p| p.as_bytes() >= e.path.as_bytes()) {
            return Err(bad("is out of order: entries must be sorted by path (byte order), once"));
        }
        prev = Some(&e.path);
        let parent = e.path.rsplit_once('/').map_or("", |(p, _)| p);
        if !dirs.contains(parent) {
            return Err(bad("has no entry for its parent directory before it"));
        }
        if e.mode & !0o7777 != 0 {
            return Err(bad("has a mode with bits outside 07777"));
        }
        match &e.kind {
            EntryKind::Dir => {
                dirs.insert(&e.path);
            }
            EntryKind::Symlink { target } => {
                if target.is_empty() || target.contains(['\0', '\n']) {
                    return Err(bad("has an empty symlink target or one with NUL/newline"));
                }
            }
            EntryKind::File { source: FileSource::Bytes(b), size } if b.len() as u64 != *size => {
                return Err(bad("has in-memory contents whose length differs from its size"));
            }
            EntryKind::File { .. } => {}
        }
        is_file.insert(&e.path, matches!(e.kind, EntryKind::File { .. }));
    }
    let mut conffiles = HashSet::new();
    for c in &plan.conffiles {
        let bad = |reason| DebError::BadConffile { path: c.clone(), reason };
        // `remove-on-upgrade /etc/old` (dpkg >= 1.20.6) names a conffile that must be gone.
        let (removed, path) = match c.strip_prefix("remove-on-upgrade ") {
            Some(path) => (true, path),
            None => (false, c.as_str()),
        };
        let rel = path.strip_prefix('/').ok_or_else(|| bad("is not an absolute path"))?;
        match (removed, is_file.get(rel)) {
            (false, Some(true)) | (true, None) => {}
            (false, Some(false)) => return Err(bad("is not a regular file in the package")),
            (false, None) => return Err(bad("does not appear in the package")),
            (true, Some(_)) => return Err(bad("is in the package but flagged remove-on-upgrade")),
        }
        if !conffiles.insert(rel) {
            return Err(bad("is listed twice"));
        }
    }
    Ok(conffiles)
}

fn check_path(path: &str) -> Result<(), &'static str> {
    if path.is_empty() {
        return Err("has an empty path");
    }
    if path.bytes().any(|b| b.is_ascii_control()) {
        return Err("contains a control character");
    }
    if path.split('/').any(|c| c.is_empty() || c == "." || c == "..") {
        return Err("must be relative, without `.`, `..`, empty components or a trailing `/`");
    }
    Ok(())
}

type DataTar<'f> = TarWriter<BufWriter<xz2::write::XzEncoder<BufWriter<&'f File>>>>;

/// Streams data.tar.xz into `tmp`; returns `(path, md5)` for every non-conffile regular file.
fn write_data(
    plan: &PackagePlan,
    conffiles: &HashSet<&str>,
    tmp: &NamedTempFile,
    xz: &XzOptions,
) -> Result<Vec<(String, [u8; 16])>, DebError> {
    let tmp_path = tmp.path().to_path_buf();
    let out_err = |source| DebError::WriteOutput { path: tmp_path.clone(), source };
    let file: &File = tmp.as_file();
    let encoder = xz_encoder(BufWriter::with_capacity(COPY_BUF, file), xz).map_err(out_err)?;
    let mut tar: DataTar<'_> =
        TarWriter::new(BufWriter::with_capacity(COPY_BUF, encoder), plan.mtime);
    tar.append_dir("./", 0o755).map_err(out_err)?;

    let mut sums = Vec::new();
    let mut buf = vec![0u8; COPY_BUF];
    for e in &plan.entries {
        match &e.kind {
            EntryKind::Dir => tar.append_dir(&format!("./{}/", e.path), e.mode).map_err(out_err)?,
            EntryKind::Symlink { target } => {
                tar.append_symlink(&format!("./{}", e.path), target).map_err(out_err)?;
            }
            EntryKind::File { source, size } => {
                let mut body =
                    tar.start_file(&format!("./{}", e.path), e.mode, *size).map_err(out_err)?;
                let sum = match source {
                    FileSource::Bytes(bytes) => {
                        body.write_all(bytes).map_err(out_err)?;
                        Md5::digest(bytes).into()
                    }
                    FileSource::Disk(src) => {
                        let job = CopyJob { src, entry: &e.path, size: *size, out: &tmp_path };
                        job.run(&mut body, &mut buf)?
                    }
                };
                body.finish().map_err(out_err)?;
                if !conffiles.contains(e.path.as_str()) {
                    sums.push((e.path.clone(), sum));
                }
            }
        }
    }
    let encoder =
        tar.finish().map_err(out_err)?.into_inner().map_err(|e| out_err(e.into_error()))?;
    let mut file_buf = encoder.finish().map_err(out_err)?;
    file_buf.flush().map_err(out_err)?;
    Ok(sums)
}

/// Copies one source file into its tar entry, checking its size and hashing it.
struct CopyJob<'a> {
    src: &'a Path,
    entry: &'a str,
    size: u64,
    out: &'a Path,
}

impl CopyJob<'_> {
    fn run<W: Write>(
        &self,
        body: &mut FileBody<'_, W>,
        buf: &mut [u8],
    ) -> Result<[u8; 16], DebError> {
        let read_err = |source| DebError::ReadSource { path: self.src.to_path_buf(), source };
        let changed = |actual| DebError::SizeChanged {
            path: self.src.to_path_buf(),
            entry: self.entry.to_string(),
            planned: self.size,
            actual,
        };
        let mut file = fsx::open(self.src)?;
        let actual = file.metadata().map_err(read_err)?.len();
        if actual != self.size {
            return Err(changed(actual));
        }
        let mut hasher = Md5::new();
        let mut done = 0u64;
        loop {
            let n = match file.read(buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(read_err(e)),
            };
            if done + n as u64 > self.size {
                return Err(changed(done + n as u64));
            }
            hasher.update(&buf[..n]);
            body.write_all(&buf[..n])
                .map_err(|source| DebError::WriteOutput { path: self.out.to_path_buf(), source })?;
            done += n as u64;
        }
        if done != self.size {
            return Err(changed(done));
        }
        Ok(hasher.finalize().into())
    }
}

/// control.tar.xz in memory (it holds only text members).
fn control_tar_xz(members: &[control::Member], mtime: u64, xz: &XzOptions) -> io::Result<Vec<u8>> {
    let mut tar = TarWriter::new(xz_encoder(Vec::new(), xz)?, mtime);
    tar.append_dir("./", 0o755)?;
    for m in members {
        tar.append_bytes(&format!("./{}", m.name), m.mode, &m.contents)?;
    }
    tar.finish()?.finish()
}

/// The ar container: `debian-binary`, `control.tar.xz`, `data.tar.xz` (copied from `data`).
fn assemble(deb: &mut File, mtime: u64, control_xz: &[u8], mut data: &File) -> io::Result<()> {
    let header = |name: &str, size| MemberHeader {
        name: name.to_string(),
        mtime,
        uid: 0,
        gid: 0,
        mode: AR_MODE,
        size,
    };
    let data_len = data.seek(io::SeekFrom::End(0))?;
    data.rewind()?;
    let mut out = BufWriter::with_capacity(COPY_BUF, deb);
    ar::write_magic(&mut out)?;
    ar::write_member(&mut out, &header("debian-binary", 4), &mut &b"2.0\n"[..])?;
    let control_len = control_xz.len() as u64;
    ar::write_member(&mut out, &header("control.tar.xz", control_len), &mut &control_xz[..])?;
    ar::write_member(&mut out, &header("data.tar.xz", data_len), &mut data)?;
    out.flush()
}
