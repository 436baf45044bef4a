//! Keyward's core: the encrypted vault, the API key inventory and the audit
//! log, with no user interface and no wall clock.
//!
//! The desktop app and the CLI are thin adapters over this crate, so every
//! behaviour is tested once, here, against real SQLCipher files. Functions
//! that depend on time take `now`, so tests can travel in time. Nothing here
//! logs, prints or panics on input a user or a file controls; secrets live in
//! the redacting, zeroizing types of [`secret`].

pub mod backup;
pub mod copies;
pub mod due;
pub mod field;
pub mod findings;
pub mod followup;
pub mod fsio;
pub mod hold;
pub mod incident;
pub mod interchange;
pub mod inventory;
pub mod key;
pub mod lifecycle;
pub mod platforms;
pub mod reminder;
pub mod render;
pub mod review;
pub mod rotation;
pub mod scan;
pub mod secret;
pub mod settings;
#[doc(hidden)]
pub mod testdata;
pub mod timefmt;
pub mod vault;

#[doc(hidden)]
pub use rusqlite;
pub use secret::{Passphrase, SecretValue};
pub use vault::{audit, KdfParams, Origin, Vault, VaultDir};
