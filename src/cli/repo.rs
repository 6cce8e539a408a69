//! The repository-side subcommands: `publish`, `repo init|gc`, `version compare`.

use std::path::PathBuf;

use crate::error::EXIT_FAILURE;
use crate::report::Stderr;

#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// Repository root directory
    #[arg(long, value_name = "DIR")]
    pub repo: PathBuf,
    /// Suite (dists/<SUITE>)
    #[arg(long, value_name = "NAME")]
    pub suite: String,
    /// Packages to publish
    #[arg(value_name = "FILE.deb", required = true)]
    pub debs: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RepoArgs {}

#[derive(Debug, clap::Args)]
pub struct VersionArgs {}

pub fn publish(_args: PublishArgs, _reporter: &Stderr) -> i32 {
    eprintln!("cts-deb: error: publish is not implemented yet");
    EXIT_FAILURE
}

pub fn repo(_args: RepoArgs, _reporter: &Stderr) -> i32 {
    eprintln!("cts-deb: error: repo is not implemented yet");
    EXIT_FAILURE
}

pub fn version(_args: VersionArgs) -> i32 {
    eprintln!("cts-deb: error: version is not implemented yet");
    EXIT_FAILURE
}
