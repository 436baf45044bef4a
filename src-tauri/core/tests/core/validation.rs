//! Every validation rule, as a table: what was typed, which field the error
//! names, and a piece of the reason. Each bad add must leave the vault as it was.

use keyward_core::inventory::{self, Draft, Error, SecretInput};
use keyward_core::SecretValue;

use crate::common::*;

fn s(v: &str) -> Option<String> {
    Some(v.to_owned())
}
fn l(v: &[&str]) -> Option<Vec<String>> {
    Some(v.iter().map(|x| x.to_string()).collect())
}

/// A valid draft the cases change one field of.
fn ok() -> Draft {
    draft("Kraken", "grid")
}

/// Each case: what was typed, which field the error names, and a piece of
/// the reason. Every add is refused with one line, and nothing is stored.
fn assert_each_refused(cases: Vec<(&str, Draft, &str, &str)>) {
    let (_fx, mut vault) = Fixture::new();
    for (name, d, field, reason) in cases {
        let err = inventory::add(&mut vault, &d, vec![], NOW).unwrap_err();
        let Error::Invalid(errors) = &err else {
            panic!("{name}: expected a validation error, got {err:?}");
        };
        assert!(
            errors
                .iter()
                .any(|e| e.field == field && e.reason.contains(reason)),
            "{name}: expected `{field}: …{reason}…`, got `{err}`"
        );
        let msg = err.to_string();
        assert!(!msg.contains('\n'), "{name}: one line, got {msg:?}");
        assert!(
            msg.starts_with(&format!("{field}: ")) || errors.len() > 1,
            "{name}: {msg}"
        );
    }
    assert!(inventory::list(&vault).unwrap().is_empty());
}

#[test]
fn a_platform_or_label_that_is_missing_too_long_or_multi_line_is_named() {
    assert_each_refused(vec![
        (
            "missing platform",
            Draft {
                platform: None,
                ..ok()
            },
            "platform",
            "required",
        ),
        (
            "empty platform",
            Draft {
                platform: s(""),
                ..ok()
            },
            "platform",
            "1–64",
        ),
        (
            "blank platform",
            Draft {
                platform: s("   "),
                ..ok()
            },
            "platform",
            "1–64",
        ),
        (
            "long platform",
            Draft {
                platform: s(&"p".repeat(65)),
                ..ok()
            },
            "platform",
            "1–64",
        ),
        (
            "missing label",
            Draft {
                label: None,
                ..ok()
            },
            "label",
            "required",
        ),
        (
            "empty label",
            Draft {
                label: s(""),
                ..ok()
            },
            "label",
            "1–200",
        ),
        (
            "long label",
            Draft {
                label: s(&"é".repeat(201)),
                ..ok()
            },
            "label",
            "1–200",
        ),
        (
            "label newline",
            Draft {
                label: s("a\nb"),
                ..ok()
            },
            "label",
            "single line",
        ),
    ]);
}

#[test]
fn an_unknown_environment_or_permission_is_named() {
    assert_each_refused(vec![
        (
            "environment",
            Draft {
                environment: s("prod"),
                ..ok()
            },
            "environment",
            "production, staging, development, test",
        ),
        (
            "permission",
            Draft {
                permissions: l(&["read", "yolo"]),
                ..ok()
            },
            "permissions",
            "unknown scope 'yolo'",
        ),
        (
            "raw permission",
            Draft {
                permissions: l(&["raw:"]),
                ..ok()
            },
            "permissions",
            "raw:",
        ),
    ]);
}

#[test]
fn an_ip_allowlist_entry_that_is_no_address_or_cidr_is_named() {
    assert_each_refused(vec![
        (
            "ip",
            Draft {
                ip_allowlist: l(&["1.2.3.4", "1.2.3"]),
                ..ok()
            },
            "ip_allowlist",
            "'1.2.3' is not an IPv4/IPv6 address or CIDR",
        ),
        (
            "cidr prefix",
            Draft {
                ip_allowlist: l(&["10.0.0.0/33"]),
                ..ok()
            },
            "ip_allowlist",
            "not an IPv4/IPv6",
        ),
        (
            "cidr host bits",
            Draft {
                ip_allowlist: l(&["10.1.2.3/8"]),
                ..ok()
            },
            "ip_allowlist",
            "did you mean 10.0.0.0/8",
        ),
        (
            "ipv6",
            Draft {
                ip_allowlist: l(&["2001:db8::zz"]),
                ..ok()
            },
            "ip_allowlist",
            "not an IPv4/IPv6",
        ),
    ]);
}

#[test]
fn a_date_that_is_malformed_impossible_or_out_of_order_is_named() {
    assert_each_refused(vec![
        (
            "date format",
            Draft {
                expires_at: s("31/12/2026"),
                ..ok()
            },
            "expires_at",
            "YYYY-MM-DD",
        ),
        (
            "impossible date",
            Draft {
                created_at: s("2026-02-30"),
                ..ok()
            },
            "created_at",
            "real date",
        ),
        (
            "empty created",
            Draft {
                created_at: s(""),
                ..ok()
            },
            "created_at",
            "required",
        ),
        (
            "expiry before creation",
            Draft {
                created_at: s("2026-06-01"),
                expires_at: s("2026-05-31"),
                ..ok()
            },
            "expires_at",
            "before created_at",
        ),
        (
            "used in the future",
            Draft {
                last_used_at: s("2030-01-01"),
                ..ok()
            },
            "last_used_at",
            "future",
        ),
    ]);
}

#[test]
fn a_rotation_period_out_of_range_or_not_a_whole_number_is_named() {
    assert_each_refused(vec![
        (
            "rotation zero",
            Draft {
                rotation_days: s("0"),
                ..ok()
            },
            "rotation_days",
            "1 to 3650",
        ),
        (
            "rotation too long",
            Draft {
                rotation_days: s("3651"),
                ..ok()
            },
            "rotation_days",
            "1 to 3650",
        ),
        (
            "rotation text",
            Draft {
                rotation_days: s("ninety"),
                ..ok()
            },
            "rotation_days",
            "whole number",
        ),
        (
            "rotation negative",
            Draft {
                rotation_days: s("-5"),
                ..ok()
            },
            "rotation_days",
            "whole number",
        ),
    ]);
}

#[test]
fn bad_tags_owner_notes_or_key_id_hint_are_named() {
    assert_each_refused(vec![
        (
            "tag space",
            Draft {
                tags: l(&["hot wallet"]),
                ..ok()
            },
            "tags",
            "without spaces",
        ),
        (
            "tag empty",
            Draft {
                tags: l(&[""]),
                ..ok()
            },
            "tags",
            "1–64",
        ),
        (
            "owner control",
            Draft {
                owner: s("a\u{7}b"),
                ..ok()
            },
            "owner",
            "control",
        ),
        (
            "notes control",
            Draft {
                notes: s("a\u{0}b"),
                ..ok()
            },
            "notes",
            "control",
        ),
        (
            "notes long",
            Draft {
                notes: s(&"n".repeat(10_001)),
                ..ok()
            },
            "notes",
            "10000",
        ),
        (
            "hint long",
            Draft {
                key_id_hint: s(&"h".repeat(17)),
                ..ok()
            },
            "key_id_hint",
            "16",
        ),
    ]);
}

#[test]
fn several_bad_fields_are_all_reported_on_one_line() {
    let (_fx, mut vault) = Fixture::new();
    let d = Draft {
        label: s(""),
        rotation_days: s("0"),
        ..draft("Kraken", "x")
    };
    let msg = inventory::add(&mut vault, &d, vec![], NOW)
        .unwrap_err()
        .to_string();
    assert_eq!(msg, "label: must be 1–200 characters; rotation_days: must be a whole number of days from 1 to 3650");
}

#[test]
fn secret_fields_are_checked_by_name_and_size() {
    let cases: Vec<(Vec<SecretInput>, &str)> = vec![
        (
            vec![secret("API_KEY", b"x")],
            "names must be 1–32 characters of a-z, 0-9 and _",
        ),
        // A value typed where the name belongs is refused and never echoed.
        (
            vec![secret("api_secret=hunter2", b"x")],
            "never from arguments",
        ),
        (vec![secret("", b"x")], "must be 1–32"),
        (vec![secret(&"k".repeat(33), b"x")], "must be 1–32"),
        (vec![secret("api-key", b"x")], "must be 1–32"),
        (vec![secret("api_key", b"")], "'api_key' is empty"),
        (
            vec![SecretInput {
                field: "pem".into(),
                value: SecretValue::new(vec![b'a'; 16 * 1024 + 1]),
            }],
            "longer than 16 KiB",
        ),
        (
            vec![secret("k", b"1"), secret("k", b"2")],
            "'k' is given twice",
        ),
    ];
    let (_fx, mut vault) = Fixture::new();
    for (inputs, reason) in cases {
        let err = inventory::add(&mut vault, &draft("Kraken", "g"), inputs, NOW).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("secret field: ") && msg.contains(reason),
            "{msg}"
        );
    }
    // The limits themselves are accepted.
    let big = SecretInput {
        field: "k".repeat(32),
        value: SecretValue::new(vec![b'a'; 16 * 1024]),
    };
    inventory::add(
        &mut vault,
        &draft("Kraken", "g"),
        vec![big, secret("one", b"1")],
        NOW,
    )
    .unwrap();
    assert_eq!(inventory::list(&vault).unwrap().len(), 1);
}

#[test]
fn values_at_the_limits_are_accepted() {
    let (_fx, mut vault) = Fixture::new();
    let d = Draft {
        label: s(&"é".repeat(200)),
        platform: s(&"p".repeat(64)),
        rotation_days: s("3650"),
        ip_allowlist: l(&["0.0.0.0/0", "::/0", "192.0.2.1", "192.0.2.1"]),
        permissions: l(&["READ", "read", "raw:Enable Withdrawals"]),
        created_at: s("2026-01-01"),
        expires_at: s("2026-01-01"),
        last_used_at: s("2026-11-22"),
        ..Draft::default()
    };
    let e = inventory::add(&mut vault, &d, vec![], NOW).unwrap();
    assert_eq!(e.ip_allowlist.len(), 3, "duplicates are merged");
    assert_eq!(e.permissions.len(), 2);
    assert_eq!(e.rotation_days, Some(3650));
}
