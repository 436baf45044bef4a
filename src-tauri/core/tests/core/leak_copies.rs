//! Leak-scan copies kept in the vault: recorded, seen again, gone when a
//! later scan of the place no longer finds them, resolved by hand, and a
//! finding of their key until then.

use keyward_core::audit;
use keyward_core::findings::{self, Severity};
use keyward_core::inventory;
use keyward_core::scan::copies::{self, Recorded, Searched};
use keyward_core::scan::{Needles, Progress, Report, Scanner};
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
    };

    let first = scan(&vault, &[], &root);
    let done = copies::record(&mut vault, NOW, &everything, &first).unwrap();
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
        copies::record(&mut vault, later, &everything, &again).unwrap(),
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
    };
    let r = scan(&vault, &only_b, &root);
    assert_eq!(
        copies::record(&mut vault, later, &for_b, &r).unwrap(),
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
        copies::record(&mut vault, later, &everything, &cancelled)
            .unwrap()
            .gone,
        0
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let other_roots = [elsewhere.path().to_path_buf()];
    let other = Searched {
        roots: &other_roots,
        keys: None,
    };
    let r = scan(&vault, &[], elsewhere.path());
    assert_eq!(
        copies::record(&mut vault, later, &other, &r).unwrap().gone,
        0
    );
    assert_eq!(leak_findings(&vault, later).len(), 2);
    // ...a whole scan of the place does.
    let r = scan(&vault, &[], &root);
    assert_eq!(
        copies::record(&mut vault, later, &everything, &r).unwrap(),
        Recorded {
            new: 0,
            still: 1,
            gone: 1
        }
    );
    let left = leak_findings(&vault, later);
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].key_id, b);

    // B's copy resolved by hand (the key is meant to be there): no finding;
    // found again by a later scan, it is open again.
    let m = r.matches.iter().find(|m| m.key_id == b).unwrap();
    assert!(copies::resolve(&mut vault, later, m, false).unwrap());
    assert!(!copies::resolve(&mut vault, later, m, false).unwrap());
    assert!(leak_findings(&vault, later).is_empty());
    let r = scan(&vault, &[], &root);
    assert_eq!(
        copies::record(&mut vault, later, &everything, &r).unwrap(),
        Recorded {
            new: 1,
            still: 0,
            gone: 0
        }
    );
    assert_eq!(leak_findings(&vault, later).len(), 1);

    // A file skipped (over the size limit) is not taken for a gone copy.
    let small = Scanner::new(Needles::from_vault(&vault, &[]).unwrap(), 4).unwrap();
    let r = small.scan(std::slice::from_ref(&root), &Progress::default());
    assert!(!r.skipped.is_empty());
    assert_eq!(
        copies::record(&mut vault, later, &everything, &r)
            .unwrap()
            .gone,
        0
    );

    // From the list of kept copies (an earlier scan's), by what it names.
    let open = copies::open(&vault).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].key_id.as_str(), open[0].line, open[0].column),
        (b.as_str(), 1, 4)
    );
    assert!(copies::resolve_kept(&mut vault, later, &open[0], true).unwrap());
    assert!(copies::open(&vault).unwrap().is_empty());
    let r = scan(&vault, &[], &root);
    assert_eq!(
        copies::record(&mut vault, later, &everything, &r)
            .unwrap()
            .new,
        1
    );

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
        3
    );
    for f in files_under(fx.dir.path()) {
        assert!(!contains(&f.1, A) && !contains(&f.1, B), "{:?}", f.0);
    }

    // A deleted key takes its copies with it.
    inventory::delete(&mut vault, &b, later).unwrap();
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
    copies::record(
        &mut vault,
        NOW,
        &Searched {
            roots: &roots,
            keys: None,
        },
        &r,
    )
    .unwrap();
    let found = leak_findings(&vault, NOW);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].severity, Severity::Critical);
    inventory::set_status(&mut vault, &id, inventory::Status::Revoked, NOW).unwrap();
    assert!(leak_findings(&vault, NOW).is_empty());
}
