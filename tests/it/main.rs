//! The one integration-test binary: runs the real `cts-deb` on fixtures, through the small
//! [`Test`] builder below. Topic modules: bad input, packaging checks, reproducibility, golden files.

#![allow(clippy::new_without_default)]
// Tests may use std::fs directly; clippy.toml refuses it in production code only.
#![allow(clippy::disallowed_methods)]

mod bad_input;
mod golden;
mod package;
mod repo;
mod reproducible;
mod source;
mod version;

use std::path::{Path, PathBuf};
use std::process::Output;

pub use cts_deb::testing::skip_without;

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A wheel cache shared by all tests (pip runs once per requirements file).
pub fn wheel_cache() -> PathBuf {
    std::env::var_os("CTS_DEB_TEST_WHEEL_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target").join("test-wheel-cache"))
}

/// The package cache of the tests (never the user's); tests of reproducibility build without it.
pub fn package_cache() -> PathBuf {
    repo_root().join("target").join("test-package-cache")
}

/// A fluent wrapper over assert_cmd: `.args()`, `.env()`, `.cwd()`, then `.run()`.
pub struct Test {
    cmd: std::process::Command,
}

impl Test {
    pub fn new() -> Self {
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("cts-deb"));
        cmd.env("CTS_DEB_WHEEL_CACHE", wheel_cache())
            .env("CTS_DEB_PACKAGE_CACHE", package_cache())
            .env_remove("SOURCE_DATE_EPOCH");
        Test { cmd }
    }

    /// Runs through `sh -c 'umask U; exec cts-deb …'` so the child gets that umask.
    pub fn with_umask(umask: &str, args: &[&str]) -> Self {
        let bin = assert_cmd::cargo::cargo_bin("cts-deb");
        let mut cmd = std::process::Command::new("sh");
        cmd.arg("-c")
            .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
            .arg(bin)
            .args(args)
            .env("CTS_DEB_WHEEL_CACHE", wheel_cache())
            .env_remove("SOURCE_DATE_EPOCH");
        Test { cmd }
    }

    /// Runs as the unprivileged user `nobody` (for permission tests when the suite runs as root).
    pub fn as_nobody(args: &[&str]) -> Self {
        let mut cmd = std::process::Command::new("setpriv");
        cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(assert_cmd::cargo::cargo_bin("cts-deb"))
            .args(args)
            .env("CTS_DEB_WHEEL_CACHE", wheel_cache())
            .env("HOME", "/nonexistent")
            .env_remove("SOURCE_DATE_EPOCH");
        Test { cmd }
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, k: &str, v: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(k, v);
        self
    }

    pub fn cwd(mut self, dir: &Path) -> Self {
        self.cmd.current_dir(dir);
        self
    }

    pub fn run(mut self) -> Run {
        let out = self.cmd.output().expect("cts-deb runs");
        Run { out }
    }
}

/// A finished run.
pub struct Run {
    pub out: Output,
}

impl Run {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.out.stderr).into_owned()
    }

    pub fn code(&self) -> i32 {
        self.out.status.code().unwrap_or(-1)
    }

    /// Asserts success and returns stdout.
    pub fn success(&self) -> String {
        assert!(
            self.out.status.success(),
            "expected success, got {}\nstdout:\n{}\nstderr:\n{}",
            self.code(),
            self.stdout(),
            self.stderr()
        );
        self.stdout()
    }

    /// Asserts exit `code` and that the error line contains every one of `needles`.
    pub fn fails(&self, code: i32, needles: &[&str]) -> String {
        let err = self.stderr();
        assert_eq!(self.code(), code, "exit code; stderr:\n{err}");
        let line = err.lines().find(|l| l.contains("error:")).unwrap_or_else(|| {
            panic!("no `error:` line in stderr:\n{err}");
        });
        for n in needles {
            assert!(line.contains(n), "error line lacks `{n}`:\n{line}");
        }
        line.to_string()
    }
}

/// A private copy of `examples/` (config + reference app) that a test may change.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_tree(&repo_root().join("examples"), dir.path());
        Fixture { dir }
    }

    pub fn config(&self) -> PathBuf {
        self.dir.path().join("cts.toml")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Replaces `from` by `to` in cts.toml (which must contain `from`).
    pub fn edit_config(&self, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.config()).unwrap();
        assert!(text.contains(from), "cts.toml has no `{from}`");
        std::fs::write(self.config(), text.replacen(from, to, 1)).unwrap();
    }

    /// Makes `cts-app` a git repository with everything committed on `main`, runs the shell
    /// commands `then` in it (`git` commits as a test user there), and returns the commit of
    /// HEAD.
    pub fn git_app(&self, then: &str) -> String {
        let then = if then.is_empty() { "true" } else { then };
        let commit = sh(&format!(
            "cd {} && export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t.invalid GIT_COMMITTER_NAME=t \
             GIT_COMMITTER_EMAIL=t@t.invalid && git init -q -b main . && git add -A \
             && git commit -q -m app && {then} && git rev-parse HEAD",
            self.path("cts-app").display()
        ));
        commit.trim().to_string()
    }

    /// Points `[source]` at the `cts-app` repository ([`Fixture::git_app`]), at `git_ref` if
    /// given (else its HEAD).
    pub fn use_git_source(&self, git_ref: Option<&str>) {
        let git_ref = git_ref.map(|r| format!("\nref = \"{r}\"")).unwrap_or_default();
        let url = self.path("cts-app").display().to_string();
        self.edit_config("path = \"cts-app\"", &format!("git = \"{url}\"{git_ref}"));
    }

    /// A copy of the embedded templates under `<fixture>/templates`.
    pub fn templates(&self) -> PathBuf {
        let t = self.dir.path().join("templates");
        for sub in ["conffiles", "files", "maintscripts", "debian"] {
            copy_tree(&repo_root().join(sub), &t.join(sub));
        }
        t
    }
}

pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        if rel.components().any(|c| {
            let c = c.as_os_str().to_string_lossy();
            c == "__pycache__" || c.starts_with('.')
        }) {
            continue;
        }
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// Names and sizes of every file in `dir` (to prove nothing was created or changed).
pub fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let content = std::fs::read(e.path()).unwrap_or_default();
            (e.file_name().to_string_lossy().into_owned(), content)
        })
        .collect();
    v.sort();
    v
}

pub fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a command and returns stdout, failing the test with its stderr otherwise.
pub fn sh(cmd: &str) -> String {
    let out = std::process::Command::new("sh").arg("-c").arg(cmd).output().unwrap();
    assert!(
        out.status.success(),
        "`{cmd}` failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The default packages (embedded config: one per target release), built once per test run and
/// shared.
pub fn default_debs() -> Vec<PathBuf> {
    static DEBS: std::sync::OnceLock<Vec<PathBuf>> = std::sync::OnceLock::new();
    DEBS.get_or_init(|| {
        let out = repo_root().join("target").join("it-default");
        let _ = std::fs::remove_dir_all(&out);
        std::fs::create_dir_all(&out).unwrap();
        let stdout = Test::new().args(["build", "--out"]).args([&out]).run().success();
        let debs: Vec<PathBuf> = stdout.lines().map(PathBuf::from).collect();
        assert_eq!(debs.len(), 4, "two packages per default target: {stdout}");
        debs
    })
    .clone()
}

/// The common packages (`cts-server`) of [`default_debs`], one per target, oldest release first.
pub fn common_debs() -> Vec<PathBuf> {
    default_debs().into_iter().filter(|d| !is_pydeps(d)).collect()
}

/// Whether `deb` is a Python dependencies package (`<name>-pydeps-<key>_1_<arch>.deb`).
pub fn is_pydeps(deb: &Path) -> bool {
    deb.file_name().unwrap().to_string_lossy().contains("-pydeps-")
}
