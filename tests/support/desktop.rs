//! Tests against real desktop services (a Secret Service, a notification
//! daemon) run themselves again inside a throwaway desktop: a private
//! D-Bus session with the services `scripts/with-desktop.sh` starts.

use std::path::Path;
use std::process::Command;

/// Runs this test again inside a throwaway desktop, unless already in one.
pub fn in_desktop(test: &str) -> bool {
    if std::env::var_os("KEYWARD_DESKTOP_DIR").is_some() {
        return true;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("dbus-run-session")
        .arg("--")
        .arg(root.join("scripts/with-desktop.sh"))
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .status()
        .expect("dbus-run-session (package dbus) must be installed");
    assert!(status.success(), "{test} failed inside the desktop session");
    false
}
