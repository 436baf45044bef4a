//! Backups, restore, the recovery code and "remember on this device".
//! Passphrases come in from the window like `create_vault`'s; the recovery
//! code goes out once, to be written down, and is kept nowhere.
//!
//! A backup by hand, a recovery code, remembering the vault on this device
//! and where automatic backups go each take the current passphrase, checked
//! against `vault.key` at that moment ([`confirm`]): the unlocked session
//! alone — an unattended window, a compromised web view — cannot export
//! every secret or grant itself lasting access.

use std::path::PathBuf;

use keyward_core::backup::{self, Key, Protection, Summary};
use keyward_core::inventory::FieldError;
use keyward_core::secret::Passphrase;
use keyward_core::vault::{self, KdfParams};
use keyward_core::{settings, Origin, Vault, VaultDir};
use serde::Serialize;
use tauri::State;
use ts_rs::TS;

use super::{blocking, now};
use crate::error::{ErrorCode, IpcError, IpcResult};
use crate::platform::keyring;
use crate::state::AppState;

fn field(field: &'static str, reason: impl Into<String>) -> IpcError {
    IpcError::invalid(vec![FieldError {
        field,
        reason: reason.into(),
    }])
}

fn backup_error(e: backup::Error) -> IpcError {
    match e {
        backup::Error::Vault(v) => v.into(),
        backup::Error::WrongKey => field("backup_passphrase", "wrong passphrase for this backup"),
        backup::Error::BadRecipient { .. } => field("recipients", e.to_string()),
        other => IpcError::new(ErrorCode::Invalid, other.to_string()),
    }
}

/// The Backup & recovery section's state.
#[derive(Debug, Serialize, TS)]
pub struct BackupStatus {
    /// Where backups go unless another folder is given.
    pub default_folder: String,
    pub has_recovery_code: bool,
    pub remembered: bool,
    pub auto: backup::AutoStatus,
}

/// Checks the current passphrase against `vault.key` now, off the session
/// lock (scrypt takes about a second); the session turns the result into
/// the proof with [`reauth`] (a wrong one is audited there).
pub(crate) async fn confirm(
    state: &AppState,
    current: String,
) -> IpcResult<vault::Result<vault::PassphraseCheck>> {
    if current.is_empty() {
        return Err(field(
            "current_passphrase",
            "give your current passphrase to confirm",
        ));
    }
    let dir = state.dir.clone();
    let current = Passphrase::new(current);
    blocking(move || Ok(dir.check_passphrase(&current))).await
}

/// The proof for one action, inside the session.
pub(crate) fn reauth(
    vault: &mut Vault,
    check: vault::Result<vault::PassphraseCheck>,
) -> IpcResult<vault::Reauth> {
    vault.reauth(check, now()).map_err(|e| match e {
        vault::Error::WrongPassphrase => field("current_passphrase", "wrong passphrase"),
        other => other.into(),
    })
}

fn default_folder() -> PathBuf {
    crate::platform::default_backup_folder()
}

#[tauri::command]
pub fn backup_status(state: State<'_, AppState>) -> IpcResult<BackupStatus> {
    Ok(BackupStatus {
        default_folder: default_folder().display().to_string(),
        has_recovery_code: state.dir.has_recovery_code(),
        remembered: keyring::is_remembered(&state.dir),
        auto: state
            .with_unlocked(|u| backup::auto_status(&u.vault, now()).map_err(backup_error))?,
    })
}

/// What a backup wrote.
#[derive(Debug, Serialize, TS)]
pub struct BackupDone {
    pub path: String,
    pub summary: Summary,
}

fn folder(given: &str) -> IpcResult<PathBuf> {
    let given = given.trim();
    if given.is_empty() {
        return Ok(default_folder());
    }
    let p = PathBuf::from(given);
    if !p.is_absolute() {
        return Err(field("folder", "give a full path (starting with /)"));
    }
    Ok(p)
}

/// Writes a backup to `folder` (default: Documents/Keyward backups), to a
/// passphrase (with its confirmation) or to age recipients (one per line).
/// `current`: the vault's passphrase, checked now.
#[tauri::command]
pub async fn create_backup(
    state: State<'_, AppState>,
    folder: String,
    passphrase: String,
    confirm: String,
    recipients: Vec<String>,
    current: String,
) -> IpcResult<BackupDone> {
    let confirm_new = confirm;
    let dir = self::folder(&folder)?;
    let recipients: Vec<String> = recipients
        .into_iter()
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty())
        .collect();
    let protection = if recipients.is_empty() {
        let pass = vault::confirmed(Passphrase::new(passphrase), Passphrase::new(confirm_new))?;
        vault::check_passphrase_strength(&pass).map_err(|e| match e {
            vault::Error::WeakPassphrase { reason } => {
                field("backup_passphrase", format!("too weak: {reason}"))
            }
            other => other.into(),
        })?;
        Protection::Passphrase(pass, KdfParams::default())
    } else {
        Protection::recipients(&recipients).map_err(backup_error)?
    };
    std::fs::create_dir_all(&dir).map_err(|e| field("folder", format!("cannot create it: {e}")))?;
    let path = dir.join(backup::file_name(backup::Made::ByHand, now()));
    let out = path.clone();
    let check = self::confirm(&state, current).await?;
    let summary = state.mutate(|u| {
        let proof = reauth(&mut u.vault, check)?;
        backup::write(&mut u.vault, &out, &protection, proof, now()).map_err(backup_error)
    })?;
    Ok(BackupDone {
        path: path.display().to_string(),
        summary,
    })
}

fn read_backup(path: &str, passphrase: String) -> IpcResult<zeroize::Zeroizing<Vec<u8>>> {
    let path = path.trim();
    if path.is_empty() {
        return Err(field("file", "give the backup file's path"));
    }
    let bytes =
        keyward_core::fsio::read_regular(std::path::Path::new(path), backup::MAX_BACKUP_BYTES)
            .map_err(|e| field("file", format!("cannot read it: {e}")))?;
    backup::decrypt(&bytes, &Key::Passphrase(Passphrase::new(passphrase))).map_err(backup_error)
}

/// Proves a backup restorable without restoring it. Only while unlocked:
/// a locked window reads no files for whoever sits at it.
#[tauri::command]
pub async fn verify_backup(
    state: State<'_, AppState>,
    file: String,
    passphrase: String,
) -> IpcResult<Summary> {
    state.require_unlocked()?;
    blocking(move || {
        let doc = read_backup(&file, passphrase)?;
        let scratch = tempfile::Builder::new()
            .prefix("keyward-verify-")
            .tempdir()
            .map_err(|e| {
                IpcError::new(ErrorCode::Internal, format!("no temporary directory: {e}"))
            })?;
        backup::verify(&doc, scratch.path(), now()).map_err(backup_error)
    })
    .await
}

/// Restores a backup into a new vault in `folder` (which must not hold
/// one), with a new passphrase.
#[tauri::command]
pub async fn restore_backup(
    state: State<'_, AppState>,
    file: String,
    passphrase: String,
    folder: String,
    new_passphrase: String,
    confirm: String,
) -> IpcResult<Summary> {
    let target = folder.trim().to_owned();
    if target.is_empty() || !PathBuf::from(&target).is_absolute() {
        return Err(field(
            "target",
            "give the new vault's folder as a full path",
        ));
    }
    state.require_unlocked()?;
    let new = vault::confirmed(Passphrase::new(new_passphrase), Passphrase::new(confirm))?;
    blocking(move || {
        let dir = VaultDir::new(&target);
        if dir.exists() {
            return Err(field("target", "a vault already exists there"));
        }
        let doc = read_backup(&file, passphrase)?;
        let (vault, summary) =
            backup::restore(&doc, &dir, &new, KdfParams::default(), now(), Origin::App)
                .map_err(backup_error)?;
        vault.lock()?;
        Ok(summary)
    })
    .await
}

/// A new recovery code, returned once to be written down. Its `Debug`
/// says nothing and it is wiped when dropped (what Tauri's IPC keeps of
/// its JSON text is out of our hands).
#[derive(Serialize, TS)]
pub struct NewRecoveryCode {
    /// `AGE-SECRET-KEY-1 XXXXXX …`, in groups for writing down.
    pub grouped: String,
}

impl std::fmt::Debug for NewRecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewRecoveryCode([redacted])")
    }
}

impl Drop for NewRecoveryCode {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.grouped);
    }
}

/// A new recovery code (replacing any earlier one); `current`: the vault's
/// passphrase, checked now.
#[tauri::command]
pub async fn create_recovery_code(
    state: State<'_, AppState>,
    current: String,
) -> IpcResult<NewRecoveryCode> {
    let check = confirm(&state, current).await?;
    state.with_unlocked(|u| {
        let proof = reauth(&mut u.vault, check)?;
        let code = u.vault.create_recovery_code(proof, now())?;
        Ok(NewRecoveryCode {
            grouped: code.grouped().to_string(),
        })
    })
}

#[tauri::command]
pub fn remove_recovery_code(state: State<'_, AppState>) -> IpcResult<bool> {
    state.with_unlocked(|u| Ok(u.vault.remove_recovery_code(now())?))
}

/// Stores the vault identity in the OS keyring; `current`: the vault's
/// passphrase, checked now.
#[tauri::command]
pub async fn remember_device(state: State<'_, AppState>, current: String) -> IpcResult<()> {
    let dir = state.dir.clone();
    let check = confirm(&state, current).await?;
    state.with_unlocked(|u| {
        let proof = reauth(&mut u.vault, check)?;
        let identity = u.vault.remember(proof, now())?;
        keyring::remember(&dir, &identity)
            .map_err(|e| IpcError::new(ErrorCode::Internal, e.to_string()))
    })
}

#[tauri::command]
pub fn forget_device(state: State<'_, AppState>) -> IpcResult<bool> {
    keyring::forget(&state.dir).map_err(|e| IpcError::new(ErrorCode::Internal, e.to_string()))
}

/// Unlocks with the identity remembered in the OS keyring.
#[tauri::command]
pub async fn unlock_with_keyring(state: State<'_, AppState>) -> IpcResult<()> {
    if state.is_unlocked() {
        return Ok(());
    }
    let dir = state.dir.clone();
    let vault = blocking(
        move || match keyring::open_remembered(&dir, now(), Origin::App)? {
            keyring::Remembered::Opened(vault) => Ok(*vault),
            keyring::Remembered::Forgotten => Err(IpcError::new(
                ErrorCode::NotFound,
                "this vault is not remembered on this device",
            )),
            keyring::Remembered::Stale => Err(vault::Error::RememberedKeyInvalid.into()),
            keyring::Remembered::Unavailable(e) => Err(IpcError::new(
                ErrorCode::Internal,
                format!("{e}; use the passphrase"),
            )),
        },
    )
    .await?;
    let settings = settings::load(&vault)?;
    let _ = state.apply_desktop_settings(&settings);
    state.set_unlocked(vault, settings);
    Ok(())
}

/// Moves the vault onto a new identity (`keyward rekey`): the database
/// re-encrypted, every secret resealed, vault.key rewrapped, the keyring
/// entry replaced if there is one; a new recovery code returned once when
/// asked for (otherwise there is none afterwards). `current`: the vault's
/// passphrase, checked now; it stays the passphrase.
#[tauri::command]
pub async fn rekey_vault(
    state: State<'_, AppState>,
    current: String,
    new_recovery_code: bool,
) -> IpcResult<Rekeyed> {
    let check = confirm(&state, current.clone()).await?;
    let proof = state.with_unlocked(|u| reauth(&mut u.vault, check))?;
    let taken = state.take_unlocked().ok_or_else(IpcError::locked)?;
    let current = Passphrase::new(current);
    let dir = state.dir.clone();
    let result = blocking(move || {
        let crate::state::Unlocked {
            vault, settings, ..
        } = *taken;
        let mut done = vault.rekey(
            proof,
            &current,
            None,
            KdfParams::default(),
            new_recovery_code,
            now(),
        )?;
        // The rekey stands whatever happens here: said, never an error (the
        // new recovery code must still reach the window).
        if keyring::is_remembered(&dir) {
            if let Err(e) = keyring::remember(&dir, &done.keyring_text) {
                done.warnings.push(format!(
                    "the keyring entry could not be replaced ({e}): forget this device and remember it again"
                ));
            }
        }
        Ok((done, settings))
    })
    .await;
    // A failed rekey leaves the old vault as it was, closed: unlock again.
    let (mut done, settings) = match result {
        Ok(r) => r,
        Err(e) => {
            state.changed();
            return Err(e);
        }
    };
    let answer = Rekeyed {
        recovery_code: done.recovery_code.as_ref().map(|c| NewRecoveryCode {
            grouped: c.grouped().to_string(),
        }),
        warnings: std::mem::take(&mut done.warnings),
    };
    state.set_unlocked(done.vault, settings);
    Ok(answer)
}

/// What a new identity gave back: the new recovery code (once), and what
/// did not work after it took over.
#[derive(Debug, Serialize, TS)]
pub struct Rekeyed {
    pub recovery_code: Option<NewRecoveryCode>,
    pub warnings: Vec<String>,
}
