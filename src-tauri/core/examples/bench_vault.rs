//! Makes a vault of N keys for command-line benchmarks, with a cheap KDF so
//! that timing a command measures everything but the passphrase work:
//!
//!   cargo run --release -p keyward-core --example bench_vault -- DIR 10000
//!
//! Passphrase: "bench harbour quartz lantern 5". Keys were created
//! January–October 2026 with 30–90-day periods, so most are due.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use keyward_core::inventory;
use keyward_core::testdata::{fake_key, Created};
use keyward_core::{KdfParams, Origin, Passphrase, Vault, VaultDir};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = VaultDir::new(args.next().expect("usage: bench_vault DIR N"));
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let now = time::OffsetDateTime::now_utc();
    let mut vault = Vault::init(
        &dir,
        &Passphrase::new("bench harbour quartz lantern 5".into()),
        KdfParams::insecure_for_tests(10).unwrap(),
        now,
        Origin::Test,
    )
    .unwrap();
    for i in 0..n {
        let (draft, secrets) = fake_key(i, Created::Spread);
        inventory::add(&mut vault, &draft, secrets, now).unwrap();
    }
    vault.lock().unwrap();
    eprintln!("made {n} keys in {}", dir.path().display());
}
