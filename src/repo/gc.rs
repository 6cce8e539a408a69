//! `cts-deb repo gc`: removes pool files and by-hash indices that no suite references any more,
//! once they have been unreferenced for the grace period (default 24 h), so that a client holding
//! an older InRelease can still fetch everything it names. Also removes temporary files left by
//! killed publishers (safe: gc holds the repository lock) and unused compression-cache chunks.
//!
//! "Unreferenced since" comes from the tombstones publish records, or, for files nobody recorded
//! (an interrupted publish), from the first gc run that saw them unreferenced (`.cts-repo/gc.json`).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use super::compress;
use super::config::{Layout, RepoConfig};
use super::db::SuiteDb;
use super::error::{RepoError, Result};
use super::fsio::{self, RepoLock, TMP_MARKER};
use crate::fsx;
use crate::report::Reporter;

#[derive(Debug, Clone)]
pub struct GcOptions {
    pub repo: PathBuf,
    /// Seconds a file must have been unreferenced before it is removed.
    pub grace_secs: i64,
    /// Only report what would be removed.
    pub dry_run: bool,
}

#[derive(Debug, Clone, Default)]
pub struct GcReport {
    /// Repository-relative paths removed (or that would be, with `dry_run`).
    pub removed: Vec<String>,
    /// Unreferenced files still inside their grace period.
    pub waiting: Vec<String>,
    pub temp_files_removed: usize,
    pub cache_chunks_removed: usize,
}

/// Parses `24h`, `90m`, `2d`, `3600s` or plain seconds.
pub fn parse_duration(text: &str) -> Result<i64> {
    let t = text.trim();
    let (num, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, "s"),
    };
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => 0,
    };
    match num.parse::<i64>() {
        Ok(n) if mult > 0 => Ok(n.saturating_mul(mult)),
        _ => Err(RepoError::Usage(format!(
            "invalid duration `{text}`: use a number with s, m, h or d, e.g. 24h"
        ))),
    }
}

fn rel(layout: &Layout, p: &Path) -> String {
    p.strip_prefix(&layout.root).unwrap_or(p).to_string_lossy().into_owned()
}

pub fn gc(opts: &GcOptions, reporter: &dyn Reporter) -> Result<GcReport> {
    let layout = Layout::new(&opts.repo);
    let _lock = RepoLock::acquire(&layout.lock(), reporter)?;
    let config = RepoConfig::load(&layout)?;
    let now = super::release::now()?.unix_timestamp();
    let mut report = GcReport::default();

    // Everything any suite references, and every recorded tombstone.
    let mut live: HashSet<String> = HashSet::new();
    let mut chunks: HashSet<String> = HashSet::new();
    let mut since: BTreeMap<String, i64> = BTreeMap::new();
    let mut dbs: Vec<(PathBuf, SuiteDb)> = Vec::new();
    for suite in config.suites.keys() {
        let path = layout.suite_db(suite);
        let db = SuiteDb::load(&path)?;
        live.extend(db.entries.iter().map(|e| e.filename.clone()));
        for (index, h) in &db.meta.indices {
            let dir = Path::new(index).parent().map(Path::to_path_buf).unwrap_or_default();
            let by_hash = layout.dists(suite).join(dir).join("by-hash");
            live.insert(rel(&layout, &by_hash.join("SHA256").join(&h.sha256)));
            live.insert(rel(&layout, &by_hash.join("SHA512").join(&h.sha512)));
        }
        chunks.extend(db.meta.chunks.values().flatten().cloned());
        for (p, t) in &db.meta.tombstones {
            let e = since.entry(p.clone()).or_insert(*t);
            *e = (*e).min(*t);
        }
        dbs.push((path, db));
    }
    let gc_path = layout.gc_state();
    let mut first_seen: BTreeMap<String, i64> = if gc_path.exists() {
        serde_json::from_slice(&fsx::read(&gc_path)?)
            .map_err(|e| RepoError::StateParse { path: gc_path.clone(), source: e })?
    } else {
        BTreeMap::new()
    };

    let mut candidates: Vec<PathBuf> = Vec::new();
    for root in [layout.root.join("pool"), layout.root.join("dists"), layout.state_dir()] {
        for file in fsio::files_below(&root)? {
            let name =
                file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if name.contains(TMP_MARKER) {
                if !opts.dry_run {
                    fsio::remove_if_exists(&file)?;
                }
                report.temp_files_removed += 1;
                continue;
            }
            let r = rel(&layout, &file);
            let in_by_hash = r.starts_with("dists/") && r.contains("/by-hash/");
            if (r.starts_with("pool/") || in_by_hash) && !live.contains(&r) {
                candidates.push(file);
            }
        }
    }

    let mut still_waiting: BTreeMap<String, i64> = BTreeMap::new();
    for file in candidates {
        let r = rel(&layout, &file);
        let t = match (since.get(&r), first_seen.get(&r)) {
            (Some(a), Some(b)) => *a.min(b),
            (Some(a), None) => *a,
            (None, Some(b)) => *b,
            (None, None) => now,
        };
        if now - t >= opts.grace_secs {
            if !opts.dry_run {
                fsio::remove_if_exists(&file)?;
                if let Some(dir) = file.parent() {
                    fsio::prune_empty_dirs(dir, &layout.root);
                }
            }
            report.removed.push(r);
        } else {
            report.waiting.push(r.clone());
            still_waiting.insert(r, t);
        }
    }
    if opts.dry_run {
        return Ok(report);
    }
    first_seen.retain(|p, _| still_waiting.contains_key(p));
    for (p, t) in &still_waiting {
        first_seen.entry(p.clone()).or_insert(*t);
    }
    let bytes = serde_json::to_vec_pretty(&first_seen)
        .map_err(|e| RepoError::StateParse { path: gc_path.clone(), source: e })?;
    fsio::replace(&gc_path, &bytes)?;
    for (path, mut db) in dbs {
        let before = db.meta.tombstones.len();
        db.meta.tombstones.retain(|p, _| still_waiting.contains_key(p));
        if db.meta.tombstones.len() != before {
            db.save(&path)?;
        }
    }
    report.cache_chunks_removed = compress::collect_cache(&layout.chunk_cache(), &chunks)?;
    Ok(report)
}
