//! The vault itself: init, where it lives, unlocking, passphrase changes,
//! recovery, rekeying, the key-derivation work factor and damaged key files.

use std::path::Path;
use std::process::Command;

use crate::common::*;

#[test]
fn init_creates_a_vault_once() {
    let kw = Kw::empty();
    let out = kw.run(&["init"], "");
    out.ok();
    assert!(out.stdout.contains("created a vault in"));
    assert!(out.stderr.contains("warning: KEYWARD_INSECURE_TEST_KDF"));
    for f in ["vault.db", "vault.key"] {
        assert!(kw.vault.join(f).exists(), "{f}");
    }
    kw.run(&["init"], "").refused("a vault already exists in");
}

#[test]
fn init_refuses_a_weak_passphrase() {
    let kw = Kw::empty();
    kw.run_env(
        &["init"],
        &[("KEYWARD_PASSPHRASE", Some("password123"))],
        "",
    )
    .refused("passphrase: too weak: ");
    assert!(!kw.vault.join("vault.key").exists());
}

#[test]
fn without_a_passphrase_or_a_terminal_it_says_how_to_give_one() {
    let kw = Kw::new();
    kw.run_env(&["list"], &[("KEYWARD_PASSPHRASE", None)], "")
        .refused(
            "passphrase: give --passphrase-fd N, --passphrase-file FILE or KEYWARD_PASSPHRASE, or run in a terminal",
        );
}

#[test]
fn commands_on_a_missing_vault_say_how_to_make_one() {
    let kw = Kw::empty();
    kw.run(&["list"], "").refused("no vault in");
    kw.run(&["list"], "").refused("run `keyward init`");
}

#[test]
fn wrong_passphrase_says_only_that() {
    let kw = Kw::new();
    let out = kw.run_env(
        &["list"],
        &[("KEYWARD_PASSPHRASE", Some("orbit lantern cobalt meadow 41"))],
        "",
    );
    out.refused("wrong passphrase");
    assert_eq!(out.stderr.trim(), "error: wrong passphrase");
    // …and it is in the audit log after the next unlock.
    let audit = kw.run(&["audit", "--json"], "");
    audit.ok();
    assert!(audit.stdout.contains("vault.unlock_failed"));
}

#[test]
fn passwd_changes_the_passphrase() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    let new = "velvet harbour quartz tundra 7";
    kw.run_env(&["passwd"], &[("KEYWARD_NEW_PASSPHRASE", Some("weak"))], "")
        .refused("passphrase: too weak");
    let out = kw.run_env(&["passwd"], &[("KEYWARD_NEW_PASSPHRASE", Some(new))], "");
    out.ok();
    assert_eq!(out.stdout.trim(), "passphrase changed");
    kw.run(&["list"], "").refused("wrong passphrase");
    kw.run_env(
        &["show", &id, "--json"],
        &[("KEYWARD_PASSPHRASE", Some(new))],
        "",
    )
    .ok();
}

#[test]
fn passwd_says_the_identity_did_not_change() {
    let kw = Kw::new();
    let out = kw.run_env(
        &["passwd"],
        &[(
            "KEYWARD_NEW_PASSPHRASE",
            Some("copper meadow lantern 19 orbit"),
        )],
        "",
    );
    out.ok();
    assert!(out.stderr.contains("run `keyward rekey`"), "{}", out.stderr);
}

#[test]
fn vault_is_taken_from_the_flag_anywhere_then_the_environment_then_the_data_dir() {
    let kw = Kw::new();
    let other = kw.home.join("other-vault");
    let other = other.to_str().unwrap();
    kw.run_env(&["--vault", other, "init"], &[("KEYWARD_VAULT", None)], "")
        .ok();
    // After the subcommand too.
    kw.run_env(
        &[
            "add",
            "--platform",
            "Bybit",
            "--label",
            "x",
            "--vault",
            other,
        ],
        &[("KEYWARD_VAULT", None)],
        "",
    )
    .ok();
    let out = kw.run_env(
        &["list", "--json", "--vault", other],
        &[("KEYWARD_VAULT", None)],
        "",
    );
    out.ok();
    assert!(out.stdout.contains("Bybit"));
    assert_eq!(
        kw.list_json().len(),
        0,
        "the KEYWARD_VAULT vault is another one"
    );

    // Neither flag nor variable: the platform data dir.
    let out = kw.run_env(&["init"], &[("KEYWARD_VAULT", None)], "");
    out.ok();
    assert!(
        Path::new(&kw.home.join("data/keyward/vault.key")).exists(),
        "{}",
        out.stdout
    );
}

#[test]
fn usage_errors_exit_2_and_help_and_version_exit_0() {
    let kw = Kw::new();
    kw.run(&["bogus"], "").usage_error();
    kw.run(&["show"], "").usage_error();
    kw.run(&["add", "--platform"], "").usage_error();
    kw.run(&["list", "--frobnicate"], "").usage_error();
    let v = kw.run(&["--version"], "");
    v.ok();
    assert_eq!(
        v.stdout.trim(),
        format!("keyward {}", env!("CARGO_PKG_VERSION"))
    );
    let h = kw.run(&["--help"], "");
    h.ok();
    for cmd in [
        "init",
        "add",
        "list",
        "show",
        "edit",
        "set-status",
        "delete",
        "reveal",
        "audit",
        "passwd",
    ] {
        assert!(h.stdout.contains(cmd), "{cmd} missing from help");
    }
}

#[test]
fn a_damaged_vault_is_a_one_line_error_not_a_panic() {
    let kw = Kw::new();
    kw.add_kraken();
    let db = kw.vault.join("vault.db");
    let mut bytes = std::fs::read(&db).unwrap();
    for b in &mut bytes[0..16] {
        *b ^= 0xff;
    }
    std::fs::write(&db, bytes).unwrap();
    kw.run(&["list"], "")
        .refused("vault.db is damaged or was modified outside Keyward");
    std::fs::write(kw.vault.join("vault.key"), b"garbage").unwrap();
    kw.run(&["list"], "").refused("vault.key is damaged");
}

#[test]
fn a_vault_key_that_is_not_a_small_regular_file_is_damage_not_a_wait() {
    let kw = Kw::new();
    let key = kw.vault.join("vault.key");
    let saved = std::fs::read(&key).unwrap();
    std::fs::remove_file(&key).unwrap();
    assert!(Command::new("mkfifo").arg(&key).status().unwrap().success());
    // A plain read would wait for a writer for ever.
    kw.run(&["list"], "").refused("vault.key is damaged");
    std::fs::remove_file(&key).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &key).unwrap();
    kw.run(&["list"], "").refused("vault.key is damaged");
    std::fs::remove_file(&key).unwrap();
    std::fs::write(&key, &saved).unwrap();
    kw.run(&["list"], "").ok();
}

#[test]
fn a_forgotten_passphrase_is_replaced_with_the_recovery_code() {
    let kw = Kw::empty();
    let out = kw.run(&["init", "--recovery-code"], "");
    let code = out.ok().stdout.lines().last().unwrap().to_owned();
    assert!(code.starts_with("AGE-SECRET-KEY-1 "), "{code}");
    assert!(out.stderr.contains("shown once"));
    let id = kw.add_kraken();
    assert_eq!(
        kw.run(&["recovery", "status"], "").ok().stdout.trim(),
        "this vault has a recovery code"
    );
    // recovery.key opens with the standard age tool and the code.
    let codefile = kw._tmp.path().join("code.txt");
    std::fs::write(&codefile, code.replace(' ', "")).unwrap();
    let age = Command::new("age")
        .args([
            "-d",
            "-i",
            codefile.to_str().unwrap(),
            kw.vault.join("recovery.key").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&age.stdout).starts_with("AGE-SECRET-KEY-1"));

    let new = "copper meadow lantern 19 orbit";
    let env = [("KEYWARD_NEW_PASSPHRASE", Some(new))];
    kw.run_env(&["recover"], &env, "AGE-SECRET-KEY-1WRONG\n")
        .refused("recovery code: not a recovery code");
    let other = Kw::empty();
    let other_out = other.run(&["init", "--recovery-code"], "");
    let other_code = other_out.ok().stdout.lines().last().unwrap().to_owned();
    kw.run_env(&["recover"], &env, &other_code)
        .refused("recovery code: wrong code for this vault");
    kw.run_env(
        &["recover"],
        &[("KEYWARD_NEW_PASSPHRASE", Some("weak"))],
        &code,
    )
    .refused("passphrase: too weak");
    let out = kw.run_env(&["recover"], &env, &code.to_lowercase());
    assert!(out.ok().stdout.starts_with("new passphrase set"));
    kw.run(&["list"], "").refused("wrong passphrase");
    let out = kw.run_env(
        &["reveal", &id, "api_secret"],
        &[("KEYWARD_PASSPHRASE", Some(new))],
        "",
    );
    assert_eq!(out.ok().stdout, SECRETS[1]);
    let envp = [("KEYWARD_PASSPHRASE", Some(new))];
    kw.run_env(&["recovery", "remove"], &envp, "").ok();
    kw.run_env(&["recover"], &env, &code)
        .refused("this vault has no recovery code");
    let out = kw.run_env(&["audit", "--json"], &envp, "");
    for a in ["recovery.create", "vault.recover", "recovery.remove"] {
        assert!(out.ok().stdout.contains(a), "{a}");
    }
}

#[test]
fn rekey_leaves_old_copies_of_the_key_files_opening_nothing() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    let code = kw.run(&["recovery", "create"], "");
    let old_code = code.ok().stdout.trim().to_owned();
    let old_key = std::fs::read(kw.vault.join("vault.key")).unwrap();
    let old_recovery = std::fs::read(kw.vault.join("recovery.key")).unwrap();
    let head_before = kw
        .run(&["audit", "--head"], "")
        .ok()
        .stdout
        .trim()
        .to_owned();

    let out = kw.run(&["rekey"], "");
    out.ok();
    assert!(out.stderr.contains("new vault identity"), "{}", out.stderr);
    let new_code = out.stdout.trim().to_owned();
    assert!(new_code.starts_with("AGE-SECRET-KEY-1 "), "{new_code}");
    assert_ne!(new_code, old_code);
    // Same passphrase; the secret unchanged; the old head still proven.
    let v = kw.run(&["reveal", &id, "api_secret"], "");
    assert_eq!(v.ok().stdout, SECRETS[1]);
    kw.run(&["audit", "--verify", "--expect", &head_before], "")
        .ok();
    // The old vault.key put back, with the old passphrase: opens nothing.
    let new_key = std::fs::read(kw.vault.join("vault.key")).unwrap();
    std::fs::write(kw.vault.join("vault.key"), &old_key).unwrap();
    kw.run(&["list"], "").refused("vault.db is damaged");
    std::fs::write(kw.vault.join("vault.key"), &new_key).unwrap();
    // The old recovery.key with the old code: opens nothing either.
    std::fs::write(kw.vault.join("recovery.key"), &old_recovery).unwrap();
    kw.run_env(
        &["recover"],
        &[(
            "KEYWARD_NEW_PASSPHRASE",
            Some("copper meadow lantern 19 orbit"),
        )],
        &format!("{old_code}\n"),
    )
    .refused("vault.db is damaged");
    // A new passphrase with it, and no recovery code.
    let out = kw.run_env(
        &["rekey", "--no-recovery-code"],
        &[(
            "KEYWARD_NEW_PASSPHRASE",
            Some("copper meadow lantern 19 orbit"),
        )],
        "",
    );
    out.ok();
    assert!(out.stdout.is_empty(), "no code printed: {}", out.stdout);
    assert!(!kw.vault.join("recovery.key").exists());
    kw.run(&["list"], "").refused("wrong passphrase");
    kw.run_env(
        &["list"],
        &[("KEYWARD_PASSPHRASE", Some("copper meadow lantern 19 orbit"))],
        "",
    )
    .ok();
}

/// The header's scrypt work factor of `vault.key` (`-> scrypt SALT LOG_N`).
fn work_factor(vault: &Path) -> u8 {
    let bytes = std::fs::read(vault.join("vault.key")).unwrap();
    let stanza = bytes.split(|&b| b == b'\n').nth(1).unwrap();
    String::from_utf8_lossy(stanza)
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn a_release_style_kdf_is_restored_at_unlock_and_vault_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let kw = Kw::empty();
    // The vault directory existed already, open to everyone: made 0700.
    std::fs::create_dir_all(&kw.vault).unwrap();
    std::fs::set_permissions(&kw.vault, std::fs::Permissions::from_mode(0o755)).unwrap();
    kw.run(&["init"], "").ok();
    assert_eq!(
        std::fs::metadata(&kw.vault).unwrap().permissions().mode() & 0o777,
        0o700
    );
    for f in ["vault.db", "vault.key", "vault.pub"] {
        let mode = std::fs::metadata(kw.vault.join(f))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
    assert_eq!(work_factor(&kw.vault), 10);
    // A later unlock asks for more work: vault.key is re-wrapped, audited.
    kw.run_env(&["list"], &[("KEYWARD_INSECURE_TEST_KDF", Some("11"))], "")
        .ok();
    assert_eq!(work_factor(&kw.vault), 11);
    let log = kw.run(&["audit", "--json"], "");
    assert!(log.ok().stdout.contains("vault.kdf_upgrade"));
    // Never lowered.
    kw.run(&["list"], "").ok();
    assert_eq!(work_factor(&kw.vault), 11);
}
