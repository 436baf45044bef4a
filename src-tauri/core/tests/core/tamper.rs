//! Damage and tampering: a flipped byte anywhere in `vault.db` or
//! `vault.key`, and sealed secrets moved between rows. Each must end in a
//! clear error — never a panic, never wrong data.

use keyward_core::inventory::{self, Entry, SecretUse};
use keyward_core::vault::Error as VaultError;
use keyward_core::{audit, Origin, Vault, VaultDir};

use crate::common::*;

/// A closed vault with a few keys, and what it holds.
fn closed_vault() -> (Fixture, Vec<Entry>) {
    let (fx, mut vault) = Fixture::new();
    for i in 0..12 {
        let d = keyward_core::inventory::Draft {
            notes: Some("n".repeat(i * 300)),
            ..draft("Kraken", &format!("key {i}"))
        };
        let s = format!("secret-{i}");
        inventory::add(
            &mut vault,
            &d,
            vec![secret("api_secret", s.as_bytes())],
            NOW,
        )
        .unwrap();
    }
    let entries = inventory::list(&vault).unwrap();
    vault.lock().unwrap();
    let left: Vec<_> = std::fs::read_dir(fx.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 4, "the WAL is folded back on close: {left:?}");
    (fx, entries)
}

fn copy_dir(from: &VaultDir) -> (tempfile::TempDir, VaultDir) {
    let tmp = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(from.path()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), tmp.path().join(e.file_name())).unwrap();
    }
    let dir = VaultDir::new(tmp.path());
    (tmp, dir)
}

/// What unlocking says about a damaged `vault.db` (and every later read of
/// a damaged page).
const DB_DAMAGED: &str =
    "vault.db is damaged or was modified outside Keyward (page authentication failed)";
const KEY_DAMAGED: &str = "vault.key is damaged or is not a Keyward key file";

fn flip(path: &std::path::Path, offset: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[offset] ^= 0x01;
    std::fs::write(path, bytes).unwrap();
}

/// Everything a user can do with an unlocked vault: each step either gives
/// exactly the original data or a clear error. Returns whether any step
/// (or the full check) noticed the damage.
fn exercise(vault: &mut Vault, original: &[Entry]) -> bool {
    let mut noticed = false;
    match inventory::list(vault) {
        Ok(list) => assert_eq!(
            format!("{list:?}"),
            format!("{original:?}"),
            "list returned altered data"
        ),
        Err(e) => {
            assert!(
                matches!(e, inventory::Error::Vault(VaultError::DatabaseDamaged)),
                "list: {e:?}"
            );
            assert_eq!(e.to_string(), DB_DAMAGED);
            noticed = true;
        }
    }
    for (i, e) in original.iter().enumerate() {
        match inventory::take_secret(vault, &e.id, "api_secret", SecretUse::Reveal, NOW) {
            Ok(v) => assert_eq!(
                v.expose(),
                format!("secret-{}", label_index(&e.label)).as_bytes(),
                "entry {i}"
            ),
            Err(e) => {
                // Once a reveal's audit row could not be written to a damaged
                // page, later reveals of the session come back as a
                // read-only vault (seen with damage in the last page).
                let refused_after_damage =
                    noticed && matches!(e, inventory::Error::Vault(VaultError::ReadOnly));
                assert!(
                    matches!(e, inventory::Error::Vault(VaultError::DatabaseDamaged))
                        || refused_after_damage,
                    "entry {i}: {e:?}"
                );
                noticed = true;
            }
        }
    }
    match vault.check() {
        Ok(report) => noticed |= !report.is_ok(),
        Err(e) => {
            assert!(matches!(e, VaultError::DatabaseDamaged), "check: {e:?}");
            assert_eq!(e.to_string(), DB_DAMAGED);
            noticed = true;
        }
    }
    noticed
}

fn label_index(label: &str) -> usize {
    label.split(' ').nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_flipped_byte_anywhere_in_vault_db_is_an_error_never_garbage() {
    let (fx, original) = closed_vault();
    let len = std::fs::metadata(fx.dir.db_path()).unwrap().len() as usize;
    let page = 4096;
    assert!(
        len >= 3 * page,
        "want a multi-page database, got {len} bytes"
    );
    // The salt, the header, and several offsets in every page: start, middle,
    // the IV and HMAC in the reserved tail.
    let mut offsets = vec![0, 5, 15, 16, 20, 100];
    for p in 0..len / page {
        for o in [0, 1, 97, page / 2, page - 80, page - 33, page - 1] {
            offsets.push(p * page + o);
        }
    }
    // And a different handful of random offsets on every run.
    let mut seed = std::collections::hash_map::RandomState::new();
    for i in 0..48u64 {
        use std::hash::{BuildHasher, Hasher};
        let mut h = seed.build_hasher();
        h.write_u64(i);
        offsets.push((h.finish() % len as u64) as usize);
        if i % 16 == 15 {
            seed = std::collections::hash_map::RandomState::new();
        }
    }
    offsets.sort();
    offsets.dedup();
    let mut checked = 0;
    for offset in offsets.into_iter().filter(|&o| o < len) {
        let (_tmp, dir) = copy_dir(&fx.dir);
        flip(&dir.db_path(), offset);
        match Vault::unlock(&dir, &pass(), NOW, Origin::Test) {
            Err(e) => {
                assert!(
                    matches!(e, VaultError::DatabaseDamaged),
                    "offset {offset}: unexpected error {e:?}"
                );
                assert_eq!(e.to_string(), DB_DAMAGED);
            }
            Ok(mut vault) => {
                assert!(
                    exercise(&mut vault, &original),
                    "offset {offset}: damage went unnoticed"
                );
            }
        }
        checked += 1;
    }
    assert!(checked > 20);
}

/// Whether a low bit flipped at `offset` of `vault.key` still leaves a
/// well-formed age file, only one the passphrase no longer opens: another
/// scrypt salt, work factor or wrapped key. Anything else (the header
/// lines, the header MAC, the payload) is damage.
fn flip_reads_as_wrong_passphrase(key: &[u8], offset: usize) -> bool {
    let line_end = |from: usize| from + key[from..].iter().position(|&b| b == b'\n').unwrap();
    // `-> scrypt SALT LOG_N`, then the wrapped file key on its own line.
    let stanza = line_end(0) + 1;
    let stanza_end = line_end(stanza);
    let salt = stanza + "-> scrypt ".len();
    let log_n = salt + key[salt..].iter().position(|&b| b == b' ').unwrap() + 1;
    let wrapped = stanza_end + 1;
    let wrapped_end = line_end(wrapped);
    assert_eq!(&key[stanza..salt], b"-> scrypt ");
    // A flipped low bit keeps a base64 character base64, except these. The
    // last character of the salt and of the wrapped key carries padding
    // bits: flipped, it is no longer canonical base64.
    let stays_base64 = |c: u8| !b"AaZz+/".contains(&c);
    if (salt..log_n - 2).contains(&offset) || (wrapped..wrapped_end - 1).contains(&offset) {
        return stays_base64(key[offset]);
    }
    if (log_n..stanza_end).contains(&offset) {
        // The test work factor, 10: "11" derives another key, "00" is no number.
        let mut digits = key[log_n..stanza_end].to_vec();
        digits[offset - log_n] ^= 0x01;
        return digits[0] != b'0';
    }
    false
}

#[test]
fn a_flipped_byte_anywhere_in_vault_key_is_an_error() {
    let (fx, _) = closed_vault();
    let key = std::fs::read(fx.dir.key_path()).unwrap();
    let len = key.len();
    for offset in 0..len {
        let (_tmp, dir) = copy_dir(&fx.dir);
        flip(&dir.key_path(), offset);
        match Vault::unlock(&dir, &pass(), NOW, Origin::Test) {
            Ok(_) => panic!("offset {offset}: a damaged vault.key unlocked"),
            Err(e) if flip_reads_as_wrong_passphrase(&key, offset) => {
                assert!(
                    matches!(e, VaultError::WrongPassphrase),
                    "offset {offset}: {e:?}"
                );
                assert_eq!(e.to_string(), "wrong passphrase");
            }
            Err(e) => {
                assert!(
                    matches!(e, VaultError::KeyFileDamaged),
                    "offset {offset}: {e:?}"
                );
                assert_eq!(e.to_string(), KEY_DAMAGED);
            }
        }
    }
}

#[test]
fn a_missing_or_truncated_file_is_a_clear_error() {
    let (fx, _) = closed_vault();
    let (_t, dir) = copy_dir(&fx.dir);
    std::fs::remove_file(dir.db_path()).unwrap();
    assert!(matches!(
        Vault::unlock(&dir, &pass(), NOW, Origin::Test),
        Err(VaultError::DatabaseMissing)
    ));

    let (_t, dir) = copy_dir(&fx.dir);
    let key = std::fs::read(dir.key_path()).unwrap();
    std::fs::write(dir.key_path(), &key[..key.len() / 2]).unwrap();
    let e = Vault::unlock(&dir, &pass(), NOW, Origin::Test).unwrap_err();
    assert!(matches!(e, VaultError::KeyFileDamaged), "{e:?}");
    assert_eq!(e.to_string(), KEY_DAMAGED);

    let (_t, dir) = copy_dir(&fx.dir);
    let db = std::fs::read(dir.db_path()).unwrap();
    std::fs::write(dir.db_path(), &db[..db.len() - 4096]).unwrap();
    match Vault::unlock(&dir, &pass(), NOW, Origin::Test) {
        Err(e) => {
            assert!(matches!(e, VaultError::DatabaseDamaged), "{e:?}");
            assert_eq!(e.to_string(), DB_DAMAGED);
        }
        Ok(mut v) => {
            let entries = inventory::list(&v);
            let noticed = entries.is_err() || !v.check().map(|r| r.is_ok()).unwrap_or(false);
            assert!(noticed);
            let _ = inventory::take_secret(&mut v, "0000", "api_secret", SecretUse::Reveal, NOW);
        }
    }
}

#[test]
fn sealed_secrets_swapped_between_rows_are_detected() {
    let (_fx, mut vault) = Fixture::new();
    let a = add_key(&mut vault, "Kraken", "a", b"secret-a");
    let b = add_key(&mut vault, "Kraken", "b", b"secret-b");
    let c = vault.raw_connection();
    let get = |id: &str, f: &str| -> Vec<u8> {
        c.query_row(
            "SELECT sealed FROM secrets WHERE entry_id = ?1 AND field = ?2",
            [id, f],
            |r| r.get(0),
        )
        .unwrap()
    };
    let (sa, sb) = (get(&a, "api_secret"), get(&b, "api_secret"));
    let ka = get(&a, "api_key");
    let set = |id: &str, f: &str, v: &[u8]| {
        c.execute(
            "UPDATE secrets SET sealed = ?3 WHERE entry_id = ?1 AND field = ?2",
            rusqlite_params(id, f, v),
        )
        .unwrap()
    };
    set(&a, "api_secret", &sb);
    set(&b, "api_secret", &sa);
    set(&a, "api_key", &get(&a, "api_secret"));
    let _ = ka;
    for (id, field) in [(&a, "api_secret"), (&b, "api_secret"), (&a, "api_key")] {
        let err =
            inventory::take_secret(&mut vault, id, field, SecretUse::Reveal, NOW).unwrap_err();
        assert!(
            matches!(
                &err,
                inventory::Error::Vault(VaultError::SecretMisplaced { field: f }) if f == field
            ),
            "{id}/{field}: {err:?}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "secret field '{field}' belongs to another entry or field: the vault was tampered with"
            ),
            "{id}/{field}"
        );
    }
    // The refused reveals were not recorded as reveals.
    assert!(!audit::list(&vault)
        .unwrap()
        .iter()
        .any(|r| r.action == "secret.reveal"));
}

fn rusqlite_params<'a>(
    id: &'a str,
    f: &'a str,
    v: &'a [u8],
) -> impl keyward_core::rusqlite::Params + 'a {
    (id, f, v)
}

#[test]
fn the_check_notices_a_list_of_secret_fields_out_of_step() {
    let (_fx, mut vault) = Fixture::new();
    let id = add_key(&mut vault, "Kraken", "a", b"s");
    assert!(vault.check().unwrap().is_ok());
    vault
        .raw_connection()
        .execute(
            "UPDATE entries SET secret_fields = 'api_key' WHERE id = ?1",
            [&id],
        )
        .unwrap();
    let report = vault.check().unwrap();
    assert!(!report.is_ok());
    assert!(
        report.sqlite_problems[0].contains("out of step"),
        "{report:?}"
    );
}
