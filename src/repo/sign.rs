//! OpenPGP signing in this process, with rpgp (the `pgp` crate): no gpg, no agent, no TTY and
//! no temporary keyring home.
//!
//! A [`Signer`] holds one secret key, read from an armored or binary key file (as
//! `gpg --export-secret-keys` writes it, or as [`Signer::generate`] makes it) and unlocked once
//! with the passphrase from the file named by `CTS_DEB_GPG_PASSPHRASE_FILE`, if the key has one.
//! It signs with the newest signing subkey, else with the primary key, as gpg chooses, and only
//! with keys apt's verifiers accept (`policy`: Ed25519 or RSA of at least 3072 bits, and
//! self-signatures and bindings apt 3.0's `sqv` accepts); every signature uses SHA-512. Why
//! native and not gpg: `docs/publish.md`.

use std::path::{Path, PathBuf};

use pgp::composed::{
    ArmorOptions, CleartextSignedMessage, Deserializable, DetachedSignature, KeyType,
    SecretKeyParamsBuilder, SignedPublicKey, SignedSecretKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{SignatureConfig, SignatureType, Subpacket, SubpacketData};
use pgp::types::{KeyDetails, Password, SigningKey, Timestamp};

use super::error::{RepoError, Result};
use crate::fsx;
use crate::report::Reporter;

mod policy;

/// Environment variable naming a file whose first line is the signing key's passphrase.
pub const PASSPHRASE_ENV: &str = "CTS_DEB_GPG_PASSPHRASE_FILE";

/// The digest of every signature.
const DIGEST: HashAlgorithm = HashAlgorithm::Sha512;

/// One secret key, unlocked, ready to sign.
#[derive(Debug)]
pub struct Signer {
    key: SignedSecretKey,
    signing: SigningPart,
    fingerprint: String,
}

/// Which part of the key makes signatures: the primary key, or the subkey at this index.
#[derive(Debug, Clone, Copy)]
enum SigningPart {
    Primary,
    Subkey(usize),
}

fn key_error(path: &Path, reason: impl Into<String>) -> RepoError {
    RepoError::SigningKey { path: path.to_path_buf(), reason: reason.into() }
}

fn sign_error(step: &'static str, err: impl std::fmt::Display) -> RepoError {
    RepoError::Sign { step, message: err.to_string() }
}

/// The passphrase: the first line of the file named by [`PASSPHRASE_ENV`], else empty.
fn passphrase() -> Result<(Password, Option<PathBuf>)> {
    match std::env::var_os(PASSPHRASE_ENV) {
        Some(file) => {
            let file = PathBuf::from(file);
            let text = fsx::read(&file)?;
            let line = text.split(|b| *b == b'\n').next().unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            Ok((Password::from(line), Some(file)))
        }
        None => Ok((Password::empty(), None)),
    }
}

/// gpg's choice of signing key: the newest subkey whose binding allows signing, else the
/// primary key if its self-signatures allow signing (or say nothing about it).
fn signing_part(key: &SignedSecretKey) -> Option<SigningPart> {
    let subkey = key
        .secret_subkeys
        .iter()
        .enumerate()
        .filter(|(_, s)| s.signatures.iter().any(|sig| sig.key_flags().sign()))
        .max_by_key(|(_, s)| s.key.created_at())
        .map(|(i, _)| SigningPart::Subkey(i));
    if subkey.is_some() {
        return subkey;
    }
    let self_sigs: Vec<_> = key
        .details
        .direct_signatures
        .iter()
        .chain(key.details.users.iter().flat_map(|u| u.signatures.iter()))
        .collect();
    let flagged: Vec<_> =
        self_sigs.iter().filter(|s| s.key_flags() != Default::default()).collect();
    (flagged.is_empty() || flagged.iter().any(|s| s.key_flags().sign()))
        .then_some(SigningPart::Primary)
}

/// [`policy::check`] now: refuses a key apt would not accept and passes on its warnings.
fn check_policy(
    key_file: &Path,
    key: &SignedSecretKey,
    signing: SigningPart,
    reporter: &dyn Reporter,
) -> Result<()> {
    let subkey = match signing {
        SigningPart::Primary => None,
        SigningPart::Subkey(i) => Some(&key.secret_subkeys[i]),
    };
    let now = u64::from(Timestamp::now().as_secs());
    let warnings = policy::check(key, subkey, now).map_err(|r| key_error(key_file, r))?;
    for warning in warnings {
        reporter.warn(&format!("signing key `{}`: {warning}", key_file.display()));
    }
    Ok(())
}

impl Signer {
    /// Reads, checks and unlocks the secret key in `key_file`; a key that will stop working
    /// within a year is reported to `reporter`.
    pub fn load(key_file: &Path, reporter: &dyn Reporter) -> Result<Signer> {
        if !key_file.is_file() {
            return Err(RepoError::Usage(format!(
                "signing key file `{}` does not exist",
                key_file.display()
            )));
        }
        let bytes = fsx::read(key_file)?;
        let parsed = if bytes.trim_ascii_start().starts_with(b"-----BEGIN") {
            SignedSecretKey::from_armor_single(&bytes[..]).map(|(k, _)| k)
        } else {
            SignedSecretKey::from_bytes(&bytes[..])
        };
        let mut key = parsed.map_err(|e| {
            key_error(key_file, format!("no OpenPGP secret key could be read: {e}"))
        })?;
        let signing = signing_part(&key)
            .ok_or_else(|| key_error(key_file, "the key has no part that may sign"))?;
        check_policy(key_file, &key, signing, reporter)?;
        let (password, passphrase_file) = passphrase()?;
        let unlocked = match signing {
            SigningPart::Primary => key.primary_key.remove_password(&password),
            SigningPart::Subkey(i) => key.secret_subkeys[i].key.remove_password(&password),
        };
        unlocked.map_err(|e| {
            let hint = match passphrase_file {
                Some(f) => format!("the passphrase in `{}` does not unlock it", f.display()),
                None => format!(
                    "it is protected by a passphrase: name a file holding it in {PASSPHRASE_ENV}"
                ),
            };
            key_error(key_file, format!("cannot unlock the key ({e}): {hint}"))
        })?;
        Ok(Signer::new(key, signing))
    }

    /// [`Signer::load`], refusing a key other than the repository's (`expected`, a fingerprint
    /// as recorded at `repo init`; `None` before the repository has one).
    pub fn load_expecting(
        key_file: &Path,
        expected: Option<&str>,
        reporter: &dyn Reporter,
    ) -> Result<Signer> {
        let signer = Signer::load(key_file, reporter)?;
        signer.expect(key_file, expected)?;
        Ok(signer)
    }

    /// Refuses this key (read from `key_file`) if it is not the repository's (`expected`).
    pub fn expect(&self, key_file: &Path, expected: Option<&str>) -> Result<()> {
        match expected {
            Some(fpr) if !fpr.eq_ignore_ascii_case(self.fingerprint()) => {
                Err(RepoError::WrongKey {
                    path: key_file.to_path_buf(),
                    expected: fpr.to_string(),
                    found: self.fingerprint().to_string(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Generates an Ed25519 key (v4, sign and certify, no expiry, no passphrase) for `uid`.
    pub fn generate(uid: &str) -> Result<Signer> {
        let params = SecretKeyParamsBuilder::default()
            .key_type(KeyType::Ed25519Legacy)
            .can_certify(true)
            .can_sign(true)
            .primary_user_id(uid.to_string())
            .build()
            .map_err(|e| sign_error("generate an Ed25519 key", e))?;
        let key = params
            .generate(rand::thread_rng())
            .map_err(|e| sign_error("generate an Ed25519 key", e))?;
        Ok(Signer::new(key, SigningPart::Primary))
    }

    fn new(key: SignedSecretKey, signing: SigningPart) -> Signer {
        let fingerprint = format!("{:X}", key.primary_key.fingerprint());
        Signer { key, signing, fingerprint }
    }

    /// The primary key's fingerprint, upper-case hex as gpg prints it.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    fn with_signing_key<T>(&self, work: impl FnOnce(&dyn SigningKey) -> T) -> T {
        match self.signing {
            SigningPart::Primary => work(&self.key.primary_key),
            SigningPart::Subkey(i) => work(&self.key.secret_subkeys[i].key),
        }
    }

    /// `InRelease`: `text` clear-signed (a text signature over its lines without the final
    /// line break, which the cleartext framework does not sign).
    pub fn clearsign(&self, text: &str) -> Result<Vec<u8>> {
        let body = text.strip_suffix('\n').unwrap_or(text);
        if body.lines().any(|l| l.ends_with([' ', '\t'])) {
            // Verifiers strip trailing blanks before hashing; Release never has any.
            return Err(sign_error("clear-sign Release", "a line ends in white space"));
        }
        self.with_signing_key(|key| {
            let mut config = SignatureConfig::v4(SignatureType::Text, key.algorithm(), DIGEST);
            config.hashed_subpackets = vec![
                Subpacket::regular(SubpacketData::SignatureCreationTime(Timestamp::now()))?,
                Subpacket::regular(SubpacketData::IssuerFingerprint(key.fingerprint()))?,
            ];
            config.unhashed_subpackets =
                vec![Subpacket::regular(SubpacketData::IssuerKeyId(key.legacy_key_id()))?];
            CleartextSignedMessage::new(body, config, &Box::new(key), &Password::empty())?
                .to_armored_bytes(ArmorOptions::default())
        })
        .map_err(|e| sign_error("clear-sign Release", e))
    }

    /// `Release.gpg`: an armored detached binary signature over `data`.
    pub fn detach_sign(&self, data: &[u8]) -> Result<Vec<u8>> {
        self.with_signing_key(|key| {
            DetachedSignature::sign_binary_data(
                rand::thread_rng(),
                &Box::new(key),
                &Password::empty(),
                DIGEST,
                data,
            )?
            .to_armored_bytes(ArmorOptions::default())
        })
        .map_err(|e| sign_error("sign Release", e))
    }

    /// The armored public key (certificate).
    pub fn export_public(&self) -> Result<String> {
        SignedPublicKey::from(self.key.clone())
            .to_armored_string(ArmorOptions::default())
            .map_err(|e| sign_error("export the public key", e))
    }

    /// The armored secret key, unprotected: for writing out a key [`Signer::generate`] made
    /// (a loaded key is held unlocked, so its passphrase stays only in its own file).
    pub fn export_secret(&self) -> Result<Vec<u8>> {
        self.key
            .to_armored_bytes(ArmorOptions::default())
            .map_err(|e| sign_error("export the secret key", e))
    }

    /// The binary public key, for tests that build a keyring.
    #[cfg(test)]
    fn public_bytes(&self) -> Vec<u8> {
        use pgp::ser::Serialize;
        SignedPublicKey::from(self.key.clone()).to_bytes().unwrap_or_default()
    }
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // tests may use std::fs directly
mod tests {
    use super::*;

    fn gpgv(keyring: &[u8], files: &[&Path]) -> std::process::Output {
        let dir = tempfile::tempdir().unwrap();
        let ring = dir.path().join("ring.gpg");
        std::fs::write(&ring, keyring).unwrap();
        std::process::Command::new("gpgv")
            .arg("--keyring")
            .arg(&ring)
            .args(files)
            .output()
            .expect("gpgv runs (scripts/install-deps installs it)")
    }

    #[test]
    fn generated_key_signs_what_gpgv_accepts() {
        let signer = Signer::generate("test key <t@cts.invalid>").unwrap();
        assert_eq!(signer.fingerprint().len(), 40);
        let dir = tempfile::tempdir().unwrap();
        let text = "Origin: T\nLabel: T\nSuite: s\n";
        let release = dir.path().join("Release");
        std::fs::write(&release, text).unwrap();
        let sig = dir.path().join("Release.gpg");
        std::fs::write(&sig, signer.detach_sign(text.as_bytes()).unwrap()).unwrap();
        let inrelease = dir.path().join("InRelease");
        let clear = signer.clearsign(text).unwrap();
        std::fs::write(&inrelease, &clear).unwrap();
        let ring = signer.public_bytes();
        let out = gpgv(&ring, &[&sig, &release]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let out = gpgv(&ring, &[&inrelease]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let clear = String::from_utf8(clear).unwrap();
        assert!(clear.starts_with("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n"));
        assert!(clear.contains("\nSuite: s\n-----BEGIN PGP SIGNATURE-----\n"), "{clear}");
        // A changed byte is caught.
        std::fs::write(&release, "Origin: X\nLabel: T\nSuite: s\n").unwrap();
        assert!(!gpgv(&ring, &[&sig, &release]).status.success());
    }

    #[test]
    fn trailing_white_space_is_refused() {
        let signer = Signer::generate("t <t@cts.invalid>").unwrap();
        assert!(signer.clearsign("Origin: T \n").is_err());
    }
}
