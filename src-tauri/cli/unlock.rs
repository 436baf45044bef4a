//! Opening the vault from the command line: the passphrase (given, or a
//! prompt), the work factor, the keyring, and the confirmation that
//! exports and lasting grants ask for.

use super::*;

/// Environment variable with the vault passphrase, for scripts.
pub(super) const ENV_PASSPHRASE: &str = "KEYWARD_PASSPHRASE";

/// Environment variable with the new passphrase for `passwd`, for scripts.
pub(super) const ENV_NEW_PASSPHRASE: &str = "KEYWARD_NEW_PASSPHRASE";

/// Lowers the scrypt work factor of `init`/`passwd` (2^N). Tests only: a
/// vault made with it falls to a cheap guessing attack.
pub(super) const ENV_INSECURE_KDF: &str = "KEYWARD_INSECURE_TEST_KDF";

/// Test builds (debug assertions) and builds with the `insecure-test-kdf`
/// feature (the benchmarks') accept `KEYWARD_INSECURE_TEST_KDF`; a release
/// build refuses it, so no script can weaken a real user's vault.key.
pub(super) const TEST_KDF_ALLOWED: bool =
    cfg!(any(debug_assertions, feature = "insecure-test-kdf"));

/// The work factor to write `vault.key` with (and to raise it to at unlock).
pub(super) fn kdf() -> Result<KdfParams, Failure> {
    kdf_from(std::env::var(ENV_INSECURE_KDF).ok(), TEST_KDF_ALLOWED)
}

/// [`kdf`] for a command that writes a new `vault.key` (or backup) with
/// it: a lowered work factor is said out loud.
pub(super) fn kdf_for_new_key() -> Result<KdfParams, Failure> {
    let kdf = kdf()?;
    if kdf != KdfParams::default() {
        eprintln!(
            "warning: {ENV_INSECURE_KDF} lowers the passphrase work factor to 2^{}: for tests only",
            kdf.log_n()
        );
    }
    Ok(kdf)
}

pub(super) fn kdf_from(test_value: Option<String>, allowed: bool) -> Result<KdfParams, Failure> {
    match test_value {
        None => Ok(KdfParams::default()),
        Some(_) if !allowed => Err(Failure(format!(
            "{ENV_INSECURE_KDF}: only test builds accept it; unset it"
        ))),
        Some(v) => {
            let log_n = v
                .parse::<u8>()
                .map_err(|_| Failure(format!("{ENV_INSECURE_KDF}: must be a number")))?;
            Ok(KdfParams::insecure_for_tests(log_n)?)
        }
    }
}

/// The passphrase the caller gave (see [`given`]), else a prompt without echo.
pub(super) fn passphrase(env: &str, prompt: &str) -> Result<Passphrase, Failure> {
    if let Some(p) = given::get(env) {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        let how = if env == ENV_PASSPHRASE {
            format!("give --passphrase-fd N, --passphrase-file FILE or {env}")
        } else {
            format!("set {env}")
        };
        return Err(Failure(format!(
            "passphrase: {how}, or run in a terminal to be asked"
        )));
    }
    rpassword::prompt_password(prompt)
        .map(Passphrase::new)
        .map_err(|e| Failure(format!("passphrase: could not read it: {e}")))
}

/// A new passphrase: from the environment, or asked twice.
pub(super) fn new_passphrase(env: &str) -> Result<Passphrase, Failure> {
    if given::has(env) {
        return passphrase(env, "");
    }
    let first = passphrase(env, "New passphrase: ")?;
    let second = passphrase(env, "Repeat passphrase: ")?;
    Ok(vault::confirmed(first, second)?)
}

pub(super) fn unlock(dir: &VaultDir) -> Result<Vault, Failure> {
    ensure_exists(dir)?;
    // A vault remembered on this device opens without the passphrase, unless
    // one is given; a keyring that cannot answer falls back to the passphrase.
    if !given::has(ENV_PASSPHRASE) {
        match keyring::open_remembered(dir, now(), Origin::Cli)? {
            keyring::Remembered::Opened(vault) => return Ok(*vault),
            keyring::Remembered::Forgotten => {}
            keyring::Remembered::Stale => eprintln!(
                "keyring: the key remembered on this device no longer opens this vault (`keyward forget`, then `keyward remember`); asking for the passphrase"
            ),
            keyring::Remembered::Unavailable(e) => eprintln!("{e}; asking for the passphrase"),
        }
    }
    let pass = passphrase(ENV_PASSPHRASE, "Passphrase: ")?;
    Ok(Vault::unlock_upgrading(
        dir,
        &pass,
        kdf()?,
        now(),
        Origin::Cli,
    )?)
}

/// For exports and lasting grants (a backup, a recovery code, remembering
/// the vault on this device): the vault opened with the passphrase — never
/// the keyring — and that passphrase proved against `vault.key` again at
/// the moment of the action.
pub(super) fn unlock_confirmed(dir: &VaultDir) -> Result<(Vault, vault::Reauth), Failure> {
    ensure_exists(dir)?;
    let pass = passphrase(ENV_PASSPHRASE, "Passphrase: ")?;
    Ok(Vault::unlock_confirmed(
        dir,
        &pass,
        kdf()?,
        now(),
        Origin::Cli,
    )?)
}

pub(super) fn ensure_exists(dir: &VaultDir) -> Outcome {
    if dir.exists() {
        Ok(())
    } else {
        Err(vault::Error::NoVault {
            path: dir.path().to_path_buf(),
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_build_refuses_the_test_kdf() {
        let e = kdf_from(Some("10".into()), false).unwrap_err();
        assert_eq!(
            e.0,
            "KEYWARD_INSECURE_TEST_KDF: only test builds accept it; unset it"
        );
        assert_eq!(kdf_from(None, false).unwrap(), KdfParams::default());
        assert_eq!(kdf_from(Some("12".into()), true).unwrap().log_n(), 12);
        // This very build is a test build; a release one is not.
        assert_eq!(
            TEST_KDF_ALLOWED,
            cfg!(debug_assertions) || cfg!(feature = "insecure-test-kdf")
        );
    }
}
