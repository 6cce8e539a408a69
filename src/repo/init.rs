//! `cts-deb repo init`: writes the repository configuration (or adds a suite to it), optionally
//! generates an Ed25519 signing key, writes empty signed indices so `apt update` works at once,
//! and returns a deb822 `.sources` stanza with the public key embedded in `Signed-By:`.

use std::collections::BTreeMap;
use std::path::PathBuf;

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

pub fn init(opts: &InitOptions, reporter: &dyn Reporter) -> Result<InitReport> {
    let layout = Layout::new(&opts.repo);
    check_path_name("suite", &opts.suite)?;
    let codename = opts.codename.clone().unwrap_or_else(|| opts.suite.clone());
    if opts.generate_key.is_some() && opts.key.is_some() {
        return Err(RepoError::Usage("pass either --generate-key or --key, not both".into()));
    }
    // An existing key is read and checked before anything is written, so a refused key leaves
    // no trace; its warnings come from the publish below, which loads it again.
    let loaded = match &opts.key {
        Some(path) => Some((path, Signer::load(path, &Silent)?)),
        None => None,
    };
    fsx::create_dir_all(&layout.root)?;
    let key_file = {
        let _lock = RepoLock::acquire(&layout.lock(), reporter)?;
        let mut config = if layout.config().exists() {
            let existing = RepoConfig::load(&layout)?;
            for (what, old, new) in [
                ("Origin", &existing.origin, &opts.origin),
                ("Label", &existing.label, &opts.label),
            ] {
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
            existing
        } else {
            RepoConfig {
                origin: opts.origin.clone(),
                label: opts.label.clone(),
                description: None,
                architectures: DEFAULT_ARCHITECTURES.iter().map(|s| s.to_string()).collect(),
                components: vec!["main".into()],
                signing_key: None,
                suites: BTreeMap::new(),
            }
        };
        if let Some(a) = &opts.architectures {
            config.architectures = a.clone();
        }
        if let Some(c) = &opts.components {
            config.components = c.clone();
        }
        if opts.description.is_some() {
            config.description = opts.description.clone();
        }
        config.suites.insert(opts.suite.clone(), SuiteConfig { codename });
        config.check(&layout.config())?;

        let key_file = match (&opts.generate_key, &loaded) {
            (Some(path), _) => {
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
                register_key(&layout, &mut config, &signer)?;
                reporter.info(&format!(
                    "generated Ed25519 key {} into {}",
                    signer.fingerprint(),
                    path.display()
                ));
                Some(path.clone())
            }
            (None, Some((path, signer))) => {
                signer.expect(path, config.signing_key.as_deref())?;
                register_key(&layout, &mut config, signer)?;
                Some(path.to_path_buf())
            }
            (None, None) => None,
        };
        config.save(&layout)?;
        key_file
    };

    // Empty (or current) indices and a signed Release, so clients can update right away.
    let config = RepoConfig::load(&layout)?;
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
