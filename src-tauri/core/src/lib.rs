//! Keyward's core: the encrypted vault, the API key inventory and the audit
//! log, with no user interface and no wall clock.
//!
//! The desktop app and the CLI are thin adapters over this crate, so every
//! behaviour is tested once, here, against real SQLCipher files. Functions
//! that depend on time take `now`, so tests can travel in time. Nothing here
//! logs, prints or panics on input a user or a file controls; secrets live in
//! the redacting, zeroizing types of [`secret`].

// The modules in their layers, bottom to top: a module imports only from
// the layers below it (docs/architecture.md; checked by
// tests/core/layering.rs). The edges use the workflows and the inventory;
// the policy and the shared checks below them are this crate's own.

// L0: leaves.
pub(crate) mod field;
pub mod fsio;
pub mod platforms;
pub(crate) mod render;
pub mod secret;
pub mod timefmt;
// L1: the encrypted vault, with its audit log.
pub mod vault;
// L2: the data model and the settings.
pub mod key;
pub mod settings;
// L3: the due-date policy; what a review asked for.
pub(crate) mod due;
pub mod followup;
// L4: entries; who holds a key; leak copies kept.
pub mod copies;
pub(crate) mod hold;
pub mod inventory;
// L5: the one writer of a key's status.
pub mod lifecycle;
// L6: the findings.
pub mod findings;
// L7: the workflows.
pub mod backup;
pub mod incident;
pub mod interchange;
pub mod review;
pub mod rotation;
pub mod scan;
// L8: reminders.
pub mod reminder;

#[doc(hidden)]
pub mod testdata;

pub use field::FieldError;
pub use key::{Entry, Environment, Fields, Permission, Status};
#[doc(hidden)]
pub use rusqlite;
pub use secret::{Passphrase, SecretValue};
pub use vault::{audit, KdfParams, Origin, Vault, VaultDir};
