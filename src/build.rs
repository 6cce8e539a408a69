//! The build pipeline as one call: load the config → resolve the source → prepare the wheelhouse
//! → plan → write. Also `render`, which stops after planning and writes the rendered templates.
//! Every input is checked (by the planner) before the output directory is touched.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::{self, Config};
use crate::defaults::Defaults;
use crate::error::{Error, Result};
use crate::fsx;
use crate::plan::{self, Planned, Wheels};
use crate::render::{Target, TemplateSet};
use crate::report::Reporter;
use crate::source::{self, SourceTree};

/// What `build` and `render` read.
#[derive(Debug, Clone, Default)]
pub struct InputOptions {
    /// `None`: the embedded reference config.
    pub config: Option<PathBuf>,
    pub source: Option<PathBuf>,
    pub version: Option<String>,
    pub templates: Option<PathBuf>,
    pub wheel_cache: PathBuf,
}

/// The result of a build, as printed with `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct BuildResult {
    pub path: PathBuf,
    pub package: String,
    pub version: String,
    pub architecture: String,
    pub installed_size: u64,
    pub size: u64,
    pub sha256: String,
}

/// A planned package with the inputs it still refers to (temporary checkouts stay alive).
struct Prepared {
    planned: Planned,
    _source: SourceTree,
    _defaults: Option<Defaults>,
}

fn prepare(opts: &InputOptions, reporter: &dyn Reporter) -> Result<Prepared> {
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
        Some(dir) => TemplateSet::from_dir(dir).map_err(|e| Error::Invalid(e.to_string()))?,
        None => TemplateSet::embedded(),
    };
    reporter.info("resolving the application source");
    let source = source::resolve(&config.source, opts.source.as_deref())
        .map_err(|e| Error::Invalid(e.to_string()))?;
    reporter.info("preparing the wheelhouse");
    let wheelhouse = crate::wheels::prepare(&config.requirements, &opts.wheel_cache, reporter)
        .map_err(|e| Error::classify(e.is_invalid_input(), &e))?;
    let wheels = Wheels { files: wheelhouse.wheels.clone(), pure: wheelhouse.pure };
    let sde = std::env::var("SOURCE_DATE_EPOCH").ok();
    let planned = plan::plan(&plan::Inputs {
        config: &config,
        templates: &templates,
        source: &source,
        wheels: &wheels,
        version: opts.version.as_deref(),
        source_date_epoch: sde.as_deref(),
        host_arch: host_arch(),
    })
    .map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(Prepared { planned, _source: source, _defaults: defaults })
}

/// Reads and resolves a config file.
pub fn load_config(path: &Path) -> Result<Config> {
    let text = fsx::read_to_string(path).map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(config::parse(path, &text)?)
}

/// Builds the package into `out`.
pub fn build(opts: &InputOptions, out: &Path, reporter: &dyn Reporter) -> Result<BuildResult> {
    let prepared = prepare(opts, reporter)?;
    let plan = &prepared.planned.plan;
    if !out.is_dir() {
        fsx::create_dir_all(out)?;
    }
    reporter.info(&format!("writing {} ({} entries)", plan.file_name, plan.entries.len()));
    let path = crate::deb::write_deb(plan, out, reporter)
        .map_err(|e| Error::classify(e.is_invalid_input(), &e))?;
    let (size, sha256) = hash_file(&path)?;
    let field = |k: &str| plan.field(k).unwrap_or_default().to_string();
    Ok(BuildResult {
        path,
        package: field("Package"),
        version: field("Version"),
        architecture: field("Architecture"),
        installed_size: field("Installed-Size").parse().unwrap_or(0),
        size,
        sha256,
    })
}

/// Writes the rendered templates and control files under `out` for review.
pub fn render(opts: &InputOptions, out: &Path, reporter: &dyn Reporter) -> Result<()> {
    if out.exists() && std::fs::read_dir(out).map(|mut d| d.next().is_some()).unwrap_or(true) {
        return Err(Error::Invalid(format!(
            "render output directory `{}` exists and is not empty; refusing to overwrite",
            out.display()
        )));
    }
    let prepared = prepare(opts, reporter)?;
    let plan = &prepared.planned.plan;
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let control: String = plan.control.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
    files.push(("DEBIAN/control".into(), control.into_bytes()));
    if !plan.conffiles.is_empty() {
        let list: String = plan.conffiles.iter().map(|c| format!("{c}\n")).collect();
        files.push(("DEBIAN/conffiles".into(), list.into_bytes()));
    }
    for r in &prepared.planned.rendered {
        let rel = match r.target {
            Target::Script => PathBuf::from("DEBIAN").join(&r.path),
            Target::Conffile | Target::File => PathBuf::from(&r.path),
        };
        files.push((rel, r.contents.clone()));
    }
    crate::render::write_tree(out, &files)?;
    reporter.info(&format!("rendered {} files into {}", files.len(), out.display()));
    Ok(())
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
