//! Crash safety of a new vault identity: a child process rekeys the vault
//! in a loop (a new recovery code every other time, a new passphrase every
//! third time) and is killed with SIGKILL at random moments, 40 times.
//! After each kill the vault must open — with the old passphrase or the new
//! one, never neither — pass its checks, hold every secret unchanged, and
//! leave no half-made files behind.
//!
//! This binary is its own child: `rekey_crash --child DIR` runs the loop.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::io::Write;
use std::time::Duration;

use keyward_core::inventory::{self, Draft, SecretInput, SecretUse};
use keyward_core::{audit, Origin, Passphrase, SecretValue, Vault, VaultDir};
use time::macros::datetime;
use time::OffsetDateTime;

const NOW: OffsetDateTime = datetime!(2026-11-22 08:00 UTC);
/// The child moves between these two passphrases.
const PASSES: [&str; 2] = [
    "crash test harbour quartz 99",
    "crash test lantern cobalt 17",
];
const KILLS: usize = 40;
const KEYS: usize = 5;

#[path = "support/kill_loop.rs"]
mod kill_loop;

use kill_loop::{kdf, random, run_and_kill};

fn main() {
    kill_loop::main(
        "rekey_kills_leave_a_vault_that_opens",
        |args| child(&args[0]),
        || format!("{KILLS} kills, {} rekeys completed", parent()),
    );
}

fn secret(n: usize) -> String {
    format!("rekey-crash-secret-{n}-Qz8")
}

/// Opens with whichever passphrase is current.
fn unlock(dir: &VaultDir) -> (Vault, usize) {
    let mut last = None;
    for (i, p) in PASSES.iter().enumerate() {
        match Vault::unlock(dir, &Passphrase::new((*p).into()), NOW, Origin::Test) {
            Ok(v) => return (v, i),
            Err(e) => last = Some(e),
        }
    }
    panic!("the vault opens with neither passphrase: {last:?}");
}

fn child(dir: &str) {
    let dir = VaultDir::new(dir);
    let (mut vault, mut current) = unlock(&dir);
    let mut out = std::io::stdout().lock();
    for n in 0u64.. {
        let pass = Passphrase::new(PASSES[current].into());
        let proof = vault.reauthenticate(&pass, NOW).unwrap();
        let next = if n % 3 == 2 { 1 - current } else { current };
        let new_pass = Passphrase::new(PASSES[next].into());
        let change = (next != current).then_some(&new_pass);
        let done = vault
            .rekey(proof, &pass, change, kdf(), n % 2 == 0, NOW)
            .unwrap();
        vault = done.vault;
        current = next;
        writeln!(out, "rekeyed {n}").unwrap();
        out.flush().unwrap();
    }
}

fn parent() -> usize {
    let tmp = tempfile::tempdir().unwrap();
    let dir = VaultDir::new(tmp.path().join("vault"));
    let mut vault = Vault::init(
        &dir,
        &Passphrase::new(PASSES[0].into()),
        kdf(),
        NOW,
        Origin::Test,
    )
    .unwrap();
    let mut ids = Vec::new();
    for n in 0..KEYS {
        let d = Draft {
            platform: Some("Kraken".into()),
            label: Some(format!("key {n}")),
            ..Draft::default()
        };
        let s = SecretInput {
            field: "api_secret".into(),
            value: SecretValue::new(secret(n).into_bytes()),
        };
        ids.push(inventory::add(&mut vault, &d, vec![s], NOW).unwrap().id);
    }
    vault.lock().unwrap();
    let mut completed = 0;
    for kill in 0..KILLS {
        let lines = run_and_kill(
            &[kill_loop::arg(dir.path())],
            Duration::from_millis(30 + random() % 570),
            &format!("kill {kill}"),
        );
        completed += lines.iter().filter(|l| l.starts_with("rekeyed ")).count();

        let (mut vault, _) = unlock(&dir);
        let report = vault.check().unwrap();
        assert!(report.is_ok(), "after kill {kill}: {report:?}");
        audit::verify(&vault).unwrap();
        for (n, id) in ids.iter().enumerate() {
            let v = inventory::take_secret(&mut vault, id, "api_secret", SecretUse::Reveal, NOW)
                .unwrap_or_else(|e| panic!("after kill {kill}: key {n}: {e}"));
            assert_eq!(v.expose(), secret(n).as_bytes(), "after kill {kill}");
        }
        vault.lock().unwrap();
        let leftovers: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            // Temporary files of other writes cut short are never read and
            // go when ten minutes old; a rekey's own leave nothing.
            .filter(|n| n.contains(".rekey"))
            .collect();
        assert!(leftovers.is_empty(), "after kill {kill}: {leftovers:?}");
    }
    // Rekeys were finished, so kills landed at every phase of later ones
    // (a loaded machine finishes fewer; a handful is enough).
    assert!(
        completed >= KILLS / 4,
        "the children finished too few rekeys to prove anything: {completed}"
    );
    completed
}
