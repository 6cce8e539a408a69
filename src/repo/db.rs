//! The per-suite package database, `.cts-repo/suites/<suite>.db`: every published stanza with
//! its pool path and hashes, the hashes of the index files and of Release/InRelease it produced,
//! and tombstones (when a pool or by-hash file stopped being referenced) for `repo gc`.
//!
//! It is written atomically *before* the canonical indices and the Release files are replaced,
//! as the record of intent: a publish killed after that point is completed by the next one,
//! which sees that the Release files on disk do not match [`Meta::published`].
//!
//! Format 3: one deb822 paragraph per entry (`Cts-Component:` and `Cts-Added:` followed by the
//! Packages stanza exactly as published), each followed by a blank line, then one line of JSON
//! ([`Meta`]) last. Loading it is a split on blank lines, not a JSON parse of 10,000 escaped
//! strings, so that publishing one package into a large suite stays cheap; and with the
//! metadata last, a publisher writes the entries (megabytes) on a thread of its own while it
//! builds the indices, and appends the metadata, which depends on them, at the end
//! ([`EntriesWriter`]). Format 2 (the same, with the JSON line first) is still read.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use serde::{Deserialize, Serialize};

use super::debfile::Hashes;
use super::error::{RepoError, Result};
use super::fsio;
use crate::fsx;
use crate::version::Version;

const FORMAT: u32 = 3;
/// The format before this one (metadata first), still read.
const FORMAT_META_FIRST: u32 = 2;

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
        // The JSON line is the first (format 2, or a suite without entries) or the last one.
        let (meta_line, rest) = if text.starts_with('{') {
            text.split_once('\n').unwrap_or((&text, ""))
        } else {
            let body = text.strip_suffix('\n').unwrap_or(&text);
            let (rest, meta_line) = body.rsplit_once('\n').unwrap_or(("", body));
            (meta_line, rest)
        };
        let meta: Meta = serde_json::from_str(meta_line)
            .map_err(|e| RepoError::StateParse { path: path.to_path_buf(), source: e })?;
        if meta.format != FORMAT && meta.format != FORMAT_META_FIRST {
            return Err(bad(format!(
                "unknown state format {} (this cts-deb reads {FORMAT_META_FIRST} and {FORMAT})",
                meta.format
            )));
        }
        let blocks: Vec<&str> = rest.split("\n\n").filter(|b| !b.trim().is_empty()).collect();
        // A suite of thousands of packages is parsed on all cores (this is most of the fixed
        // cost of publishing one more package).
        let entries =
            crate::par::map(&blocks, 512, |b| Entry::parse(b.trim_matches('\n')).map_err(bad))
                .into_iter()
                .collect::<Result<Vec<_>>>()?;
        Ok(SuiteDb { meta, entries })
    }

    /// Writes the database atomically (temp file, fsync, rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut text = render_entries(&self.entries);
        text.push_str(&render_meta(&self.meta, path)?);
        fsio::replace(path, text.as_bytes())?;
        Ok(())
    }
}

/// The last line of the file: `meta` as JSON, marked with the current format. `path` only
/// names the file in errors.
pub fn render_meta(meta: &Meta, path: &Path) -> Result<String> {
    let meta = Meta { format: FORMAT, ..meta.clone() };
    let mut line = serde_json::to_string(&meta)
        .map_err(|e| RepoError::StateParse { path: path.to_path_buf(), source: e })?;
    line.push('\n');
    Ok(line)
}

/// The entry paragraphs of the file, each followed by a blank line.
pub fn render_entries(entries: &[Entry]) -> String {
    let size: usize = entries.iter().map(|e| e.stanza.len() + 64).sum();
    let mut out = String::with_capacity(size);
    for e in entries {
        out.push_str("Cts-Component: ");
        out.push_str(&e.component);
        out.push_str("\nCts-Added: ");
        out.push_str(&e.added.to_string());
        out.push('\n');
        out.push_str(&e.stanza);
        out.push_str("\n\n");
    }
    out
}

/// A new database file being written: the entries go to its temporary file (and to disk) on a
/// thread of their own ([`EntriesWriter::start`]); [`EntriesWriter::finish`] appends the
/// metadata and hands over the staged file (the metadata not yet synced, the file not yet
/// renamed). Dropped unfinished (a publish that failed), it waits for the thread and removes
/// the temporary file.
#[derive(Debug)]
pub struct EntriesWriter {
    path: PathBuf,
    entries: Arc<Vec<Entry>>,
    thread: Option<JoinHandle<fsx::Result<fsio::Staged>>>,
}

impl EntriesWriter {
    pub fn start(path: &Path, entries: &Arc<Vec<Entry>>) -> EntriesWriter {
        let (target, shared) = (path.to_path_buf(), Arc::clone(entries));
        let thread = std::thread::Builder::new()
            .name("db-entries".into())
            .spawn(move || {
                // Synced here too, while the publisher is still busy with the indices: the
                // final sync then only has the metadata line left to write.
                let staged = fsio::Staged::write(&target, render_entries(&shared).as_bytes())?;
                staged.sync_data()?;
                Ok(staged)
            })
            // No thread to be had: nothing is written yet, and `finish` writes it all.
            .ok();
        EntriesWriter { path: path.to_path_buf(), entries: Arc::clone(entries), thread }
    }

    /// Appends `meta` and returns the staged file.
    pub fn finish(mut self, meta: &Meta) -> Result<fsio::Staged> {
        let meta = render_meta(meta, &self.path)?;
        let mut staged = match self.thread.take() {
            Some(thread) => {
                thread.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?
            }
            None => fsio::Staged::write(&self.path, render_entries(&self.entries).as_bytes())?,
        };
        staged.append(meta.as_bytes())?;
        Ok(staged)
    }
}

impl Drop for EntriesWriter {
    fn drop(&mut self) {
        if let Some(Ok(Ok(staged))) = self.thread.take().map(JoinHandle::join) {
            staged.discard();
        }
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests may use std::fs directly
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
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("Cts-Component: main\n"), "{text:.40}");
        assert!(text.ends_with("}\n") && text.contains("\n{\"format\":3,"), "{text}");

        // Format 2 (the JSON line first), as earlier versions wrote it, is read too.
        let (body, meta) = text.strip_suffix('\n').unwrap().rsplit_once('\n').unwrap();
        let old = format!("{}\n\n{body}", meta.replace("\"format\":3", "\"format\":2"));
        std::fs::write(&path, old).unwrap();
        let back = SuiteDb::load(&path).unwrap();
        assert_eq!(back.entries, db.entries);
        assert_eq!(back.meta.tombstones, db.meta.tombstones);

        // A suite without entries is the JSON line alone.
        SuiteDb::load(&dir.path().join("none.db")).unwrap().save(&path).unwrap();
        assert!(SuiteDb::load(&path).unwrap().entries.is_empty());
    }

    #[test]
    fn a_writer_dropped_unfinished_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let entries = std::sync::Arc::new(vec![Entry::new(
            "main",
            ["a", "1", "all"],
            "pool/main/a/a/a_1_all.deb",
            &Hashes::of(b"a"),
            "Package: a\nVersion: 1\nArchitecture: all",
            1,
        )]);
        drop(EntriesWriter::start(&path, &entries));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        let staged = EntriesWriter::start(&path, &entries).finish(&Meta::default()).unwrap();
        staged.commit().unwrap();
        assert_eq!(SuiteDb::load(&path).unwrap().entries, *entries);
    }
}
