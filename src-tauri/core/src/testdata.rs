//! Made-up keys for benchmarks and demo vaults: a realistic spread of
//! platforms, permissions, allowlists, environments and periods. One
//! generator, so every benchmark measures the same kind of vault. Not used
//! by the app or the CLI.

use crate::inventory::{Draft, SecretInput};
use crate::secret::SecretValue;

const PLATFORMS: [&str; 9] = [
    "Binance", "Coinbase", "Kraken", "OKX", "Bybit", "Bitstamp", "Gemini", "KuCoin", "Deribit",
];

/// When the made-up keys were created.
#[derive(Clone, Copy, Debug)]
pub enum Created {
    /// Spread over January–October 2026: with 30–90-day periods, most are
    /// due by late 2026 (the worst case for reminders and findings).
    Spread,
    /// Now: nothing due for weeks.
    Now,
}

/// Key number `i`: its metadata and two secret fields (`api_key`,
/// `api_secret`) of realistic lengths.
pub fn fake_key(i: usize, created: Created) -> (Draft, Vec<SecretInput>) {
    let perms: &[&str] = match i % 4 {
        0 => &["read"],
        1 => &["read", "trade"],
        2 => &["read", "trade", "futures"],
        _ => &["read", "withdraw"],
    };
    let draft = Draft {
        platform: Some(PLATFORMS[i % PLATFORMS.len()].into()),
        label: Some(format!(
            "{} bot {i}",
            ["grid", "arb", "mm", "treasury"][i % 4]
        )),
        account: Some(format!("sub-{}", i % 37)),
        environment: Some(["production", "staging", "development", "test"][i % 4].into()),
        owner: Some(format!("trader{}@desk", i % 12)),
        purpose: Some("automated strategy".into()),
        permissions: Some(perms.iter().map(|p| p.to_string()).collect()),
        ip_allowlist: Some(if i.is_multiple_of(3) {
            vec![]
        } else {
            vec![format!("203.0.113.{}", i % 250)]
        }),
        rotation_days: Some(["30", "60", "90"][i % 3].into()),
        created_at: match created {
            Created::Spread => Some(format!("2026-{:02}-{:02}", 1 + i % 10, 1 + i % 28)),
            Created::Now => None,
        },
        tags: Some(vec![format!("desk{}", i % 5), "bot".into()]),
        notes: Some(format!("note for key {i}: rotate with the ops runbook")),
        ..Draft::default()
    };
    let secrets = vec![
        SecretInput {
            field: "api_key".into(),
            value: SecretValue::new(format!("key-{i:08}-{}", "k".repeat(48)).into_bytes()),
        },
        SecretInput {
            field: "api_secret".into(),
            value: SecretValue::new(format!("secret-{i:08}-{}", "s".repeat(80)).into_bytes()),
        },
    ];
    (draft, secrets)
}
