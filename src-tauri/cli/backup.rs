//! `keyward backup`, `keyward backup verify` and `keyward restore`.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use keyward_core::backup::{self, Key, Protection, Summary};
use keyward_core::vault;
use keyward_core::{Origin, Passphrase, VaultDir};

use super::{
    kdf_for_new_key, new_passphrase, now, passphrase, unlock, unlock_confirmed, Failure, Outcome,
    ENV_PASSPHRASE,
};

/// An age identity file holds a few keys and comments.
const IDENTITY_FILE_MAX: u64 = 64 * 1024;

/// The backup passphrase, for scripts.
pub(super) const ENV_BACKUP_PASSPHRASE: &str = "KEYWARD_BACKUP_PASSPHRASE";

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub(super) struct BackupArgs {
    #[command(subcommand)]
    command: Option<BackupCommand>,
    /// Where to write the backup (an age file)
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Encrypt to this age public key (age1…) instead of a passphrase. Repeatable
    #[arg(long = "recipient", value_name = "AGE_KEY")]
    recipients: Vec<String>,
    /// Replace FILE if it exists
    #[arg(long)]
    force: bool,
    /// Write an automatic backup if the schedule (settings) says one is
    /// due, encrypted to the recovery code and the settings' age keys, into
    /// the settings' folder; keeps the newest N (for a systemd timer)
    #[arg(long, conflicts_with_all = ["out", "recipients", "force"])]
    auto: bool,
}

#[derive(Subcommand, Debug)]
enum BackupCommand {
    /// Decrypt a backup and prove it restores (into a throwaway vault), without restoring
    Verify {
        file: PathBuf,
        /// The age identity file, for a backup made to recipients
        #[arg(long, value_name = "FILE")]
        identity: Option<PathBuf>,
    },
}

pub(super) fn run(args: BackupArgs, dir: &VaultDir) -> Outcome {
    match args.command {
        Some(BackupCommand::Verify { file, identity }) => {
            let doc = open(&file, identity.as_deref())?;
            let scratch = tempfile::Builder::new()
                .prefix("keyward-verify-")
                .tempdir()
                .map_err(|e| Failure(format!("verify: no temporary directory: {e}")))?;
            let s = backup::verify(&doc, scratch.path(), now())?;
            println!("backup ok: {}", describe(&s));
            Ok(())
        }
        None if args.auto => {
            let mut vault = unlock(dir)?;
            let folder = crate::platform::default_backup_folder();
            match backup::run_if_due(&mut vault, &folder, now())? {
                Some((path, s)) => {
                    println!("backup written to {}: {}", path.display(), describe(&s))
                }
                None => println!("no automatic backup due"),
            }
            Ok(())
        }
        None => {
            let out = args
                .out
                .ok_or_else(|| Failure("out: give --out FILE (or `backup verify FILE`)".into()))?;
            if out.exists() && !args.force {
                return Err(Failure(format!(
                    "out: {} exists; pass --force to replace it",
                    out.display()
                )));
            }
            let protection = if args.recipients.is_empty() {
                let pass = new_passphrase(ENV_BACKUP_PASSPHRASE)?;
                vault::check_passphrase_strength(&pass)?;
                Protection::Passphrase(pass, kdf_for_new_key()?)
            } else {
                Protection::recipients(&args.recipients)?
            };
            let (mut vault, proof) = unlock_confirmed(dir)?;
            let s = backup::write(&mut vault, &out, &protection, proof, now())?;
            println!("backup written to {}: {}", out.display(), describe(&s));
            Ok(())
        }
    }
}

/// `keyward restore FILE`: a new vault (in `--vault DIR`) from a backup.
pub(super) fn restore(file: &Path, identity: Option<&Path>, dir: &VaultDir) -> Outcome {
    if dir.exists() {
        return Err(vault::Error::AlreadyExists {
            path: dir.path().to_path_buf(),
        }
        .into());
    }
    let doc = open(file, identity)?;
    // Check it before asking for the new vault's passphrase.
    backup::inspect(&doc)?;
    let pass = new_passphrase(ENV_PASSPHRASE)?;
    let (vault, s) = backup::restore(&doc, dir, &pass, kdf_for_new_key()?, now(), Origin::Cli)?;
    super::refresh_schedule(&vault);
    vault.lock()?;
    println!("restored into {}: {}", dir.path().display(), describe(&s));
    Ok(())
}

fn open(file: &Path, identity: Option<&Path>) -> Result<zeroize::Zeroizing<Vec<u8>>, Failure> {
    let bytes = keyward_core::fsio::read_regular(file, backup::MAX_BACKUP_BYTES)
        .map_err(|e| Failure(format!("backup: cannot read {}: {e}", file.display())))?;
    let key = match identity {
        Some(p) => {
            let raw = keyward_core::fsio::read_regular(p, IDENTITY_FILE_MAX)
                .map_err(|e| Failure(format!("identity: cannot read {}: {e}", p.display())))?;
            let text = std::str::from_utf8(&raw).map_err(|_| {
                Failure("identity: not an age identity file (AGE-SECRET-KEY-1…)".into())
            })?;
            Key::identity_file(text)?
        }
        None => Key::Passphrase(passphrase_for_backup()?),
    };
    Ok(backup::decrypt(&bytes, &key)?)
}

fn passphrase_for_backup() -> Result<Passphrase, Failure> {
    passphrase(ENV_BACKUP_PASSPHRASE, "Backup passphrase: ")
}

fn describe(s: &Summary) -> String {
    format!(
        "{} key(s), {} secret field(s), {} review(s), {} incident(s), {} audit row(s), taken {}{}",
        s.entries,
        s.secrets,
        s.reviews,
        s.incidents,
        s.audit_rows,
        keyward_core::timefmt::format(s.created_at),
        s.audit_head
            .as_deref()
            .map(|h| format!(", audit head {h}"))
            .unwrap_or_default()
    )
}
