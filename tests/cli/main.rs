//! The CLI contract, as transcripts: each test runs the real `keyward`
//! binary against a real vault in a temp dir and checks exit status, stdout
//! and stderr. Secrets go in on stdin only; no output but `reveal` may hold one.
//! One binary, themed modules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit;
mod backup;
mod common;
mod import_export;
mod incident;
mod inventory;
mod review;
mod rotation;
mod safety;
mod scan;
mod vault;
