//! The top-level error of the build side: one variant per layer, each carrying that layer's typed
//! error unchanged (so the CLI can print the whole cause chain), and the exit code the CLI returns
//! for it (documented in the README and `cts-deb --help`). [`Diagnostic`] is what the one CLI
//! printer needs from this and from [`crate::repo::RepoError`].

use crate::build::ArgumentError;
use crate::config::ConfigError;
use crate::deb::DebError;
use crate::fsx::FsError;
use crate::plan::PlanError;
use crate::render::TemplateError;
use crate::source::SourceError;
use crate::wheels::WheelError;

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
    Config(#[from] ConfigError),
    /// The config file could not be read: invalid input, unlike other I/O (no `#[from]`, so a
    /// plain `?` on an [`FsError`] never lands here by accident).
    #[error(transparent)]
    ConfigFile(FsError),
    /// I/O while working: the output directory, the embedded defaults, hashing the result.
    #[error(transparent)]
    Fs(#[from] FsError),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Wheels(#[from] WheelError),
    #[error(transparent)]
    Deb(#[from] DebError),
    #[error(transparent)]
    Argument(#[from] ArgumentError),
    #[error("failed to write the man page: {0}")]
    ManPage(#[source] std::io::Error),
    #[error("cannot encode the result as JSON: {0}")]
    Json(#[source] serde_json::Error),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            // Everything the config, the source, the templates and the plan refuse is the
            // input's fault, including a file among them that cannot be read.
            Error::Config(_)
            | Error::ConfigFile(_)
            | Error::Source(_)
            | Error::Template(_)
            | Error::Plan(_)
            | Error::Argument(_) => EXIT_INVALID,
            Error::Wheels(e) => invalid_or_failure(e.is_invalid_input()),
            Error::Deb(e) => invalid_or_failure(e.is_invalid_input()),
            Error::Fs(_) | Error::ManPage(_) | Error::Json(_) => EXIT_FAILURE,
        }
    }
}

fn invalid_or_failure(invalid: bool) -> i32 {
    if invalid {
        EXIT_INVALID
    } else {
        EXIT_FAILURE
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// What the CLI's one error printer needs: the cause chain (from [`std::error::Error`]), the
/// exit code, and any `note:` hints to print below the error line.
pub trait Diagnostic: std::error::Error {
    fn exit_code(&self) -> i32;

    /// Hints printed as `note:` lines after the error; none by default.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

impl Diagnostic for Error {
    fn exit_code(&self) -> i32 {
        Error::exit_code(self)
    }
}

impl Diagnostic for crate::repo::RepoError {
    fn exit_code(&self) -> i32 {
        crate::repo::RepoError::exit_code(self)
    }
}
