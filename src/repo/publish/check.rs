//! Step 1 of a publish: reads every input and decides, before anything is written, what
//! becomes of it. Inputs are read and checked on their own on all cores ([`check_one`]); the
//! checks against the other inputs and the published state (conflicts, older versions, pool
//! files) then run in input order ([`judge`]), so the first bad input is the one reported.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::open::Opened;
use super::{pool_path, sha256_file, Outcome, PublishOptions, Published1};
use crate::fsx;
use crate::repo::config::{Layout, RepoConfig};
use crate::repo::control::{check_package_name, check_path_name, Paragraph, PUBLISHER_FIELDS};
use crate::repo::db::{Entry, SuiteDb};
use crate::repo::debfile::DebFile;
use crate::repo::error::{self, RepoError, Result};
use crate::repo::fsio::{self, fault_point};
use crate::repo::inputs;
use crate::version::Version;

/// A checked input, ready to write.
pub(super) struct Planned {
    pub deb_index: usize,
    pub entry: Entry,
    pub pool_exists: bool,
}

/// The inputs as read, what is planned for them and the report rows, in input order.
pub(super) struct Checked {
    pub debs: Vec<DebFile>,
    pub plan: Vec<Planned>,
    pub rows: Vec<Published1>,
}

/// Reads `opts.debs` and checks them against each other and the state in `repo`.
pub(super) fn read_and_check(
    opts: &PublishOptions,
    layout: &Layout,
    repo: &Opened,
    now: i64,
) -> Result<Checked> {
    let inputs = read_debs(&opts.debs, layout, &repo.config, &opts.component, now)?;
    let (debs, prepared): (Vec<DebFile>, Vec<Result<Prepared>>) =
        inputs.into_iter().map(|i| (i.deb, i.prepared)).unzip();
    fault_point("read");
    let (plan, rows) = check_inputs(opts, layout, &repo.db, &debs, prepared)?;
    fault_point("checked");
    Ok(Checked { debs, plan, rows })
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

fn required<'a>(deb: &DebFile, control: &'a Paragraph, field: &str) -> Result<&'a str> {
    control.get(field).filter(|v| !v.is_empty()).ok_or_else(|| RepoError::InvalidDeb {
        path: deb.path.clone(),
        reason: format!("control file has no {field} field"),
    })
}

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
    check_arch(deb, config, arch)?;
    check_fields(deb, control)?;
    let source = control.get("Source").and_then(|s| s.split_whitespace().next()).unwrap_or(package);
    check_package_name(source).map_err(|e| RepoError::InvalidDeb {
        path: deb.path.clone(),
        reason: format!("Source: {e}"),
    })?;
    let filename = pool_path(component, source, package, &version, arch);
    Ok((version, filename))
}

/// `all`, or a valid and configured architecture.
fn check_arch(deb: &DebFile, config: &RepoConfig, arch: &str) -> Result<()> {
    if arch == "all" {
        return Ok(());
    }
    check_path_name("architecture", arch)?;
    if !config.architectures.iter().any(|a| a == arch) {
        return Err(RepoError::ArchNotConfigured {
            path: deb.path.clone(),
            arch: arch.to_string(),
            configured: config.architectures.clone(),
        });
    }
    Ok(())
}

/// Relations apt can parse, and no field only the archive may set.
fn check_fields(deb: &DebFile, control: &Paragraph) -> Result<()> {
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
    Ok(())
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
) -> Result<(Vec<Planned>, Vec<Published1>)> {
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
    let mut known = Known::published(db, prepared);
    let mut verdicts = Vec::with_capacity(prepared.len());
    for (i, (deb, p)) in debs.iter().zip(prepared).enumerate() {
        let Ok(p) = p else {
            verdicts.push(Verdict::Refused);
            break;
        };
        let verdict = known.verdict(opts, layout, deb, p, prepared)?;
        if let Verdict::Add { .. } = verdict {
            let key = (p.entry.package.as_str(), p.entry.architecture.as_str());
            known.planned_by_key.entry(key).or_default().push(i);
        }
        verdicts.push(verdict);
    }
    Ok(verdicts)
}

/// What [`judge`] compares each input with, by (package, arch).
struct Known<'a> {
    /// The newest published version, before this run.
    newest: BTreeMap<(&'a str, &'a str), (Version, &'a str)>,
    /// The published entries, before this run.
    by_key: BTreeMap<(&'a str, &'a str), Vec<(Version, &'a Entry)>>,
    /// Inputs planned so far: indices into `prepared`.
    planned_by_key: HashMap<(&'a str, &'a str), Vec<usize>>,
}

impl<'a> Known<'a> {
    /// The published entries of the packages in `prepared`.
    fn published(db: &'a SuiteDb, prepared: &'a [Result<Prepared>]) -> Known<'a> {
        let mut newest: BTreeMap<(&str, &str), (Version, &str)> = BTreeMap::new();
        let mut by_key: BTreeMap<(&str, &str), Vec<(Version, &Entry)>> = BTreeMap::new();
        // Only the packages being published matter: skip parsing every version of a large
        // suite (and hashing every input's name when the suite is still empty).
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
        Known { newest, by_key, planned_by_key: HashMap::new() }
    }

    /// The verdict on one input `p` that [`check_one`] accepted.
    fn verdict(
        &self,
        opts: &PublishOptions,
        layout: &Layout,
        deb: &DebFile,
        p: &Prepared,
        prepared: &[Result<Prepared>],
    ) -> Result<Verdict> {
        let key = (p.entry.package.as_str(), p.entry.architecture.as_str());
        // Same (name, version, arch) already published: identical is a no-op, else refused.
        if let Some((_, e)) =
            self.by_key.get(&key).and_then(|l| l.iter().find(|(v, _)| *v == p.version))
        {
            if e.sha256 != deb.hashes.sha256 {
                return Err(conflict(opts, deb, &p.entry, &e.sha256));
            }
            return Ok(Verdict::Unchanged { published: Some(e.filename.clone()) });
        }
        // Or planned earlier in this run.
        let planned_same = self.planned_by_key.get(&key).and_then(|l| {
            l.iter().filter_map(|&k| prepared[k].as_ref().ok()).find(|q| q.version == p.version)
        });
        if let Some(q) = planned_same {
            if q.entry.sha256 != deb.hashes.sha256 {
                return Err(conflict(opts, deb, &p.entry, &q.entry.sha256));
            }
            return Ok(Verdict::Unchanged { published: None });
        }
        if !opts.allow_older {
            self.check_not_older(opts, deb, p)?;
        }
        let pool_exists = check_pool_file(layout, &p.filename, deb, p.pool)?;
        Ok(Verdict::Add { pool_exists })
    }

    /// Refuses `p` if a newer version of it is published.
    fn check_not_older(&self, opts: &PublishOptions, deb: &DebFile, p: &Prepared) -> Result<()> {
        let e = &p.entry;
        let Some((n, text)) = self.newest.get(&(e.package.as_str(), e.architecture.as_str()))
        else {
            return Ok(());
        };
        if p.version < *n {
            return Err(RepoError::Older(Box::new(error::Older {
                path: deb.path.clone(),
                suite: opts.suite.clone(),
                package: e.package.clone(),
                version: e.version.clone(),
                arch: e.architecture.clone(),
                newest: text.to_string(),
            })));
        }
        Ok(())
    }
}

/// Same name, version and architecture as `existing_sha256`, other bytes.
fn conflict(opts: &PublishOptions, deb: &DebFile, entry: &Entry, existing: &str) -> RepoError {
    RepoError::Conflict(Box::new(error::Conflict {
        path: deb.path.clone(),
        suite: opts.suite.clone(),
        package: entry.package.clone(),
        version: entry.version.clone(),
        arch: entry.architecture.clone(),
        existing_sha256: existing.to_string(),
        new_sha256: deb.hashes.sha256.clone(),
    }))
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
                return Err(RepoError::PoolConflict(Box::new(error::PoolConflict {
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
