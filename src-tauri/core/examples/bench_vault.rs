//! Makes a vault of N keys for command-line benchmarks, with a cheap KDF so
//! that timing a command measures everything but the passphrase work:
//!
//!   cargo run --release -p keyward-core --example bench_vault -- DIR 10000
//!
//! Passphrase: "bench harbour quartz lantern 5". Keys were created
//! January–October 2026 with 30–90-day periods, so most are due.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use keyward_core::inventory::{self, Draft, SecretInput};
use keyward_core::{KdfParams, Origin, Passphrase, SecretValue, Vault, VaultDir};

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
    let platforms = [
        "Binance", "Coinbase", "Kraken", "OKX", "Bybit", "Gemini", "KuCoin", "Deribit",
    ];
    for i in 0..n {
        let perms: &[&str] = match i % 4 {
            0 => &["read"],
            1 => &["read", "trade"],
            2 => &["read", "trade", "futures"],
            _ => &["read", "withdraw"],
        };
        let d = Draft {
            platform: Some(platforms[i % platforms.len()].into()),
            label: Some(format!(
                "{} bot {i}",
                ["grid", "arb", "mm", "treasury"][i % 4]
            )),
            permissions: Some(perms.iter().map(|p| p.to_string()).collect()),
            ip_allowlist: Some(if i % 3 == 0 {
                vec![]
            } else {
                vec![format!("203.0.113.{}", i % 250)]
            }),
            rotation_days: Some(["30", "60", "90"][i % 3].into()),
            created_at: Some(format!("2026-{:02}-{:02}", 1 + i % 10, 1 + i % 28)),
            ..Draft::default()
        };
        let secrets = vec![SecretInput {
            field: "api_secret".into(),
            value: SecretValue::new(format!("bench-secret-{i}").into_bytes()),
        }];
        inventory::add(&mut vault, &d, secrets, now).unwrap();
    }
    vault.lock().unwrap();
    eprintln!("made {n} keys in {}", dir.path().display());
}
