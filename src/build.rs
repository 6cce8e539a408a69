//! The build pipeline as one call: load the config → resolve the source (and the requirements
//! file, which may lie inside it) → report which commit or directory is packaged as which
//! version → for each target release: prepare its wheelhouse → plan; then write every package.
//! Also `render`, which stops after planning and writes the rendered templates. Every input of
//! every target is checked (by the planner) before the output directory is touched.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::{self, Config};
use crate::debcache::DebCache;
use crate::defaults::Defaults;
use crate::error::{Error, Result};
use crate::fsx;
use crate::plan::{self, PackagePlan, Planned, Role, Wheel, Wheels};
use crate::render::{Target as Dest, TemplateSet};
use crate::report::Reporter;
use crate::source::{self, SourceTree};
use crate::target::Target;

/// A command-line value clap accepted but the inputs refuse. The CLI exits 3 (invalid input) for
/// it, as for the config it contradicts; clap's own usage errors exit 2.
#[derive(Debug, thiserror::Error)]
pub enum ArgumentError {
    #[error(
        "--target `{target}` is not one of package.targets in {} ({})",
        config.display(), listed.join(", ")
    )]
    UnknownTarget { target: String, config: PathBuf, listed: Vec<String> },
    #[error(
        "render output directory `{}` exists and is not empty; refusing to overwrite",
        path.display()
    )]
    OutputNotEmpty { path: PathBuf },
}

/// What `build` and `render` read.
#[derive(Debug, Clone, Default)]
pub struct InputOptions {
    /// `None`: the embedded reference config.
    pub config: Option<PathBuf>,
    pub source: Option<PathBuf>,
    pub version: Option<String>,
    pub templates: Option<PathBuf>,
    pub wheel_cache: PathBuf,
    /// Finished packages named by their content (the Python dependencies): [`crate::debcache`].
    /// `None`: not cached.
    pub package_cache: Option<PathBuf>,
    /// `--target`: build for this one release of `package.targets` only.
    pub target: Option<String>,
}

/// One built package, as printed with `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct BuildResult {
    pub path: PathBuf,
    /// What the package is for in the set: `common`, `python-deps`.
    pub role: Role,
    pub package: String,
    pub version: String,
    pub architecture: String,
    /// The Debian release it is for (`bookworm`, `trixie`).
    pub target: String,
    pub installed_size: u64,
    pub size: u64,
    pub sha256: String,
}

/// What every target's plan reads: loaded once.
struct Loaded {
    config: Config,
    templates: TemplateSet,
    source: SourceTree,
    /// The checked requirements file, beside the config or inside `source`.
    requirements: PathBuf,
    _defaults: Option<Defaults>,
}

/// One target's plan.
struct Prepared {
    target: Target,
    planned: Planned,
}

fn load(opts: &InputOptions, reporter: &dyn Reporter) -> Result<Loaded> {
    let (config_path, defaults) = match &opts.config {
        Some(path) => (path.clone(), None),
        None => {
            reporter.info("using the embedded reference config (examples/cts.toml)");
            let defaults = Defaults::materialise()?;
            (defaults.config(), Some(defaults))
        }
    };
    let config = load_config(&config_path)?;
    let templates = match &opts.templates {
        Some(dir) => TemplateSet::from_dir(dir)?,
        None => TemplateSet::embedded(),
    };
    reporter.info("resolving the application source");
    let checkout = source::checkout(&config.source, opts.source.as_deref())?;
    let requirements = config::requirements_file(&config, &checkout.root)?;
    let source = checkout.list()?;
    report_version(&config, &templates, &source, opts, reporter)?;
    Ok(Loaded { config, templates, source, requirements, _defaults: defaults })
}

/// Says which commit (or directory) is packaged as which version and from where, and warns
/// about tags at the commit that name no version when the tags were consulted.
fn report_version(
    config: &Config,
    templates: &TemplateSet,
    source: &SourceTree,
    opts: &InputOptions,
    reporter: &dyn Reporter,
) -> Result<()> {
    let chosen = plan::package_version(config, templates, source, opts.version.as_deref())?;
    let commit = source.commit.as_deref();
    if chosen.consulted_tags() {
        for ignored in &chosen.ignored {
            reporter.warn(&format!(
                "tag `{}` at commit {} is not a package version ({}); ignored",
                ignored.tag,
                commit.unwrap_or_default(),
                ignored.reason
            ));
        }
    }
    reporter.info(&chosen.summary(commit, &source.root));
    Ok(())
}

/// The targets to build: `--target` (which must be one of `package.targets`), else all of them.
fn selected_targets(config: &Config, only: Option<&str>) -> Result<Vec<Target>> {
    let all = &config.package.targets;
    match only {
        None => Ok(all.clone()),
        Some(name) => {
            all.iter().find(|t| t.codename == name).map(|t| vec![t.clone()]).ok_or_else(|| {
                Error::from(ArgumentError::UnknownTarget {
                    target: name.to_string(),
                    config: config.file.clone(),
                    listed: all.iter().map(|t| t.codename.to_string()).collect(),
                })
            })
        }
    }
}

/// Plans one target: its wheelhouse, then the package.
fn prepare(
    loaded: &Loaded,
    target: &Target,
    opts: &InputOptions,
    reporter: &dyn Reporter,
) -> Result<Prepared> {
    let config = &loaded.config;
    reporter.info(&format!(
        "preparing the wheelhouse for {} (Python {})",
        target.codename, target.python
    ));
    let machine = crate::wheels::wheel_machine(host_arch()).unwrap_or(std::env::consts::ARCH);
    let py_target = crate::wheels::PyTarget {
        version: target.python.to_string(),
        glibc: target.glibc,
        machine: machine.to_string(),
    };
    let wheelhouse =
        crate::wheels::prepare(&loaded.requirements, &opts.wheel_cache, &py_target, reporter)?;
    let wheels = Wheels {
        files: wheelhouse.wheels.iter().map(|w| wheel(w)).collect::<Result<_>>()?,
        pure: wheelhouse.pure,
        requirements_sha256: hash_file(&loaded.requirements)?.1,
    };
    let sde = std::env::var("SOURCE_DATE_EPOCH").ok();
    let planned = plan::plan(&plan::Inputs {
        config,
        templates: &loaded.templates,
        source: &loaded.source,
        wheels: &wheels,
        requirements: &loaded.requirements,
        version: opts.version.as_deref(),
        source_date_epoch: sde.as_deref(),
        host_arch: host_arch(),
        target,
    })?;
    Ok(Prepared { target: target.clone(), planned })
}

/// A wheel of the house with its size and digest (the dependencies package's key).
fn wheel(path: &Path) -> Result<Wheel> {
    let (size, sha256) = hash_file(path)?;
    let file_name = path.file_name().unwrap_or_default().to_string_lossy().into_owned();
    Ok(Wheel { path: path.to_path_buf(), file_name, size, sha256 })
}

/// Loads the inputs and plans every selected target: nothing is written until all succeeded.
fn prepare_all(opts: &InputOptions, reporter: &dyn Reporter) -> Result<(Loaded, Vec<Prepared>)> {
    let loaded = load(opts, reporter)?;
    let targets = selected_targets(&loaded.config, opts.target.as_deref())?;
    let prepared =
        targets.iter().map(|t| prepare(&loaded, t, opts, reporter)).collect::<Result<Vec<_>>>()?;
    Ok((loaded, prepared))
}

/// Reads and resolves a config file.
pub fn load_config(path: &Path) -> Result<Config> {
    let text = fsx::read_to_string(path).map_err(Error::ConfigFile)?;
    Ok(config::parse(path, &text)?)
}

/// Builds the package set of each selected target into `out`, in `package.targets` order. Every
/// package is written completely (staged) before the first one takes its name.
pub fn build(opts: &InputOptions, out: &Path, reporter: &dyn Reporter) -> Result<Vec<BuildResult>> {
    let (_loaded, prepared) = prepare_all(opts, reporter)?;
    if !out.is_dir() {
        fsx::create_dir_all(out)?;
    }
    let cache = opts.package_cache.as_deref().map(DebCache::new).filter(|c| match c.usable() {
        Ok(()) => true,
        Err(why) => {
            reporter.warn(&format!("package cache not used: {why}"));
            false
        }
    });
    let mut staged = Vec::new();
    for p in &prepared {
        for (role, plan) in p.planned.packages() {
            let cached = match (&cache, role) {
                (Some(c), Role::PythonDeps) => from_cache(c, plan, out, reporter)?,
                _ => None,
            };
            let fresh = cached.is_none();
            let deb = match cached {
                Some(deb) => deb,
                None => crate::deb::stage_deb(plan, out, &Default::default(), reporter)?,
            };
            staged.push((p, role, plan, deb, fresh));
        }
    }
    let mut results = Vec::new();
    for (p, role, plan, deb, fresh) in staged {
        let path = deb.persist()?;
        if let (Some(c), Role::PythonDeps, true) = (&cache, role, fresh) {
            if let Err(e) = c.store(&path) {
                reporter.warn(&format!("not kept in the package cache: {e}"));
            }
        }
        results.push(result_of(p, role, plan, path)?);
    }
    Ok(results)
}

/// A staged copy of `plan`'s package from the cache, if it is there and the copy's digest is the
/// one recorded; a damaged entry is reported and rebuilt.
fn from_cache(
    cache: &DebCache,
    plan: &PackagePlan,
    out: &Path,
    reporter: &dyn Reporter,
) -> Result<Option<crate::deb::StagedDeb>> {
    let Some(entry) = cache.lookup(&plan.file_name) else {
        return Ok(None);
    };
    // A cache that cannot be read (removed meanwhile, another user's file) only costs a rebuild.
    let (deb, digest) = match crate::deb::StagedDeb::copy_of(&entry.path, out, &plan.file_name) {
        Ok(copied) => copied,
        Err(e) => {
            reporter.warn(&format!("package cache: {e}: rebuilding"));
            return Ok(None);
        }
    };
    if digest != entry.sha256 {
        let path = entry.path.display();
        reporter.warn(&format!("{path} differs from the digest it was stored with: rebuilding"));
        return Ok(None); // dropping `deb` deletes the copy
    }
    reporter.info(&format!("{}: unchanged, from the package cache", plan.file_name));
    Ok(Some(deb))
}

fn result_of(
    prepared: &Prepared,
    role: Role,
    plan: &PackagePlan,
    path: PathBuf,
) -> Result<BuildResult> {
    let (size, sha256) = hash_file(&path)?;
    let field = |k: &str| plan.field(k).unwrap_or_default().to_string();
    Ok(BuildResult {
        path,
        role,
        package: field("Package"),
        version: field("Version"),
        architecture: field("Architecture"),
        target: prepared.target.codename.to_string(),
        installed_size: field("Installed-Size").parse().unwrap_or(0),
        size,
        sha256,
    })
}

/// Writes the rendered templates and control files of each target under `out/<codename>/` for
/// review.
pub fn render(opts: &InputOptions, out: &Path, reporter: &dyn Reporter) -> Result<()> {
    if out.exists() && fsx::read_dir(out).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(ArgumentError::OutputNotEmpty { path: out.to_path_buf() }.into());
    }
    let (_loaded, prepared) = prepare_all(opts, reporter)?;
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    for p in &prepared {
        let dir = PathBuf::from(p.target.codename);
        files.extend(rendered_files(&p.planned).into_iter().map(|(rel, b)| (dir.join(rel), b)));
        // The dependencies package has no templates: its control file shows what it is.
        let deps = dir.join("python-deps/DEBIAN/control");
        files.push((deps, control_text(&p.planned.pydeps).into_bytes()));
    }
    crate::render::write_tree(out, &files)?;
    reporter.info(&format!("rendered {} files into {}", files.len(), out.display()));
    Ok(())
}

/// The control file, the conffiles list and every rendered template of one plan, by path.
fn rendered_files(planned: &Planned) -> Vec<(PathBuf, Vec<u8>)> {
    let plan = &planned.plan;
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    files.push(("DEBIAN/control".into(), control_text(plan).into_bytes()));
    if !plan.conffiles.is_empty() {
        let list: String = plan.conffiles.iter().map(|c| format!("{c}\n")).collect();
        files.push(("DEBIAN/conffiles".into(), list.into_bytes()));
    }
    for r in &planned.rendered {
        let rel = match r.target {
            Dest::Script => PathBuf::from("DEBIAN").join(&r.path),
            Dest::Conffile | Dest::File => PathBuf::from(&r.path),
        };
        files.push((rel, r.contents.clone()));
    }
    files
}

fn control_text(plan: &PackagePlan) -> String {
    plan.control.iter().map(|(k, v)| format!("{k}: {v}\n")).collect()
}

fn hash_file(path: &Path) -> Result<(u64, String)> {
    let mut f = fsx::open(path)?;
    let mut h = Sha256::new();
    let n = std::io::copy(&mut f, &mut h).map_err(|e| fsx::FsError::new("read", path, e))?;
    Ok((n, hex::encode(h.finalize())))
}

/// The build host's Debian architecture name.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "i386",
        "arm" => "armhf",
        "powerpc64" => "ppc64el",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

/// The default wheel cache: `$XDG_CACHE_HOME/cts-deb/wheels`, else `~/.cache/cts-deb/wheels`.
pub fn default_wheel_cache() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| std::env::temp_dir().join("cts-deb-cache"));
    base.join("cts-deb").join("wheels")
}

/// The default package cache: `debs` beside the default wheel cache; none without
/// `XDG_CACHE_HOME` or `HOME` (never a shared temporary directory anyone could fill first).
pub fn default_package_cache() -> Option<PathBuf> {
    if std::env::var_os("XDG_CACHE_HOME").is_none() && std::env::var_os("HOME").is_none() {
        return None;
    }
    Some(default_wheel_cache().with_file_name("debs"))
}
