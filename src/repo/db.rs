//! The per-suite package database, `.cts-repo/suites/<suite>.db`: every published stanza with
//! its pool path and hashes, the hashes of the index files and of Release/InRelease it produced,
//! and tombstones (when a pool or by-hash file stopped being referenced) for `repo gc`.
//!
//! It is written atomically *before* the canonical indices and the Release files are replaced,
//! as the record of intent: a publish killed after that point is completed by the next one,
//! which sees that the Release files on disk do not match [`SuiteDb::published`].
//!
//! Format: one line of JSON ([`Meta`]), a blank line, then one deb822 paragraph per entry:
//! `Cts-Component:` and `Cts-Added:` followed by the Packages stanza exactly as published.
//! Loading it is a split on blank lines, not a JSON parse of 10,000 escaped strings, so that
//! publishing one package into a large suite stays cheap.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::debfile::Hashes;
use super::error::{RepoError, Result};
use super::fsio;
use crate::fsx;
use crate::version::Version;

const FORMAT: u32 = 2;

/// One published package in one suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub component: String,
    pub package: String,
    pub version: String,
    pub architecture: String,
    /// Path relative to the repository root (the stanza's `Filename:`).
    pub filename: String,
    pub sha256: String,
    /// Unix time it was added.
    pub added: i64,
    /// The Packages stanza (control fields, then Filename, Size and the four hashes), without
    /// a trailing newline.
    pub stanza: String,
}

impl Entry {
    /// An entry for a package with control paragraph `control` (rendered, no trailing newline).
    pub fn new(
        component: &str,
        fields: [&str; 3],
        filename: &str,
        hashes: &Hashes,
        control: &str,
        added: i64,
    ) -> Entry {
        let [package, version, architecture] = fields;
        let stanza = format!(
            "{control}\nFilename: {filename}\nSize: {}\nMD5sum: {}\nSHA1: {}\nSHA256: {}\nSHA512: {}",
            hashes.size, hashes.md5, hashes.sha1, hashes.sha256, hashes.sha512
        );
        Entry {
            component: component.to_string(),
            package: package.to_string(),
            version: version.to_string(),
            architecture: architecture.to_string(),
            filename: filename.to_string(),
            sha256: hashes.sha256.clone(),
            added,
            stanza,
        }
    }

    /// The parsed version; entries are only stored after strict validation.
    pub fn parsed_version(&self) -> Version {
        Version::parse(&self.version)
            .unwrap_or_else(|_| Version::parse("0").expect("`0` is a valid version"))
    }

    fn parse(block: &str) -> std::result::Result<Entry, String> {
        let mut lines = block.splitn(3, '\n');
        let component = lines.next().and_then(|l| l.strip_prefix("Cts-Component: "));
        let added = lines.next().and_then(|l| l.strip_prefix("Cts-Added: "));
        let (Some(component), Some(added), Some(stanza)) = (component, added, lines.next()) else {
            return Err(format!("entry without Cts-Component/Cts-Added: {block:.80}"));
        };
        let mut e = Entry {
            component: component.to_string(),
            package: String::new(),
            version: String::new(),
            architecture: String::new(),
            filename: String::new(),
            sha256: String::new(),
            added: added.parse().map_err(|_| format!("bad Cts-Added `{added}`"))?,
            stanza: stanza.to_string(),
        };
        for line in stanza.lines() {
            let Some((name, value)) = line.split_once(':') else { continue };
            let slot = match name {
                n if n.eq_ignore_ascii_case("Package") => &mut e.package,
                n if n.eq_ignore_ascii_case("Version") => &mut e.version,
                n if n.eq_ignore_ascii_case("Architecture") => &mut e.architecture,
                "Filename" => &mut e.filename,
                "SHA256" => &mut e.sha256,
                _ => continue,
            };
            *slot = value.trim().to_string();
        }
        if e.package.is_empty() || e.version.is_empty() || e.architecture.is_empty() {
            return Err(format!("entry lacks Package, Version or Architecture: {block:.80}"));
        }
        if e.filename.is_empty() || e.sha256.is_empty() {
            return Err(format!("entry {} lacks Filename or SHA256", e.package));
        }
        Ok(e)
    }
}

/// Canonical order: component, package, dpkg version, architecture. Versions are only parsed
/// when component and package are equal, so checking an already sorted list is cheap.
pub fn entry_order(a: &Entry, b: &Entry) -> Ordering {
    a.component
        .cmp(&b.component)
        .then_with(|| a.package.cmp(&b.package))
        .then_with(|| {
            if a.version == b.version {
                Ordering::Equal
            } else {
                a.parsed_version().cmp(&b.parsed_version())
            }
        })
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

/// Everything but the entries: the JSON first line of the file.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    pub format: u32,
    /// Every index file listed in Release, by path relative to `dists/<suite>`.
    pub indices: BTreeMap<String, IndexHashes>,
    /// Chunk-cache keys each index directory uses (see `compress`), for collecting the cache.
    pub chunks: BTreeMap<String, Vec<String>>,
    pub published: Published,
    /// Repository-relative path of a pool or by-hash file → Unix time it stopped being
    /// referenced. `repo gc` removes it once the grace period has passed.
    pub tombstones: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Default)]
pub struct SuiteDb {
    pub meta: Meta,
    /// In [`entry_order`].
    pub entries: Vec<Entry>,
}

impl SuiteDb {
    pub fn load(path: &Path) -> Result<SuiteDb> {
        if !path.exists() {
            return Ok(SuiteDb {
                meta: Meta { format: FORMAT, ..Meta::default() },
                entries: vec![],
            });
        }
        let text = fsx::read_to_string(path)?;
        let bad = |message: String| RepoError::Config { path: path.to_path_buf(), message };
        let (meta_line, rest) = text.split_once('\n').unwrap_or((&text, ""));
        let meta: Meta = serde_json::from_str(meta_line)
            .map_err(|e| RepoError::StateParse { path: path.to_path_buf(), source: e })?;
        if meta.format != FORMAT {
            return Err(bad(format!(
                "unknown state format {} (this cts-deb reads {FORMAT})",
                meta.format
            )));
        }
        let blocks: Vec<&str> = rest.split("\n\n").filter(|b| !b.trim().is_empty()).collect();
        // A suite of thousands of packages is parsed on all cores (this is most of the fixed
        // cost of publishing one more package).
        let entries = crate::par::map(&blocks, 512, |b| {
            Entry::parse(b.trim_start_matches('\n')).map_err(bad)
        })
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
        Ok(SuiteDb { meta, entries })
    }

    /// Writes the database atomically (temp file, fsync, rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        fsio::replace(path, self.render(path)?.as_bytes())?;
        Ok(())
    }

    /// The file contents; `path` only names the file in errors.
    pub fn render(&self, path: &Path) -> Result<String> {
        let meta = serde_json::to_string(&self.meta)
            .map_err(|e| RepoError::StateParse { path: path.to_path_buf(), source: e })?;
        let size: usize = self.entries.iter().map(|e| e.stanza.len() + 64).sum();
        let mut out = String::with_capacity(meta.len() + size + 2);
        out.push_str(&meta);
        out.push_str("\n\n");
        for e in &self.entries {
            out.push_str("Cts-Component: ");
            out.push_str(&e.component);
            out.push_str("\nCts-Added: ");
            out.push_str(&e.added.to_string());
            out.push('\n');
            out.push_str(&e.stanza);
            out.push_str("\n\n");
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let hashes = Hashes::of(b"deb");
        let mut db = SuiteDb::load(&path).unwrap();
        db.entries.push(Entry::new(
            "main",
            ["cts-server", "1:1.0-1", "amd64"],
            "pool/main/c/cts-server/cts-server_1.0-1_amd64.deb",
            &hashes,
            "Package: cts-server\nVersion: 1:1.0-1\nArchitecture: amd64\nDescription: x\n y\n .\n z",
            42,
        ));
        db.meta.tombstones.insert("pool/x".into(), 7);
        db.save(&path).unwrap();
        let back = SuiteDb::load(&path).unwrap();
        assert_eq!(back.entries, db.entries);
        assert_eq!(back.meta.tombstones, db.meta.tombstones);
        assert_eq!(back.entries[0].sha256, hashes.sha256);
    }
}
