//! The vault itself: init, recovery codes, passwd, rekey, check.

use super::*;

pub(super) fn init(dir: &VaultDir) -> Outcome {
    if dir.exists() {
        return Err(vault::Error::AlreadyExists {
            path: dir.path().to_path_buf(),
        }
        .into());
    }
    let kdf = kdf_for_new_key()?;
    let pass = new_passphrase(ENV_PASSPHRASE)?;
    let vault = Vault::init(dir, &pass, kdf, now(), Origin::Cli)?;
    vault.lock()?;
    println!("created a vault in {}", dir.path().display());
    Ok(())
}

#[derive(Subcommand, Debug)]
pub(super) enum RecoveryCommand {
    /// Make a new recovery code and print it once: write it down or print
    /// it, and keep it away from this computer. recovery.key is replaced;
    /// an old copy of it still opens the vault with the old code until
    /// `keyward rekey`
    Create,
    /// Delete recovery.key. A copy kept elsewhere still opens the vault
    /// with its code until `keyward rekey`
    Remove,
    /// Whether this vault has a recovery code
    Status,
}

pub(super) fn recovery(command: RecoveryCommand, dir: &VaultDir) -> Outcome {
    match command {
        RecoveryCommand::Status => {
            ensure_exists(dir)?;
            println!(
                "{}",
                if dir.has_recovery_code() {
                    "this vault has a recovery code"
                } else {
                    "no recovery code (create one with `keyward recovery create`)"
                }
            );
            Ok(())
        }
        RecoveryCommand::Remove => {
            let mut vault = unlock(dir)?;
            if vault.remove_recovery_code(now())? {
                println!("recovery code removed");
            } else {
                println!("there was no recovery code");
            }
            Ok(())
        }
        RecoveryCommand::Create => {
            let (mut vault, proof) = unlock_confirmed(dir)?;
            let code = vault.create_recovery_code(proof, now())?;
            eprintln!(
                "Your recovery code — shown once. Write it down or print it and keep it offline.\n\
                 It opens this vault if you forget the passphrase (`keyward recover`), and\n\
                 recovery.key with the age tool. Anyone holding it can open the vault."
            );
            // The code is the point of this command, like `reveal`'s value.
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", code.grouped().as_str())?;
            out.flush()?;
            Ok(())
        }
    }
}

pub(super) fn recover(dir: &VaultDir) -> Outcome {
    ensure_exists(dir)?;
    if !dir.has_recovery_code() {
        return Err(vault::Error::NoRecoveryCode.into());
    }
    let typed = if std::io::stdin().is_terminal() {
        Zeroizing::new(
            rpassword::prompt_password("Recovery code: ")
                .map_err(|e| Failure(format!("recovery code: could not read it: {e}")))?,
        )
    } else {
        let mut s = Zeroizing::new(String::new());
        std::io::stdin()
            .read_line(&mut s)
            .map_err(|e| Failure(format!("recovery code: could not read it: {e}")))?;
        s
    };
    let code = vault::RecoveryCode::parse(&typed)?;
    let identity = dir.recover_identity(&code)?;
    let new = new_passphrase(ENV_NEW_PASSPHRASE)?;
    let mut vault = Vault::open(dir, identity, now(), Origin::Cli)?;
    vault.reset_passphrase(&new, kdf_for_new_key()?, now())?;
    vault.lock()?;
    println!("new passphrase set; the recovery code still works (make a new one with `keyward recovery create`)");
    eprintln!("note: {REKEY_HINT}");
    Ok(())
}

pub(super) fn passwd(dir: &VaultDir) -> Outcome {
    let kdf = kdf_for_new_key()?;
    ensure_exists(dir)?;
    let current = passphrase(ENV_PASSPHRASE, "Current passphrase: ")?;
    let mut vault = Vault::unlock(dir, &current, now(), Origin::Cli)?;
    let new = new_passphrase(ENV_NEW_PASSPHRASE)?;
    vault.change_passphrase(&current, &new, kdf, now())?;
    println!("passphrase changed");
    eprintln!("note: {REKEY_HINT}");
    Ok(())
}

/// The hint after a passphrase change or a recovery: the identity did not change.
pub(super) const REKEY_HINT: &str = "the vault identity is unchanged: an old copy of vault.key still opens it with the old passphrase; run `keyward rekey` if one may exist";

pub(super) fn rekey(dir: &VaultDir, recovery_code: bool) -> Outcome {
    let kdf = kdf_for_new_key()?;
    ensure_exists(dir)?;
    let current = passphrase(ENV_PASSPHRASE, "Current passphrase: ")?;
    let (vault, proof) = Vault::unlock_confirmed(dir, &current, kdf, now(), Origin::Cli)?;
    let new = if given::has(ENV_NEW_PASSPHRASE) {
        Some(passphrase(ENV_NEW_PASSPHRASE, "")?)
    } else if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("New passphrase (Enter keeps the current one): ")
            .map(Passphrase::new)
            .map_err(|e| Failure(format!("passphrase: could not read it: {e}")))?;
        if first.expose().is_empty() {
            None
        } else {
            let again = rpassword::prompt_password("Repeat it: ")
                .map(Passphrase::new)
                .map_err(|e| Failure(format!("passphrase: could not read it: {e}")))?;
            Some(vault::confirmed(first, again)?)
        }
    } else {
        None
    };
    let remembered = keyring::is_remembered(dir);
    let done = vault.rekey(proof, &current, new.as_ref(), kdf, recovery_code, now())?;
    let vault = &done.vault;
    let keyring_note = if remembered {
        match keyring::remember(dir, &done.keyring_text) {
            Ok(()) => "the keyring entry on this device was replaced",
            Err(e) => {
                eprintln!("warning: {e}; the keyring entry no longer opens the vault (`keyward forget`, then `keyward remember`)");
                "the old keyring entry no longer opens the vault"
            }
        }
    } else {
        "no keyring entry to replace"
    };
    refresh_schedule(vault);
    eprintln!(
        "new vault identity: the database re-encrypted, every secret resealed, vault.key rewrapped; {keyring_note}. Old copies of vault.key, recovery.key and the keyring entry open nothing now."
    );
    for w in &done.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(code) = &done.recovery_code {
        eprintln!(
            "Your new recovery code — shown once. Write it down or print it and keep it offline.\n\
             The old one no longer opens anything."
        );
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", code.grouped().as_str())?;
        out.flush()?;
    } else {
        eprintln!("no recovery code now (make one with `keyward recovery create`)");
    }
    done.vault.lock()?;
    Ok(())
}

pub(super) fn check(dir: &VaultDir) -> Outcome {
    let vault = unlock(dir)?;
    let report = vault.check()?;
    if report.is_ok() {
        let n = report.audit.as_ref().copied().unwrap_or(0);
        println!("vault ok: every page authenticated, structure intact, audit chain of {n} entries intact");
        return Ok(());
    }
    for p in &report.cipher_problems {
        println!("page authentication: {p}");
    }
    for p in &report.sqlite_problems {
        println!("structure: {p}");
    }
    if let Err(e) = &report.audit {
        println!("audit log: {e}");
    }
    Err(Failure("the vault is damaged (see above)".into()))
}
