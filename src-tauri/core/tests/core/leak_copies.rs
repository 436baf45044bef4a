//! Leak-scan copies kept in the vault: recorded, seen again, gone when a
//! later scan of the place no longer finds them, resolved by hand, and a
//! finding of their key until then.

use keyward_core::audit;
use keyward_core::copies;
use keyward_core::findings::{self, Severity};
use keyward_core::inventory;
use keyward_core::scan::keep::{self, Recorded, Searched};
use keyward_core::scan::{Needles, Progress, Report, Scanner, Skipped};
use time::Duration;

use crate::common::*;

const A: &[u8] = b"leak-copy-secret-A-Qz8mW2vR5tL1";
const B: &[u8] = b"leak-copy-secret-B-Hn4pX7cJ3kD9";

fn scan(vault: &keyward_core::Vault, keys: &[String], root: &std::path::Path) -> Report {
    let scanner = Scanner::new(Needles::from_vault(vault, keys).unwrap(), 1 << 20).unwrap();
    scanner.scan(&[root.to_path_buf()], &Progress::default())
}

fn leak_findings(vault: &keyward_core::Vault, at: time::OffsetDateTime) -> Vec<findings::Finding> {
    findings::of_vault(vault, at)
        .unwrap()
        .into_iter()
        .filter(|f| f.rule == "leak.copy")
        .collect()
}

#[test]
fn copies_stay_findings_until_gone_or_resolved() {
    let (fx, mut vault) = Fixture::new();
    let a = add_key(&mut vault, "binance", "Bot A", A);
    let b = add_key(&mut vault, "kraken", "Bot B", B);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let a_file = root.join("a.env");
    let b_file = root.join("notes/b.txt");
    std::fs::create_dir_all(root.join("notes")).unwrap();
    std::fs::write(&a_file, [b"X=1\nA=".as_slice(), A, b"\n"].concat()).unwrap();
    std::fs::write(&b_file, [b"B: ".as_slice(), B].concat()).unwrap();
    let everything = Searched {
        roots: std::slice::from_ref(&root),
        keys: None,
        started: NOW,
    };

    let first = scan(&vault, &[], &root);
    let done = keep::record(&mut vault, NOW, &everything, &first).unwrap();
    assert_eq!(
        done,
        Recorded {
            new: 2,
            still: 0,
            gone: 0
        }
    );
    let found = leak_findings(&vault, NOW);
    assert_eq!(found.len(), 2);
    let fa = found.iter().find(|f| f.key_id == a).unwrap();
    assert_eq!(fa.severity, Severity::High);
    assert_eq!(
        fa.message,
        format!("its api_secret is in {} (line 2)", a_file.display())
    );
    // Kept across a restart; one key's findings say the same.
    drop(vault);
    let mut vault = fx.unlock();
    assert_eq!(leak_findings(&vault, NOW).len(), 2);
    let of_a = findings::of_entry(&vault, &a, NOW).unwrap();
    assert!(of_a.iter().any(|f| f.rule == "leak.copy"));

    // Seen again: nothing new.
    let again = scan(&vault, &[], &root);
    let later = NOW + Duration::hours(1);
    assert_eq!(
        keep::record(&mut vault, later, &everything, &again).unwrap(),
        Recorded {
            new: 0,
            still: 2,
            gone: 0
        }
    );

    // A's file deleted; a scan for B only does not settle A's copy...
    std::fs::remove_file(&a_file).unwrap();
    let only_b = [b.clone()];
    let for_b = Searched {
        roots: std::slice::from_ref(&root),
        keys: Some(&only_b),
        started: NOW,
    };
    let r = scan(&vault, &only_b, &root);
    assert_eq!(
        keep::record(&mut vault, later, &for_b, &r).unwrap(),
        Recorded {
            new: 0,
            still: 1,
            gone: 0
        }
    );
    // ...nor does a cancelled scan, nor a scan of another place...
    let mut cancelled = scan(&vault, &[], &root);
    cancelled.cancelled = true;
    assert_eq!(
        keep::record(&mut vault, later, &everything, &cancelled)
            .unwrap()
            .gone,
        0
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let other_roots = [elsewhere.path().to_path_buf()];
    let other = Searched {
        roots: &other_roots,
        keys: None,
        started: NOW,
    };
    let r = scan(&vault, &[], elsewhere.path());
    assert_eq!(keep::record(&mut vault, later, &other, &r).unwrap().gone, 0);
    assert_eq!(leak_findings(&vault, later).len(), 2);
    // ...a whole scan of the place does.
    let r = scan(&vault, &[], &root);
    assert_eq!(
        keep::record(&mut vault, later, &everything, &r).unwrap(),
        Recorded {
            new: 0,
            still: 1,
            gone: 1
        }
    );
    let left = leak_findings(&vault, later);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].key_id, b);

    // A file skipped (over the size limit) is not taken for a gone copy.
    let small = Scanner::new(Needles::from_vault(&vault, &[]).unwrap(), 4).unwrap();
    let r = small.scan(std::slice::from_ref(&root), &Progress::default());
    assert!(!r.skipped.is_empty());
    assert_eq!(
        keep::record(&mut vault, later, &everything, &r)
            .unwrap()
            .gone,
        0
    );
    assert_eq!(leak_findings(&vault, later).len(), 1);

    // B's copy resolved by hand: no finding; a later scan finds it again,
    // so it is open again.
    let r = scan(&vault, &[], &root);
    let m = r.matches.iter().find(|m| m.key_id == b).unwrap();
    assert!(keep::resolve(&mut vault, later, m, true).unwrap());
    assert!(!keep::resolve(&mut vault, later, m, true).unwrap());
    assert!(leak_findings(&vault, later).is_empty());
    let next = later + Duration::hours(1);
    let since = |started| Searched {
        roots: std::slice::from_ref(&root),
        keys: None,
        started,
    };
    assert_eq!(
        keep::record(&mut vault, next, &since(next), &r).unwrap(),
        Recorded {
            new: 1,
            still: 0,
            gone: 0
        }
    );
    assert_eq!(leak_findings(&vault, next).len(), 1);
    // Resolved while a scan still ran: its end does not open it again.
    let started = next + Duration::minutes(1);
    let r = scan(&vault, &[], &root);
    let m = r.matches.iter().find(|m| m.key_id == b).unwrap();
    assert!(keep::resolve(&mut vault, started + Duration::seconds(5), m, true).unwrap());
    assert_eq!(
        keep::record(&mut vault, started, &since(started), &r).unwrap(),
        Recorded::default()
    );
    assert!(leak_findings(&vault, started).is_empty());
    // A copy never kept (resolved before its scan ended) is kept resolved.
    let fresh = root.join("fresh.txt");
    std::fs::write(&fresh, [b"k ".as_slice(), B].concat()).unwrap();
    let r = scan(&vault, std::slice::from_ref(&b), &fresh);
    assert!(keep::resolve(&mut vault, started, &r.matches[0], true).unwrap());
    assert!(copies::open(&vault).unwrap().is_empty());
    std::fs::remove_file(&fresh).unwrap();

    // From the list of kept copies, by what it names; accepted "anyway"
    // (a file meant to hold the key), it stays resolved when found again.
    let later_still = next + Duration::hours(2);
    let r = scan(&vault, &[], &root);
    assert_eq!(
        keep::record(&mut vault, later_still, &since(later_still), &r)
            .unwrap()
            .new,
        1
    );
    let open = copies::open(&vault).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].key_id.as_str(), open[0].line, open[0].column),
        (b.as_str(), 1, 4)
    );
    assert!(keep::resolve_kept(&mut vault, later_still, &open[0], false).unwrap());
    assert!(copies::open(&vault).unwrap().is_empty());
    let last = later_still + Duration::days(1);
    let r = scan(&vault, &[], &root);
    assert_eq!(
        keep::record(&mut vault, last, &since(last), &r).unwrap(),
        Recorded::default()
    );
    assert!(leak_findings(&vault, last).is_empty());

    // Every change was audited; no row names a secret.
    let rows = audit::list(&vault).unwrap();
    let recorded = rows
        .iter()
        .filter(|r| r.action == "secret.scan_copies")
        .count();
    assert_eq!(recorded, 7);
    assert_eq!(
        rows.iter()
            .filter(|r| r.action == "secret.scan_resolved")
            .count(),
        4
    );
    for f in files_under(fx.dir.path()) {
        assert!(!contains(&f.1, A) && !contains(&f.1, B), "{:?}", f.0);
    }

    // A deleted key takes its copies with it.
    std::fs::write(&a_file, [b"A=".as_slice(), A].concat()).unwrap();
    let r = scan(&vault, &[], &root);
    assert_eq!(
        keep::record(&mut vault, last, &since(last), &r)
            .unwrap()
            .new,
        1
    );
    assert_eq!(copies::open(&vault).unwrap().len(), 1);
    // The same place spelled another way (through a link, with `..`) is the
    // same place: the copy is still there, not new, not gone.
    let links = tempfile::tempdir().unwrap();
    let link = links.path().join("tree");
    std::os::unix::fs::symlink(&root, &link).unwrap();
    for spelled in [link, root.join("notes").join("..")] {
        let r = scan(&vault, &[], &spelled);
        let via = [spelled.clone()];
        let s = Searched {
            roots: &via,
            keys: None,
            started: last,
        };
        assert_eq!(
            keep::record(&mut vault, last, &s, &r).unwrap(),
            Recorded {
                new: 0,
                still: 1,
                gone: 0
            },
            "{spelled:?}"
        );
    }
    // A folder that could not be read keeps what is below it open, and a
    // walk error without a path keeps everything.
    let s = since(last);
    for blocked in [root.join("notes/..").display().to_string(), String::new()] {
        let mut r = scan(&vault, &[], &root);
        r.matches.clear();
        r.skipped.push(Skipped {
            path: blocked,
            reason: "not readable (permission denied)".into(),
        });
        assert_eq!(keep::record(&mut vault, last, &s, &r).unwrap().gone, 0);
    }
    inventory::delete(&mut vault, &a, last).unwrap();
    assert!(copies::open_by_key(&vault).unwrap().is_empty());
}

#[test]
fn a_copy_of_a_key_that_can_withdraw_is_critical_and_revoked_keys_raise_nothing() {
    let (_fx, mut vault) = Fixture::new();
    let d = keyward_core::inventory::Draft {
        permissions: Some(vec!["read".into(), "withdraw".into()]),
        ..draft("binance", "Treasury")
    };
    let id = inventory::add(&mut vault, &d, vec![secret("api_secret", A)], NOW)
        .unwrap()
        .id;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("h"), [b"curl ".as_slice(), A].concat()).unwrap();
    let roots = [dir.path().to_path_buf()];
    let r = scan(&vault, &[], dir.path());
    keep::record(
        &mut vault,
        NOW,
        &Searched {
            roots: &roots,
            keys: None,
            started: NOW,
        },
        &r,
    )
    .unwrap();
    let found = leak_findings(&vault, NOW);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, Severity::Critical);
    keyward_core::lifecycle::set_status(&mut vault, &id, inventory::Status::Revoked, NOW).unwrap();
    assert!(leak_findings(&vault, NOW).is_empty());
}

/// The leak scan is no file reader: the line around a copy is shown only
/// for long values stored before this unlock.
#[test]
fn previews_show_no_text_around_values_typed_in_this_session_or_short_ones() {
    use keyward_core::scan::PREVIEW_WITHHELD;
    let (fx, mut vault) = Fixture::new();
    // Someone at the unlocked window stores a value they chose: a word
    // that starts the line they want to read.
    let guessed = add_key(&mut vault, "Kraken", "probe", b"password=");
    let a = add_key(&mut vault, "binance", "Bot A", A);
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    std::fs::write(
        root.join("victim.conf"),
        [
            b"password=hunter2-the-real-one\nA=".as_slice(),
            A,
            b" # bot\n",
        ]
        .concat(),
    )
    .unwrap();
    let shown = |r: &Report, key: &str| -> Vec<String> {
        r.matches
            .iter()
            .filter(|m| m.key_id == key)
            .map(|m| m.preview.clone())
            .collect()
    };
    let report = scan(&vault, &[], &root);
    assert_eq!(shown(&report, &guessed), [PREVIEW_WITHHELD]);
    assert_eq!(
        shown(&report, &a),
        [PREVIEW_WITHHELD],
        "stored this session"
    );
    for m in &report.matches {
        assert!(!m.preview.contains("hunter2"), "{}", m.preview);
    }
    // The next session: the long value stored before it gets its line; the
    // short one never does.
    vault.lock().unwrap();
    let vault = fx.unlock();
    let report = scan(&vault, &[], &root);
    assert_eq!(shown(&report, &a), ["A=**** # bot"]);
    assert_eq!(shown(&report, &guessed), [PREVIEW_WITHHELD]);
    // Edited in this session: withheld again.
    let mut vault = vault;
    inventory::edit(
        &mut vault,
        &a,
        &keyward_core::inventory::Draft {
            notes: Some("touched".into()),
            ..Default::default()
        },
        inventory::SecretChanges::default(),
        NOW,
    )
    .unwrap();
    let report = scan(&vault, &[], &root);
    assert_eq!(shown(&report, &a), [PREVIEW_WITHHELD]);
    // Locking and opening again without the passphrase (the keyring, which
    // an unlocked window can make happen) does not make it old.
    vault.lock().unwrap();
    let identity = fx.dir.unwrap_identity(&pass()).unwrap();
    let vault =
        keyward_core::Vault::open(&fx.dir, identity, NOW, keyward_core::Origin::Test).unwrap();
    let report = scan(&vault, &[], &root);
    assert_eq!(shown(&report, &a), [PREVIEW_WITHHELD]);
    // Only the passphrase does.
    vault.lock().unwrap();
    let vault = fx.unlock();
    let report = scan(&vault, &[], &root);
    assert_eq!(shown(&report, &a), ["A=**** # bot"]);
}
