//! Writing and reading `.deb` archives. The writer only serialises a
//! [`crate::plan::PackagePlan`]: it streams every payload file from disk through the tar writer into
//! the xz encoder, computing md5sums on the way, and renames the finished file into place. The
//! reader parses a `.deb` with our own ar/tar code and validates it the way dpkg would.
//!
//! Layout: [`ar`] (outer container), [`tar`] (GNU tar writer), [`compress`] (xz),
//! [`control`] (control.tar text members), `writer` ([`write_deb`]), `reader` ([`read_deb`]),
//! [`staged`] (a dpkg-deb-style staged tree as a plan, for benchmarks and comparisons).

pub mod ar;
pub mod compress;
pub mod control;
mod reader;
#[doc(hidden)]
pub mod staged;
pub mod tar;
mod writer;

use std::io;
use std::path::PathBuf;

use crate::fsx::FsError;

pub use compress::XzOptions;
pub use reader::{
    read_deb, ControlField, ControlMemberInfo, ControlScript, DataEntry, DataKind, DebInfo,
    Md5Line, MemberInfo,
};
pub use writer::{stage_deb, write_deb, write_deb_with, StagedDeb, WriteOptions};

/// Everything that can go wrong writing or reading a `.deb`. Each variant names the path, entry
/// or field it is about.
#[derive(Debug, thiserror::Error)]
pub enum DebError {
    #[error(transparent)]
    Fs(#[from] FsError),
    #[error("failed to read `{}`: {source}", path.display())]
    ReadSource {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to write `{}`: {source}", path.display())]
    WriteOutput {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "`{}` (package path `{entry}`) is {actual} bytes but the plan says {planned}; \
         did it change during the build?",
        path.display()
    )]
    SizeChanged { path: PathBuf, entry: String, planned: u64, actual: u64 },
    #[error("failed to compress {member}: {source}")]
    Compress {
        member: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("package entry `{path}` {reason}")]
    BadEntry { path: String, reason: &'static str },
    #[error("conffile `{path}` {reason}")]
    BadConffile { path: String, reason: &'static str },
    #[error("control field `{field}`: {reason}")]
    BadControlField { field: String, reason: &'static str },
    #[error("control member `{name}` {reason}")]
    BadControlMember { name: String, reason: &'static str },
    #[error("output file name `{name}` {reason}")]
    BadFileName { name: String, reason: &'static str },
    #[error("the plan's mtime is 0; dpkg and lintian need one positive timestamp")]
    ZeroMtime,
    #[error("`{}` is not a valid .deb: {detail}", path.display())]
    Invalid { path: PathBuf, detail: String },
}

impl DebError {
    /// True when the input (plan or .deb) is wrong, as opposed to the work failing (I/O).
    pub fn is_invalid_input(&self) -> bool {
        !matches!(
            self,
            DebError::Fs(_)
                | DebError::ReadSource { .. }
                | DebError::WriteOutput { .. }
                | DebError::SizeChanged { .. }
                | DebError::Compress { .. }
        )
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests may use std::fs directly
mod tests;
