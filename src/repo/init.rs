//! `cts-deb repo init`: writes the repository configuration (or adds a suite to it), optionally
//! generates an Ed25519 signing key, writes empty signed indices so `apt update` works at once,
//! and returns a deb822 `.sources` stanza with the public key embedded in `Signed-By:`.
//!
//! **Order of `repo init`** ([`init`] takes these steps in this order, one call each):
//!
//! 1. check the options and load an existing `--key` (`check_options`): `--generate-key` with
//!    `--key`, a bad suite name or a refused key fail here, before anything is written;
//! 2. create the root, take the repository lock and write `.cts-repo/config.toml`
//!    (`write_config`): the existing configuration (its Origin and Label may not change, or
//!    every client's `apt-get update` fails) or a new one, updated with the options and the
//!    suite, then the signing key, generated (`--generate-key`, never replacing one) or
//!    checked against the configuration (`--key`), its public half in `archive-key.asc`;
//! 3. publish empty (or the current) indices and a signed Release (`publish_indices`), so
//!    `apt update` works at once; skipped when the repository has a key but none was given;
//! 4. read the public key back and return the `.sources` stanza (`report`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::config::{Layout, RepoConfig, SuiteConfig};
use super::control::check_path_name;
use super::error::{RepoError, Result};
use super::fsio::{self, RepoLock};
use super::publish::{self, PublishOptions};
use super::sign::Signer;
use crate::fsx;
use crate::report::{Reporter, Silent};

#[derive(Debug, Clone)]
pub struct InitOptions {
    pub repo: PathBuf,
    pub origin: String,
    pub label: String,
    pub suite: String,
    /// Defaults to the suite name.
    pub codename: Option<String>,
    pub description: Option<String>,
    /// `None`: amd64 and arm64 for a new repository, unchanged for an existing one.
    pub architectures: Option<Vec<String>>,
    /// `None`: `main` for a new repository, unchanged for an existing one.
    pub components: Option<Vec<String>>,
    /// Write a new Ed25519 secret key here (armored, mode 0600).
    pub generate_key: Option<PathBuf>,
    /// Use this existing secret key.
    pub key: Option<PathBuf>,
    /// The URI clients use, for the `.sources` stanza; default `file://<repo>`.
    pub uri: Option<String>,
}

#[derive(Debug, Clone)]
pub struct InitReport {
    pub config: PathBuf,
    pub fingerprint: Option<String>,
    /// A ready-to-paste `/etc/apt/sources.list.d/<name>.sources` stanza.
    pub sources: String,
}

pub const DEFAULT_ARCHITECTURES: &[&str] = &["amd64", "arm64"];

/// Runs `repo init`: the steps of the module documentation, in that order, one call each.
pub fn init(opts: &InitOptions, reporter: &dyn Reporter) -> Result<InitReport> {
    let layout = Layout::new(&opts.repo);

    // 1. The options and an existing key, checked before anything is written.
    let loaded = check_options(opts)?;

    // 2. The configuration, under the lock: loaded or new, updated, its key set up, saved.
    fsx::create_dir_all(&layout.root)?;
    let key_file = write_config(&layout, opts, loaded, reporter)?;

    // 3. Empty (or current) indices and a signed Release, so clients can update right away.
    let config = RepoConfig::load(&layout)?;
    publish_indices(opts, &config, key_file, reporter)?;

    // 4. The report, with the `.sources` stanza for clients.
    report(&layout, opts, &config)
}

/// Step 1: checks the options and loads `--key` before any write, so a refused key leaves no trace.
fn check_options(opts: &InitOptions) -> Result<Option<(&Path, Signer)>> {
    check_path_name("suite", &opts.suite)?;
    if opts.generate_key.is_some() && opts.key.is_some() {
        return Err(RepoError::Usage("pass either --generate-key or --key, not both".into()));
    }
    // Loaded silently: its warnings come from the publish in step 3, which loads it again.
    match &opts.key {
        Some(path) => Ok(Some((path.as_path(), Signer::load(path, &Silent)?))),
        None => Ok(None),
    }
}

/// Step 2: under the lock, updates and saves the configuration; returns the key file to sign with.
fn write_config(
    layout: &Layout,
    opts: &InitOptions,
    loaded: Option<(&Path, Signer)>,
    reporter: &dyn Reporter,
) -> Result<Option<PathBuf>> {
    let _lock = RepoLock::acquire(&layout.lock(), reporter)?;
    let mut config = load_or_new_config(layout, opts)?;
    apply_options(&mut config, opts, &layout.config())?;
    let key_file = set_up_key(layout, &mut config, opts, loaded, reporter)?;
    config.save(layout)?;
    Ok(key_file)
}

/// Loads the configuration, refusing an Origin or Label change clients would reject, or starts one.
fn load_or_new_config(layout: &Layout, opts: &InitOptions) -> Result<RepoConfig> {
    if !layout.config().exists() {
        return Ok(RepoConfig {
            origin: opts.origin.clone(),
            label: opts.label.clone(),
            description: None,
            architectures: DEFAULT_ARCHITECTURES.iter().map(|s| s.to_string()).collect(),
            components: vec!["main".into()],
            signing_key: None,
            suites: BTreeMap::new(),
        });
    }
    let existing = RepoConfig::load(layout)?;
    for (what, old, new) in
        [("Origin", &existing.origin, &opts.origin), ("Label", &existing.label, &opts.label)]
    {
        if old != new {
            return Err(RepoError::Config {
                path: layout.config(),
                message: format!(
                    "{what} is `{old}`; changing it to `{new}` would make every client's \
                     apt-get update fail until its admin passes --allow-releaseinfo-change"
                ),
            });
        }
    }
    Ok(existing)
}

/// Applies the options given and adds the suite, then checks the result before it is saved.
fn apply_options(config: &mut RepoConfig, opts: &InitOptions, path: &Path) -> Result<()> {
    if let Some(a) = &opts.architectures {
        config.architectures = a.clone();
    }
    if let Some(c) = &opts.components {
        config.components = c.clone();
    }
    if opts.description.is_some() {
        config.description = opts.description.clone();
    }
    let codename = opts.codename.clone().unwrap_or_else(|| opts.suite.clone());
    config.suites.insert(opts.suite.clone(), SuiteConfig { codename });
    config.check(path)
}

/// Generates a new key or registers the loaded one, so the Release is signed; returns its file.
fn set_up_key(
    layout: &Layout,
    config: &mut RepoConfig,
    opts: &InitOptions,
    loaded: Option<(&Path, Signer)>,
    reporter: &dyn Reporter,
) -> Result<Option<PathBuf>> {
    match (&opts.generate_key, loaded) {
        (Some(path), _) => {
            generate_key(layout, config, path, reporter)?;
            Ok(Some(path.clone()))
        }
        (None, Some((path, signer))) => {
            signer.expect(path, config.signing_key.as_deref())?;
            register_key(layout, config, &signer)?;
            Ok(Some(path.to_path_buf()))
        }
        (None, None) => Ok(None),
    }
}

/// Writes a new Ed25519 secret key (mode 0600) and registers it; never rotates nor overwrites.
fn generate_key(
    layout: &Layout,
    config: &mut RepoConfig,
    path: &Path,
    reporter: &dyn Reporter,
) -> Result<()> {
    if config.signing_key.is_some() {
        return Err(RepoError::Usage(
            "this repository already has a signing key; key rotation is not \
             supported by repo init"
                .into(),
        ));
    }
    if path.exists() {
        return Err(RepoError::Usage(format!(
            "refusing to overwrite `{}` with a new secret key",
            path.display()
        )));
    }
    let signer = Signer::generate(&format!("{} archive signing key", config.label))?;
    fsio::replace_with_mode(path, &signer.export_secret()?, 0o600)?;
    register_key(layout, config, &signer)?;
    reporter.info(&format!(
        "generated Ed25519 key {} into {}",
        signer.fingerprint(),
        path.display()
    ));
    Ok(())
}

/// Step 3: signed indices so `apt update` works at once; skipped if the repo's key is not given.
fn publish_indices(
    opts: &InitOptions,
    config: &RepoConfig,
    key_file: Option<PathBuf>,
    reporter: &dyn Reporter,
) -> Result<()> {
    if key_file.is_some() || config.signing_key.is_none() {
        let publish_opts = PublishOptions {
            repo: opts.repo.clone(),
            suite: opts.suite.clone(),
            component: config.components[0].clone(),
            key: key_file,
            allow_older: false,
            keep_last: None,
            debs: Vec::new(),
        };
        publish::refresh(&publish_opts, reporter)?;
    }
    Ok(())
}

/// Step 4: the report, with a `.sources` stanza that embeds the public key if there is one.
fn report(layout: &Layout, opts: &InitOptions, config: &RepoConfig) -> Result<InitReport> {
    let public = if layout.public_key().exists() {
        Some(fsx::read_to_string(&layout.public_key())?)
    } else {
        None
    };
    let root = fsx::canonicalize(&layout.root)?;
    let uri = opts.uri.clone().unwrap_or_else(|| format!("file://{}", root.display()));
    Ok(InitReport {
        config: layout.config(),
        fingerprint: config.signing_key.clone(),
        sources: sources_stanza(&uri, &opts.suite, &config.components, public.as_deref()),
    })
}

/// Writes the signer's public key to `archive-key.asc` and records its fingerprint in `config`.
fn register_key(layout: &Layout, config: &mut RepoConfig, signer: &Signer) -> Result<()> {
    let public = signer.export_public()?;
    fsio::replace(&layout.public_key(), public.as_bytes())?;
    config.signing_key = Some(signer.fingerprint().to_string());
    Ok(())
}

/// deb822 `.sources` stanza; the armored key is folded into `Signed-By:` (continuation lines
/// start with a space, an empty line becomes ` .`).
pub fn sources_stanza(uri: &str, suite: &str, components: &[String], key: Option<&str>) -> String {
    let mut out =
        format!("Types: deb\nURIs: {uri}\nSuites: {suite}\nComponents: {}\n", components.join(" "));
    match key {
        Some(key) => {
            out.push_str("Signed-By:\n");
            for line in key.trim_end().lines() {
                if line.trim().is_empty() {
                    out.push_str(" .\n");
                } else {
                    out.push(' ');
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
        None => out.push_str("Trusted: yes\n"),
    }
    out
}
