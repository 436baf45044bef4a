//! Start at login: an XDG autostart entry (`~/.config/autostart/`), which
//! every Linux desktop honours. Written by hand rather than through a
//! plugin: it is one small file, and the plugin would add IPC permissions
//! the window does not need.

use std::io;
use std::path::Path;

const FILE: &str = "keyward.desktop";

/// Creates or removes the autostart entry under `config_dir` for `exe`
/// opening the vault in `vault` with the window hidden in the tray.
pub fn apply(config_dir: &Path, enabled: bool, exe: &Path, vault: &Path) -> io::Result<()> {
    let path = config_dir.join("autostart").join(FILE);
    if !enabled {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            other => other,
        };
    }
    let exec = format!(
        "{} --vault {} --tray",
        quote(&exe.to_string_lossy()),
        quote(&vault.to_string_lossy())
    );
    let entry = format!(
        "[Desktop Entry]\nType=Application\nName=Keyward\nComment=API key rotation reminders\n\
         Exec={exec}\nIcon=keyward\nTerminal=false\nX-GNOME-Autostart-enabled=true\n"
    );
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&path, entry)
}

/// Quotes an argument as the Desktop Entry spec asks.
fn quote(arg: &str) -> String {
    let mut out = String::from("\"");
    for c in arg.chars() {
        if matches!(c, '"' | '`' | '$' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    // `%` is a field code in Exec lines.
    out.replace('%', "%%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_removes_the_entry() {
        let tmp = tempfile::tempdir().unwrap();
        let exe = Path::new("/opt/Key ward/keyward");
        let vault = Path::new("/home/a/my $vault");
        apply(tmp.path(), true, exe, vault).unwrap();
        let text = std::fs::read_to_string(tmp.path().join("autostart/keyward.desktop")).unwrap();
        assert!(
            text.contains("Exec=\"/opt/Key ward/keyward\" --vault \"/home/a/my \\$vault\" --tray"),
            "{text}"
        );
        apply(tmp.path(), false, exe, vault).unwrap();
        assert!(!tmp.path().join("autostart/keyward.desktop").exists());
        // Removing what is not there is fine.
        apply(tmp.path(), false, exe, vault).unwrap();
    }
}
