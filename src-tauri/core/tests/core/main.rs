//! Integration tests of keyward-core against real SQLCipher files.
//! One binary, themed modules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit_log;
mod backup;
mod common;
mod incident;
mod inventory_ops;
mod layering;
mod leak_copies;
mod migrations;
mod on_disk;
mod reauth;
mod recovery;
mod rekey;
mod review;
mod rotation;
mod tamper;
mod validation;
mod vault_lifecycle;
