//! Builds a [`PackagePlan`] from a resolved config, the templates, the source tree and the
//! wheelhouse. Pure apart from reading file sizes: nothing is written here, so every input error
//! surfaces before the output directory is touched.
//!
//! [`plan`] takes the steps in order, one call each: the changelog, version ([`super::version`])
//! and clock; the template context ([`super::paths`], [`super::control`]); the rendered
//! templates; the data.tar entries ([`super::payload`], [`super::docs`]); then the control file,
//! which needs the entries' Installed-Size.

use std::path::Path;

use serde::Serialize;

use super::control::{self, PackageCtx};
use super::docs::{self, Changelog};
use super::paths::Paths;
use super::payload::{self, Files};
use super::pydeps::{self, DepsInputs, Wheel};
use super::{installed_size_kib, PackagePlan};
use crate::config::{Broker, Config, Database, Instance, Project, Web};
use crate::render::{self, InstanceCtx, PathNames, Rendered, TemplateError, TemplateSet};
use crate::source::SourceTree;
use crate::target::Target;

/// Everything that can make planning fail.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Fs(#[from] crate::fsx::FsError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{origin}/debian/changelog: {message}")]
    Changelog { origin: String, message: String },
    #[error("{origin}: {message}")]
    Version { origin: String, message: String },
    #[error("SOURCE_DATE_EPOCH=`{value}` is not a positive whole number of seconds")]
    Clock { value: String },
    #[error("two files would be installed at `/{path}` (from {first} and {second})")]
    Conflict { path: String, first: String, second: String },
    #[error("rendered control file from `{template}`: {message}")]
    Control { template: String, message: String },
}

/// The wheelhouse as the planner needs it: the files and their digests (read by the caller, so
/// that planning stays free of content reads).
#[derive(Debug, Clone)]
pub struct Wheels {
    /// Wheel files, sorted by file name.
    pub files: Vec<Wheel>,
    /// Every wheel is `none-any`: the dependencies package can be `Architecture: all`.
    pub pure: bool,
    /// SHA-256 of `python.requirements`.
    pub requirements_sha256: String,
}

/// What the planner reads.
pub struct Inputs<'a> {
    pub config: &'a Config,
    pub templates: &'a TemplateSet,
    pub source: &'a SourceTree,
    pub wheels: &'a Wheels,
    /// The checked requirements file ([`crate::config::requirements_file`]).
    pub requirements: &'a Path,
    /// `--version`, overriding the config, the source's tag and the changelog.
    pub version: Option<&'a str>,
    /// `SOURCE_DATE_EPOCH` as found in the environment.
    pub source_date_epoch: Option<&'a str>,
    /// Debian architecture of the build host, used when a wheel is not pure.
    pub host_arch: &'a str,
    /// The Debian release this package is for (one of `config.package.targets`).
    pub target: &'a Target,
}

/// The package set of one target plus the rendered templates (for `cts-deb render`).
pub struct Planned {
    /// The common package (`cts-server`): the application, setup, configuration.
    pub plan: PackagePlan,
    /// The Python dependencies package (see the `pydeps` module), which `plan` depends on.
    pub pydeps: PackagePlan,
    pub rendered: Vec<Rendered>,
}

/// What a package of the set is for (`--json`'s `role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The application, its setup and configuration.
    Common,
    /// The wheelhouse, named by its content: the same requirements give the same bytes.
    PythonDeps,
}

impl Planned {
    /// Every package of the set, the common package first (a script that reads the first path
    /// of `build`'s output still gets `cts-server`).
    pub fn packages(&self) -> [(Role, &PackagePlan); 2] {
        [(Role::Common, &self.plan), (Role::PythonDeps, &self.pydeps)]
    }
}

#[derive(Serialize)]
struct Context<'a> {
    package: PackageCtx,
    project: &'a Project,
    paths: Paths,
    instances: &'a [Instance],
    web: &'a Web,
    database: &'a Database,
    broker: &'a Broker,
    source: SourceCtx,
    depends: Vec<String>,
    installed_size: u64,
    target: &'a Target,
    /// Every supervisor program of every instance ([`super::programs`]).
    programs: Vec<super::Program>,
}

#[derive(Serialize)]
struct SourceCtx {
    commit: String,
}

/// Decides everything about the package.
pub fn plan(inputs: &Inputs) -> Result<Planned, PlanError> {
    let cfg = inputs.config;
    let origin = &inputs.templates.origin;
    let changelog = docs::changelog(inputs.templates)?;
    let version = version(inputs, &changelog)?;
    let mtime = clock(inputs.source_date_epoch, changelog.top.timestamp)?;
    let name = &cfg.package.name;
    let deps_arch = if inputs.wheels.pure { "all" } else { inputs.host_arch };
    let copyright = docs::copyright(inputs.templates)?;
    let deps = deps_inputs(inputs, copyright, deps_arch)?;
    let key = pydeps::key(&deps);
    let pydeps = pydeps::plan(&deps, &key)?;
    // The application is Python source, but with impure wheels its Depends name an
    // architecture's dependencies package: one `all` package per arch would differ in bytes.
    let arch = deps_arch;
    let mut context = context(inputs, &version, arch, &key);

    let instance_ctx: Vec<InstanceCtx<'_, Instance>> =
        cfg.instances.iter().map(|i| InstanceCtx { name: &i.name, value: i }).collect();
    let names = PathNames { package: name, project: &cfg.project.name };
    let engine = render::Engine::new(inputs.templates)?;
    let rendered = engine.render_all(&context, &names, &instance_ctx)?;

    let mut files = Files::default();
    payload::add_inputs(&mut files, inputs, name)?;
    let (conffiles, mut scripts) = payload::add_rendered(&mut files, &rendered)?;
    docs::add_docs(&mut files, inputs.templates, changelog.text, name, &version)?;
    let entries = files.into_entries();

    context.installed_size = installed_size_kib(&entries);
    let control = control::render(&engine, &context, origin)?;
    let file_name = control::file_name(name, &version, arch);
    scripts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Planned {
        plan: PackagePlan {
            control,
            entries,
            conffiles,
            control_members: scripts,
            mtime,
            file_name,
        },
        pydeps,
        rendered,
    })
}

/// What the dependencies package is made of: the wheels, the requirements, who maintains it.
fn deps_inputs<'a>(
    inputs: &Inputs<'a>,
    copyright: &'a str,
    arch: &'a str,
) -> Result<DepsInputs<'a>, PlanError> {
    let cfg = inputs.config;
    Ok(DepsInputs {
        name: &cfg.package.name,
        maintainer: &cfg.package.maintainer,
        copyright,
        target: inputs.target,
        arch,
        pure: inputs.wheels.pure,
        wheels: &inputs.wheels.files,
        requirements: inputs.requirements,
        requirements_size: crate::fsx::metadata(inputs.requirements)?.len(),
        requirements_sha256: &inputs.wheels.requirements_sha256,
    })
}

/// The package version ([`super::version`]), made the target's (`+deb13`, …).
fn version(inputs: &Inputs, changelog: &Changelog) -> Result<String, PlanError> {
    let chosen = super::version::checked(
        inputs.config,
        &inputs.templates.origin,
        inputs.source,
        inputs.version,
        &changelog.top.version,
    )?;
    Ok(inputs.target.version(&chosen.version))
}

/// The one clock: `SOURCE_DATE_EPOCH` if set, else the changelog's top entry.
fn clock(source_date_epoch: Option<&str>, changelog: u64) -> Result<u64, PlanError> {
    match source_date_epoch {
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(PlanError::Clock { value: v.into() }),
        },
        None => Ok(changelog),
    }
}

/// The template context, `installed_size` still 0.
fn context<'a>(inputs: &Inputs<'a>, version: &str, arch: &str, key: &str) -> Context<'a> {
    let cfg = inputs.config;
    let name = &cfg.package.name;
    let paths = Paths::new(name, &cfg.project.root, &pydeps::dir(name, key));
    let programs = super::programs(
        &cfg.project.name,
        &cfg.instances,
        &super::ProgramPaths { share: &paths.share, beat: &paths.beat, source: &paths.source },
    );
    Context {
        package: PackageCtx::new(cfg, version, arch),
        project: &cfg.project,
        paths,
        instances: &cfg.instances,
        web: &cfg.web,
        database: &cfg.database,
        broker: &cfg.broker,
        source: SourceCtx { commit: inputs.source.commit.clone().unwrap_or_default() },
        depends: control::depends(cfg, inputs.target, &pydeps::package_name(name, key)),
        installed_size: 0,
        target: inputs.target,
        programs,
    }
}
