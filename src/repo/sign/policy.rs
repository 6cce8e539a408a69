//! Which signing keys apt can verify, checked when a key is loaded so that a publish never
//! writes an InRelease that clients refuse.
//!
//! apt 3.0 (Debian 13) verifies with `sqv` under `/usr/share/apt/default-sequoia.config`, which
//! judges the whole certificate, not only the signature over Release: DSA is rejected since
//! 2024-02-01; SHA-1, SHA-224 and v3 signatures since 2026-02-01, including the SHA-1
//! self-signatures and binding signatures of keys made with `gpg --cert-digest-algo SHA1`, which
//! gpgv in Debian 12 still accepts. Like sequoia, only the newest self-signature of each user ID
//! and the newest binding of the signing subkey are judged (older ones are superseded); unlike
//! sequoia, we do not fall back to an older acceptable one when the newest is weak, because the
//! key's flags and expiry would then come from a signature its owner replaced.
//!
//! The project's own rule is stricter than apt's: Ed25519 or RSA of at least 3072 bits, for the
//! primary key and the signing subkey alike. So no accepted key reaches one of the policy's
//! future cut-offs (Brainpool 2028-02-01, RSA-2048 2030-02-01) within a year; the one thing
//! that can stop an accepted key within a year is its own expiry, which is warned about.

use pgp::composed::{SignedSecretKey, SignedSecretSubKey};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{Signature, SignatureType, SignatureVersion};
use pgp::ser::Serialize;
use pgp::types::{EddsaLegacyPublicParams, KeyDetails, KeyVersion, PublicParams, SigningKey};

/// Smallest RSA modulus accepted (apt-repository.md §4).
pub const MIN_RSA_BITS: usize = 3072;

/// A key that expires within this many seconds is warned about.
const WARN_AHEAD_SECS: u64 = 365 * 24 * 3600;

const NEW_KEY: &str =
    "or, for a new repository, make a new key with `cts-deb repo init --generate-key`";

/// Refuses a key apt cannot verify (the reason, one line, says what to do) and returns
/// warnings about a key that will stop working within a year. `subkey` is the signing subkey,
/// if the primary key does not sign; `now` is in seconds since the epoch.
pub(super) fn check(
    key: &SignedSecretKey,
    subkey: Option<&SignedSecretSubKey>,
    now: u64,
) -> Result<Vec<String>, String> {
    algorithm("the primary key", &key.primary_key)?;
    if let Some(sub) = subkey {
        algorithm(&format!("signing subkey {:X}", sub.key.fingerprint()), &sub.key)?;
    }
    self_signatures(key)?;
    if let Some(sub) = subkey {
        subkey_binding(key, sub)?;
    }
    expiry(key, subkey, now)
}

/// Ed25519 (OpenPGP v4, the form gpgv 2.2 in Debian 12 reads) or RSA of at least
/// [`MIN_RSA_BITS`]; DSA, ElGamal, NIST and Brainpool curves and v6 keys are refused.
fn algorithm(what: &str, key: &impl SigningKey) -> Result<(), String> {
    if key.version() != KeyVersion::V4 {
        return Err(format!(
            "{what}: {:?} keys are not supported: gpgv in Debian 12 reads OpenPGP v4 keys only",
            key.version()
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
                Err(format!(
                    "{what}: RSA key of {bits} bits is too weak: use Ed25519 or RSA of at least \
                     {MIN_RSA_BITS} bits"
                ))
            }
        }
        _ => Err(format!(
            "{what}: {:?} keys are not supported: use Ed25519 or RSA of at least {MIN_RSA_BITS} \
             bits",
            key.algorithm()
        )),
    }
}

/// Why sqv under apt 3.0's policy rejects `sig` ("uses SHA-1, which …"), if it does.
fn weakness(sig: &Signature) -> Option<String> {
    match sig.version() {
        SignatureVersion::V4 => {}
        SignatureVersion::V3 => {
            return Some(
                "is a v3 signature, which apt 3.0 (Debian 13) rejects since 2026-02-01".into(),
            )
        }
        v => return Some(format!("is a {v:?} signature, which apt cannot verify")),
    }
    let why = match sig.hash_alg() {
        Some(HashAlgorithm::Sha256 | HashAlgorithm::Sha384 | HashAlgorithm::Sha512) => return None,
        Some(HashAlgorithm::Sha1) => "SHA-1, which apt 3.0 (Debian 13) rejects since 2026-02-01",
        Some(HashAlgorithm::Sha224) => {
            "SHA-224, which apt 3.0 (Debian 13) rejects since 2026-02-01"
        }
        Some(HashAlgorithm::Md5) => "MD5, which apt rejects",
        Some(HashAlgorithm::Ripemd160) => "RIPEMD-160, which apt 3.0 (Debian 13) rejects",
        Some(other) => return Some(format!("uses {other}, which not every apt verifier supports")),
        None => return Some("uses an unknown hash algorithm".into()),
    };
    Some(format!("uses {why}"))
}

/// Made by the primary key itself (or naming no issuer at all, which only a self-signature
/// can get away with).
fn by_primary(sig: &Signature, primary: &impl KeyDetails) -> bool {
    let (fprs, ids) = (sig.issuer_fingerprint(), sig.issuer_key_id());
    (fprs.is_empty() && ids.is_empty())
        || fprs.iter().any(|f| **f == primary.fingerprint())
        || ids.iter().any(|id| **id == primary.legacy_key_id())
}

/// A user ID certification (not its revocation).
fn is_certification(sig: &Signature) -> bool {
    use SignatureType::{CertCasual, CertGeneric, CertPersona, CertPositive};
    matches!(sig.typ(), Some(CertGeneric | CertPersona | CertCasual | CertPositive))
}

/// The newest of `sigs` by creation time.
fn newest<'a>(sigs: impl Iterator<Item = &'a Signature>) -> Option<&'a Signature> {
    sigs.max_by_key(|s| s.created().map_or(0, |t| t.as_secs()))
}

/// The newest self-signature of each user ID and the newest direct-key signature.
fn self_signatures(key: &SignedSecretKey) -> Result<(), String> {
    let primary = &key.primary_key;
    let fpr = format!("{:X}", primary.fingerprint());
    let mut any = false;
    for user in &key.details.users {
        let own = user.signatures.iter().filter(|s| is_certification(s) && by_primary(s, primary));
        let Some(sig) = newest(own) else { continue };
        any = true;
        if let Some(why) = weakness(sig) {
            let uid = String::from_utf8_lossy(user.id.id());
            return Err(format!(
                "the self-signature on user ID `{uid}` {why}: re-sign it with `gpg \
                 --cert-digest-algo SHA512 --quick-set-expire {fpr} {}` and export the key \
                 again ({NEW_KEY})",
                expire_arg(key)
            ));
        }
    }
    let direct = key.details.direct_signatures.iter();
    let direct = direct.filter(|s| s.typ() == Some(SignatureType::Key) && by_primary(s, primary));
    if let Some(sig) = newest(direct) {
        any = true;
        if let Some(why) = weakness(sig) {
            return Err(format!("the direct-key self-signature {why}: {NEW_KEY}"));
        }
    }
    if any {
        Ok(())
    } else {
        Err(format!("the key has no self-signature, so apt cannot use it: {NEW_KEY}"))
    }
}

/// The signing subkey's newest binding signature and the primary-key binding ("back")
/// signature embedded in it, by which the subkey agrees to belong to the primary key.
fn subkey_binding(key: &SignedSecretKey, sub: &SignedSecretSubKey) -> Result<(), String> {
    let fpr = format!("{:X}", key.primary_key.fingerprint());
    let remedy = format!(
        "add a new signing subkey with `gpg --cert-digest-algo SHA512 --quick-add-key {fpr} \
         ed25519 sign` and export the key again ({NEW_KEY})"
    );
    let what = format!("signing subkey {:X}", sub.key.fingerprint());
    let bindings = sub.signatures.iter().filter(|s| s.typ() == Some(SignatureType::SubkeyBinding));
    let Some(binding) = newest(bindings) else {
        return Err(format!("{what} has no binding signature: {remedy}"));
    };
    if let Some(why) = weakness(binding) {
        return Err(format!("the binding signature of {what} {why}: {remedy}"));
    }
    let Some(back) = binding.embedded_signature() else {
        return Err(format!(
            "{what} has no primary-key binding (back) signature, which apt requires: {remedy}"
        ));
    };
    match weakness(back) {
        Some(why) => {
            Err(format!("the primary-key binding (back) signature of {what} {why}: {remedy}"))
        }
        None => Ok(()),
    }
}

/// When a binding made at `created` with `sig`'s key expiration time expires, if it does.
fn expires_at(created: u32, sig: Option<&Signature>) -> Option<u64> {
    let secs = sig?.key_expiration_time()?.as_secs();
    (secs > 0).then(|| u64::from(created) + u64::from(secs))
}

/// The primary key's expiry, from its newest self-signature.
fn primary_expiry(key: &SignedSecretKey) -> Option<u64> {
    let primary = &key.primary_key;
    let certs = key.details.users.iter().flat_map(|u| u.signatures.iter());
    let direct = key.details.direct_signatures.iter();
    let own = certs
        .filter(|s| is_certification(s))
        .chain(direct.filter(|s| s.typ() == Some(SignatureType::Key)));
    let sig = newest(own.filter(|s| by_primary(s, primary)));
    expires_at(primary.created_at().as_secs(), sig)
}

/// `gpg --quick-set-expire`'s expiry argument that keeps the key's expiry: `0` for none.
fn expire_arg(key: &SignedSecretKey) -> String {
    primary_expiry(key).map_or_else(|| "0".into(), date)
}

/// `YYYY-MM-DD` (UTC) of a time in seconds since the epoch.
fn date(secs: u64) -> String {
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    time::OffsetDateTime::from_unix_timestamp(secs)
        .map_or_else(|_| format!("@{secs}"), |t| t.date().to_string())
}

/// Refuses an expired key (apt rejects what it signs) and warns about one that expires within
/// a year.
fn expiry(
    key: &SignedSecretKey,
    subkey: Option<&SignedSecretSubKey>,
    now: u64,
) -> Result<Vec<String>, String> {
    let fpr = format!("{:X}", key.primary_key.fingerprint());
    let mut ends = vec![(primary_expiry(key), "the primary key".to_string(), String::new())];
    if let Some(sub) = subkey {
        let bindings =
            sub.signatures.iter().filter(|s| s.typ() == Some(SignatureType::SubkeyBinding));
        let at = expires_at(sub.key.created_at().as_secs(), newest(bindings));
        let sub_fpr = format!("{:X}", sub.key.fingerprint());
        ends.push((at, format!("signing subkey {sub_fpr}"), format!(" {sub_fpr}")));
    }
    let mut warnings = Vec::new();
    for (at, what, target) in ends {
        let Some(at) = at else { continue };
        let remedy = format!(
            "extend it with `gpg --quick-set-expire {fpr} 2y{target}` and export the key again"
        );
        if at <= now {
            return Err(format!(
                "{what} expired on {}, and apt rejects signatures made after that: {remedy}",
                date(at)
            ));
        }
        if at <= now + WARN_AHEAD_SECS {
            warnings.push(format!(
                "{what} expires on {}; after that apt rejects this repository's signatures: \
                 {remedy}",
                date(at)
            ));
        }
    }
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use pgp::composed::{KeyType, SecretKeyParamsBuilder};
    use pgp::crypto::public_key::PublicKeyAlgorithm;
    use pgp::packet::{SignatureConfig, Subpacket, SubpacketData};
    use pgp::types::{Duration, Fingerprint, Mpi, SignatureBytes, Timestamp};

    use super::*;

    const DAY: u32 = 24 * 3600;

    fn key() -> SignedSecretKey {
        let params = SecretKeyParamsBuilder::default()
            .key_type(KeyType::Ed25519Legacy)
            .can_certify(true)
            .can_sign(true)
            .primary_user_id("t <t@cts.invalid>".into())
            .build()
            .unwrap();
        params.generate(rand::thread_rng()).unwrap()
    }

    fn now() -> u32 {
        Timestamp::now().as_secs()
    }

    /// A user ID certification with these properties; its signature bytes are not valid (the
    /// policy looks at what a signature says, not whether it verifies).
    fn cert(
        hash: HashAlgorithm,
        created: u32,
        issuer: Fingerprint,
        expires: Option<u32>,
    ) -> Signature {
        let mut config =
            SignatureConfig::v4(SignatureType::CertPositive, PublicKeyAlgorithm::EdDSALegacy, hash);
        let mut hashed = vec![
            SubpacketData::SignatureCreationTime(Timestamp::from_secs(created)),
            SubpacketData::IssuerFingerprint(issuer),
        ];
        hashed.extend(expires.map(|e| SubpacketData::KeyExpirationTime(Duration::from_secs(e))));
        config.hashed_subpackets =
            hashed.into_iter().map(|d| Subpacket::regular(d).unwrap()).collect();
        let bytes = SignatureBytes::Mpis(vec![Mpi::from_slice(&[1])]);
        Signature::from_config(config, [0, 0], bytes).unwrap()
    }

    fn with_cert(mut key: SignedSecretKey, sig: Signature) -> SignedSecretKey {
        key.details.users[0].signatures.push(sig);
        key
    }

    #[test]
    fn weak_hashes_and_v3_signatures_are_named() {
        let fpr = key().primary_key.fingerprint();
        let why = |hash| weakness(&cert(hash, now(), fpr.clone(), None));
        assert_eq!(why(HashAlgorithm::Sha512), None);
        assert_eq!(why(HashAlgorithm::Sha256), None);
        for (hash, name) in [
            (HashAlgorithm::Sha1, "uses SHA-1, which apt 3.0 (Debian 13) rejects since 2026-02-01"),
            (HashAlgorithm::Sha224, "uses SHA-224, which"),
            (HashAlgorithm::Md5, "uses MD5, which apt rejects"),
            (HashAlgorithm::Ripemd160, "uses RIPEMD-160, which"),
        ] {
            assert!(why(hash).unwrap().starts_with(name), "{hash:?}");
        }
        let config = SignatureConfig::v3(
            SignatureType::CertPositive,
            PublicKeyAlgorithm::EdDSALegacy,
            HashAlgorithm::Sha512,
            Timestamp::now(),
            key().primary_key.legacy_key_id(),
        );
        let bytes = SignatureBytes::Mpis(vec![Mpi::from_slice(&[1])]);
        let v3 = Signature::from_config(config, [0, 0], bytes).unwrap();
        assert!(weakness(&v3).unwrap().starts_with("is a v3 signature, which apt 3.0"));
    }

    #[test]
    fn only_the_newest_self_signature_of_a_user_id_counts() {
        let generated = key();
        let fpr = generated.primary_key.fingerprint();
        assert_eq!(check(&generated, None, now().into()), Ok(vec![]));
        // An older SHA-1 self-signature is superseded; a newer one is what apt reads.
        let old = cert(HashAlgorithm::Sha1, 1_000_000, fpr.clone(), None);
        assert_eq!(check(&with_cert(generated.clone(), old), None, now().into()), Ok(vec![]));
        let new = cert(HashAlgorithm::Sha1, now() + 10, fpr, None);
        let err = check(&with_cert(generated.clone(), new), None, now().into()).unwrap_err();
        assert!(err.starts_with("the self-signature on user ID `t <t@cts.invalid>` uses SHA-1"));
        assert!(err.contains("--quick-set-expire"), "{err}");
        // Someone else's SHA-1 certification does not matter.
        let other = key().primary_key.fingerprint();
        let third = cert(HashAlgorithm::Sha1, now() + 10, other, None);
        assert_eq!(check(&with_cert(generated, third), None, now().into()), Ok(vec![]));
    }

    #[test]
    fn expired_keys_are_refused_and_expiring_ones_warned_about() {
        let generated = key();
        let fpr = generated.primary_key.fingerprint();
        let made = generated.primary_key.created_at().as_secs();
        let lifetime = |days: u32| Some(now() - made + days * DAY);
        let soon = cert(HashAlgorithm::Sha512, now() + 10, fpr.clone(), lifetime(100));
        let warnings = check(&with_cert(generated.clone(), soon), None, now().into()).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].starts_with("the primary key expires on "), "{warnings:?}");
        assert!(warnings[0].contains("--quick-set-expire"), "{warnings:?}");
        let later = cert(HashAlgorithm::Sha512, now() + 10, fpr.clone(), lifetime(400));
        assert_eq!(check(&with_cert(generated.clone(), later), None, now().into()), Ok(vec![]));
        // Checked two days from now, a key made today to last one day has expired.
        let gone = cert(HashAlgorithm::Sha512, now() + 10, fpr, Some(DAY));
        let err = check(&with_cert(generated, gone), None, (now() + 2 * DAY).into()).unwrap_err();
        assert!(err.starts_with("the primary key expired on "), "{err}");
    }
}
