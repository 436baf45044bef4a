//! Backups: a round trip keeps every row and secret; damaged, truncated,
//! wrongly keyed or hostile backups are refused and leave nothing behind.

use keyward_core::backup::{self, Error, Key, Protection};
use keyward_core::incident::{self, Opening, StepId, StepInput, StepState};
use keyward_core::inventory::{self, SecretUse};
use keyward_core::review::{self, Decision, Scope};
use keyward_core::rotation;
use keyward_core::settings::{self, Settings};
use keyward_core::{audit, Origin, Passphrase, SecretValue, Vault, VaultDir};
use time::Duration;

use crate::common::*;

const BACKUP_PASS: &str = "harbour violet engine 73 quartz";
const NEW_PASS: &str = "copper meadow lantern 19 orbit";
/// Not UTF-8: travels as hex.
const BINARY: &[u8] = &[0xff, 0x00, 0x9c, b'k', b'w'];

fn t(minutes: i64) -> time::OffsetDateTime {
    NOW + Duration::minutes(minutes)
}

fn protection() -> Protection {
    Protection::Passphrase(Passphrase::new(BACKUP_PASS.into()), kdf())
}

/// A vault with a bit of everything: keys (one with a binary secret), a
/// rotation half-way with staged secrets, a finished review, an incident,
/// changed settings and a snooze.
fn busy_vault() -> (Fixture, Vault, Vec<String>) {
    let (fx, mut vault) = Fixture::new();
    let a = add_key(&mut vault, "Kraken", "grid-bot", b"backup-secret-A-4fQz");
    let b = add_key(&mut vault, "Binance", "treasury", b"backup-secret-B-8kLm");
    let c = inventory::add(
        &mut vault,
        &draft("Deribit", "options desk"),
        vec![secret("private_key", BINARY)],
        t(1),
    )
    .unwrap()
    .id;
    rotation::start(&mut vault, &a, t(2)).unwrap();
    rotation::set_new_key(&mut vault, &a, None, None, None, t(3)).unwrap();
    rotation::stage_secrets(
        &mut vault,
        &a,
        vec![
            secret("api_key", b"AKIA-next"),
            secret("api_secret", b"backup-staged-9xYz"),
        ],
        t(4),
    )
    .unwrap();
    let r = review::start(&mut vault, "alice", &Scope::default(), t(5)).unwrap();
    for (i, item) in r.items.iter().enumerate() {
        let d = [Decision::Keep, Decision::Reduce, Decision::Keep][i % 3];
        review::decide(
            &mut vault,
            &r.review.id,
            &item.entry_id,
            d,
            Some("checked"),
            None,
            t(6),
        )
        .unwrap();
    }
    review::finish(&mut vault, &r.review.id, t(7)).unwrap();
    let i = incident::open(
        &mut vault,
        std::slice::from_ref(&c),
        &Opening::default(),
        t(8),
    )
    .unwrap();
    incident::mark(
        &mut vault,
        &i.id,
        StepId::Contain,
        StepState::Done,
        Some("revoked"),
        &StepInput::default(),
        t(9),
    )
    .unwrap();
    settings::save(
        &mut vault,
        Settings {
            clipboard_clear_seconds: 45,
            ..Settings::default()
        },
        None,
        t(10),
    )
    .unwrap();
    keyward_core::reminder::snooze(&mut vault, &b, 7, t(11)).unwrap();
    (fx, vault, vec![a, b, c])
}

/// The current passphrase, given for one export or grant.
fn proof(vault: &mut Vault) -> keyward_core::vault::Reauth {
    vault.reauthenticate(&pass(), t(19)).unwrap()
}

fn secret_of(vault: &mut Vault, id: &str, field: &str) -> SecretValue {
    inventory::take_secret(vault, id, field, SecretUse::Reveal, t(30)).unwrap()
}

/// The busy vault backed up with a passphrase: the vault, its key ids, the
/// backup's bytes and what it holds.
fn backed_up() -> (Fixture, Vault, Vec<String>, Vec<u8>, backup::Summary) {
    let (fx, mut vault, ids) = busy_vault();
    let file = fx._tmp.path().join("keyward.age");
    let proof = proof(&mut vault);
    let summary = backup::write(&mut vault, &file, &protection(), proof, t(20)).unwrap();
    let bytes = std::fs::read(&file).unwrap();
    (fx, vault, ids, bytes, summary)
}

/// A busy vault and its backup restored, under a new passphrase, into
/// `restored/` beside it.
struct RoundTrip {
    fx: Fixture,
    vault: Vault,
    ids: Vec<String>,
    summary: backup::Summary,
    restored: Vault,
    dir: VaultDir,
}

fn round_trip() -> RoundTrip {
    let (fx, vault, ids, bytes, summary) = backed_up();
    let doc = backup::decrypt(
        &bytes,
        &Key::Passphrase(Passphrase::new(BACKUP_PASS.into())),
    )
    .unwrap();
    let dir = VaultDir::new(fx._tmp.path().join("restored"));
    let (restored, got) = backup::restore(
        &doc,
        &dir,
        &Passphrase::new(NEW_PASS.into()),
        kdf(),
        t(21),
        Origin::Test,
    )
    .unwrap();
    assert_eq!(got, summary);
    RoundTrip {
        fx,
        vault,
        ids,
        summary,
        restored,
        dir,
    }
}

#[test]
fn a_backup_file_is_encrypted_and_its_writing_audited() {
    let (_fx, vault, _, bytes, summary) = backed_up();
    assert_eq!(
        (
            summary.entries,
            summary.secrets,
            summary.reviews,
            summary.incidents
        ),
        (3, 5, 1, 1)
    );
    for s in [
        b"backup-secret-A-4fQz".as_slice(),
        b"backup-staged-9xYz",
        BINARY,
        b"grid-bot",
    ] {
        assert!(
            !bytes.windows(s.len()).any(|w| w == s),
            "the backup file is not encrypted"
        );
    }
    assert_eq!(
        audit::list(&vault).unwrap().last().unwrap().action,
        "backup.create"
    );
}

#[test]
fn a_restored_backup_holds_every_key_and_secret_value() {
    let RoundTrip {
        fx: _fx,
        mut vault,
        ids,
        mut restored,
        ..
    } = round_trip();
    // The same keys, field for field, and the same secret values.
    let before = serde_json::to_value(inventory::list(&vault).unwrap()).unwrap();
    let after = serde_json::to_value(inventory::list(&restored).unwrap()).unwrap();
    assert_eq!(before, after);
    for (id, field) in [
        (&ids[0], "api_secret"),
        (&ids[1], "api_secret"),
        (&ids[2], "private_key"),
    ] {
        let want = secret_of(&mut vault, id, field);
        let got = secret_of(&mut restored, id, field);
        assert_eq!(want.expose(), got.expose(), "{field} of {id}");
    }
}

#[test]
fn a_restored_backup_holds_the_rotation_in_progress_and_its_staged_secret() {
    let RoundTrip {
        fx: _fx,
        ids,
        mut restored,
        ..
    } = round_trip();
    let r = rotation::get(&restored, &ids[0]).unwrap().unwrap();
    assert_eq!(r.new_secret_fields.len(), 2);
    let staged = rotation::take_new_secret(
        &mut restored,
        &ids[0],
        "api_secret",
        SecretUse::Reveal,
        t(31),
    )
    .unwrap();
    assert_eq!(staged.expose(), b"backup-staged-9xYz");
}

#[test]
fn a_restored_backup_holds_the_reviews_incidents_settings_and_follow_ups() {
    let RoundTrip {
        fx: _fx,
        vault,
        restored,
        ..
    } = round_trip();
    assert_eq!(
        serde_json::to_value(review::list(&vault).unwrap()).unwrap(),
        serde_json::to_value(review::list(&restored).unwrap()).unwrap()
    );
    let inc = incident::list(&vault).unwrap();
    assert_eq!(
        serde_json::to_value(&inc).unwrap(),
        serde_json::to_value(incident::list(&restored).unwrap()).unwrap()
    );
    assert_eq!(
        settings::load(&restored).unwrap().clipboard_clear_seconds,
        45
    );
    assert_eq!(
        serde_json::to_value(keyward_core::followup::list(&vault, true).unwrap()).unwrap(),
        serde_json::to_value(keyward_core::followup::list(&restored, true).unwrap()).unwrap()
    );
}

#[test]
fn a_restored_audit_log_holds_every_backed_up_row_then_the_restore() {
    let RoundTrip {
        fx: _fx,
        vault,
        summary,
        restored,
        ..
    } = round_trip();
    // Every row as it was, then the restore; the chain holds.
    let old_log = audit::list(&vault).unwrap();
    let new_log = audit::list(&restored).unwrap();
    let n = summary.audit_rows as usize;
    assert_eq!(n, 19, "every row up to the backup");
    let same = serde_json::to_value(&old_log[..n]).unwrap()
        == serde_json::to_value(&new_log[..n]).unwrap();
    assert!(
        same,
        "the restored audit log differs from the backed-up one"
    );
    assert!(new_log.iter().any(|r| r.action == "backup.restore"));
    audit::verify(&restored).unwrap();
}

#[test]
fn a_restored_vault_checks_clean_and_unlocks_with_its_new_passphrase() {
    let RoundTrip {
        fx: _fx,
        restored,
        dir,
        ..
    } = round_trip();
    // Fingerprints were recomputed under the new key: `check` agrees.
    assert!(restored.check().unwrap().is_ok());
    restored.lock().unwrap();
    Vault::unlock(&dir, &Passphrase::new(NEW_PASS.into()), t(40), Origin::Test).unwrap();
}

#[test]
fn a_backup_to_recipients_opens_with_the_identity_only() {
    let (fx, mut vault, _) = busy_vault();
    let id = age::x25519::Identity::generate();
    let file = fx._tmp.path().join("to-recipient.age");
    let p = Protection::recipients(&[id.to_public().to_string()]).unwrap();
    let proof = proof(&mut vault);
    backup::write(&mut vault, &file, &p, proof, t(20)).unwrap();
    let bytes = std::fs::read(&file).unwrap();
    let e = backup::decrypt(
        &bytes,
        &Key::Passphrase(Passphrase::new(BACKUP_PASS.into())),
    )
    .unwrap_err();
    assert!(
        matches!(e, Error::WrongMethod("age recipients", "--identity FILE")),
        "{e:?}"
    );
    assert!(e.to_string().contains("give --identity FILE"), "{e}");
    let other = age::x25519::Identity::generate();
    assert!(matches!(
        backup::decrypt(&bytes, &Key::Identity(other)),
        Err(Error::WrongKey)
    ));
    let doc = backup::decrypt(&bytes, &Key::Identity(id)).unwrap();
    assert_eq!(
        backup::verify(&doc, fx._tmp.path(), t(21)).unwrap().entries,
        3
    );
}

#[test]
fn damaged_truncated_or_wrongly_keyed_backups_are_refused_and_leave_nothing() {
    let (fx, mut vault, _) = busy_vault();
    let file = fx._tmp.path().join("keyward.age");
    let proof = proof(&mut vault);
    backup::write(&mut vault, &file, &protection(), proof, t(20)).unwrap();
    let good = std::fs::read(&file).unwrap();
    let key = || Key::Passphrase(Passphrase::new(BACKUP_PASS.into()));
    let e =
        backup::decrypt(&good, &Key::Passphrase(Passphrase::new("wrong one".into()))).unwrap_err();
    assert!(matches!(e, Error::WrongKey), "{e}");
    for len in [0, 10, good.len() / 2, good.len() - 1] {
        let e = backup::decrypt(&good[..len], &key()).unwrap_err();
        assert!(matches!(e, Error::Damaged), "truncated to {len}: {e:?}");
        assert_eq!(e.to_string(), "backup: the file is damaged or truncated");
    }
    // A flipped bit anywhere is an error, never a different document.
    for offset in (0..good.len())
        .step_by(good.len() / 40 + 1)
        .chain([good.len() - 1])
    {
        let mut bad = good.clone();
        bad[offset] ^= 0x01;
        let e = backup::decrypt(&bad, &key()).unwrap_err();
        // The first byte starts the age header line; every other offset
        // tried lies past the header, in the authenticated payload.
        if offset == 0 {
            assert!(
                matches!(&e, Error::NotABackup(why) if why == "not an age file"),
                "bit flipped at {offset}: {e:?}"
            );
        } else {
            assert!(
                matches!(e, Error::Damaged),
                "bit flipped at {offset}: {e:?}"
            );
        }
    }
    let e = backup::decrypt(b"not an age file at all", &key()).unwrap_err();
    assert!(
        matches!(&e, Error::NotABackup(why) if why == "not an age file"),
        "{e:?}"
    );
    assert!(e.to_string().contains("not a Keyward backup"), "{e}");
    // Restoring over an existing vault is refused and changes nothing.
    let doc = backup::decrypt(&good, &key()).unwrap();
    let e = backup::restore(
        &doc,
        &fx.dir,
        &Passphrase::new(NEW_PASS.into()),
        kdf(),
        t(21),
        Origin::Test,
    )
    .unwrap_err();
    assert!(
        matches!(
            &e,
            Error::Vault(keyward_core::vault::Error::AlreadyExists { path }) if path == fx.dir.path()
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("already exists"), "{e}");
    fx.unlock();
}

#[test]
fn hostile_documents_get_a_clear_error_and_no_vault() {
    let (fx, vault, _) = busy_vault();
    let doc = backup::document(&vault, t(20)).unwrap();
    let text = String::from_utf8(doc.to_vec()).unwrap();
    let target = VaultDir::new(fx._tmp.path().join("hostile"));
    let attempt = |doc: &str| {
        backup::restore(
            doc.as_bytes(),
            &target,
            &Passphrase::new(NEW_PASS.into()),
            kdf(),
            t(21),
            Origin::Test,
        )
        .map(|_| ())
        .unwrap_err()
    };
    // Each document, a piece of the message, and the exact error.
    type Is = fn(&Error) -> bool;
    let not_a_document: Is =
        |e| matches!(e, Error::NotABackup(why) if why == "its content is not a backup document");
    let cases: Vec<(String, &str, Is)> = vec![
        (
            text.replacen("\"keyward-backup\"", "\"something-else\"", 1),
            "not a Keyward backup",
            not_a_document,
        ),
        (
            text.replacen(
                &format!("\"version\":{}", backup::VERSION),
                "\"version\":9",
                1,
            ),
            "newer Keyward",
            |e| matches!(e, Error::Newer(what) if what == "format version 9"),
        ),
        (
            text.replacen("\"tables\":{", "\"tables\":{\"evil\":[],", 1),
            "unknown table 'evil'",
            |e| matches!(e, Error::Invalid(why) if why == "unknown table 'evil'"),
        ),
        (
            text.replacen("\"label\":", "\"label; DROP TABLE x\":", 1),
            "unknown column",
            |e| matches!(e, Error::Invalid(why) if why == "entries: unknown column 'label; DROP TABLE x'"),
        ),
        {
            // A secret for a key the backup does not have.
            let at = text.find("\"secrets\":[").unwrap();
            let (head, tail) = text.split_at(at);
            (
                format!(
                    "{head}{}",
                    tail.replacen("\"entry_id\":\"", "\"entry_id\":\"f", 1)
                ),
                "does not fit its key",
                |e| {
                    matches!(e, Error::Invalid(why)
                        if why == "secrets: a secret does not fit its key: FOREIGN KEY constraint failed")
                },
            )
        },
        (
            text.replacen("\"action\":\"vault.init\"", "\"action\":\"vault.lnit\"", 1),
            "audit log does not verify",
            |e| {
                matches!(e, Error::Invalid(why)
                    if why == "its audit log does not verify: audit log: entry #1 is broken: its content was changed")
            },
        ),
        (
            text[..text.len() / 2].to_owned(),
            "not a Keyward backup",
            not_a_document,
        ),
        ("[]".into(), "not a Keyward backup", not_a_document),
    ];
    for (doc, want, is) in cases {
        let err = attempt(&doc);
        assert!(is(&err), "{err:?} — wanted {want}");
        let e = err.to_string();
        assert!(e.contains(want), "{e} — wanted {want}");
        assert!(
            !target.path().exists(),
            "a failed restore left {}",
            target.path().display()
        );
    }
    // The real one restores there afterwards.
    backup::restore(
        &doc,
        &target,
        &Passphrase::new(NEW_PASS.into()),
        kdf(),
        t(22),
        Origin::Test,
    )
    .unwrap();
    vault.lock().unwrap();
}

#[test]
fn automatic_backups_run_when_due_to_the_recovery_code_and_keep_the_newest() {
    let (fx, mut vault, _) = busy_vault();
    let folder = fx._tmp.path().join("auto");
    // Off by default: nothing due, nothing written.
    assert!(backup::run_if_due(&mut vault, &folder, t(20))
        .unwrap()
        .is_none());
    settings::save(
        &mut vault,
        Settings {
            backup_schedule: "daily".into(),
            backup_keep: 2,
            ..Settings::default()
        },
        None,
        t(20),
    )
    .unwrap();
    // Daily, but nothing to encrypt to yet: blocked, said plainly.
    let s = backup::auto_status(&vault, t(21)).unwrap();
    assert!(s.stale && s.blocked.as_deref().unwrap().contains("recovery code"));
    let e = backup::run_if_due(&mut vault, &folder, t(21)).unwrap_err();
    assert!(
        matches!(&e, Error::Invalid(why)
            if why == "automatic backups need a recovery code or an age public key to encrypt to"),
        "{e:?}"
    );
    let proof = proof(&mut vault);
    let code = vault.create_recovery_code(proof, t(22)).unwrap();

    let day = Duration::days(1);
    let mut made = Vec::new();
    for n in 0..4 {
        let at = t(30) + day * n;
        let (path, _) = backup::run_if_due(&mut vault, &folder, at)
            .unwrap()
            .unwrap();
        made.push(path);
        // Not due again within the day.
        assert!(
            backup::run_if_due(&mut vault, &folder, at + Duration::hours(3))
                .unwrap()
                .is_none()
        );
    }
    let mut left: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    left.sort();
    assert_eq!(left, made[2..].to_vec(), "the two newest are kept");
    let s = backup::auto_status(&vault, t(30) + day * 3).unwrap();
    assert!(!s.stale);
    assert_eq!(s.next_at, Some(t(30) + day * 4));
    assert!(backup::auto_status(&vault, t(30) + day * 5).unwrap().stale);

    // The written-down recovery code opens them.
    let identity: age::x25519::Identity = code.expose().parse().unwrap();
    let doc = backup::decrypt(&std::fs::read(&made[3]).unwrap(), &Key::Identity(identity)).unwrap();
    assert_eq!(backup::inspect(&doc).unwrap().entries, 3);
    // A bad schedule is refused by the settings.
    let e = settings::save(
        &mut vault,
        Settings {
            backup_schedule: "hourly".into(),
            ..Settings::default()
        },
        None,
        t(40),
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("backup_schedule:"), "{e}");
}

/// The document of `vault`, changed by `edit`, restored into a new vault.
fn restore_edited(
    vault: &Vault,
    edit: impl FnOnce(&mut serde_json::Value),
) -> (tempfile::TempDir, Result<Vault, Error>) {
    let doc = backup::document(vault, t(20)).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&doc).unwrap();
    edit(&mut v);
    let bytes = serde_json::to_vec(&v).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = VaultDir::new(tmp.path().join("restored"));
    let r = backup::restore(
        &bytes,
        &dir,
        &Passphrase::new(NEW_PASS.into()),
        kdf(),
        t(21),
        Origin::Test,
    )
    .map(|(v, _)| v);
    (tmp, r)
}

fn meta(vault: &Vault, key: &str) -> Option<String> {
    use keyward_core::rusqlite::OptionalExtension;
    vault
        .raw_connection()
        .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
        .unwrap()
}

#[test]
fn a_restore_brings_back_only_the_meta_it_knows() {
    let (_fx, mut vault, _) = busy_vault();
    let proof = vault.reauthenticate(&pass(), t(19)).unwrap();
    vault.create_recovery_code(proof, t(19)).unwrap();
    assert!(meta(&vault, "recovery_recipient").is_some());
    // Where automatic backups go, and to whom: not brought back either.
    let proof = vault.reauthenticate(&pass(), t(19)).unwrap();
    let planted = age::x25519::Identity::generate().to_public().to_string();
    settings::save(
        &mut vault,
        Settings {
            backup_schedule: "daily".into(),
            backup_recipients: vec![planted],
            backup_folder: Some("/srv/elsewhere".into()),
            ..Settings::default()
        },
        Some(proof),
        t(19),
    )
    .unwrap();
    let (_tmp, restored) = restore_edited(&vault, |v| {
        v["tables"]["meta"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!({"key": "something_new", "value": "x"}));
    });
    let restored = restored.unwrap();
    // No recovery.key came with it: automatic backups must not keep going
    // to the source vault's recovery code while Settings says there is none.
    assert_eq!(meta(&restored, "recovery_recipient"), None);
    assert_eq!(meta(&restored, "something_new"), None);
    assert!(meta(&restored, "audit_head").is_some());
    assert!(!restored.dir().has_recovery_code());
    let kept = settings::load(&restored).unwrap();
    assert_eq!(kept.backup_schedule, "daily");
    assert!(kept.backup_recipients.is_empty());
    assert_eq!(kept.backup_folder, None);
    // Daily, but nothing to encrypt to until the user says to whom again.
    let auto = backup::auto_status(&restored, t(22)).unwrap();
    assert!(auto.blocked.is_some(), "{auto:?}");
}

#[test]
fn a_crafted_backup_is_checked_like_input_and_restores_nothing() {
    let (_fx, vault, _) = busy_vault();
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: [(&str, Edit); 5] = [
        (
            "entries row 1: label holds control characters",
            Box::new(|v| v["tables"]["entries"][0]["label"] = "grid\u{1b}[31m bot".into()),
        ),
        (
            "entries row 1: id is not a Keyward id",
            Box::new(|v| {
                let old = v["tables"]["entries"][0]["id"].as_str().unwrap().to_owned();
                let rename = |x: &mut serde_json::Value| {
                    if x.as_str() == Some(old.as_str()) {
                        *x = "x".into();
                    }
                };
                for t in v["tables"].as_object_mut().unwrap().values_mut() {
                    for row in t.as_array_mut().unwrap() {
                        for (_, c) in row.as_object_mut().unwrap() {
                            rename(c);
                        }
                    }
                }
                for s in v["secrets"].as_array_mut().unwrap() {
                    rename(&mut s["entry_id"]);
                }
            }),
        ),
        (
            "entries row 1: status: not a status Keyward knows",
            Box::new(|v| v["tables"]["entries"][0]["status"] = "owned".into()),
        ),
        (
            "entries row 1: ip_allowlist: '300.1.2.3' is not an IPv4/IPv6 address or CIDR",
            Box::new(|v| v["tables"]["entries"][0]["ip_allowlist"] = "300.1.2.3".into()),
        ),
        (
            "reviews row 1: reviewer holds control characters",
            Box::new(|v| v["tables"]["reviews"][0]["reviewer"] = "alice\u{7}".into()),
        ),
    ];
    for (says, edit) in cases {
        let (tmp, r) = restore_edited(&vault, edit);
        let e = r.err().unwrap_or_else(|| panic!("restored: {says}"));
        assert!(
            matches!(&e, Error::Invalid(why) if why == says),
            "{e:?} / {says}"
        );
        assert!(e.to_string().contains(says), "{e} / {says}");
        assert!(
            !tmp.path().join("restored").exists(),
            "nothing left behind for {says}"
        );
    }
}
