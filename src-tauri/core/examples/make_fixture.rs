//! Writes a small vault for the migration tests:
//! `cargo run -p keyward-core --example make_fixture -- <dir>`.
//!
//! Run once per schema version and commit the result under
//! `src-tauri/core/tests/fixtures/vault-v<N>`; never regenerate an old one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use keyward_core::inventory::{self, Draft, SecretInput};
use keyward_core::{KdfParams, Origin, Passphrase, SecretValue, Vault, VaultDir};
use time::macros::datetime;

fn main() {
    let dir = std::env::args().nth(1).expect("usage: make_fixture <dir>");
    let dir = VaultDir::new(dir);
    let now = datetime!(2026-11-22 08:00 UTC);
    let mut vault = Vault::init(
        &dir,
        &Passphrase::new("fixture quartz harbour lantern 1".into()),
        KdfParams::insecure_for_tests(10).unwrap(),
        now,
        Origin::Test,
    )
    .unwrap();
    let secret = |f: &str, v: &[u8]| SecretInput {
        field: f.into(),
        value: SecretValue::from_slice(v),
    };
    let kraken = Draft {
        platform: Some("Kraken".into()),
        label: Some("grid bot".into()),
        permissions: Some(vec!["read".into(), "trade".into()]),
        ip_allowlist: Some(vec!["203.0.113.7".into()]),
        rotation_days: Some("90".into()),
        tags: Some(vec!["bot".into()]),
        ..Draft::default()
    };
    inventory::add(
        &mut vault,
        &kraken,
        vec![
            secret("api_key", b"fixture-kraken-key"),
            secret("api_secret", b"fixture-kraken-secret"),
        ],
        now,
    )
    .unwrap();
    let binance = Draft {
        platform: Some("Binance".into()),
        label: Some("spot market maker".into()),
        environment: Some("staging".into()),
        permissions: Some(vec!["read".into(), "trade".into(), "withdraw".into()]),
        ..Draft::default()
    };
    inventory::add(
        &mut vault,
        &binance,
        vec![secret("api_secret", b"fixture-binance-secret")],
        now,
    )
    .unwrap();
    vault.lock().unwrap();
    println!("wrote {}", dir.path().display());
}
