//! The vault's cryptography, in one place.
//!
//! - The vault identity is an age X25519 identity. `vault.key` is that identity
//!   encrypted with age to the passphrase (scrypt, work factor pinned here).
//! - The SQLCipher key and the fingerprint key are derived from the identity
//!   with HKDF-SHA256 under distinct labels, so neither reveals the other.
//! - Each secret value is sealed with age to the vault's own recipient, and the
//!   sealed plaintext names the entry and field it belongs to; opening checks
//!   both, so a sealed blob moved to another row is refused, not served.
//! - A keyed fingerprint (HMAC-SHA256) of each value lets findings spot the
//!   same secret stored twice without decrypting anything.

use std::fmt;
use std::io::{Read, Write};
use std::iter;

use age::secrecy::ExposeSecret;
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::{Error, Result};
use crate::secret::{DerivedKey, Passphrase, SecretValue};

/// scrypt work factor (N = 2^log_n) for `vault.key`.
///
/// Pinned rather than calibrated, so a vault written on a fast machine opens
/// on a slow one. 2^18 costs 256 MiB and about 0.9 s here.
pub const DEFAULT_LOG_N: u8 = 18;
/// Highest work factor a `vault.key` may demand before we refuse to try:
/// 2^20 is 1 GiB of memory. Protects against a planted file that would take
/// hours and tens of GiB.
pub const MAX_LOG_N: u8 = 20;
/// Lowest work factor accepted when writing; below this the passphrase gives
/// little protection. Only tests and benchmarks go below `DEFAULT_LOG_N`.
pub const MIN_LOG_N: u8 = 10;

/// How hard `vault.key` is to brute-force.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    log_n: u8,
}

impl KdfParams {
    /// A lower work factor, for tests and benchmarks only: a vault made with it
    /// falls to a cheap guessing attack.
    pub fn insecure_for_tests(log_n: u8) -> Result<Self> {
        if !(MIN_LOG_N..=MAX_LOG_N).contains(&log_n) {
            return Err(Error::InvalidKdf {
                min: MIN_LOG_N,
                max: MAX_LOG_N,
            });
        }
        Ok(Self { log_n })
    }

    pub fn log_n(self) -> u8 {
        self.log_n
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self {
            log_n: DEFAULT_LOG_N,
        }
    }
}

const SEAL_MAGIC: &[u8] = b"keyward-secret-v1\n";
const LABEL_DB_KEY: &[u8] = b"keyward v1 sqlcipher page key";
const LABEL_FINGERPRINT: &[u8] = b"keyward v1 secret fingerprint key";
const LABEL_AUDIT_CHAIN: &[u8] = b"keyward v2 audit chain key";
const LABEL_AUDIT_ANCHOR: &[u8] = b"keyward v1 audit anchor key";

/// The vault's age X25519 identity. Never written anywhere unencrypted.
/// `Clone` lets a caller keep it across a lock (the OS keyring, a benchmark);
/// every copy wipes itself on drop.
#[derive(Clone)]
pub struct VaultIdentity {
    identity: age::x25519::Identity,
}

impl fmt::Debug for VaultIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VaultIdentity([redacted])")
    }
}

impl VaultIdentity {
    pub(crate) fn generate() -> Self {
        Self {
            identity: age::x25519::Identity::generate(),
        }
    }

    /// The identity as text, for the OS keyring ("remember on this device").
    pub fn to_keyring_text(&self) -> Zeroizing<String> {
        // EXPOSE: stored in the OS keyring, which encrypts it at rest.
        Zeroizing::new(self.identity.to_string().expose_secret().to_owned())
    }

    /// An identity read back from the OS keyring.
    pub fn from_keyring_text(text: &str) -> Result<Self> {
        text.trim()
            .parse::<age::x25519::Identity>()
            .map(|identity| Self { identity })
            .map_err(|_| Error::RememberedKeyInvalid)
    }

    /// The public half, which anyone may encrypt to.
    pub fn recipient(&self) -> age::x25519::Recipient {
        self.identity.to_public()
    }

    /// `vault.key`: the identity encrypted to the passphrase.
    pub(crate) fn wrap(&self, passphrase: &Passphrase, kdf: KdfParams) -> Result<Vec<u8>> {
        let mut recipient = age::scrypt::Recipient::new(passphrase.to_secret_string());
        recipient.set_work_factor(kdf.log_n);
        let encryptor = age::Encryptor::with_recipients(iter::once(&recipient as _))
            .map_err(|_| Error::Crypto("could not set up the passphrase encryption"))?;
        // EXPOSE: the identity's text form is the plaintext of vault.key.
        let text = self.identity.to_string();
        let mut out = Vec::with_capacity(512);
        let mut writer = encryptor
            .wrap_output(&mut out)
            .map_err(|_| Error::Crypto("could not encrypt vault.key"))?;
        writer
            .write_all(text.expose_secret().as_bytes())
            .and_then(|()| writer.finish().map(|_| ()))
            .map_err(|_| Error::Crypto("could not encrypt vault.key"))?;
        Ok(out)
    }

    /// Reads `vault.key`. Any failure of the passphrase is `WrongPassphrase`;
    /// a file that is not a well-formed age file is `KeyFileDamaged`.
    pub(crate) fn unwrap(bytes: &[u8], passphrase: &Passphrase) -> Result<Self> {
        let decryptor = age::Decryptor::new_buffered(bytes).map_err(|_| Error::KeyFileDamaged)?;
        if !decryptor.is_scrypt() {
            return Err(Error::KeyFileDamaged);
        }
        let mut identity = age::scrypt::Identity::new(passphrase.to_secret_string());
        identity.set_max_work_factor(MAX_LOG_N);
        let mut reader = decryptor
            .decrypt(iter::once(&identity as &dyn age::Identity))
            .map_err(|e| match e {
                age::DecryptError::ExcessiveWork { .. } => Error::ExcessiveWork { max: MAX_LOG_N },
                age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
                    Error::WrongPassphrase
                }
                // The header MAC covers the wrapped key: a damaged header with a
                // right passphrase fails here too, and is reported as damage.
                _ => Error::KeyFileDamaged,
            })?;
        let mut text = Zeroizing::new(Vec::with_capacity(128));
        reader
            .read_to_end(&mut text)
            .map_err(|_| Error::KeyFileDamaged)?;
        let text = std::str::from_utf8(&text).map_err(|_| Error::KeyFileDamaged)?;
        let identity = text
            .trim()
            .parse::<age::x25519::Identity>()
            .map_err(|_| Error::KeyFileDamaged)?;
        Ok(Self { identity })
    }

    fn derive(&self, label: &[u8]) -> Result<DerivedKey> {
        // EXPOSE: the identity is the HKDF input keying material.
        let ikm = self.identity.to_string();
        let hk = Hkdf::<Sha256>::new(None, ikm.expose_secret().as_bytes());
        let mut okm = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit: never fails.
        hk.expand(label, okm.as_mut())
            .map_err(|_| Error::Crypto("key derivation failed"))?;
        Ok(DerivedKey::new(okm))
    }

    /// The raw 256-bit SQLCipher key.
    pub(crate) fn database_key(&self) -> Result<DerivedKey> {
        self.derive(LABEL_DB_KEY)
    }

    pub(crate) fn fingerprint_key(&self) -> Result<FingerprintKey> {
        self.derive(LABEL_FINGERPRINT).map(FingerprintKey)
    }

    /// The key the audit chain is MACed with, when the chain starts (then
    /// kept in the database: a later new identity does not break it).
    pub(crate) fn audit_chain_key(&self) -> Result<DerivedKey> {
        self.derive(LABEL_AUDIT_CHAIN)
    }

    /// Seals `audit.head`, the audit head kept beside the database.
    pub(crate) fn anchor_key(&self) -> Result<DerivedKey> {
        self.derive(LABEL_AUDIT_ANCHOR)
    }

    /// Opens a sealed secret and checks it belongs to `(entry_id, field)`.
    pub(crate) fn open(&self, sealed: &[u8], entry_id: &str, field: &str) -> Result<SecretValue> {
        let damaged = || Error::SecretDamaged {
            field: field.to_owned(),
        };
        let decryptor = age::Decryptor::new_buffered(sealed).map_err(|_| damaged())?;
        let mut reader = decryptor
            .decrypt(iter::once(&self.identity as &dyn age::Identity))
            .map_err(|_| damaged())?;
        let mut plain = Zeroizing::new(Vec::with_capacity(sealed.len()));
        reader.read_to_end(&mut plain).map_err(|_| damaged())?;
        let rest = plain.strip_prefix(SEAL_MAGIC).ok_or_else(damaged)?;
        let (sealed_id, rest) = split_line(rest).ok_or_else(damaged)?;
        let (sealed_field, value) = split_line(rest).ok_or_else(damaged)?;
        if sealed_id != entry_id.as_bytes() || sealed_field != field.as_bytes() {
            return Err(Error::SecretMisplaced {
                field: field.to_owned(),
            });
        }
        Ok(SecretValue::from_slice(value))
    }
}

/// The scrypt work factor (log2 N) `vault.key`'s header names, if it is a
/// passphrase-wrapped age file: `-> scrypt <salt> <log_n>`.
pub(crate) fn work_factor(key_file: &[u8]) -> Option<u8> {
    let mut lines = key_file.split(|&b| b == b'\n');
    if lines.next()? != b"age-encryption.org/v1" {
        return None;
    }
    let stanza = std::str::from_utf8(lines.next()?).ok()?;
    let mut parts = stanza.split(' ');
    if (parts.next(), parts.next()) != (Some("->"), Some("scrypt")) {
        return None;
    }
    let _salt = parts.next()?;
    parts.next()?.parse().ok()
}

/// Seals a value to the vault recipient, bound to `(entry_id, field)`.
pub(crate) fn seal(
    recipient: &age::x25519::Recipient,
    entry_id: &str,
    field: &str,
    value: &SecretValue,
) -> Result<Vec<u8>> {
    let mut plain = Zeroizing::new(Vec::with_capacity(
        SEAL_MAGIC.len() + entry_id.len() + field.len() + 2 + value.len(),
    ));
    plain.extend_from_slice(SEAL_MAGIC);
    plain.extend_from_slice(entry_id.as_bytes());
    plain.push(b'\n');
    plain.extend_from_slice(field.as_bytes());
    plain.push(b'\n');
    // EXPOSE: the value is the payload being sealed.
    plain.extend_from_slice(value.expose());
    let encryptor = age::Encryptor::with_recipients(iter::once(recipient as _))
        .map_err(|_| Error::Crypto("could not set up sealing"))?;
    let mut out = Vec::with_capacity(plain.len() + 256);
    let mut writer = encryptor
        .wrap_output(&mut out)
        .map_err(|_| Error::Crypto("could not seal a secret"))?;
    writer
        .write_all(&plain)
        .and_then(|()| writer.finish().map(|_| ()))
        .map_err(|_| Error::Crypto("could not seal a secret"))?;
    Ok(out)
}

/// Encrypts a small record to the vault's public recipient (no identity
/// needed): used to note failed unlocks while the vault is locked.
pub(crate) fn encrypt_to(recipient: &age::x25519::Recipient, plain: &[u8]) -> Result<Vec<u8>> {
    age::encrypt(recipient, plain).map_err(|_| Error::Crypto("could not encrypt a record"))
}

pub(crate) fn decrypt_record(identity: &VaultIdentity, sealed: &[u8]) -> Option<Vec<u8>> {
    age::decrypt(&identity.identity, sealed).ok()
}

/// The identity's text, encrypted to a recovery recipient (`recovery.key`).
pub(crate) fn wrap_for_recovery(
    identity: &VaultIdentity,
    to: &age::x25519::Recipient,
) -> Result<Vec<u8>> {
    // EXPOSE: the identity is the plaintext of recovery.key.
    let text = identity.identity.to_string();
    age::encrypt(to, text.expose_secret().as_bytes())
        .map_err(|_| Error::Crypto("could not encrypt recovery.key"))
}

/// Opens `recovery.key` with the recovery identity.
pub(crate) fn unwrap_recovery(bytes: &[u8], code: &age::x25519::Identity) -> Result<VaultIdentity> {
    let plain = Zeroizing::new(age::decrypt(code, bytes).map_err(|e| match e {
        age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
            Error::WrongRecoveryCode
        }
        _ => Error::RecoveryFileDamaged,
    })?);
    let text = std::str::from_utf8(&plain).map_err(|_| Error::RecoveryFileDamaged)?;
    let identity = text
        .trim()
        .parse::<age::x25519::Identity>()
        .map_err(|_| Error::RecoveryFileDamaged)?;
    Ok(VaultIdentity { identity })
}

fn split_line(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let at = bytes.iter().position(|&b| b == b'\n')?;
    Some((&bytes[..at], &bytes[at + 1..]))
}

/// Keyed fingerprint of a secret value.
pub(crate) struct FingerprintKey(DerivedKey);

impl fmt::Debug for FingerprintKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FingerprintKey([redacted])")
    }
}

impl FingerprintKey {
    pub(crate) fn fingerprint(&self, value: &SecretValue) -> Result<[u8; 32]> {
        // HMAC takes keys of any length: never fails.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.expose())
            .map_err(|_| Error::Crypto("fingerprint key rejected"))?;
        // EXPOSE: the value is the HMAC message; only the tag is kept.
        mac.update(value.expose());
        Ok(mac.finalize().into_bytes().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kdf() -> KdfParams {
        KdfParams::insecure_for_tests(MIN_LOG_N).unwrap()
    }

    #[test]
    fn wrap_and_unwrap_round_trip() {
        let id = VaultIdentity::generate();
        let pass = Passphrase::new("a long and unusual passphrase".into());
        let file = id.wrap(&pass, kdf()).unwrap();
        let back = VaultIdentity::unwrap(&file, &pass).unwrap();
        assert_eq!(back.recipient().to_string(), id.recipient().to_string());
    }

    #[test]
    fn the_work_factor_is_read_from_the_header() {
        let id = VaultIdentity::generate();
        let file = id
            .wrap(&Passphrase::new("right one here".into()), kdf())
            .unwrap();
        assert_eq!(work_factor(&file), Some(MIN_LOG_N));
        assert_eq!(work_factor(b"garbage"), None);
        assert_eq!(work_factor(b"age-encryption.org/v1\n-> X25519 abc\n"), None);
    }

    #[test]
    fn wrong_passphrase_is_reported_as_such() {
        let id = VaultIdentity::generate();
        let file = id
            .wrap(&Passphrase::new("right one here".into()), kdf())
            .unwrap();
        let err = VaultIdentity::unwrap(&file, &Passphrase::new("wrong one".into())).unwrap_err();
        assert!(matches!(err, Error::WrongPassphrase), "{err:?}");
    }

    #[test]
    fn work_factor_above_the_cap_is_refused_before_any_work() {
        let id = VaultIdentity::generate();
        let pass = Passphrase::new("pass phrase".into());
        let file = id.wrap(&pass, kdf()).unwrap();
        // Rewrite the stanza's log_n argument from 10 to 30.
        let text = String::from_utf8_lossy(&file).into_owned();
        let forged = text.replacen(" 10\n", " 30\n", 1);
        assert_ne!(forged, text);
        let err = VaultIdentity::unwrap(forged.as_bytes(), &pass).unwrap_err();
        assert!(
            matches!(err, Error::ExcessiveWork { .. } | Error::KeyFileDamaged),
            "{err:?}"
        );
    }

    #[test]
    fn sealed_secret_opens_only_for_its_own_row_and_field() {
        let id = VaultIdentity::generate();
        let value = SecretValue::new(b"s3cr3t".to_vec());
        let sealed = seal(&id.recipient(), "entry-1", "api_secret", &value).unwrap();
        assert_eq!(
            id.open(&sealed, "entry-1", "api_secret").unwrap().expose(),
            b"s3cr3t"
        );
        assert!(matches!(
            id.open(&sealed, "entry-2", "api_secret"),
            Err(Error::SecretMisplaced { .. })
        ));
        assert!(matches!(
            id.open(&sealed, "entry-1", "api_key"),
            Err(Error::SecretMisplaced { .. })
        ));
        let other = VaultIdentity::generate();
        assert!(matches!(
            other.open(&sealed, "entry-1", "api_secret"),
            Err(Error::SecretDamaged { .. })
        ));
    }

    #[test]
    fn sealed_bytes_do_not_contain_the_value() {
        let id = VaultIdentity::generate();
        let value = SecretValue::new(b"PLAINTEXT-MARKER-123".to_vec());
        let sealed = seal(&id.recipient(), "e", "f", &value).unwrap();
        assert!(!sealed.windows(20).any(|w| w == b"PLAINTEXT-MARKER-123"));
    }

    #[test]
    fn derived_keys_differ_by_label_and_are_stable() {
        let id = VaultIdentity::generate();
        let db = id.database_key().unwrap();
        assert_ne!(db.expose(), id.fingerprint_key().unwrap().0.expose());
        assert_ne!(db.expose(), id.audit_chain_key().unwrap().expose());
        assert_ne!(
            id.audit_chain_key().unwrap().expose(),
            id.anchor_key().unwrap().expose()
        );
        assert_eq!(db.expose(), id.database_key().unwrap().expose());
        let v = SecretValue::new(b"x".to_vec());
        let fk = id.fingerprint_key().unwrap();
        assert_eq!(fk.fingerprint(&v).unwrap(), fk.fingerprint(&v).unwrap());
        let other = VaultIdentity::generate().fingerprint_key().unwrap();
        assert_ne!(fk.fingerprint(&v).unwrap(), other.fingerprint(&v).unwrap());
    }
}
