//! Development tool behind `scripts/bench-build`: builds a `.deb` from a dpkg-deb-style staged
//! directory (`DEBIAN/control` + the payload tree) with cts-deb's writer, so that cts-deb and
//! `dpkg-deb --build` can be timed on the same input. Not shipped in the package.
//!
//! Usage: `cts-deb-bench STAGED_DIR OUT_DIR [--threads N] [--preset N] [--block-mib N]`.
//! The timestamp is `SOURCE_DATE_EPOCH` (default 1700000000). Prints the path of the .deb.

use std::path::PathBuf;
use std::process::ExitCode;

use cts_deb::deb::{self, staged, WriteOptions};
use cts_deb::report::Stderr;

const USAGE: &str =
    "usage: cts-deb-bench STAGED_DIR OUT_DIR [--threads N] [--preset N] [--block-mib N]";

struct Args {
    staged: PathBuf,
    out: PathBuf,
    options: WriteOptions,
}

fn parse_args() -> Result<Args, String> {
    let mut positional = Vec::new();
    let mut options = WriteOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |flag: &str| -> Result<u64, String> {
            let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
            value.parse().map_err(|_| format!("{flag}: `{value}` is not a number"))
        };
        let small = |n: u64| u32::try_from(n).map_err(|_| format!("{n} is too large"));
        match arg.as_str() {
            "--threads" => options.xz.threads = small(number("--threads")?)?,
            "--preset" => options.xz.preset = small(number("--preset")?)?,
            "--block-mib" => options.xz.block_size = number("--block-mib")? << 20,
            "-h" | "--help" => return Err(USAGE.to_string()),
            flag if flag.starts_with('-') => return Err(format!("unknown option {flag}")),
            _ => positional.push(PathBuf::from(arg)),
        }
    }
    match <[PathBuf; 2]>::try_from(positional) {
        Ok([staged, out]) => Ok(Args { staged, out, options }),
        Err(_) => Err(USAGE.to_string()),
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("{msg}");
            return ExitCode::from(2);
        }
    };
    let mtime = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_700_000_000);
    let result = staged::plan_from_staged_dir(&args.staged, mtime).and_then(|plan| {
        deb::write_deb_with(&plan, &args.out, &args.options, &Stderr { quiet: false })
    });
    match result {
        Ok(path) => {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cts-deb-bench: error: {e}");
            ExitCode::FAILURE
        }
    }
}
