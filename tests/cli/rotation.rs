//! Rotation: due keys, snooze and rotate, reminders and their schedule.

use crate::common::*;

impl Kw {
    fn add_due(&self, label: &str, created_days_ago: i64, rotate_days: &str) -> String {
        let out = self.run(
            &[
                "add",
                "--platform",
                "Kraken",
                "--label",
                label,
                "--perm",
                "read",
                "--ip",
                "203.0.113.7",
                "--rotate-days",
                rotate_days,
                "--created",
                &days_ago(created_days_ago),
                "--secret",
                "api_secret",
            ],
            SECRETS[1],
        );
        out.ok();
        out.stdout.trim().to_owned()
    }
}

#[test]
fn due_lists_keys_soonest_first_with_the_json_contract() {
    let kw = Kw::new();
    kw.add_due("soon", 27, "30");
    let overdue = kw.add_due("late", 40, "30");
    kw.add_due("fresh", 0, "90");
    let out = kw.run(&["due", "--json"], "");
    out.ok();
    let v: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v.len(), 2, "{}", out.stdout);
    assert_eq!(v[0]["id"], overdue.as_str());
    assert_eq!(v[0]["label"], "late");
    assert_eq!(v[0]["days_left"], -10);
    assert_eq!(v[1]["days_left"], 3);
    assert_eq!(v[1]["reason"], "30-day rotation period");
    let mut keys: Vec<&str> = v[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["days_left", "due_at", "id", "label", "platform", "reason"]
    );
    let out = kw.run(&["due"], "");
    out.ok();
    assert!(
        out.stdout.contains("overdue by 10 days") && out.stdout.contains("due in 3 days"),
        "{}",
        out.stdout
    );
    assert_eq!(
        kw.run(&["due", "--within", "100", "--json"], "")
            .ok()
            .stdout
            .matches("\"id\"")
            .count(),
        3
    );
    kw.run(&["due", "--within", "99999"], "")
        .refused("--within: must be from 0 to 3650 days");
    kw.run(&["due", "--within", "-1"], "").usage_error();
    let out = kw.run(&["due", "--within", "0"], "");
    assert_eq!(
        out.ok().stdout.lines().count(),
        1,
        "only the overdue key: {}",
        out.stdout
    );
}

#[test]
fn snooze_and_rotate_from_the_command_line() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    let out = kw.run(&["snooze", &id[..8], "--days", "7"], "");
    assert!(out
        .ok()
        .stdout
        .starts_with(&format!("reminders for {} snoozed until ", &id[..8])));
    kw.run(&["snooze", &id, "--days", "0"], "")
        .refused("days: must be from 1 to 90");
    kw.run(&["snooze", "ffffffff", "--days", "1"], "")
        .refused("id: no key matches");
    kw.run(&["snooze", &id], "").usage_error();

    kw.run(&["rotate", &id], "").usage_error();
    kw.run(&["rotate", &id, "--secret", "api_secret"], "")
        .refused("secret field: 'api_secret' is empty");
    let out = kw.run(&["rotate", &id, "--secret", "api_secret"], SECRETS[2]);
    assert!(out
        .ok()
        .stdout
        .starts_with(&format!("{} rotated; next due ", &id[..8])));
    let out = kw.run(&["reveal", &id, "api_secret"], "");
    assert_eq!(out.ok().stdout, SECRETS[2]);
    kw.run(&["reveal", &id, "api_key"], "")
        .refused("not stored");
    let out = kw.run(&["audit", "--json"], "");
    assert!(
        out.ok().stdout.contains("rotation.complete") && out.stdout.contains("reminder.snooze")
    );
    let e = &kw.list_json()[0];
    assert!(e["last_rotated_at"].is_string());
    kw.run(&["set-status", &id, "revoked"], "").ok();
    kw.run(&["rotate", &id, "--secret", "api_secret"], SECRETS[1])
        .refused("a revoked key cannot be rotated");
}

#[test]
fn remind_without_a_notification_service_says_so_and_marks_nothing() {
    let kw = Kw::new();
    kw.add_due("late", 40, "30");
    let no_bus = [(
        "DBUS_SESSION_BUS_ADDRESS",
        Some("unix:path=/nonexistent/bus"),
    )];
    kw.run_env(&["remind", "--once"], &no_bus, "")
        .refused("notifications: no notification service");
    kw.run_env(&["remind", "--once"], &no_bus, "")
        .refused("notifications:");
    kw.run(&["remind"], "").usage_error();
    // Locked, with nothing past in the schedule: nothing to send, no bus needed.
    let out = kw.run_env(
        &["remind", "--once"],
        &[("KEYWARD_PASSPHRASE", None), no_bus[0]],
        "",
    );
    assert_eq!(out.ok().stdout.trim(), "nothing to send");
}

#[test]
fn the_reminder_schedule_beside_the_vault_names_no_key() {
    let kw = Kw::new();
    let a = kw.add_due("treasury-sweep-0042", 80, "90");
    let b = kw.add_kraken();
    let text = std::fs::read_to_string(kw.vault.join("reminders.json")).unwrap();
    for needle in [
        "treasury-sweep-0042",
        "grid bot",
        "Kraken",
        "kraken",
        &a[..8],
        &b[..8],
    ] {
        assert!(!text.contains(needle), "{needle} in {text}");
    }
    assert!(text.contains("\"keys\": 1"), "{text}");
}
