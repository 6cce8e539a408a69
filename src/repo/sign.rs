//! OpenPGP signing in this process, with rpgp (the `pgp` crate): no gpg, no agent, no TTY and
//! no temporary keyring home.
//!
//! A [`Signer`] holds one secret key, read from an armored or binary key file (as
//! `gpg --export-secret-keys` writes it, or as [`Signer::generate`] makes it) and unlocked once
//! with the passphrase from the file named by `CTS_DEB_GPG_PASSPHRASE_FILE`, if the key has one.
//! It signs with the newest signing subkey, else with the primary key, as gpg chooses, and only
//! with keys apt's verifiers accept: Ed25519 (OpenPGP v4, the form gpgv 2.2 reads) or RSA of at
//! least 3072 bits; every signature uses SHA-512. Why native and not gpg: `docs/publish.md`.

use std::path::{Path, PathBuf};

use pgp::composed::{
    ArmorOptions, CleartextSignedMessage, Deserializable, DetachedSignature, KeyType,
    SecretKeyParamsBuilder, SignedPublicKey, SignedSecretKey,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{SignatureConfig, SignatureType, Subpacket, SubpacketData};
use pgp::ser::Serialize;
use pgp::types::{
    EddsaLegacyPublicParams, KeyDetails, KeyVersion, Password, PublicParams, SigningKey, Timestamp,
};

use super::error::{RepoError, Result};
use crate::fsx;

/// Environment variable naming a file whose first line is the signing key's passphrase.
pub const PASSPHRASE_ENV: &str = "CTS_DEB_GPG_PASSPHRASE_FILE";

/// The digest of every signature.
const DIGEST: HashAlgorithm = HashAlgorithm::Sha512;

/// Smallest RSA modulus accepted (apt-repository.md §4).
const MIN_RSA_BITS: usize = 3072;

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

/// Refuses keys that apt (gpgv 2.2 in Debian 12, sqv later) cannot verify or that are weak.
fn check_algorithm(path: &Path, key: &impl SigningKey) -> std::result::Result<(), RepoError> {
    if key.version() != KeyVersion::V4 {
        return Err(key_error(
            path,
            format!(
                "{:?} keys are not supported: gpgv in Debian 12 reads OpenPGP v4 keys only",
                key.version()
            ),
        ));
    }
    match key.public_params() {
        PublicParams::EdDSALegacy(EddsaLegacyPublicParams::Ed25519 { .. }) => Ok(()),
        PublicParams::RSA(rsa) => {
            // The modulus is the first MPI, which starts with its length in bits.
            let mpis = rsa.to_bytes().unwrap_or_default();
            let bits = mpis.get(..2).map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
            if bits >= MIN_RSA_BITS {
                Ok(())
            } else {
                Err(key_error(
                    path,
                    format!("RSA key of {bits} bits is too weak: use Ed25519 or RSA of at least {MIN_RSA_BITS} bits"),
                ))
            }
        }
        _ => Err(key_error(
            path,
            format!(
                "{:?} keys are not supported: use Ed25519 or RSA of at least {MIN_RSA_BITS} bits",
                key.algorithm()
            ),
        )),
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

impl Signer {
    /// Reads, checks and unlocks the secret key in `key_file`.
    pub fn load(key_file: &Path) -> Result<Signer> {
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
        let (password, passphrase_file) = passphrase()?;
        let unlocked = match signing {
            SigningPart::Primary => {
                check_algorithm(key_file, &key.primary_key)?;
                key.primary_key.remove_password(&password)
            }
            SigningPart::Subkey(i) => {
                check_algorithm(key_file, &key.secret_subkeys[i].key)?;
                key.secret_subkeys[i].key.remove_password(&password)
            }
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
    pub fn load_expecting(key_file: &Path, expected: Option<&str>) -> Result<Signer> {
        let signer = Signer::load(key_file)?;
        match expected {
            Some(fpr) if !fpr.eq_ignore_ascii_case(signer.fingerprint()) => {
                Err(RepoError::WrongKey {
                    path: key_file.to_path_buf(),
                    expected: fpr.to_string(),
                    found: signer.fingerprint().to_string(),
                })
            }
            _ => Ok(signer),
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
        SignedPublicKey::from(self.key.clone()).to_bytes().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gpgv(keyring: &[u8], files: &[&Path]) -> std::process::Output {
        let dir = tempfile::tempdir().unwrap();
        let ring = dir.path().join("ring.gpg");
        std::fs::write(&ring, keyring).unwrap();
        std::process::Command::new("gpgv").arg("--keyring").arg(&ring).args(files).output().unwrap()
    }

    #[test]
    fn generated_key_signs_what_gpgv_accepts() {
        if std::process::Command::new("gpgv").arg("--version").output().is_err() {
            eprintln!("gpgv not installed: skipped");
            return;
        }
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
