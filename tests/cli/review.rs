//! Reviews: findings, a review from start to report, and who the reviewer is.

use std::process::Command;

use crate::common::*;

#[test]
fn findings_name_the_rule_severity_key_and_fix() {
    let kw = Kw::new();
    // Withdraw from anywhere, the same secret as a staging key.
    let risky = kw.run(
        &[
            "add",
            "--platform",
            "Binance",
            "--label",
            "sweeper",
            "--perm",
            "read,withdraw",
            "--rotate-days",
            "30",
            "--owner",
            "treasury",
            "--purpose",
            "sweep",
            "--secret",
            "api_secret",
        ],
        SECRETS[1],
    );
    let risky = risky.ok().stdout.trim().to_owned();
    kw.run(
        &[
            "add",
            "--platform",
            "Binance",
            "--label",
            "sweeper (staging)",
            "--env",
            "staging",
            "--perm",
            "read",
            "--ip",
            "203.0.113.7",
            "--secret",
            "api_secret",
        ],
        SECRETS[1],
    )
    .ok();
    let out = kw.run(&["findings", "--json"], "");
    let v: Vec<serde_json::Value> = serde_json::from_str(&out.ok().stdout).unwrap();
    let mut keys: Vec<&str> = v[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["fix", "key_id", "label", "message", "platform", "rule", "severity"]
    );
    let has = |rule: &str, sev: &str, key: &str| {
        v.iter()
            .any(|f| f["rule"] == rule && f["severity"] == sev && f["key_id"] == key)
    };
    assert!(has("permission.moves-funds", "critical", &risky), "{v:#?}");
    assert!(has("secret.reused", "critical", &risky), "{v:#?}");
    assert_eq!(v[0]["severity"], "critical", "worst first");
    let text = kw.run(&["findings"], "");
    let text = &text.ok().stdout;
    assert!(
        text.lines()
            .next()
            .unwrap()
            .starts_with("3 critical, 0 high, "),
        "{text}"
    );
    assert!(text.contains("can withdraw from any IP address"), "{text}");
    assert!(text.contains("fix: add an IP allowlist"), "{text}");
    // An empty vault has none.
    assert_eq!(
        Kw::new().run(&["findings"], "").ok().stdout.trim(),
        "no findings"
    );
}

#[test]
fn a_review_from_start_to_report_from_the_command_line() {
    let kw = Kw::new();
    let a = kw.add_kraken();
    let b = kw
        .run(
            &[
                "add",
                "--platform",
                "Binance",
                "--label",
                "treasury",
                "--perm",
                "read,withdraw",
                "--secret",
                "api_secret",
            ],
            SECRETS[1],
        )
        .ok()
        .stdout
        .trim()
        .to_owned();
    kw.run(&["review", "list"], "").ok();
    assert_eq!(
        kw.run(&["review", "list"], "").stdout.trim(),
        "no reviews yet"
    );
    kw.run(&["review", "start", "--reviewer", ""], "")
        .refused("reviewer: is required");
    // The reviewer defaults to the logged-in user: without USER or
    // LOGNAME (cron, systemd), the account's name from the user database.
    kw.run(&["review", "start", "--platform", "Nowhere"], "")
        .refused("scope: no live key matches");
    kw.run_env(
        &["review", "start", "--platform", "Nowhere"],
        &[("USER", Some("carol"))],
        "",
    )
    .refused("scope: no live key matches");
    let out = kw.run(&["review", "start", "--reviewer", "alice", "--json"], "");
    let r: serde_json::Value = serde_json::from_str(&out.ok().stdout).unwrap();
    assert_eq!(
        (r["reviewer"].as_str(), r["total"].as_u64()),
        (Some("alice"), Some(2))
    );
    let id = r["id"].as_str().unwrap().to_owned();
    kw.run(&["review", "start", "--reviewer", "bob"], "")
        .refused("is in progress");

    kw.run(
        &["review", "decide", &id[..8], &a, "--decision", "maybe"],
        "",
    )
    .usage_error();
    kw.run(
        &[
            "review",
            "decide",
            &id[..8],
            &a,
            "--decision",
            "keep",
            "--check",
            "still_needed=perhaps",
        ],
        "",
    )
    .refused("check: the answer must be yes or no");
    kw.run(
        &[
            "review",
            "decide",
            &id[..8],
            &a,
            "--decision",
            "keep",
            "--check",
            "colour=yes",
        ],
        "",
    )
    .refused("check: unknown check");
    let out = kw.run(
        &[
            "review",
            "decide",
            &id[..8],
            &a[..8],
            "--decision",
            "keep",
            "--note",
            "runs the grid",
            "--check",
            "still_needed=yes",
            "--check",
            "owner-correct=no",
        ],
        "",
    );
    assert_eq!(
        out.ok().stdout.trim(),
        "Kraken · grid bot: keep (1 of 2 decided)"
    );
    kw.run(&["review", "finish", &id], "")
        .refused("1 key(s) still undecided, the first is 'treasury'");
    kw.run(
        &[
            "review",
            "decide",
            &id,
            &b,
            "--decision",
            "revoke",
            "--note",
            "sweeps moved to custody",
        ],
        "",
    )
    .ok();
    let out = kw.run(&["review", "finish", &id], "");
    assert!(out
        .ok()
        .stdout
        .contains("keep 1, reduce 0, rotate 0, revoke 1; audit head "));

    let out = kw.run(&["review", "list", "--json"], "");
    let list: Vec<serde_json::Value> = serde_json::from_str(&out.ok().stdout).unwrap();
    assert!(list[0]["finished_at"].is_string());
    let head = list[0]["audit_head"].as_str().unwrap().to_owned();
    let out = kw.run(&["review", "followups"], "");
    assert!(
        out.ok().stdout.contains("revoke  Binance · treasury"),
        "{}",
        out.stdout
    );
    let out = kw.run(&["findings", "--json"], "");
    assert!(out.ok().stdout.contains("review.revoke"));

    // Reports: to stdout and to a file, holding every key and no secret.
    let dir = tempfile::tempdir().unwrap();
    for format in ["md", "csv", "html"] {
        let file = dir.path().join(format!("r.{format}"));
        let out = kw.run(
            &[
                "review",
                "report",
                &id[..8],
                "--format",
                format,
                "--out",
                file.to_str().unwrap(),
            ],
            "",
        );
        out.ok();
        let bytes = std::fs::read(&file).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let text = String::from_utf8_lossy(&bytes);
        for needle in [
            a.as_str(),
            b.as_str(),
            "alice",
            "runs the grid",
            head.as_str(),
        ] {
            assert!(text.contains(needle), "{format} lacks {needle}");
        }
        for s in SECRETS {
            assert!(!text.contains(s), "{format} report holds a secret");
        }
    }
    let out = kw.run(&["review", "report", &id, "--format", "md"], "");
    assert!(out
        .ok()
        .stdout
        .starts_with("# Access review: all live keys"));
    kw.run(&["review", "report", &id, "--format", "pdf"], "")
        .usage_error();
    kw.run(&["review", "decide", &id, &a, "--decision", "rotate"], "")
        .refused("finished and can only be read");

    // The follow-up settles by confirming the revoke.
    kw.run(&["review", "resolve", &b[..8]], "").ok();
    assert_eq!(
        kw.run(&["review", "followups"], "").ok().stdout.trim(),
        "no open follow-ups"
    );
    let out = kw.run(&["show", &b, "--json"], "");
    assert!(out.ok().stdout.contains("\"status\": \"revoked\""));
    let out = kw.run(&["audit", "--json"], "");
    let log = &out.ok().stdout;
    for action in ["review.start", "review.decide", "review.finish"] {
        assert!(log.contains(action), "{action}");
    }
}

#[test]
fn without_user_or_logname_the_reviewer_is_the_account_name() {
    let kw = Kw::new();
    kw.add_kraken();
    let account = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_owned();
    // `cmd` clears the environment: no USER, no LOGNAME, as under cron.
    let out = kw.run(&["review", "start", "--json"], "");
    let r: serde_json::Value = serde_json::from_str(&out.ok().stdout).unwrap();
    assert_eq!(r["reviewer"], account.as_str());
}
