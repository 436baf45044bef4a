//! The leak scan: trees, `--staged` in the pre-commit hook, kept copies
//! and `resolve`.

use std::process::Command;

use crate::common::*;

#[test]
fn scan_kept_lists_copies_and_resolve_checks_the_file_first() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    let dir = kw._tmp.path().join("bot");
    std::fs::create_dir_all(&dir).unwrap();
    let env = dir.join(".env");
    std::fs::write(&env, format!("API_SECRET={}\n", SECRETS[1])).unwrap();
    let config = dir.join("config.json");
    std::fs::write(&config, format!("{{\"key\": \"{}\"}}\n", SECRETS[0])).unwrap();
    assert_eq!(kw.run(&["scan", dir.to_str().unwrap()], "").code, 1);

    let out = kw.run(&["scan", "kept", "--json"], "");
    let kept: serde_json::Value = serde_json::from_str(&out.ok().stdout).unwrap();
    let kept = kept.as_array().unwrap();
    assert_eq!(kept.len(), 2, "{kept:?}");
    let of = |path: &std::path::Path| {
        let c = kept
            .iter()
            .find(|c| c["path"] == path.to_str().unwrap())
            .unwrap();
        assert_eq!(c["key_id"], id.as_str());
        c["id"].as_u64().unwrap().to_string()
    };
    let (env_copy, config_copy) = (of(&env), of(&config));
    let text = kw.run(&["scan", "kept"], "").ok().stdout.clone();
    assert!(
        text.contains(&format!("{env_copy}\t{}:1:12\t", env.display())),
        "{text}"
    );
    assert!(!text.contains(SECRETS[1]) && !text.contains(SECRETS[0]));

    // Still in its file: refused, with the way past it.
    kw.run(&["scan", "resolve", &env_copy], "")
        .refused(&format!(
            "the copy is still in {} (line 1): remove it first, or mark it resolved anyway",
            env.display()
        ));
    // Removed: resolved after searching the file again.
    std::fs::write(&env, "API_SECRET=\n").unwrap();
    let out = kw.run(&["scan", "resolve", &env_copy], "");
    assert!(
        out.ok().stderr.contains("resolved, the copy is gone"),
        "{}",
        out.stderr
    );
    // Meant to be there: resolved anyway.
    let out = kw.run(&["scan", "resolve", &config_copy, "--anyway"], "");
    assert!(
        out.ok().stderr.contains("resolved anyway"),
        "{}",
        out.stderr
    );
    kw.run(&["scan", "resolve", &config_copy], "")
        .refused(&format!(
            "copy: no open copy has id {config_copy} (see keyward scan kept)"
        ));
    kw.run(&["scan", "resolve", "x"], "").usage_error();
    let out = kw.run(&["scan", "kept"], "");
    assert!(out.ok().stdout.is_empty() && out.stderr.contains("no copies kept"));
    // One audit row each, saying whether the file was searched again.
    let log = kw.run(&["audit", "--json"], "").ok().stdout.clone();
    let rows: Vec<serde_json::Value> = serde_json::from_str::<serde_json::Value>(&log)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] == "secret.scan_resolved")
        .cloned()
        .collect();
    let checked: Vec<bool> = rows
        .iter()
        .map(|r| r["detail"]["checked_gone"].as_bool().unwrap())
        .collect();
    assert_eq!(checked, [true, false]);
}

#[test]
fn scan_finds_stored_secrets_anywhere_and_names_them_without_showing_them() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    let tree = kw._tmp.path().join("tree");
    std::fs::create_dir_all(tree.join("project/.hidden")).unwrap();
    std::fs::write(tree.join("project/readme.md"), "nothing here\n").unwrap();
    let t = tree.to_str().unwrap();
    // A clean tree: exit 0.
    let out = kw.run(&["scan", t], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("no stored secret found"),
        "{}",
        out.stderr
    );

    // Planted: hidden, git-ignored, binary, base64, and across a 1 MiB read.
    std::fs::write(
        tree.join("project/.hidden/.env"),
        format!("API_SECRET={}\n", SECRETS[1]),
    )
    .unwrap();
    std::fs::write(tree.join("project/.gitignore"), "ignored.txt\n").unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(SECRETS[1]);
    std::fs::write(
        tree.join("project/ignored.txt"),
        format!("one\ntwo {b64}\n"),
    )
    .unwrap();
    let mut bin = vec![0u8; 5000];
    bin.extend_from_slice(SECRETS[0].as_bytes());
    bin.extend_from_slice(&[0xff; 100]);
    std::fs::write(tree.join("cache.db"), &bin).unwrap();
    let mut big = vec![b'x'; (1 << 20) - 4];
    big.extend_from_slice(SECRETS[1].as_bytes());
    std::fs::write(tree.join("big.log"), &big).unwrap();

    let out = kw.run(&["scan", t, "--json"], "");
    assert_eq!(out.code, 1, "found → exit 1: {}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let found: Vec<(String, u64, u64, String, String)> = v["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let path = m["path"].as_str().unwrap();
            (
                path.strip_prefix(t).unwrap().to_owned(),
                m["line"].as_u64().unwrap(),
                m["column"].as_u64().unwrap(),
                m["field"].as_str().unwrap().to_owned(),
                m["encoding"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "/big.log".into(),
                1,
                (1 << 20) - 3,
                "api_secret".into(),
                "raw".into()
            ),
            ("/cache.db".into(), 1, 5001, "api_key".into(), "raw".into()),
            (
                "/project/.hidden/.env".into(),
                1,
                12,
                "api_secret".into(),
                "raw".into()
            ),
            (
                "/project/ignored.txt".into(),
                2,
                5,
                "api_secret".into(),
                "base64".into()
            ),
        ]
    );
    assert!(v["matches"][0]["key_id"] == id.as_str());
    let mut keys: Vec<&str> = v["summary"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["bytes", "duration_ms", "files", "skipped"]);
    assert_eq!(v["summary"]["files"], 6);
    // Text output: masked previews, never the value.
    let out = kw.run(&["scan", t], "");
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.contains("/project/.hidden/.env:1:12: "),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("API_SECRET=****"), "{}", out.stdout);
    // Kept in the vault: a finding of the key until a scan no longer finds
    // it (a relative path is kept as a full one).
    assert!(
        out.stderr
            .contains("kept in the vault until resolved: 0 new, 4 still there, 0 gone"),
        "{}",
        out.stderr
    );
    let findings = kw.run(&["findings", "--json"], "").ok().stdout.clone();
    let leak: Vec<serde_json::Value> = serde_json::from_str::<serde_json::Value>(&findings)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "leak.copy")
        .cloned()
        .collect();
    assert_eq!(leak.len(), 1, "{findings}");
    assert!(
        leak[0]["message"]
            .as_str()
            .unwrap()
            .ends_with("(line 1) and 3 more copies"),
        "{}",
        leak[0]
    );
    for f in ["big.log", "cache.db", "project/ignored.txt"] {
        std::fs::remove_file(tree.join(f)).unwrap();
    }
    let mut relative = kw.cmd(&["scan", "project"]);
    relative.current_dir(&tree);
    let out = kw.run_cmd(relative, "");
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .starts_with(&format!("{t}/project/.hidden/.env:1:12:")),
        "{}",
        out.stdout
    );
    // The copies in project/ are settled; the others, outside it, are not.
    assert!(
        out.stderr.contains("0 new, 1 still there, 1 gone"),
        "{}",
        out.stderr
    );
    std::fs::remove_file(tree.join("project/.hidden/.env")).unwrap();
    let out = kw.run(&["scan", t], "");
    assert_eq!(out.code, 0);
    assert!(
        out.stderr.contains("0 new, 0 still there, 3 gone"),
        "{}",
        out.stderr
    );
    let findings = kw.run(&["findings", "--json"], "").ok().stdout.clone();
    assert!(!findings.contains("leak.copy"), "{findings}");
    // Planted again for what follows.
    std::fs::write(
        tree.join("project/.hidden/.env"),
        format!("API_SECRET={}\n", SECRETS[1]),
    )
    .unwrap();
    // Only one key's secrets; a size limit; errors exit 2.
    let other = kw
        .run(
            &[
                "add",
                "--platform",
                "OKX",
                "--label",
                "x",
                "--secret",
                "api_secret",
            ],
            "okx-other-secret-123456",
        )
        .ok()
        .stdout
        .trim()
        .to_owned();
    let out = kw.run(&["scan", t, "--key", &other], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = kw.run(&["scan", t, "--key", &other, "--key", &id, "--json"], "");
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!out.stdout.contains(&other), "{}", out.stdout);
    let out = kw.run(&["scan", t, "--max-file-mb", "0", "--json"], "");
    assert_eq!(out.code, 0);
    assert!(out.stdout.contains("\"skipped\": 3"), "{}", out.stdout);
    let out = kw.run(&["scan", "/nonexistent/place"], "");
    assert_eq!(out.code, 2);
    assert!(out
        .stderr
        .starts_with("error: path: /nonexistent/place does not exist"));
    let out = kw.run_env(&["scan", t], &[("KEYWARD_PASSPHRASE", Some("wrong"))], "");
    assert_eq!(
        (out.code, out.stderr.trim()),
        (2, "error: wrong passphrase")
    );
    let out = kw.run(&["audit", "--json"], "");
    assert!(out.ok().stdout.contains("secret.scan"));

    // --suggested: the usual places under HOME that exist.
    let home = kw._tmp.path().join("home");
    std::fs::create_dir_all(home.join(".config/app")).unwrap();
    let h = home.to_str().unwrap();
    let out = kw.run_env(&["scan", "--suggested"], &[("HOME", Some(h))], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    std::fs::write(
        home.join(".bash_history"),
        format!("ls\nexport SECRET={}\n", SECRETS[1]),
    )
    .unwrap();
    let out = kw.run_env(&["scan", "--suggested", "--json"], &[("HOME", Some(h))], "");
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["matches"][0]["line"], 2);
    assert!(v["matches"][0]["path"]
        .as_str()
        .unwrap()
        .ends_with("home/.bash_history"));
    let empty = kw._tmp.path().join("empty-home");
    std::fs::create_dir_all(&empty).unwrap();
    let out = kw.run_env(
        &["scan", "--suggested"],
        &[("HOME", Some(empty.to_str().unwrap()))],
        "",
    );
    assert_eq!(out.code, 2);
    assert!(out
        .stderr
        .starts_with("error: suggested: none of the usual places exists"));
    let out = kw.run(&["scan"], "");
    assert_eq!(out.code, 2, "no place and no --suggested: {}", out.stderr);
}

#[test]
fn the_pre_commit_hook_blocks_a_commit_that_adds_a_stored_secret() {
    let kw = Kw::new();
    kw.add_kraken();
    let repo = kw._tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(&repo)
            .env("HOME", &kw.home)
            .env("KEYWARD_VAULT", &kw.vault)
            .env("KEYWARD_PASSPHRASE", PASS)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    std::path::Path::new(env!("CARGO_BIN_EXE_keyward"))
                        .parent()
                        .unwrap()
                        .display(),
                    std::env::var("PATH").unwrap()
                ),
            )
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.org")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.org")
            .output()
            .unwrap()
    };
    assert!(git(&["init", "-q"]).status.success());
    // The hook the README shows.
    let hook = repo.join(".git/hooks/pre-commit");
    std::fs::write(&hook, include_str!("../../scripts/pre-commit-hook")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(repo.join("app.py"), "print('hello')\n").unwrap();
    git(&["add", "app.py"]);
    let ok = git(&["commit", "-q", "-m", "clean"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    std::fs::write(
        repo.join("config.py"),
        format!("SECRET = '{}'\n", SECRETS[1]),
    )
    .unwrap();
    git(&["add", "config.py"]);
    let blocked = git(&["commit", "-q", "-m", "oops"]);
    assert!(!blocked.status.success(), "the commit went through");
    let said = String::from_utf8_lossy(&blocked.stdout).into_owned()
        + &String::from_utf8_lossy(&blocked.stderr);
    assert!(said.contains("config.py:1:11"), "{said}");
    assert!(!said.contains(SECRETS[1]), "the hook printed the secret");

    // What is staged counts, not the working tree: the secret removed from
    // the file but still in the index is still refused...
    std::fs::write(repo.join("config.py"), "SECRET = os.environ['K']\n").unwrap();
    let blocked = git(&["commit", "-q", "-m", "oops"]);
    assert!(!blocked.status.success(), "the staged secret went through");
    // (git sends a hook's output to its stderr)
    let said = String::from_utf8_lossy(&blocked.stderr);
    assert!(said.contains("config.py:1:11"), "{said}");
    assert!(!said.contains(SECRETS[1]), "the hook printed the secret");
    // ...and once the clean version is staged, the commit goes through
    // with a secret left unstaged in another file (and in a staged
    // symbolic link's target, which is not the link's content).
    git(&["add", "config.py"]);
    std::fs::write(repo.join("notes.txt"), format!("unstaged {}\n", SECRETS[1])).unwrap();
    std::os::unix::fs::symlink("notes.txt", repo.join("link")).unwrap();
    git(&["add", "link"]);
    let ok = git(&["commit", "-q", "-m", "env"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // `git commit -a` stages through a temporary index the hook must read.
    std::fs::write(repo.join("app.py"), format!("K = '{}'\n", SECRETS[1])).unwrap();
    let blocked = git(&["commit", "-q", "-a", "-m", "all"]);
    assert!(!blocked.status.success(), "commit -a went through");
    assert!(String::from_utf8_lossy(&blocked.stderr).contains("app.py:1:6"));
    git(&["checkout", "-q", "--", "app.py"]);

    // Run by hand from a folder with `diff.relative` set: still every
    // staged file of the repository.
    std::fs::create_dir_all(repo.join("sub")).unwrap();
    std::fs::write(repo.join("sub/x.txt"), "x\n").unwrap();
    git(&["add", "sub/x.txt"]);
    git(&["config", "diff.relative", "true"]);
    std::fs::write(repo.join("top.env"), format!("K={}\n", SECRETS[1])).unwrap();
    git(&["add", "top.env"]);
    let mut by_hand = kw.cmd(&["scan", "--staged", "--json"]);
    by_hand.current_dir(repo.join("sub"));
    let out = kw.run_cmd(by_hand, "");
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stdout.contains("\"path\": \"top.env\""),
        "{}",
        out.stdout
    );
    // A replace ref cannot make git show clean content in its place.
    let blob = String::from_utf8(git(&["rev-parse", ":top.env"]).stdout).unwrap();
    std::fs::write(repo.join("clean.tmp"), "K=nothing\n").unwrap();
    let clean = String::from_utf8(git(&["hash-object", "-w", "clean.tmp"]).stdout).unwrap();
    std::fs::remove_file(repo.join("clean.tmp")).unwrap();
    assert!(git(&["replace", blob.trim(), clean.trim()])
        .status
        .success());
    let blocked = git(&["commit", "-q", "-m", "replaced"]);
    assert!(!blocked.status.success(), "a replace ref hid the secret");
    git(&["replace", "-d", blob.trim()]);
    git(&["rm", "-q", "--cached", "top.env"]);
    std::fs::remove_file(repo.join("top.env")).unwrap();
    // Git LFS: the index holds a pointer; the content it stands for is in
    // the LFS store (as git-lfs's clean filter leaves it), and searched.
    let oid = "4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393";
    let store = repo.join(".git/lfs/objects/4d/7a");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::write(store.join(oid), format!("weights\nkey {}\n", SECRETS[1])).unwrap();
    std::fs::write(
        repo.join("model.bin"),
        format!("version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 50\n"),
    )
    .unwrap();
    git(&["add", "model.bin"]);
    let blocked = git(&["commit", "-q", "-m", "lfs"]);
    assert!(!blocked.status.success(), "the LFS content went through");
    let said = String::from_utf8_lossy(&blocked.stderr);
    assert!(said.contains("model.bin:2:5"), "{said}");
    assert!(!said.contains(SECRETS[1]), "the hook printed the secret");
    // Its content missing from the store: not searched, so refused.
    std::fs::remove_file(store.join(oid)).unwrap();
    let blocked = git(&["commit", "-q", "-m", "lfs"]);
    assert!(
        !blocked.status.success(),
        "an unsearched LFS file went through"
    );
    let said = String::from_utf8_lossy(&blocked.stderr);
    assert!(said.contains("not in the local LFS store"), "{said}");
    git(&["rm", "-q", "--cached", "model.bin"]);
    // A file over the size limit is not let through unsearched either.
    let mut limited = kw.cmd(&["scan", "--staged", "--max-file-mb", "0"]);
    limited.current_dir(&repo);
    let out = kw.run_cmd(limited, "");
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("could not be searched, the first sub/x.txt (larger than"),
        "{}",
        out.stderr
    );
    let ok = git(&["commit", "-q", "-m", "sub"]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // A deletion only: nothing to search, no passphrase needed.
    git(&["rm", "-q", "config.py"]);
    let out = git(&["commit", "-q", "-m", "rm"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing staged to search"));
    // Outside a repository: an error (2), not "nothing found".
    let mut outside = kw.cmd(&["scan", "--staged"]);
    outside.current_dir(&kw.home);
    let out = kw.run_cmd(outside, "");
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr
            .starts_with("error: staged: git diff-index: fatal: not a git repository"),
        "{}",
        out.stderr
    );
}
