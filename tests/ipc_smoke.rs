//! Every IPC command, called without a window: the app's own handler on
//! Tauri's mock runtime, over a real vault in a temporary folder. Each
//! call must answer with its value or with the one serialisable error
//! (`{ code, message, fields }`) — never a panic, never a bare string —
//! and the list of commands called must be the whole list in `build.rs`.
//! The end-to-end suite drives the same commands through the real window.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Mutex;

use keyward_app::state::AppState;
use keyward_core::VaultDir;
use serde_json::{json, Value};
use tauri::ipc::{CallbackFn, InvokeBody};
use tauri::test::{get_ipc_response, mock_builder, mock_context, noop_assets, INVOKE_KEY};
use tauri::webview::InvokeRequest;
use tauri::WebviewWindow;

const PASS: &str = "orbit lantern cobalt meadow 42";
const SECRET: &str = "smoke-secret-Qm4vX8rT2wL6nZ1pK3";
/// The key the rotation puts in place (its only secret field afterwards).
const NEW_KEY: &str = "smoke-new-key-55c0e1d2f3a4";

struct Ipc {
    webview: WebviewWindow<tauri::test::MockRuntime>,
    called: Mutex<BTreeSet<String>>,
}

impl Ipc {
    fn call(&self, cmd: &str, args: Value) -> Result<Value, Value> {
        self.called.lock().unwrap().insert(cmd.to_owned());
        get_ipc_response(
            &self.webview,
            InvokeRequest {
                cmd: cmd.into(),
                callback: CallbackFn(0),
                error: CallbackFn(1),
                url: "tauri://localhost".parse().unwrap(),
                body: InvokeBody::Json(args),
                headers: Default::default(),
                invoke_key: INVOKE_KEY.to_string(),
            },
        )
        .map(|b| b.deserialize::<Value>().unwrap())
    }

    #[track_caller]
    fn ok(&self, cmd: &str, args: Value) -> Value {
        match self.call(cmd, args) {
            Ok(v) => v,
            Err(e) => panic!("{cmd} failed: {e}"),
        }
    }

    /// The command's refusal, which must be an `IpcError` with `code`.
    #[track_caller]
    fn refused(&self, cmd: &str, args: Value, code: &str) -> Value {
        match self.call(cmd, args) {
            Ok(v) => panic!("{cmd} should have been refused ({code}), answered {v}"),
            Err(e) => {
                assert_eq!(e["code"], code, "{cmd}: {e}");
                assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
                assert!(e["fields"].is_array(), "{e}");
                e
            }
        }
    }

    /// Ok, or refused with one of `codes` (a desktop service this test
    /// has none of: clipboard, keyring, file manager).
    #[track_caller]
    fn ok_or(&self, cmd: &str, args: Value, codes: &[&str]) -> Result<Value, Value> {
        let r = self.call(cmd, args);
        if let Err(e) = &r {
            assert!(
                codes.iter().any(|c| e["code"] == *c) && e["message"].is_string(),
                "{cmd}: {e}"
            );
        }
        r
    }
}

/// The commands `build.rs` declares.
fn declared() -> BTreeSet<String> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src-tauri/build.rs"))
            .unwrap();
    let list = &text[text.find("const COMMANDS").unwrap()..];
    let list = &list[..list.find("];").unwrap()];
    list.split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_command_answers_with_its_value_or_a_structured_error() {
    let tmp = tempfile::tempdir().unwrap();
    // No desktop services, and nothing written outside the temporary folder.
    let home = tmp.path().join("home");
    std::fs::create_dir_all(home.join("Downloads")).unwrap();
    std::env::set_var("HOME", &home);
    std::env::set_var("XDG_CONFIG_HOME", home.join(".config"));
    std::env::set_var("XDG_DATA_HOME", home.join(".local/share"));
    std::env::set_var("XDG_DOWNLOAD_DIR", home.join("Downloads"));
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    std::env::remove_var("DISPLAY");
    std::env::remove_var("WAYLAND_DISPLAY");

    let app = mock_builder()
        .manage(AppState::new(VaultDir::new(tmp.path().join("vault"))))
        .invoke_handler(keyward_app::handler())
        .build(mock_context(noop_assets()))
        .unwrap();
    let webview = tauri::WebviewWindowBuilder::new(&app, "main", Default::default())
        .build()
        .unwrap();
    let ipc = Ipc {
        webview,
        called: Mutex::new(BTreeSet::new()),
    };

    // No vault yet.
    let status = ipc.ok("get_vault_status", json!({}));
    assert_eq!(status["exists"], false, "{status}");
    ipc.refused("list_entries", json!({}), "locked");
    let verdict = ipc.ok("rate_passphrase", json!({ "passphrase": PASS }));
    assert!(verdict.is_object());
    ipc.refused(
        "create_vault",
        json!({ "passphrase": PASS, "confirm": "something else" }),
        "invalid",
    );
    ipc.ok(
        "create_vault",
        json!({ "passphrase": PASS, "confirm": PASS }),
    );

    // The inventory.
    assert!(
        ipc.ok("list_platforms", json!({}))
            .as_array()
            .unwrap()
            .len()
            > 5
    );
    assert!(!ipc
        .ok("list_permissions", json!({}))
        .as_array()
        .unwrap()
        .is_empty());
    let secrets = json!([
        { "field": "api_key", "value": "smoke-key-8d1f2a9c7b" },
        { "field": "api_secret", "value": SECRET },
    ]);
    let entry = ipc.ok(
        "add_entry",
        json!({ "draft": { "platform": "Kraken", "label": "grid bot", "permissions": ["read", "trade"] }, "secrets": secrets }),
    );
    let id = entry["id"].as_str().unwrap().to_owned();
    let e = ipc.refused(
        "add_entry",
        json!({ "draft": { "platform": "Kraken", "label": "" }, "secrets": [] }),
        "invalid",
    );
    assert_eq!(e["fields"][0]["field"], "label", "{e}");
    let list = ipc.ok("list_entries", json!({}));
    assert_eq!(list["entries"].as_array().unwrap().len(), 1);
    assert!(list["due_words"][0]
        .as_str()
        .is_some_and(|w| w.starts_with("due ")));
    let found = ipc.ok(
        "filter_entries",
        json!({ "version": list["version"], "filter": { "text": "grid" } }),
    );
    assert_eq!(found, json!([0]));
    ipc.ok(
        "edit_entry",
        json!({ "id": id, "draft": { "owner": "ops" }, "setSecrets": [], "removeSecrets": [] }),
    );
    let e = ipc.ok(
        "set_entry_status",
        json!({ "id": id, "status": "suspended" }),
    );
    assert_eq!(e["status"], "suspended");
    ipc.ok("set_entry_status", json!({ "id": id, "status": "active" }));
    ipc.refused(
        "set_entry_status",
        json!({ "id": id, "status": "compromised" }),
        "invalid",
    );
    // A word outside the set is refused by the typed parameter itself.
    assert!(ipc
        .call("set_entry_status", json!({ "id": id, "status": "gone" }))
        .is_err());
    let shown = ipc.ok(
        "reveal_secret",
        json!({ "id": id, "field": "api_secret", "newKey": false }),
    );
    assert_eq!(shown["value"], SECRET);
    let _ = ipc.ok_or(
        "copy_secret",
        json!({ "id": id, "field": "api_key", "newKey": false }),
        &["clipboard"],
    );
    let settings = ipc.ok("get_settings", json!({}));
    ipc.ok(
        "save_settings",
        json!({ "settings": settings, "current": null }),
    );
    ipc.ok("note_activity", json!({}));
    ipc.ok("report_first_paint", json!({ "pageMs": 12 }));

    // A rotation, guided to its end, and one cancelled.
    assert_eq!(ipc.ok("get_rotation", json!({ "id": id })), Value::Null);
    ipc.ok("start_rotation", json!({ "id": id }));
    ipc.ok(
        "describe_new_key",
        json!({ "id": id, "permissions": null, "ipAllowlist": ["203.0.113.7"], "keyIdHint": null }),
    );
    ipc.ok(
        "stage_new_secrets",
        json!({ "id": id, "secrets": [{ "field": "api_key", "value": NEW_KEY }] }),
    );
    for step in ["deploy", "confirm", "revoke"] {
        ipc.ok("advance_rotation", json!({ "id": id, "step": step }));
    }
    ipc.ok("complete_rotation", json!({ "id": id }));
    assert_eq!(
        ipc.ok("rotation_history", json!({ "id": id }))
            .as_array()
            .unwrap()
            .len(),
        1
    );
    ipc.ok("start_rotation", json!({ "id": id }));
    ipc.refused(
        "advance_rotation",
        json!({ "id": id, "step": "revoke" }),
        "invalid",
    );
    ipc.ok("cancel_rotation", json!({ "id": id }));
    ipc.ok("snooze_reminders", json!({ "id": id, "days": 7 }));
    assert!(ipc.ok("list_findings", json!({})).is_array());

    // An access review, finished and exported; one cancelled.
    ipc.ok("review_home", json!({}));
    let review = ipc.ok("start_review", json!({ "reviewer": "smoke", "scope": {} }));
    let rid = review["review"]["id"].as_str().unwrap().to_owned();
    ipc.ok("get_review", json!({ "id": rid }));
    ipc.ok(
        "save_review_checks",
        json!({ "id": rid, "key": id, "checks": {} }),
    );
    ipc.ok(
        "decide_review",
        json!({ "id": rid, "key": id, "decision": "reduce", "note": null, "checks": null }),
    );
    ipc.ok("finish_review", json!({ "id": rid }));
    let path = ipc.ok("export_review", json!({ "id": rid, "format": "md" }));
    assert!(Path::new(path.as_str().unwrap()).starts_with(&home));
    ipc.ok("resolve_followup", json!({ "key": id }));
    ipc.refused("resolve_followup", json!({ "key": id }), "invalid");
    let again = ipc.ok("start_review", json!({ "reviewer": "smoke", "scope": {} }));
    ipc.ok("cancel_review", json!({ "id": again["review"]["id"] }));

    // The leak scan over a folder holding a copy of the key.
    let place = tmp.path().join("bot");
    std::fs::create_dir_all(&place).unwrap();
    std::fs::write(place.join(".env"), format!("API_KEY={NEW_KEY}\n")).unwrap();
    assert!(ipc.ok("scan_locations", json!({})).is_array());
    let scan = ipc.ok(
        "start_scan",
        json!({ "paths": [place.to_str().unwrap()], "keys": [], "incident": null, "progress": "__CHANNEL__:7" }),
    );
    let scan_id = scan["id"].clone();
    // Following it from elsewhere: true while it runs, false once ended.
    let watching = ipc.ok(
        "watch_scan",
        json!({ "scan": scan_id, "since": 0, "skippedSince": 0, "progress": "__CHANNEL__:8" }),
    );
    assert!(watching.is_boolean());
    let mut status = scan;
    for _ in 0..500 {
        if status["running"] == false {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
        status = ipc.ok("scan_status", json!({ "since": 0, "skippedSince": 0 }));
    }
    assert_eq!(status["running"], false, "{status}");
    assert_eq!(status["match_count"], 1, "{status}");
    ipc.ok("cancel_scan", json!({}));
    assert_eq!(
        ipc.ok(
            "watch_scan",
            json!({ "scan": scan_id, "since": 1, "skippedSince": 0, "progress": "__CHANNEL__:9" }),
        ),
        false
    );
    let _ = ipc.ok_or(
        "reveal_scan_match",
        json!({ "scan": scan_id, "index": 0 }),
        &["not_found"],
    );
    ipc.refused(
        "resolve_scan_match",
        json!({ "scan": scan_id, "index": 0, "anyway": false }),
        "still_there",
    );
    ipc.ok(
        "resolve_scan_match",
        json!({ "scan": scan_id, "index": 0, "anyway": true }),
    );
    assert_eq!(ipc.ok("leak_copies", json!({})), json!([]));
    ipc.refused(
        "resolve_leak_copy",
        json!({ "id": 999, "anyway": true }),
        "not_found",
    );

    // An incident, opened, contained and exported.
    let incident = ipc.ok(
        "open_incident",
        json!({ "keys": [id], "suspectedAt": null, "note": null, "source": null }),
    );
    let iid = incident["id"].as_str().unwrap().to_owned();
    assert_eq!(
        ipc.ok("list_incidents", json!({}))
            .as_array()
            .unwrap()
            .len(),
        1
    );
    ipc.ok("get_incident", json!({ "id": iid }));
    ipc.ok(
        "mark_incident_step",
        json!({ "id": iid, "step": "contain", "status": "done", "note": null, "activity": null, "rootCause": null }),
    );
    ipc.refused(
        "mark_incident_step",
        json!({ "id": iid, "step": "root_cause", "status": "done", "note": null, "activity": null, "rootCause": null }),
        "invalid",
    );
    ipc.ok("export_incident", json!({ "id": iid, "format": "html" }));
    let _ = ipc.ok_or(
        "copy_incident_summary",
        json!({ "id": iid }),
        &["clipboard"],
    );

    // Backup and recovery, each behind the passphrase typed again.
    ipc.ok("backup_status", json!({}));
    let folder = tmp.path().join("backups");
    let e = ipc.refused(
        "create_backup",
        json!({ "folder": folder, "passphrase": PASS, "confirm": PASS, "recipients": [], "current": "wrong" }),
        "invalid",
    );
    assert_eq!(e["fields"][0]["field"], "current_passphrase", "{e}");
    let done = ipc.ok(
        "create_backup",
        json!({ "folder": folder, "passphrase": PASS, "confirm": PASS, "recipients": [], "current": PASS }),
    );
    let file = done["path"].as_str().unwrap().to_owned();
    let summary = ipc.ok("verify_backup", json!({ "file": file, "passphrase": PASS }));
    assert_eq!(summary["entries"], 1, "{summary}");
    ipc.ok(
        "restore_backup",
        json!({ "file": file, "passphrase": PASS, "folder": tmp.path().join("restored"), "newPassphrase": PASS, "confirm": PASS }),
    );
    let code = ipc.ok("create_recovery_code", json!({ "current": PASS }));
    assert!(code["grouped"]
        .as_str()
        .is_some_and(|c| c.starts_with("AGE-SECRET-KEY-1")));
    assert_eq!(ipc.ok("remove_recovery_code", json!({})), true);
    let _ = ipc.ok_or("remember_device", json!({ "current": PASS }), &["internal"]);
    let _ = ipc.ok_or("forget_device", json!({}), &["internal"]);
    ipc.ok(
        "rekey_vault",
        json!({ "current": PASS, "newRecoveryCode": false }),
    );
    let audit = ipc.ok("audit_status", json!({}));
    let head = audit["head"].as_str().unwrap().to_owned();
    ipc.ok("verify_audit_head", json!({ "expect": head }));
    ipc.refused(
        "verify_audit_head",
        json!({ "expect": "nonsense" }),
        "invalid",
    );

    ipc.ok("delete_entry", json!({ "id": id }));
    ipc.ok("lock_vault", json!({}));
    ipc.refused("list_entries", json!({}), "locked");
    ipc.refused("unlock_with_keyring", json!({}), "not_found");
    ipc.refused(
        "unlock_vault",
        json!({ "passphrase": "wrong" }),
        "wrong_passphrase",
    );
    ipc.ok("unlock_vault", json!({ "passphrase": PASS }));
    assert_eq!(ipc.ok("list_entries", json!({}))["entries"], json!([]));

    let called = ipc.called.lock().unwrap().clone();
    let missing: Vec<_> = declared().difference(&called).cloned().collect();
    assert!(missing.is_empty(), "commands never called: {missing:?}");
}
