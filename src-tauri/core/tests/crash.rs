//! Crash safety: a child process adds and edits keys in a loop and is killed
//! with SIGKILL at random moments, 60 times. After each kill the vault must
//! open, pass SQLCipher's and SQLite's integrity checks and the audit chain,
//! and hold every change the child reported as done.
//!
//! This binary is its own child: `crash --child DIR SEED` runs the loop.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use keyward_core::inventory::{self, Draft, SecretInput, SecretUse};
use keyward_core::{audit, Origin, Passphrase, SecretValue, Vault, VaultDir};
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2026-11-22 08:00 UTC);
const PASS: &str = "crash test harbour quartz 99";
const KILLS: usize = 60;

#[path = "support/kill_loop.rs"]
mod kill_loop;

use kill_loop::{kdf, random, run_and_kill};

fn main() {
    kill_loop::main(
        "crash_kills_lose_nothing_reported",
        |args| child(&args[0], args[1].parse().unwrap()),
        || format!("{KILLS} kills, {} changes reported and found", parent()),
    );
}

fn child(dir: &str, seed: u64) {
    let dir = VaultDir::new(dir);
    let mut vault = Vault::unlock(&dir, &Passphrase::new(PASS.into()), NOW, Origin::Test).unwrap();
    let mut out = std::io::stdout().lock();
    let mut ids: Vec<String> = Vec::new();
    for n in 0u64.. {
        if n % 3 == 2 && !ids.is_empty() {
            let id = ids[(n as usize * 7) % ids.len()].clone();
            let d = Draft {
                notes: Some(format!("edit {seed} {n}")),
                ..Draft::default()
            };
            let changes = inventory::SecretChanges {
                set: vec![SecretInput {
                    field: "api_secret".into(),
                    value: SecretValue::new(format!("secret {seed} {n}").into_bytes()),
                }],
                remove: vec![],
            };
            inventory::edit(&mut vault, &id, &d, changes, NOW).unwrap();
            writeln!(out, "edited {id} {n}").unwrap();
        } else {
            let d = Draft {
                platform: Some("Kraken".into()),
                label: Some(format!("crash {seed} {n}")),
                notes: Some(format!("edit {seed} {n}")),
                ..Draft::default()
            };
            let secret = SecretInput {
                field: "api_secret".into(),
                value: SecretValue::new(format!("secret {seed} {n}").into_bytes()),
            };
            let e = inventory::add(&mut vault, &d, vec![secret], NOW).unwrap();
            writeln!(out, "added {} {n}", e.id).unwrap();
            ids.push(e.id);
        }
        out.flush().unwrap();
    }
}

/// What the children reported: for each id, the seed and number of its
/// latest reported change.
type Reported = HashMap<String, (u64, u64)>;

fn parent() -> usize {
    let tmp = tempfile::tempdir().unwrap();
    let dir = VaultDir::new(tmp.path().join("vault"));
    Vault::init(
        &dir,
        &Passphrase::new(PASS.into()),
        kdf(),
        NOW,
        Origin::Test,
    )
    .unwrap()
    .lock()
    .unwrap();
    let mut reported: Reported = HashMap::new();
    let mut total = 0;
    for seed in 0..KILLS as u64 {
        // Anywhere from mid-unlock to a few dozen writes in.
        let lines = run_and_kill(
            &[kill_loop::arg(dir.path()), &seed.to_string()],
            Duration::from_millis(5 + random() % 150),
            &format!("seed {seed}"),
        );
        for line in lines {
            let parts: Vec<&str> = line.split(' ').collect();
            // A line cut by the kill is not a report.
            if let [_, id, n] = parts[..] {
                if let Ok(n) = n.parse::<u64>() {
                    reported.insert(id.to_owned(), (seed, n));
                    total += 1;
                }
            }
        }
        verify(&dir, &reported, seed);
    }
    assert!(
        total > KILLS,
        "the children reported too little work to prove anything: {total}"
    );
    total
}

fn verify(dir: &VaultDir, reported: &Reported, seed: u64) {
    let mut vault = Vault::unlock(dir, &Passphrase::new(PASS.into()), NOW, Origin::Test)
        .unwrap_or_else(|e| panic!("after kill {seed}: the vault does not open: {e}"));
    let report = vault.check().unwrap();
    assert!(report.is_ok(), "after kill {seed}: {report:?}");
    audit::verify(&vault).unwrap();
    let entries: HashMap<String, inventory::Entry> = inventory::list(&vault)
        .unwrap()
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect();
    for (id, &(s, n)) in reported {
        let e = entries
            .get(id)
            .unwrap_or_else(|| panic!("after kill {seed}: reported key {id} is missing"));
        // The stored change is the reported one or a later one that
        // committed before its report could be written.
        let notes = e.notes.as_deref().unwrap();
        let mut it = notes.split(' ').skip(1).map(|x| x.parse::<u64>().unwrap());
        let (ss, sn) = (it.next().unwrap(), it.next().unwrap());
        assert!(
            (ss, sn) >= (s, n),
            "after kill {seed}: {id} holds change {ss}/{sn}, reported {s}/{n}"
        );
        if ss != seed {
            continue; // checked after an earlier kill and untouched since
        }
        let secret =
            inventory::take_secret(&mut vault, id, "api_secret", SecretUse::Reveal, NOW).unwrap();
        assert_eq!(
            secret.expose(),
            format!("secret {ss} {sn}").as_bytes(),
            "metadata and secret committed together"
        );
    }
    vault.lock().unwrap();
}
