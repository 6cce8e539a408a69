//! The per-suite package database, `.cts-repo/suites/<suite>.json`: every published stanza with
//! its pool path and hashes, the hashes of the index files and of Release/InRelease it produced,
//! and tombstones (when a pool or by-hash file stopped being referenced) for `repo gc`.
//!
//! It is written atomically *before* the canonical indices and the Release files are replaced,
//! as the record of intent: a publish killed after that point is completed by the next one,
//! which sees that the Release files on disk do not match [`SuiteDb::published`].

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::debfile::Hashes;
use super::error::{RepoError, Result};
use super::fsio;
use crate::fsx;
use crate::version::Version;

const FORMAT: u32 = 1;

/// One published package in one suite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub component: String,
    pub package: String,
    pub version: String,
    pub architecture: String,
    /// Path relative to the repository root (the stanza's `Filename:`).
    pub filename: String,
    #[serde(flatten)]
    pub hashes: Hashes,
    /// The control paragraph as published (no trailing newline).
    pub control: String,
    /// Unix time it was added.
    pub added: i64,
}

impl Entry {
    /// The parsed version; entries are only stored after strict validation.
    pub fn parsed_version(&self) -> Version {
        Version::parse(&self.version)
            .unwrap_or_else(|_| Version::parse("0").expect("`0` is a valid version"))
    }

    /// The Packages stanza, ending with a blank line.
    pub fn stanza(&self) -> String {
        let h = &self.hashes;
        format!(
            "{}\nFilename: {}\nSize: {}\nMD5sum: {}\nSHA1: {}\nSHA256: {}\nSHA512: {}\n\n",
            self.control, self.filename, h.size, h.md5, h.sha1, h.sha256, h.sha512
        )
    }
}

/// Canonical order: component, package, dpkg version, architecture.
pub fn entry_order(a: &Entry, b: &Entry) -> Ordering {
    a.component
        .cmp(&b.component)
        .then_with(|| a.package.cmp(&b.package))
        .then_with(|| a.parsed_version().cmp(&b.parsed_version()))
        .then_with(|| a.architecture.cmp(&b.architecture))
}

/// Size and strong hashes of one index file (what Release lists).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexHashes {
    pub size: u64,
    pub sha256: String,
    pub sha512: String,
}

/// SHA-256 of the Release files a publish wrote (absent ones are `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    pub release: Option<String>,
    pub release_gpg: Option<String>,
    pub inrelease: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SuiteDb {
    pub format: u32,
    pub entries: Vec<Entry>,
    /// Every index file listed in Release, by path relative to `dists/<suite>`.
    pub indices: BTreeMap<String, IndexHashes>,
    /// Chunk-cache keys each index uses (see `compress`), for collecting the cache.
    #[serde(default)]
    pub chunks: BTreeMap<String, Vec<String>>,
    pub published: Published,
    /// Repository-relative path of a pool or by-hash file → Unix time it stopped being
    /// referenced. `repo gc` removes it once the grace period has passed.
    #[serde(default)]
    pub tombstones: BTreeMap<String, i64>,
}

impl SuiteDb {
    pub fn load(path: &Path) -> Result<SuiteDb> {
        if !path.exists() {
            return Ok(SuiteDb { format: FORMAT, ..SuiteDb::default() });
        }
        let bytes = fsx::read(path)?;
        let db: SuiteDb = serde_json::from_slice(&bytes)
            .map_err(|e| RepoError::StateParse { path: path.to_path_buf(), source: e })?;
        if db.format != FORMAT {
            return Err(RepoError::Config {
                path: path.to_path_buf(),
                message: format!(
                    "unknown state format {} (this cts-deb reads {FORMAT})",
                    db.format
                ),
            });
        }
        Ok(db)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = serde_json::to_vec(self)
            .map_err(|e| RepoError::StateParse { path: path.to_path_buf(), source: e })?;
        fsio::replace(path, &bytes)?;
        Ok(())
    }
}
