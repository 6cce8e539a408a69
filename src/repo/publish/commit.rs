//! The writes of a publish outside the indices, each in its place in the order of
//! [`crate::repo`]: the new pool files (step 2); Release signed in memory (4); the database,
//! after everything it names is durable (5); the canonical index paths (6); Release and
//! Release.gpg (7); InRelease, the commit point (8).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::check::Planned;
use super::index::Indices;
use super::open::Opened;
use crate::par;
use crate::repo::config::Layout;
use crate::repo::db::{EntriesWriter, IndexHashes, Meta, Published};
use crate::repo::debfile::DebFile;
use crate::repo::error::Result;
use crate::repo::fsio::{self, fault_point};
use crate::repo::release;

/// The pool files the plan adds, and their bytes.
pub(super) fn pool_copies<'a>(
    layout: &Layout,
    plan: &[Planned],
    debs: &'a [DebFile],
) -> Vec<(PathBuf, &'a [u8])> {
    plan.iter()
        .filter(|p| !p.pool_exists)
        .map(|p| (layout.root.join(&p.entry.filename), &debs[p.deb_index].bytes[..]))
        .collect()
}

/// Writes new pool files (temp + rename each) on several threads: for an initial import the
/// directory creation and file creation dominate, and they overlap well.
pub(super) fn write_pool_files(files: &[(PathBuf, &[u8])]) -> Result<()> {
    const THREADS: usize = 4;
    let write = |part: &[(PathBuf, &[u8])]| -> Result<()> {
        part.iter().try_for_each(|(path, bytes)| Ok(fsio::replace_unsynced(path, bytes)?))
    };
    if files.len() < 64 {
        return write(files);
    }
    let per = files.len().div_ceil(THREADS);
    std::thread::scope(|s| {
        let handles: Vec<_> = files.chunks(per).map(|part| s.spawn(move || write(part))).collect();
        handles.into_iter().try_for_each(par::joined)
    })
}

/// Release and, in a signed repository, InRelease and Release.gpg.
pub(super) struct Signed {
    release: String,
    inrelease: Option<Vec<u8>>,
    release_gpg: Option<Vec<u8>>,
}

/// Renders Release for `indices` and signs it in memory.
pub(super) fn sign(
    repo: &Opened,
    suite: &str,
    now: OffsetDateTime,
    indices: &BTreeMap<String, IndexHashes>,
) -> Result<Signed> {
    let release = release::render(&repo.config, suite, &repo.suite_config, now, indices);
    let (inrelease, release_gpg) = match &repo.signer {
        Some(signer) => {
            (Some(signer.clearsign(&release)?), Some(signer.detach_sign(release.as_bytes())?))
        }
        None => (None, None),
    };
    Ok(Signed { release, inrelease, release_gpg })
}

/// Moves the new indices, chunk keys and tombstones into `meta`, with the SHA-256 of the
/// Release files about to be written.
pub(super) fn record(meta: &mut Meta, indices: &mut Indices, signed: &Signed) {
    let sha = |b: &[u8]| hex::encode(Sha256::digest(b));
    meta.indices = std::mem::take(&mut indices.by_path);
    meta.chunks = std::mem::take(&mut indices.chunks);
    meta.tombstones = std::mem::take(&mut indices.tombstones);
    meta.published = Published {
        release: Some(sha(signed.release.as_bytes())),
        release_gpg: signed.release_gpg.as_deref().map(sha),
        inrelease: signed.inrelease.as_deref().map(sha),
    };
}

/// Writes the database: the pool files, the by-hash files (`written`) and the new database
/// become durable before the database is renamed into place.
pub(super) fn write_database(
    writer: EntriesWriter,
    meta: &Meta,
    mut written: Vec<PathBuf>,
    root: &Path,
) -> Result<()> {
    let staged_db = writer.finish(meta)?;
    written.push(staged_db.tmp_path().to_path_buf());
    fsio::make_durable(&written, root)?;
    staged_db.commit()?;
    Ok(())
}

/// Replaces each canonical index path with a link to its by-hash file.
pub(super) fn link_canonical(canonical: &[(PathBuf, PathBuf)]) -> Result<()> {
    for (i, (by_hash, path)) in canonical.iter().enumerate() {
        fsio::link_or_copy(by_hash, path)?;
        if i == 0 {
            fault_point("index-first");
        }
    }
    Ok(())
}

/// Replaces Release, then Release.gpg, then InRelease: the commit point. Release and
/// Release.gpg are rewritten from the database if lost: only the commit point (InRelease;
/// Release in an unsigned repository) is synced.
pub(super) fn replace_release(dists: &Path, signed: &Signed) -> Result<()> {
    let release = signed.release.as_bytes();
    if signed.inrelease.is_some() {
        fsio::replace_unsynced(&dists.join("Release"), release)?;
    } else {
        fsio::replace(&dists.join("Release"), release)?;
    }
    fault_point("release");
    if let Some(sig) = &signed.release_gpg {
        fsio::replace_unsynced(&dists.join("Release.gpg"), sig)?;
    }
    fault_point("release-gpg");
    if let Some(clear) = &signed.inrelease {
        fsio::replace(&dists.join("InRelease"), clear)?;
    }
    fsio::sync_dir(dists)?;
    fault_point("inrelease");
    Ok(())
}
