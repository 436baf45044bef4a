//! The one error that crosses IPC: `{ code, message, fields }`.
//!
//! A small closed set of codes the UI branches on; the message is one line
//! for people; `fields` carries validation errors so the form can show each
//! next to its field. Nothing here carries a value the user typed into a
//! secret field. A wrong passphrase says only that; a `vault.key` that is
//! damaged, replaced by something else or demands too much work says so
//! (code `damaged`): hiding tampering behind "wrong passphrase" would send
//! the user retyping a right passphrase.

use keyward_core::inventory::{self, FieldError};
use keyward_core::{settings, vault};
use serde::Serialize;
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(rename_all = "snake_case")]
pub enum ErrorCode {
    WrongPassphrase,
    WeakPassphrase,
    Locked,
    Invalid,
    NotFound,
    NoVault,
    AlreadyExists,
    /// The entry list the UI holds is older than the session's.
    Stale,
    Damaged,
    Busy,
    Clipboard,
    /// A copy the user says is dealt with is still in its file.
    StillThere,
    Internal,
}

#[derive(Debug, Clone, Serialize, TS)]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
    pub fields: Vec<FieldError>,
}

pub type IpcResult<T> = Result<T, IpcError>;

impl IpcError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        IpcError {
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn locked() -> Self {
        IpcError::new(ErrorCode::Locked, "the vault is locked")
    }

    pub fn invalid(fields: Vec<FieldError>) -> Self {
        let message = fields
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        IpcError {
            code: ErrorCode::Invalid,
            message,
            fields,
        }
    }
}

impl From<vault::Error> for IpcError {
    fn from(e: vault::Error) -> Self {
        use vault::Error as E;
        let code = match &e {
            E::WrongPassphrase => {
                return IpcError::new(ErrorCode::WrongPassphrase, "wrong passphrase")
            }
            E::KeyFileDamaged | E::ExcessiveWork { .. } => ErrorCode::Damaged,
            E::WeakPassphrase { reason } => {
                return IpcError {
                    code: ErrorCode::WeakPassphrase,
                    message: e.to_string(),
                    fields: vec![FieldError {
                        field: "passphrase",
                        reason: format!("too weak: {reason}"),
                    }],
                }
            }
            E::PassphraseMismatch => {
                return IpcError {
                    code: ErrorCode::Invalid,
                    message: e.to_string(),
                    fields: vec![FieldError {
                        field: "confirm",
                        reason: "the two entries do not match".into(),
                    }],
                }
            }
            E::WrongRecoveryCode | E::BadRecoveryCode => {
                return IpcError::invalid(vec![FieldError {
                    field: "code",
                    reason: e
                        .to_string()
                        .trim_start_matches("recovery code: ")
                        .to_owned(),
                }])
            }
            E::NoRecoveryCode | E::NoMatch { .. } | E::Ambiguous { .. } => ErrorCode::NotFound,
            E::Unreadable { .. } => ErrorCode::Damaged,
            E::RecoveryFileDamaged => ErrorCode::Damaged,
            E::NoVault { .. } => ErrorCode::NoVault,
            E::AlreadyExists { .. } => ErrorCode::AlreadyExists,
            E::DatabaseMissing
            | E::DatabaseDamaged
            | E::NewerSchema { .. }
            | E::SecretDamaged { .. }
            | E::SecretMisplaced { .. } => ErrorCode::Damaged,
            E::Busy | E::InUse => ErrorCode::Busy,
            E::RolledBack { .. } | E::AnchorUnusable { .. } => ErrorCode::Damaged,
            _ => ErrorCode::Internal,
        };
        IpcError::new(code, e.to_string())
    }
}

impl From<inventory::Error> for IpcError {
    fn from(e: inventory::Error) -> Self {
        use inventory::Error as E;
        match e {
            E::Invalid(fields) => IpcError::invalid(fields),
            E::Vault(v) => v.into(),
            E::NoSuchSecret(_) => IpcError::new(ErrorCode::NotFound, e.to_string()),
            E::Transition { .. } => IpcError {
                code: ErrorCode::Invalid,
                message: e.to_string(),
                fields: vec![FieldError {
                    field: "status",
                    reason: e.to_string().trim_start_matches("status: ").to_owned(),
                }],
            },
        }
    }
}

impl From<settings::Error> for IpcError {
    fn from(e: settings::Error) -> Self {
        match e {
            settings::Error::Invalid(fields) => IpcError::invalid(fields),
            settings::Error::NeedsPassphrase { .. } => IpcError::invalid(vec![FieldError {
                field: "current_passphrase",
                reason: "give your current passphrase to change where backups go".into(),
            }]),
            settings::Error::Vault(v) => v.into(),
        }
    }
}

impl From<keyward_core::rotation::Error> for IpcError {
    fn from(e: keyward_core::rotation::Error) -> Self {
        use keyward_core::rotation::Error as E;
        match e {
            E::Invalid { field, reason } => IpcError::invalid(vec![FieldError { field, reason }]),
            E::Fields(fields) => IpcError::invalid(fields),
            E::Step(_) => IpcError::new(ErrorCode::Invalid, e.to_string()),
            E::NotStarted => IpcError::new(ErrorCode::NotFound, e.to_string()),
            E::Inventory(i) => i.into(),
            E::Vault(v) => v.into(),
        }
    }
}

impl From<keyward_core::review::Error> for IpcError {
    fn from(e: keyward_core::review::Error) -> Self {
        use keyward_core::review::Error as E;
        match e {
            E::Invalid(fields) => IpcError::invalid(fields),
            E::NotInReview => IpcError::new(ErrorCode::NotFound, e.to_string()),
            E::Finished | E::Undecided { .. } | E::InProgress(_) | E::FollowUp(_) => {
                IpcError::new(ErrorCode::Invalid, e.to_string())
            }
            E::Inventory(i) => i.into(),
            E::Vault(v) => v.into(),
        }
    }
}

impl From<keyward_core::incident::Error> for IpcError {
    fn from(e: keyward_core::incident::Error) -> Self {
        use keyward_core::incident::Error as E;
        match e {
            E::Invalid(fields) => IpcError::invalid(fields),
            E::Closed | E::Order(_) => IpcError::new(ErrorCode::Invalid, e.to_string()),
            E::Inventory(i) => i.into(),
            E::Vault(v) => v.into(),
        }
    }
}

impl From<keyward_core::audit::Error> for IpcError {
    fn from(e: keyward_core::audit::Error) -> Self {
        match e {
            keyward_core::audit::Error::Vault(v) => v.into(),
            other => IpcError::new(ErrorCode::Damaged, other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_passphrase_says_only_that_and_a_damaged_key_file_says_what_it_is() {
        let ipc = IpcError::from(vault::Error::WrongPassphrase);
        assert_eq!(ipc.code, ErrorCode::WrongPassphrase);
        assert_eq!(ipc.message, "wrong passphrase");
        for (e, says) in [
            (vault::Error::KeyFileDamaged, "vault.key is damaged"),
            (
                vault::Error::ExcessiveWork { max: 20 },
                "vault.key demands a key-derivation work factor above 2^20",
            ),
        ] {
            let ipc = IpcError::from(e);
            assert_eq!(ipc.code, ErrorCode::Damaged);
            assert!(ipc.message.starts_with(says), "{}", ipc.message);
        }
    }

    #[test]
    fn validation_errors_keep_their_fields() {
        let e = inventory::Error::Invalid(vec![FieldError {
            field: "ip_allowlist",
            reason: "'x' is not an IPv4/IPv6 address or CIDR".into(),
        }]);
        let ipc = IpcError::from(e);
        assert_eq!(ipc.code, ErrorCode::Invalid);
        assert_eq!(ipc.fields[0].field, "ip_allowlist");
        let json = serde_json::to_value(&ipc).unwrap();
        assert_eq!(json["code"], "invalid");
    }
}
