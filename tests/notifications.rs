//! Reminders reach a real notification daemon: `keyward remind --once`
//! under a private D-Bus session with Xvfb and dunst (started and stopped by
//! `scripts/with-desktop.sh`). `dunstctl history` shows what was sent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output};

const PASS: &str = "orbit lantern cobalt meadow 42";
const SECRET: &str = "kr4ken-s3cret-notify-Zq9";

#[path = "support/desktop.rs"]
mod desktop;

use desktop::in_desktop;

fn kw(args: &[&str], stdin: &str, locked: bool) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_keyward"));
    c.args(args)
        .env("KEYWARD_PASSPHRASE", PASS)
        .env("KEYWARD_INSECURE_TEST_KDF", "10")
        // Calendar days are counted in the user's zone: fix it.
        .env("TZ", "UTC")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if locked {
        c.env_remove("KEYWARD_PASSPHRASE");
    }
    let mut child = c.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "keyward {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// (summary, body) of every notification dunst has shown, oldest first.
fn history() -> Vec<(String, String)> {
    let close = Command::new("dunstctl").arg("close-all").status().unwrap();
    assert!(close.success());
    std::thread::sleep(std::time::Duration::from_millis(300));
    let out = Command::new("dunstctl").arg("history").output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut items: Vec<(i64, String, String)> = v["data"][0]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["id"]["data"].as_i64().unwrap_or(0),
                n["summary"]["data"].as_str().unwrap_or("").to_owned(),
                n["body"]["data"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    items.sort();
    items.into_iter().map(|(_, s, b)| (s, b)).collect()
}

fn days_ago(days: i64) -> String {
    let d = time::OffsetDateTime::now_utc() - time::Duration::days(days);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

#[test]
fn reminders_reach_the_desktop_once_and_name_no_key_while_locked() {
    if !in_desktop("reminders_reach_the_desktop_once_and_name_no_key_while_locked") {
        return;
    }
    kw(&["init"], "", false);
    let created = days_ago(27);
    kw(
        &[
            "add",
            "--platform",
            "Kraken",
            "--label",
            "grid-bot-5521",
            "--perm",
            "read,trade",
            "--ip",
            "203.0.113.7",
            "--rotate-days",
            "30",
            "--created",
            &created,
            "--secret",
            "api_secret",
        ],
        SECRET,
        false,
    );
    let before = history().len();

    let out = stdout(&kw(&["remind", "--once"], "", false));
    assert!(
        out.contains("sent: Rotate Kraken · grid-bot-5521 — due in 3 days"),
        "{out}"
    );
    let h = history();
    assert_eq!(h.len(), before + 1, "{h:?}");
    let (summary, body) = h.last().unwrap();
    assert_eq!(summary, "Rotate Kraken · grid-bot-5521");
    assert_eq!(body, "due in 3 days (30-day rotation period)");

    // Sent once: a second run sends nothing.
    let out = stdout(&kw(&["remind", "--once"], "", false));
    assert_eq!(out.trim(), "nothing to send");
    assert_eq!(history().len(), before + 1);

    // Locked: the schedule beside the vault knows times and counts only.
    // Move its next event into the past, as time passing would.
    let vault = std::env::var("KEYWARD_VAULT").unwrap();
    let path = Path::new(&vault).join("reminders.json");
    let mut s: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let text = s.to_string();
    assert!(
        !text.contains("grid-bot") && !text.contains("Kraken"),
        "{text}"
    );
    let past = time::OffsetDateTime::now_utc() - time::Duration::minutes(1);
    s["events"] = serde_json::json!([{
        "at": past.format(&time::format_description::well_known::Rfc3339).unwrap(),
        "keys": 2
    }]);
    std::fs::write(&path, serde_json::to_vec(&s).unwrap()).unwrap();
    let out = stdout(&kw(&["remind", "--once"], "", true));
    assert!(
        out.contains("sent: 2 API keys are due for rotation"),
        "{out}"
    );
    let h = history();
    assert_eq!(h.len(), before + 2);
    let (summary, body) = h.last().unwrap();
    assert_eq!(summary, "Keyward");
    assert_eq!(
        body,
        "2 API keys are due for rotation — unlock Keyward to see which"
    );
    let out = stdout(&kw(&["remind", "--once"], "", true));
    assert_eq!(out.trim(), "nothing to send");
    assert_eq!(history().len(), before + 2);

    // Nothing shown anywhere held the secret.
    for (s, b) in history() {
        assert!(!s.contains(SECRET) && !b.contains(SECRET));
    }
}
