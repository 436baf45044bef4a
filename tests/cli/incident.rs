//! Incidents: open, work through the steps, report and close.

use crate::common::*;

#[test]
fn an_incident_from_open_to_close_from_the_command_line() {
    let kw = Kw::new();
    let a = kw.add_kraken();
    kw.run(&["incident", "list"], "").ok();
    assert_eq!(
        kw.run(&["incident", "list"], "").stdout.trim(),
        "no incidents"
    );
    kw.run(&["incident", "open"], "").usage_error();
    kw.run(&["incident", "open", &a, "--suspected-at", "yesterday"], "")
        .refused("suspected_at: ");
    kw.run(&["set-status", &a, "compromised"], "").usage_error();
    let out = kw.run(
        &[
            "incident",
            "open",
            &a[..8],
            "--suspected-at",
            &days_ago(5),
            "--note",
            "seen in a screenshot",
            "--json",
        ],
        "",
    );
    let i: serde_json::Value = serde_json::from_str(&out.ok().stdout).unwrap();
    let id = i["id"].as_str().unwrap().to_owned();
    assert_eq!(i["severity"], "high", "trade → high");
    assert_eq!(i["current"], "contain");
    let out = kw.run(&["show", &a, "--json"], "");
    assert!(out.ok().stdout.contains("\"status\": \"compromised\""));
    let out = kw.run(&["findings", "--json"], "");
    assert!(out.ok().stdout.contains("incident.open"));

    kw.run(&["incident", "step", &id, "replace", "--done"], "")
        .refused("finish 'contain' first");
    kw.run(&["incident", "step", &id, "contain"], "")
        .usage_error();
    kw.run(
        &["incident", "step", &id, "contain", "--done", "--skip"],
        "",
    )
    .usage_error();
    kw.run(&["incident", "step", &id, "panic", "--done"], "")
        .refused("step: must be one of contain, replace");
    let out = kw.run(
        &[
            "incident",
            "step",
            &id[..8],
            "contain",
            "--done",
            "--note",
            "revoked",
        ],
        "",
    );
    assert_eq!(
        out.ok().stdout.trim(),
        "contain: done; next: replace — Replace: a new, narrower key if still needed"
    );
    assert!(kw
        .run(&["show", &a, "--json"], "")
        .stdout
        .contains("\"status\": \"revoked\""));
    kw.run(&["incident", "step", &id, "replace", "--skip"], "")
        .refused("note: say why");
    kw.run(&["incident", "step", &id, "replace", "--na"], "")
        .ok();
    kw.run(
        &[
            "incident",
            "step",
            &id,
            "review_activity",
            "--done",
            "--activity",
            "maybe",
        ],
        "",
    )
    .refused("activity: must be one of yes, no, unknown");
    kw.run(
        &[
            "incident",
            "step",
            &id,
            "review-activity",
            "--done",
            "--activity",
            "no",
        ],
        "",
    )
    .ok();
    kw.run(&["incident", "step", &id, "secure_account", "--done"], "")
        .ok();
    kw.run(
        &[
            "incident",
            "step",
            &id,
            "find_copies",
            "--done",
            "--note",
            "checked by hand",
        ],
        "",
    )
    .ok();
    kw.run(
        &[
            "incident",
            "step",
            &id,
            "root_cause",
            "--done",
            "--cause",
            "screenshot",
        ],
        "",
    )
    .ok();
    let out = kw.run(&["incident", "summary", &id], "");
    let summary = &out.ok().stdout;
    assert!(summary.contains("Kraken · grid bot"), "{summary}");
    assert!(summary.contains("Root cause: a screenshot or screen share"));
    assert!(summary.contains("Never add one to a support request"));
    kw.run(&["incident", "step", &id, "notify", "--done"], "")
        .ok();
    let out = kw.run(
        &[
            "incident",
            "step",
            &id,
            "close",
            "--done",
            "--note",
            "no screenshots of settings",
        ],
        "",
    );
    assert_eq!(
        out.ok().stdout.trim(),
        format!("incident {} closed", &id[..8])
    );

    let out = kw.run(&["incident", "show", &id], "");
    let text = &out.ok().stdout;
    for step in [
        "contain",
        "replace",
        "review_activity",
        "secure_account",
        "find_copies",
        "root_cause",
        "notify",
        "close",
    ] {
        assert!(text.contains(step), "{step} in {text}");
    }
    let dir = tempfile::tempdir().unwrap();
    for format in ["md", "html"] {
        let file = dir.path().join(format!("i.{format}"));
        kw.run(
            &[
                "incident",
                "report",
                &id,
                "--format",
                format,
                "--out",
                file.to_str().unwrap(),
            ],
            "",
        )
        .ok();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("no screenshots of settings") && text.contains(&a));
        for s in SECRETS {
            assert!(!text.contains(s), "{format} report holds a secret");
        }
    }
    let out = kw.run(&["incident", "list"], "");
    assert!(out.ok().stdout.contains("closed "));
    let out = kw.run(&["audit", "--json"], "");
    for action in ["incident.open", "incident.step", "incident.close"] {
        assert!(out.stdout.contains(action), "{action}");
    }
}
