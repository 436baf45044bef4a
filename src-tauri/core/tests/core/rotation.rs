use jiff::tz::TimeZone;
use keyward_core::audit;
use keyward_core::inventory::{self, SecretUse, Status};
use keyward_core::reminder::{self as reminders, Schedule};
use keyward_core::rotation::{self, Error, Step};
use keyward_core::settings::{self, Settings};
use time::Duration;

use crate::common::*;

const OLD: &[u8] = b"old-secret-Zq8vN3kW1pT6rY0u";
const NEW: &[u8] = b"new-secret-Hf4mB9cX2sL7dJ5e";

#[test]
fn a_guided_rotation_keeps_both_keys_usable_then_destroys_the_old_one() {
    let (fx, mut vault) = Fixture::new();
    let id = add_key(&mut vault, "Kraken", "grid-bot", OLD);
    let t = |m: i64| NOW + Duration::minutes(m);

    let r = rotation::start(&mut vault, &id, t(1)).unwrap();
    assert_eq!(r.step, Step::Create);
    assert_eq!(
        inventory::get(&vault, &id).unwrap().status,
        Status::Rotating
    );
    // Leaving and coming back resumes the same rotation.
    assert_eq!(
        rotation::start(&mut vault, &id, t(2)).unwrap().started_at,
        t(1)
    );

    // The old key is never revoked before the new one is confirmed.
    let e = rotation::advance(&mut vault, &id, Step::Revoke, t(3)).unwrap_err();
    assert!(e.to_string().contains("only after confirming"), "{e}");

    let r = rotation::set_new_key(
        &mut vault,
        &id,
        Some(vec!["read".into()]),
        Some(vec!["198.51.100.0/24".into()]),
        Some("K-9f3e".into()),
        t(4),
    )
    .unwrap();
    assert_eq!(r.step, Step::Secrets);
    let r = rotation::stage_secrets(
        &mut vault,
        &id,
        vec![
            secret("api_key", b"AKIA-new-public"),
            secret("api_secret", NEW),
        ],
        t(5),
    )
    .unwrap();
    assert_eq!(r.step, Step::Deploy);
    assert_eq!(r.new_secret_fields.len(), 2);

    // During the overlap both are usable.
    let old = inventory::take_secret(&mut vault, &id, "api_secret", SecretUse::Copy, t(6)).unwrap();
    assert_eq!(old.expose(), OLD);
    let new =
        rotation::take_new_secret(&mut vault, &id, "api_secret", SecretUse::Copy, t(6)).unwrap();
    assert_eq!(new.expose(), NEW);

    let e = rotation::complete(&mut vault, &id, t(7)).unwrap_err();
    assert!(e.to_string().contains("deploy"), "{e}");
    rotation::advance(&mut vault, &id, Step::Deploy, t(8)).unwrap();
    let e = rotation::advance(&mut vault, &id, Step::Deploy, t(8)).unwrap_err();
    assert!(e.to_string().contains("already done"), "{e}");
    rotation::advance(&mut vault, &id, Step::Confirm, t(9)).unwrap();
    let r = rotation::advance(&mut vault, &id, Step::Revoke, t(10)).unwrap();
    assert_eq!(r.step, Step::Done);
    assert_eq!(r.confirmed_at, Some(t(9)));

    let done = rotation::complete(&mut vault, &id, t(11)).unwrap();
    assert_eq!(done.status, Status::Active);
    assert_eq!(done.last_rotated_at, Some(t(11)));
    assert_eq!(done.permissions.len(), 1);
    assert_eq!(done.ip_allowlist[0].to_string(), "198.51.100.0/24");
    assert_eq!(done.key_id_hint.as_deref(), Some("K-9f3e"));
    assert!(rotation::get(&vault, &id).unwrap().is_none());
    let now_current =
        inventory::take_secret(&mut vault, &id, "api_secret", SecretUse::Reveal, t(12)).unwrap();
    assert_eq!(now_current.expose(), NEW);

    let h = rotation::history(&vault, &id).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].method, "guided");
    assert_eq!(h[0].old_permissions, ["read", "trade"]);
    assert_eq!(h[0].old_secret_fields, ["api_key", "api_secret"]);
    assert_eq!(h[0].old_revoked_at, Some(t(10)));

    // Every step is in the audit log, and the chain holds.
    let actions: Vec<String> = audit::list(&vault)
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect();
    for a in ["rotation.start", "rotation.step", "rotation.complete"] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} missing from {actions:?}"
        );
    }
    assert_eq!(actions.iter().filter(|a| *a == "rotation.step").count(), 5);
    audit::verify(&vault).unwrap();
    vault.lock().unwrap();

    // The old value is gone from every file, the new one never in plain bytes.
    for (path, bytes) in files_under(fx.dir.path()) {
        assert!(!contains(&bytes, OLD), "old secret in {}", path.display());
        assert!(
            !contains(&bytes, NEW),
            "new secret in plain bytes in {}",
            path.display()
        );
    }
}

#[test]
fn a_cancelled_rotation_restores_the_status_and_drops_the_staged_secrets() {
    let (_fx, mut vault) = Fixture::new();
    let id = add_key(&mut vault, "OKX", "hedge", OLD);
    keyward_core::lifecycle::set_status(&mut vault, &id, Status::Suspended, NOW).unwrap();
    rotation::start(&mut vault, &id, NOW).unwrap();
    rotation::set_new_key(&mut vault, &id, None, None, None, NOW).unwrap();
    rotation::stage_secrets(&mut vault, &id, vec![secret("api_secret", NEW)], NOW).unwrap();
    let e = rotation::cancel(&mut vault, &id, NOW).unwrap();
    assert_eq!(e.status, Status::Suspended);
    assert!(rotation::get(&vault, &id).unwrap().is_none());
    assert!(matches!(
        rotation::take_new_secret(&mut vault, &id, "api_secret", SecretUse::Copy, NOW),
        Err(Error::NotStarted)
    ));
    let old = inventory::take_secret(&mut vault, &id, "api_secret", SecretUse::Copy, NOW).unwrap();
    assert_eq!(old.expose(), OLD);
}

#[test]
fn a_rotating_key_changes_status_only_through_its_rotation_or_by_revocation() {
    let (_fx, mut vault) = Fixture::new();
    let id = add_key(&mut vault, "Kraken", "desk", OLD);
    let e =
        keyward_core::lifecycle::set_status(&mut vault, &id, Status::Rotating, NOW).unwrap_err();
    assert!(e.to_string().contains("start a rotation"), "{e}");
    rotation::start(&mut vault, &id, NOW).unwrap();
    let e = keyward_core::lifecycle::set_status(&mut vault, &id, Status::Active, NOW).unwrap_err();
    assert!(e.to_string().contains("finish or cancel"), "{e}");
    rotation::set_new_key(&mut vault, &id, None, None, None, NOW).unwrap();
    rotation::stage_secrets(&mut vault, &id, vec![secret("api_secret", NEW)], NOW).unwrap();
    // Revoked mid-rotation (an exposure): the staged secrets go too.
    keyward_core::lifecycle::set_status(&mut vault, &id, Status::Revoked, NOW).unwrap();
    assert!(rotation::get(&vault, &id).unwrap().is_none());
}

#[test]
fn bad_rotation_input_is_refused_and_changes_nothing() {
    let (_fx, mut vault) = Fixture::new();
    let id = add_key(&mut vault, "Bybit", "mm", OLD);
    rotation::start(&mut vault, &id, NOW).unwrap();
    let e = rotation::set_new_key(
        &mut vault,
        &id,
        Some(vec!["fly".into()]),
        Some(vec!["10.0.0.1/8".into()]),
        None,
        NOW,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("permissions: unknown scope 'fly'") && e.contains("ip_allowlist:"),
        "{e}"
    );
    assert_eq!(
        rotation::get(&vault, &id).unwrap().unwrap().step,
        Step::Create
    );
    let e =
        rotation::stage_secrets(&mut vault, &id, vec![secret("api_secret", NEW)], NOW).unwrap_err();
    assert!(e.to_string().contains("step 1"), "{e}");
    rotation::set_new_key(&mut vault, &id, None, None, None, NOW).unwrap();
    let e = rotation::stage_secrets(&mut vault, &id, vec![], NOW).unwrap_err();
    assert!(e.to_string().starts_with("secret field:"), "{e}");
    let e =
        rotation::stage_secrets(&mut vault, &id, vec![secret("API SECRET", NEW)], NOW).unwrap_err();
    assert!(!e.to_string().contains("new-secret"), "{e}");
    // A revoked key cannot be rotated; rotate_now refuses while a wizard runs.
    let e =
        rotation::rotate_now(&mut vault, &id, vec![secret("api_secret", NEW)], NOW).unwrap_err();
    assert!(e.to_string().contains("in progress"), "{e}");
    rotation::cancel(&mut vault, &id, NOW).unwrap();
    keyward_core::lifecycle::set_status(&mut vault, &id, Status::Revoked, NOW).unwrap();
    assert!(rotation::start(&mut vault, &id, NOW).is_err());
    assert!(rotation::rotate_now(&mut vault, &id, vec![secret("api_secret", NEW)], NOW).is_err());
}

#[test]
fn a_direct_rotation_swaps_the_secret_and_restarts_the_clock() {
    let (_fx, mut vault) = Fixture::new();
    let id = add_key(&mut vault, "Kraken", "desk", OLD);
    let before = inventory::get(&vault, &id).unwrap();
    assert_eq!(before.next_due_at, Some(NOW + Duration::days(90)));
    let later = NOW + Duration::days(80);
    let e = rotation::rotate_now(&mut vault, &id, vec![secret("api_secret", NEW)], later).unwrap();
    assert_eq!(e.next_due_at, Some(later + Duration::days(90)));
    assert_eq!(
        e.secret_fields.len(),
        1,
        "the new key's fields replace the old set"
    );
    let v = inventory::take_secret(&mut vault, &id, "api_secret", SecretUse::Copy, later).unwrap();
    assert_eq!(v.expose(), NEW);
    assert_eq!(rotation::history(&vault, &id).unwrap()[0].method, "direct");
}

#[test]
fn reminder_state_and_snoozes_survive_a_restart() {
    let (fx, mut vault) = Fixture::new();
    let id = add_key(&mut vault, "Kraken", "grid-bot", OLD); // due NOW + 90 days
    let utc = TimeZone::UTC;
    let at = NOW + Duration::days(80);
    let plan = reminders::pending(&vault, utc.clone(), at).unwrap();
    assert_eq!(plan.due_now.len(), 1);
    assert_eq!(plan.due_now[0].stage, 14);
    reminders::mark_sent(&mut vault, &plan.due_now, at).unwrap();
    vault.lock().unwrap();

    let mut vault = fx.unlock();
    assert!(reminders::pending(&vault, utc.clone(), at)
        .unwrap()
        .due_now
        .is_empty());
    let week = NOW + Duration::days(83) + Duration::hours(2);
    assert_eq!(
        reminders::pending(&vault, utc.clone(), week)
            .unwrap()
            .due_now
            .len(),
        1
    );
    let until = reminders::snooze(&mut vault, &id, 7, week).unwrap();
    assert_eq!(until, week + Duration::days(7));
    assert!(reminders::snooze(&mut vault, &id, 0, week).is_err());
    assert!(reminders::snooze(&mut vault, "ffffffff", 1, week).is_err());
    vault.lock().unwrap();

    let vault = fx.unlock();
    let p = reminders::pending(&vault, utc.clone(), week + Duration::days(1)).unwrap();
    assert!(p.due_now.is_empty());
    assert_eq!(p.next_wake, Some(until));
    let p = reminders::pending(&vault, utc, until).unwrap();
    assert_eq!(p.due_now.len(), 1);
    assert!(audit::list(&vault)
        .unwrap()
        .iter()
        .any(|r| r.action == "reminder.snooze"));
}

#[test]
fn the_schedule_file_names_no_key() {
    let (fx, mut vault) = Fixture::new();
    let labels = ["grid-bot-7731", "treasury-sweep-4410", "hedge-desk-0092"];
    let mut ids = Vec::new();
    for (i, l) in labels.iter().enumerate() {
        ids.push(add_key(
            &mut vault,
            ["Kraken", "Binance", "Deribit"][i],
            l,
            OLD,
        ));
    }
    let at = NOW + Duration::days(85);
    reminders::write_schedule(&vault, TimeZone::get("Europe/Berlin").unwrap(), at).unwrap();
    let text = std::fs::read_to_string(fx.dir.schedule_path()).unwrap();
    for needle in labels
        .iter()
        .copied()
        .chain(["Kraken", "Binance", "Deribit", "kraken", "binance"])
    {
        assert!(!text.contains(needle), "{needle} in the schedule");
    }
    for id in &ids {
        assert!(!text.contains(&id[..8]), "an id in the schedule");
    }
    let s = Schedule::read(&fx.dir).unwrap();
    assert!(s.events.iter().all(|e| e.keys == 3));
    // Unreadable schedules read as none rather than failing.
    std::fs::write(fx.dir.schedule_path(), b"{not json").unwrap();
    assert!(Schedule::read(&fx.dir).is_none());
}

#[test]
fn a_planted_schedule_file_mutes_no_reminder() {
    let (fx, mut vault) = Fixture::new();
    let id = add_key(&mut vault, "Kraken", "grid bot", OLD);
    let at = NOW + Duration::days(89) + Duration::hours(4);
    let tz = TimeZone::UTC;
    reminders::write_schedule(&vault, tz.clone(), at).unwrap();
    // Someone who can write beside the vault claims everything for the next
    // ten years was announced already.
    let mut s = Schedule::read(&fx.dir).unwrap();
    s.announced_through = Some(at + Duration::days(3650));
    s.write(&fx.dir).unwrap();
    let plan = reminders::Snapshot::read(&vault, tz).unwrap().plan(at);
    assert_eq!(plan.due_now.len(), 1, "the key's reminder is still due");
    assert_eq!(plan.due_now[0].entry_id, id);
    // The locked app ignores the future time too: it announces.
    let s = Schedule::read(&fx.dir).unwrap();
    assert!(s.to_announce(at + Duration::days(1)).is_some());
    // Not a regular file (a FIFO would block a plain read): no schedule.
    std::fs::remove_file(fx.dir.schedule_path()).unwrap();
    std::os::unix::fs::symlink("/dev/zero", fx.dir.schedule_path()).unwrap();
    assert!(Schedule::read(&fx.dir).is_none());
}

#[test]
fn due_lists_soonest_first_with_reasons_and_settings_change_defaults() {
    let (_fx, mut vault) = Fixture::new();
    let mut d = draft("Binance", "spot bot");
    d.permissions = Some(vec!["trade".into()]);
    inventory::add(&mut vault, &d, vec![], NOW).unwrap();
    let mut d = draft("Kraken", "withdrawals");
    d.permissions = Some(vec!["withdraw".into()]);
    d.ip_allowlist = Some(vec!["203.0.113.9".into()]);
    inventory::add(&mut vault, &d, vec![], NOW).unwrap();
    let cal = reminders::calendar(&vault, TimeZone::UTC).unwrap();
    let entries = inventory::list(&vault).unwrap();
    let due = reminders::due_within(&entries, 40, &cal, NOW);
    assert_eq!(due.len(), 2);
    assert_eq!(due[0].label, "spot bot");
    assert_eq!(due[0].days_left, 30);
    assert!(due[0].reason.contains("IP allowlist"), "{}", due[0].reason);
    assert_eq!(due[1].reason, "default 30-day rotation period");
    assert!(reminders::due_within(&entries, 14, &cal, NOW).is_empty());

    let s = Settings {
        rotation_days_critical: 7,
        ..Settings::default()
    };
    settings::save(&mut vault, s, None, NOW).unwrap();
    let entries = inventory::list(&vault).unwrap();
    let due = reminders::due_within(&entries, 14, &cal, NOW);
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].label, "withdrawals");
    let bad = Settings {
        reminder_days: vec![7, 7],
        reminder_hour: 24,
        ..Settings::default()
    };
    let e = settings::save(&mut vault, bad, None, NOW)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("reminder_days: each value only once") && e.contains("reminder_hour"),
        "{e}"
    );
}
