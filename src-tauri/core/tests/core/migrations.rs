//! Every vault ever written must open in every later version. The fixture
//! under `tests/fixtures/vault-v1` was written by the first schema (see
//! `examples/make_fixture.rs`) and is kept forever.

use keyward_core::inventory::{self, SecretUse};
use keyward_core::vault::{Error, SCHEMA_VERSION};
use keyward_core::{audit, Origin, Passphrase, Vault, VaultDir};

use crate::common::NOW;

pub const FIXTURE_PASS: &str = "fixture quartz harbour lantern 1";

fn copy_fixture(name: &str) -> (tempfile::TempDir, VaultDir) {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let tmp = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), tmp.path().join(e.file_name())).unwrap();
    }
    let dir = VaultDir::new(tmp.path());
    (tmp, dir)
}

#[test]
fn a_vault_from_the_first_schema_opens_migrates_and_keeps_its_data() {
    let (_tmp, dir) = copy_fixture("vault-v1");
    let mut vault = Vault::unlock(
        &dir,
        &Passphrase::new(FIXTURE_PASS.into()),
        NOW,
        Origin::Test,
    )
    .unwrap();
    let version: u32 = vault
        .raw_connection()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let entries = inventory::list(&vault).unwrap();
    let labels: Vec<_> = entries.iter().map(|e| e.label.as_str()).collect();
    assert_eq!(labels, ["spot market maker", "grid bot"]);
    let grid = entries.iter().find(|e| e.label == "grid bot").unwrap();
    let v =
        inventory::take_secret(&mut vault, &grid.id, "api_secret", SecretUse::Reveal, NOW).unwrap();
    assert_eq!(v.expose(), b"fixture-kraken-secret");
    audit::verify(&vault).unwrap();
    assert!(vault.check().unwrap().is_ok());
}

#[test]
fn a_vault_from_a_newer_schema_is_refused_not_damaged() {
    let (_tmp, dir) = copy_fixture("vault-v1");
    let vault = Vault::unlock(
        &dir,
        &Passphrase::new(FIXTURE_PASS.into()),
        NOW,
        Origin::Test,
    )
    .unwrap();
    vault
        .raw_connection()
        .execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1))
        .unwrap();
    vault.lock().unwrap();
    let before = std::fs::read(dir.db_path()).unwrap();
    let err = Vault::unlock(
        &dir,
        &Passphrase::new(FIXTURE_PASS.into()),
        NOW,
        Origin::Test,
    )
    .unwrap_err();
    assert!(matches!(err, Error::NewerSchema { .. }), "{err}");
    assert_eq!(std::fs::read(dir.db_path()).unwrap(), before);
}
