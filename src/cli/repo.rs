//! The repository-side subcommands: `publish`, `repo init|gc`, `version compare|check`.
//! Each converts its clap arguments into the option types of [`crate::repo`]; errors go through
//! the one printer in `cli/mod.rs` (cause chain, notes, [`crate::repo::RepoError::exit_code`]).

use std::path::PathBuf;

use super::report_error;
use crate::error::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
use crate::repo::{self, Outcome};
use crate::report::{Reporter, Stderr};
use crate::version::{Relation, Version};

#[derive(Debug, clap::Args)]
pub struct PublishArgs {
    /// Repository root directory (created by `cts-deb repo init`)
    #[arg(long, value_name = "DIR")]
    pub repo: PathBuf,
    /// Suite (dists/<SUITE>), configured by `repo init`
    #[arg(long, value_name = "NAME")]
    pub suite: String,
    /// Component the packages go into
    #[arg(long, value_name = "NAME", default_value = "main")]
    pub component: String,
    /// Secret signing key (armored or binary); required once the repository is signed
    #[arg(long, value_name = "FILE", env = "CTS_DEB_SIGNING_KEY")]
    pub key: Option<PathBuf>,
    /// Publish a version older than the newest of the same package and architecture
    #[arg(long)]
    pub allow_older: bool,
    /// Keep only the N highest versions (dpkg order) of each published package and architecture
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub keep_last: Option<u32>,
    /// Packages to publish; a directory stands for every *.deb below it
    #[arg(value_name = "FILE.deb|DIR", required = true)]
    pub debs: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RepoArgs {
    #[command(subcommand)]
    pub command: RepoCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum RepoCommand {
    /// Create the repository configuration (or add a suite), optionally with a new Ed25519 key;
    /// prints a deb822 .sources stanza
    Init(Box<InitArgs>),
    /// Remove pool files and by-hash indices unreferenced for longer than the grace period
    Gc(GcArgs),
}

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Repository root directory (created if missing)
    #[arg(long, value_name = "DIR")]
    pub repo: PathBuf,
    /// Release Origin (never change it later)
    #[arg(long, value_name = "TEXT")]
    pub origin: String,
    /// Release Label (never change it later)
    #[arg(long, value_name = "TEXT")]
    pub label: String,
    /// Suite to create (dists/<SUITE>)
    #[arg(long, value_name = "NAME")]
    pub suite: String,
    /// Release Codename [default: the suite name]
    #[arg(long, value_name = "NAME")]
    pub codename: Option<String>,
    /// Release Description
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// Architectures, comma-separated [default for a new repository: amd64,arm64]
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub architectures: Option<Vec<String>>,
    /// Components, comma-separated [default for a new repository: main]
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub components: Option<Vec<String>>,
    /// Generate an Ed25519 signing key and write the armored secret key here (mode 0600)
    #[arg(long, value_name = "FILE", conflicts_with = "key")]
    pub generate_key: Option<PathBuf>,
    /// Use an existing secret key
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// URI clients use, for the printed .sources stanza [default: file://<repo>]
    #[arg(long, value_name = "URI")]
    pub uri: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct GcArgs {
    /// Repository root directory
    #[arg(long, value_name = "DIR")]
    pub repo: PathBuf,
    /// How long a file must have been unreferenced before it is removed (s, m, h, d)
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub grace: String,
    /// Only print what would be removed
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, clap::Args)]
pub struct VersionArgs {
    #[command(subcommand)]
    pub command: VersionCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum VersionCommand {
    /// Compare two versions like `dpkg --compare-versions`: exit 0 if the relation holds,
    /// 1 if not, 2 if a version or the operator is invalid
    Compare {
        /// First version (empty means "no version", lower than any)
        #[arg(value_name = "A", allow_hyphen_values = true)]
        a: String,
        /// One of lt le eq ne ge gt, or << <= = >= >>
        #[arg(value_name = "OP")]
        op: String,
        /// Second version
        #[arg(value_name = "B", allow_hyphen_values = true)]
        b: String,
    },
    /// Check that a version is valid for building a package (dpkg-deb's rules: the upstream
    /// part starts with a digit, only allowed characters); exit 0 if so, 3 if not
    Check {
        #[arg(value_name = "VERSION", allow_hyphen_values = true)]
        version: String,
    },
}

pub fn publish(args: PublishArgs, reporter: &Stderr) -> i32 {
    let opts = repo::PublishOptions {
        repo: args.repo,
        suite: args.suite,
        component: args.component,
        key: args.key,
        allow_older: args.allow_older,
        keep_last: args.keep_last.map(|n| n as usize),
        debs: args.debs,
    };
    match repo::publish(&opts, reporter) {
        Ok(report) => {
            // One write for all pool paths (an import of thousands, line by line, is slow).
            let mut paths = String::new();
            for p in &report.packages {
                let what = match p.outcome {
                    Outcome::Added => "added",
                    Outcome::Unchanged => "unchanged (identical bytes already published)",
                };
                reporter.info(&format!("{} {} ({}): {what}", p.package, p.version, p.architecture));
                paths.push_str(&p.filename);
                paths.push('\n');
            }
            print!("{paths}");
            for r in &report.removed {
                reporter.info(&format!("retention: {r} left the index (kept until repo gc)"));
            }
            if !report.wrote_release {
                reporter.info("repository unchanged");
            }
            EXIT_OK
        }
        Err(e) => report_error(&e),
    }
}

pub fn repo(args: RepoArgs, reporter: &Stderr) -> i32 {
    match args.command {
        RepoCommand::Init(a) => {
            let a = *a;
            let opts = repo::InitOptions {
                repo: a.repo,
                origin: a.origin,
                label: a.label,
                suite: a.suite,
                codename: a.codename,
                description: a.description,
                architectures: a.architectures,
                components: a.components,
                generate_key: a.generate_key,
                key: a.key,
                uri: a.uri,
            };
            match repo::init(&opts, reporter) {
                Ok(report) => {
                    reporter.info(&format!("wrote {}", report.config.display()));
                    if report.fingerprint.is_none() {
                        reporter.warn(
                            "the repository is unsigned: clients must mark it trusted; \
                             use --generate-key or --key",
                        );
                    }
                    print!("{}", report.sources);
                    EXIT_OK
                }
                Err(e) => report_error(&e),
            }
        }
        RepoCommand::Gc(a) => {
            let grace_secs = match repo::gc::parse_duration(&a.grace) {
                Ok(s) => s,
                Err(e) => return report_error(&e),
            };
            let opts = repo::GcOptions { repo: a.repo, grace_secs, dry_run: a.dry_run };
            match repo::gc(&opts, reporter) {
                Ok(report) => {
                    let verb = if a.dry_run { "would remove" } else { "removed" };
                    for r in &report.removed {
                        println!("{r}");
                    }
                    reporter.info(&format!(
                        "{verb} {} file(s); {} unreferenced file(s) still in their grace period; \
                         {} temporary file(s) and {} cache chunk(s) removed",
                        report.removed.len(),
                        report.waiting.len(),
                        report.temp_files_removed,
                        report.cache_chunks_removed
                    ));
                    EXIT_OK
                }
                Err(e) => report_error(&e),
            }
        }
    }
}

/// Exit status of `version compare` when the relation does not hold.
const EXIT_FALSE: i32 = 1;

pub fn version(args: VersionArgs) -> i32 {
    match args.command {
        VersionCommand::Compare { a, op, b } => {
            let Some(relation) = Relation::parse(&op) else {
                eprintln!(
                    "cts-deb: error: unknown relation `{op}`: use lt le eq ne ge gt or << <= = >= >>"
                );
                return EXIT_USAGE;
            };
            // As in dpkg, an empty version (or `<unknown>`) is lower than any version.
            let parse = |s: &str| -> Result<Option<Version>, String> {
                if s.is_empty() || s == "<unknown>" {
                    return Ok(None);
                }
                let v = Version::parse(s).map_err(|e| e.to_string())?;
                if let Some(w) = v.warning() {
                    eprintln!("cts-deb: warning: version `{s}` has bad syntax: {w}");
                }
                Ok(Some(v))
            };
            match (parse(&a), parse(&b)) {
                (Ok(va), Ok(vb)) => {
                    if relation.holds(va.cmp(&vb)) {
                        EXIT_OK
                    } else {
                        EXIT_FALSE
                    }
                }
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("cts-deb: error: {e}");
                    EXIT_USAGE
                }
            }
        }
        VersionCommand::Check { version } => match Version::parse_strict(&version) {
            Ok(v) => {
                println!("{v}");
                EXIT_OK
            }
            Err(e) => {
                eprintln!("cts-deb: error: {e}");
                EXIT_INVALID
            }
        },
    }
}
