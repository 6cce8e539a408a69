//! `cts-deb publish`: check every input, then write in the order that keeps the repository
//! valid for apt at every instant (see the module documentation of [`crate::repo`]).
//!
//! `run` lists the numbered steps of that order; each phase lives in a submodule of its own:
//! `open` (step 0: the state under the lock, the key), `check` (step 1: every refusal),
//! `retention` (`--keep-last`, and which pool files left the index), `index` (step 3: the
//! Packages indices under `by-hash/`) and `commit` (the pool files of step 2, then steps 4 to
//! 8: Release, the database, the canonical paths and the Release files).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::compress::ChunkCache;
use super::config::Layout;
use super::control::check_path_name;
use super::db::{entry_order, EntriesWriter};
use super::error::Result;
use super::fsio::{fault_point, RepoLock};
use super::release;
use crate::fsx;
use crate::report::Reporter;
use crate::version::Version;

mod check;
mod commit;
mod index;
mod open;
mod retention;

/// What to publish where.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    pub repo: PathBuf,
    pub suite: String,
    pub component: String,
    /// Secret key file; required once the repository is signed.
    pub key: Option<PathBuf>,
    /// Publish versions older than the newest of the same package and architecture.
    pub allow_older: bool,
    /// Keep only the N highest versions of each package and architecture published now.
    pub keep_last: Option<usize>,
    pub debs: Vec<PathBuf>,
}

/// What happened to one input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Added,
    /// Same name, version, architecture and bytes were already published.
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct Published1 {
    pub path: PathBuf,
    pub filename: String,
    pub package: String,
    pub version: String,
    pub architecture: String,
    pub outcome: Outcome,
}

/// The result of a publish.
#[derive(Debug, Clone, Default)]
pub struct PublishReport {
    pub packages: Vec<Published1>,
    /// Pool paths no longer listed in the suite (retention).
    pub removed: Vec<String>,
    /// Whether new indices and Release files were written.
    pub wrote_release: bool,
}

/// Pool path: `pool/<component>/<first letter, or libX>/<source>/<name>_<version>_<arch>.deb`,
/// the version without its epoch, as dpkg-name and the Debian archive write it.
pub fn pool_path(
    component: &str,
    source: &str,
    package: &str,
    version: &Version,
    arch: &str,
) -> String {
    let prefix =
        if source.starts_with("lib") && source.len() > 3 { &source[..4] } else { &source[..1] };
    format!("pool/{component}/{prefix}/{source}/{package}_{}_{arch}.deb", version.without_epoch())
}

fn sha256_file(path: &Path) -> Result<String> {
    Ok(hex::encode(Sha256::digest(fsx::read(path)?)))
}

fn sha256_if_exists(path: &Path) -> Result<Option<String>> {
    if path.exists() {
        sha256_file(path).map(Some)
    } else {
        Ok(None)
    }
}

fn repo_relative(layout: &Layout, path: &Path) -> String {
    path.strip_prefix(&layout.root).unwrap_or(path).to_string_lossy().into_owned()
}

/// Publishes `opts.debs`; nothing is written unless every input passes every check.
pub fn publish(opts: &PublishOptions, reporter: &dyn Reporter) -> Result<PublishReport> {
    run(opts, false, reporter)
}

/// Rewrites and re-signs the suite's indices even when nothing changed (after `repo init`, to
/// renew the Date, or to complete an interrupted publish).
pub fn refresh(opts: &PublishOptions, reporter: &dyn Reporter) -> Result<PublishReport> {
    run(opts, true, reporter)
}

/// The steps of a publish, numbered as in [`crate::repo`]; each `fault_point` names a kill
/// point (`CTS_DEB_FAULT=after:<step>`).
fn run(opts: &PublishOptions, force: bool, reporter: &dyn Reporter) -> Result<PublishReport> {
    fault_point("start");
    let layout = Layout::new(&opts.repo);
    check_path_name("suite", &opts.suite)?;
    check_path_name("component", &opts.component)?;

    // 0. The lock, then the state it guards; the key is checked before any work.
    let _lock = RepoLock::acquire(&layout.lock(), reporter)?;
    let mut repo = open::open(opts, &layout, force, reporter)?;
    fault_point("loaded");

    // 1. Read and check every input: every refusal happens here, before any write.
    let now = release::now()?;
    let now_unix = now.unix_timestamp();
    let check::Checked { debs, plan, rows } =
        check::read_and_check(opts, &layout, &repo, now_unix)?;
    // What the plan touches, before its entries move into the suite.
    let to_copy = commit::pool_copies(&layout, &plan, &debs);
    let touched = index::touched(&plan);
    let mut entries = std::mem::take(&mut repo.db.entries);
    entries.extend(plan.into_iter().map(|p| p.entry));
    let removed = retention::keep_last(opts.keep_last, &rows, &mut entries);
    let mut report = PublishReport {
        packages: rows,
        removed: removed.iter().map(|e| e.filename.clone()).collect(),
        wrote_release: false,
    };
    if touched.is_empty() && removed.is_empty() && !repo.dirty {
        return Ok(report);
    }

    // 2. Pool files: new paths only, so nothing apt can see changes.
    commit::write_pool_files(&to_copy)?;
    // Files to make durable before the database names them.
    let mut written: Vec<PathBuf> = to_copy.iter().map(|(p, _)| p.clone()).collect();
    fault_point("pool");

    // 3. Indices under by-hash/ (content-addressed, immutable).
    entries.sort_by(entry_order);
    // The entries are final: the new database's entries are written meanwhile.
    let entries = Arc::new(entries);
    let db_writer = EntriesWriter::start(&repo.db_path, &entries);
    let affected = index::affected(touched, &removed, &repo.config.architectures);
    let mut cache = ChunkCache::new(&layout.chunk_cache());
    let tombstones = std::mem::take(&mut repo.db.meta.tombstones);
    let job = index::Job { layout: &layout, repo: &repo, entries: &entries, affected: &affected };
    let mut indices = job.write(&mut cache, tombstones, now_unix, &mut written)?;
    fault_point("by-hash");

    // 4. Release and its signatures, in memory.
    let signed = commit::sign(&repo, &opts.suite, now, &indices.by_path)?;
    fault_point("signed");

    // 5. The package database: from here on the publish rolls forward.
    retention::tombstone_pool_files(&mut indices.tombstones, &entries, &removed, now_unix);
    commit::record(&mut repo.db.meta, &mut indices, &signed);
    commit::write_database(db_writer, &repo.db.meta, written, &layout.root)?;
    fault_point("db");

    // 6. Canonical index paths (a fallback for clients without by-hash).
    commit::link_canonical(&indices.canonical)?;
    fault_point("indices");

    // 7. Release + Release.gpg for legacy clients, then 8. InRelease: the commit point.
    commit::replace_release(&repo.dists, &signed)?;
    report.wrote_release = true;
    drop(to_copy);
    drop_in_background((debs, repo.db, entries, cache));
    Ok(report)
}

/// Frees `value` on a background thread: after indexing thousands of packages, freeing their
/// many small allocations takes tens of milliseconds that the caller need not wait for (the
/// CLI exits right after a publish; in a longer-lived process the thread simply finishes).
fn drop_in_background<T: Send + 'static>(value: T) {
    // If no thread can be started, the closure (and `value` with it) is dropped right here.
    let _ = std::thread::Builder::new().name("drop".into()).spawn(move || drop(value));
}
