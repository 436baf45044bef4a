//! The vault: one directory holding the encrypted database and the wrapped
//! vault identity, and the unlocked session over it.
//!
//! | file         | what |
//! |--------------|------|
//! | `vault.db`   | SQLCipher database (+ `-wal`, `-shm` while open) |
//! | `vault.key`  | the age X25519 vault identity, encrypted to the passphrase (scrypt) |
//! | `vault.pub`  | the identity's public recipient: lets a locked vault seal a record of a failed unlock |
//! | `audit.pending` | failed unlocks, each sealed to `vault.pub`, moved into the audit log at the next unlock (untrusted: anyone can seal to `vault.pub`) |
//! | `audit.head` | the audit log's head (`SEQ:HASH`) when Keyward last closed the vault, MACed with a key derived from the identity: a `vault.db` put back alone is found at unlock |
//!
//! `unlock` is two steps so each can be measured and reused: [`VaultDir::unwrap_identity`]
//! (the passphrase KDF, deliberately slow) and [`Vault::open`] (everything else).

pub mod audit;
mod crypto;
mod rekey;
pub(crate) mod store;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use strum::{IntoStaticStr, VariantArray};
use time::OffsetDateTime;
use zeroize::Zeroizing;

pub use crypto::{KdfParams, VaultIdentity, DEFAULT_LOG_N, MAX_LOG_N, MIN_LOG_N};
pub use rekey::Rekeyed;
pub use store::SCHEMA_VERSION;

pub(crate) use crypto::{seal, FingerprintKey};

use self::audit::Action;
use crate::secret::{Passphrase, SecretValue};
use crate::timefmt;

/// What went wrong with the vault as a container: its files, its
/// passphrase, its cryptography or its storage. No variant carries a secret
/// or a value read from a file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The passphrase did not unwrap `vault.key`. Deliberately says nothing more.
    #[error("recovery code: wrong code for this vault")]
    WrongRecoveryCode,
    #[error("recovery code: not a recovery code (it starts AGE-SECRET-KEY-1)")]
    BadRecoveryCode,
    #[error("recovery.key is damaged")]
    RecoveryFileDamaged,
    #[error("this vault has no recovery code (create one while it is unlocked)")]
    NoRecoveryCode,
    #[error("the key remembered on this device does not open this vault")]
    RememberedKeyInvalid,
    #[error("wrong passphrase")]
    WrongPassphrase,
    /// A new passphrase failed the strength check.
    #[error("passphrase: too weak: {reason}")]
    WeakPassphrase { reason: String },
    #[error("passphrase: the two entries do not match")]
    PassphraseMismatch,
    #[error("no vault in {path} (run `keyward init` to create one)")]
    NoVault { path: PathBuf },
    #[error("a vault already exists in {path}")]
    AlreadyExists { path: PathBuf },
    #[error("vault.db is missing from the vault directory (vault.key is there)")]
    DatabaseMissing,
    #[error("vault.key is damaged or is not a Keyward key file")]
    KeyFileDamaged,
    #[error("vault.key demands a key-derivation work factor above 2^{max}; refusing (damaged or planted file)")]
    ExcessiveWork { max: u8 },
    #[error("vault.db is damaged or was modified outside Keyward (page authentication failed)")]
    DatabaseDamaged,
    /// `vault.db` holds an older log than `audit.head` recorded.
    #[error("vault.db was rolled back or replaced: its audit log {why} than when Keyward last closed it (entry #{expected} was recorded in audit.head). If you put an older vault.db back yourself, accept it with `keyward audit --accept-rollback`")]
    RolledBack { expected: u64, why: &'static str },
    /// `audit.head` itself does not check out.
    #[error("audit.head {why}: the audit log cannot be checked against it. If you know why, accept the vault as it is with `keyward audit --accept-rollback`")]
    AnchorUnusable { why: &'static str },
    #[error("vault.db could not be opened (check the directory's permissions)")]
    DatabaseUnreadable,
    #[error("vault.db was written by a newer Keyward (schema {found}; this build knows up to {supported})")]
    NewerSchema { found: u32, supported: u32 },
    #[error("secret field '{field}' is damaged and cannot be decrypted")]
    SecretDamaged { field: String },
    #[error(
        "secret field '{field}' belongs to another entry or field: the vault was tampered with"
    )]
    SecretMisplaced { field: String },
    #[error("the vault is busy (another Keyward process is writing); try again")]
    Busy,
    #[error(
        "the vault is open in another Keyward window or command: lock or close it, then try again"
    )]
    InUse,
    /// A rekey committed (the new identity is the vault's) but a later
    /// step failed.
    #[error("the vault has its new identity, but {why}: unlock it again")]
    RekeyUnfinished { why: String },
    #[error("the disk is full; nothing was changed")]
    DiskFull,
    #[error("the vault is read-only")]
    ReadOnly,
    #[error("kdf: work factor must be between 2^{min} and 2^{max}")]
    InvalidKdf { min: u8, max: u8 },
    #[error("crypto: {0}")]
    Crypto(&'static str),
    #[error("storage: {0}")]
    Storage(String),
    /// An id or prefix that names no row (a key, a review, an incident).
    #[error("{field}: no {noun} matches '{given}'")]
    NoMatch {
        field: &'static str,
        noun: &'static str,
        given: String,
    },
    #[error("{field}: '{given}' matches several {noun}s; give more characters")]
    Ambiguous {
        field: &'static str,
        noun: &'static str,
        given: String,
    },
    /// A row the schema let through but this build cannot read.
    #[error("{table} {id}: its stored {what} is unreadable")]
    Unreadable {
        table: &'static str,
        id: String,
        what: &'static str,
    },
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let what = what.into();
    move |source| Error::Io { what, source }
}

/// Who is acting on the vault, recorded in each audit row.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, IntoStaticStr, VariantArray,
)]
#[strum(serialize_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Cli,
    App,
    Test,
}

crate::field::keywords!(Origin);

/// How a session was opened: the passphrase typed, or an identity from the
/// keyring or a recovery code. Recorded in the unlock row: the leak scan
/// shows text around copies only of values stored before a passphrase
/// unlock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, IntoStaticStr, VariantArray)]
#[strum(serialize_all = "snake_case")]
pub(crate) enum OpenedWith {
    Passphrase,
    Identity,
}

crate::field::keywords!(OpenedWith);

/// The vault directory and the names of its files.
#[derive(Clone, Debug)]
pub struct VaultDir {
    root: PathBuf,
}

impl VaultDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn path(&self) -> &Path {
        &self.root
    }
    pub fn db_path(&self) -> PathBuf {
        self.root.join("vault.db")
    }
    pub fn key_path(&self) -> PathBuf {
        self.root.join("vault.key")
    }
    pub(crate) fn pub_path(&self) -> PathBuf {
        self.root.join("vault.pub")
    }
    /// The audit head kept outside the database.
    pub fn anchor_path(&self) -> PathBuf {
        self.root.join("audit.head")
    }
    fn pending_path(&self) -> PathBuf {
        self.root.join("audit.pending")
    }
    /// Checks that an identity (e.g. remembered in the OS keyring) belongs
    /// to this vault, by its public half in `vault.pub`, before opening.
    pub fn check_identity(&self, identity: &VaultIdentity) -> Result<()> {
        self.settle_interrupted_rekey()?;
        let stored = self.read_pub().map_err(io("vault.pub"))?;
        if stored.trim() == identity.recipient().to_string() {
            Ok(())
        } else {
            Err(Error::RememberedKeyInvalid)
        }
    }

    /// The identity encrypted to the recovery code, if one was made.
    pub fn recovery_path(&self) -> PathBuf {
        self.root.join("recovery.key")
    }

    pub fn has_recovery_code(&self) -> bool {
        self.recovery_path().exists()
    }

    /// Opens the vault identity with a recovery code (spaces, line breaks
    /// and case do not matter).
    pub fn recover_identity(&self, code: &RecoveryCode) -> Result<VaultIdentity> {
        self.settle_interrupted_rekey()?;
        let bytes = match crate::fsio::read_own(&self.recovery_path(), KEY_FILE_MAX) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(if self.exists() {
                    Error::NoRecoveryCode
                } else {
                    Error::NoVault {
                        path: self.root.clone(),
                    }
                })
            }
            Err(e) => return Err(io("recovery.key")(e)),
        };
        crypto::unwrap_recovery(&bytes, &code.identity()?)
    }

    /// `vault.pub`: one line of text.
    fn read_pub(&self) -> std::io::Result<Zeroizing<String>> {
        crate::fsio::read_own_text(&self.pub_path(), KEY_FILE_MAX)
    }

    /// Reminder times and counts for when the vault is locked: no names.
    pub fn schedule_path(&self) -> PathBuf {
        self.root.join("reminders.json")
    }

    /// A vault exists once its key file does (it is written last at init).
    pub fn exists(&self) -> bool {
        self.key_path().exists()
    }

    /// The slow step of unlocking: the passphrase KDF and `vault.key`.
    pub fn unwrap_identity(&self, passphrase: &Passphrase) -> Result<VaultIdentity> {
        let bytes = match crate::fsio::read_own(&self.key_path(), KEY_FILE_MAX) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::NoVault {
                    path: self.root.clone(),
                })
            }
            // A link, a FIFO or a huge file where vault.key should be.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData
                ) =>
            {
                return Err(Error::KeyFileDamaged)
            }
            Err(e) => return Err(io("vault.key")(e)),
        };
        VaultIdentity::unwrap(&bytes, passphrase)
    }

    /// Notes a failed unlock for the audit log, sealed so that only the vault
    /// can read it. Best effort: a locked vault cannot do more.
    fn record_failed_unlock(&self, now: OffsetDateTime, origin: Origin) {
        let Ok(text) = self.read_pub() else {
            return;
        };
        let Ok(recipient) = text.trim().parse::<age::x25519::Recipient>() else {
            return;
        };
        let record = serde_json::json!({ "at": timefmt::format(now), "origin": origin });
        let Ok(sealed) = crypto::encrypt_to(&recipient, record.to_string().as_bytes()) else {
            return;
        };
        let line = format!("{}\n", hex::encode(sealed));
        let _ = crate::fsio::open_append_private(&self.pending_path()).and_then(|mut f| {
            // Past the cap the file is not read at unlock anyway.
            if f.metadata()?.len() >= PENDING_MAX {
                return Ok(());
            }
            f.write_all(line.as_bytes())?;
            f.sync_all()
        });
    }
}

/// A passphrase proved right against `vault.key` just now — not the
/// unlocked session. Made by [`VaultDir::check_passphrase`] (the slow
/// part, which needs no open vault, so the app runs it off its session
/// lock) and turned into a [`Reauth`] by [`Vault::reauth`].
pub struct PassphraseCheck {
    recipient: String,
}

impl std::fmt::Debug for PassphraseCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PassphraseCheck")
    }
}

/// Proof that the current passphrase was given for this one action.
///
/// Everything that exports secrets or grants lasting access — a backup
/// made by hand, a recovery code, "remember on this device", where
/// automatic backups go and to whom, a new vault identity — takes one by
/// value: an unattended unlocked window (or a compromised web view) has the
/// session but not the passphrase. Not `Clone`: one proof, one action.
pub struct Reauth {
    _private: (),
}

impl std::fmt::Debug for Reauth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reauth")
    }
}

impl VaultDir {
    /// The slow half of re-authentication: unwraps `vault.key` with
    /// `current` now (scrypt), whatever session is open.
    pub fn check_passphrase(&self, current: &Passphrase) -> Result<PassphraseCheck> {
        let identity = self.unwrap_identity(current)?;
        Ok(PassphraseCheck {
            recipient: identity.recipient().to_string(),
        })
    }
}

/// Rejects weak passphrases with the estimator's own reason.
pub fn check_passphrase_strength(passphrase: &Passphrase) -> Result<()> {
    // EXPOSE: the estimator needs the text; it keeps nothing.
    let text = passphrase.expose();
    if text.chars().count() < 10 {
        return Err(Error::WeakPassphrase {
            reason: "use at least 10 characters (a few unrelated words work well)".into(),
        });
    }
    let estimate = zxcvbn::zxcvbn(text, &["keyward", "vault", "passphrase", "password"]);
    if (estimate.score() as u8) < 3 {
        let mut reason = estimate
            .feedback()
            .and_then(|f| f.warning().map(|w| w.to_string()))
            .unwrap_or_else(|| "it would be guessed too quickly".into());
        if let Some(s) = estimate.feedback().and_then(|f| f.suggestions().first()) {
            reason = format!("{reason}; {s}");
        }
        return Err(Error::WeakPassphrase { reason });
    }
    Ok(())
}

/// How strong a candidate passphrase is, for a strength meter: the score
/// (0–4, 3 needed) and the estimator's advice.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
pub struct PassphraseVerdict {
    pub score: u8,
    pub acceptable: bool,
    pub warning: Option<String>,
    pub suggestions: Vec<String>,
}

pub fn rate_passphrase(passphrase: &Passphrase) -> PassphraseVerdict {
    // EXPOSE: the estimator needs the text; it keeps nothing.
    let estimate = zxcvbn::zxcvbn(passphrase.expose(), &["keyward", "vault"]);
    let acceptable = check_passphrase_strength(passphrase).is_ok();
    PassphraseVerdict {
        score: estimate.score() as u8,
        acceptable,
        warning: estimate
            .feedback()
            .and_then(|f| f.warning().map(|w| w.to_string())),
        suggestions: estimate
            .feedback()
            .map(|f| f.suggestions().iter().map(|s| s.to_string()).collect())
            .unwrap_or_default(),
    }
}

/// A recovery code: an age identity (`AGE-SECRET-KEY-1…`) the user writes
/// down once. It also opens `recovery.key` with the standard age tool.
pub struct RecoveryCode(Zeroizing<String>);

impl std::fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecoveryCode([redacted])")
    }
}

impl RecoveryCode {
    /// As typed: whitespace and case are forgiven.
    pub fn parse(typed: &str) -> Result<Self> {
        let mut s = Zeroizing::new(String::with_capacity(typed.len()));
        s.extend(
            typed
                .chars()
                .filter(|c| !c.is_whitespace())
                .map(|c| c.to_ascii_uppercase()),
        );
        if !s.starts_with("AGE-SECRET-KEY-1") {
            return Err(Error::BadRecoveryCode);
        }
        let code = RecoveryCode(s);
        code.identity()?;
        Ok(code)
    }

    fn identity(&self) -> Result<age::x25519::Identity> {
        self.0
            .parse::<age::x25519::Identity>()
            .map_err(|_| Error::BadRecoveryCode)
    }

    /// The code in one piece (for `age -i`).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The code in groups of six after its prefix, for writing down; built
    /// in one wiped buffer (no stray copies of the groups).
    pub fn grouped(&self) -> Zeroizing<String> {
        let rest = self.0.strip_prefix("AGE-SECRET-KEY-1").unwrap_or(&self.0);
        let mut out = Zeroizing::new(String::with_capacity(self.0.len() * 2));
        out.push_str("AGE-SECRET-KEY-1");
        for (i, c) in rest.chars().enumerate() {
            if i % 6 == 0 {
                out.push(' ');
            }
            out.push(c);
        }
        out
    }
}

/// Seals secret values for a vault being created (before it can be opened).
pub(crate) struct Sealer {
    recipient: age::x25519::Recipient,
    fingerprint_key: crypto::FingerprintKey,
    chain_key: crate::secret::DerivedKey,
}

impl Sealer {
    /// Keys a new vault's audit chain from its first row.
    pub(crate) fn start_audit_chain(&self, tx: &Transaction<'_>) -> Result<()> {
        audit::start_keyed_chain(tx, self.chain_key.expose()).map(drop)
    }
    pub(crate) fn seal(&self, entry_id: &str, field: &str, value: &SecretValue) -> Result<Vec<u8>> {
        seal(&self.recipient, entry_id, field, value)
    }
    pub(crate) fn fingerprint(&self, value: &SecretValue) -> Result<[u8; 32]> {
        self.fingerprint_key.fingerprint(value)
    }
}

/// An unlocked vault: an open database and the keys to its secrets.
/// Dropping it closes the database and wipes every key.
pub struct Vault {
    dir: VaultDir,
    conn: Connection,
    identity: VaultIdentity,
    recipient: age::x25519::Recipient,
    fingerprint_key: FingerprintKey,
    /// Seals `audit.head`.
    anchor_key: crate::secret::DerivedKey,
    /// The head last written to `audit.head` by this session.
    anchored: std::cell::RefCell<Option<String>>,
    /// Set while a rekey moves the vault away from this session's
    /// identity: `audit.head` is then the new one's to write.
    retired: std::cell::Cell<bool>,
    /// The audit log's last entry when this session began (its unlock row).
    session_from: u64,
    origin: Origin,
}

impl Drop for Vault {
    /// The head goes outside the database whenever a session ends, so a
    /// `vault.db` put back later is found at the next unlock.
    fn drop(&mut self) {
        if !self.retired.get() {
            let _ = self.write_anchor();
        }
    }
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("dir", &self.dir.root)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// Creates a new vault in `dir` (which may exist, but must not hold a vault).
    pub fn init(
        dir: &VaultDir,
        passphrase: &Passphrase,
        kdf: KdfParams,
        now: OffsetDateTime,
        origin: Origin,
    ) -> Result<Vault> {
        Vault::create(
            dir,
            passphrase,
            kdf,
            now,
            origin,
            SCHEMA_VERSION,
            |tx, sealer| {
                tx.execute(
                    "INSERT INTO meta(key, value) VALUES ('created_at', ?1)",
                    [timefmt::format(now)],
                )?;
                sealer.start_audit_chain(tx)?;
                audit::append(
                    tx,
                    now,
                    origin,
                    Action::VaultInit,
                    None,
                    &serde_json::json!({ "schema": SCHEMA_VERSION, "kdf_log_n": kdf.log_n() }),
                )?;
                Ok(())
            },
        )
    }

    /// Creates a vault whose database `fill` writes, in one transaction, at
    /// schema version `schema` (then migrated to this build's): a backup
    /// restores through it. Nothing is left behind if anything fails.
    pub(crate) fn create<E: From<Error>>(
        dir: &VaultDir,
        passphrase: &Passphrase,
        kdf: KdfParams,
        now: OffsetDateTime,
        origin: Origin,
        schema: u32,
        fill: impl FnOnce(&rusqlite::Transaction<'_>, &Sealer) -> std::result::Result<(), E>,
    ) -> std::result::Result<Vault, E> {
        check_passphrase_strength(passphrase)?;
        let made_dir = !dir.path().exists();
        // 0700 also when the directory existed: a vault is nobody else's.
        crate::fsio::private_dir(dir.path()).map_err(io("vault directory"))?;
        if dir.key_path().exists() || dir.db_path().exists() {
            return Err(Error::AlreadyExists {
                path: dir.root.clone(),
            }
            .into());
        }
        // No vault here: what an earlier one (or a failed restore) left
        // beside it must not be taken for this one's.
        for stale in [
            dir.anchor_path(),
            dir.pending_path(),
            dir.recovery_path(),
            dir.schedule_path(),
        ] {
            let _ = fs::remove_file(stale);
        }
        // Nor an earlier vault's unfinished rekey (it would be "finished"
        // over this vault's key at its first open).
        dir.discard_rekey()?;
        let identity = VaultIdentity::generate();
        let wrapped = identity.wrap(passphrase, kdf)?;

        // The database first, under a temporary name; vault.key last, so a
        // crash part-way leaves no half-made vault that looks complete.
        let tmp_db = dir.root.join("vault.db.init");
        remove_sqlite_files(&tmp_db);
        let built = (|| -> std::result::Result<(), E> {
            // Made 0600 before SQLite sees it (its -wal and -shm take the
            // same mode): never readable by others, not even empty.
            create_private_file(&tmp_db)?;
            let key = identity.database_key()?;
            let mut conn = store::open(&tmp_db, &key, true)?;
            store::migrate_to(&mut conn, schema)?;
            let sealer = Sealer {
                recipient: identity.recipient(),
                fingerprint_key: identity.fingerprint_key()?,
                chain_key: identity.audit_chain_key()?,
            };
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(Error::from)?;
            fill(&tx, &sealer)?;
            tx.commit().map_err(Error::from)?;
            store::migrate(&mut conn)?;
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                .map_err(Error::from)?;
            conn.close().map_err(|(_, e)| Error::from(e))?;
            Ok(())
        })();
        if let Err(e) = built {
            remove_sqlite_files(&tmp_db);
            if made_dir {
                let _ = fs::remove_dir(dir.path());
            }
            return Err(e);
        }
        remove_sqlite_sidecars(&tmp_db);
        fs::rename(&tmp_db, dir.db_path()).map_err(io("vault.db"))?;
        write_atomically(
            &dir.pub_path(),
            format!("{}\n", identity.recipient()).as_bytes(),
        )?;
        write_atomically(&dir.key_path(), &wrapped)?;
        Ok(Vault::open(dir, identity, now, origin)?)
    }

    /// Unlocks with a passphrase: [`VaultDir::unwrap_identity`] then [`Vault::open`].
    /// A wrong passphrase is noted for the audit log before it is reported.
    pub fn unlock(
        dir: &VaultDir,
        passphrase: &Passphrase,
        now: OffsetDateTime,
        origin: Origin,
    ) -> Result<Vault> {
        dir.settle_interrupted_rekey()?;
        match dir.unwrap_identity(passphrase) {
            Ok(identity) => {
                Vault::open_checked(dir, identity, now, origin, false, OpenedWith::Passphrase)
            }
            Err(Error::WrongPassphrase) => {
                dir.record_failed_unlock(now, origin);
                Err(Error::WrongPassphrase)
            }
            Err(e) => Err(e),
        }
    }

    /// [`Vault::unlock`], then, if `vault.key` was wrapped at a work factor
    /// below `desired` (an old default, or a test vault), re-wraps it at
    /// `desired` with the passphrase just proved right, audited as
    /// `vault.kdf_upgrade`. The app and the CLI unlock through this.
    pub fn unlock_upgrading(
        dir: &VaultDir,
        passphrase: &Passphrase,
        desired: KdfParams,
        now: OffsetDateTime,
        origin: Origin,
    ) -> Result<Vault> {
        let mut vault = Vault::unlock(dir, passphrase, now, origin)?;
        let found = crate::fsio::read_own(&dir.key_path(), KEY_FILE_MAX)
            .ok()
            .and_then(|bytes| crypto::work_factor(&bytes));
        if let Some(found) = found.filter(|f| *f < desired.log_n()) {
            vault.rewrap(
                passphrase,
                desired,
                now,
                Action::KdfUpgrade,
                serde_json::json!({ "from_log_n": found, "kdf_log_n": desired.log_n() }),
            )?;
        }
        Ok(vault)
    }

    /// [`Vault::unlock_upgrading`] for an export or a grant: the unlock just
    /// unwrapped `vault.key` with `passphrase`, which is the fresh check a
    /// [`Reauth`] stands for — so one scrypt, not two.
    pub fn unlock_confirmed(
        dir: &VaultDir,
        passphrase: &Passphrase,
        desired: KdfParams,
        now: OffsetDateTime,
        origin: Origin,
    ) -> Result<(Vault, Reauth)> {
        let vault = Vault::unlock_upgrading(dir, passphrase, desired, now, origin)?;
        Ok((vault, Reauth { _private: () }))
    }

    /// The fast step of unlocking: opens the database with keys derived from
    /// the identity, migrates it, and records the unlock.
    pub fn open(
        dir: &VaultDir,
        identity: VaultIdentity,
        now: OffsetDateTime,
        origin: Origin,
    ) -> Result<Vault> {
        Vault::open_checked(dir, identity, now, origin, false, OpenedWith::Identity)
    }

    /// Unlocks although `vault.db` and `audit.head` disagree (the user put
    /// an older `vault.db` back on purpose): the disagreement is recorded
    /// (`audit.rollback_accepted`) and the anchor moves to the log as found.
    pub fn unlock_accepting_rollback(
        dir: &VaultDir,
        passphrase: &Passphrase,
        now: OffsetDateTime,
        origin: Origin,
    ) -> Result<(Vault, Option<String>)> {
        dir.settle_interrupted_rekey()?;
        let identity = dir.unwrap_identity(passphrase)?;
        let anchor_key = identity.anchor_key()?;
        let key = identity.database_key()?;
        let found = {
            let conn = store::open(&dir.db_path(), &key, false)?;
            check_anchor(dir, &conn, &anchor_key).err()
        };
        let mut vault =
            Vault::open_checked(dir, identity, now, origin, true, OpenedWith::Passphrase)?;
        if let Some(e) = &found {
            audit::record(
                &mut vault,
                now,
                Action::RollbackAccepted,
                None,
                &serde_json::json!({ "found": e.to_string() }),
            )?;
        }
        vault.write_anchor()?;
        Ok((vault, found.map(|e| e.to_string())))
    }

    fn open_checked(
        dir: &VaultDir,
        identity: VaultIdentity,
        now: OffsetDateTime,
        origin: Origin,
        accept_rollback: bool,
        with: OpenedWith,
    ) -> Result<Vault> {
        dir.settle_interrupted_rekey()?;
        let key = identity.database_key()?;
        let mut conn = store::open(&dir.db_path(), &key, false)?;
        drop(key);
        store::migrate(&mut conn)?;
        let anchor_key = identity.anchor_key()?;
        if !accept_rollback {
            check_anchor(dir, &conn, &anchor_key)?;
        }
        // Vaults from before the keyed chain: keyed from the next row on.
        audit::start_keyed_chain(&conn, identity.audit_chain_key()?.expose())?;
        let recipient = identity.recipient();
        let fingerprint_key = identity.fingerprint_key()?;
        let mut vault = Vault {
            dir: dir.clone(),
            conn,
            identity,
            recipient,
            fingerprint_key,
            anchor_key,
            anchored: std::cell::RefCell::new(None),
            retired: std::cell::Cell::new(false),
            session_from: 0,
            origin,
        };
        vault.repair_pub_file();
        vault.ingest_failed_unlocks_and_record_unlock(now, with)?;
        vault.session_from = audit::head_conn(&vault.conn)
            .ok()
            .flatten()
            .map_or(0, |h| h.seq);
        // The first audit.head of a vault: from then on one is expected
        // beside it (set only once it is written, so a failed write never
        // locks the vault out). Later sessions write it when they end.
        if !dir.anchor_path().exists() {
            let _ = vault.write_anchor();
        }
        if dir.anchor_path().exists() {
            // Best effort: set the first time a verified or new audit.head
            // exists; without it a missing file is not yet an alarm.
            let _ = vault.conn.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('audit_anchored', '1')",
                [],
            );
        }
        Ok(vault)
    }

    /// Writes `audit.head` if the head moved since it was last written.
    /// Called at unlock, at lock and when the vault is dropped.
    pub fn write_anchor(&self) -> Result<()> {
        let Some(head) = audit::head_conn(&self.conn).map_err(|e| match e {
            audit::Error::Vault(v) => v,
            other => Error::Storage(other.to_string()),
        })?
        else {
            return Ok(());
        };
        let text = head.to_string();
        if self.anchored.borrow().as_deref() == Some(text.as_str()) {
            return Ok(());
        }
        let body = format!("{ANCHOR_MAGIC}\n{text}\n");
        let mac = anchor_mac(&self.anchor_key, &body);
        write_atomically(
            &self.dir.anchor_path(),
            format!("{body}{}\n", hex::encode(mac)).as_bytes(),
        )?;
        *self.anchored.borrow_mut() = Some(text);
        Ok(())
    }

    fn repair_pub_file(&self) {
        let expected = format!("{}\n", self.recipient);
        if self.dir.read_pub().ok().as_deref().map(String::as_str) != Some(expected.as_str()) {
            let _ = write_atomically(&self.dir.pub_path(), expected.as_bytes());
        }
    }

    /// Moves the failed unlocks noted while locked into the audit log.
    ///
    /// `audit.pending` is not authenticated: anyone can seal a record to
    /// the public `vault.pub`. So each record becomes a row at the time of
    /// this unlock, marked as reported by the locked vault, with what it
    /// claims (its time, only if it is a readable time not after now, and
    /// its front end, only if it is one of ours) as detail — never as
    /// trusted history. The file is capped ([`PENDING_MAX`]), at most
    /// [`PENDING_ROWS`] records get a row each, and the rest are counted.
    fn ingest_failed_unlocks_and_record_unlock(
        &mut self,
        now: OffsetDateTime,
        with: OpenedWith,
    ) -> Result<()> {
        let pending = self.dir.pending_path();
        let read = match crate::fsio::read_own(&pending, PENDING_MAX) {
            Ok(bytes) => Some(Ok(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => Some(Err(e)),
        };
        let mut failures = Vec::new();
        let mut unreadable = 0u64;
        let mut beyond = 0u64;
        let mut refused: Option<String> = None;
        match &read {
            None => {}
            Some(Err(e)) => refused = Some(e.to_string()),
            Some(Ok(bytes)) => {
                for line in bytes
                    .split(|&b| b == b'\n')
                    .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
                {
                    if failures.len() >= PENDING_ROWS {
                        beyond += 1;
                        continue;
                    }
                    let record = std::str::from_utf8(line)
                        .ok()
                        .and_then(|l| hex::decode(l.trim()).ok())
                        .and_then(|bytes| crypto::decrypt_record(&self.identity, &bytes))
                        .and_then(|plain| serde_json::from_slice::<serde_json::Value>(&plain).ok());
                    match record {
                        Some(v) => failures.push(v),
                        None => unreadable += 1,
                    }
                }
            }
        }
        let origin = self.origin;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        for f in &failures {
            let claimed_at = f
                .get("at")
                .and_then(|a| a.as_str())
                .and_then(|a| timefmt::parse_rfc3339(a).ok())
                .filter(|at| *at <= now)
                .map(timefmt::format);
            let claimed_via = f
                .get("origin")
                .and_then(|o| o.as_str())
                .filter(|o| matches!(*o, "cli" | "app" | "test"))
                .unwrap_or("unknown");
            audit::append(
                &tx,
                now,
                origin,
                Action::UnlockFailed,
                None,
                &serde_json::json!({
                    "reported_by_locked_vault": true,
                    "claimed_at": claimed_at,
                    "attempted_via": claimed_via,
                }),
            )?;
        }
        if unreadable > 0 || beyond > 0 || refused.is_some() {
            audit::append(
                &tx,
                now,
                origin,
                Action::UnlockFailed,
                None,
                &serde_json::json!({
                    "reported_by_locked_vault": true,
                    "unreadable_records": unreadable,
                    "records_beyond_the_cap": beyond,
                    "file_refused": refused,
                }),
            )?;
        }
        audit::append(
            &tx,
            now,
            origin,
            Action::Unlock,
            None,
            &serde_json::json!({ "with": with.as_str() }),
        )?;
        tx.commit()?;
        if read.is_some() {
            let _ = fs::remove_file(&pending);
        }
        Ok(())
    }

    /// Re-wraps `vault.key` under a new passphrase. The database and every
    /// sealed secret stay as they are: they depend on the identity only.
    pub fn change_passphrase(
        &mut self,
        current: &Passphrase,
        new: &Passphrase,
        kdf: KdfParams,
        now: OffsetDateTime,
    ) -> Result<()> {
        // Proves the caller knows the current passphrase, not just the session.
        let check = self.dir.check_passphrase(current)?;
        if check.recipient != self.recipient.to_string() {
            return Err(Error::KeyFileDamaged);
        }
        check_passphrase_strength(new)?;
        self.rewrap(
            new,
            kdf,
            now,
            Action::PassphraseChange,
            serde_json::json!({ "kdf_log_n": kdf.log_n() }),
        )
    }

    /// Wraps the identity in a new `vault.key` under `passphrase`, with its
    /// audit row. The key file is replaced before the row commits: if the
    /// rename fails nothing is recorded; if the commit fails the new file
    /// already works and the row is simply missing.
    fn rewrap(
        &mut self,
        passphrase: &Passphrase,
        kdf: KdfParams,
        now: OffsetDateTime,
        action: Action,
        detail: serde_json::Value,
    ) -> Result<()> {
        let wrapped = self.identity.wrap(passphrase, kdf)?;
        let origin = self.origin;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        audit::append(&tx, now, origin, action, None, &detail)?;
        write_atomically(&self.dir.key_path(), &wrapped)?;
        tx.commit()?;
        Ok(())
    }

    /// Makes a new recovery code: `recovery.key` is replaced by the identity
    /// encrypted to it (a copy of the old file still opens with the old code
    /// until [`Vault::rekey`]). The code is returned once, to be written
    /// down; Keyward keeps only its public half.
    pub fn create_recovery_code(
        &mut self,
        _proof: Reauth,
        now: OffsetDateTime,
    ) -> Result<RecoveryCode> {
        self.make_recovery_code(now)
    }

    fn make_recovery_code(&mut self, now: OffsetDateTime) -> Result<RecoveryCode> {
        let code = age::x25519::Identity::generate();
        let wrapped = crypto::wrap_for_recovery(&self.identity, &code.to_public())?;
        write_atomically(&self.dir.recovery_path(), &wrapped)?;
        let origin = self.origin;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO meta(key, value) VALUES ('recovery_recipient', ?1)
             ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [code.to_public().to_string()],
        )?;
        audit::append(
            &tx,
            now,
            origin,
            Action::RecoveryCreate,
            None,
            &serde_json::json!({}),
        )?;
        tx.commit()?;
        // EXPOSE: the code is shown to the user once.
        Ok(RecoveryCode(Zeroizing::new(
            code.to_string().expose_secret().to_owned(),
        )))
    }

    /// Turns a passphrase check made just now into the proof an export or
    /// a grant needs. A wrong passphrase is audited (`vault.reauth_failed`)
    /// and reported as such; a passphrase that opens a `vault.key` of
    /// another identity means the file was swapped under the session.
    pub fn reauth(
        &mut self,
        check: Result<PassphraseCheck>,
        now: OffsetDateTime,
    ) -> Result<Reauth> {
        match check {
            Ok(c) if c.recipient == self.recipient.to_string() => Ok(Reauth { _private: () }),
            Ok(_) => Err(Error::KeyFileDamaged),
            Err(Error::WrongPassphrase) => {
                audit::record(
                    self,
                    now,
                    Action::ReauthFailed,
                    None,
                    &serde_json::json!({}),
                )?;
                Err(Error::WrongPassphrase)
            }
            Err(e) => Err(e),
        }
    }

    /// [`VaultDir::check_passphrase`] and [`Vault::reauth`] in one call,
    /// for callers that may block (the CLI).
    pub fn reauthenticate(&mut self, current: &Passphrase, now: OffsetDateTime) -> Result<Reauth> {
        let check = self.dir.check_passphrase(current);
        self.reauth(check, now)
    }

    /// The identity, to remember in the OS keyring; the choice is audited.
    pub fn remember(&mut self, _proof: Reauth, now: OffsetDateTime) -> Result<Zeroizing<String>> {
        audit::record(self, now, Action::Remember, None, &serde_json::json!({}))?;
        Ok(self.identity.to_keyring_text())
    }

    /// Deletes `recovery.key`. A copy kept elsewhere still opens the vault
    /// with its code until the identity is rotated ([`Vault::rekey`]).
    pub fn remove_recovery_code(&mut self, now: OffsetDateTime) -> Result<bool> {
        let path = self.dir.recovery_path();
        if !path.exists() {
            return Ok(false);
        }
        fs::remove_file(&path).map_err(io("recovery.key"))?;
        let origin = self.origin;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("DELETE FROM meta WHERE key = 'recovery_recipient'", [])?;
        audit::append(
            &tx,
            now,
            origin,
            Action::RecoveryRemove,
            None,
            &serde_json::json!({}),
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Sets a new passphrase on a vault opened with its recovery code (no
    /// current passphrase to prove: the code proved the user).
    pub fn reset_passphrase(
        &mut self,
        new: &Passphrase,
        kdf: KdfParams,
        now: OffsetDateTime,
    ) -> Result<()> {
        check_passphrase_strength(new)?;
        self.rewrap(
            new,
            kdf,
            now,
            Action::Recover,
            serde_json::json!({ "kdf_log_n": kdf.log_n() }),
        )
    }

    pub fn dir(&self) -> &VaultDir {
        &self.dir
    }
    /// The audit log's last entry when this session began.
    pub fn session_from(&self) -> u64 {
        self.session_from
    }
    pub fn origin(&self) -> Origin {
        self.origin
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The open database itself, bypassing validation and the audit log.
    /// For tests that play an attacker editing the file, and for repair
    /// tools; the app and the CLI never call it.
    #[doc(hidden)]
    pub fn raw_connection(&self) -> &Connection {
        &self.conn
    }

    /// Locks the vault: closes the database (checkpointing the WAL into
    /// `vault.db`) and wipes every key from memory.
    pub fn lock(self) -> Result<()> {
        self.write_anchor()?;
        // Dropping closes the database (SQLite checkpoints the WAL) and
        // wipes the keys.
        drop(self);
        Ok(())
    }

    /// Starts a write transaction that takes the database lock at once, so
    /// the audit chain's head cannot move under us.
    pub(crate) fn write(&mut self) -> Result<Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?)
    }

    pub(crate) fn recipient(&self) -> &age::x25519::Recipient {
        &self.recipient
    }
    pub(crate) fn fingerprint(&self, value: &SecretValue) -> Result<[u8; 32]> {
        self.fingerprint_key.fingerprint(value)
    }
    pub(crate) fn open_sealed(
        &self,
        sealed: &[u8],
        entry_id: &str,
        field: &str,
    ) -> Result<SecretValue> {
        self.identity.open(sealed, entry_id, field)
    }

    /// Full check: every page's HMAC (SQLCipher), SQLite's structure, and
    /// the audit chain. Slow on a big vault; for `keyward check`, not unlock.
    pub fn check(&self) -> Result<CheckReport> {
        let mut cipher_problems = Vec::new();
        {
            let mut stmt = self.conn.prepare("PRAGMA cipher_integrity_check")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                cipher_problems.push(row.get::<_, String>(0)?);
            }
        }
        let mut sqlite_problems = Vec::new();
        {
            let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let line: String = row.get(0)?;
                if line != "ok" {
                    sqlite_problems.push(line);
                }
            }
        }
        {
            // Each entry's copy of its secret field names matches the secrets table.
            let mut stmt = self.conn.prepare(
                "SELECT id FROM entries WHERE secret_fields != coalesce(
                    (SELECT group_concat(field, char(10) ORDER BY position)
                     FROM secrets WHERE entry_id = entries.id), '')",
            )?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let id: String = row.get(0)?;
                sqlite_problems.push(format!(
                    "entry {id}: its list of secret fields is out of step"
                ));
            }
        }
        let audit = match audit::verify(self) {
            Ok(n) => Ok(n),
            Err(audit::Error::Broken { seq, why }) => Err(format!("entry #{seq}: {why}")),
            Err(audit::Error::Vault(e)) => return Err(e),
            Err(other) => Err(other.to_string()),
        };
        Ok(CheckReport {
            cipher_problems,
            sqlite_problems,
            audit,
        })
    }
}

/// The result of [`Vault::check`].
#[derive(Debug, Serialize)]
pub struct CheckReport {
    /// Pages whose HMAC failed (SQLCipher's own wording, page numbers only).
    pub cipher_problems: Vec<String>,
    /// SQLite's structural problems; empty when it said "ok".
    pub sqlite_problems: Vec<String>,
    /// Number of audit rows verified, or where the chain breaks.
    pub audit: std::result::Result<u64, String>,
}

impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.cipher_problems.is_empty() && self.sqlite_problems.is_empty() && self.audit.is_ok()
    }
}

/// Writes a file so that readers see the old or the new content, never a
/// mix, private from its first byte ([`crate::fsio::write_private`]).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    crate::fsio::write_private(path, bytes).map_err(io(name))
}

/// An empty file of mode 0600 that did not exist before (no link followed).
fn create_private_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map(drop)
        .map_err(io("vault.db"))
}

fn remove_sqlite_sidecars(db: &Path) {
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = fs::remove_file(PathBuf::from(p));
    }
}

fn remove_sqlite_files(db: &Path) {
    let _ = fs::remove_file(db);
    remove_sqlite_sidecars(db);
}

const ANCHOR_MAGIC: &str = "keyward-audit-head-v1";

fn anchor_mac(key: &crate::secret::DerivedKey, body: &str) -> [u8; 32] {
    use hmac::Mac;
    match <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key.expose()) {
        Ok(mut m) => {
            m.update(body.as_bytes());
            m.finalize().into_bytes().into()
        }
        // HMAC takes keys of any length: never happens.
        Err(_) => [0; 32],
    }
}

/// Checks the database against `audit.head`: its MAC under the identity's
/// anchor key, and that the log still holds the entry it names. No file is
/// fine for a vault that never had one (`audit_anchored` unset).
fn check_anchor(dir: &VaultDir, conn: &Connection, key: &crate::secret::DerivedKey) -> Result<()> {
    let bytes = match crate::fsio::read_own(&dir.anchor_path(), 4096) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let expected: Option<String> = conn
                .query_row(
                    "SELECT value FROM meta WHERE key = 'audit_anchored'",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            return match expected {
                Some(_) => Err(Error::AnchorUnusable { why: "is missing" }),
                None => Ok(()),
            };
        }
        Err(_) => {
            return Err(Error::AnchorUnusable {
                why: "is not a small regular file",
            })
        }
    };
    let text =
        std::str::from_utf8(&bytes).map_err(|_| Error::AnchorUnusable { why: "is damaged" })?;
    let mut lines = text.lines();
    let (Some(magic), Some(head_text), Some(mac_hex)) = (lines.next(), lines.next(), lines.next())
    else {
        return Err(Error::AnchorUnusable { why: "is damaged" });
    };
    let body = format!("{magic}\n{head_text}\n");
    let mut mac = [0u8; 32];
    if magic != ANCHOR_MAGIC
        || hex::decode_to_slice(mac_hex.trim(), &mut mac).is_err()
        || !bool::from(subtle::ConstantTimeEq::ct_eq(
            &anchor_mac(key, &body)[..],
            &mac[..],
        ))
    {
        return Err(Error::AnchorUnusable {
            why: "was changed outside Keyward (its seal does not match this vault)",
        });
    }
    let head: audit::Head = head_text
        .parse()
        .map_err(|_| Error::AnchorUnusable { why: "is damaged" })?;
    match audit::holds(conn, &head) {
        Ok(()) => Ok(()),
        Err(audit::Error::NotThePrefix { why, .. }) => Err(Error::RolledBack {
            expected: head.seq,
            why: if why == "the log is shorter" {
                "is shorter"
            } else {
                "differs"
            },
        }),
        Err(audit::Error::Vault(v)) => Err(v),
        Err(other) => Err(Error::Storage(other.to_string())),
    }
}

/// `vault.key`, `recovery.key` and `vault.pub` are a few hundred bytes.
const KEY_FILE_MAX: u64 = 64 * 1024;
/// `audit.pending`: each record is ~600 bytes; more than this many bytes
/// were not written by failed unlocks of ours.
const PENDING_MAX: u64 = 256 * 1024;
/// At most this many reported failures get an audit row each.
const PENDING_ROWS: usize = 100;

/// A new passphrase typed twice: the first, if the second matches it
/// (compared in constant time). Every place that asks for a new passphrase
/// (init, passwd, restore, a backup's own passphrase) checks it here.
pub fn confirmed(first: Passphrase, again: Passphrase) -> Result<Passphrase> {
    use subtle::ConstantTimeEq;
    if bool::from(first.expose().as_bytes().ct_eq(again.expose().as_bytes())) {
        Ok(first)
    } else {
        Err(Error::PassphraseMismatch)
    }
}

/// A kind of row named by id, and how errors name it.
pub(crate) struct Named {
    table: &'static str,
    /// The field a refusal names (`id`, `review`, `incident`).
    field: &'static str,
    noun: &'static str,
}

pub(crate) const ENTRY: Named = Named {
    table: "entries",
    field: "id",
    noun: "key",
};
pub(crate) const REVIEW: Named = Named {
    table: "reviews",
    field: "review",
    noun: "review",
};
pub(crate) const INCIDENT: Named = Named {
    table: "incidents",
    field: "incident",
    noun: "incident",
};

impl Named {
    /// The refusal for an id that matches no row of this kind.
    pub(crate) fn no_match(&self, given: &str) -> Error {
        Error::NoMatch {
            field: self.field,
            noun: self.noun,
            given: crate::field::truncate_for_message(given),
        }
    }

    /// The refusal for a prefix that matches several rows of this kind.
    pub(crate) fn ambiguous(&self, given: &str) -> Error {
        Error::Ambiguous {
            field: self.field,
            noun: self.noun,
            given: crate::field::truncate_for_message(given),
        }
    }
}

/// Finds the full id for an id or a unique prefix (at least 4 characters)
/// of a row of `what`: a range on the primary key (ids are lowercase hex
/// and '-', all below 'g').
pub(crate) fn resolve(vault: &Vault, what: &Named, given: &str) -> Result<String> {
    let given = given.trim().to_ascii_lowercase();
    if given.len() < 4 || !given.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        return Err(what.no_match(&given));
    }
    let ids: Vec<String> = vault
        .conn()
        .prepare_cached(&format!(
            "SELECT id FROM {} WHERE id >= ?1 AND id < ?2 LIMIT 2",
            what.table
        ))?
        .query_map(rusqlite::params![given, format!("{given}g")], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    match ids.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(what.no_match(&given)),
        _ => Err(what.ambiguous(&given)),
    }
}
