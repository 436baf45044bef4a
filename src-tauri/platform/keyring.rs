//! "Remember on this device": the vault identity in the OS keyring (Secret
//! Service on Linux, Keychain on macOS, Credential Manager on Windows)
//! through the `keyring` crate, one entry per vault directory.
//!
//! Every failure is one clear reason the caller shows before falling back
//! to the passphrase: no keyring on this session, a locked keyring, or
//! something else the platform said.

use keyring::Entry;
use keyward_core::vault::{self, VaultIdentity};
use keyward_core::{Origin, Vault, VaultDir};
use time::OffsetDateTime;
use zeroize::Zeroizing;

const SERVICE: &str = "Keyward vault";

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("keyring: no system keyring (Secret Service) on this session")]
    Unavailable,
    #[error("keyring: the system keyring is locked")]
    Locked,
    #[error("keyring: {0}")]
    Platform(String),
}

fn map(e: keyring::Error) -> Error {
    match e {
        keyring::Error::NoDefaultStore => Error::Unavailable,
        keyring::Error::NoStorageAccess(_) => Error::Locked,
        // The platform's message names the service, never the secret.
        other => Error::Platform(other.to_string()),
    }
}

/// The entry's account name: the vault's absolute path (one per vault).
fn entry(dir: &VaultDir) -> Result<Entry, Error> {
    let path = std::fs::canonicalize(dir.path()).unwrap_or_else(|_| dir.path().to_path_buf());
    Entry::new(SERVICE, &path.to_string_lossy()).map_err(map)
}

/// Marks the vault as remembered (an empty file beside it), so commands
/// and the app ask the keyring only when there is something to ask for.
fn marker(dir: &VaultDir) -> std::path::PathBuf {
    dir.path().join("remembered")
}

pub fn is_remembered(dir: &VaultDir) -> bool {
    marker(dir).exists()
}

pub fn remember(dir: &VaultDir, identity: &str) -> Result<(), Error> {
    entry(dir)?.set_password(identity).map_err(map)?;
    std::fs::write(marker(dir), b"")
        .map_err(|e| Error::Platform(format!("cannot mark the vault: {e}")))
}

/// The remembered identity, or `None` if this vault is not remembered.
pub fn recall(dir: &VaultDir) -> Result<Option<Zeroizing<String>>, Error> {
    if !is_remembered(dir) {
        return Ok(None);
    }
    match entry(dir)?.get_password() {
        Ok(p) => Ok(Some(Zeroizing::new(p))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(map(e)),
    }
}

/// Removes the remembered identity; `false` if there was none.
pub fn forget(dir: &VaultDir) -> Result<bool, Error> {
    let _ = std::fs::remove_file(marker(dir));
    match entry(dir)?.delete_credential() {
        Ok(()) => Ok(true),
        Err(keyring::Error::NoEntry) => Ok(false),
        Err(e) => Err(map(e)),
    }
}

/// What opening the vault with the remembered identity came to. The CLI
/// and the app both unlock through [`open_remembered`] and differ only in
/// what they do next (the CLI falls back to the passphrase).
pub enum Remembered {
    Opened(Box<Vault>),
    /// This vault is not remembered on this device (never, or forgotten).
    Forgotten,
    /// An entry a new identity left behind (its rekey was cut short, or the
    /// vault was rekeyed elsewhere): the passphrase still opens the vault.
    Stale,
    /// The keyring could not answer.
    Unavailable(Error),
}

/// Opens the vault with the identity remembered in the OS keyring.
pub fn open_remembered(
    dir: &VaultDir,
    now: OffsetDateTime,
    origin: Origin,
) -> Result<Remembered, vault::Error> {
    let text = match recall(dir) {
        Ok(Some(text)) => text,
        Ok(None) => return Ok(Remembered::Forgotten),
        Err(e) => return Ok(Remembered::Unavailable(e)),
    };
    let identity = VaultIdentity::from_keyring_text(&text)?;
    match dir.check_identity(&identity) {
        Ok(()) => Ok(Remembered::Opened(Box::new(Vault::open(
            dir, identity, now, origin,
        )?))),
        Err(vault::Error::RememberedKeyInvalid) => Ok(Remembered::Stale),
        Err(e) => Err(e),
    }
}
