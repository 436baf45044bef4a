//! Leak-scan copies kept in the vault: recorded, seen again, gone when a
//! later scan of the place no longer finds them, resolved by hand, and a
//! finding of their key until then.

use keyward_core::audit;
use keyward_core::copies;
use keyward_core::findings::{self, Severity};
use keyward_core::inventory;
use keyward_core::scan::keep::{self, Recorded, Searched};
use keyward_core::scan::{Needles, Progress, Report, Scanner, Skipped};
use std::path::PathBuf;
use time::{Duration, OffsetDateTime};

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

fn later() -> OffsetDateTime {
    NOW + Duration::hours(1)
}

/// Keys A and B, each with a copy in one folder: A's on line 2 of `a.env`,
/// B's in `notes/b.txt`.
struct Scene {
    fx: Fixture,
    vault: keyward_core::Vault,
    a: String,
    b: String,
    /// Kept so the folder lives as long as the scene.
    _dir: tempfile::TempDir,
    root: PathBuf,
    a_file: PathBuf,
}

impl Scene {
    fn new() -> Scene {
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
        Scene {
            fx,
            vault,
            a,
            b,
            _dir: dir,
            root,
            a_file,
        }
    }

    /// Records `report` as a scan of the folder for `keys` (`None`: every
    /// key) that started at `started`.
    fn record(
        &mut self,
        at: OffsetDateTime,
        started: OffsetDateTime,
        keys: Option<&[String]>,
        report: &Report,
    ) -> Recorded {
        let roots = [self.root.clone()];
        let searched = Searched {
            roots: &roots,
            keys,
            started,
        };
        keep::record(&mut self.vault, at, &searched, report).unwrap()
    }

    /// Scans the whole folder for every key, and records it.
    fn record_whole(&mut self, at: OffsetDateTime, started: OffsetDateTime) -> Recorded {
        let r = scan(&self.vault, &[], &self.root);
        self.record(at, started, None, &r)
    }
}

/// The scene after a first whole scan (at `NOW`) found both copies.
fn recorded() -> Scene {
    let mut s = Scene::new();
    s.record_whole(NOW, NOW);
    s
}

/// Then A's file deleted, and a whole scan at `later()` found its copy gone.
fn a_gone() -> Scene {
    let mut s = recorded();
    std::fs::remove_file(&s.a_file).unwrap();
    s.record_whole(later(), NOW);
    s
}

/// Then B's copy accepted "anyway" and A's copy written back to its file.
fn a_back_and_b_accepted() -> Scene {
    let mut s = a_gone();
    let open = copies::open(&s.vault).unwrap();
    keep::resolve_kept(&mut s.vault, later(), &open[0], false).unwrap();
    std::fs::write(&s.a_file, [b"A=".as_slice(), A].concat()).unwrap();
    s
}

/// Every change was audited: `scans` recorded scans that changed
/// something and `resolved` copies resolved by hand; no file of the vault,
/// the log included, names a secret.
fn assert_audited(s: &Scene, scans: usize, resolved: usize) {
    let rows = audit::list(&s.vault).unwrap();
    let recorded = rows
        .iter()
        .filter(|r| r.action == "secret.scan_copies")
        .count();
    assert_eq!(recorded, scans);
    assert_eq!(
        rows.iter()
            .filter(|r| r.action == "secret.scan_resolved")
            .count(),
        resolved
    );
    for f in files_under(s.fx.dir.path()) {
        assert!(!contains(&f.1, A) && !contains(&f.1, B), "{:?}", f.0);
    }
}

#[test]
fn a_scan_keeps_each_copy_it_finds_as_a_finding_of_its_key() {
    let mut s = Scene::new();
    let done = s.record_whole(NOW, NOW);
    assert_eq!(
        done,
        Recorded {
            new: 2,
            still: 0,
            gone: 0
        }
    );
    let found = leak_findings(&s.vault, NOW);
    assert_eq!(found.len(), 2);
    let fa = found.iter().find(|f| f.key_id == s.a).unwrap();
    assert_eq!(fa.severity, Severity::High);
    assert_eq!(
        fa.message,
        format!("its api_secret is in {} (line 2)", s.a_file.display())
    );
    assert_audited(&s, 1, 0);
}

#[test]
fn kept_copies_are_kept_across_a_restart_and_in_one_keys_findings() {
    let Scene {
        fx, vault, a, _dir, ..
    } = recorded();
    drop(vault);
    let vault = fx.unlock();
    assert_eq!(leak_findings(&vault, NOW).len(), 2);
    let of_a = findings::of_entry(&vault, &a, NOW).unwrap();
    assert!(of_a.iter().any(|f| f.rule == "leak.copy"));
}

#[test]
fn a_copy_seen_again_is_not_new() {
    let mut s = recorded();
    assert_eq!(
        s.record_whole(later(), NOW),
        Recorded {
            new: 0,
            still: 2,
            gone: 0
        }
    );
    assert_audited(&s, 2, 0);
}

#[test]
fn a_copy_is_gone_only_once_a_whole_scan_of_its_place_misses_it() {
    let mut s = recorded();
    let later = later();
    // A's file deleted; a scan for B only does not settle A's copy...
    std::fs::remove_file(&s.a_file).unwrap();
    let only_b = [s.b.clone()];
    let r = scan(&s.vault, &only_b, &s.root);
    assert_eq!(
        s.record(later, NOW, Some(&only_b), &r),
        Recorded {
            new: 0,
            still: 1,
            gone: 0
        }
    );
    // ...nor does a cancelled scan, nor a scan of another place...
    let mut cancelled = scan(&s.vault, &[], &s.root);
    cancelled.cancelled = true;
    assert_eq!(s.record(later, NOW, None, &cancelled).gone, 0);
    let elsewhere = tempfile::tempdir().unwrap();
    let other_roots = [elsewhere.path().to_path_buf()];
    let other = Searched {
        roots: &other_roots,
        keys: None,
        started: NOW,
    };
    let r = scan(&s.vault, &[], elsewhere.path());
    assert_eq!(
        keep::record(&mut s.vault, later, &other, &r).unwrap().gone,
        0
    );
    assert_eq!(leak_findings(&s.vault, later).len(), 2);
    // ...a whole scan of the place does.
    assert_eq!(
        s.record_whole(later, NOW),
        Recorded {
            new: 0,
            still: 1,
            gone: 1
        }
    );
    let left = leak_findings(&s.vault, later);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].key_id, s.b);
    assert_audited(&s, 4, 0);
}

#[test]
fn a_file_skipped_over_the_size_limit_is_not_taken_for_a_gone_copy() {
    let mut s = a_gone();
    let small = Scanner::new(Needles::from_vault(&s.vault, &[]).unwrap(), 4).unwrap();
    let r = small.scan(std::slice::from_ref(&s.root), &Progress::default());
    assert!(!r.skipped.is_empty());
    assert_eq!(s.record(later(), NOW, None, &r).gone, 0);
    assert_eq!(leak_findings(&s.vault, later()).len(), 1);
    assert_audited(&s, 2, 0);
}

#[test]
fn a_copy_resolved_by_hand_is_no_finding_until_a_later_scan_finds_it_again() {
    let mut s = a_gone();
    let later = later();
    let r = scan(&s.vault, &[], &s.root);
    let m = r.matches.iter().find(|m| m.key_id == s.b).unwrap();
    assert!(keep::resolve(&mut s.vault, later, m, true).unwrap());
    assert!(!keep::resolve(&mut s.vault, later, m, true).unwrap());
    assert!(leak_findings(&s.vault, later).is_empty());
    let next = later + Duration::hours(1);
    assert_eq!(
        s.record(next, next, None, &r),
        Recorded {
            new: 1,
            still: 0,
            gone: 0
        }
    );
    assert_eq!(leak_findings(&s.vault, next).len(), 1);
    assert_audited(&s, 3, 1);
}

#[test]
fn a_copy_resolved_while_its_scan_runs_stays_resolved_when_the_scan_ends() {
    let mut s = a_gone();
    let started = later() + Duration::hours(1) + Duration::minutes(1);
    // Resolved while a scan still ran: its end does not open it again.
    let r = scan(&s.vault, &[], &s.root);
    let m = r.matches.iter().find(|m| m.key_id == s.b).unwrap();
    assert!(keep::resolve(&mut s.vault, started + Duration::seconds(5), m, true).unwrap());
    assert_eq!(s.record(started, started, None, &r), Recorded::default());
    assert!(leak_findings(&s.vault, started).is_empty());
    // A copy never kept (resolved before its scan ended) is kept resolved.
    let fresh = s.root.join("fresh.txt");
    std::fs::write(&fresh, [b"k ".as_slice(), B].concat()).unwrap();
    let r = scan(&s.vault, std::slice::from_ref(&s.b), &fresh);
    assert!(keep::resolve(&mut s.vault, started, &r.matches[0], true).unwrap());
    assert!(copies::open(&s.vault).unwrap().is_empty());
    std::fs::remove_file(&fresh).unwrap();
    assert_audited(&s, 2, 2);
}

#[test]
fn a_kept_copy_accepted_anyway_stays_resolved_when_found_again() {
    let mut s = a_gone();
    // B's copy resolved by hand, then found again by a scan started later:
    // open again.
    let r = scan(&s.vault, &[], &s.root);
    let m = r.matches.iter().find(|m| m.key_id == s.b).unwrap();
    keep::resolve(&mut s.vault, later(), m, true).unwrap();
    let later_still = later() + Duration::hours(3);
    assert_eq!(s.record_whole(later_still, later_still).new, 1);
    // From the list of kept copies, by what it names; accepted "anyway"
    // (a file meant to hold the key), it stays resolved when found again.
    let open = copies::open(&s.vault).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].key_id.as_str(), open[0].line, open[0].column),
        (s.b.as_str(), 1, 4)
    );
    assert!(keep::resolve_kept(&mut s.vault, later_still, &open[0], false).unwrap());
    assert!(copies::open(&s.vault).unwrap().is_empty());
    let last = later_still + Duration::days(1);
    assert_eq!(s.record_whole(last, last), Recorded::default());
    assert!(leak_findings(&s.vault, last).is_empty());
    assert_audited(&s, 3, 2);
}

#[test]
fn a_copy_back_where_it_was_gone_is_new_again() {
    let mut s = a_back_and_b_accepted();
    let last = later() + Duration::days(1);
    assert_eq!(s.record_whole(last, last).new, 1);
    assert_eq!(copies::open(&s.vault).unwrap().len(), 1);
    assert_audited(&s, 3, 1);
}

#[test]
fn the_same_place_spelled_another_way_is_the_same_place() {
    let mut s = a_back_and_b_accepted();
    let last = later() + Duration::days(1);
    s.record_whole(last, last);
    // Through a link, or with `..`: the copy is still there, not new, not gone.
    let links = tempfile::tempdir().unwrap();
    let link = links.path().join("tree");
    std::os::unix::fs::symlink(&s.root, &link).unwrap();
    for spelled in [link, s.root.join("notes").join("..")] {
        let r = scan(&s.vault, &[], &spelled);
        let via = [spelled.clone()];
        let searched = Searched {
            roots: &via,
            keys: None,
            started: last,
        };
        assert_eq!(
            keep::record(&mut s.vault, last, &searched, &r).unwrap(),
            Recorded {
                new: 0,
                still: 1,
                gone: 0
            },
            "{spelled:?}"
        );
    }
    assert_audited(&s, 5, 1);
}

#[test]
fn an_unreadable_folder_or_a_walk_error_without_a_path_settles_no_copy() {
    let mut s = a_back_and_b_accepted();
    let last = later() + Duration::days(1);
    s.record_whole(last, last);
    // A folder that could not be read keeps what is below it open, and a
    // walk error without a path keeps everything.
    for blocked in [s.root.join("notes/..").display().to_string(), String::new()] {
        let mut r = scan(&s.vault, &[], &s.root);
        r.matches.clear();
        r.skipped.push(Skipped {
            path: blocked,
            reason: "not readable (permission denied)".into(),
        });
        assert_eq!(s.record(last, last, None, &r).gone, 0);
    }
    assert_audited(&s, 3, 1);
}

#[test]
fn a_deleted_key_takes_its_copies_with_it() {
    let mut s = a_back_and_b_accepted();
    let last = later() + Duration::days(1);
    s.record_whole(last, last);
    assert_eq!(copies::open(&s.vault).unwrap().len(), 1);
    inventory::delete(&mut s.vault, &s.a, last).unwrap();
    assert!(copies::open_by_key(&s.vault).unwrap().is_empty());
    assert_audited(&s, 3, 1);
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
