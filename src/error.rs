//! The top-level error: one variant per layer, each carrying that layer's typed error, and the
//! exit code the CLI returns for it (documented in the README and `cts-deb --help`).

use crate::fsx::FsError;

/// Exit status: success.
pub const EXIT_OK: i32 = 0;
/// Exit status: the build or publish failed while working (I/O, disk full, a tool failed).
pub const EXIT_FAILURE: i32 = 1;
/// Exit status: the command line is wrong (clap's own code).
pub const EXIT_USAGE: i32 = 2;
/// Exit status: the input is invalid (config, source, requirements, templates, version, .deb).
pub const EXIT_INVALID: i32 = 3;
/// Exit status: publish refused to change the repository (conflicting bytes, older version, lock).
pub const EXIT_REFUSED: i32 = 4;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error(transparent)]
    Fs(#[from] FsError),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Failed(String),
}

impl Error {
    /// Invalid input (exit 3) when `invalid`, otherwise a failure while working (exit 1).
    pub fn classify(invalid: bool, e: impl std::fmt::Display) -> Self {
        if invalid {
            Error::Invalid(e.to_string())
        } else {
            Error::Failed(e.to_string())
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::Invalid(_) => EXIT_INVALID,
            Error::Fs(_) | Error::Failed(_) => EXIT_FAILURE,
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
