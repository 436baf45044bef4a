//! The process made hard to read from outside, first thing at start (as
//! KeePassXC does): no core dump, and not dumpable.
//!
//! A core dump of an unlocked Keyward would write the vault identity and
//! any decrypted secret to disk in the clear. A non-dumpable process also
//! cannot be attached to with ptrace by other processes of the same user,
//! and its `/proc/PID/mem` and `/proc/PID/environ` become root's only.
//! This process holds the vault; WebKitGTK's web and network processes are
//! programs of their own (exec makes them dumpable again, and we do not
//! control them): they hold the page, which sees a secret only while it is
//! revealed.
//!
//! What we cannot wipe: WebKit's JavaScript heap keeps a revealed value
//! until its garbage collector reuses the memory, Tauri's IPC keeps the
//! JSON text of a reveal's answer in buffers it frees without wiping, and
//! `age` and `scrypt` hold short-lived copies of the passphrase and the
//! identity in their own structures. These live only in this process's
//! memory, which the settings here keep from disk and from other processes.

/// Turns core dumps off and makes the process non-dumpable. An error means
/// the platform refused; the caller says so and goes on.
pub fn harden() -> std::io::Result<()> {
    use rustix::process::{set_dumpable_behavior, setrlimit, DumpableBehavior, Resource, Rlimit};
    setrlimit(
        Resource::Core,
        Rlimit {
            current: Some(0),
            maximum: Some(0),
        },
    )?;
    set_dumpable_behavior(DumpableBehavior::NotDumpable)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use rustix::process::{dumpable_behavior, getrlimit, DumpableBehavior, Resource};

    #[test]
    fn no_core_dump_and_not_dumpable() {
        super::harden().unwrap();
        assert_eq!(dumpable_behavior().unwrap(), DumpableBehavior::NotDumpable);
        let core = getrlimit(Resource::Core);
        assert_eq!((core.current, core.maximum), (Some(0), Some(0)));
    }
}
