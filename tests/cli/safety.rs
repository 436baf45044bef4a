//! Hardening: how the passphrase may arrive and never travels on, core
//! dumps, terminal escaping, and files to read that are not small regular
//! files.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::*;

#[test]
fn the_passphrase_comes_from_a_descriptor_or_a_private_file_too() {
    use std::os::unix::fs::PermissionsExt;
    let kw = Kw::new();
    let file = kw._tmp.path().join("pass.txt");
    std::fs::write(&file, format!("{PASS}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let f = file.to_str().unwrap();
    let no_env = [("KEYWARD_PASSPHRASE", None)];
    let out = kw.run_env(&["list", "--passphrase-file", f], &no_env, "");
    out.refused("--passphrase-file: ");
    assert!(out.stderr.contains("chmod 600"), "{}", out.stderr);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    kw.run_env(&["--passphrase-file", f, "list"], &no_env, "")
        .ok();
    // It wins over the variable.
    kw.run_env(
        &["list", "--passphrase-file", f],
        &[("KEYWARD_PASSPHRASE", Some("not the passphrase at all"))],
        "",
    )
    .ok();
    // File descriptor 3, as `3< FILE` or a pipe from a secret store gives it.
    let mut c = Command::new("bash");
    c.args([
        "-c",
        r#"exec "$0" --passphrase-fd 3 list --json 3<"$1""#,
        env!("CARGO_BIN_EXE_keyward"),
        f,
    ])
    .env_clear()
    .env("PATH", std::env::var_os("PATH").unwrap_or_default())
    .env("HOME", &kw.home)
    .env("KEYWARD_VAULT", &kw.vault)
    .env("KEYWARD_INSECURE_TEST_KDF", "10")
    .env("TZ", "UTC")
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    kw.run_cmd(c, "").ok();
    kw.run_env(&["list", "--passphrase-fd", "9"], &no_env, "")
        .refused("--passphrase-fd 9: cannot read");
    kw.run_env(
        &["list", "--passphrase-fd", "0", "--passphrase-file", f],
        &no_env,
        "",
    )
    .refused("give one of them");
}

#[test]
fn no_program_keyward_starts_inherits_the_passphrase() {
    use std::os::unix::fs::PermissionsExt;
    let kw = Kw::new();
    kw.add_kraken();
    let repo = kw._tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let real_git = String::from_utf8(
        Command::new("bash")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_owned();
    assert!(Command::new(&real_git)
        .args(["init", "-q"])
        .current_dir(&repo)
        .status()
        .unwrap()
        .success());
    std::fs::write(repo.join("a.txt"), "nothing secret\n").unwrap();
    assert!(Command::new(&real_git)
        .args(["add", "a.txt"])
        .current_dir(&repo)
        .status()
        .unwrap()
        .success());
    // A `git` first on PATH that writes down the environment it was given.
    let bin = kw._tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let dump = kw._tmp.path().join("git-env.txt");
    std::fs::write(
        bin.join("git"),
        format!(
            "#!/bin/sh\nenv >> '{}'\nexec '{real_git}' \"$@\"\n",
            dump.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(bin.join("git"), std::fs::Permissions::from_mode(0o755)).unwrap();
    for (name, value) in [
        ("KEYWARD_NEW_PASSPHRASE", "copper meadow lantern 19 orbit"),
        (
            "KEYWARD_BACKUP_PASSPHRASE",
            "harbour violet engine 73 quartz",
        ),
    ] {
        let mut c = kw.cmd(&["scan", "--staged"]);
        c.current_dir(&repo)
            .env(
                "PATH",
                format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
            )
            .env(name, value);
        let out = kw.run_cmd(c, "");
        assert_eq!(out.code, 0, "{}", out.stderr);
        let seen = std::fs::read_to_string(&dump).unwrap();
        assert!(seen.contains("PATH="), "the fake git ran");
        for secret in [PASS, value, "KEYWARD_PASSPHRASE", name] {
            assert!(!seen.contains(secret), "git inherited {secret}");
        }
    }
}

#[test]
fn core_dumps_are_off_from_the_start() {
    let kw = Kw::new();
    // `add` waits on standard input for the secret: read its limits then.
    let mut child = kw
        .cmd(&[
            "add",
            "--platform",
            "K",
            "--label",
            "x",
            "--secret",
            "api_key",
        ])
        .spawn()
        .unwrap();
    let limits = format!("/proc/{}/limits", child.id());
    let mut core = String::new();
    for _ in 0..100 {
        core = std::fs::read_to_string(&limits)
            .unwrap_or_default()
            .lines()
            .find(|l| l.starts_with("Max core file size"))
            .unwrap_or_default()
            .to_owned();
        // The hard limit: the soft one may be 0 already by inheritance.
        if core.split_whitespace().nth(5) == Some("0") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    drop(child.stdin.take());
    let _ = child.wait();
    let fields: Vec<&str> = core.split_whitespace().collect();
    assert_eq!(fields.get(4..6), Some(&["0", "0"][..]), "{core}");
}

#[test]
fn stored_text_reaches_the_terminal_with_control_characters_escaped() {
    let kw = Kw::new();
    kw.add_kraken();
    // A file name can hold an escape sequence; the leak scan keeps where
    // it found a copy, and every listing shows that place.
    let dir = kw._tmp.path().join("files");
    std::fs::create_dir_all(&dir).unwrap();
    let evil = dir.join("bot\u{1b}]0;owned\u{7}\u{1b}[2J.env");
    std::fs::write(&evil, format!("KEY={}\n", SECRETS[1])).unwrap();
    let out = kw.run(&["scan", dir.to_str().unwrap()], "");
    assert_eq!(out.code, 1, "{}", out.stderr);
    for text in [&out.stdout, &out.stderr] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
    }
    let out = kw.run(&["findings"], "");
    out.ok();
    assert!(out.stdout.contains("leak.copy"), "{}", out.stdout);
    assert!(!out.stdout.contains('\u{1b}'), "{:?}", out.stdout);
    assert!(out.stdout.contains("\\u{1b}]0;owned"), "{:?}", out.stdout);
}

#[test]
fn files_to_read_are_refused_when_not_small_regular_files() {
    let kw = Kw::new();
    let fifo = kw._tmp.path().join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let big = kw._tmp.path().join("big.age");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(4 << 30)
        .unwrap();
    let backup_pass = [(
        "KEYWARD_BACKUP_PASSPHRASE",
        Some("harbour violet engine 73 quartz"),
    )];
    for path in [Path::new("/dev/zero"), fifo.as_path()] {
        let p = path.to_str().unwrap();
        kw.run_env(&["backup", "verify", p], &backup_pass, "")
            .refused("not a regular file");
        kw.run(&["import", p, "--format", "csv"], "")
            .refused("not a regular file");
    }
    kw.run_env(
        &["backup", "verify", big.to_str().unwrap()],
        &backup_pass,
        "",
    )
    .refused("larger than 1 GiB");
    kw.run(&["import", big.to_str().unwrap(), "--format", "csv"], "")
        .refused("larger than 32 MiB");
}
