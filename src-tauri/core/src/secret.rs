//! Types that hold secret material.
//!
//! Each is named for what it holds, prints `[redacted]` under `Debug`, has no
//! `Display` and no `Serialize`, and wipes its bytes when dropped. Reading the
//! value needs an explicit `expose_*` call, which callers mark with an
//! `// EXPOSE:` comment saying why, so every place a secret leaves its box can
//! be found with one search.

use std::fmt;

use secrecy::{ExposeSecret, SecretBox, SecretString};
use zeroize::{Zeroize, Zeroizing};

/// The passphrase that unwraps `vault.key`.
pub struct Passphrase(SecretString);

impl Passphrase {
    /// Takes ownership of the string; the caller's copy is moved, not cloned.
    pub fn new(value: String) -> Self {
        Self(SecretString::from(value))
    }

    /// The passphrase as text, for the KDF and the strength estimator only.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub(crate) fn to_secret_string(&self) -> SecretString {
        // EXPOSE: age's scrypt recipient takes its own SecretString copy.
        SecretString::from(self.0.expose_secret().to_owned())
    }
}

impl fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Passphrase([redacted])")
    }
}

/// One secret value of an entry: an API key, an API secret, a passphrase, a
/// private key PEM. Arbitrary bytes (1 byte – 16 KiB), usually UTF-8.
pub struct SecretValue(SecretBox<[u8]>);

impl SecretValue {
    /// Largest accepted value: comfortably more than an RSA-4096 PEM.
    pub const MAX_LEN: usize = 16 * 1024;

    /// Takes the bytes and wipes the vector (spare capacity included), so
    /// no copy is left behind by a shrinking reallocation.
    pub fn new(mut bytes: Vec<u8>) -> Self {
        let value = Self::from_slice(&bytes);
        bytes.zeroize();
        value
    }

    /// Copies from a buffer the caller keeps wiping itself.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Self(SecretBox::new(Box::from(bytes)))
    }

    pub fn len(&self) -> usize {
        self.0.expose_secret().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The raw bytes, for sealing, fingerprinting, the clipboard or `reveal`.
    pub fn expose(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue([redacted])")
    }
}

/// Recognises a value later without keeping it: a salted SHA-256 of it.
/// Used to clear the clipboard only if it still holds what Keyward put there.
pub struct Witness {
    salt: [u8; 16],
    digest: [u8; 32],
}

impl Witness {
    pub fn of(value: &[u8]) -> Self {
        let mut salt = [0u8; 16];
        // Without OS randomness the salt stays zero: the witness still works,
        // it is only a plain hash then.
        let _ = getrandom::getrandom(&mut salt);
        let digest = Self::digest(&salt, value);
        Witness { salt, digest }
    }

    /// Whether `value` is the value this witness was made of (constant time).
    pub fn matches(&self, value: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        Self::digest(&self.salt, value).ct_eq(&self.digest).into()
    }

    fn digest(salt: &[u8; 16], value: &[u8]) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(salt);
        h.update(value);
        h.finalize().into()
    }
}

impl fmt::Debug for Witness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Witness([redacted])")
    }
}

/// Key material derived from the vault identity; 32 bytes, wiped on drop.
pub(crate) struct DerivedKey(Zeroizing<[u8; 32]>);

impl DerivedKey {
    pub(crate) fn new(bytes: Zeroizing<[u8; 32]>) -> Self {
        Self(bytes)
    }

    pub(crate) fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for DerivedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DerivedKey([redacted])")
    }
}

/// Why an age recipient was refused, in words that never repeat it: a
/// pasted `AGE-SECRET-KEY-…` is the one mistake that must not be echoed.
pub fn age_recipient_problem(given: &str) -> &'static str {
    if given
        .trim()
        .get(..15)
        .is_some_and(|p| p.eq_ignore_ascii_case("AGE-SECRET-KEY-"))
    {
        "that is an age secret key (AGE-SECRET-KEY-…), which must stay private; give its public key (age1…, from `age-keygen -y`)"
    } else {
        "not an age public key (age1…)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_secret() {
        let p = Passphrase::new("hunter2-correct-horse".into());
        let v = SecretValue::new(b"sk_live_abcdef".to_vec());
        let k = DerivedKey::new(Zeroizing::new([7u8; 32]));
        let all = format!("{p:?} {v:?} {k:?} {:#?}", (&p, &v));
        assert!(!all.contains("hunter2"), "{all}");
        assert!(!all.contains("sk_live"), "{all}");
        assert!(!all.contains("7, 7"), "{all}");
        assert_eq!(format!("{v:?}"), "SecretValue([redacted])");
    }

    #[test]
    fn a_witness_recognises_its_value_and_nothing_else() {
        let w = Witness::of(b"api-secret-1");
        assert!(w.matches(b"api-secret-1"));
        assert!(!w.matches(b"api-secret-2"));
        assert!(!w.matches(b""));
        assert_ne!(Witness::of(b"x").salt, Witness::of(b"x").salt);
    }

    #[test]
    fn secret_value_keeps_its_bytes() {
        let v = SecretValue::from_slice(b"\x00\xffabc");
        assert_eq!(v.expose(), b"\x00\xffabc");
        assert_eq!(v.len(), 5);
    }
}
