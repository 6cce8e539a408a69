//! `cts.toml`: the declarative config. [`parse`] parses it strictly ([`raw`]: unknown keys are
//! rejected) and [`resolve`] turns it into a fully checked [`Config`] with every default filled in.
//! Every error names the file and the key path.

mod check;
mod control;
mod python;
pub mod raw;
mod requirements;
mod reserved;
mod resolve;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use check::version as check_version;
pub use python::requirements_file;
pub use resolve::resolve;

/// An invalid configuration: which file, which key, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub file: PathBuf,
    /// Dotted key path (`instance[1].gunicorn.bind`), or `line L, column C` for syntax errors.
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.key.is_empty() {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}: {}: {}", self.file.display(), self.key, self.message)
        }
    }
}

/// The resolved configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// The file this came from; relative paths in it are relative to its directory.
    pub file: PathBuf,
    pub package: Package,
    pub project: Project,
    pub instances: Vec<Instance>,
    pub web: Web,
    pub database: Database,
    pub broker: Broker,
    /// Where the pinned requirements file is ([`requirements_file`] finds it).
    pub requirements: Requirements,
    pub source: SourceSpec,
}

#[derive(Debug, Clone, Serialize)]
pub struct Package {
    pub name: String,
    /// `None`: take it from the top entry of debian/changelog.
    pub version: Option<String>,
    pub maintainer: String,
    pub synopsis: String,
    /// Extended description lines (unfolded; an empty string is a paragraph break).
    pub extended: Vec<String>,
    pub section: String,
    pub priority: String,
    pub depends: Vec<String>,
    /// The Debian releases to build for, in [`crate::target::TARGETS`] order, never empty.
    pub targets: Vec<crate::target::Target>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Project {
    pub name: String,
    pub root: String,
    pub user: String,
    pub group: String,
    pub default_instance: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Instance {
    pub name: String,
    /// The system user its programs run as (`<project.user>-<name>`), alone able to read its
    /// secrets.
    pub user: String,
    pub prefix: String,
    pub settings_module: String,
    pub gunicorn: Gunicorn,
    pub celery: Celery,
    pub database: InstanceDatabase,
    pub broker: InstanceBroker,
    pub env: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gunicorn {
    pub workers: u32,
    pub bind: String,
    pub host: String,
    pub port: u16,
}

#[derive(Debug, Clone, Serialize)]
pub struct Celery {
    pub concurrency: u32,
    pub queue: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InstanceDatabase {
    pub name: String,
    pub user: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct InstanceBroker {
    pub vhost: String,
    pub user: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Web {
    pub server_names: Vec<String>,
    pub server_name: String,
    pub client_max_body_size: String,
    pub tls: Tls,
}

#[derive(Debug, Clone, Serialize)]
pub struct Tls {
    /// `self-signed` or `provided`.
    pub mode: String,
    pub certificate: String,
    pub key: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Database {
    pub local: bool,
    pub host: String,
    pub port: u16,
    pub extensions: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Broker {
    pub local: bool,
    pub host: String,
    pub port: u16,
}

/// Where the pinned requirements file is.
#[derive(Debug, Clone, Serialize)]
pub enum Requirements {
    /// `python.requirements`: a file beside the config (absolute path), checked on load.
    File(PathBuf),
    /// `python.requirements_in_source`: a path relative to the application source root, below
    /// it; the file is found and checked once the source is resolved.
    InSource(PathBuf),
}

impl Requirements {
    /// The key the operator wrote, for messages.
    pub fn key(&self) -> &'static str {
        match self {
            Requirements::File(_) => python::KEY_FILE,
            Requirements::InSource(_) => python::KEY_IN_SOURCE,
        }
    }
}

/// Where the application source comes from.
#[derive(Debug, Clone, Serialize)]
pub enum SourceSpec {
    /// A directory (absolute).
    Dir(PathBuf),
    /// A git repository and the ref to check out; the commit is recorded in the package.
    Git { url: String, git_ref: String },
}

/// Parses and resolves `path`. `text` is its content (already read by the caller).
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let de = toml::Deserializer::new(text);
    let raw: raw::RawConfig = serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        let inner = e.into_inner();
        let at = inner
            .span()
            .map(|span| {
                let line = text[..span.start].matches('\n').count() + 1;
                let col = span.start - text[..span.start].rfind('\n').map_or(0, |i| i + 1) + 1;
                format!("line {line}, column {col}")
            })
            .unwrap_or_default();
        let key = match (key.as_str(), at.is_empty()) {
            (".", _) | ("", _) => at,
            (_, true) => key,
            (_, false) => format!("{key} ({at})"),
        };
        ConfigError {
            file: path.to_path_buf(),
            key,
            message: inner.message().trim().replace('\n', " "),
        }
    })?;
    resolve(path, raw)
}
