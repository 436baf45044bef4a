use keyward_core::audit;
use keyward_core::inventory::{
    self, Draft, Environment, Error, Filter, Permission, SearchIndex, SecretChanges, SecretUse,
    Status,
};
use time::macros::datetime;

use crate::common::*;

#[test]
fn add_applies_defaults_and_returns_the_stored_entry() {
    let (_fx, mut vault) = Fixture::new();
    let e = inventory::add(&mut vault, &draft("Deribit", "options mm"), vec![], NOW).unwrap();
    assert_eq!(e.environment, Environment::Production);
    assert_eq!(e.status, Status::Active);
    assert_eq!(e.created_at, NOW);
    assert!(e.permissions.is_empty() && e.ip_allowlist.is_empty());
    // No period of its own, no permissions: the read-only default, 90 days.
    assert_eq!(e.next_due_at, Some(NOW + time::Duration::days(90)));
    assert_eq!(e.id.len(), 36);
}

#[test]
fn text_is_stored_exactly_as_given() {
    let (_fx, mut vault) = Fixture::new();
    let tricky = [
        r#"He said "it's fine"; DROP TABLE entries; --"#,
        "🚀 moon bot 🌕",
        "مفتاح التداول الرئيسي",
        "  leading and trailing spaces  ",
        "back\\slash 'single' `tick` %_ wildcard",
    ];
    for label in tricky {
        let d = Draft {
            notes: Some(format!("{label}\nsecond line\ttab")),
            ..draft("Bybit", label)
        };
        let e = inventory::add(&mut vault, &d, vec![], NOW).unwrap();
        let back = inventory::get(&vault, &e.id).unwrap();
        assert_eq!(back.label, label);
        assert_eq!(
            back.notes.as_deref(),
            Some(format!("{label}\nsecond line\ttab").as_str())
        );
    }
    assert_eq!(inventory::list(&vault).unwrap().len(), tricky.len());
}

#[test]
fn lists_with_quotes_and_backslashes_round_trip() {
    let (_fx, mut vault) = Fixture::new();
    let d = Draft {
        permissions: Some(vec![r#"raw:Query "Funds" \ ledger"#.into()]),
        tags: Some(vec![r#"q"uote"#.into(), r"back\slash".into(), "ünï".into()]),
        ..draft("Kraken", "x")
    };
    let e = inventory::add(&mut vault, &d, vec![], NOW).unwrap();
    let listed = inventory::list(&vault).unwrap().pop().unwrap();
    assert_eq!(listed.permissions, e.permissions);
    assert_eq!(
        listed.permissions[0].to_string(),
        r#"raw:Query "Funds" \ ledger"#
    );
    assert_eq!(listed.tags, [r#"q"uote"#, r"back\slash", "ünï"]);
}

#[test]
fn full_entry_round_trips_through_the_database() {
    let (_fx, mut vault) = Fixture::new();
    let d = Draft {
        account: Some("sub-7".into()),
        environment: Some("staging".into()),
        owner: Some("ops@fund".into()),
        purpose: Some("market making".into()),
        permissions: Some(vec![
            "read".into(),
            "futures".into(),
            "raw:enableVanillaOptions".into(),
        ]),
        ip_allowlist: Some(vec!["203.0.113.0/24".into(), "2001:db8::1".into()]),
        ip_note: Some("colo".into()),
        rotation_days: Some("30".into()),
        created_at: Some("2026-01-01".into()),
        expires_at: Some("2027-01-01T00:00:00Z".into()),
        last_used_at: Some("2026-11-20".into()),
        last_rotated_at: Some("2026-10-01".into()),
        tags: Some(vec!["mm".into(), "eu".into()]),
        notes: Some("n".into()),
        key_id_hint: Some("9f3a".into()),
        ..draft("Deribit", "mm")
    };
    let e = inventory::add(&mut vault, &d, vec![secret("client_secret", b"x")], NOW).unwrap();
    let back = inventory::get(&vault, &e.id).unwrap();
    assert_eq!(back.account.as_deref(), Some("sub-7"));
    assert_eq!(back.environment, Environment::Staging);
    assert_eq!(
        back.permissions[2],
        Permission::Raw("enableVanillaOptions".into())
    );
    assert_eq!(
        back.ip_allowlist
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["203.0.113.0/24", "2001:db8::1"]
    );
    assert_eq!(back.next_due_at, Some(datetime!(2026-10-31 0:00 UTC)));
    assert_eq!(back.secret_fields[0].as_str(), "client_secret");
    assert_eq!(back.tags, ["mm", "eu"]);
    assert_eq!(back.key_id_hint.as_deref(), Some("9f3a"));
}

#[test]
fn ids_resolve_by_unique_prefix() {
    let (_fx, mut vault) = Fixture::new();
    let id = add_key(&mut vault, "Kraken", "a", b"s");
    assert_eq!(inventory::get(&vault, &id[..8]).unwrap().id, id);
    assert_eq!(inventory::get(&vault, &id.to_uppercase()).unwrap().id, id);
    assert!(matches!(
        inventory::get(&vault, &id[..3]),
        Err(Error::Vault(keyward_core::vault::Error::NoMatch {
            field: "id",
            noun: "key",
            ..
        }))
    ));
    assert!(matches!(
        inventory::get(&vault, "00000000-0000-0000-0000-000000000000"),
        Err(Error::Vault(keyward_core::vault::Error::NoMatch {
            field: "id",
            noun: "key",
            ..
        }))
    ));
    assert!(matches!(
        inventory::get(&vault, "'; --"),
        Err(Error::Vault(keyward_core::vault::Error::NoMatch {
            field: "id",
            noun: "key",
            ..
        }))
    ));
}

#[test]
fn edit_changes_only_what_was_given_and_audits_field_names() {
    let (_fx, mut vault) = Fixture::new();
    let id = add_key(&mut vault, "Kraken", "grid", b"old-secret");
    let d = Draft {
        owner: Some("alice".into()),
        ip_allowlist: Some(vec![]),
        ..Draft::default()
    };
    let changes = SecretChanges {
        set: vec![
            secret("api_secret", b"new-secret"),
            secret("passphrase", b"pp"),
        ],
        remove: vec!["api_key".into()],
    };
    let e = inventory::edit(&mut vault, &id, &d, changes, NOW).unwrap();
    assert_eq!(e.label, "grid");
    assert_eq!(e.owner.as_deref(), Some("alice"));
    assert!(e.ip_allowlist.is_empty());
    assert_eq!(
        e.secret_fields
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>(),
        ["api_secret", "passphrase"]
    );
    let v = inventory::take_secret(&mut vault, &id, "api_secret", SecretUse::Reveal, NOW).unwrap();
    assert_eq!(v.expose(), b"new-secret");
    let rec = audit::list(&vault)
        .unwrap()
        .into_iter()
        .find(|r| r.action == "entry.edit")
        .unwrap();
    assert_eq!(
        rec.detail["fields"],
        serde_json::json!(["owner", "ip_allowlist"])
    );
    assert_eq!(
        rec.detail["secrets_set"],
        serde_json::json!(["api_secret", "passphrase"])
    );
    assert_eq!(
        rec.detail["secrets_removed"],
        serde_json::json!(["api_key"])
    );
    assert!(!rec.detail.to_string().contains("new-secret"));
}

#[test]
fn a_failed_edit_changes_nothing() {
    let (_fx, mut vault) = Fixture::new();
    let id = add_key(&mut vault, "Kraken", "grid", b"s");
    let before = inventory::get(&vault, &id).unwrap();
    let audit_before = audit::list(&vault).unwrap().len();
    let d = Draft {
        owner: Some("bob".into()),
        ip_allowlist: Some(vec!["10.0.0.0/33".into()]),
        ..Draft::default()
    };
    let changes = SecretChanges {
        set: vec![secret("api_secret", b"changed")],
        remove: vec![],
    };
    let err = inventory::edit(&mut vault, &id, &d, changes, NOW).unwrap_err();
    assert!(err.to_string().starts_with("ip_allowlist:"), "{err}");
    let after = inventory::get(&vault, &id).unwrap();
    assert_eq!(format!("{before:?}"), format!("{after:?}"));
    assert_eq!(audit::list(&vault).unwrap().len(), audit_before);
    let v = inventory::take_secret(&mut vault, &id, "api_secret", SecretUse::Reveal, NOW).unwrap();
    assert_eq!(v.expose(), b"s");
}

#[test]
fn status_changes_follow_the_lifecycle() {
    let (_fx, mut vault) = Fixture::new();
    let id = add_key(&mut vault, "Gemini", "treasury", b"s");
    assert_eq!(
        keyward_core::lifecycle::set_status(&mut vault, &id, Status::Suspended, NOW)
            .unwrap()
            .status,
        Status::Suspended
    );
    assert_eq!(
        keyward_core::lifecycle::set_status(&mut vault, &id, Status::Active, NOW)
            .unwrap()
            .status,
        Status::Active
    );
    let e = keyward_core::lifecycle::set_status(&mut vault, &id, Status::Revoked, NOW).unwrap();
    assert_eq!(e.next_due_at, None, "a revoked key is never due");
    let err =
        keyward_core::lifecycle::set_status(&mut vault, &id, Status::Active, NOW).unwrap_err();
    assert_eq!(
        err.to_string(),
        "status: a revoked key cannot become active"
    );
    keyward_core::lifecycle::set_status(&mut vault, &id, Status::Retired, NOW).unwrap();
    let moves: Vec<_> = audit::list(&vault)
        .unwrap()
        .into_iter()
        .filter(|r| r.action == "entry.status")
        .map(|r| {
            format!(
                "{}>{}",
                r.detail["from"].as_str().unwrap(),
                r.detail["to"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        moves,
        [
            "active>suspended",
            "suspended>active",
            "active>revoked",
            "revoked>retired"
        ]
    );
}

#[test]
fn delete_removes_the_entry_and_its_secrets() {
    let (_fx, mut vault) = Fixture::new();
    let id = add_key(&mut vault, "KuCoin", "arb", b"s");
    inventory::delete(&mut vault, &id, NOW).unwrap();
    assert!(matches!(
        inventory::get(&vault, &id),
        Err(Error::Vault(keyward_core::vault::Error::NoMatch {
            field: "id",
            noun: "key",
            ..
        }))
    ));
    let n: i64 = vault
        .raw_connection()
        .query_row("SELECT count(*) FROM secrets", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
    let rec = audit::list(&vault).unwrap().pop().unwrap();
    assert_eq!(rec.action, "entry.delete");
    assert_eq!(rec.detail["label"], "arb");
}

#[test]
fn reveal_and_copy_are_audited_with_the_field_but_not_the_value() {
    let (_fx, mut vault) = Fixture::new();
    let id = add_key(&mut vault, "Kraken", "grid", b"VALUE-123");
    inventory::take_secret(&mut vault, &id, "api_secret", SecretUse::Reveal, NOW).unwrap();
    inventory::take_secret(&mut vault, &id, "api_key", SecretUse::Copy, NOW).unwrap();
    let err = inventory::take_secret(&mut vault, &id, "nope", SecretUse::Copy, NOW).unwrap_err();
    assert_eq!(
        err.to_string(),
        "secret field: 'nope' is not stored for this key"
    );
    let log = audit::list(&vault).unwrap();
    let tail: Vec<_> = log.iter().rev().take(2).collect();
    assert_eq!(tail[1].action, "secret.reveal");
    assert_eq!(tail[1].detail["field"], "api_secret");
    assert_eq!(tail[0].action, "secret.copy");
    assert!(!serde_json::to_string(&log).unwrap().contains("VALUE-123"));
}

#[test]
fn the_same_secret_in_two_entries_is_found_without_decrypting() {
    let (_fx, mut vault) = Fixture::new();
    let a = add_key(&mut vault, "Binance", "bot a", b"shared-secret");
    let b = add_key(&mut vault, "Binance", "bot b", b"shared-secret");
    add_key(&mut vault, "Binance", "bot c", b"unique");
    let groups = inventory::shared_secrets(&vault).unwrap();
    // api_key is the same in all three fixtures; api_secret only in a and b.
    let secret_group = groups
        .iter()
        .find(|g| g.iter().all(|m| m.field == "api_secret"))
        .unwrap();
    let mut ids: Vec<_> = secret_group.iter().map(|m| m.entry_id.clone()).collect();
    ids.sort();
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(ids, want);
}

#[test]
fn json_of_an_entry_follows_the_contract_and_names_no_secret_value() {
    let (_fx, mut vault) = Fixture::new();
    let id = add_key(&mut vault, "Kraken", "grid", b"VALUE-XYZ");
    let json = serde_json::to_value(inventory::get(&vault, &id).unwrap()).unwrap();
    for key in [
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
        assert!(json.get(key).is_some(), "missing {key}");
    }
    assert_eq!(
        json["secret_fields"],
        serde_json::json!(["api_key", "api_secret"])
    );
    assert_eq!(json["created_at"], "2026-11-22T08:00:00Z");
    assert_eq!(json["next_due_at"], "2027-02-20T08:00:00Z");
    assert!(!json.to_string().contains("VALUE-XYZ"));
}

#[test]
fn search_matches_every_word_across_fields_and_filters_combine() {
    let (_fx, mut vault) = Fixture::new();
    for (p, l, env, perm) in [
        ("Kraken", "grid bot", "production", "trade"),
        ("Kraken", "treasury sweep", "production", "withdraw"),
        ("Binance", "grid bot", "staging", "trade"),
    ] {
        let d = Draft {
            environment: Some(env.into()),
            permissions: Some(vec![perm.into()]),
            rotation_days: Some("10".into()),
            ..draft(p, l)
        };
        inventory::add(&mut vault, &d, vec![], NOW).unwrap();
    }
    let entries = inventory::list(&vault).unwrap();
    let index = SearchIndex::new(&entries);
    let labels = |f: &Filter| -> Vec<String> {
        index
            .filter(&entries, f, NOW)
            .into_iter()
            .map(|i| format!("{}/{}", entries[i].platform, entries[i].label))
            .collect()
    };
    let text = |t: &str| Filter {
        text: t.into(),
        ..Filter::default()
    };
    assert_eq!(
        labels(&text("GRID")),
        ["Binance/grid bot", "Kraken/grid bot"]
    );
    assert_eq!(labels(&text("kraken grid")), ["Kraken/grid bot"]);
    assert_eq!(labels(&text("")).len(), 3);
    assert!(labels(&text("nothing-like-this")).is_empty());
    let f = Filter {
        environment: Some(Environment::Production),
        permission: Some(Permission::Withdraw),
        ..Filter::default()
    };
    assert_eq!(labels(&f), ["Kraken/treasury sweep"]);
    let due = |d| Filter {
        due_within_days: Some(d),
        ..Filter::default()
    };
    assert!(labels(&due(5)).is_empty());
    assert_eq!(labels(&due(10)).len(), 3);
}
