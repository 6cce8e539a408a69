//! Step 0 of a publish, under the lock: the configuration, the suite database, whether an
//! earlier publish was interrupted, and the signing key. Everything here is read or checked
//! before any input is, so a wrong suite, component or key fails before any work.

use std::path::{Path, PathBuf};

use super::{sha256_if_exists, PublishOptions};
use crate::repo::config::{Layout, RepoConfig, SuiteConfig};
use crate::repo::db::{Published, SuiteDb};
use crate::repo::error::{RepoError, Result};
use crate::repo::sign::Signer;
use crate::report::Reporter;

/// The repository state a publish starts from.
pub(super) struct Opened {
    pub config: RepoConfig,
    pub suite_config: SuiteConfig,
    /// `dists/<suite>`.
    pub dists: PathBuf,
    pub db_path: PathBuf,
    pub db: SuiteDb,
    /// Every index is rewritten: an earlier publish was interrupted, or this is a refresh.
    pub dirty: bool,
    pub signer: Option<Signer>,
}

/// Loads and checks the state of `opts.suite`; `force` rewrites every index.
pub(super) fn open(
    opts: &PublishOptions,
    layout: &Layout,
    force: bool,
    reporter: &dyn Reporter,
) -> Result<Opened> {
    let config = RepoConfig::load(layout)?;
    let suite_config = config.suite(layout, &opts.suite)?.clone();
    check_component(&config, layout, &opts.component)?;
    let dists = layout.dists(&opts.suite);
    if opts.key.is_none() && (config.signing_key.is_some() || dists.join("InRelease").exists()) {
        return Err(RepoError::Usage(format!(
            "repository `{}` is signed: pass --key FILE",
            layout.root.display()
        )));
    }
    let db_path = layout.suite_db(&opts.suite);
    let db = SuiteDb::load(&db_path)?;
    let dirty = interrupted(&dists, &db, &opts.suite, reporter)? || force;

    // The key is checked (and unlocked) before any work: a wrong key or passphrase fails fast.
    let signer = match &opts.key {
        Some(key) => Some(Signer::load_expecting(key, config.signing_key.as_deref(), reporter)?),
        None => None,
    };
    Ok(Opened { config, suite_config, dists, db_path, db, dirty, signer })
}

fn check_component(config: &RepoConfig, layout: &Layout, component: &str) -> Result<()> {
    if config.components.iter().any(|c| c == component) {
        return Ok(());
    }
    Err(RepoError::Config {
        path: layout.config(),
        message: format!(
            "component `{component}` is not configured (configured: {})",
            config.components.join(", ")
        ),
    })
}

/// Whether the Release files on disk are not the ones the database recorded (an earlier
/// publish was killed after writing the database); warns if so.
fn interrupted(dists: &Path, db: &SuiteDb, suite: &str, reporter: &dyn Reporter) -> Result<bool> {
    let on_disk = Published {
        release: sha256_if_exists(&dists.join("Release"))?,
        release_gpg: sha256_if_exists(&dists.join("Release.gpg"))?,
        inrelease: sha256_if_exists(&dists.join("InRelease"))?,
    };
    let interrupted = on_disk != db.meta.published;
    if interrupted {
        reporter.warn(&format!(
            "the Release files of suite {suite} do not match the package database (an earlier \
             publish was interrupted); rewriting all indices",
        ));
    }
    Ok(interrupted)
}
