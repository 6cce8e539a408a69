//! The wheelhouse: every wheel of the application's pinned requirements, built once with pip and
//! then reused offline.
//!
//! `requirements.txt` is a fully pinned closure with hashes, so [`prepare`] runs
//! `python3 -m pip wheel --require-hashes -r REQ -w DIR`: it takes published wheels as they are,
//! builds the sdist-only ones, and fails when any requirement (transitive ones included) lacks a
//! pin or a hash.
//!
//! The cache lives in `cache_root/<key>/`, where the key is the sha256 of the requirements file's
//! bytes plus the interpreter's implementation, minor version and platform (see [`cache_key`]).
//! pip writes into a hidden `.partial-<key>-*` directory beside it, which is renamed into place
//! only once pip succeeded and every wheel is on disk, so an interrupted build never leaves a half
//! cache. A later build with the same requirements and interpreter finds the directory and runs
//! no pip at all, and so needs no network.
//!
//! [`Wheelhouse::pure`] says whether every wheel is `none-any` (PEP 427 file names, parsed by
//! [`WheelName::parse`]), i.e. whether the package can be `Architecture: all`.
//!
//! The interpreter is `python3` from `PATH`, or `$CTS_DEB_PYTHON` when set; it should be the
//! target's Python minor version (Debian 12: 3.11), since impure wheels and some sdists depend
//! on it.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sha2::{Digest, Sha256};

use crate::fsx::{self, FsError};
use crate::report::Reporter;

/// Environment variable naming the Python interpreter that runs pip (default `python3`).
pub const PYTHON_ENV: &str = "CTS_DEB_PYTHON";

/// How many of pip's last stderr lines a [`WheelError::Pip`] keeps.
const PIP_STDERR_LINES: usize = 20;

/// A complete wheelhouse in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wheelhouse {
    /// `cache_root/<key>`, holding the wheels (pip writes nothing else there).
    pub dir: PathBuf,
    /// Every wheel in `dir`, sorted by file name.
    pub wheels: Vec<PathBuf>,
    /// Every wheel is `none-any`.
    pub pure: bool,
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
    /// The interpreter could not be run, or did not answer the version probe.
    #[error("requirements `{}`: cannot use Python `{}`: {detail}", requirements.display(), python.to_string_lossy())]
    Python { requirements: PathBuf, python: OsString, detail: String },
    /// `pip wheel` failed; `stderr` holds its last lines.
    #[error("requirements `{}`: pip wheel failed ({status}):\n{stderr}", requirements.display())]
    Pip { requirements: PathBuf, status: String, stderr: String },
    /// pip (or a stale cache) left a `.whl` whose name is not a PEP 427 wheel name.
    #[error("requirements `{}`: `{}` is not a valid wheel file name", requirements.display(), file.display())]
    NotAWheel { requirements: PathBuf, file: PathBuf },
    /// Creating, listing or renaming the cache failed.
    #[error("requirements `{}`: wheel cache: {source}", requirements.display())]
    Cache {
        requirements: PathBuf,
        #[source]
        source: FsError,
    },
}

impl WheelError {
    /// The input itself is wrong (the CLI exits 3); everything else is a failure while working.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self, WheelError::Requirements { .. })
    }
}

/// The interpreter's identity, as far as the wheels depend on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PythonInfo {
    /// `sys.implementation.name`, e.g. `cpython`.
    pub implementation: String,
    /// Major.minor, e.g. `3.11`.
    pub version: String,
    /// `sysconfig.get_platform()`, e.g. `linux-x86_64`.
    pub platform: String,
}

/// Printed by the probe as three space-separated words.
const PROBE: &str = "import sys, sysconfig; \
print(sys.implementation.name, '%d.%d' % sys.version_info[:2], sysconfig.get_platform())";

impl PythonInfo {
    fn parse(probe_output: &str) -> Option<PythonInfo> {
        let mut words = probe_output.split_whitespace();
        let info = PythonInfo {
            implementation: words.next()?.to_string(),
            version: words.next()?.to_string(),
            platform: words.next()?.to_string(),
        };
        words.next().is_none().then_some(info)
    }
}

/// `<sha256 of the requirements>-<implementation><major.minor>-<platform>`, e.g.
/// `9f…c2-cpython3.11-linux_x86_64`; only `[A-Za-z0-9._-]`, safe as a directory name.
pub fn cache_key(requirements: &[u8], python: &PythonInfo) -> String {
    let clean = |s: &str| -> String {
        s.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '_' }).collect()
    };
    format!(
        "{}-{}{}-{}",
        hex::encode(Sha256::digest(requirements)),
        clean(&python.implementation),
        clean(&python.version),
        clean(&python.platform)
    )
}

/// A wheel file name split per PEP 427:
/// `{distribution}-{version}(-{build})?-{python}-{abi}-{platform}.whl`, where each of the last
/// three may be a compressed tag set (`py2.py3`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelName {
    pub distribution: String,
    pub version: String,
    pub build: Option<String>,
    pub python: Vec<String>,
    pub abi: Vec<String>,
    pub platform: Vec<String>,
}

impl WheelName {
    /// Parses a file name (not a path); `None` when it is not a wheel name.
    pub fn parse(file_name: &str) -> Option<WheelName> {
        let stem = file_name.strip_suffix(".whl")?;
        let parts: Vec<&str> = stem.split('-').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return None;
        }
        let (build, tags) = match parts.len() {
            5 => (None, &parts[2..]),
            // The build tag must start with a digit.
            6 if parts[2].starts_with(|c: char| c.is_ascii_digit()) => {
                (Some(parts[2].to_string()), &parts[3..])
            }
            _ => return None,
        };
        let set = |tag: &str| -> Option<Vec<String>> {
            let tags: Vec<String> = tag.split('.').map(str::to_string).collect();
            (!tags.iter().any(String::is_empty)).then_some(tags)
        };
        Some(WheelName {
            distribution: parts[0].to_string(),
            version: parts[1].to_string(),
            build,
            python: set(tags[0])?,
            abi: set(tags[1])?,
            platform: set(tags[2])?,
        })
    }

    /// ABI `none` and platform `any`: runs on every architecture.
    pub fn is_pure(&self) -> bool {
        self.abi.iter().all(|t| t == "none") && self.platform.iter().all(|t| t == "any")
    }
}

/// The interpreter [`prepare`] uses: `$CTS_DEB_PYTHON`, else `python3`.
pub fn default_python() -> OsString {
    std::env::var_os(PYTHON_ENV).filter(|p| !p.is_empty()).unwrap_or_else(|| "python3".into())
}

/// Returns the wheelhouse for `requirements`, building it into `cache_root` unless already
/// cached. Uses [`default_python`].
pub fn prepare(
    requirements: &Path,
    cache_root: &Path,
    reporter: &dyn Reporter,
) -> Result<Wheelhouse, WheelError> {
    prepare_with(&default_python(), requirements, cache_root, reporter)
}

/// [`prepare`] with an explicit interpreter.
pub fn prepare_with(
    python: &OsStr,
    requirements: &Path,
    cache_root: &Path,
    reporter: &dyn Reporter,
) -> Result<Wheelhouse, WheelError> {
    let req = requirements.to_path_buf();
    let content = fsx::read(requirements)
        .map_err(|source| WheelError::Requirements { requirements: req.clone(), source })?;
    let info = probe(python, requirements)?;
    let key = cache_key(&content, &info);
    let dir = cache_root.join(&key);
    let cache_err = |source| WheelError::Cache { requirements: req.clone(), source };

    if dir.is_dir() {
        let house = collect(&dir, requirements)?;
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
    reporter.info(&format!(
        "wheels: pip wheel -r {} ({} {})",
        requirements.display(),
        info.implementation,
        info.version
    ));
    run_pip(python, requirements, partial.path())?;
    // Validate and flush before the directory becomes visible under its final name.
    collect(partial.path(), requirements)?;
    for entry in list(partial.path(), requirements)? {
        let file = fsx::open(&entry).map_err(cache_err)?;
        file.sync_all().map_err(|e| cache_err(FsError::new("sync", &entry, e)))?;
    }
    if let Err(e) = fsx::rename(partial.path(), &dir) {
        // A concurrent build may have won the race: its result is as good as ours.
        if !dir.is_dir() {
            return Err(cache_err(e));
        }
    } else if let Ok(root) = std::fs::File::open(cache_root) {
        let _ = root.sync_all();
    }
    // `partial` is gone (renamed) or a loser's copy: dropping it removes whatever is left.
    drop(partial);
    finish(collect(&dir, requirements)?, reporter)
}

fn finish(house: Wheelhouse, reporter: &dyn Reporter) -> Result<Wheelhouse, WheelError> {
    for wheel in &house.wheels {
        let name = wheel.file_name().unwrap_or_default().to_string_lossy();
        if !WheelName::parse(&name).is_some_and(|w| w.is_pure()) {
            reporter.warn(&format!(
                "wheel {name} is not pure (none-any): the package is arch-specific"
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

fn run_pip(python: &OsStr, requirements: &Path, out_dir: &Path) -> Result<(), WheelError> {
    let requirements_abs = std::path::absolute(requirements).unwrap_or(requirements.into());
    let out = Command::new(python)
        .args(["-m", "pip", "wheel", "--require-hashes", "--no-input"])
        .args(["--disable-pip-version-check", "--progress-bar", "off", "--no-color"])
        .arg("--requirement")
        .arg(&requirements_abs)
        .arg("--wheel-dir")
        .arg(out_dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(Stdio::null())
        .output();
    let fail = |status: String, stderr: String| WheelError::Pip {
        requirements: requirements.to_path_buf(),
        status,
        stderr,
    };
    match out {
        Err(e) => Err(fail(format!("cannot run: {e}"), String::new())),
        Ok(out) if !out.status.success() => {
            Err(fail(out.status.to_string(), tail(&out.stderr, PIP_STDERR_LINES)))
        }
        Ok(_) => Ok(()),
    }
}

/// The `.whl` files in `dir`, sorted by file name.
fn list(dir: &Path, requirements: &Path) -> Result<Vec<PathBuf>, WheelError> {
    let cache_err = |source| WheelError::Cache { requirements: requirements.to_path_buf(), source };
    let entries = std::fs::read_dir(dir).map_err(|e| cache_err(FsError::new("list", dir, e)))?;
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

fn collect(dir: &Path, requirements: &Path) -> Result<Wheelhouse, WheelError> {
    let wheels = list(dir, requirements)?;
    let mut pure = true;
    for wheel in &wheels {
        let name = wheel.file_name().unwrap_or_default().to_string_lossy();
        let parsed = WheelName::parse(&name).ok_or_else(|| WheelError::NotAWheel {
            requirements: requirements.to_path_buf(),
            file: wheel.clone(),
        })?;
        pure &= parsed.is_pure();
    }
    Ok(Wheelhouse { dir: dir.to_path_buf(), wheels, pure })
}

/// The last `n` non-empty lines of a command's output.
fn tail(bytes: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Silent;

    fn py311() -> PythonInfo {
        PythonInfo::parse("cpython 3.11 linux-x86_64\n").unwrap()
    }

    #[test]
    fn parses_pure_and_platform_wheels() {
        let w = WheelName::parse("django-5.2.19-py3-none-any.whl").unwrap();
        assert_eq!((w.distribution.as_str(), w.version.as_str()), ("django", "5.2.19"));
        assert_eq!(w.build, None);
        assert!(w.is_pure());

        let w = WheelName::parse("tzdata-2026.6-py2.py3-none-any.whl").unwrap();
        assert_eq!(w.python, ["py2", "py3"]);
        assert!(w.is_pure());

        let w = WheelName::parse(
            "wcwidth-0.9.4-cp310-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        )
        .unwrap();
        assert_eq!(w.abi, ["abi3"]);
        assert_eq!(w.platform, ["manylinux2014_x86_64", "manylinux_2_17_x86_64"]);
        assert!(!w.is_pure());

        // abi none but a platform: still arch-specific.
        assert!(!WheelName::parse("x-1-py3-none-linux_x86_64.whl").unwrap().is_pure());
        // abi3 on any platform is not none-any either.
        assert!(!WheelName::parse("x-1-cp311-cp311-any.whl").unwrap().is_pure());
    }

    #[test]
    fn parses_build_tags() {
        let w = WheelName::parse("pkg-1.0-1local-py3-none-any.whl").unwrap();
        assert_eq!(w.build.as_deref(), Some("1local"));
        assert_eq!(w.python, ["py3"]);
        // A sixth part that does not start with a digit is not a build tag.
        assert_eq!(WheelName::parse("pkg-1.0-local-py3-none-any.whl"), None);
    }

    #[test]
    fn rejects_non_wheel_names() {
        for name in [
            "django-5.2.19.tar.gz",
            "django-5.2.19-py3-none-any.zip",
            "django-5.2.19-py3-none.whl",
            "django--py3-none-any.whl",
            "django-5.2.19-py3..py2-none-any.whl",
            "a-b-1-c-d-e-f.whl",
            ".whl",
        ] {
            assert_eq!(WheelName::parse(name), None, "{name}");
        }
    }

    #[test]
    fn cache_key_covers_content_and_interpreter() {
        let key = cache_key(b"django==5.2.19\n", &py311());
        assert_eq!(key, cache_key(b"django==5.2.19\n", &py311()));
        let (hash, rest) = key.split_at(64);
        assert_eq!(hash, hex::encode(Sha256::digest(b"django==5.2.19\n")));
        assert_eq!(rest, "-cpython3.11-linux_x86_64");

        assert_ne!(key, cache_key(b"django==5.2.18\n", &py311()));
        let py312 = PythonInfo { version: "3.12".into(), ..py311() };
        assert_ne!(key, cache_key(b"django==5.2.19\n", &py312));
        let weird = PythonInfo { platform: "../x y".into(), ..py311() };
        assert!(cache_key(b"", &weird).ends_with("-cpython3.11-.._x_y"));
    }

    #[test]
    fn probe_output_must_be_three_words() {
        assert_eq!(py311().version, "3.11");
        assert_eq!(PythonInfo::parse("cpython 3.11"), None);
        assert_eq!(PythonInfo::parse("cpython 3.11 linux-x86_64 extra"), None);
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
        let err = prepare_with(OsStr::new("python3"), &req, tmp.path(), &Silent).unwrap_err();
        assert!(err.is_invalid_input(), "{err}");
        assert!(err.to_string().contains("nope.txt"), "{err}");
    }

    /// A stand-in for `python3`: answers the probe, and for `-m pip wheel` appends a line to
    /// `calls` and runs `pip_body` with the wheel directory in `$out`.
    #[cfg(unix)]
    fn fake_python(dir: &Path, pip_body: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join("python");
        let script = format!(
            "#!/bin/sh\n\
             if [ \"$1\" = -c ]; then echo cpython 3.11 linux-x86_64; exit 0; fi\n\
             echo \"$*\" >> '{calls}'\n\
             out=; prev=\n\
             for a in \"$@\"; do [ \"$prev\" = --wheel-dir ] && out=$a; prev=$a; done\n\
             {pip_body}\n",
            calls = dir.join("calls").display()
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
    fn calls(dir: &Path) -> usize {
        std::fs::read_to_string(dir.join("calls")).map(|s| s.lines().count()).unwrap_or(0)
    }

    #[cfg(unix)]
    #[test]
    fn builds_once_then_reuses_the_cache_without_pip() {
        let tmp = tempfile::tempdir().unwrap();
        let req = tmp.path().join("requirements.txt");
        std::fs::write(&req, "b==1 --hash=sha256:00\n").unwrap();
        let cache = tmp.path().join("cache");
        let python = fake_python(
            tmp.path(),
            "touch \"$out/b-1-py3-none-any.whl\" \"$out/a-2-py2.py3-none-any.whl\" \"$out/log\"",
        );

        let house = prepare_with(python.as_os_str(), &req, &cache, &Silent).unwrap();
        let names: Vec<_> = house.wheels.iter().map(|w| w.file_name().unwrap()).collect();
        assert_eq!(names, ["a-2-py2.py3-none-any.whl", "b-1-py3-none-any.whl"]);
        assert!(house.pure);
        assert_eq!(house.dir.parent(), Some(cache.as_path()));
        let calls_log = std::fs::read_to_string(tmp.path().join("calls")).unwrap();
        assert!(calls_log.contains("-m pip wheel --require-hashes"), "{calls_log}");
        // Only the finished directory is left in the cache root.
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);

        let again = prepare_with(python.as_os_str(), &req, &cache, &Silent).unwrap();
        assert_eq!(again, house);
        assert_eq!(calls(tmp.path()), 1, "the second build must not run pip");

        // New requirements content: a new key, a new build.
        std::fs::write(&req, "b==1 --hash=sha256:01\n").unwrap();
        let other = prepare_with(python.as_os_str(), &req, &cache, &Silent).unwrap();
        assert_ne!(other.dir, house.dir);
        assert_eq!(calls(tmp.path()), 2);
    }

    #[cfg(unix)]
    #[test]
    fn impure_wheels_make_the_house_impure() {
        let tmp = tempfile::tempdir().unwrap();
        let req = tmp.path().join("requirements.txt");
        std::fs::write(&req, "x\n").unwrap();
        let python = fake_python(
            tmp.path(),
            "touch \"$out/a-1-py3-none-any.whl\" \"$out/c-1-cp311-cp311-manylinux_2_17_x86_64.whl\"",
        );
        let house = prepare_with(python.as_os_str(), &req, &tmp.path().join("c"), &Silent).unwrap();
        assert!(!house.pure);
        assert_eq!(house.wheels.len(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn pip_failure_keeps_stderr_tail_and_leaves_no_cache() {
        let tmp = tempfile::tempdir().unwrap();
        let req = tmp.path().join("requirements.txt");
        std::fs::write(&req, "x\n").unwrap();
        let cache = tmp.path().join("cache");
        let python = fake_python(
            tmp.path(),
            "touch \"$out/half-1-py3-none-any.whl\"\n\
             for i in $(seq 1 30); do echo \"noise $i\" >&2; done\n\
             echo 'ERROR: THESE PACKAGES DO NOT MATCH THE HASHES' >&2; exit 1",
        );
        let err = prepare_with(python.as_os_str(), &req, &cache, &Silent).unwrap_err();
        let WheelError::Pip { ref stderr, .. } = err else { panic!("{err:?}") };
        assert!(stderr.ends_with("DO NOT MATCH THE HASHES"), "{stderr}");
        assert_eq!(stderr.lines().count(), PIP_STDERR_LINES);
        assert!(!err.is_invalid_input());
        assert!(err.to_string().contains("requirements.txt"), "{err}");
        // Neither a cache directory nor a partial one survives.
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn bad_wheel_names_are_rejected() {
        let tmp = tempfile::tempdir().unwrap();
        let req = tmp.path().join("requirements.txt");
        std::fs::write(&req, "x\n").unwrap();
        let python = fake_python(tmp.path(), "touch \"$out/not-a-wheel.whl\"");
        let err =
            prepare_with(python.as_os_str(), &req, &tmp.path().join("c"), &Silent).unwrap_err();
        assert!(matches!(err, WheelError::NotAWheel { .. }), "{err:?}");
    }

    #[test]
    fn unusable_python_is_reported() {
        let tmp = tempfile::tempdir().unwrap();
        let req = tmp.path().join("requirements.txt");
        std::fs::write(&req, "x\n").unwrap();
        let missing = tmp.path().join("no-such-python");
        let err = prepare_with(missing.as_os_str(), &req, tmp.path(), &Silent).unwrap_err();
        assert!(matches!(err, WheelError::Python { .. }), "{err:?}");
    }
}
