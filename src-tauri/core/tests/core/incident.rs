//! Exposure incidents: step order and closing rules, the keys' statuses,
//! resuming after a restart, findings, reports and summaries without secrets.

use keyward_core::audit;
use keyward_core::findings::{self, Severity};
use keyward_core::incident::{
    self, report, Activity, Error, Opening, RootCause, StepId, StepInput, StepState,
};
use keyward_core::inventory::{self, Draft, Status};
use keyward_core::rotation;
use time::Duration;

use crate::common::*;

const SECRETS: [&[u8]; 3] = [
    b"incident-secret-A-Rk2mQ8vX1cN5",
    b"incident-secret-B-Ht7pW3zL9dF4",
    b"incident-secret-C-Yb6sE1uJ8gK2",
];

fn t(minutes: i64) -> time::OffsetDateTime {
    NOW + Duration::minutes(minutes)
}

/// A Binance treasury key that can withdraw, a Binance trading key on the
/// same account, and a Kraken key.
fn keys(vault: &mut keyward_core::Vault) -> [String; 3] {
    let add =
        |vault: &mut keyward_core::Vault, platform: &str, label: &str, perms: &[&str], s: &[u8]| {
            let d = Draft {
                account: Some("main".into()),
                permissions: Some(perms.iter().map(|p| p.to_string()).collect()),
                key_id_hint: Some("…a1b2".into()),
                ..draft(platform, label)
            };
            inventory::add(vault, &d, vec![secret("api_secret", s)], NOW)
                .unwrap()
                .id
        };
    [
        add(
            vault,
            "Binance",
            "treasury",
            &["read", "withdraw"],
            SECRETS[0],
        ),
        add(
            vault,
            "Binance",
            "market maker",
            &["read", "trade"],
            SECRETS[1],
        ),
        add(vault, "Kraken", "grid bot", &["read", "trade"], SECRETS[2]),
    ]
}

fn mark(
    vault: &mut keyward_core::Vault,
    id: &str,
    step: StepId,
    state: StepState,
    note: Option<&str>,
    input: StepInput,
    at: i64,
) -> Result<incident::Incident, Error> {
    incident::mark(vault, id, step, state, note, &input, t(at))
}

/// A vault with the three keys and an incident opened on the treasury key
/// (by a short id), suspected six hours ago.
fn treasury_incident() -> (
    Fixture,
    keyward_core::Vault,
    [String; 3],
    incident::Incident,
) {
    let (fx, mut vault) = Fixture::new();
    let keys = keys(&mut vault);
    let opening = Opening {
        suspected_at: Some(NOW - Duration::hours(6)),
        note: Some("pasted into a team chat".into()),
        ..Opening::default()
    };
    let i = incident::open(&mut vault, &[keys[0][..8].to_owned()], &opening, t(1)).unwrap();
    (fx, vault, keys, i)
}

/// Resolves `step` of the treasury incident as a responder would: the
/// note, input and time each step gets in the walk through all eight.
fn resolve(vault: &mut keyward_core::Vault, id: &str, step: StepId) -> incident::Incident {
    let (state, note, input, at) = match step {
        StepId::Contain => (
            StepState::Done,
            Some("revoked in the Binance API management page"),
            StepInput::default(),
            4,
        ),
        StepId::Replace => (
            StepState::NotApplicable,
            Some("the sweep job is retired"),
            StepInput::default(),
            6,
        ),
        StepId::ReviewActivity => (
            StepState::Done,
            Some("no withdrawals since Nov 21"),
            StepInput {
                activity: Some(Activity::No),
                ..StepInput::default()
            },
            7,
        ),
        StepId::SecureAccount => (
            StepState::Done,
            Some("password and 2FA reset"),
            StepInput::default(),
            8,
        ),
        StepId::FindCopies => (
            StepState::Skipped,
            Some("leak scan not available yet; checked shell history by hand"),
            StepInput::default(),
            9,
        ),
        StepId::RootCause => (
            StepState::Done,
            None,
            StepInput {
                root_cause: Some(RootCause::ChatOrEmail),
                ..StepInput::default()
            },
            10,
        ),
        StepId::Notify => (
            StepState::Done,
            Some("security team told"),
            StepInput::default(),
            11,
        ),
        StepId::Close => (
            StepState::Done,
            Some("never paste keys in chat; use the vault"),
            StepInput::default(),
            12,
        ),
    };
    mark(vault, id, step, state, note, input, at).unwrap()
}

/// Every step, in order, up to and including the close.
const ALL_STEPS: [StepId; 8] = [
    StepId::Contain,
    StepId::Replace,
    StepId::ReviewActivity,
    StepId::SecureAccount,
    StepId::FindCopies,
    StepId::RootCause,
    StepId::Notify,
    StepId::Close,
];

/// The treasury incident walked through every step to its close.
fn closed_incident() -> (Fixture, keyward_core::Vault, incident::Incident) {
    let (fx, mut vault, _, i) = treasury_incident();
    let mut last = i;
    for step in ALL_STEPS {
        last = resolve(&mut vault, &last.id, step);
    }
    (fx, vault, last)
}

#[test]
fn opening_marks_the_key_compromised_and_lists_the_keys_beside_it() {
    let (_fx, vault, [treasury, mm, _], i) = treasury_incident();
    assert_eq!(i.severity, Severity::Critical, "withdraw → critical");
    assert_eq!(i.current, Some(StepId::Contain));
    assert_eq!(i.steps.len(), 8);
    assert_eq!(i.timeline.len(), 1);
    assert_eq!(i.timeline[0].what, "opened");
    // The other key on the same platform and account is listed for step 4.
    assert_eq!(
        i.related
            .iter()
            .map(|r| r.entry_id.as_str())
            .collect::<Vec<_>>(),
        [mm.as_str()]
    );
    assert_eq!(
        i.keys[0].key_management.as_deref(),
        Some("API Management page"),
        "where Binance manages keys, from the catalogue"
    );
    assert_eq!(
        inventory::get(&vault, &treasury).unwrap().status,
        Status::Compromised
    );
}

#[test]
fn an_open_incident_is_the_worst_finding_and_blocks_rotation_and_status_changes() {
    let (_fx, mut vault, [treasury, _, kraken], _) = treasury_incident();
    // While open: the worst finding; no rotation in place; no way back to active.
    let rules = findings::of_vault(&vault, t(2)).unwrap();
    let f = rules.iter().find(|f| f.rule == "incident.open").unwrap();
    assert_eq!(
        (f.key_id.as_str(), f.severity),
        (treasury.as_str(), Severity::Critical)
    );
    let e = rotation::start(&mut vault, &treasury, t(2)).unwrap_err();
    assert!(e.to_string().contains("revoked first"), "{e}");
    let e = keyward_core::lifecycle::set_status(&mut vault, &treasury, Status::Active, t(2))
        .unwrap_err();
    assert!(e.to_string().contains("an incident is open"), "{e}");
    let e = keyward_core::lifecycle::set_status(&mut vault, &kraken, Status::Compromised, t(2))
        .unwrap_err();
    assert!(e.to_string().contains("open an incident"), "{e}");
}

#[test]
fn a_key_cannot_be_in_two_open_incidents() {
    let (_fx, mut vault, [treasury, ..], _) = treasury_incident();
    let e = incident::open(
        &mut vault,
        std::slice::from_ref(&treasury),
        &Opening::default(),
        t(2),
    )
    .unwrap_err();
    assert!(e.to_string().contains("already in open incident"), "{e}");
}

#[test]
fn nothing_comes_before_contain_and_skipping_needs_a_reason() {
    let (_fx, mut vault, _, i) = treasury_incident();
    let e = mark(
        &mut vault,
        &i.id,
        StepId::Replace,
        StepState::Done,
        None,
        StepInput::default(),
        3,
    )
    .unwrap_err();
    assert!(e.to_string().contains("finish 'contain' first"), "{e}");
    let e = mark(
        &mut vault,
        &i.id,
        StepId::Contain,
        StepState::Skipped,
        None,
        StepInput::default(),
        3,
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("note: say why"), "{e}");
    let e = mark(
        &mut vault,
        &i.id,
        StepId::Close,
        StepState::Done,
        None,
        StepInput::default(),
        3,
    )
    .unwrap_err();
    assert!(matches!(e, Error::Order(_)), "{e}");
}

#[test]
fn containing_revokes_the_key_and_the_incident_stays_open() {
    let (_fx, mut vault, [treasury, ..], i) = treasury_incident();
    let i = resolve(&mut vault, &i.id, StepId::Contain);
    assert_eq!(
        inventory::get(&vault, &treasury).unwrap().status,
        Status::Revoked
    );
    assert_eq!(i.current, Some(StepId::Replace));
    assert!(findings::of_vault(&vault, t(5))
        .unwrap()
        .iter()
        .any(|f| f.rule == "incident.open"));
    let e = mark(
        &mut vault,
        &i.id,
        StepId::Contain,
        StepState::Done,
        None,
        StepInput::default(),
        5,
    )
    .unwrap_err();
    assert!(e.to_string().contains("already done"), "{e}");
}

#[test]
fn a_step_that_records_an_answer_cannot_be_done_without_it() {
    let (_fx, mut vault, _, i) = treasury_incident();
    for step in [StepId::Contain, StepId::Replace] {
        resolve(&mut vault, &i.id, step);
    }
    let e = mark(
        &mut vault,
        &i.id,
        StepId::ReviewActivity,
        StepState::Done,
        None,
        StepInput::default(),
        7,
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("activity:"), "{e}");
    for step in [
        StepId::ReviewActivity,
        StepId::SecureAccount,
        StepId::FindCopies,
    ] {
        resolve(&mut vault, &i.id, step);
    }
    let e = mark(
        &mut vault,
        &i.id,
        StepId::RootCause,
        StepState::Done,
        None,
        StepInput::default(),
        10,
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("root_cause:"), "{e}");
    for step in [StepId::RootCause, StepId::Notify] {
        resolve(&mut vault, &i.id, step);
    }
    // The close is done, never skipped.
    let e = mark(
        &mut vault,
        &i.id,
        StepId::Close,
        StepState::Skipped,
        Some("x"),
        StepInput::default(),
        12,
    )
    .unwrap_err();
    assert!(e.to_string().starts_with("state:"), "{e}");
}

#[test]
fn closing_records_the_answers_the_timeline_and_the_audit_head() {
    let (_fx, vault, closed) = closed_incident();
    assert_eq!(closed.closed_at, Some(t(12)));
    assert_eq!(closed.current, None);
    assert_eq!(closed.activity, Some(Activity::No));
    assert_eq!(closed.root_cause, Some(RootCause::ChatOrEmail));
    assert_eq!(closed.timeline.len(), 9, "opened and eight steps");
    let log = audit::list(&vault).unwrap();
    let last = log.last().unwrap();
    assert_eq!(last.action, "incident.close");
    assert_eq!(
        closed.audit_head.as_deref(),
        Some(format!("{}:{}", last.seq, last.hash).as_str())
    );
    assert_eq!(
        log.iter().filter(|r| r.action == "incident.step").count(),
        8
    );
    audit::verify(&vault).unwrap();
}

#[test]
fn a_closed_incident_is_read_only_and_gone_from_the_findings() {
    let (_fx, mut vault, closed) = closed_incident();
    let e = mark(
        &mut vault,
        &closed.id,
        StepId::Notify,
        StepState::Done,
        None,
        StepInput::default(),
        13,
    )
    .unwrap_err();
    assert!(matches!(e, Error::Closed), "{e}");
    assert!(findings::of_vault(&vault, t(13))
        .unwrap()
        .iter()
        .all(|f| f.rule != "incident.open"));
    assert_eq!(incident::list(&vault).unwrap()[0].resolved_steps, 8);
}

#[test]
fn an_open_incident_resumes_after_a_restart_at_its_next_step() {
    let (fx, mut vault) = Fixture::new();
    let [treasury, mm, _] = keys(&mut vault);
    // A rotation in progress is abandoned: its new key may be exposed too.
    rotation::start(&mut vault, &mm, t(0)).unwrap();
    let i = incident::open(
        &mut vault,
        &[mm.clone(), treasury.clone()],
        &Opening::default(),
        t(1),
    )
    .unwrap();
    assert!(rotation::get(&vault, &mm).unwrap().is_none());
    assert_eq!(i.keys.len(), 2);
    mark(
        &mut vault,
        &i.id,
        StepId::Contain,
        StepState::Done,
        None,
        StepInput::default(),
        2,
    )
    .unwrap();
    vault.lock().unwrap();
    let vault = fx.unlock();
    let again = incident::get(&vault, &i.id[..8]).unwrap();
    assert_eq!(again.current, Some(StepId::Replace));
    assert_eq!(again.steps[0].state, StepState::Done);
    assert_eq!(again.steps[0].at, Some(t(2)));
    for k in [&mm, &treasury] {
        assert_eq!(inventory::get(&vault, k).unwrap().status, Status::Revoked);
    }
}

#[test]
fn bad_input_is_named_and_changes_nothing() {
    let (_fx, mut vault) = Fixture::new();
    let [treasury, ..] = keys(&mut vault);
    let before = audit::list(&vault).unwrap().len();
    let e = incident::open(&mut vault, &[], &Opening::default(), t(1)).unwrap_err();
    assert!(e.to_string().starts_with("keys:"), "{e}");
    let future = Opening {
        suspected_at: Some(t(60)),
        ..Opening::default()
    };
    let e = incident::open(&mut vault, std::slice::from_ref(&treasury), &future, t(1)).unwrap_err();
    assert!(e.to_string().starts_with("suspected_at:"), "{e}");
    let e =
        incident::open(&mut vault, &["deadbeef".into()], &Opening::default(), t(1)).unwrap_err();
    assert!(e.to_string().starts_with("id: no key matches"), "{e}");
    let bell = Opening {
        note: Some("ring\u{7}".into()),
        ..Opening::default()
    };
    let e = incident::open(&mut vault, std::slice::from_ref(&treasury), &bell, t(1)).unwrap_err();
    assert!(e.to_string().starts_with("note:"), "{e}");
    assert!(incident::list(&vault).unwrap().is_empty());
    assert_eq!(
        inventory::get(&vault, &treasury).unwrap().status,
        Status::Active
    );
    assert_eq!(audit::list(&vault).unwrap().len(), before);
    let e = incident::get(&vault, "0000").unwrap_err();
    assert!(
        matches!(
            e,
            Error::Vault(keyward_core::vault::Error::NoMatch {
                field: "incident",
                ..
            })
        ),
        "{e}"
    );
    assert_eq!(e.to_string(), "incident: no incident matches '0000'");
}

#[test]
fn reports_and_the_summary_hold_the_steps_and_none_of_the_secrets() {
    let (_fx, mut vault) = Fixture::new();
    let [treasury, mm, _] = keys(&mut vault);
    let i = incident::open(
        &mut vault,
        &[treasury.clone(), mm.clone()],
        &Opening {
            suspected_at: Some(NOW - Duration::days(1)),
            ..Opening::default()
        },
        t(1),
    )
    .unwrap();
    mark(
        &mut vault,
        &i.id,
        StepId::Contain,
        StepState::Done,
        Some("both revoked <at once>"),
        StepInput::default(),
        2,
    )
    .unwrap();
    let i = incident::get(&vault, &i.id).unwrap();
    let head = incident::audit_head(&vault).unwrap().unwrap();
    for format in [report::Format::Markdown, report::Format::Html] {
        let bytes = report::render(&i, format, Some(&head));
        let text = String::from_utf8(bytes.clone()).unwrap();
        for s in SECRETS {
            assert!(
                !bytes.windows(s.len()).any(|w| w == s),
                "{format:?} holds a secret"
            );
        }
        for needle in [
            treasury.as_str(),
            mm.as_str(),
            "withdraw",
            &head,
            "still open",
            "Contain: revoke the key",
        ] {
            assert!(text.contains(needle), "{format:?} lacks {needle}");
        }
        if format == report::Format::Html {
            assert!(text.contains("both revoked &lt;at once&gt;"));
        }
    }
    let summary = incident::summary(&i);
    assert!(
        summary.contains("Binance · treasury, account main, key id ending …a1b2"),
        "{summary}"
    );
    assert!(summary.contains("Never add one to a support request"));
    for s in SECRETS {
        assert!(!summary.as_bytes().windows(s.len()).any(|w| w == s));
    }
}
