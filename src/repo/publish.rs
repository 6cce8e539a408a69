//! `cts-deb publish`: check every input, then write in the order that keeps the repository
//! valid for apt at every instant (see the module documentation of [`crate::repo`]).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256, Sha512};

use super::compress::{self, ChunkCache};
use super::config::{Layout, RepoConfig};
use super::control::{check_package_name, check_path_name, Paragraph, PUBLISHER_FIELDS};
use super::db::{entry_order, EntriesWriter, Entry, IndexHashes, Published, SuiteDb};
use super::debfile::DebFile;
use super::error::{RepoError, Result};
use super::fsio::{self, fault_point, RepoLock};
use super::inputs;
use super::release;
use super::sign::Signer;
use crate::fsx;
use crate::par;
use crate::report::Reporter;
use crate::version::Version;

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

/// Reads the inputs on all cores (see [`inputs`]); order is kept. On the same threads, each
/// input that passes [`check_one`] is also prepared for the serial checks: its parsed version,
/// pool path, what that path holds now and its database entry (see [`Prepared`]).
fn read_debs(
    args: &[PathBuf],
    layout: &Layout,
    config: &RepoConfig,
    component: &str,
    now: i64,
) -> Result<Vec<Input>> {
    let read = |file: std::fs::File, p: &Path| -> Result<Input> {
        // The control paragraph is only needed here: once the stanza is rendered it is freed,
        // on this thread, and its memory serves the next inputs read.
        let (mut deb, control) = DebFile::from_file(file, p)?;
        let prepared = prepare(layout, config, component, &deb, &control, now);
        if prepared.as_ref().is_ok_and(|p| p.pool == PoolFile::TheInput) {
            // The input is its own pool file (re-indexing the pool): never copied, so its
            // bytes are not kept.
            deb.bytes = Vec::new();
        }
        Ok(Input { deb, prepared })
    };
    inputs::read_all(args, read)
}

/// What an input's pool path holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PoolFile {
    Missing,
    /// The input itself (re-indexing the pool): nothing to compare or copy.
    TheInput,
    /// Another file, to be compared with the input.
    Other,
}

fn pool_file(pool: &Path, input: &Path) -> PoolFile {
    use std::os::unix::fs::MetadataExt;
    if same_path(pool, input) {
        return PoolFile::TheInput;
    }
    let Ok(at_pool) = fsx::metadata(pool) else {
        return PoolFile::Missing;
    };
    match fsx::metadata(input) {
        Ok(m) if (m.dev(), m.ino()) == (at_pool.dev(), at_pool.ino()) => PoolFile::TheInput,
        _ => PoolFile::Other,
    }
}

/// Whether two paths are spelled the same, `.` components aside (then they name one file).
fn same_path(a: &Path, b: &Path) -> bool {
    use std::path::Component::CurDir;
    a.components().filter(|c| *c != CurDir).eq(b.components().filter(|c| *c != CurDir))
}

/// An input file and what was prepared for it, or why [`check_one`] refused it (reported by
/// [`check_inputs`] in input order).
struct Input {
    deb: DebFile,
    prepared: Result<Prepared>,
}

/// Work done on the reader threads for an input that passes [`check_one`] (the checks that
/// involve other inputs or the published state are made, in order, by [`check_inputs`]).
struct Prepared {
    version: Version,
    /// The pool path, and what it holds.
    filename: String,
    pool: PoolFile,
    /// The database entry, used when the input is planned.
    entry: Entry,
    /// Its line of the report, as if added.
    row: Published1,
}

/// Checks `deb` on its own ([`check_one`]) and works out its version, pool path, what that
/// path holds and its database entry.
fn prepare(
    layout: &Layout,
    config: &RepoConfig,
    component: &str,
    deb: &DebFile,
    control: &Paragraph,
    now: i64,
) -> Result<Prepared> {
    let (version, filename) = check_one(deb, control, config, component)?;
    let field = |name| control.get(name).unwrap_or_default();
    let entry = Entry::new(
        component,
        [field("Package"), field("Version"), field("Architecture")],
        &filename,
        &deb.hashes,
        &control.render(&[]),
        now,
    );
    let pool = pool_file(&layout.root.join(&filename), &deb.path);
    let row = Published1 {
        path: deb.path.clone(),
        filename: filename.clone(),
        package: entry.package.clone(),
        version: entry.version.clone(),
        architecture: entry.architecture.clone(),
        outcome: Outcome::Added,
    };
    Ok(Prepared { version, filename, pool, entry, row })
}

/// Size, SHA-256 and SHA-512 of one index variant.
fn index_hashes(bytes: &[u8]) -> IndexHashes {
    IndexHashes {
        size: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(bytes)),
        sha512: hex::encode(Sha512::digest(bytes)),
    }
}

/// One Packages index in its three variants (suffix, bytes, hashes), and the chunk keys used.
struct BuiltIndex {
    variants: [(&'static str, Vec<u8>, IndexHashes); 3],
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

/// Writes new pool files (temp + rename each) on several threads: for an initial import the
/// directory creation and file creation dominate, and they overlap well.
fn write_pool_files(files: &[(PathBuf, &[u8])]) -> Result<()> {
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

/// A checked input, ready to write.
struct Planned {
    deb_index: usize,
    entry: Entry,
    pool_exists: bool,
}

fn required<'a>(deb: &DebFile, control: &'a Paragraph, field: &str) -> Result<&'a str> {
    control.get(field).filter(|v| !v.is_empty()).ok_or_else(|| RepoError::InvalidDeb {
        path: deb.path.clone(),
        reason: format!("control file has no {field} field"),
    })
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

fn run(opts: &PublishOptions, force: bool, reporter: &dyn Reporter) -> Result<PublishReport> {
    fault_point("start");
    let layout = Layout::new(&opts.repo);
    check_path_name("suite", &opts.suite)?;
    check_path_name("component", &opts.component)?;
    let _lock = RepoLock::acquire(&layout.lock(), reporter)?;
    let config = RepoConfig::load(&layout)?;
    let suite_config = config.suite(&layout, &opts.suite)?.clone();
    if !config.components.contains(&opts.component) {
        return Err(RepoError::Config {
            path: layout.config(),
            message: format!(
                "component `{}` is not configured (configured: {})",
                opts.component,
                config.components.join(", ")
            ),
        });
    }
    let dists = layout.dists(&opts.suite);
    if opts.key.is_none() && (config.signing_key.is_some() || dists.join("InRelease").exists()) {
        return Err(RepoError::Usage(format!(
            "repository `{}` is signed: pass --key FILE",
            layout.root.display()
        )));
    }
    let db_path = layout.suite_db(&opts.suite);
    let mut db = SuiteDb::load(&db_path)?;
    let on_disk = Published {
        release: sha256_if_exists(&dists.join("Release"))?,
        release_gpg: sha256_if_exists(&dists.join("Release.gpg"))?,
        inrelease: sha256_if_exists(&dists.join("InRelease"))?,
    };
    let interrupted = on_disk != db.meta.published;
    let dirty = interrupted || force;
    if interrupted {
        reporter.warn(&format!(
            "the Release files of suite {} do not match the package database (an earlier \
             publish was interrupted); rewriting all indices",
            opts.suite
        ));
    }

    // The key is checked (and unlocked) before any work: a wrong key or passphrase fails fast.
    let signer = match &opts.key {
        Some(key) => Some(Signer::load_expecting(key, config.signing_key.as_deref(), reporter)?),
        None => None,
    };
    fault_point("loaded");
    let now = release::now()?;
    let inputs = read_debs(&opts.debs, &layout, &config, &opts.component, now.unix_timestamp())?;
    let (debs, prepared): (Vec<DebFile>, Vec<Result<Prepared>>) =
        inputs.into_iter().map(|i| (i.deb, i.prepared)).unzip();
    fault_point("read");
    let (plan, report_rows) = check_inputs(opts, &layout, &db, &debs, prepared)?;
    fault_point("checked");

    // What the plan touches, before its entries move into the suite.
    let to_copy: Vec<(PathBuf, &[u8])> = plan
        .iter()
        .filter(|p| !p.pool_exists)
        .map(|p| (layout.root.join(&p.entry.filename), &debs[p.deb_index].bytes[..]))
        .collect();
    // The (component, architecture) pairs the plan touches: a few, however many inputs.
    let mut affected_entries: Vec<(String, String)> = Vec::new();
    for e in plan.iter().map(|p| &p.entry) {
        if !affected_entries.iter().any(|(c, a)| *c == e.component && *a == e.architecture) {
            affected_entries.push((e.component.clone(), e.architecture.clone()));
        }
    }

    // Retention over the package/architecture pairs named on the command line.
    let mut entries = std::mem::take(&mut db.entries);
    entries.extend(plan.into_iter().map(|p| p.entry));
    let mut removed: Vec<Entry> = Vec::new();
    if let Some(n) = opts.keep_last {
        let groups: HashSet<(&str, &str)> =
            report_rows.iter().map(|r| (r.package.as_str(), r.architecture.as_str())).collect();
        let mut members: HashMap<(&str, &str), Vec<(Version, usize)>> = HashMap::new();
        for (i, e) in entries.iter().enumerate() {
            let key = (e.package.as_str(), e.architecture.as_str());
            if groups.contains(&key) {
                members.entry(key).or_default().push((e.parsed_version(), i));
            }
        }
        let mut drop: HashSet<usize> = HashSet::new();
        for mut versions in members.into_values() {
            versions.sort_by(|a, b| b.0.cmp(&a.0));
            drop.extend(versions.iter().skip(n).map(|(_, i)| *i));
        }
        let mut i = 0;
        entries.retain(|e| {
            let keep = !drop.contains(&i);
            if !keep {
                removed.push(e.clone());
            }
            i += 1;
            keep
        });
    }

    let mut report = PublishReport {
        packages: report_rows,
        removed: removed.iter().map(|e| e.filename.clone()).collect(),
        wrote_release: false,
    };
    if affected_entries.is_empty() && removed.is_empty() && !dirty {
        return Ok(report);
    }

    // 1. Pool files: new paths only, so nothing apt can see changes.
    write_pool_files(&to_copy)?;
    // Files to make durable before the database names them.
    let mut written: Vec<PathBuf> = to_copy.iter().map(|(p, _)| p.clone()).collect();
    fault_point("pool");

    // 2. Indices under by-hash/ (content-addressed, immutable).
    entries.sort_by(entry_order);
    // The entries are final: the new database's entries are written meanwhile.
    let entries = Arc::new(entries);
    let db_writer = EntriesWriter::start(&db_path, &entries);
    affected_entries.extend(removed.iter().map(|e| (e.component.clone(), e.architecture.clone())));
    let affected: BTreeSet<(String, String)> = affected_entries
        .into_iter()
        .flat_map(|(component, arch)| {
            let arches: Vec<String> =
                if arch == "all" { config.architectures.clone() } else { vec![arch] };
            arches.into_iter().map(move |a| (component.clone(), a))
        })
        .collect();
    let mut cache = ChunkCache::new(&layout.chunk_cache());
    let mut indices: BTreeMap<String, IndexHashes> = BTreeMap::new();
    let mut chunks: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut canonical: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut tombstones = std::mem::take(&mut db.meta.tombstones);
    let now_unix = now.unix_timestamp();
    for component in &config.components {
        for arch in &config.architectures {
            let dir = format!("{component}/binary-{arch}");
            let key = (component.clone(), arch.clone());
            let reuse = !dirty
                && !affected.contains(&key)
                && ["", ".gz", ".xz"]
                    .iter()
                    .all(|s| db.meta.indices.contains_key(&format!("{dir}/Packages{s}")));
            if reuse {
                for s in ["", ".gz", ".xz"] {
                    let rel = format!("{dir}/Packages{s}");
                    indices.insert(rel.clone(), db.meta.indices[&rel].clone());
                }
                if let Some(c) = db.meta.chunks.get(&dir) {
                    chunks.insert(dir.clone(), c.clone());
                }
                continue;
            }
            let selected: Vec<&Entry> = entries
                .iter()
                .filter(|e| {
                    &e.component == component
                        && (&e.architecture == arch || e.architecture == "all")
                })
                .collect();
            let pairs: Vec<(&str, &str)> =
                selected.iter().map(|e| (e.package.as_str(), e.stanza.as_str())).collect();
            let built = build_index(&pairs, &mut cache)?;
            chunks.insert(dir.clone(), built.chunk_keys);
            for (suffix, bytes, hashes) in built.variants {
                let rel = format!("{dir}/Packages{suffix}");
                let by256 = dists.join(&dir).join("by-hash/SHA256").join(&hashes.sha256);
                let by512 = dists.join(&dir).join("by-hash/SHA512").join(&hashes.sha512);
                if fsio::write_once(&by256, &bytes)? {
                    written.push(by256.clone());
                }
                if !by512.exists() {
                    fsio::link_or_copy(&by256, &by512)?;
                }
                for p in [&by256, &by512] {
                    tombstones.remove(&repo_relative(&layout, p));
                }
                if let Some(old) = db.meta.indices.get(&rel) {
                    if old.sha256 != hashes.sha256 {
                        let d = dists.join(&dir).join("by-hash");
                        for p in
                            [d.join("SHA256").join(&old.sha256), d.join("SHA512").join(&old.sha512)]
                        {
                            tombstones.insert(repo_relative(&layout, &p), now_unix);
                        }
                    }
                }
                canonical.push((by256, dists.join(&rel)));
                indices.insert(rel, hashes);
            }
        }
    }
    fault_point("by-hash");

    // 3. Release and its signatures, in memory.
    let release_text = release::render(&config, &opts.suite, &suite_config, now, &indices);
    let (inrelease, release_gpg) = match &signer {
        Some(signer) => (
            Some(signer.clearsign(&release_text)?),
            Some(signer.detach_sign(release_text.as_bytes())?),
        ),
        None => (None, None),
    };
    fault_point("signed");

    // 4. The package database: from here on the publish rolls forward.
    let referenced: HashSet<&str> = entries.iter().map(|e| e.filename.as_str()).collect();
    for e in &removed {
        if !referenced.contains(e.filename.as_str()) {
            tombstones.insert(e.filename.clone(), now_unix);
        }
    }
    for e in entries.iter() {
        tombstones.remove(&e.filename);
    }
    let sha = |b: &[u8]| hex::encode(Sha256::digest(b));
    db.meta.indices = indices;
    db.meta.chunks = chunks;
    db.meta.tombstones = tombstones;
    db.meta.published = Published {
        release: Some(sha(release_text.as_bytes())),
        release_gpg: release_gpg.as_deref().map(sha),
        inrelease: inrelease.as_deref().map(sha),
    };
    // The pool files, the by-hash files and the new database become durable before the
    // database is renamed into place.
    let staged_db = db_writer.finish(&db.meta)?;
    written.push(staged_db.tmp_path().to_path_buf());
    fsio::make_durable(&written, &layout.root)?;
    staged_db.commit()?;
    fault_point("db");

    // 5. Canonical index paths (a fallback for clients without by-hash).
    for (i, (by_hash, path)) in canonical.iter().enumerate() {
        fsio::link_or_copy(by_hash, path)?;
        if i == 0 {
            fault_point("index-first");
        }
    }
    fault_point("indices");

    // 6. Release + Release.gpg for legacy clients, then 7. InRelease: the commit point.
    // Release and Release.gpg are rewritten from the database if lost: only the commit point
    // (InRelease; Release in an unsigned repository) is synced.
    if inrelease.is_some() {
        fsio::replace_unsynced(&dists.join("Release"), release_text.as_bytes())?;
    } else {
        fsio::replace(&dists.join("Release"), release_text.as_bytes())?;
    }
    fault_point("release");
    if let Some(sig) = &release_gpg {
        fsio::replace_unsynced(&dists.join("Release.gpg"), sig)?;
    }
    fault_point("release-gpg");
    if let Some(clear) = &inrelease {
        fsio::replace(&dists.join("InRelease"), clear)?;
    }
    fsio::sync_dir(&dists)?;
    fault_point("inrelease");
    report.wrote_release = true;
    drop(to_copy);
    drop_in_background((debs, db, entries, cache));
    Ok(report)
}

/// Frees `value` on a background thread: after indexing thousands of packages, freeing their
/// many small allocations takes tens of milliseconds that the caller need not wait for (the
/// CLI exits right after a publish; in a longer-lived process the thread simply finishes).
fn drop_in_background<T: Send + 'static>(value: T) {
    // If no thread can be started, the closure (and `value` with it) is dropped right here.
    let _ = std::thread::Builder::new().name("drop".into()).spawn(move || drop(value));
}

fn repo_relative(layout: &Layout, path: &Path) -> String {
    path.strip_prefix(&layout.root).unwrap_or(path).to_string_lossy().into_owned()
}

type Checked = (Vec<Planned>, Vec<Published1>);

/// The checks of one input that depend on no other input and on no published state: the
/// fields it must have, valid names and version, a configured architecture, no field only the
/// archive may set. Returns its version and pool path.
fn check_one(
    deb: &DebFile,
    control: &Paragraph,
    config: &RepoConfig,
    component: &str,
) -> Result<(Version, String)> {
    let package = required(deb, control, "Package")?;
    let version_text = required(deb, control, "Version")?;
    let arch = required(deb, control, "Architecture")?;
    check_package_name(package)
        .map_err(|e| RepoError::InvalidDeb { path: deb.path.clone(), reason: e.to_string() })?;
    let version = Version::parse_strict(version_text)
        .map_err(|source| RepoError::InvalidVersion { path: deb.path.clone(), source })?;
    if arch != "all" {
        check_path_name("architecture", arch)?;
        if !config.architectures.iter().any(|a| a == arch) {
            return Err(RepoError::ArchNotConfigured {
                path: deb.path.clone(),
                arch: arch.to_string(),
                configured: config.architectures.clone(),
            });
        }
    }
    control.check_relations().map_err(|e| RepoError::InvalidDeb {
        path: deb.path.clone(),
        reason: format!("control file: {e}"),
    })?;
    if let Some(f) = PUBLISHER_FIELDS.iter().find(|f| control.get(f).is_some()) {
        return Err(RepoError::InvalidDeb {
            path: deb.path.clone(),
            reason: format!("control file carries {f}, which only the archive may set"),
        });
    }
    let source = control.get("Source").and_then(|s| s.split_whitespace().next()).unwrap_or(package);
    check_package_name(source).map_err(|e| RepoError::InvalidDeb {
        path: deb.path.clone(),
        reason: format!("Source: {e}"),
    })?;
    let filename = pool_path(component, source, package, &version, arch);
    Ok((version, filename))
}

/// What [`check_inputs`] decided for one input.
enum Verdict {
    /// Planned; whether its pool file is already in place.
    Add { pool_exists: bool },
    /// Identical bytes already published (at this pool path) or planned earlier in this run.
    Unchanged { published: Option<String> },
    /// [`check_one`] refused it on the reader thread; its error is reported in this place.
    Refused,
}

/// Every refusal happens here, before anything is written. The inputs are judged in order
/// while their prepared entries are borrowed (the keys of same-name lookups point into them),
/// then the entries move into the plan.
fn check_inputs(
    opts: &PublishOptions,
    layout: &Layout,
    db: &SuiteDb,
    debs: &[DebFile],
    prepared: Vec<Result<Prepared>>,
) -> Result<Checked> {
    let verdicts = judge(opts, layout, db, debs, &prepared)?;
    let mut plan: Vec<Planned> = Vec::new();
    let mut rows = Vec::new();
    for (i, (prepared, verdict)) in prepared.into_iter().zip(verdicts).enumerate() {
        // For a Refused verdict this is the input's own error, after every earlier input
        // passed.
        let Prepared { entry, mut row, .. } = prepared?;
        match verdict {
            Verdict::Add { pool_exists } => {
                plan.push(Planned { deb_index: i, entry, pool_exists });
            }
            Verdict::Unchanged { published } => {
                row.outcome = Outcome::Unchanged;
                if let Some(filename) = published {
                    row.filename = filename;
                }
            }
            Verdict::Refused => {}
        }
        rows.push(row);
    }
    Ok((plan, rows))
}

/// The serial checks of [`check_inputs`], in input order; stops at the first input
/// [`check_one`] refused (its verdict is the last).
fn judge(
    opts: &PublishOptions,
    layout: &Layout,
    db: &SuiteDb,
    debs: &[DebFile],
    prepared: &[Result<Prepared>],
) -> Result<Vec<Verdict>> {
    // Newest version per (package, arch) and the published entries by key, before this run.
    let mut newest: BTreeMap<(&str, &str), (Version, &str)> = BTreeMap::new();
    let mut by_key: BTreeMap<(&str, &str), Vec<(Version, &Entry)>> = BTreeMap::new();
    // Only the packages being published matter: skip parsing every version of a large suite
    // (and hashing every input's name when the suite is still empty).
    let names: HashSet<&str> = if db.entries.is_empty() {
        HashSet::new()
    } else {
        prepared.iter().flatten().map(|p| p.entry.package.as_str()).collect()
    };
    for e in db.entries.iter().filter(|e| names.contains(e.package.as_str())) {
        let v = e.parsed_version();
        let k = (e.package.as_str(), e.architecture.as_str());
        match newest.get(&k) {
            Some((n, _)) if *n >= v => {}
            _ => {
                newest.insert(k, (v.clone(), e.version.as_str()));
            }
        }
        by_key.entry(k).or_default().push((v, e));
    }
    let mut verdicts = Vec::with_capacity(prepared.len());
    // Inputs planned so far, by (package, arch): indices into `prepared`.
    let mut planned_by_key: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, (deb, p)) in debs.iter().zip(prepared).enumerate() {
        let Ok(p) = p else {
            verdicts.push(Verdict::Refused);
            break;
        };
        let (package, version_text, arch) =
            (p.entry.package.as_str(), p.entry.version.as_str(), p.entry.architecture.as_str());
        let conflict = |existing: &str| {
            RepoError::Conflict(Box::new(super::error::Conflict {
                path: deb.path.clone(),
                suite: opts.suite.clone(),
                package: package.to_string(),
                version: version_text.to_string(),
                arch: arch.to_string(),
                existing_sha256: existing.to_string(),
                new_sha256: deb.hashes.sha256.clone(),
            }))
        };

        // Same (name, version, arch) already published: identical is a no-op, else refused.
        if let Some((_, e)) =
            by_key.get(&(package, arch)).and_then(|l| l.iter().find(|(v, _)| *v == p.version))
        {
            if e.sha256 != deb.hashes.sha256 {
                return Err(conflict(&e.sha256));
            }
            verdicts.push(Verdict::Unchanged { published: Some(e.filename.clone()) });
            continue;
        }
        // Or planned earlier in this run.
        let planned_same = planned_by_key.get(&(package, arch)).and_then(|l| {
            l.iter().filter_map(|&k| prepared[k].as_ref().ok()).find(|q| q.version == p.version)
        });
        if let Some(q) = planned_same {
            if q.entry.sha256 != deb.hashes.sha256 {
                return Err(conflict(&q.entry.sha256));
            }
            verdicts.push(Verdict::Unchanged { published: None });
            continue;
        }
        if !opts.allow_older {
            if let Some((n, text)) = newest.get(&(package, arch)) {
                if p.version < *n {
                    return Err(RepoError::Older(Box::new(super::error::Older {
                        path: deb.path.clone(),
                        suite: opts.suite.clone(),
                        package: package.to_string(),
                        version: version_text.to_string(),
                        arch: arch.to_string(),
                        newest: text.to_string(),
                    })));
                }
            }
        }
        let pool_exists = check_pool_file(layout, &p.filename, deb, p.pool)?;
        planned_by_key.entry((package, arch)).or_default().push(i);
        verdicts.push(Verdict::Add { pool_exists });
    }
    Ok(verdicts)
}

/// Whether the pool file is already there with these bytes. Different bytes are refused when
/// any suite lists that file; an unlisted one (left by an interrupted publish) is replaced.
fn check_pool_file(layout: &Layout, filename: &str, deb: &DebFile, pool: PoolFile) -> Result<bool> {
    match pool {
        PoolFile::Missing => return Ok(false),
        PoolFile::TheInput => return Ok(true),
        PoolFile::Other => {}
    }
    let path = layout.root.join(filename);
    let existing = sha256_file(&path)?;
    if existing == deb.hashes.sha256 {
        return Ok(true);
    }
    for db_path in fsio::files_below(&layout.suites_dir())? {
        if db_path.extension().is_some_and(|e| e == "db") {
            let db = SuiteDb::load(&db_path)?;
            if db.entries.iter().any(|e| e.filename == filename) {
                return Err(RepoError::PoolConflict(Box::new(super::error::PoolConflict {
                    path: deb.path.clone(),
                    pool_path: filename.to_string(),
                    existing_sha256: existing,
                    new_sha256: deb.hashes.sha256.clone(),
                })));
            }
        }
    }
    Ok(false)
}
