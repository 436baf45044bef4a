//! The audit log: every action and export recorded, the chain verified,
//! its head proven and a rollback refused.

use crate::common::*;

#[test]
fn audit_lists_every_action_and_verifies_the_chain() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    kw.run(&["edit", &id, "--owner", "bob"], "").ok();
    kw.run(&["set-status", &id, "suspended"], "").ok();
    kw.run(&["delete", &id], "").ok();
    let out = kw.run(&["audit", "--json"], "");
    out.ok();
    let log: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    let actions: Vec<&str> = log.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| !a.starts_with("vault.unlock"))
            .copied()
            .collect::<Vec<_>>(),
        [
            "vault.init",
            "entry.create",
            "entry.edit",
            "entry.status",
            "entry.delete"
        ]
    );
    for (i, r) in log.iter().enumerate() {
        assert_eq!(r["seq"], i as u64 + 1);
        assert_eq!(r["hash"].as_str().unwrap().len(), 64);
    }
    let human = kw.run(&["audit"], "");
    human.ok();
    assert!(human.stdout.contains("entry.status"));
    let v = kw.run(&["audit", "--verify"], "");
    v.ok();
    assert!(v.stdout.starts_with("audit log: ") && v.stdout.contains("chain intact"));
    let c = kw.run(&["check"], "");
    c.ok();
    assert!(c.stdout.starts_with("vault ok"));
}

#[test]
fn every_export_is_audited() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    kw.run(&["export", "--format", "csv"], "").ok();
    let out = kw.run(
        &[
            "incident",
            "open",
            &id,
            "--suspected-at",
            &days_ago(2),
            "--json",
        ],
        "",
    );
    let i: serde_json::Value = serde_json::from_str(&out.ok().stdout).unwrap();
    let inc = i["id"].as_str().unwrap().to_owned();
    kw.run(&["incident", "report", &inc, "--format", "md"], "")
        .ok();
    kw.run(&["incident", "summary", &inc], "").ok();
    let log = kw.run(&["audit", "--json"], "");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&log.ok().stdout).unwrap();
    let count = |a: &str| rows.iter().filter(|r| r["action"] == a).count();
    assert_eq!(count("inventory.export"), 1);
    assert_eq!(count("incident.export"), 2, "the report and the summary");
    let formats: Vec<&str> = rows
        .iter()
        .filter(|r| r["action"] == "incident.export")
        .map(|r| r["detail"]["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["md", "summary"]);
}

#[test]
fn the_audit_head_is_printed_and_proven_and_a_rollback_is_refused() {
    let kw = Kw::new();
    kw.add_kraken();
    let head = kw
        .run(&["audit", "--head"], "")
        .ok()
        .stdout
        .trim()
        .to_owned();
    let (seq, hash) = head.split_once(':').unwrap();
    assert!(seq.parse::<u64>().is_ok() && hash.len() == 64, "{head}");
    kw.run(&["audit", "--verify", "--expect", "12:xyz"], "")
        .refused("head: expected SEQ:HASH");
    kw.run(&["audit", "--expect", &head], "").usage_error();
    let out = kw.run(&["audit", "--verify", "--expect", &head, "--json"], "");
    let v: serde_json::Value = serde_json::from_str(&out.ok().stdout).unwrap();
    assert_eq!(v["holds"], head.as_str());
    // vault.db put back alone (an older copy): refused at unlock, named.
    let db = kw.vault.join("vault.db");
    let old_db = std::fs::read(&db).unwrap();
    kw.add_kraken();
    std::fs::write(&db, &old_db).unwrap();
    kw.run(&["list"], "")
        .refused("vault.db was rolled back or replaced: its audit log is shorter");
    // Kept on purpose: accepted, recorded, and the old head still holds.
    let out = kw.run(&["audit", "--accept-rollback"], "");
    assert!(
        out.ok().stdout.starts_with("accepted and recorded"),
        "{}",
        out.stdout
    );
    kw.run(&["list"], "").ok();
    let log = kw.run(&["audit", "--json"], "");
    assert!(log.ok().stdout.contains("audit.rollback_accepted"));
    kw.run(&["audit", "--verify", "--expect", &head], "").ok();
    // A head the log never had.
    let other = format!("{seq}:{}", "0".repeat(64));
    kw.run(&["audit", "--verify", "--expect", &other], "")
        .refused("rolled back or rewritten");
}
