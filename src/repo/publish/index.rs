//! Step 3 of a publish: the Packages indices, each written in its three variants under
//! `by-hash/` (content-addressed, so nothing a client can see changes). Only the
//! (component, architecture) pairs a publish touches are rebuilt; the others keep the hashes
//! the database recorded. Superseded by-hash files get a tombstone for `repo gc`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use sha2::{Digest, Sha256, Sha512};

use super::check::Planned;
use super::open::Opened;
use super::repo_relative;
use crate::par;
use crate::repo::compress::{self, ChunkCache};
use crate::repo::config::Layout;
use crate::repo::db::{Entry, IndexHashes};
use crate::repo::error::Result;
use crate::repo::fsio;

/// The (component, architecture) pairs the plan touches: a few, however many inputs.
pub(super) fn touched(plan: &[Planned]) -> Vec<(String, String)> {
    let mut touched: Vec<(String, String)> = Vec::new();
    for e in plan.iter().map(|p| &p.entry) {
        if !touched.iter().any(|(c, a)| *c == e.component && *a == e.architecture) {
            touched.push((e.component.clone(), e.architecture.clone()));
        }
    }
    touched
}

/// The indices to rebuild: those `touched` and those `removed` entries leave, an `all` entry
/// standing for every configured architecture.
pub(super) fn affected(
    mut touched: Vec<(String, String)>,
    removed: &[Entry],
    architectures: &[String],
) -> BTreeSet<(String, String)> {
    touched.extend(removed.iter().map(|e| (e.component.clone(), e.architecture.clone())));
    touched
        .into_iter()
        .flat_map(|(component, arch)| {
            let arches: Vec<String> =
                if arch == "all" { architectures.to_vec() } else { vec![arch] };
            arches.into_iter().map(move |a| (component.clone(), a))
        })
        .collect()
}

/// What the indices are built from.
pub(super) struct Job<'a> {
    pub layout: &'a Layout,
    /// The configuration and the database as loaded (its tombstones taken out).
    pub repo: &'a Opened,
    /// Every entry of the suite, in entry order.
    pub entries: &'a [Entry],
    pub affected: &'a BTreeSet<(String, String)>,
}

/// The indices of the suite after step 3.
pub(super) struct Indices {
    /// Every index file listed in Release, by path relative to `dists/<suite>`.
    pub by_path: BTreeMap<String, IndexHashes>,
    /// Chunk-cache keys of each index directory.
    pub chunks: BTreeMap<String, Vec<String>>,
    /// (by-hash file, canonical path) of each index rebuilt, in write order.
    pub canonical: Vec<(PathBuf, PathBuf)>,
    /// The database's tombstones, updated for the by-hash files.
    pub tombstones: BTreeMap<String, i64>,
}

const SUFFIXES: [&str; 3] = ["", ".gz", ".xz"];

impl Job<'_> {
    /// Rebuilds the affected indices, keeps the others; new files are added to `written`.
    pub(super) fn write(
        &self,
        cache: &mut ChunkCache,
        tombstones: BTreeMap<String, i64>,
        now: i64,
        written: &mut Vec<PathBuf>,
    ) -> Result<Indices> {
        let mut out = Indices {
            by_path: BTreeMap::new(),
            chunks: BTreeMap::new(),
            canonical: Vec::new(),
            tombstones,
        };
        let config = &self.repo.config;
        for component in &config.components {
            for arch in &config.architectures {
                let dir = format!("{component}/binary-{arch}");
                if self.reusable(component, arch, &dir) {
                    self.keep(&dir, &mut out);
                    continue;
                }
                let built = self.build(component, arch, cache)?;
                out.chunks.insert(dir.clone(), built.chunk_keys);
                for variant in built.variants {
                    self.write_variant(&dir, variant, now, &mut out, written)?;
                }
            }
        }
        Ok(out)
    }

    /// Whether the index in `dir` is neither dirty nor affected, and fully recorded.
    fn reusable(&self, component: &str, arch: &str, dir: &str) -> bool {
        let key = (component.to_string(), arch.to_string());
        !self.repo.dirty
            && !self.affected.contains(&key)
            && SUFFIXES
                .iter()
                .all(|s| self.repo.db.meta.indices.contains_key(&format!("{dir}/Packages{s}")))
    }

    /// Keeps the recorded hashes and chunk keys of the index in `dir`.
    fn keep(&self, dir: &str, out: &mut Indices) {
        let old = &self.repo.db.meta;
        for s in SUFFIXES {
            let rel = format!("{dir}/Packages{s}");
            out.by_path.insert(rel.clone(), old.indices[&rel].clone());
        }
        if let Some(c) = old.chunks.get(dir) {
            out.chunks.insert(dir.to_string(), c.clone());
        }
    }

    /// The index of `component` and `arch`: its entries and those of architecture `all`.
    fn build(&self, component: &str, arch: &str, cache: &mut ChunkCache) -> Result<BuiltIndex> {
        let selected: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| {
                e.component == component && (e.architecture == arch || e.architecture == "all")
            })
            .collect();
        let pairs: Vec<(&str, &str)> =
            selected.iter().map(|e| (e.package.as_str(), e.stanza.as_str())).collect();
        build_index(&pairs, cache)
    }

    /// Writes one variant to `by-hash/SHA256/<hex>`, hard-linked to `by-hash/SHA512/<hex>`,
    /// and records it.
    fn write_variant(
        &self,
        dir: &str,
        (suffix, bytes, hashes): Variant,
        now: i64,
        out: &mut Indices,
        written: &mut Vec<PathBuf>,
    ) -> Result<()> {
        let dists = &self.repo.dists;
        let rel = format!("{dir}/Packages{suffix}");
        let by256 = dists.join(dir).join("by-hash/SHA256").join(&hashes.sha256);
        let by512 = dists.join(dir).join("by-hash/SHA512").join(&hashes.sha512);
        if fsio::write_once(&by256, &bytes)? {
            written.push(by256.clone());
        }
        if !by512.exists() {
            fsio::link_or_copy(&by256, &by512)?;
        }
        for p in [&by256, &by512] {
            out.tombstones.remove(&repo_relative(self.layout, p));
        }
        self.retire(dir, &rel, &hashes, now, &mut out.tombstones);
        out.canonical.push((by256, dists.join(&rel)));
        out.by_path.insert(rel, hashes);
        Ok(())
    }

    /// Tombstones the by-hash files of the index at `rel` that `hashes` supersedes.
    fn retire(
        &self,
        dir: &str,
        rel: &str,
        hashes: &IndexHashes,
        now: i64,
        tombstones: &mut BTreeMap<String, i64>,
    ) {
        let Some(old) = self.repo.db.meta.indices.get(rel) else {
            return;
        };
        if old.sha256 != hashes.sha256 {
            let d = self.repo.dists.join(dir).join("by-hash");
            for p in [d.join("SHA256").join(&old.sha256), d.join("SHA512").join(&old.sha512)] {
                tombstones.insert(repo_relative(self.layout, &p), now);
            }
        }
    }
}

/// Size, SHA-256 and SHA-512 of one index variant.
fn index_hashes(bytes: &[u8]) -> IndexHashes {
    IndexHashes {
        size: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(bytes)),
        sha512: hex::encode(Sha512::digest(bytes)),
    }
}

/// One index variant: suffix, bytes, hashes.
type Variant = (&'static str, Vec<u8>, IndexHashes);

/// One Packages index in its three variants, and the chunk keys used.
struct BuiltIndex {
    variants: [Variant; 3],
    chunk_keys: Vec<String>,
}

/// Builds one Packages index and its .gz and .xz. The uncompressed text is hashed on a thread
/// of its own while it is compressed (on all cores), so neither waits for the other; the two
/// compressed variants are then hashed side by side.
fn build_index(stanzas: &[(&str, &str)], cache: &mut ChunkCache) -> Result<BuiltIndex> {
    let text = compress::packages_text(stanzas);
    let (compressed, plain) = std::thread::scope(|s| {
        let hashing = s.spawn(|| index_hashes(text.as_bytes()));
        let compressed = compress::compress(&text, stanzas, cache);
        (compressed, par::joined(hashing))
    });
    let compress::Compressed { gz, xz, chunk_keys } = compressed?;
    let (gz_hashes, xz_hashes) = std::thread::scope(|s| {
        let xz_hashes = s.spawn(|| index_hashes(&xz));
        (index_hashes(&gz), par::joined(xz_hashes))
    });
    let variants = [("", text.into_bytes(), plain), (".gz", gz, gz_hashes), (".xz", xz, xz_hashes)];
    Ok(BuiltIndex { variants, chunk_keys })
}
