//! CSV export, and imports from CSV, KeePassXC and Bitwarden files,
//! hostile ones included.

use crate::common::*;

#[test]
fn csv_export_neutralises_formulas_and_round_trips_into_another_vault() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    kw.run(
        &[
            "add",
            "--platform",
            "Binance",
            "--label",
            "=HYPERLINK(\"http://x\")",
            "--perm",
            "read,withdraw",
            "--ip",
            "203.0.113.0/24,198.51.100.7",
            "--tag",
            "desk,-sweep",
            "--owner",
            "@treasury",
            "--secret",
            "api_secret",
        ],
        SECRETS[3],
    )
    .ok();
    let out = kw.run(&["export", "--format", "csv"], "");
    let csv = out.ok().stdout.clone();
    assert!(
        csv.starts_with(
            "id,platform,account,label,environment,owner,purpose,permissions,ip_allowlist,"
        ),
        "{csv}"
    );
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{csv}");
    assert!(csv.contains(",'@treasury,"), "{csv}");
    assert!(
        csv.contains("desk;-sweep"),
        "a list cell is neutralised only at its start"
    );
    assert!(csv.contains(&id) && csv.contains("api_key;api_secret"));
    for s in SECRETS {
        assert!(!csv.contains(s), "a secret in the export");
    }
    let file = kw._tmp.path().join("keys.csv");
    std::fs::write(&file, &csv).unwrap();

    let other = Kw::new();
    let f = file.to_str().unwrap();
    let out = other.run(&["import", f, "--format", "csv", "--dry-run"], "");
    assert!(
        out.ok()
            .stdout
            .contains("2 to import, 0 rejected (dry run: nothing written)"),
        "{}",
        out.stdout
    );
    assert!(other.list_json().is_empty(), "a dry run writes nothing");
    let out = other.run(&["import", f, "--format", "csv"], "");
    assert_eq!(out.ok().stdout.trim(), "imported 2 key(s)");
    let list = other.list_json();
    let b = list.iter().find(|e| e["platform"] == "Binance").unwrap();
    assert_eq!(
        b["label"], "=HYPERLINK(\"http://x\")",
        "the guard is undone on import"
    );
    assert_eq!(b["owner"], "@treasury");
    assert_eq!(
        b["ip_allowlist"],
        serde_json::json!(["203.0.113.0/24", "198.51.100.7"])
    );
    assert_eq!(b["tags"], serde_json::json!(["desk", "-sweep"]));
    assert_eq!(b["permissions"], serde_json::json!(["read", "withdraw"]));
    assert_eq!(
        b["secret_fields"],
        serde_json::json!([]),
        "CSV carries no secrets"
    );
}

#[test]
fn keepassxc_and_bitwarden_exports_import_with_their_secrets_sealed() {
    let kw = Kw::new();
    let kp = kw._tmp.path().join("keepassxc.csv");
    std::fs::write(
        &kp,
        "\"Group\",\"Title\",\"Username\",\"Password\",\"URL\",\"Notes\",\"TOTP\",\"Icon\",\"Last Modified\",\"Created\"\n\
         \"Root/Exchanges\",\"spot bot\",\"kp-key-1\",\"kp-secret-Q1w2\",\"https://www.binance.com/en/my/settings/api-management\",\"main desk\",\"\",\"0\",\"2024-01-05T10:00:00Z\",\"2024-01-05T10:00:00Z\"\n\
         \"Root/Kraken\",\"grid\",\"kp-key-2\",\"kp-secret-E3r4\",\"\",\"\",\"\",\"0\",\"\",\"\"\n\
         \"Root\",\"empty one\",\"\",\"\",\"\",\"\",\"\",\"0\",\"\",\"\"\n\
         \"Root\",\"\",\"u\",\"p-no-title\",\"\",\"\",\"\",\"0\",\"\",\"\"\n",
    )
    .unwrap();
    let f = kp.to_str().unwrap();
    let out = kw.run(&["import", f, "--format", "keepassxc-csv", "--dry-run"], "");
    let text = &out.ok().stdout;
    assert!(
        text.contains("import  Binance · spot bot  [api_key, api_secret]"),
        "{text}"
    );
    assert!(text.contains("import  Kraken · grid"), "{text}");
    assert!(text.contains("REJECT  no username or password"), "{text}");
    assert!(text.contains("REJECT  label: is required"), "{text}");
    assert!(
        !text.contains("kp-secret"),
        "a dry run shows names, never values"
    );
    kw.run(&["import", f, "--format", "keepassxc-csv"], "")
        .refused("import: 2 row(s) rejected");
    assert!(kw.list_json().is_empty(), "a refused import writes nothing");
    let out = kw.run(
        &["import", f, "--format", "keepassxc-csv", "--skip-invalid"],
        "",
    );
    assert_eq!(out.ok().stdout.trim(), "imported 2 key(s)");
    let list = kw.list_json();
    let spot = list.iter().find(|e| e["label"] == "spot bot").unwrap();
    assert_eq!(spot["notes"], "main desk");
    let out = kw.run(&["reveal", spot["id"].as_str().unwrap(), "api_secret"], "");
    assert_eq!(out.ok().stdout, "kp-secret-Q1w2");

    let bw = kw._tmp.path().join("bitwarden.json");
    std::fs::write(
        &bw,
        r#"{"encrypted": false, "folders": [{"id": "f1", "name": "OKX"}],
            "items": [{"type": 1, "name": "hedge", "folderId": "f1", "notes": null,
                       "login": {"username": "bw-key", "password": "bw-secret-T5y6", "uris": []},
                       "fields": [{"name": "Passphrase", "value": "bw-pass-U7i8", "type": 1}]},
                      {"type": 2, "name": "a note", "notes": "hello"}]}"#,
    )
    .unwrap();
    let out = kw.run(
        &[
            "import",
            bw.to_str().unwrap(),
            "--format",
            "bitwarden-json",
            "--skip-invalid",
        ],
        "",
    );
    assert_eq!(out.ok().stdout.trim(), "imported 1 key(s)");
    let list = kw.list_json();
    let hedge = list.iter().find(|e| e["label"] == "hedge").unwrap();
    assert_eq!(hedge["platform"], "OKX");
    assert_eq!(
        hedge["secret_fields"],
        serde_json::json!(["api_key", "api_secret", "passphrase"])
    );
    let out = kw.run(&["reveal", hedge["id"].as_str().unwrap(), "passphrase"], "");
    assert_eq!(out.ok().stdout, "bw-pass-U7i8");
    std::fs::write(&bw, r#"{"encrypted": true, "data": "…"}"#).unwrap();
    kw.run(
        &["import", bw.to_str().unwrap(), "--format", "bitwarden-json"],
        "",
    )
    .refused("file: an encrypted Bitwarden export");
    let out = kw.run(&["audit", "--json"], "");
    assert!(out.ok().stdout.contains("entry.import"));
}

#[test]
fn hostile_import_files_get_one_clear_line_and_change_nothing() {
    let kw = Kw::new();
    let file = kw._tmp.path().join("hostile");
    let f = file.to_str().unwrap();
    let try_it = |bytes: &[u8], format: &str, want: &str| {
        std::fs::write(&file, bytes).unwrap();
        let out = kw.run(&["import", f, "--format", format], "");
        out.refused(want);
        for secret in SECRETS {
            assert!(!out.stderr.contains(secret), "{}", out.stderr);
        }
        assert!(kw.list_json().is_empty());
    };
    try_it(
        b"platform,label\nKraken,caf\xe9\n",
        "csv",
        "file: not UTF-8 text (line 2)",
    );
    try_it(
        b"platform,label,password\nKraken,bot,x\n",
        "csv",
        "file: column 'password' is not a Keyward column",
    );
    try_it(b"label\nbot\n", "csv", "file: no 'platform' column");
    // No header row: the first line's cells are never echoed (one may be
    // a secret).
    try_it(
        format!("Kraken,bot,{}\n", SECRETS[1]).as_bytes(),
        "csv",
        "file: column 1 of the first line is not a Keyward column name",
    );
    try_it(b"{not json", "bitwarden-json", "file: not JSON");
    try_it(
        b"{\"items\": 3}",
        "bitwarden-json",
        "file: not a Bitwarden export",
    );
    try_it(
        b"Title,Notes\nx,y\n",
        "keepassxc-csv",
        "file: not a KeePassXC CSV export",
    );
    let mut big = b"platform,label\n".to_vec();
    for i in 0..20_001 {
        big.extend_from_slice(format!("Kraken,bot {i}\n").as_bytes());
    }
    try_it(&big, "csv", "file: more than 20000 rows; split it");
    let long = format!(
        "platform,label,notes\nKraken,bot,{}\nKraken,ok,\"=1+2\"\n",
        "x".repeat(70_000)
    );
    std::fs::write(&file, long).unwrap();
    let out = kw.run(&["import", f, "--format", "csv", "--dry-run"], "");
    assert!(
        out.ok()
            .stdout
            .contains("REJECT  a cell is longer than 64 KiB"),
        "{}",
        out.stdout
    );
    kw.run(&["import", f, "--format", "csv", "--skip-invalid"], "")
        .ok();
    let list = kw.list_json();
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0]["notes"], "=1+2",
        "a formula is kept as text, never run"
    );
    kw.run(&["import", "/nonexistent/file.csv", "--format", "csv"], "")
        .refused("file: cannot read /nonexistent/file.csv");
}
