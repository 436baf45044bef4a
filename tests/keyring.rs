//! "Remember on this device" against a real Secret Service: gnome-keyring
//! on a private D-Bus session (started and stopped by
//! `scripts/with-desktop.sh`), driven through the CLI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Command, Output, Stdio};

const PASS: &str = "orbit lantern cobalt meadow 42";
const SECRET: &str = "kr4ken-s3cret-keyring-Zq9";

#[path = "support/desktop.rs"]
mod desktop;

use desktop::in_desktop;

/// Runs keyward; `pass`: with KEYWARD_PASSPHRASE or without it.
fn kw(args: &[&str], stdin: &str, pass: bool, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_keyward"));
    c.args(args)
        .env("KEYWARD_INSECURE_TEST_KDF", "10")
        .env_remove("KEYWARD_PASSPHRASE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if pass {
        c.env("KEYWARD_PASSPHRASE", PASS);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn a_remembered_vault_opens_without_the_passphrase_until_forgotten() {
    if !in_desktop("a_remembered_vault_opens_without_the_passphrase_until_forgotten") {
        return;
    }
    assert!(kw(&["init"], "", true, &[]).status.success());
    let add = kw(
        &[
            "add",
            "--platform",
            "Kraken",
            "--label",
            "grid bot",
            "--secret",
            "api_secret",
        ],
        SECRET,
        true,
        &[],
    );
    assert!(add.status.success(), "{:?}", text(&add));
    let id = text(&add).0.trim().to_owned();

    // Not remembered: no passphrase, no way in.
    let o = kw(&["list"], "", false, &[]);
    assert!(!o.status.success());
    assert!(
        text(&o)
            .1
            .contains("KEYWARD_PASSPHRASE, or run in a terminal"),
        "{:?}",
        text(&o)
    );

    // Remembering needs the passphrase once; then the keyring opens it.
    let o = kw(&["remember"], "", false, &[]);
    assert!(!o.status.success(), "remember without the passphrase");
    let o = kw(&["remember"], "", true, &[]);
    assert!(o.status.success(), "{:?}", text(&o));
    let o = kw(&["reveal", &id, "api_secret"], "", false, &[]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert_eq!(text(&o).0, SECRET);
    // The Secret Service holds one item for this vault.
    let found = Command::new("secret-tool")
        .args(["search", "--all", "service", "Keyward vault"])
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&found.stdout).into_owned()
        + &String::from_utf8_lossy(&found.stderr);
    assert!(listing.contains("AGE-SECRET-KEY-1"), "{listing}");
    assert!(
        !listing.contains(SECRET),
        "only the identity is in the keyring"
    );

    // Remembered, listing needs no passphrase — but nothing that exports
    // every secret or grants lasting access goes through on the keyring
    // alone: a backup, a recovery code, remembering again.
    let dir = std::env::var("KEYWARD_VAULT").unwrap();
    let out = format!("{dir}-backup.age");
    let backup_pass = [(
        "KEYWARD_BACKUP_PASSPHRASE",
        "harbour violet engine 73 quartz",
    )];
    for args in [
        &["backup", "--out", out.as_str()][..],
        &["recovery", "create"][..],
        &["remember"][..],
    ] {
        let o = kw(args, "", false, &backup_pass);
        assert!(!o.status.success(), "{args:?} on the keyring alone");
        assert!(
            text(&o)
                .1
                .contains("KEYWARD_PASSPHRASE, or run in a terminal"),
            "{args:?}: {:?}",
            text(&o)
        );
    }
    assert!(!Path::new(&out).exists());
    let o = kw(&["backup", "--out", &out], "", true, &backup_pass);
    assert!(o.status.success(), "{:?}", text(&o));

    // No session bus: a clear message, then the passphrase.
    let o = kw(
        &["list"],
        "",
        false,
        &[("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")],
    );
    let (_, err) = text(&o);
    assert!(err.contains("keyring: no system keyring (Secret Service) on this session; asking for the passphrase"), "{err}");
    assert!(!o.status.success());

    // Forget: the passphrase is needed again; the audit log has the remember.
    let o = kw(&["forget"], "", false, &[]);
    assert!(o.status.success(), "{:?}", text(&o));
    assert!(text(&o).0.starts_with("forgotten on this device"));
    let o = kw(&["list"], "", false, &[]);
    assert!(!o.status.success());
    let o = kw(&["forget"], "", false, &[]);
    assert!(text(&o).0.starts_with("this vault was not remembered"));
    let o = kw(&["audit", "--json"], "", true, &[]);
    assert!(text(&o).0.contains("vault.remember"));
    // A locked keyring (remembered again, then locked): the same, at once.
    assert!(kw(&["remember"], "", true, &[]).status.success());
    let lock = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ])
        .stdout(Stdio::null())
        .status();
    assert!(
        lock.is_ok_and(|s| s.success()),
        "locking the login keyring over D-Bus"
    );
    {
        let started = std::time::Instant::now();
        let o = kw(&["list"], "", false, &[]);
        let (_, err) = text(&o);
        assert!(
            err.contains("keyring: the system keyring is locked; asking for the passphrase"),
            "{err}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "it waited for an unlock prompt"
        );
    }
}
