//! Backups: readable by the standard `age` tool, restorable into a new
//! vault, and refusing secret keys given as recipients.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::common::*;

/// Runs `age -d` as a user without Keyward would: on a terminal (age reads
/// a passphrase only from one), through `script`'s pseudo-terminal.
fn age_decrypt(file: &std::path::Path, out: &std::path::Path, passphrase: &str) -> bool {
    let cmd = format!("age -d -o '{}' '{}'", out.display(), file.display());
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("script (bsdutils) and age are installed by scripts/bootstrap");
    // age asks once it has read the header: give it the line when it does.
    std::thread::sleep(std::time::Duration::from_millis(300));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{passphrase}\n").as_bytes())
        .unwrap();
    child.wait().unwrap().success() && out.exists()
}

#[test]
fn a_backup_opens_with_the_standard_age_tool_and_restores_into_a_new_vault() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    let bpass = "harbour violet engine 73 quartz";
    let file = kw._tmp.path().join("keyward-backup.age");
    let f = file.to_str().unwrap();
    let env = [("KEYWARD_BACKUP_PASSPHRASE", Some(bpass))];
    kw.run(&["backup"], "").refused("out: give --out FILE");
    kw.run_env(
        &["backup", "--out", f],
        &[("KEYWARD_BACKUP_PASSPHRASE", Some("hunter2"))],
        "",
    )
    .refused("passphrase: too weak");
    let out = kw.run_env(&["backup", "--out", f], &env, "");
    assert!(out.ok().stdout.starts_with(&format!(
        "backup written to {f}: 1 key(s), 2 secret field(s)"
    )));
    kw.run_env(&["backup", "--out", f], &env, "")
        .refused("exists; pass --force");

    // The standard tool opens it: the document holds the secrets, in clear.
    let plain = kw._tmp.path().join("plain.json");
    assert!(age_decrypt(&file, &plain, bpass), "age -d failed");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&plain).unwrap()).unwrap();
    assert_eq!(doc["format"], "keyward-backup");
    assert_eq!(doc["tables"]["entries"][0]["id"], id.as_str());
    let values: Vec<&str> = doc["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["value"].as_str())
        .collect();
    assert!(
        values.contains(&SECRETS[0]) && values.contains(&SECRETS[1]),
        "{values:?}"
    );

    let out = kw.run_env(&["backup", "verify", f], &env, "");
    assert!(out
        .ok()
        .stdout
        .starts_with("backup ok: 1 key(s), 2 secret field(s), 0 review(s), 0 incident(s)"));
    kw.run_env(
        &["backup", "verify", f],
        &[("KEYWARD_BACKUP_PASSPHRASE", Some("wrong"))],
        "",
    )
    .refused("backup: wrong passphrase or identity");
    let bytes = std::fs::read(&file).unwrap();
    let cut = kw._tmp.path().join("cut.age");
    std::fs::write(&cut, &bytes[..bytes.len() - 40]).unwrap();
    kw.run_env(&["backup", "verify", cut.to_str().unwrap()], &env, "")
        .refused("backup: the file is damaged or truncated");

    // Restore: into a new vault only, with a new passphrase.
    kw.run_env(&["restore", f], &env, "")
        .refused("a vault already exists");
    let fresh = kw._tmp.path().join("restored");
    let fresh_s = fresh.to_str().unwrap();
    let out = kw.run_env(&["--vault", fresh_s, "restore", f], &env, "");
    assert!(out
        .ok()
        .stdout
        .starts_with(&format!("restored into {fresh_s}: 1 key(s)")));
    let out = kw.run(&["--vault", fresh_s, "reveal", &id, "api_secret"], "");
    assert_eq!(out.ok().stdout, SECRETS[1]);
    let out = kw.run(&["--vault", fresh_s, "audit", "--json"], "");
    assert!(out.ok().stdout.contains("backup.restore"));
    kw.run(&["--vault", fresh_s, "check"], "").ok();

    // To an age recipient: opens with the identity file, by age and by Keyward.
    let keyfile = kw._tmp.path().join("me.txt");
    let gen = Command::new("age-keygen")
        .args(["-o", keyfile.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(gen.status.success());
    let text = std::fs::read_to_string(&keyfile).unwrap();
    let public = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_owned();
    let file2 = kw._tmp.path().join("to-me.age");
    let f2 = file2.to_str().unwrap();
    kw.run(&["backup", "--out", f2, "--recipient", "age1nope"], "")
        .refused("recipient 1: not an age public key (age1…)");
    kw.run(&["backup", "--out", f2, "--recipient", &public], "")
        .ok();
    let age = Command::new("age")
        .args(["-d", "-i", keyfile.to_str().unwrap(), f2])
        .output()
        .unwrap();
    assert!(age.status.success());
    assert!(String::from_utf8_lossy(&age.stdout).contains(SECRETS[1]));
    kw.run_env(&["backup", "verify", f2], &env, "")
        .refused("give --identity FILE");
    let out = kw.run(
        &[
            "backup",
            "verify",
            f2,
            "--identity",
            keyfile.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.ok().stdout.starts_with("backup ok: 1 key(s)"));
    // Automatic backups are off until the settings say otherwise.
    let out = kw.run(&["backup", "--auto"], "");
    assert_eq!(out.ok().stdout.trim(), "no automatic backup due");
    kw.run(&["backup", "--auto", "--out", f], "").usage_error();
}

#[test]
fn a_secret_key_given_as_a_recipient_is_never_echoed() {
    let kw = Kw::new();
    let secret = "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS";
    let out_file = kw._tmp.path().join("b.age");
    let out = kw.run(
        &[
            "backup",
            "--out",
            out_file.to_str().unwrap(),
            "--recipient",
            secret,
        ],
        "",
    );
    out.refused("recipient 1: that is an age secret key");
    assert!(!out.stderr.contains(&secret[16..40]), "{}", out.stderr);
    assert!(!out_file.exists());
}
