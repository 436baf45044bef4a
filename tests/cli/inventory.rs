//! The inventory: add, list, show, edit, set-status, delete and reveal,
//! validation, and secrets read from stdin only.

use crate::common::*;

#[test]
fn add_list_show_round_trip_with_the_json_contract() {
    let kw = Kw::new();
    let id = kw.add_kraken();

    let list = kw.run(&["list"], "");
    list.ok();
    let mut lines = list.stdout.lines();
    assert!(lines.next().unwrap().starts_with("ID"));
    let row = lines.next().unwrap();
    for cell in [
        &id[..8],
        "Kraken",
        "grid bot",
        "production",
        "active",
        "read,trade",
        "2 ip",
        &days_ago(KRAKEN_AGE_DAYS - 90),
    ] {
        assert!(row.contains(cell), "{cell} in {row}");
    }

    let entries = kw.list_json();
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    let mut keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    for want in [
        "id",
        "platform",
        "account",
        "label",
        "environment",
        "owner",
        "purpose",
        "permissions",
        "ip_allowlist",
        "ip_note",
        "rotation_days",
        "created_at",
        "expires_at",
        "last_rotated_at",
        "last_used_at",
        "last_reviewed_at",
        "next_due_at",
        "status",
        "tags",
        "notes",
        "secret_fields",
    ] {
        assert!(keys.contains(&want), "{want} missing from {keys:?}");
    }
    assert_eq!(e["id"], id);
    assert_eq!(e["permissions"], serde_json::json!(["read", "trade"]));
    assert_eq!(
        e["ip_allowlist"],
        serde_json::json!(["203.0.113.7", "198.51.100.0/24"])
    );
    assert_eq!(
        e["secret_fields"],
        serde_json::json!(["api_key", "api_secret"])
    );
    assert_eq!(e["rotation_days"], 90);
    assert_eq!(
        e["created_at"],
        format!("{}T00:00:00Z", days_ago(KRAKEN_AGE_DAYS))
    );
    assert_eq!(
        e["next_due_at"],
        format!("{}T00:00:00Z", days_ago(KRAKEN_AGE_DAYS - 90))
    );
    assert_eq!(e["account"], serde_json::Value::Null);

    let show = kw.run(&["show", &id[..8], "--json"], "");
    show.ok();
    let one: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(&one, e);

    let human = kw.run(&["show", &id], "");
    human.ok();
    assert!(human.stdout.contains("secret fields  api_key, api_secret"));
    assert!(human
        .stdout
        .contains("ip allowlist   203.0.113.7, 198.51.100.0/24"));
}

#[test]
fn empty_list_says_how_to_add() {
    let kw = Kw::new();
    let out = kw.run(&["list"], "");
    out.ok();
    assert!(out.stdout.contains("no keys yet"));
    assert_eq!(kw.list_json().len(), 0);
}

#[test]
fn validation_errors_name_the_field_and_store_nothing() {
    let kw = Kw::new();
    let cases: &[(&[&str], &str)] = &[
        (&["add", "--label", "x"], "platform: is required"),
        (&["add", "--platform", "Kraken"], "label: is required"),
        (
            &[
                "add",
                "--platform",
                "K",
                "--label",
                "x",
                "--ip",
                "10.0.0.300",
            ],
            "ip_allowlist: '10.0.0.300' is not an IPv4/IPv6 address or CIDR",
        ),
        (
            &[
                "add",
                "--platform",
                "K",
                "--label",
                "x",
                "--ip",
                "10.1.0.0/8",
            ],
            "did you mean 10.0.0.0/8?",
        ),
        (
            &["add", "--platform", "K", "--label", "x", "--env", "live"],
            "environment: must be one of production, staging, development, test",
        ),
        (
            &["add", "--platform", "K", "--label", "x", "--perm", "admin"],
            "permissions: unknown scope 'admin'",
        ),
        (
            &[
                "add",
                "--platform",
                "K",
                "--label",
                "x",
                "--rotate-days",
                "0",
            ],
            "rotation_days: must be a whole number of days from 1 to 3650",
        ),
        (
            &[
                "add",
                "--platform",
                "K",
                "--label",
                "x",
                "--rotate-days",
                "soon",
            ],
            "rotation_days:",
        ),
        (
            &[
                "add",
                "--platform",
                "K",
                "--label",
                "x",
                "--expires",
                "2026-13-01",
            ],
            "expires_at: expected a real date as YYYY-MM-DD",
        ),
        (
            &[
                "add",
                "--platform",
                "K",
                "--label",
                "x",
                "--created",
                "2026-05-01",
                "--expires",
                "2026-04-01",
            ],
            "expires_at: must not be before created_at",
        ),
        (
            &[
                "add",
                "--platform",
                "K",
                "--label",
                "x",
                "--tag",
                "two words",
            ],
            "tags:",
        ),
    ];
    for (args, message) in cases {
        kw.run(args, "").refused(message);
    }
    assert_eq!(kw.list_json().len(), 0);
}

#[test]
fn secrets_come_from_stdin_one_line_per_field() {
    let kw = Kw::new();
    let args = [
        "add",
        "--platform",
        "OKX",
        "--label",
        "hedge",
        "--secret",
        "api_key",
        "--secret",
        "passphrase",
    ];
    kw.run(&args, &format!("{}\n", SECRETS[0]))
        .refused("stdin: expected 2 lines, one per --secret (api_key, passphrase), got 1");
    kw.run(&args, "").refused("got 0");
    kw.run(&args, "a\nb\nc\n").refused("got 3");
    kw.run(
        &[
            "add",
            "--platform",
            "OKX",
            "--label",
            "x",
            "--secret",
            "api_key",
        ],
        "",
    )
    .refused("secret field: 'api_key' is empty");
    assert_eq!(kw.list_json().len(), 0);

    let out = kw.run(&args, &format!("{}\r\n{}\r\n", SECRETS[0], SECRETS[3]));
    out.ok();
    let id = out.stdout.trim();
    let v = kw.run(&["reveal", id, "passphrase"], "");
    v.ok();
    assert_eq!(
        v.stdout, SECRETS[3],
        "CRLF input is trimmed, output has no newline"
    );
}

#[test]
fn a_value_typed_as_an_argument_is_refused_and_not_echoed() {
    let kw = Kw::new();
    let secret_arg = format!("api_secret={}", SECRETS[1]);
    let out = kw.run(
        &[
            "add",
            "--platform",
            "K",
            "--label",
            "x",
            "--secret",
            &secret_arg,
        ],
        "ignored\n",
    );
    out.refused("values are read from stdin, never from arguments");
    assert!(!out.stderr.contains(SECRETS[1]));
}

#[test]
fn a_single_secret_field_takes_all_of_stdin_so_a_pem_fits() {
    let kw = Kw::new();
    let pem = format!(
        "-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----\n",
        SECRETS[2]
    );
    let out = kw.run(
        &[
            "add",
            "--platform",
            "Coinbase",
            "--label",
            "cdp",
            "--secret",
            "private_key",
        ],
        &pem,
    );
    out.ok();
    let id = out.stdout.trim().to_owned();
    let v = kw.run(&["reveal", &id, "private_key"], "");
    v.ok();
    assert_eq!(v.stdout, pem.trim_end_matches('\n'));
}

#[test]
fn reveal_prints_the_exact_value_and_is_audited() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    let v = kw.run(&["reveal", &id, "api_secret"], "");
    v.ok();
    assert_eq!(v.stdout, SECRETS[1]);
    kw.run(&["reveal", &id, "nope"], "")
        .refused("secret field: 'nope' is not stored for this key");
    kw.run(&["reveal", "ffffffff", "api_secret"], "")
        .refused("id: no key matches 'ffffffff'");
    let audit = kw.run(&["audit", "--json"], "");
    audit.ok();
    let log: Vec<serde_json::Value> = serde_json::from_str(&audit.stdout).unwrap();
    let reveals: Vec<_> = log
        .iter()
        .filter(|r| r["action"] == "secret.reveal")
        .collect();
    assert_eq!(reveals.len(), 1);
    assert_eq!(reveals[0]["detail"]["field"], "api_secret");
    assert_eq!(reveals[0]["origin"], "cli");
    assert_eq!(reveals[0]["entry_id"], id);
}

#[test]
fn edit_replaces_given_fields_and_clears_empty_ones() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    kw.run(
        &[
            "edit",
            &id[..6],
            "--label",
            "grid bot v2",
            "--owner",
            "alice",
            "--clear-ips",
            "--tag",
            "grid,eu",
        ],
        "",
    )
    .ok();
    let e = &kw.list_json()[0];
    assert_eq!(e["label"], "grid bot v2");
    assert_eq!(e["owner"], "alice");
    assert_eq!(e["ip_allowlist"], serde_json::json!([]));
    assert_eq!(e["tags"], serde_json::json!(["grid", "eu"]));
    assert_eq!(e["platform"], "Kraken", "untouched");

    kw.run(&["edit", &id, "--owner", "", "--rotate-days", ""], "")
        .ok();
    let e = &kw.list_json()[0];
    assert_eq!(e["owner"], serde_json::Value::Null);
    assert_eq!(e["rotation_days"], serde_json::Value::Null);
    // No period of its own: the default for a trading key, 60 days.
    assert_eq!(
        e["next_due_at"],
        format!("{}T00:00:00Z", days_ago(KRAKEN_AGE_DAYS - 60))
    );
    assert_eq!(
        e["due_reason"],
        serde_json::json!({"kind": "period", "days": 60, "default": true})
    );

    kw.run(
        &[
            "edit",
            &id,
            "--secret",
            "api_secret",
            "--remove-secret",
            "api_key",
        ],
        "rotated-value\n",
    )
    .ok();
    let e = &kw.list_json()[0];
    assert_eq!(e["secret_fields"], serde_json::json!(["api_secret"]));

    kw.run(&["edit", &id, "--clear-ips", "--ip", "1.2.3.4"], "")
        .refused("--clear-ips cannot be used with --ip");
    kw.run(&["edit", &id, "--ip", "nope"], "")
        .refused("ip_allowlist:");
    kw.run(&["edit", "0123abcd", "--label", "x"], "")
        .refused("id: no key matches '0123abcd'");
    kw.run(&["edit", "ab", "--label", "x"], "")
        .refused("id: no key matches 'ab'");
}

#[test]
fn status_follows_the_lifecycle() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    let out = kw.run(&["set-status", &id, "suspended"], "");
    out.ok();
    assert_eq!(out.stdout.trim(), format!("{} is suspended", &id[..8]));
    kw.run(&["set-status", &id, "revoked"], "").ok();
    kw.run(&["set-status", &id, "active"], "")
        .refused("status: a revoked key cannot become active");
    kw.run(&["set-status", &id, "retired"], "").ok();
    kw.run(&["set-status", &id, "rotating"], "").usage_error();
    kw.run(&["set-status", &id, "bogus"], "").usage_error();
    assert_eq!(kw.list_json()[0]["status"], "retired");
}

#[test]
fn delete_removes_the_key() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    let out = kw.run(&["delete", &id], "");
    out.ok();
    assert_eq!(out.stdout.trim(), format!("deleted {}", &id[..8]));
    assert_eq!(kw.list_json().len(), 0);
    kw.run(&["delete", &id], "").refused("id: no key matches");
}
