//! The command line. clap lives in this module and nowhere else: each subcommand's arguments are
//! converted into the library's own option types before any work starts.
//!
//! `repo.rs` holds the publishing and version subcommands; this file the build-side ones.

mod repo;

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand};

use crate::build;
use crate::error::{Diagnostic, Error, EXIT_OK};
use crate::report::Stderr;

/// Builds and publishes the cts-server Debian package.
#[derive(Debug, Parser)]
#[command(name = "cts-deb", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    /// Print only errors and warnings on stderr
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

const EXIT_CODES: &str =
    "Exit codes: 0 success; 1 the work failed (I/O, disk full, a tool failed); \
2 usage error; 3 invalid input (config, source, templates, version, .deb); \
4 publish refused (conflicting bytes, older version).";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Build cts-server_VERSION+debN_ARCH.deb for each target release from a config and source
    Build(BuildArgs),
    /// Render every template (conffiles, scripts, control) into a directory for review
    Render(RenderArgs),
    /// Show a .deb's control fields, conffiles, scripts and file list (read by cts-deb itself)
    Inspect(InspectArgs),
    /// Publish .deb files into a signed apt repository
    Publish(repo::PublishArgs),
    /// Manage an apt repository (init, gc)
    Repo(repo::RepoArgs),
    /// Debian version strings (compare with dpkg semantics)
    Version(repo::VersionArgs),
    /// Print a shell completion script
    Completions(CompletionsArgs),
    /// Print the man page (roff)
    Man,
}

/// Where the configuration and templates come from.
#[derive(Debug, clap::Args)]
pub struct InputArgs {
    /// The cts.toml to use [default: the embedded reference config, examples/cts.toml]
    #[arg(long, short, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Application source directory (overrides the config's source table)
    #[arg(long, value_name = "DIR")]
    pub source: Option<PathBuf>,
    /// Package version (overrides the config and debian/changelog)
    #[arg(long = "version", value_name = "V")]
    pub pkg_version: Option<String>,
    /// Template directory with conffiles/, maintscripts/, files/ and debian/ [default: embedded]
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Wheel cache directory [default: $XDG_CACHE_HOME/cts-deb/wheels or ~/.cache/cts-deb/wheels]
    #[arg(long, value_name = "DIR", env = "CTS_DEB_WHEEL_CACHE")]
    pub wheel_cache: Option<PathBuf>,
    /// Cache of finished Python dependencies packages, reused while the requirements do not
    /// change [default: $XDG_CACHE_HOME/cts-deb/debs or ~/.cache/cts-deb/debs]
    #[arg(long, value_name = "DIR", env = "CTS_DEB_PACKAGE_CACHE")]
    pub package_cache: Option<PathBuf>,
    /// Build every package from scratch: neither read nor fill the package cache (wins over
    /// --package-cache and CTS_DEB_PACKAGE_CACHE, so that it works with the variable set)
    #[arg(long)]
    pub no_package_cache: bool,
    /// Only this Debian release of package.targets (bookworm, trixie) [default: all of them]
    #[arg(long, value_name = "CODENAME")]
    pub target: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Directory the .deb is written to
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub out: PathBuf,
    /// Print the results (one object per package) as JSON instead of one path per line
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Directory the rendered tree is written to (must not exist yet, or be empty)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The .deb to read
    #[arg(value_name = "FILE.deb")]
    pub file: PathBuf,
    /// Print JSON instead of text
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to generate for
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    let reporter = Stderr { quiet: cli.quiet };
    let result = match cli.command {
        Command::Build(args) => build(args, &reporter),
        Command::Render(args) => render(args, &reporter),
        Command::Inspect(args) => inspect(args),
        Command::Publish(args) => return repo::publish(args, &reporter),
        Command::Repo(args) => return repo::repo(args, &reporter),
        Command::Version(args) => return repo::version(args),
        Command::Completions(args) => {
            clap_complete::generate(
                args.shell,
                &mut Cli::command(),
                "cts-deb",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Man => clap_mangen::Man::new(Cli::command())
            .render(&mut std::io::stdout())
            .map_err(Error::ManPage),
    };
    match result {
        Ok(()) => EXIT_OK,
        Err(e) => report_error(&e),
    }
}

/// The one error printer of every subcommand: prints [`error_text`] on stderr and returns the
/// error's exit code.
fn report_error(e: &dyn Diagnostic) -> i32 {
    eprint!("{}", error_text(e));
    e.exit_code()
}

/// The error and its cause chain on one line, as ripgrep does (a cause whose text the line
/// already holds is left out), then one `note:` line per hint, as cargo-deb does.
fn error_text(e: &dyn Diagnostic) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    let mut out = format!("cts-deb: error: {msg}\n");
    for note in e.notes() {
        out.push_str(&format!("cts-deb: note: {note}\n"));
    }
    out
}

impl InputArgs {
    fn into_options(self) -> build::InputOptions {
        build::InputOptions {
            config: self.config,
            source: self.source,
            version: self.pkg_version,
            templates: self.templates,
            wheel_cache: self.wheel_cache.unwrap_or_else(build::default_wheel_cache),
            package_cache: match self.no_package_cache {
                true => None,
                false => self.package_cache.or_else(build::default_package_cache),
            },
            target: self.target,
        }
    }
}

fn build(args: BuildArgs, reporter: &Stderr) -> crate::error::Result<()> {
    let opts = args.input.into_options();
    let results = build::build(&opts, &args.out, reporter)?;
    if args.json {
        let json = serde_json::to_string_pretty(&results).map_err(Error::Json)?;
        println!("{json}");
    } else {
        for r in &results {
            println!("{}", r.path.display());
        }
    }
    Ok(())
}

fn render(args: RenderArgs, reporter: &Stderr) -> crate::error::Result<()> {
    let opts = args.input.into_options();
    build::render(&opts, &args.out, reporter)?;
    println!("{}", args.out.display());
    Ok(())
}

fn inspect(args: InspectArgs) -> crate::error::Result<()> {
    let info = crate::deb::read_deb(&args.file)?;
    if args.json {
        let json = serde_json::to_string_pretty(&info).map_err(Error::Json)?;
        println!("{json}");
    } else {
        print!("{}", info.to_text());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer {
        #[source]
        inner: Inner,
    }

    #[derive(Debug, thiserror::Error)]
    #[error("inner")]
    struct Inner;

    impl Diagnostic for Outer {
        fn exit_code(&self) -> i32 {
            crate::error::EXIT_INVALID
        }
        fn notes(&self) -> Vec<String> {
            vec!["try this".into()]
        }
    }

    /// One error line with the cause chain, then the notes.
    #[test]
    fn error_text_chains_causes_and_prints_notes() {
        let e = Outer { inner: Inner };
        assert_eq!(error_text(&e), "cts-deb: error: outer: inner\ncts-deb: note: try this\n");
        assert_eq!(report_error(&e), crate::error::EXIT_INVALID);
    }

    /// clap's own consistency checks, over every subcommand.
    #[test]
    fn definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    /// Every subcommand and every argument carries help text (it feeds --help, the man page and
    /// the completions).
    #[test]
    fn every_subcommand_and_argument_has_help() {
        fn walk(cmd: &clap::Command, path: &str) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" {
                    continue;
                }
                assert!(arg.get_help().is_some(), "{path} --{id} has no help");
            }
            for sub in cmd.get_subcommands() {
                if sub.get_name() == "help" {
                    continue;
                }
                assert!(sub.get_about().is_some(), "{path} {} has no about", sub.get_name());
                walk(sub, &format!("{path} {}", sub.get_name()));
            }
        }
        walk(&Cli::command(), "cts-deb");
    }
}
