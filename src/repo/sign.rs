//! OpenPGP signing through `gpg`, isolated per invocation.
//!
//! Every [`Gpg`] is a private, temporary `GNUPGHOME` (mode 0700) into which the key file is
//! imported; nothing touches the user's keyring. gpg always runs with `--batch --no-tty
//! --pinentry-mode loopback` (a passphrase comes only from the file named by
//! `CTS_DEB_GPG_PASSPHRASE_FILE`) and signs with `--digest-algo SHA512`. gpg 2 needs its agent
//! for secret-key operations: `gpgconf --launch gpg-agent` starts exactly one in the temporary
//! home and every gpg runs with `--no-autostart`; dropping the [`Gpg`] runs
//! `gpgconf --homedir <home> --kill all` and deletes the home, so no agent is left running.
//! Why gpg rather than a native OpenPGP library: see `docs/publish.md`.

use std::ffi::OsStr;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use super::error::{RepoError, Result};

/// Environment variable naming a file that holds the signing key's passphrase.
pub const PASSPHRASE_ENV: &str = "CTS_DEB_GPG_PASSPHRASE_FILE";

/// A temporary gpg home holding exactly one secret key.
#[derive(Debug)]
pub struct Gpg {
    home: tempfile::TempDir,
    fingerprint: String,
}

/// Homes alive in this process, so that an injected fault (which exits without running
/// destructors) can still stop their agents: see [`cleanup_before_exit`].
static LIVE_HOMES: std::sync::Mutex<Vec<std::path::PathBuf>> = std::sync::Mutex::new(Vec::new());

fn kill_agent(home: &Path) {
    let _ = Command::new("gpgconf")
        .arg("--homedir")
        .arg(home)
        .args(["--kill", "all"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Number of gpg set-ups (home, agent, key import) in progress, e.g. on the background thread
/// of a publish, so that [`cleanup_before_exit`] can wait for them.
static BUSY: (std::sync::Mutex<usize>, std::sync::Condvar) =
    (std::sync::Mutex::new(0), std::sync::Condvar::new());

struct BusyGuard;

impl BusyGuard {
    fn new() -> BusyGuard {
        if let Ok(mut n) = BUSY.0.lock() {
            *n += 1;
        }
        BusyGuard
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        if let Ok(mut n) = BUSY.0.lock() {
            *n = n.saturating_sub(1);
        }
        BUSY.1.notify_all();
    }
}

/// Stops the agents of every live home and removes the homes; for `fault_point` only. Waits
/// (up to 30 s) for set-ups in progress first, or their gpg would start an agent after this.
pub fn cleanup_before_exit() {
    if let Ok(n) = BUSY.0.lock() {
        let _ = BUSY.1.wait_timeout_while(n, std::time::Duration::from_secs(30), |n| *n > 0);
    }
    let homes = LIVE_HOMES.lock().map(|mut h| std::mem::take(&mut *h)).unwrap_or_default();
    for home in homes {
        kill_agent(&home);
        let _ = std::fs::remove_dir_all(&home);
    }
}

fn gpg_error(step: &'static str, message: impl Into<String>) -> RepoError {
    RepoError::Gpg { step, message: message.into() }
}

impl Gpg {
    fn new_home() -> Result<tempfile::TempDir> {
        // Short path under the temp dir: gpg-agent's socket path must stay below 108 bytes.
        let home = tempfile::Builder::new()
            .prefix("cts-gpg.")
            .tempdir()
            .map_err(|e| gpg_error("create a temporary GNUPGHOME", e.to_string()))?;
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::Permissions::from_mode(0o700);
            std::fs::set_permissions(home.path(), mode)
                .map_err(|e| crate::fsx::FsError::new("set the mode of", home.path(), e))?;
        }
        if let Ok(mut live) = LIVE_HOMES.lock() {
            live.push(home.path().to_path_buf());
        }
        // Start the agent now, synchronously, and run every gpg with --no-autostart: then the
        // one agent of this home is the one `Drop` stops. (A gpg that autostarts the agent
        // returns before the agent is listening, and a kill sent then is lost.)
        let out = Command::new("gpgconf")
            .arg("--homedir")
            .arg(home.path())
            .args(["--launch", "gpg-agent"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| gpg_error("start gpg-agent", format!("cannot run gpgconf: {e}")))?;
        if !out.status.success() {
            kill_agent(home.path());
            return Err(gpg_error(
                "start gpg-agent",
                String::from_utf8_lossy(&out.stderr).trim().to_string(),
            ));
        }
        Ok(home)
    }

    /// Imports the armored or binary secret key in `key_file` into a fresh home.
    pub fn with_key(key_file: &Path) -> Result<Gpg> {
        let _busy = BusyGuard::new();
        if !key_file.is_file() {
            return Err(RepoError::Usage(format!(
                "signing key file `{}` does not exist",
                key_file.display()
            )));
        }
        let home = Gpg::new_home()?;
        let mut gpg = Gpg { home, fingerprint: String::new() };
        gpg.run("import the signing key", &[OsStr::new("--import"), key_file.as_os_str()], None)?;
        gpg.fingerprint = gpg.secret_fingerprint()?.ok_or_else(|| {
            gpg_error("find a secret key", format!("`{}` holds no secret key", key_file.display()))
        })?;
        Ok(gpg)
    }

    /// Generates an Ed25519 signing-only key (no expiry, no passphrase) for `uid`.
    pub fn generate(uid: &str) -> Result<Gpg> {
        let _busy = BusyGuard::new();
        let home = Gpg::new_home()?;
        let mut gpg = Gpg { home, fingerprint: String::new() };
        gpg.run(
            "generate an Ed25519 key",
            &["--quick-gen-key", uid, "ed25519", "sign", "never"],
            None,
        )?;
        gpg.fingerprint = gpg
            .secret_fingerprint()?
            .ok_or_else(|| gpg_error("generate an Ed25519 key", "no key after generation"))?;
        Ok(gpg)
    }

    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// `InRelease`: the clear-signed text.
    pub fn clearsign(&self, data: &[u8]) -> Result<Vec<u8>> {
        let fpr = self.fingerprint.clone();
        self.run("clear-sign Release", &["--local-user", fpr.as_str(), "--clearsign"], Some(data))
    }

    /// `Release.gpg`: an armored detached signature.
    pub fn detach_sign(&self, data: &[u8]) -> Result<Vec<u8>> {
        let fpr = self.fingerprint.clone();
        self.run(
            "sign Release",
            &["--local-user", fpr.as_str(), "--armor", "--detach-sign"],
            Some(data),
        )
    }

    /// The armored public key.
    pub fn export_public(&self) -> Result<String> {
        let fpr = self.fingerprint.clone();
        let out =
            self.run("export the public key", &["--armor", "--export", fpr.as_str()], None)?;
        String::from_utf8(out).map_err(|_| gpg_error("export the public key", "not UTF-8"))
    }

    /// The armored secret key.
    pub fn export_secret(&self) -> Result<Vec<u8>> {
        let fpr = self.fingerprint.clone();
        self.run("export the secret key", &["--armor", "--export-secret-keys", fpr.as_str()], None)
    }

    fn secret_fingerprint(&self) -> Result<Option<String>> {
        let out = self.run("list secret keys", &["--with-colons", "--list-secret-keys"], None)?;
        let text = String::from_utf8_lossy(&out);
        let mut after_sec = false;
        for line in text.lines() {
            let fields: Vec<&str> = line.split(':').collect();
            match fields.first() {
                Some(&"sec") => after_sec = true,
                Some(&"fpr") if after_sec => return Ok(fields.get(9).map(|s| s.to_string())),
                _ => {}
            }
        }
        Ok(None)
    }

    fn run<S: AsRef<OsStr>>(
        &self,
        step: &'static str,
        args: &[S],
        stdin: Option<&[u8]>,
    ) -> Result<Vec<u8>> {
        let mut cmd = Command::new("gpg");
        cmd.arg("--homedir")
            .arg(self.home.path())
            .args(["--batch", "--no-tty", "--no-autostart", "--quiet", "--no-greeting"])
            .arg("--pinentry-mode")
            .arg("loopback")
            .args(["--digest-algo", "SHA512", "--cert-digest-algo", "SHA512"]);
        match std::env::var_os(PASSPHRASE_ENV) {
            Some(file) => cmd.arg("--passphrase-file").arg(file),
            None => cmd.args(["--passphrase", ""]),
        };
        cmd.args(args)
            .env("GNUPGHOME", self.home.path())
            .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(|e| gpg_error(step, format!("cannot run gpg: {e}")))?;
        let writer = match (stdin, child.stdin.take()) {
            (Some(data), Some(mut pipe)) => {
                let data = data.to_vec();
                Some(std::thread::spawn(move || pipe.write_all(&data)))
            }
            _ => None,
        };
        let out = child.wait_with_output().map_err(|e| gpg_error(step, e.to_string()))?;
        if let Some(w) = writer {
            // A failed write shows up as a gpg failure below.
            let _ = w.join();
        }
        if !out.status.success() {
            return Err(gpg_error(
                step,
                format!("{} ({})", String::from_utf8_lossy(&out.stderr).trim(), out.status),
            ));
        }
        Ok(out.stdout)
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        // Stop the agent this home started; the TempDir then removes the home.
        kill_agent(self.home.path());
        if let Ok(mut live) = LIVE_HOMES.lock() {
            live.retain(|h| h != self.home.path());
        }
    }
}
