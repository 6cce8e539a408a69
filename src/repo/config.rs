//! The repository's own configuration and where everything lives.
//!
//! `repo init` writes `<repo>/.cts-repo/config.toml`; publish reads it and never changes Origin
//! or Label (a change makes every client's `apt-get update` fail). The `.cts-repo/` directory
//! holds only public data (config, per-suite package database, lock file, compression cache);
//! apt never asks for it, and the web server may serve it or not: nothing secret is in it. The
//! signing key lives outside the repository.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::control::check_path_name;
use super::error::{RepoError, Result};
use crate::fsx;

/// Paths inside one repository root.
#[derive(Debug, Clone)]
pub struct Layout {
    pub root: PathBuf,
}

impl Layout {
    pub fn new(root: &Path) -> Layout {
        Layout { root: root.to_path_buf() }
    }
    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".cts-repo")
    }
    pub fn config(&self) -> PathBuf {
        self.state_dir().join("config.toml")
    }
    pub fn lock(&self) -> PathBuf {
        self.state_dir().join("lock")
    }
    pub fn suite_db(&self, suite: &str) -> PathBuf {
        self.state_dir().join("suites").join(format!("{suite}.db"))
    }
    pub fn suites_dir(&self) -> PathBuf {
        self.state_dir().join("suites")
    }
    pub fn gc_state(&self) -> PathBuf {
        self.state_dir().join("gc.json")
    }
    pub fn chunk_cache(&self) -> PathBuf {
        self.state_dir().join("cache")
    }
    pub fn dists(&self, suite: &str) -> PathBuf {
        self.root.join("dists").join(suite)
    }
    pub fn public_key(&self) -> PathBuf {
        self.root.join("archive-key.asc")
    }
}

/// `.cts-repo/config.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RepoConfig {
    /// Release `Origin:`; fixed at init.
    pub origin: String,
    /// Release `Label:`; fixed at init.
    pub label: String,
    /// Release `Description:`, optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Every `binary-<arch>` index; `all` packages are listed in each.
    pub architectures: Vec<String>,
    pub components: Vec<String>,
    /// Fingerprint of the signing key; publish refuses another key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<String>,
    pub suites: BTreeMap<String, SuiteConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SuiteConfig {
    pub codename: String,
}

impl RepoConfig {
    pub fn load(layout: &Layout) -> Result<RepoConfig> {
        let path = layout.config();
        if !path.exists() {
            return Err(RepoError::Config {
                path,
                message: format!(
                    "no repository configuration; run `cts-deb repo init --repo {}` first",
                    layout.root.display()
                ),
            });
        }
        let text = fsx::read_to_string(&path)?;
        let config: RepoConfig = toml::from_str(&text)
            .map_err(|e| RepoError::ConfigParse { path: path.clone(), source: Box::new(e) })?;
        config.check(&path)?;
        Ok(config)
    }

    pub fn save(&self, layout: &Layout) -> Result<()> {
        let text = toml::to_string_pretty(self).map_err(|e| RepoError::Config {
            path: layout.config(),
            message: format!("cannot serialise: {e}"),
        })?;
        let header = "# cts-deb repository configuration (written by `cts-deb repo init`).\n\
                      # Never change origin or label: apt clients refuse the repository until \
                      their admin\n# passes --allow-releaseinfo-change.\n";
        super::fsio::replace(&layout.config(), format!("{header}{text}").as_bytes())?;
        Ok(())
    }

    pub fn check(&self, path: &Path) -> Result<()> {
        let bad = |message: String| RepoError::Config { path: path.to_path_buf(), message };
        for (what, v) in [("origin", &self.origin), ("label", &self.label)] {
            if v.trim().is_empty() || v.contains('\n') {
                return Err(bad(format!("{what} must be one non-empty line")));
            }
        }
        if self.architectures.is_empty() {
            return Err(bad("architectures must not be empty".into()));
        }
        if self.components.is_empty() {
            return Err(bad("components must not be empty".into()));
        }
        for a in &self.architectures {
            check_path_name("architecture", a)?;
            if a == "all" || a == "source" {
                return Err(bad(format!(
                    "`{a}` is not a binary architecture; `all` packages go into every architecture"
                )));
            }
        }
        for c in &self.components {
            check_path_name("component", c)?;
        }
        for (s, sc) in &self.suites {
            check_path_name("suite", s)?;
            check_path_name("codename", &sc.codename)?;
        }
        Ok(())
    }

    pub fn suite(&self, layout: &Layout, suite: &str) -> Result<&SuiteConfig> {
        self.suites.get(suite).ok_or_else(|| RepoError::Config {
            path: layout.config(),
            message: format!(
                "suite `{suite}` is not configured (configured: {}); add it with `cts-deb repo \
                 init --repo {} --suite {suite}` and the same origin and label",
                self.suites.keys().cloned().collect::<Vec<_>>().join(", "),
                layout.root.display()
            ),
        })
    }
}
