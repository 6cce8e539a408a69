//! Builds a [`PackagePlan`] from a resolved config, the templates, the source tree and the
//! wheelhouse. Pure apart from reading file sizes: nothing is written here, so every input error
//! surfaces before the output directory is touched.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use super::{installed_size_kib, ControlMember, Entry, EntryKind, FileSource, PackagePlan};
use crate::config::{Broker, Config, Database, Instance, Project, Web};
use crate::render::{
    self, InstanceCtx, PathNames, Rendered, Target as Dest, TemplateError, TemplateSet,
};
use crate::source::{SourceKind, SourceTree};
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

/// The wheelhouse as the planner needs it.
#[derive(Debug, Clone)]
pub struct Wheels {
    /// Wheel files, sorted by file name.
    pub files: Vec<PathBuf>,
    /// Every wheel is `none-any`: the package can be `Architecture: all`.
    pub pure: bool,
}

/// What the planner reads.
pub struct Inputs<'a> {
    pub config: &'a Config,
    pub templates: &'a TemplateSet,
    pub source: &'a SourceTree,
    pub wheels: &'a Wheels,
    /// `--version`, overriding the config and the changelog.
    pub version: Option<&'a str>,
    /// `SOURCE_DATE_EPOCH` as found in the environment.
    pub source_date_epoch: Option<&'a str>,
    /// Debian architecture of the build host, used when a wheel is not pure.
    pub host_arch: &'a str,
    /// The Debian release this package is for (one of `config.package.targets`).
    pub target: &'a Target,
}

/// A plan plus the rendered templates (for `cts-deb render`).
pub struct Planned {
    pub plan: PackagePlan,
    pub rendered: Vec<Rendered>,
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
struct PackageCtx {
    name: String,
    version: String,
    arch: String,
    maintainer: String,
    section: String,
    priority: String,
    synopsis: String,
    /// The Description field value: synopsis, then folded extended lines.
    description: String,
}

#[derive(Serialize)]
struct Paths {
    share: String,
    app: String,
    wheels: String,
    requirements: String,
    etc: String,
    state: String,
    beat: String,
    backups: String,
    setup: String,
    source: String,
    env: String,
    log: String,
    #[serde(rename = "static")]
    static_: String,
    media: String,
    ssl: String,
}

#[derive(Serialize)]
struct SourceCtx {
    commit: String,
}

/// Decides everything about the package.
pub fn plan(inputs: &Inputs) -> Result<Planned, PlanError> {
    let cfg = inputs.config;
    let origin = inputs.templates.origin.clone();
    let changelog_text = inputs.templates.get("debian/changelog").ok_or_else(|| {
        PlanError::Changelog { origin: origin.clone(), message: "missing".into() }
    })?;
    let top = crate::changelog::top_entry(changelog_text)
        .map_err(|message| PlanError::Changelog { origin: origin.clone(), message })?;

    let (version, version_origin) = match (inputs.version, &cfg.package.version) {
        (Some(v), _) => (v.to_string(), "--version".to_string()),
        (None, Some(v)) => (v.clone(), format!("{}: package.version", cfg.file.display())),
        (None, None) => (top.version.clone(), format!("{origin}/debian/changelog")),
    };
    crate::config::check_version(&version)
        .map_err(|message| PlanError::Version { origin: version_origin, message })?;
    let version = inputs.target.version(&version);

    let mtime = match inputs.source_date_epoch {
        Some(v) => match v.trim().parse::<u64>() {
            Ok(n) if n > 0 => n,
            _ => return Err(PlanError::Clock { value: v.into() }),
        },
        None => top.timestamp,
    };

    let name = cfg.package.name.clone();
    let arch = if inputs.wheels.pure { "all".to_string() } else { inputs.host_arch.to_string() };
    let share = format!("/usr/share/{name}");
    let root = &cfg.project.root;
    let paths = Paths {
        app: format!("{share}/app"),
        wheels: format!("{share}/wheels"),
        requirements: format!("{share}/requirements.txt"),
        etc: format!("/etc/{name}"),
        state: format!("/var/lib/{name}"),
        beat: format!("/var/lib/{name}/beat"),
        backups: format!("/var/backups/{name}"),
        setup: format!("/usr/sbin/{name}-setup"),
        source: format!("{root}/source"),
        env: format!("{root}/env"),
        log: format!("{root}/log"),
        static_: format!("{root}/public/static"),
        media: format!("{root}/public/media"),
        ssl: format!("{root}/ssl"),
        share,
    };
    let programs = super::programs(
        &cfg.project.name,
        &cfg.instances,
        &super::ProgramPaths { share: &paths.share, beat: &paths.beat },
    );
    let mut context = Context {
        package: PackageCtx {
            name: name.clone(),
            version: version.clone(),
            arch: arch.clone(),
            maintainer: cfg.package.maintainer.clone(),
            section: cfg.package.section.clone(),
            priority: cfg.package.priority.clone(),
            synopsis: cfg.package.synopsis.clone(),
            description: fold_description(&cfg.package.synopsis, &cfg.package.extended),
        },
        project: &cfg.project,
        paths,
        instances: &cfg.instances,
        web: &cfg.web,
        database: &cfg.database,
        broker: &cfg.broker,
        source: SourceCtx { commit: inputs.source.commit.clone().unwrap_or_default() },
        depends: depends(cfg, inputs.target, inputs.wheels.pure),
        installed_size: 0,
        target: inputs.target,
        programs,
    };

    let instance_ctx: Vec<InstanceCtx<'_, Instance>> =
        cfg.instances.iter().map(|i| InstanceCtx { name: &i.name, value: i }).collect();
    let names = PathNames { package: &name, project: &cfg.project.name };
    let engine = render::Engine::new(inputs.templates)?;
    let rendered = engine.render_all(&context, &names, &instance_ctx)?;

    let mut files = Files::default();
    let share_rel = format!("usr/share/{name}");
    for f in &inputs.source.files {
        let path = format!("{share_rel}/app/{}", f.rel);
        let from = inputs.source.root.join(&f.rel);
        match &f.kind {
            SourceKind::Dir => files.dir(&path),
            SourceKind::File { size, executable } => {
                let mode = if *executable { 0o755 } else { 0o644 };
                files.add(path, mode, disk(from, *size), "the source")?;
            }
            SourceKind::Symlink { target } => files.add(
                path,
                0o777,
                EntryKind::Symlink { target: target.clone() },
                "the source",
            )?,
        }
    }
    files.dir(&format!("{share_rel}/app"));
    for wheel in &inputs.wheels.files {
        let file_name = wheel.file_name().unwrap_or_default().to_string_lossy();
        let size = crate::fsx::metadata(wheel)?.len();
        files.add(
            format!("{share_rel}/wheels/{file_name}"),
            0o644,
            disk(wheel.clone(), size),
            "the wheelhouse",
        )?;
    }
    let req_size = crate::fsx::metadata(&cfg.requirements)?.len();
    files.add(
        format!("{share_rel}/requirements.txt"),
        0o644,
        disk(cfg.requirements.clone(), req_size),
        "python.requirements",
    )?;
    if let Some(commit) = &inputs.source.commit {
        files.add(
            format!("{share_rel}/source-commit"),
            0o644,
            bytes(format!("{commit}\n").into_bytes()),
            "source.git",
        )?;
    }
    let mut conffiles = Vec::new();
    let mut scripts = Vec::new();
    for r in &rendered {
        match r.target {
            Dest::Conffile => {
                conffiles.push(format!("/{}", r.path));
                files.add(r.path.clone(), 0o644, bytes(r.contents.clone()), &r.template)?;
            }
            Dest::File if r.path.starts_with("usr/share/man/") => {
                // Man pages ship gzip'd (`gzip -9n`), as Policy 12.1 asks.
                let path = format!("{}.gz", r.path.trim_end_matches(".gz"));
                files.add(path, 0o644, bytes(gzip_n(&r.contents)), &r.template)?;
            }
            Dest::File => {
                let exec = r.path.starts_with("usr/sbin/")
                    || r.path.starts_with("usr/bin/")
                    || r.path.split('/').rev().nth(1) == Some("bin");
                let mode = if exec { 0o755 } else { 0o644 };
                files.add(r.path.clone(), mode, bytes(r.contents.clone()), &r.template)?;
            }
            Dest::Script => scripts.push(ControlMember {
                name: r.path.clone(),
                // `triggers` is data for dpkg; the scripts are executables.
                mode: if r.path == "triggers" { 0o644 } else { 0o755 },
                contents: r.contents.clone(),
            }),
        }
    }
    let doc = format!("usr/share/doc/{name}");
    let copyright =
        inputs.templates.get("debian/copyright").ok_or_else(|| TemplateError::Layout {
            template: format!("{origin}/debian/copyright"),
            message: "missing: every package needs a copyright file".into(),
        })?;
    files.add(
        format!("{doc}/copyright"),
        0o644,
        bytes(copyright.as_bytes().to_vec()),
        "debian/copyright",
    )?;
    let changelog_name = if version.contains('-') { "changelog.Debian.gz" } else { "changelog.gz" };
    files.add(
        format!("{doc}/{changelog_name}"),
        0o644,
        bytes(gzip_n(changelog_text.as_bytes())),
        "debian/changelog",
    )?;

    let entries = files.into_entries();
    context.installed_size = installed_size_kib(&entries);
    let control_template = "debian/control.tera";
    let control_text = engine.render_one(control_template, &context)?;
    let control = parse_control(&control_text).map_err(|message| PlanError::Control {
        template: format!("{origin}/{control_template}"),
        message,
    })?;
    let upstream_and_rev = version.split_once(':').map_or(version.as_str(), |(_, v)| v);
    let file_name = format!("{name}_{upstream_and_rev}_{arch}.deb");
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
        rendered,
    })
}

fn disk(path: PathBuf, size: u64) -> EntryKind {
    EntryKind::File { source: FileSource::Disk(path), size }
}

fn bytes(b: Vec<u8>) -> EntryKind {
    let size = b.len() as u64;
    EntryKind::File { source: FileSource::Bytes(b), size }
}

/// The package's Depends: what the stack and the maintainer scripts need, what the target's
/// templates need, then the user's extras in the order given. A remote database or broker needs
/// only its client side. Impure wheels pin the interpreter's minor version they were made for.
fn depends(cfg: &Config, target: &Target, pure_wheels: bool) -> Vec<String> {
    let mut d: Vec<String> = vec!["nginx".into()];
    d.push(if cfg.database.local { "postgresql" } else { "postgresql-client" }.into());
    if cfg.broker.local {
        d.push("rabbitmq-server".into());
    }
    for p in [
        "supervisor",
        "python3",
        "python3-venv",
        "adduser",
        "ssl-cert",
        "libpq5",
        "openssl",
        "logrotate",
    ] {
        d.push(p.into());
    }
    let mut versioned: Vec<String> = target.depends.iter().map(|s| s.to_string()).collect();
    if !pure_wheels {
        let (major, minor) = target.python.split_once('.').unwrap_or((target.python, "0"));
        let next = minor.parse::<u32>().map_or(0, |m| m + 1);
        versioned.push(format!("python3 (>= {major}.{minor})"));
        versioned.push(format!("python3 (<< {major}.{next})"));
    }
    // A versioned relation takes the place of the plain one on the same package.
    for rel in versioned {
        let name = rel.split_whitespace().next().unwrap_or_default().to_string();
        match d.iter().position(|x| *x == name) {
            Some(i) => d[i] = rel,
            None => d.push(rel),
        }
    }
    for extra in &cfg.package.depends {
        if !d.contains(extra) {
            d.push(extra.clone());
        }
    }
    d
}

/// `Description:` value: the synopsis, then each extended line with a leading space; an empty
/// line becomes ` .` (a truly blank line would end the stanza).
fn fold_description(synopsis: &str, extended: &[String]) -> String {
    let mut lines: Vec<&str> = extended.iter().map(String::as_str).collect();
    while lines.last() == Some(&"") {
        lines.pop();
    }
    let mut out = synopsis.to_string();
    let mut prev_empty = true;
    for l in lines {
        if l.is_empty() {
            if !prev_empty {
                out.push_str("\n .");
            }
            prev_empty = true;
        } else {
            out.push_str("\n ");
            out.push_str(l);
            prev_empty = false;
        }
    }
    out
}

/// Parses a rendered control file into ordered fields and checks that the required ones are set
/// and that every relation field parses (a template's Depends as much as the config's).
fn parse_control(text: &str) -> Result<Vec<(String, String)>, String> {
    let fields = crate::deb822::parse_paragraph(text)?;
    for required in ["Package", "Version", "Architecture", "Maintainer", "Description"] {
        match fields.iter().find(|(k, _)| k == required) {
            Some((_, v)) if !v.is_empty() => {}
            _ => return Err(format!("required field `{required}` is missing or empty")),
        }
    }
    crate::deb822::check_relation_fields(&fields)?;
    Ok(fields)
}

/// gzip with `-9 -n` semantics: no file name, mtime 0 — the same bytes on every build.
fn gzip_n(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(3)
        .write(Vec::new(), flate2::Compression::best());
    enc.write_all(data).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

/// Collects entries, adds every parent directory, refuses two sources for one path. Keyed by path,
/// so conflicts are found at once and the result comes out in byte order.
#[derive(Default)]
struct Files {
    /// Path → (entry, where it came from, for conflict messages).
    entries: BTreeMap<String, (Entry, String)>,
    dirs: BTreeSet<String>,
}

impl Files {
    /// Records `path` and its ancestors as directories (stops at the first one already known).
    fn dir(&mut self, path: &str) {
        let mut p = path;
        while self.dirs.insert(p.to_string()) {
            match p.rsplit_once('/') {
                Some((parent, _)) => p = parent,
                None => break,
            }
        }
    }

    fn add(
        &mut self,
        path: String,
        mode: u32,
        kind: EntryKind,
        from: &str,
    ) -> Result<(), PlanError> {
        if let Some((_, first)) = self.entries.get(&path) {
            return Err(PlanError::Conflict { path, first: first.clone(), second: from.into() });
        }
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.dir(parent);
        }
        self.entries.insert(path.clone(), (Entry { path, mode, kind }, from.to_string()));
        Ok(())
    }

    fn into_entries(self) -> Vec<Entry> {
        let mut entries = self.entries;
        for d in self.dirs {
            entries.entry(d.clone()).or_insert_with(|| {
                (Entry { path: d, mode: 0o755, kind: EntryKind::Dir }, String::new())
            });
        }
        entries.into_values().map(|(e, _)| e).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn description_folding() {
        let ext = vec!["one".to_string(), "".into(), "two".into(), "".into()];
        assert_eq!(fold_description("Syn", &ext), "Syn\n one\n .\n two");
    }

    #[test]
    fn control_parsing() {
        let ok = "Package: a\nVersion: 1\nArchitecture: all\nMaintainer: x <y@z>\n\
                  Description: s\n long\n";
        assert_eq!(parse_control(ok).unwrap().len(), 5);
        assert!(parse_control("Package: a\n\nVersion: 1\n").unwrap_err().contains("empty"));
        assert!(parse_control("Package: a\nPackage: b\n").unwrap_err().contains("twice"));
        let junk = format!("{ok}Depends: nginx, memcached junk\n");
        assert!(parse_control(&junk).unwrap_err().contains("field `Depends`"));
    }

    #[test]
    fn gzip_is_deterministic() {
        assert_eq!(gzip_n(b"hello"), gzip_n(b"hello"));
        assert_eq!(&gzip_n(b"hello")[4..8], &[0, 0, 0, 0]);
    }
}
