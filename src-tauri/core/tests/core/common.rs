//! Shared fixtures: a fresh vault in a temp dir, a fixed clock.

use keyward_core::inventory::{self, Draft, SecretInput};
use keyward_core::{KdfParams, Origin, Passphrase, SecretValue, Vault, VaultDir};
use tempfile::TempDir;
use time::macros::datetime;
use time::OffsetDateTime;

pub const NOW: OffsetDateTime = datetime!(2026-11-22 08:00 UTC);
pub const PASS: &str = "orbit lantern cobalt meadow 42";

pub fn pass() -> Passphrase {
    Passphrase::new(PASS.into())
}

/// Tests use a low scrypt work factor to stay fast; `init` never does by default.
pub fn kdf() -> KdfParams {
    KdfParams::insecure_for_tests(10).unwrap()
}

pub struct Fixture {
    /// Kept so the directory lives as long as the fixture.
    pub _tmp: TempDir,
    pub dir: VaultDir,
}

impl Fixture {
    pub fn new() -> (Fixture, Vault) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = VaultDir::new(tmp.path().join("vault"));
        let vault = Vault::init(&dir, &pass(), kdf(), NOW, Origin::Test).unwrap();
        (Fixture { _tmp: tmp, dir }, vault)
    }

    pub fn unlock(&self) -> Vault {
        Vault::unlock(&self.dir, &pass(), NOW, Origin::Test).unwrap()
    }
}

pub fn draft(platform: &str, label: &str) -> Draft {
    Draft {
        platform: Some(platform.into()),
        label: Some(label.into()),
        ..Draft::default()
    }
}

pub fn secret(field: &str, value: &[u8]) -> SecretInput {
    SecretInput {
        field: field.into(),
        value: SecretValue::from_slice(value),
    }
}

/// Adds a typical exchange key and returns its id.
pub fn add_key(vault: &mut Vault, platform: &str, label: &str, api_secret: &[u8]) -> String {
    let d = Draft {
        permissions: Some(vec!["read".into(), "trade".into()]),
        ip_allowlist: Some(vec!["203.0.113.7".into()]),
        rotation_days: Some("90".into()),
        ..draft(platform, label)
    };
    inventory::add(
        vault,
        &d,
        vec![
            secret("api_key", b"AKIA-public-part"),
            secret("api_secret", api_secret),
        ],
        NOW,
    )
    .unwrap()
    .id
}

/// Every file below `root`, with its bytes.
pub fn files_under(root: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p, bytes));
            }
        }
    }
    out
}

pub fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}
