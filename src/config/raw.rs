//! The declared shape of `cts.toml`, exactly as written by the user: every table rejects unknown
//! keys, optional keys stay `Option` here and are resolved (defaults, checks) in [`super::resolve`].

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub package: RawPackage,
    pub project: RawProject,
    #[serde(rename = "instance")]
    pub instances: Vec<RawInstance>,
    pub web: RawWeb,
    #[serde(default)]
    pub database: RawDatabase,
    #[serde(default)]
    pub broker: RawBroker,
    pub python: RawPython,
    pub source: RawSource,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPackage {
    pub name: Option<String>,
    pub version: Option<String>,
    pub maintainer: String,
    pub description: String,
    pub section: Option<String>,
    pub priority: Option<String>,
    #[serde(default)]
    pub depends: Vec<String>,
    /// Debian releases to build for (codenames); `None`: every release cts-deb knows.
    pub targets: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProject {
    pub name: String,
    pub user: Option<String>,
    pub default_instance: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInstance {
    pub name: String,
    pub prefix: String,
    pub settings_module: String,
    pub gunicorn: RawGunicorn,
    #[serde(default)]
    pub celery: RawCelery,
    #[serde(default)]
    pub database: RawInstanceDatabase,
    #[serde(default)]
    pub broker: RawInstanceBroker,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGunicorn {
    pub workers: u32,
    pub bind: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCelery {
    pub concurrency: Option<u32>,
    pub queue: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInstanceDatabase {
    pub name: Option<String>,
    pub user: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInstanceBroker {
    pub vhost: Option<String>,
    pub user: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeb {
    pub server_names: Vec<String>,
    pub client_max_body_size: Option<String>,
    pub tls: RawTls,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    pub mode: String,
    pub certificate: Option<String>,
    pub key: Option<String>,
}

/// `[database]`: a local server (`host = "local"`) or a remote one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    pub host: Option<String>,
    pub port: Option<u16>,
    #[serde(default)]
    pub extensions: Vec<String>,
}

/// `[broker]`: a local RabbitMQ (`host = "local"`) or a remote one.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBroker {
    pub host: Option<String>,
    pub port: Option<u16>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPython {
    /// A file relative to the config.
    pub requirements: Option<String>,
    /// A file relative to the application source root (see `super::python`).
    pub requirements_in_source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub path: Option<String>,
    pub git: Option<String>,
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
}
