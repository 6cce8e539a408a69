//! [`RepoError`]: everything `publish`, `repo init` and `repo gc` can fail with, each variant
//! carrying the path, package or key it is about, and the exit code it maps to.

use std::path::PathBuf;

use crate::error::{EXIT_FAILURE, EXIT_INVALID, EXIT_REFUSED};
use crate::fsx::FsError;
use crate::version::VersionError;

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error(transparent)]
    Fs(#[from] FsError),

    #[error("`{}` is not a valid .deb: {reason}", path.display())]
    InvalidDeb { path: PathBuf, reason: String },

    #[error("`{}`: {source}", path.display())]
    InvalidVersion {
        path: PathBuf,
        #[source]
        source: VersionError,
    },

    #[error(transparent)]
    Conflict(Box<Conflict>),

    #[error(transparent)]
    PoolConflict(Box<PoolConflict>),

    #[error(transparent)]
    Older(Box<Older>),

    #[error(
        "`{}`: architecture {arch} is not one of this repository's architectures ({})",
        path.display(), configured.join(", ")
    )]
    ArchNotConfigured { path: PathBuf, arch: String, configured: Vec<String> },

    #[error("`{}`: {message}", path.display())]
    Config { path: PathBuf, message: String },

    #[error("`{}`: {source}", path.display())]
    ConfigParse {
        path: PathBuf,
        #[source]
        source: Box<toml::de::Error>,
    },

    #[error("`{}`: {source}", path.display())]
    StateParse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    #[error("invalid {what} `{value}`: {reason}")]
    InvalidName { what: &'static str, value: String, reason: &'static str },

    #[error("{0}")]
    Usage(String),

    #[error("signing key `{}` has fingerprint {found}, but this repository is signed by {expected}", path.display())]
    WrongKey { path: PathBuf, expected: String, found: String },

    #[error("signing key `{}`: {reason}", path.display())]
    SigningKey { path: PathBuf, reason: String },

    #[error("cannot {step}: {message}")]
    Sign { step: &'static str, message: String },
}

impl RepoError {
    pub fn exit_code(&self) -> i32 {
        match self {
            RepoError::Fs(_) | RepoError::Sign { .. } => EXIT_FAILURE,
            RepoError::Conflict(_)
            | RepoError::PoolConflict(_)
            | RepoError::Older(_)
            | RepoError::WrongKey { .. } => EXIT_REFUSED,
            RepoError::InvalidDeb { .. }
            | RepoError::InvalidVersion { .. }
            | RepoError::ArchNotConfigured { .. }
            | RepoError::Config { .. }
            | RepoError::ConfigParse { .. }
            | RepoError::StateParse { .. }
            | RepoError::InvalidName { .. }
            | RepoError::SigningKey { .. }
            | RepoError::Usage(_) => EXIT_INVALID,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to publish `{}`: {package} {version} ({arch}) is already in suite {suite} with \
     different bytes (published sha256 {existing_sha256}, new sha256 {new_sha256}); clients \
     cache packages by name, version and architecture, so publish a new version instead",
    path.display()
)]
pub struct Conflict {
    pub path: PathBuf,
    pub suite: String,
    pub package: String,
    pub version: String,
    pub arch: String,
    pub existing_sha256: String,
    pub new_sha256: String,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to publish `{}`: pool file {pool_path} already exists with different bytes \
     (existing sha256 {existing_sha256}, new sha256 {new_sha256})",
    path.display()
)]
pub struct PoolConflict {
    pub path: PathBuf,
    pub pool_path: String,
    pub existing_sha256: String,
    pub new_sha256: String,
}

#[derive(Debug, thiserror::Error)]
#[error(
    "refusing to publish `{}`: {package} {version} ({arch}) is older than {newest}, the \
     newest in suite {suite} (pass --allow-older to publish it anyway)",
    path.display()
)]
pub struct Older {
    pub path: PathBuf,
    pub suite: String,
    pub package: String,
    pub version: String,
    pub arch: String,
    pub newest: String,
}

pub type Result<T> = std::result::Result<T, RepoError>;
