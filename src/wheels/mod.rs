//! The wheelhouse: every wheel of the application's pinned requirements for one target Python,
//! fetched or built once with pip and then reused offline.
//!
//! Each Debian release the package is built for has its own interpreter ([`PyTarget`]: Debian 12
//! has CPython 3.11 on glibc 2.36, Debian 13 CPython 3.13 on glibc 2.41), and an impure wheel
//! (`cp311-cp311-manylinux…`) only installs on the CPython it was made for. The build host may
//! run any of them, so [`prepare`] picks one of two ways ([`Mode`]):
//!
//! - **[`Mode::Build`]**, when the build interpreter is CPython of the target's major.minor on
//!   the target's machine with a glibc no newer than the target's:
//!   `python -m pip wheel --require-hashes -r REQ -w DIR`. pip takes published wheels as they
//!   are (those for the host, which then install on the target too) and builds the sdist-only
//!   requirements. A wheel built from an sdist carries the host's `linux_<machine>` tag, not a
//!   manylinux one, and is linked against the host's glibc: acceptable because the host's glibc
//!   is then no newer than the target's (any other shared library it links must exist on the
//!   target as well, as for any locally built wheel).
//! - **[`Mode::Download`]**, otherwise: `python -m pip download --only-binary=:all:
//!   --implementation cp --python-version X.Y --abi cpXY --platform … --require-hashes -r REQ
//!   -d DIR`, with every manylinux tag the target accepts ([`platform_tags`]). pip picks
//!   the published wheels for the target, not for itself, and pure `none-any` wheels always fit.
//!   Nothing can be built this way: a requirement without a fitting wheel is a
//!   [`WheelError::NoWheel`] naming the requirement, the target and how to build it instead.
//!
//! Why target tags rather than running the target's pip in a chroot of the target release:
//! building a package then needs no chroot, no root and no debootstrap, and works on any host,
//! whatever its release; published wheels are the same files either way. Only sdists need the
//! target's interpreter, and for those a same-version interpreter is enough (`CTS_DEB_PYTHON`).
//!
//! `--no-deps` is not passed in either mode: pip still resolves the dependencies of every
//! requirement, and `--require-hashes` makes it fail when one is missing from the file, so a
//! requirements file that is not the full closure is refused here rather than at install time.
//! pip evaluates environment markers (`; python_version >= "3.13"`) for the interpreter that
//! runs it, even with `--python-version`; in download mode a requirement pip skipped that way is
//! re-evaluated for the target, and refused ([`WheelError::SkippedByMarker`]) if the target needs
//! it, since the house would lack it (the target's patch level is unknown and taken as `.0`).
//!
//! Every wheel of a house, fresh or cached, must install on the target ([`accepts`]);
//! anything else is refused ([`WheelError::WrongTarget`]) rather than shipped.
//!
//! The cache lives in `cache_root/<key>/`, where the key covers the requirements file's bytes,
//! the target (version, glibc, machine) and the mode (see [`cache_key`]), so the houses of two
//! releases never share a directory. pip writes into a hidden `.partial-<key>-*` directory
//! beside it, which is renamed into place only once pip succeeded and every wheel is on disk and
//! checked, so an interrupted build never leaves a half cache. A later build with the same
//! requirements, target and mode finds the directory and runs no pip at all (only the
//! interpreter probe that decides the mode), and so needs no network.
//!
//! [`Wheelhouse::pure`] says whether every wheel is `none-any` (PEP 427 file names, parsed by
//! [`WheelName::parse`]), i.e. whether the package can be `Architecture: all`; when it is not,
//! the house installs on [`Wheelhouse::python`] alone, and the package must depend on exactly
//! that Python.
//!
//! The interpreter is `python3` from `PATH`, or `$CTS_DEB_PYTHON` when set.

mod tags;

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use sha2::{Digest, Sha256};

use crate::fsx::{self, FsError};
use crate::report::Reporter;

pub use tags::{accepts, platform_tags, WheelName};

/// Environment variable naming the Python interpreter that runs pip (default `python3`).
pub const PYTHON_ENV: &str = "CTS_DEB_PYTHON";

/// How many of pip's last stderr lines a [`WheelError::Pip`] keeps.
const PIP_STDERR_LINES: usize = 20;

/// The interpreter a package's wheels must install on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyTarget {
    /// CPython major.minor, e.g. "3.13".
    pub version: String,
    /// glibc (major, minor) of the target release, e.g. (2, 41): the newest manylinux tag allowed.
    pub glibc: (u32, u32),
    /// The machine name in wheel platform tags: "x86_64", "aarch64", ...
    pub machine: String,
}

impl PyTarget {
    /// N of a `3.N` version.
    fn minor(&self) -> Option<u32> {
        let minor = self.version.strip_prefix("3.")?;
        (!minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()))
            .then(|| minor.parse().ok())
            .flatten()
    }

    /// `cp313` for 3.13 (the interpreter and ABI tag).
    fn cp_tag(&self) -> String {
        format!("cp{}", self.version.replace('.', ""))
    }

    fn check(&self) -> Result<(), String> {
        if self.minor().is_none() {
            return Err(format!("version `{}` is not a CPython 3 major.minor", self.version));
        }
        if self.glibc.0 != 2 {
            return Err(format!(
                "glibc {}.{} is not a glibc 2 version",
                self.glibc.0, self.glibc.1
            ));
        }
        let machine_ok = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
        if self.machine.is_empty() || !self.machine.chars().all(machine_ok) {
            return Err(format!("machine `{}` is not a wheel machine name", self.machine));
        }
        Ok(())
    }

    /// `a Debian 13 host` for the releases whose Python this is, else `a CPython 3.N host`;
    /// `a Debian 13 aarch64 host` `with_machine`.
    fn host_hint(&self, with_machine: bool) -> String {
        let release = match self.version.as_str() {
            "3.11" => "Debian 12".to_string(),
            "3.13" => "Debian 13".to_string(),
            v => format!("CPython {v}"),
        };
        let machine = if with_machine { format!(" {}", self.machine) } else { String::new() };
        format!("a {release}{machine} host")
    }
}

/// The machine name in wheel platform tags ([`PyTarget::machine`]) for a Debian architecture
/// (`dpkg --print-architecture`): `amd64` → `x86_64`, `arm64` → `aarch64`, …; `None` for an
/// architecture manylinux does not cover.
pub fn wheel_machine(debian_arch: &str) -> Option<&'static str> {
    Some(match debian_arch {
        "amd64" => "x86_64",
        "arm64" => "aarch64",
        "i386" => "i686",
        "armhf" => "armv7l",
        "ppc64el" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        _ => return None,
    })
}

/// `CPython 3.13 (manylinux glibc 2.41, x86_64)`.
impl fmt::Display for PyTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (major, minor) = self.glibc;
        write!(f, "CPython {} (manylinux glibc {major}.{minor}, {})", self.version, self.machine)
    }
}

/// How a house is made; part of its cache key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `pip wheel` with a build interpreter that can stand in for the target's: CPython of the
    /// same major.minor on the same machine, linked with a glibc no newer than the target's.
    /// Builds sdists; their wheels carry the host's `linux_<machine>` tag.
    Build,
    /// `pip download` of published wheels for the target's tags only; builds nothing.
    Download,
}

impl Mode {
    /// [`Mode::Build`] when `host` can stand in for `target`, else [`Mode::Download`].
    pub fn choose(host: &PythonInfo, target: &PyTarget) -> Mode {
        if unfit(host, target).is_none() {
            Mode::Build
        } else {
            Mode::Download
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Mode::Build => "build",
            Mode::Download => "download",
        }
    }

    fn pip_command(self) -> &'static str {
        match self {
            Mode::Build => "wheel",
            Mode::Download => "download",
        }
    }
}

/// A complete wheelhouse in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wheelhouse {
    /// `cache_root/<key>`, holding the wheels (pip writes nothing else there).
    pub dir: PathBuf,
    /// Every wheel in `dir`, sorted by file name.
    pub wheels: Vec<PathBuf>,
    /// Every wheel is `none-any`.
    pub pure: bool,
    /// The target's CPython major.minor, e.g. `3.13`: an impure house installs on it alone.
    pub python: String,
}

#[derive(Debug, thiserror::Error)]
pub enum WheelError {
    /// The requirements file is missing or unreadable: invalid input (exit 3).
    #[error("requirements `{}`: {source}", requirements.display())]
    Requirements {
        requirements: PathBuf,
        #[source]
        source: FsError,
    },
    /// The target itself is malformed (not `3.N`, not glibc 2, an odd machine name).
    #[error("wheel target {target}: {detail}")]
    Target { target: PyTarget, detail: String },
    /// The interpreter could not be run, or did not answer the version probe.
    #[error("requirements `{}`: cannot use Python `{}`: {detail}", requirements.display(), python.to_string_lossy())]
    Python { requirements: PathBuf, python: OsString, detail: String },
    /// `pip wheel` or `pip download` failed; `stderr` holds its last lines.
    #[error("requirements `{}`: pip {command} failed ({status}):\n{stderr}", requirements.display())]
    Pip { requirements: PathBuf, command: &'static str, status: String, stderr: String },
    /// In download mode, pip found no wheel of `requirement` (as pip spells it, `foo==1.2`)
    /// for the target, and the host cannot build one for it.
    #[error(
        "requirements `{}`: `{requirement}` has no wheel for {} and cannot be built for it on \
         this host ({}): build on {}",
        requirements.display(), mismatch.target, mismatch.host, mismatch.hint
    )]
    NoWheel { requirements: PathBuf, requirement: String, mismatch: Box<HostMismatch> },
    /// In download mode, pip skipped `requirement` because its `marker` is false for the build
    /// interpreter, but the target needs it.
    #[error(
        "requirements `{}`: pip skipped `{requirement}` because its marker `{marker}` is false \
         for the build interpreter ({}), but {} needs it: build on {}",
        requirements.display(), mismatch.host, mismatch.target, mismatch.hint
    )]
    SkippedByMarker {
        requirements: PathBuf,
        requirement: String,
        marker: String,
        mismatch: Box<HostMismatch>,
    },
    /// pip (or a stale cache) left a `.whl` whose name is not a PEP 427 wheel name.
    #[error("requirements `{}`: `{}` is not a valid wheel file name", requirements.display(), file.display())]
    NotAWheel { requirements: PathBuf, file: PathBuf },
    /// A wheel of the house does not install on the target (see [`accepts`]).
    #[error(
        "requirements `{}`: wheel `{file}` does not install on {target}; refusing to ship it",
        requirements.display()
    )]
    WrongTarget { requirements: PathBuf, file: String, target: PyTarget },
    /// Creating, listing or renaming the cache failed.
    #[error("requirements `{}`: wheel cache: {source}", requirements.display())]
    Cache {
        requirements: PathBuf,
        #[source]
        source: FsError,
    },
}

impl WheelError {
    /// The input itself is wrong (the CLI exits 3): the requirements file, the target, or what
    /// the requirements resolve to for the target. Everything else is a failure while working.
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            WheelError::Requirements { .. }
                | WheelError::Target { .. }
                | WheelError::NoWheel { .. }
                | WheelError::SkippedByMarker { .. }
                | WheelError::WrongTarget { .. }
        )
    }
}

/// The build interpreter's identity, as far as the wheels depend on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonInfo {
    /// `sys.implementation.name`, e.g. `cpython`.
    pub implementation: String,
    /// Major.minor, e.g. `3.11`.
    pub version: String,
    /// `sysconfig.get_platform()`, e.g. `linux-x86_64`.
    pub platform: String,
    /// The glibc it runs on, e.g. `(2, 36)`; `None` on another libc.
    pub glibc: Option<(u32, u32)>,
}

/// Printed by the probe as four space-separated words; the last is `none` without glibc.
const PROBE: &str = "import os, sys, sysconfig
try:
    libc = os.confstr('CS_GNU_LIBC_VERSION') or ''
except (AttributeError, ValueError, OSError):
    libc = ''
print(sys.implementation.name, '%d.%d' % sys.version_info[:2], sysconfig.get_platform(),
      libc.split()[1] if libc.startswith('glibc ') else 'none')";

impl PythonInfo {
    fn parse(probe_output: &str) -> Option<PythonInfo> {
        let mut words = probe_output.split_whitespace();
        let implementation = words.next()?.to_string();
        let version = words.next()?.to_string();
        let platform = words.next()?.to_string();
        let glibc = match words.next()? {
            "none" => None,
            v => {
                let (major, minor) = v.split_once('.')?;
                // Only major.minor matter (a distributor may append more).
                let minor = minor.split('.').next()?;
                Some((major.parse().ok()?, minor.parse().ok()?))
            }
        };
        words.next().is_none().then_some(PythonInfo { implementation, version, platform, glibc })
    }

    /// `x86_64` of `linux-x86_64`.
    fn machine(&self) -> Option<&str> {
        self.platform.strip_prefix("linux-")
    }
}

/// Why the build host cannot make a target's wheels itself, in the words of
/// [`WheelError::NoWheel`] and [`WheelError::SkippedByMarker`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostMismatch {
    pub target: PyTarget,
    /// What the build interpreter is: `python3 is CPython 3.11`.
    pub host: String,
    /// Where to build instead: `a Debian 13 host or with CTS_DEB_PYTHON=python3.13`.
    pub hint: String,
}

/// Why a build interpreter cannot stand in for the target's ([`Mode::Build`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unfit {
    Implementation,
    Version,
    Machine,
    Glibc,
}

/// Why `host` cannot build the wheels of `target`; `None` when it can.
fn unfit(host: &PythonInfo, target: &PyTarget) -> Option<Unfit> {
    if host.implementation != "cpython" {
        Some(Unfit::Implementation)
    } else if host.version != target.version {
        Some(Unfit::Version)
    } else if host.machine() != Some(target.machine.as_str()) {
        Some(Unfit::Machine)
    } else if host.glibc.is_none_or(|g| g > target.glibc) {
        Some(Unfit::Glibc)
    } else {
        None
    }
}

/// What the build interpreter `python` (which answered `host`) is, and where to build instead.
fn host_mismatch(python: &OsStr, host: &PythonInfo, target: &PyTarget) -> HostMismatch {
    let py = python.to_string_lossy();
    let v = &target.version;
    let same_machine = format!("{} or with {PYTHON_ENV}=python{v}", target.host_hint(false));
    let (g0, g1) = target.glibc;
    let (host_text, hint) = match unfit(host, target) {
        Some(Unfit::Implementation) => {
            (format!("{py} is {} {}, not CPython", host.implementation, host.version), same_machine)
        }
        Some(Unfit::Version) => (format!("{py} is CPython {}", host.version), same_machine),
        Some(Unfit::Machine) => (
            format!("{py} runs on {}", host.machine().unwrap_or(&host.platform)),
            target.host_hint(true),
        ),
        Some(Unfit::Glibc) => (
            match host.glibc {
                Some((a, b)) => format!("{py} runs on glibc {a}.{b}, newer than {g0}.{g1}"),
                None => format!("{py} does not run on glibc"),
            },
            format!("{} (glibc {g0}.{g1} or older)", target.host_hint(false)),
        ),
        // Not reached: a fit host builds instead of downloading.
        None => (format!("{py} is CPython {}", host.version), same_machine),
    };
    HostMismatch { target: target.clone(), host: host_text, hint }
}

/// `<sha256 of the requirements>-cp<major.minor>-glibc<major.minor>-<machine>-<mode>`, e.g.
/// `9f…c2-cp3.13-glibc2.41-x86_64-download`; only `[A-Za-z0-9._-]`, safe as a directory name.
pub fn cache_key(requirements: &[u8], target: &PyTarget, mode: Mode) -> String {
    let clean = |s: &str| -> String {
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' }).collect()
    };
    let (g0, g1) = target.glibc;
    format!(
        "{}-cp{}-glibc{g0}.{g1}-{}-{}",
        hex::encode(Sha256::digest(requirements)),
        clean(&target.version),
        clean(&target.machine),
        mode.as_str()
    )
}

/// The interpreter [`prepare`] uses: `$CTS_DEB_PYTHON`, else `python3`.
pub fn default_python() -> OsString {
    std::env::var_os(PYTHON_ENV).filter(|p| !p.is_empty()).unwrap_or_else(|| "python3".into())
}

/// Returns the wheelhouse of `requirements` for `target`, made in `cache_root` unless already
/// cached. Uses [`default_python`].
pub fn prepare(
    requirements: &Path,
    cache_root: &Path,
    target: &PyTarget,
    reporter: &dyn Reporter,
) -> Result<Wheelhouse, WheelError> {
    prepare_with(&default_python(), requirements, cache_root, target, reporter)
}

/// [`prepare`] with an explicit build interpreter.
pub fn prepare_with(
    python: &OsStr,
    requirements: &Path,
    cache_root: &Path,
    target: &PyTarget,
    reporter: &dyn Reporter,
) -> Result<Wheelhouse, WheelError> {
    target.check().map_err(|detail| WheelError::Target { target: target.clone(), detail })?;
    let req = requirements.to_path_buf();
    let content = fsx::read(requirements)
        .map_err(|source| WheelError::Requirements { requirements: req.clone(), source })?;
    let host = probe(python, requirements)?;
    let mode = Mode::choose(&host, target);
    let key = cache_key(&content, target, mode);
    let dir = cache_root.join(&key);
    let cache_err = |source| WheelError::Cache { requirements: req.clone(), source };

    if dir.is_dir() {
        let house = collect(&dir, requirements, target, mode)?;
        reporter.info(&format!(
            "wheels: reusing {} ({} wheels)",
            dir.display(),
            house.wheels.len()
        ));
        return finish(house, reporter);
    }

    fsx::create_dir_all(cache_root).map_err(cache_err)?;
    let partial = tempfile::Builder::new()
        .prefix(&format!(".partial-{key}-"))
        .tempdir_in(cache_root)
        .map_err(|e| cache_err(FsError::new("create directory in", cache_root, e)))?;
    fill(python, requirements, target, &host, mode, partial.path(), reporter)?;
    // Validate and flush before the directory becomes visible under its final name.
    collect(partial.path(), requirements, target, mode)?;
    for entry in list(partial.path(), requirements)? {
        let file = fsx::open(&entry).map_err(cache_err)?;
        file.sync_all().map_err(|e| cache_err(FsError::new("sync", &entry, e)))?;
    }
    if let Err(e) = fsx::rename(partial.path(), &dir) {
        // A concurrent build may have won the race: its result is as good as ours.
        if !dir.is_dir() {
            return Err(cache_err(e));
        }
    } else if let Ok(root) = fsx::open(cache_root) {
        let _ = root.sync_all();
    }
    // `partial` is gone (renamed) or a loser's copy: dropping it removes whatever is left.
    drop(partial);
    finish(collect(&dir, requirements, target, mode)?, reporter)
}

/// Runs pip in `mode` for `target`, writing into `out_dir`; `host` is what `python` answered
/// to the probe.
fn fill(
    python: &OsStr,
    requirements: &Path,
    target: &PyTarget,
    host: &PythonInfo,
    mode: Mode,
    out_dir: &Path,
    reporter: &dyn Reporter,
) -> Result<(), WheelError> {
    let mismatch = || Box::new(host_mismatch(python, host, target));
    match mode {
        Mode::Build => reporter.info(&format!(
            "wheels: pip wheel -r {} for {target} with {}",
            requirements.display(),
            python.to_string_lossy()
        )),
        Mode::Download => reporter.info(&format!(
            "wheels: pip download -r {}: published wheels for {target} only ({})",
            requirements.display(),
            mismatch().host
        )),
    }
    let out = run_pip(python, &pip_args(mode, target, requirements, out_dir));
    let pip_err = |status: String, stderr: String| WheelError::Pip {
        requirements: requirements.to_path_buf(),
        command: mode.pip_command(),
        status,
        stderr,
    };
    let out = out.map_err(|e| pip_err(format!("cannot run: {e}"), String::new()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        if mode == Mode::Download {
            if let Some(requirement) = missing_requirement(&stderr) {
                return Err(WheelError::NoWheel {
                    requirements: requirements.to_path_buf(),
                    requirement,
                    mismatch: mismatch(),
                });
            }
        }
        return Err(pip_err(out.status.to_string(), tail(&out.stderr, PIP_STDERR_LINES)));
    }
    if mode == Mode::Download {
        let skipped = skipped_by_marker(&String::from_utf8_lossy(&out.stdout));
        if let Some((requirement, marker)) =
            needed_by_target(python, requirements, target, skipped)?
        {
            return Err(WheelError::SkippedByMarker {
                requirements: requirements.to_path_buf(),
                requirement,
                marker,
                mismatch: mismatch(),
            });
        }
    }
    Ok(())
}

fn finish(house: Wheelhouse, reporter: &dyn Reporter) -> Result<Wheelhouse, WheelError> {
    for wheel in &house.wheels {
        let name = wheel.file_name().unwrap_or_default().to_string_lossy();
        if !WheelName::parse(&name).is_some_and(|w| w.is_pure()) {
            reporter.warn(&format!(
                "wheel {name} is not pure (none-any): the package is arch-specific \
                 and installs on CPython {} only",
                house.python
            ));
        }
    }
    Ok(house)
}

fn probe(python: &OsStr, requirements: &Path) -> Result<PythonInfo, WheelError> {
    let fail = |detail: String| WheelError::Python {
        requirements: requirements.to_path_buf(),
        python: python.to_os_string(),
        detail,
    };
    let out = Command::new(python)
        .args(["-c", PROBE])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        return Err(fail(format!("{}: {}", out.status, tail(&out.stderr, 3))));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    PythonInfo::parse(&stdout).ok_or_else(|| fail(format!("unexpected probe output {stdout:?}")))
}

/// pip's arguments (after `python`) for `mode`, writing into `out_dir`.
fn pip_args(mode: Mode, target: &PyTarget, requirements: &Path, out_dir: &Path) -> Vec<OsString> {
    let requirements_abs = std::path::absolute(requirements).unwrap_or(requirements.into());
    let mut args: Vec<OsString> = vec!["-m".into(), "pip".into(), mode.pip_command().into()];
    for common in [
        "--require-hashes",
        "--no-input",
        "--disable-pip-version-check",
        "--progress-bar",
        "off",
        "--no-color",
    ] {
        args.push(common.into());
    }
    if mode == Mode::Download {
        args.extend(["--only-binary=:all:", "--implementation", "cp"].map(OsString::from));
        args.extend(["--python-version".into(), target.version.clone().into()]);
        args.extend(["--abi".into(), target.cp_tag().into()]);
        for tag in platform_tags(target) {
            args.extend(["--platform".into(), tag.into()]);
        }
    }
    args.extend(["--requirement".into(), requirements_abs.into_os_string()]);
    let dir_flag = match mode {
        Mode::Build => "--wheel-dir",
        Mode::Download => "--dest",
    };
    args.extend([dir_flag.into(), out_dir.as_os_str().to_os_string()]);
    args
}

fn run_pip(python: &OsStr, args: &[OsString]) -> std::io::Result<Output> {
    Command::new(python)
        .args(args)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .output()
}

/// The requirement pip found no distribution for (`foo==1.2`), from its
/// `No matching distribution found for X` or `Could not find a version that satisfies the
/// requirement X (from versions: …)` line. `None` when pip also reports trouble reaching the
/// index, which ends in the same lines but is not about the requirement (pip only says so when
/// it retries: with `PIP_RETRIES=0` an unreachable index reads as a missing wheel).
fn missing_requirement(stderr: &str) -> Option<String> {
    const NETWORK: [&str; 5] = [
        "Retrying (Retry(",
        "NewConnectionError",
        "Could not fetch URL",
        "Failed to establish a new connection",
        "connection broken by",
    ];
    if NETWORK.iter().any(|n| stderr.contains(n)) {
        return None;
    }
    let found = |prefix: &str| {
        stderr.lines().find_map(|line| {
            let rest = &line[line.find(prefix)? + prefix.len()..];
            let name = rest.split(" (from versions").next().unwrap_or(rest).trim();
            (!name.is_empty()).then(|| name.to_string())
        })
    };
    found("No matching distribution found for ")
        .or_else(|| found("Could not find a version that satisfies the requirement "))
}

/// `(name, marker)` of every `Ignoring NAME: markers 'MARKER' don't match your environment`
/// line of pip's output, without repeats.
fn skipped_by_marker(stdout: &str) -> Vec<(String, String)> {
    let mut seen = BTreeSet::new();
    for line in stdout.lines() {
        let Some(rest) = line.trim().strip_prefix("Ignoring ") else { continue };
        let Some((name, rest)) = rest.split_once(": markers '") else { continue };
        let Some(marker) = rest.strip_suffix("' don't match your environment") else { continue };
        seen.insert((name.to_string(), marker.to_string()));
    }
    seen.into_iter().collect()
}

/// Evaluates markers for a target: `argv` is version, machine, then the markers; prints the
/// index of each marker that holds. The environment is the build interpreter's with what a
/// CPython of the target on Linux would say instead (the patch level is unknown: `.0`). Uses
/// the `packaging` vendored by pip, which is there since pip runs.
const MARKER_EVAL: &str = "import sys
from pip._vendor.packaging.markers import Marker, default_environment
version, machine = sys.argv[1:3]
env = default_environment()
env.update(implementation_name='cpython', implementation_version=version + '.0',
           platform_python_implementation='CPython', python_version=version,
           python_full_version=version + '.0', platform_machine=machine, sys_platform='linux',
           os_name='posix', platform_system='Linux', extra='')
for i, marker in enumerate(sys.argv[3:]):
    if Marker(marker).evaluate(env):
        print(i)";

/// The first of `skipped` whose marker holds for `target`, i.e. a requirement pip left out
/// (judging by the build interpreter) that the target needs.
fn needed_by_target(
    python: &OsStr,
    requirements: &Path,
    target: &PyTarget,
    skipped: Vec<(String, String)>,
) -> Result<Option<(String, String)>, WheelError> {
    if skipped.is_empty() {
        return Ok(None);
    }
    let fail = |detail: String| WheelError::Python {
        requirements: requirements.to_path_buf(),
        python: python.to_os_string(),
        detail: format!(
            "cannot evaluate for {target} the markers of the requirements pip skipped ({}): \
             {detail}",
            skipped.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>().join(", ")
        ),
    };
    let out = Command::new(python)
        .args(["-c", MARKER_EVAL, &target.version, &target.machine])
        .args(skipped.iter().map(|(_, marker)| marker))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| fail(e.to_string()))?;
    if !out.status.success() {
        return Err(fail(format!("{}: {}", out.status, tail(&out.stderr, 3))));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.split_whitespace().next() {
        None => Ok(None),
        Some(i) => match i.parse::<usize>().ok().and_then(|i| skipped.get(i)) {
            Some(hit) => Ok(Some(hit.clone())),
            None => Err(fail(format!("unexpected output {stdout:?}"))),
        },
    }
}

/// The `.whl` files in `dir`, sorted by file name.
fn list(dir: &Path, requirements: &Path) -> Result<Vec<PathBuf>, WheelError> {
    let cache_err = |source| WheelError::Cache { requirements: requirements.to_path_buf(), source };
    let entries = fsx::read_dir(dir).map_err(cache_err)?;
    let mut wheels = Vec::new();
    for entry in entries {
        let path = entry.map_err(|e| cache_err(FsError::new("list", dir, e)))?.path();
        if path.extension().is_some_and(|ext| ext == "whl") {
            wheels.push(path);
        }
    }
    wheels.sort_by(|a, b| a.file_name().cmp(&b.file_name()));
    Ok(wheels)
}

/// The house in `dir`, once every wheel in it is a wheel that installs on `target`.
fn collect(
    dir: &Path,
    requirements: &Path,
    target: &PyTarget,
    mode: Mode,
) -> Result<Wheelhouse, WheelError> {
    let wheels = list(dir, requirements)?;
    let mut pure = true;
    for wheel in &wheels {
        let name = wheel.file_name().unwrap_or_default().to_string_lossy();
        let parsed = WheelName::parse(&name).ok_or_else(|| WheelError::NotAWheel {
            requirements: requirements.to_path_buf(),
            file: wheel.clone(),
        })?;
        if !accepts(target, &parsed, mode == Mode::Build) {
            return Err(WheelError::WrongTarget {
                requirements: requirements.to_path_buf(),
                file: name.into_owned(),
                target: target.clone(),
            });
        }
        pure &= parsed.is_pure();
    }
    Ok(Wheelhouse { dir: dir.to_path_buf(), wheels, pure, python: target.version.clone() })
}

/// The last `n` non-empty lines of a command's output.
fn tail(bytes: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests may use std::fs directly
mod tests {
    use super::*;
    use crate::report::Silent;

    fn py311() -> PythonInfo {
        PythonInfo::parse("cpython 3.11 linux-x86_64 2.36\n").unwrap()
    }

    fn bookworm() -> PyTarget {
        PyTarget { version: "3.11".into(), glibc: (2, 36), machine: "x86_64".into() }
    }

    fn trixie() -> PyTarget {
        PyTarget { version: "3.13".into(), glibc: (2, 41), machine: "x86_64".into() }
    }

    /// The probe answer of the Debian 12 build host.
    const HOST_311: &str = "cpython 3.11 linux-x86_64 2.36";

    #[test]
    fn debian_architectures_map_to_wheel_machines() {
        assert_eq!(wheel_machine("amd64"), Some("x86_64"));
        assert_eq!(wheel_machine("arm64"), Some("aarch64"));
        assert_eq!(wheel_machine("ppc64el"), Some("ppc64le"));
        assert_eq!(wheel_machine("all"), None);
        assert_eq!(wheel_machine("mips64el"), None);
    }

    #[test]
    fn probe_output_is_four_words() {
        assert_eq!(py311().version, "3.11");
        assert_eq!(py311().glibc, Some((2, 36)));
        assert_eq!(py311().machine(), Some("x86_64"));
        let musl = PythonInfo::parse("cpython 3.13 linux-x86_64 none").unwrap();
        assert_eq!(musl.glibc, None);
        assert_eq!(
            PythonInfo::parse("cpython 3.11 linux-x86_64 2.36.1").unwrap().glibc,
            Some((2, 36))
        );
        assert_eq!(PythonInfo::parse("cpython 3.11 linux-x86_64"), None);
        assert_eq!(PythonInfo::parse("cpython 3.11 linux-x86_64 2.36 extra"), None);
        assert_eq!(PythonInfo::parse("cpython 3.11 linux-x86_64 glibc"), None);
    }

    #[test]
    fn the_real_probe_runs() {
        // The build host's python3 (the integration tests need it as well).
        let info = probe(OsStr::new("python3"), Path::new("r")).unwrap();
        assert!(info.version.starts_with("3."), "{info:?}");
    }

    #[test]
    fn builds_only_with_a_host_that_can_stand_in_for_the_target() {
        assert_eq!(Mode::choose(&py311(), &bookworm()), Mode::Build);
        // An older glibc on the host is fine: what it links against exists on the target.
        let old = PythonInfo { glibc: Some((2, 31)), ..py311() };
        assert_eq!(Mode::choose(&old, &bookworm()), Mode::Build);

        assert_eq!(Mode::choose(&py311(), &trixie()), Mode::Download);
        let cases = [
            (PythonInfo { version: "3.13".into(), ..py311() }, bookworm(), Unfit::Version),
            (
                PythonInfo { implementation: "pypy".into(), ..py311() },
                bookworm(),
                Unfit::Implementation,
            ),
            (
                PythonInfo { platform: "linux-aarch64".into(), ..py311() },
                bookworm(),
                Unfit::Machine,
            ),
            (PythonInfo { glibc: Some((2, 41)), ..py311() }, bookworm(), Unfit::Glibc),
            (PythonInfo { glibc: None, ..py311() }, bookworm(), Unfit::Glibc),
        ];
        for (host, target, why) in cases {
            assert_eq!(unfit(&host, &target), Some(why), "{host:?}");
            assert_eq!(Mode::choose(&host, &target), Mode::Download, "{host:?}");
        }
    }

    #[test]
    fn errors_say_what_the_host_is_and_where_to_build() {
        let py = OsStr::new("python3");
        let m = host_mismatch(py, &py311(), &trixie());
        assert_eq!(m.target, trixie());
        assert_eq!(m.host, "python3 is CPython 3.11");
        assert_eq!(m.hint, "a Debian 13 host or with CTS_DEB_PYTHON=python3.13");

        let arm = PyTarget { machine: "aarch64".into(), ..trixie() };
        let host313 = PythonInfo { version: "3.13".into(), ..py311() };
        let m = host_mismatch(py, &host313, &arm);
        assert_eq!(
            (m.host.as_str(), m.hint.as_str()),
            ("python3 runs on x86_64", "a Debian 13 aarch64 host")
        );

        let trixie_host = PythonInfo { glibc: Some((2, 41)), ..py311() };
        let m = host_mismatch(OsStr::new("/opt/py/bin/python3.11"), &trixie_host, &bookworm());
        assert_eq!(m.host, "/opt/py/bin/python3.11 runs on glibc 2.41, newer than 2.36");
        assert_eq!(m.hint, "a Debian 12 host (glibc 2.36 or older)");

        let pypy = PythonInfo { implementation: "pypy".into(), version: "3.13".into(), ..py311() };
        let m = host_mismatch(py, &pypy, &trixie());
        assert_eq!(m.host, "python3 is pypy 3.13, not CPython");

        let other = PyTarget { version: "3.12".into(), ..trixie() };
        let m = host_mismatch(py, &py311(), &other);
        assert_eq!(m.hint, "a CPython 3.12 host or with CTS_DEB_PYTHON=python3.12");
    }

    #[test]
    fn cache_key_covers_content_target_and_mode() {
        let key = cache_key(b"django==5.2.19\n", &bookworm(), Mode::Build);
        assert_eq!(key, cache_key(b"django==5.2.19\n", &bookworm(), Mode::Build));
        let (hash, rest) = key.split_at(64);
        assert_eq!(hash, hex::encode(Sha256::digest(b"django==5.2.19\n")));
        assert_eq!(rest, "-cp3.11-glibc2.36-x86_64-build");
        assert!(cache_key(b"", &trixie(), Mode::Download)
            .ends_with("-cp3.13-glibc2.41-x86_64-download"));

        let mut keys = BTreeSet::new();
        for content in [&b"django==5.2.19\n"[..], b"django==5.2.18\n"] {
            for target in [
                bookworm(),
                trixie(),
                PyTarget { glibc: (2, 41), ..bookworm() },
                PyTarget { machine: "aarch64".into(), ..bookworm() },
            ] {
                for mode in [Mode::Build, Mode::Download] {
                    keys.insert(cache_key(content, &target, mode));
                }
            }
        }
        assert_eq!(keys.len(), 2 * 4 * 2, "every combination has its own directory");

        let weird = PyTarget { machine: "../x y".into(), ..bookworm() };
        assert!(cache_key(b"", &weird, Mode::Build).ends_with("-.._x_y-build"));
    }

    #[test]
    fn download_args_pin_the_target_interpreter_and_every_platform() {
        let args = pip_args(
            Mode::Download,
            &trixie(),
            Path::new("/r/requirements.txt"),
            Path::new("/out"),
        );
        let args: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        let platforms: Vec<String> = platform_tags(&trixie());
        let mut expected: Vec<String> = [
            "-m",
            "pip",
            "download",
            "--require-hashes",
            "--no-input",
            "--disable-pip-version-check",
            "--progress-bar",
            "off",
            "--no-color",
            "--only-binary=:all:",
            "--implementation",
            "cp",
            "--python-version",
            "3.13",
            "--abi",
            "cp313",
        ]
        .map(String::from)
        .to_vec();
        for p in &platforms {
            expected.extend(["--platform".to_string(), p.clone()]);
        }
        expected
            .extend(["--requirement", "/r/requirements.txt", "--dest", "/out"].map(String::from));
        assert_eq!(args, expected);
        // Every closure member must come from the file: pip resolves, so no --no-deps.
        assert!(!args.iter().any(|a| a == "--no-deps"));
        assert_eq!(platforms.first().unwrap(), "manylinux_2_41_x86_64");
        assert_eq!(platforms.last().unwrap(), "manylinux1_x86_64");

        let args =
            pip_args(Mode::Build, &bookworm(), Path::new("/r/requirements.txt"), Path::new("/out"));
        let args: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
        assert_eq!(args[..4], ["-m", "pip", "wheel", "--require-hashes"]);
        assert_eq!(
            args[args.len() - 4..],
            ["--requirement", "/r/requirements.txt", "--wheel-dir", "/out"]
        );
        assert!(!args
            .iter()
            .any(|a| a.starts_with("--platform") || a.starts_with("--only-binary")));
    }

    #[test]
    fn finds_the_requirement_pip_has_no_distribution_for() {
        let both = "ERROR: Could not find a version that satisfies the requirement docopt==0.6.2 \
                    (from versions: none)\nERROR: No matching distribution found for docopt==0.6.2\n";
        assert_eq!(missing_requirement(both).as_deref(), Some("docopt==0.6.2"));
        let first_only = "ERROR: Could not find a version that satisfies the requirement \
                          numpy==1.24.4 (from versions: 2.1.0, 2.1.1)\n";
        assert_eq!(missing_requirement(first_only).as_deref(), Some("numpy==1.24.4"));
        assert_eq!(missing_requirement("ERROR: THESE PACKAGES DO NOT MATCH THE HASHES"), None);
        // An unreachable index ends the same way, but is not about the requirement.
        let offline = "WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, \
                       status=None)) after connection broken by 'NewConnectionError(...)': \
                       /simple/docopt/\n"
            .to_string()
            + both;
        assert_eq!(missing_requirement(&offline), None);
    }

    #[test]
    fn reads_the_requirements_pip_skipped_by_marker() {
        let stdout = "Looking in links: /opt/wheels\n\
            Ignoring markupsafe: markers 'python_version >= \"3.13\"' don't match your environment\n\
            Collecting django==5.2.19\n\
            Ignoring pywin32: markers 'sys_platform == \"win32\"' don't match your environment\n\
            Ignoring markupsafe: markers 'python_version >= \"3.13\"' don't match your environment\n";
        assert_eq!(
            skipped_by_marker(stdout),
            [
                ("markupsafe".to_string(), "python_version >= \"3.13\"".to_string()),
                ("pywin32".to_string(), "sys_platform == \"win32\"".to_string()),
            ]
        );
        assert!(skipped_by_marker("Saved ./x.whl\n").is_empty());
    }

    #[test]
    fn marker_evaluation_runs_on_the_real_pip() {
        let has_pip = Command::new("python3")
            .args(["-c", "import pip._vendor.packaging.markers"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !has_pip && crate::testing::skip_without("python3's pip") {
            return;
        }
        let skipped = |m: &[&str]| -> Vec<(String, String)> {
            m.iter().enumerate().map(|(i, m)| (format!("r{i}"), m.to_string())).collect()
        };
        let py = OsStr::new("python3");
        let req = Path::new("requirements.txt");
        let none = skipped(&[
            "sys_platform == \"win32\"",
            "python_version < \"3.11\"",
            "extra == \"redis\"",
            "platform_machine == \"aarch64\"",
        ]);
        assert_eq!(needed_by_target(py, req, &trixie(), none).unwrap(), None);
        let needed = skipped(&["sys_platform == \"win32\"", "python_version >= \"3.13\""]);
        assert_eq!(
            needed_by_target(py, req, &trixie(), needed).unwrap(),
            Some(("r1".into(), "python_version >= \"3.13\"".into()))
        );
        let arm = PyTarget { machine: "aarch64".into(), ..bookworm() };
        let needed = skipped(&["platform_machine == \"aarch64\" and python_version < \"3.12\""]);
        assert!(needed_by_target(py, req, &arm, needed).unwrap().is_some());
    }

    #[test]
    fn tail_keeps_the_last_non_empty_lines() {
        assert_eq!(tail(b"a\n\nb\nc\n\n", 2), "b\nc");
        assert_eq!(tail(b"", 3), "");
    }

    #[test]
    fn missing_requirements_is_invalid_input() {
        let tmp = tempfile::tempdir().unwrap();
        let req = tmp.path().join("nope.txt");
        let err =
            prepare_with(OsStr::new("python3"), &req, tmp.path(), &trixie(), &Silent).unwrap_err();
        assert!(err.is_invalid_input(), "{err}");
        assert!(err.to_string().contains("nope.txt"), "{err}");
    }

    #[test]
    fn malformed_targets_are_invalid_input() {
        let tmp = tempfile::tempdir().unwrap();
        let req = tmp.path().join("requirements.txt");
        std::fs::write(&req, "x\n").unwrap();
        for (target, needle) in [
            (PyTarget { version: "3".into(), ..trixie() }, "version `3`"),
            (PyTarget { version: "3.1x".into(), ..trixie() }, "version `3.1x`"),
            (PyTarget { version: "2.7".into(), ..trixie() }, "version `2.7`"),
            (PyTarget { glibc: (3, 0), ..trixie() }, "glibc 3.0"),
            (PyTarget { machine: "x86-64/..".into(), ..trixie() }, "machine `x86-64/..`"),
            (PyTarget { machine: String::new(), ..trixie() }, "machine ``"),
        ] {
            let err = prepare_with(OsStr::new("python3"), &req, tmp.path(), &target, &Silent)
                .unwrap_err();
            assert!(matches!(err, WheelError::Target { .. }), "{err:?}");
            assert!(err.is_invalid_input());
            assert!(err.to_string().contains(needle), "{err}");
        }
    }

    /// A stand-in for `python3`: answers the probe with `probe` (e.g. [`HOST_311`]); for the
    /// marker evaluation, appends its arguments to `marker-calls` and prints the file `markers`
    /// if there is one; for `-m pip …`, appends the arguments to `calls` and runs `pip_body` with
    /// the output directory (`--wheel-dir` or `--dest`) in `$out`.
    #[cfg(unix)]
    fn fake_python(dir: &Path, probe: &str, pip_body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("python");
        let script = format!(
            "#!/bin/sh\n\
             if [ \"$1\" = -c ]; then\n\
               case \"$2\" in *sysconfig*) echo '{probe}'; exit 0;; esac\n\
               shift 2; echo \"$*\" >> '{dir}/marker-calls'; cat '{dir}/markers' 2>/dev/null\n\
               exit 0\n\
             fi\n\
             echo \"$*\" >> '{dir}/calls'\n\
             out=; prev=\n\
             for a in \"$@\"; do\n\
               case \"$prev\" in --wheel-dir|--dest) out=$a;; esac; prev=$a\n\
             done\n\
             {pip_body}\n",
            dir = dir.display()
        );
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        // Another test thread forking right now may hold our write descriptor for a moment
        // (ETXTBSY): wait until the script runs.
        for _ in 0..100 {
            match Command::new(&path).arg("-c").output() {
                Err(e) if e.raw_os_error() == Some(26) => {
                    std::thread::sleep(std::time::Duration::from_millis(10))
                }
                _ => break,
            }
        }
        path
    }

    #[cfg(unix)]
    fn calls(dir: &Path) -> Vec<String> {
        std::fs::read_to_string(dir.join("calls"))
            .map(|s| s.lines().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// A temporary directory with a `requirements.txt` holding `content`.
    #[cfg(unix)]
    fn requirements(content: &str) -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let req = tmp.path().join("requirements.txt");
        std::fs::write(&req, content).unwrap();
        (tmp, req)
    }

    fn names(house: &Wheelhouse) -> Vec<String> {
        house.wheels.iter().map(|w| w.file_name().unwrap().to_string_lossy().into_owned()).collect()
    }

    #[cfg(unix)]
    #[test]
    fn builds_once_then_reuses_the_cache_without_pip() {
        let (tmp, req) = requirements("b==1 --hash=sha256:00\n");
        let cache = tmp.path().join("cache");
        let python = fake_python(
            tmp.path(),
            HOST_311,
            "touch \"$out/b-1-py3-none-any.whl\" \"$out/a-2-py2.py3-none-any.whl\" \"$out/log\"",
        );

        let house = prepare_with(python.as_os_str(), &req, &cache, &bookworm(), &Silent).unwrap();
        assert_eq!(names(&house), ["a-2-py2.py3-none-any.whl", "b-1-py3-none-any.whl"]);
        assert!(house.pure);
        assert_eq!(house.python, "3.11");
        assert_eq!(house.dir.parent(), Some(cache.as_path()));
        assert!(calls(tmp.path())[0].starts_with("-m pip wheel --require-hashes"));
        // Only the finished directory is left in the cache root.
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);

        let again = prepare_with(python.as_os_str(), &req, &cache, &bookworm(), &Silent).unwrap();
        assert_eq!(again, house);
        assert_eq!(calls(tmp.path()).len(), 1, "the second build must not run pip");

        // New requirements content: a new key, a new build.
        std::fs::write(&req, "b==1 --hash=sha256:01\n").unwrap();
        let other = prepare_with(python.as_os_str(), &req, &cache, &bookworm(), &Silent).unwrap();
        assert_ne!(other.dir, house.dir);
        assert_eq!(calls(tmp.path()).len(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn a_same_version_host_builds_and_may_ship_its_linux_wheels() {
        let (tmp, req) = requirements("x\n");
        let python = fake_python(
            tmp.path(),
            HOST_311,
            "touch \"$out/a-1-py3-none-any.whl\" \"$out/c-1-cp311-cp311-manylinux_2_17_x86_64.whl\" \
             \"$out/docopt-0.6.2-py2.py3-none-linux_x86_64.whl\"",
        );
        let house =
            prepare_with(python.as_os_str(), &req, &tmp.path().join("c"), &bookworm(), &Silent)
                .unwrap();
        assert!(!house.pure);
        assert_eq!(house.wheels.len(), 3);
        assert_eq!(house.python, "3.11");
        assert!(house.dir.to_string_lossy().ends_with("-cp3.11-glibc2.36-x86_64-build"));
    }

    #[cfg(unix)]
    #[test]
    fn another_version_downloads_published_wheels_for_the_target() {
        let (tmp, req) = requirements("markupsafe==3.0.2 --hash=sha256:00\n");
        let python = fake_python(
            tmp.path(),
            HOST_311,
            "touch \"$out/markupsafe-3.0.2-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl\" \
             \"$out/django-5.2.19-py3-none-any.whl\"",
        );
        let cache = tmp.path().join("c");
        let house = prepare_with(python.as_os_str(), &req, &cache, &trixie(), &Silent).unwrap();
        assert!(!house.pure);
        assert_eq!(house.python, "3.13");
        assert!(house.dir.to_string_lossy().ends_with("-cp3.13-glibc2.41-x86_64-download"));
        let call = &calls(tmp.path())[0];
        for needle in [
            "-m pip download --require-hashes ",
            " --only-binary=:all: --implementation cp --python-version 3.13 --abi cp313 ",
            " --platform manylinux_2_41_x86_64 --platform manylinux_2_40_x86_64 ",
            " --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 ",
            " --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64 --requirement ",
        ] {
            assert!(call.contains(needle), "`{needle}` not in {call}");
        }
        assert!(!call.contains("--no-deps"), "{call}");
        // pip printed no `Ignoring` line: no marker evaluation.
        assert!(!tmp.path().join("marker-calls").exists());
    }

    #[cfg(unix)]
    #[test]
    fn bookworm_and_trixie_never_share_a_cache_directory() {
        let (tmp, req) = requirements("a==1 --hash=sha256:00\n");
        let cache = tmp.path().join("cache");
        let python = fake_python(tmp.path(), HOST_311, "touch \"$out/a-1-py3-none-any.whl\"");
        let py = python.as_os_str();
        let b = prepare_with(py, &req, &cache, &bookworm(), &Silent).unwrap();
        let t = prepare_with(py, &req, &cache, &trixie(), &Silent).unwrap();
        assert_ne!(b.dir, t.dir);
        assert_eq!((b.python.as_str(), t.python.as_str()), ("3.11", "3.13"));
        let modes: Vec<String> = calls(tmp.path()).iter().map(|c| c[..15].to_string()).collect();
        assert_eq!(modes, ["-m pip wheel --", "-m pip download"]);
        // Both are cached now, each under its own key.
        assert_eq!(prepare_with(py, &req, &cache, &bookworm(), &Silent).unwrap(), b);
        assert_eq!(prepare_with(py, &req, &cache, &trixie(), &Silent).unwrap(), t);
        assert_eq!(calls(tmp.path()).len(), 2);
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 2);

        // The same target built by a 3.13 host is a third house: built, not downloaded.
        let host313 = fake_python(
            tmp.path(),
            "cpython 3.13 linux-x86_64 2.41",
            "touch \"$out/a-1-py3-none-any.whl\"",
        );
        let built = prepare_with(host313.as_os_str(), &req, &cache, &trixie(), &Silent).unwrap();
        assert_ne!(built.dir, t.dir);
        assert!(calls(tmp.path())[2].starts_with("-m pip wheel "));
    }

    #[cfg(unix)]
    #[test]
    fn an_sdist_only_requirement_for_another_version_names_requirement_and_target() {
        let (tmp, req) = requirements("docopt==0.6.2 --hash=sha256:00\n");
        let cache = tmp.path().join("cache");
        let python = fake_python(
            tmp.path(),
            HOST_311,
            "echo 'Looking in links: /opt/wheels'\n\
             echo 'ERROR: Could not find a version that satisfies the requirement docopt==0.6.2 (from versions: none)' >&2\n\
             echo 'ERROR: No matching distribution found for docopt==0.6.2' >&2\n\
             exit 1",
        );
        let err = prepare_with(python.as_os_str(), &req, &cache, &trixie(), &Silent).unwrap_err();
        assert!(matches!(err, WheelError::NoWheel { .. }), "{err:?}");
        assert!(err.is_invalid_input());
        assert_eq!(
            err.to_string(),
            format!(
                "requirements `{}`: `docopt==0.6.2` has no wheel for CPython 3.13 (manylinux glibc \
                 2.41, x86_64) and cannot be built for it on this host (python3 is CPython 3.11): \
                 build on a Debian 13 host or with CTS_DEB_PYTHON=python3.13",
                req.display()
            )
            .replace("python3 is", &format!("{} is", python.display()))
        );
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0);

        // The same pip answer in build mode is pip's own failure (the version does not exist).
        let err = prepare_with(python.as_os_str(), &req, &cache, &bookworm(), &Silent).unwrap_err();
        assert!(matches!(err, WheelError::Pip { command: "wheel", .. }), "{err:?}");
    }

    #[cfg(unix)]
    #[test]
    fn an_unreachable_index_is_a_pip_failure() {
        let (tmp, req) = requirements("docopt==0.6.2 --hash=sha256:00\n");
        let python = fake_python(
            tmp.path(),
            HOST_311,
            "echo \"WARNING: Retrying (Retry(total=0, connect=None, read=None, redirect=None, status=None)) after connection broken by 'NewConnectionError()': /simple/docopt/\" >&2\n\
             echo 'ERROR: No matching distribution found for docopt==0.6.2' >&2\n\
             exit 1",
        );
        let err = prepare_with(python.as_os_str(), &req, &tmp.path().join("c"), &trixie(), &Silent)
            .unwrap_err();
        let WheelError::Pip { command, ref stderr, .. } = err else { panic!("{err:?}") };
        assert_eq!(command, "download");
        assert!(stderr.contains("NewConnectionError"), "{stderr}");
        assert!(!err.is_invalid_input());
        assert!(err.to_string().contains("pip download failed"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_wheel_for_another_target_is_refused_not_shipped() {
        let (tmp, req) = requirements("x\n");
        let cache = tmp.path().join("cache");
        let python = fake_python(
            tmp.path(),
            HOST_311,
            "touch \"$out/a-1-py3-none-any.whl\" \
             \"$out/markupsafe-3.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl\"",
        );
        let err = prepare_with(python.as_os_str(), &req, &cache, &trixie(), &Silent).unwrap_err();
        assert!(matches!(err, WheelError::WrongTarget { .. }), "{err:?}");
        assert!(err.is_invalid_input());
        assert!(
            err.to_string().ends_with(
                "wheel `markupsafe-3.0.2-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl` \
                 does not install on CPython 3.13 (manylinux glibc 2.41, x86_64); refusing to ship it"
            ),
            "{err}"
        );
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0, "nothing is cached");

        // A cached house is checked again: a wheel slipped into it is refused as well.
        let good = fake_python(tmp.path(), HOST_311, "touch \"$out/a-1-py3-none-any.whl\"");
        let house = prepare_with(good.as_os_str(), &req, &cache, &trixie(), &Silent).unwrap();
        std::fs::write(house.dir.join("c-1-cp313-cp313-manylinux_2_42_x86_64.whl"), "").unwrap();
        let err = prepare_with(good.as_os_str(), &req, &cache, &trixie(), &Silent).unwrap_err();
        assert!(matches!(err, WheelError::WrongTarget { .. }), "{err:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_requirement_skipped_by_marker_but_needed_by_the_target_is_refused() {
        let (tmp, req) = requirements("x\n");
        let cache = tmp.path().join("cache");
        let python = fake_python(
            tmp.path(),
            HOST_311,
            "echo 'Ignoring pywin32: markers '\\''sys_platform == \"win32\"'\\'' don'\\''t match your environment'\n\
             echo 'Ignoring legacy-cgi: markers '\\''python_version >= \"3.13\"'\\'' don'\\''t match your environment'\n\
             touch \"$out/a-1-py3-none-any.whl\"",
        );
        // The evaluation says the first marker (`legacy-cgi`'s, by name) holds for the target.
        std::fs::write(tmp.path().join("markers"), "0\n").unwrap();
        let err = prepare_with(python.as_os_str(), &req, &cache, &trixie(), &Silent).unwrap_err();
        assert!(matches!(err, WheelError::SkippedByMarker { .. }), "{err:?}");
        assert!(err.is_invalid_input());
        let text = err.to_string();
        assert!(
            text.contains(
                "pip skipped `legacy-cgi` because its marker `python_version >= \"3.13\"` \
                           is false for the build interpreter"
            ),
            "{text}"
        );
        assert!(
            text.ends_with(
                "CPython 3.13 (manylinux glibc 2.41, x86_64) needs it: build on a \
                                Debian 13 host or with CTS_DEB_PYTHON=python3.13"
            ),
            "{text}"
        );
        let marker_calls = std::fs::read_to_string(tmp.path().join("marker-calls")).unwrap();
        assert_eq!(
            marker_calls, "3.13 x86_64 python_version >= \"3.13\" sys_platform == \"win32\"\n",
            "markers are evaluated for the target, sorted by requirement name"
        );
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0);

        // When no skipped marker holds for the target, the house is fine.
        std::fs::write(tmp.path().join("markers"), "").unwrap();
        prepare_with(python.as_os_str(), &req, &cache, &trixie(), &Silent).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn pip_failure_keeps_stderr_tail_and_leaves_no_cache() {
        let (tmp, req) = requirements("x\n");
        let cache = tmp.path().join("cache");
        let python = fake_python(
            tmp.path(),
            HOST_311,
            "touch \"$out/half-1-py3-none-any.whl\"\n\
             for i in $(seq 1 30); do echo \"noise $i\" >&2; done\n\
             echo 'ERROR: THESE PACKAGES DO NOT MATCH THE HASHES' >&2; exit 1",
        );
        for target in [bookworm(), trixie()] {
            let err = prepare_with(python.as_os_str(), &req, &cache, &target, &Silent).unwrap_err();
            let WheelError::Pip { ref stderr, .. } = err else { panic!("{err:?}") };
            assert!(stderr.ends_with("DO NOT MATCH THE HASHES"), "{stderr}");
            assert_eq!(stderr.lines().count(), PIP_STDERR_LINES);
            assert!(!err.is_invalid_input());
            assert!(err.to_string().contains("requirements.txt"), "{err}");
            // Neither a cache directory nor a partial one survives.
            assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0);
        }
    }

    #[cfg(unix)]
    #[test]
    fn bad_wheel_names_are_rejected() {
        let (tmp, req) = requirements("x\n");
        let python = fake_python(tmp.path(), HOST_311, "touch \"$out/not-a-wheel.whl\"");
        let err =
            prepare_with(python.as_os_str(), &req, &tmp.path().join("c"), &bookworm(), &Silent)
                .unwrap_err();
        assert!(matches!(err, WheelError::NotAWheel { .. }), "{err:?}");
    }

    #[test]
    fn unusable_python_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let req = tmp.path().join("requirements.txt");
        std::fs::write(&req, "x\n").unwrap();
        let missing = tmp.path().join("no-such-python");
        let err =
            prepare_with(missing.as_os_str(), &req, tmp.path(), &bookworm(), &Silent).unwrap_err();
        assert!(matches!(err, WheelError::Python { .. }), "{err:?}");
    }
}
