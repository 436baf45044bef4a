//! Access reviews: lifecycle, persistence, follow-ups, reminders and reports.

use jiff::tz::TimeZone;
use keyward_core::audit;
use keyward_core::findings;
use keyward_core::followup::FollowUpKind;
use keyward_core::inventory::{self, Draft, SecretChanges, Status};
use keyward_core::reminder as reminders;
use keyward_core::review::{self, report, Checks, Decision, Error, Scope};
use keyward_core::rotation::{self, DueReason};
use keyward_core::settings::{self, Settings};
use time::Duration;

use crate::common::*;

const SECRETS: [&[u8]; 3] = [
    b"review-secret-A-Xq7mW2pL9sT4vN8c",
    b"review-secret-B-Jd3kF6hR1zY5uB0e",
    b"review-secret-C-Pw9gM4tQ7nC2xV6a",
];

fn t(minutes: i64) -> time::OffsetDateTime {
    NOW + Duration::minutes(minutes)
}

/// Three keys on two platforms, one already revoked (not reviewed).
fn three_keys(vault: &mut keyward_core::Vault) -> [String; 3] {
    let a = add_key(vault, "Kraken", "grid-bot", SECRETS[0]);
    let b = add_key(vault, "Binance", "treasury", SECRETS[1]);
    let c = add_key(vault, "Kraken", "old-reporting", SECRETS[2]);
    [a, b, c]
}

/// The three keys, a fourth already revoked, and a review of all live keys
/// started by alice: the keys, the revoked one, and the started review.
fn started_review() -> (
    Fixture,
    keyward_core::Vault,
    [String; 3],
    String,
    review::Detail,
) {
    let (fx, mut vault) = Fixture::new();
    let keys = three_keys(&mut vault);
    let gone = add_key(
        &mut vault,
        "OKX",
        "already-revoked",
        b"revoked-secret-9f8e7d6c5b4a",
    );
    keyward_core::lifecycle::set_status(&mut vault, &gone, Status::Revoked, t(1)).unwrap();
    let d = review::start(&mut vault, "alice", &Scope::default(), t(2)).unwrap();
    (fx, vault, keys, gone, d)
}

/// Decides the first two keys: rotate a (with its checks and a note),
/// reduce b.
fn decide_a_and_b(vault: &mut keyward_core::Vault, id: &str, a: &str, b: &str) {
    let checks = Checks {
        still_needed: Some(true),
        permissions_minimal: Some(false),
        ..Checks::default()
    };
    review::decide(
        vault,
        id,
        a,
        Decision::Rotate,
        Some("shared with a contractor"),
        Some(&checks),
        t(4),
    )
    .unwrap();
    review::decide(vault, id, b, Decision::Reduce, None, None, t(5)).unwrap();
}

/// The review with a rotated, b reduced and c revoked, finished at t(8).
fn finished_review() -> (
    Fixture,
    keyward_core::Vault,
    [String; 3],
    String,
    review::Detail,
) {
    let (fx, mut vault, [a, b, c], gone, d) = started_review();
    let id = d.review.id.clone();
    decide_a_and_b(&mut vault, &id, &a, &b);
    review::decide(
        &mut vault,
        &id,
        &c,
        Decision::Revoke,
        Some("reporting moved to read-only key"),
        None,
        t(7),
    )
    .unwrap();
    let done = review::finish(&mut vault, &id, t(8)).unwrap();
    (fx, vault, [a, b, c], gone, done)
}

#[test]
fn a_review_lists_every_live_key_in_list_order_with_its_findings() {
    let (_fx, _vault, _, _, d) = started_review();
    assert_eq!(d.review.reviewer, "alice");
    assert_eq!(d.review.scope, "all live keys");
    assert_eq!(d.items.len(), 3, "revoked keys are not reviewed");
    assert!(d.items.iter().all(|i| i.decision.is_none()));
    // Keys are in list order and carry their findings.
    assert_eq!(d.items[0].key.platform, "Binance");
    assert!(d.items[0]
        .key
        .findings
        .iter()
        .any(|f| f.rule == "usage.never"));
}

#[test]
fn a_second_review_is_refused_while_one_is_open() {
    let (_fx, mut vault, _, _, _) = started_review();
    let e = review::start(&mut vault, "bob", &Scope::default(), t(3)).unwrap_err();
    assert!(matches!(e, Error::InProgress(_)), "{e}");
}

#[test]
fn a_review_cannot_finish_until_every_key_is_decided() {
    let (_fx, mut vault, [a, b, _], _, d) = started_review();
    let id = d.review.id.clone();
    decide_a_and_b(&mut vault, &id, &a, &b);
    let e = review::finish(&mut vault, &id, t(6)).unwrap_err();
    assert!(
        matches!(&e, Error::Undecided { count: 1, first } if first == "old-reporting"),
        "{e}"
    );
    // Nothing was applied by the refused finish.
    assert_eq!(inventory::get(&vault, &a).unwrap().last_reviewed_at, None);
}

#[test]
fn a_key_outside_the_review_or_an_unknown_one_is_refused_clearly() {
    let (_fx, mut vault, _, gone, d) = started_review();
    let id = d.review.id.clone();
    let e = review::decide(&mut vault, &id, &gone, Decision::Keep, None, None, t(6)).unwrap_err();
    assert!(matches!(e, Error::NotInReview), "{e}");
    let e = review::decide(
        &mut vault,
        &id,
        "ffffffff",
        Decision::Keep,
        None,
        None,
        t(6),
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("id: no key matches"), "{e}");
}

#[test]
fn finishing_records_the_counts_and_the_audit_head() {
    let (_fx, vault, _, _, done) = finished_review();
    assert_eq!(done.review.finished_at, Some(t(8)));
    assert_eq!(
        (
            done.review.counts.rotate,
            done.review.counts.reduce,
            done.review.counts.revoke
        ),
        (1, 1, 1)
    );
    // The head recorded is the log's head including the finish row.
    let log = audit::list(&vault).unwrap();
    let last = log.last().unwrap();
    assert_eq!(last.action, "review.finish");
    assert_eq!(
        done.review.audit_head.as_deref(),
        Some(format!("{}:{}", last.seq, last.hash).as_str())
    );
    assert_eq!(
        log.iter().filter(|r| r.action == "review.decide").count(),
        3
    );
    audit::verify(&vault).unwrap();
}

#[test]
fn finishing_stamps_every_reviewed_key_and_not_the_revoked_one() {
    let (_fx, vault, [a, b, c], gone, _) = finished_review();
    for k in [&a, &b, &c] {
        assert_eq!(
            inventory::get(&vault, k).unwrap().last_reviewed_at,
            Some(t(8))
        );
    }
    assert_eq!(
        inventory::get(&vault, &gone).unwrap().last_reviewed_at,
        None
    );
}

#[test]
fn finishing_makes_rotate_due_now_and_revoke_and_reduce_findings() {
    let (_fx, vault, [a, b, c], _, _) = finished_review();
    // rotate → due now, with the review as the reason.
    let ea = inventory::get(&vault, &a).unwrap();
    assert_eq!(ea.next_due_at, Some(t(8)));
    assert_eq!(ea.due_reason, Some(DueReason::Requested));
    // revoke and reduce → findings until done.
    let rules: Vec<(String, String)> = findings::of_vault(&vault, t(9))
        .unwrap()
        .into_iter()
        .map(|f| (f.key_id, f.rule))
        .collect();
    assert!(rules.contains(&(c.clone(), "review.revoke".into())));
    assert!(rules.contains(&(b.clone(), "review.reduce".into())));
    assert!(rules.contains(&(a.clone(), "rotation.overdue".into())));
    assert_eq!(
        keyward_core::followup::list(&vault, false).unwrap().len(),
        3
    );
}

#[test]
fn a_finished_review_is_read_only() {
    let (_fx, mut vault, [a, ..], _, done) = finished_review();
    let id = done.review.id.clone();
    let e = review::decide(&mut vault, &id, &a, Decision::Keep, None, None, t(10)).unwrap_err();
    assert!(matches!(e, Error::Finished), "{e}");
    assert!(matches!(
        review::cancel(&mut vault, &id, t(10)),
        Err(Error::Finished)
    ));
}

#[test]
fn follow_ups_settle_by_confirming_the_revoke_narrowing_and_rotating() {
    let (_fx, mut vault, [a, b, c], _, _) = finished_review();
    let f = review::resolve(&mut vault, &c, t(11)).unwrap();
    assert_eq!((f.kind, f.done_at), (FollowUpKind::Revoke, Some(t(11))));
    assert_eq!(inventory::get(&vault, &c).unwrap().status, Status::Revoked);
    let narrow = Draft {
        permissions: Some(vec!["read".into()]),
        ..Draft::default()
    };
    inventory::edit(&mut vault, &b, &narrow, SecretChanges::default(), t(12)).unwrap();
    let e = review::resolve(&mut vault, &a, t(13)).unwrap_err();
    assert!(e.to_string().contains("rotate the key"), "{e}");
    rotation::rotate_now(
        &mut vault,
        &a,
        vec![
            secret("api_key", b"AKIA-new"),
            secret("api_secret", b"new-secret-after-review-77"),
        ],
        t(14),
    )
    .unwrap();
    assert!(keyward_core::followup::list(&vault, false)
        .unwrap()
        .is_empty());
    let ea = inventory::get(&vault, &a).unwrap();
    assert_ne!(ea.due_reason, Some(DueReason::Requested));
    assert!(ea.next_due_at.unwrap() > t(14));
    assert!(findings::of_vault(&vault, t(15))
        .unwrap()
        .iter()
        .all(|f| !f.rule.starts_with("review.")));
}

#[test]
fn a_paused_review_resumes_after_restart_with_its_decisions_and_checks() {
    let (fx, mut vault) = Fixture::new();
    let [a, b, _c] = three_keys(&mut vault);
    let scope = Scope {
        platform: Some("kraken".into()),
        ..Scope::default()
    };
    let d = review::start(&mut vault, "alice", &scope, t(1)).unwrap();
    assert_eq!(d.review.scope, "live keys with platform kraken");
    assert_eq!(d.items.len(), 2);
    assert!(d.items.iter().all(|i| i.entry_id != b));
    let checks = Checks {
        owner_correct: Some(false),
        ..Checks::default()
    };
    review::save_checks(&mut vault, &d.review.id[..8], &a[..8], &checks).unwrap();
    review::decide(
        &mut vault,
        &d.review.id,
        &a,
        Decision::Keep,
        Some("still runs the grid"),
        None,
        t(2),
    )
    .unwrap();
    vault.lock().unwrap();

    let vault = fx.unlock();
    let open = review::open_review(&vault).unwrap().unwrap();
    assert_eq!(
        (open.id.as_str(), open.decided, open.total),
        (d.review.id.as_str(), 1, 2)
    );
    let again = review::get(&vault, &open.id, t(3)).unwrap();
    let item = again.items.iter().find(|i| i.entry_id == a).unwrap();
    assert_eq!(item.decision, Some(Decision::Keep));
    assert_eq!(item.note.as_deref(), Some("still runs the grid"));
    assert_eq!(item.checks.owner_correct, Some(false));
    assert_eq!(item.decided_at, Some(t(2)));
}

#[test]
fn decided_keys_keep_what_the_reviewer_saw_even_after_the_key_changes_or_goes() {
    let (_fx, mut vault) = Fixture::new();
    let [a, b, c] = three_keys(&mut vault);
    let id = review::start(&mut vault, "alice", &Scope::default(), t(1))
        .unwrap()
        .review
        .id;
    review::decide(&mut vault, &id, &a, Decision::Keep, None, None, t(2)).unwrap();
    let rename = Draft {
        label: Some("renamed-later".into()),
        ..Draft::default()
    };
    inventory::edit(&mut vault, &a, &rename, SecretChanges::default(), t(3)).unwrap();
    // An undecided key deleted mid-review can still be decided from its snapshot.
    inventory::delete(&mut vault, &c, t(4)).unwrap();
    review::decide(&mut vault, &id, &c[..8], Decision::Revoke, None, None, t(5)).unwrap();
    review::decide(&mut vault, &id, &b, Decision::Keep, None, None, t(6)).unwrap();
    let done = review::finish(&mut vault, &id, t(7)).unwrap();
    let ia = done.items.iter().find(|i| i.entry_id == a).unwrap();
    assert_eq!(ia.key.label, "grid-bot");
    let ic = done.items.iter().find(|i| i.entry_id == c).unwrap();
    assert!(!ic.exists);
    assert_eq!(ic.key.label, "old-reporting");
    // No follow-up for the deleted key.
    assert!(keyward_core::followup::list(&vault, true)
        .unwrap()
        .is_empty());
}

#[test]
fn bad_input_is_named_and_changes_nothing() {
    let (_fx, mut vault) = Fixture::new();
    let [a, ..] = three_keys(&mut vault);
    let before = audit::list(&vault).unwrap().len();
    for (reviewer, scope, want) in [
        ("", Scope::default(), "reviewer: is required"),
        (
            "a\u{1b}[31m",
            Scope::default(),
            "reviewer: must be one line",
        ),
        (
            "alice",
            Scope {
                environment: Some("moon".into()),
                ..Scope::default()
            },
            "environment:",
        ),
        (
            "alice",
            Scope {
                platform: Some("Nowhere".into()),
                ..Scope::default()
            },
            "scope: no live key matches",
        ),
    ] {
        let e = review::start(&mut vault, reviewer, &scope, t(1)).unwrap_err();
        assert!(e.to_string().starts_with(want), "{e} vs {want}");
    }
    assert!(review::list(&vault).unwrap().is_empty());
    let id = review::start(&mut vault, "alice", &Scope::default(), t(2))
        .unwrap()
        .review
        .id;
    let e = review::decide(
        &mut vault,
        &id,
        &a,
        Decision::Keep,
        Some("bell\u{7}"),
        None,
        t(3),
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("note:"), "{e}");
    let e = review::decide(&mut vault, "0000", &a, Decision::Keep, None, None, t(3)).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Vault(keyward_core::vault::Error::NoMatch {
                field: "review",
                ..
            })
        ),
        "{e}"
    );
    assert_eq!(e.to_string(), "review: no review matches '0000'");
    assert_eq!(review::get(&vault, &id, t(3)).unwrap().review.decided, 0);
    // start added one audit row; the refusals none.
    assert_eq!(audit::list(&vault).unwrap().len(), before + 1);
    // Cancelling discards it.
    review::cancel(&mut vault, &id, t(4)).unwrap();
    assert!(review::list(&vault).unwrap().is_empty());
    assert_eq!(
        audit::list(&vault).unwrap().last().unwrap().action,
        "review.cancel"
    );
}

#[test]
fn reports_hold_every_key_and_decision_and_none_of_the_secrets() {
    let (_fx, mut vault) = Fixture::new();
    let [a, b, c] = three_keys(&mut vault);
    // A label that tries formula injection and markup.
    let hostile = Draft {
        label: Some("=HYPERLINK(\"http://x\")<b>".into()),
        ..Draft::default()
    };
    inventory::edit(&mut vault, &b, &hostile, SecretChanges::default(), t(0)).unwrap();
    let id = review::start(&mut vault, "alice", &Scope::default(), t(1))
        .unwrap()
        .review
        .id;
    for (k, d, note) in [
        (&a, Decision::Keep, "fine"),
        (&b, Decision::Rotate, "too old"),
        (&c, Decision::Revoke, "unused <since> spring"),
    ] {
        review::decide(&mut vault, &id, k, d, Some(note), None, t(2)).unwrap();
    }
    let done = review::finish(&mut vault, &id, t(3)).unwrap();
    let head = done.review.audit_head.clone().unwrap();
    for format in [
        report::Format::Markdown,
        report::Format::Csv,
        report::Format::Html,
    ] {
        let bytes = report::render(&done, format);
        let text = String::from_utf8(bytes.clone()).unwrap();
        for s in SECRETS
            .iter()
            .chain([b"AKIA-public-part".as_slice()].iter())
        {
            assert!(
                !bytes.windows(s.len()).any(|w| w == *s),
                "{format:?} report holds a secret"
            );
        }
        for k in [&a, &b, &c] {
            assert!(text.contains(k.as_str()), "{format:?} lacks key {k}");
        }
        assert!(text.contains(&head), "{format:?} lacks the audit head");
        assert!(text.contains("alice"));
        for word in ["keep", "rotate", "revoke", "fine", "too old"] {
            assert!(text.contains(word), "{format:?} lacks {word}");
        }
        match format {
            report::Format::Html => {
                assert!(!text.contains("<b>"));
                assert!(text.contains("unused &lt;since&gt; spring"));
            }
            report::Format::Csv => {
                assert!(text.contains("'=HYPERLINK"));
                assert_eq!(text.lines().count(), 4, "a header and three rows");
            }
            report::Format::Markdown => assert!(text.contains("\\<b\\>")),
        }
    }
    assert_eq!(
        report::file_name(&done, report::Format::Csv),
        format!("keyward-review-2026-11-22-{}.csv", &id[..8])
    );
}

#[test]
fn the_next_review_is_due_after_the_cadence_and_reminded_at_the_reminder_hour() {
    let (_fx, mut vault) = Fixture::new();
    three_keys(&mut vault);
    settings::save(
        &mut vault,
        Settings {
            review_cadence_days: 30,
            ..Settings::default()
        },
        None,
        t(0),
    )
    .unwrap();
    let s = settings::load(&vault).unwrap();
    // Before any review: the cadence after the oldest live key.
    assert_eq!(
        review::next_due(&vault, &s).unwrap(),
        Some(NOW + Duration::days(30))
    );
    let cal = reminders::calendar(&vault, TimeZone::UTC).unwrap();
    let (none, wake) = keyward_core::reminder::review::reminder(&vault, &cal, t(5)).unwrap();
    assert_eq!(none, None);
    // A week before, at 09:00 local.
    let week_before = time::macros::datetime!(2026-12-15 09:00 UTC);
    assert_eq!(wake, Some(week_before));
    let (r, wake) = keyward_core::reminder::review::reminder(&vault, &cal, week_before).unwrap();
    let r = r.unwrap();
    assert_eq!(r.days_left, 7);
    assert!(r.body().contains("due in 7 days"), "{}", r.body());
    keyward_core::reminder::review::mark_reminded(&mut vault, &r).unwrap();
    // Sent once; next on the day (not after the due instant, 08:00).
    let (again, _) =
        keyward_core::reminder::review::reminder(&vault, &cal, week_before + Duration::hours(1))
            .unwrap();
    assert_eq!(again, None);
    assert_eq!(wake, Some(time::macros::datetime!(2026-12-22 08:00 UTC)));

    // A finished review moves the due date.
    let id = review::start(&mut vault, "alice", &Scope::default(), t(10)).unwrap();
    let (during, _) = keyward_core::reminder::review::reminder(&vault, &cal, t(10)).unwrap();
    assert_eq!(during, None, "no reminder while a review is in progress");
    for i in &id.items {
        review::decide(
            &mut vault,
            &id.review.id,
            &i.entry_id,
            Decision::Keep,
            None,
            None,
            t(11),
        )
        .unwrap();
    }
    review::finish(&mut vault, &id.review.id, t(12)).unwrap();
    let s = settings::load(&vault).unwrap();
    assert_eq!(
        review::next_due(&vault, &s).unwrap(),
        Some(t(12) + Duration::days(30))
    );
    let o = review::overview(&vault).unwrap();
    assert!(o.open.is_none());
    assert_eq!(o.cadence_days, 30);
}

#[test]
fn one_keys_findings_match_the_whole_vaults_for_that_key() {
    let (_fx, mut vault) = Fixture::new();
    let [a, b, c] = three_keys(&mut vault);
    // `b` shares its secret with a staging key: critical reuse, for both.
    let staging = Draft {
        environment: Some("staging".into()),
        ..draft("Binance", "treasury (staging)")
    };
    let d = inventory::add(
        &mut vault,
        &staging,
        vec![secret("api_secret", SECRETS[1])],
        t(1),
    )
    .unwrap()
    .id;
    let all = findings::of_vault(&vault, t(2)).unwrap();
    for k in [&a, &b, &c, &d] {
        let mine: Vec<_> = all.iter().filter(|f| &f.key_id == k).cloned().collect();
        assert_eq!(
            findings::of_entry(&vault, k, t(2)).unwrap(),
            mine,
            "key {k}"
        );
    }
    assert!(findings::of_entry(&vault, &b, t(2))
        .unwrap()
        .iter()
        .any(|f| f.rule == "secret.reused" && f.severity == findings::Severity::Critical));
}

#[test]
fn the_locked_schedule_announces_the_review_without_naming_anything() {
    let (fx, mut vault) = Fixture::new();
    three_keys(&mut vault);
    settings::save(
        &mut vault,
        Settings {
            review_cadence_days: 30,
            ..Settings::default()
        },
        None,
        t(0),
    )
    .unwrap();
    let tz = TimeZone::UTC;
    reminders::write_schedule(&vault, tz.clone(), t(1)).unwrap();
    let schedule = reminders::Schedule::read(&fx.dir).unwrap();
    let week_before = time::macros::datetime!(2026-12-15 09:00 UTC);
    let event = schedule
        .events
        .iter()
        .find(|e| e.at == week_before)
        .copied()
        .expect("the review's week-before reminder is scheduled");
    assert!(event.review);
    assert_eq!(
        reminders::Schedule::message(&event),
        "The access review is due — unlock Keyward to start it"
    );
    let text = std::fs::read_to_string(fx.dir.schedule_path()).unwrap();
    assert!(!text.contains("alice") && !text.contains("grid-bot"));

    // Announced while locked, even "through" a time far ahead (the file
    // is not authenticated): after unlock the named reminder is still due.
    let mut s = reminders::Schedule::read(&fx.dir).unwrap();
    s.announced_through = Some(week_before + Duration::days(3650));
    s.write(&fx.dir).unwrap();
    let snap = reminders::Snapshot::read(&vault, tz).unwrap();
    let (r, _) = snap
        .review
        .as_ref()
        .unwrap()
        .reminder(&snap.cal, week_before + Duration::hours(2));
    assert!(r.is_some(), "the review reminder is not muted by the file");
}
