//! The CLI contract, as transcripts: each test runs the real `keyward`
//! binary against a real vault in a temp dir and checks exit status, stdout
//! and stderr. Secrets go in on stdin only; no output but `reveal` may hold one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PASS: &str = "orbit lantern cobalt meadow 42";
/// Every secret used below; checked against every output but `reveal`'s.
const SECRETS: [&str; 4] = [
    "AKIA-kraken-public-7788",
    "kr4ken-s3cret-Zq9",
    "pem-line-two-XYZ",
    "okx-passphrase-Lm3",
];

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    #[track_caller]
    fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
    /// A refused operation: exit 1 and exactly one `error: …` line.
    #[track_caller]
    fn refused(&self, message: &str) -> &Self {
        assert_eq!(
            self.code, 1,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.starts_with("warning:"))
            .collect();
        assert_eq!(lines.len(), 1, "one line expected: {:?}", self.stderr);
        assert!(
            lines[0].starts_with("error: ") && lines[0].contains(message),
            "expected `error: …{message}…`, got {:?}",
            lines[0]
        );
        self
    }
    #[track_caller]
    fn usage_error(&self) -> &Self {
        assert_eq!(self.code, 2, "stderr: {}", self.stderr);
        self
    }
}

/// A throwaway vault and the environment every run gets.
struct Kw {
    _tmp: tempfile::TempDir,
    vault: PathBuf,
    home: PathBuf,
    outputs: std::cell::RefCell<Vec<String>>,
}

impl Kw {
    fn new() -> Kw {
        let kw = Kw::empty();
        kw.run(&["init"], "").ok();
        kw
    }

    fn empty() -> Kw {
        let tmp = tempfile::tempdir().unwrap();
        let vault = tmp.path().join("vault");
        let home = tmp.path().join("home");
        std::fs::create_dir_all(&home).unwrap();
        Kw {
            _tmp: tmp,
            vault,
            home,
            outputs: Default::default(),
        }
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_keyward"));
        c.args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("XDG_DATA_HOME", self.home.join("data"))
            .env("KEYWARD_VAULT", &self.vault)
            .env("KEYWARD_PASSPHRASE", PASS)
            .env("KEYWARD_INSECURE_TEST_KDF", "10")
            // Calendar days are counted in the user's zone: fix it.
            .env("TZ", "UTC")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    fn run(&self, args: &[&str], stdin: &str) -> Out {
        self.run_cmd(self.cmd(args), stdin)
    }

    /// Runs with some variables changed: `Some(value)` sets, `None` removes.
    fn run_env(&self, args: &[&str], env: &[(&str, Option<&str>)], stdin: &str) -> Out {
        let mut c = self.cmd(args);
        for (k, v) in env {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        self.run_cmd(c, stdin)
    }

    fn run_cmd(&self, mut c: Command, stdin: &str) -> Out {
        let is_reveal = c.get_args().any(|a| a == "reveal");
        let mut child = c.spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let code = out.status.code().expect("killed by a signal");
        assert_ne!(
            code,
            101,
            "panicked: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let o = Out {
            code,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        };
        // `reveal`'s stdout is the one place a secret may appear.
        if !is_reveal {
            self.outputs.borrow_mut().push(o.stdout.clone());
        }
        self.outputs.borrow_mut().push(o.stderr.clone());
        o
    }

    fn add_kraken(&self) -> String {
        let out = self.run(
            &[
                "add",
                "--platform",
                "Kraken",
                "--label",
                "grid bot",
                "--perm",
                "read,trade",
                "--ip",
                "203.0.113.7",
                "--ip",
                "198.51.100.0/24",
                "--rotate-days",
                "90",
                "--created",
                &days_ago(KRAKEN_AGE_DAYS),
                "--tag",
                "bot",
                "--secret",
                "api_key",
                "--secret",
                "api_secret",
            ],
            &format!("{}\n{}\n", SECRETS[0], SECRETS[1]),
        );
        out.ok();
        let id = out.stdout.trim().to_owned();
        assert_eq!(id.len(), 36, "add prints the new id: {id:?}");
        id
    }

    fn list_json(&self) -> Vec<serde_json::Value> {
        let out = self.run(&["list", "--json"], "");
        out.ok();
        serde_json::from_str(&out.stdout).unwrap()
    }
}

impl Drop for Kw {
    /// No command's output but `reveal` ever carries a secret value.
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        for text in self.outputs.borrow().iter() {
            for s in SECRETS {
                assert!(!text.contains(s), "a secret leaked into output: {text}");
            }
        }
    }
}

#[test]
fn init_creates_a_vault_once() {
    let kw = Kw::empty();
    let out = kw.run(&["init"], "");
    out.ok();
    assert!(out.stdout.contains("created a vault in"));
    assert!(out.stderr.contains("warning: KEYWARD_INSECURE_TEST_KDF"));
    for f in ["vault.db", "vault.key"] {
        assert!(kw.vault.join(f).exists(), "{f}");
    }
    kw.run(&["init"], "").refused("a vault already exists in");
}

#[test]
fn init_refuses_a_weak_passphrase() {
    let kw = Kw::empty();
    kw.run_env(
        &["init"],
        &[("KEYWARD_PASSPHRASE", Some("password123"))],
        "",
    )
    .refused("passphrase: too weak: ");
    assert!(!kw.vault.join("vault.key").exists());
}

#[test]
fn without_a_passphrase_or_a_terminal_it_says_how_to_give_one() {
    let kw = Kw::new();
    kw.run_env(&["list"], &[("KEYWARD_PASSPHRASE", None)], "")
        .refused(
            "passphrase: give --passphrase-fd N, --passphrase-file FILE or KEYWARD_PASSPHRASE, or run in a terminal",
        );
}

#[test]
fn commands_on_a_missing_vault_say_how_to_make_one() {
    let kw = Kw::empty();
    kw.run(&["list"], "").refused("no vault in");
    kw.run(&["list"], "").refused("run `keyward init`");
}

#[test]
fn wrong_passphrase_says_only_that() {
    let kw = Kw::new();
    let out = kw.run_env(
        &["list"],
        &[("KEYWARD_PASSPHRASE", Some("orbit lantern cobalt meadow 41"))],
        "",
    );
    out.refused("wrong passphrase");
    assert_eq!(out.stderr.trim(), "error: wrong passphrase");
    // …and it is in the audit log after the next unlock.
    let audit = kw.run(&["audit", "--json"], "");
    audit.ok();
    assert!(audit.stdout.contains("vault.unlock_failed"));
}

#[test]
fn add_list_show_round_trip_with_the_json_contract() {
    let kw = Kw::new();
    let id = kw.add_kraken();

    let list = kw.run(&["list"], "");
    list.ok();
    let mut lines = list.stdout.lines();
    assert!(lines.next().unwrap().starts_with("ID"));
    let row = lines.next().unwrap();
    for cell in [
        &id[..8],
        "Kraken",
        "grid bot",
        "production",
        "active",
        "read,trade",
        "2 ip",
        &days_ago(KRAKEN_AGE_DAYS - 90),
    ] {
        assert!(row.contains(cell), "{cell} in {row}");
    }

    let entries = kw.list_json();
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    let mut keys: Vec<&str> = e.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    for want in [
        "id",
        "platform",
        "account",
        "label",
        "environment",
        "owner",
        "purpose",
        "permissions",
        "ip_allowlist",
        "ip_note",
        "rotation_days",
        "created_at",
        "expires_at",
        "last_rotated_at",
        "last_used_at",
        "last_reviewed_at",
        "next_due_at",
        "status",
        "tags",
        "notes",
        "secret_fields",
    ] {
        assert!(keys.contains(&want), "{want} missing from {keys:?}");
    }
    assert_eq!(e["id"], id);
    assert_eq!(e["permissions"], serde_json::json!(["read", "trade"]));
    assert_eq!(
        e["ip_allowlist"],
        serde_json::json!(["203.0.113.7", "198.51.100.0/24"])
    );
    assert_eq!(
        e["secret_fields"],
        serde_json::json!(["api_key", "api_secret"])
    );
    assert_eq!(e["rotation_days"], 90);
    assert_eq!(
        e["created_at"],
        format!("{}T00:00:00Z", days_ago(KRAKEN_AGE_DAYS))
    );
    assert_eq!(
        e["next_due_at"],
        format!("{}T00:00:00Z", days_ago(KRAKEN_AGE_DAYS - 90))
    );
    assert_eq!(e["account"], serde_json::Value::Null);

    let show = kw.run(&["show", &id[..8], "--json"], "");
    show.ok();
    let one: serde_json::Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(&one, e);

    let human = kw.run(&["show", &id], "");
    human.ok();
    assert!(human.stdout.contains("secret fields  api_key, api_secret"));
    assert!(human
        .stdout
        .contains("ip allowlist   203.0.113.7, 198.51.100.0/24"));
}

#[test]
fn empty_list_says_how_to_add() {
    let kw = Kw::new();
    let out = kw.run(&["list"], "");
    out.ok();
    assert!(out.stdout.contains("no keys yet"));
    assert_eq!(kw.list_json().len(), 0);
}

#[test]
fn validation_errors_name_the_field_and_store_nothing() {
    let kw = Kw::new();
    let cases: &[(&[&str], &str)] = &[
        (&["add", "--label", "x"], "platform: is required"),
        (&["add", "--platform", "Kraken"], "label: is required"),
        (
            &[
                "add",
                "--platform",
                "K",
                "--label",
                "x",
                "--ip",
                "10.0.0.300",
            ],
            "ip_allowlist: '10.0.0.300' is not an IPv4/IPv6 address or CIDR",
        ),
        (
            &[
                "add",
                "--platform",
                "K",
                "--label",
                "x",
                "--ip",
                "10.1.0.0/8",
            ],
            "did you mean 10.0.0.0/8?",
        ),
        (
            &["add", "--platform", "K", "--label", "x", "--env", "live"],
            "environment: must be one of production, staging, development, test",
        ),
        (
            &["add", "--platform", "K", "--label", "x", "--perm", "admin"],
            "permissions: unknown scope 'admin'",
        ),
        (
            &[
                "add",
                "--platform",
                "K",
                "--label",
                "x",
                "--rotate-days",
                "0",
            ],
            "rotation_days: must be a whole number of days from 1 to 3650",
        ),
        (
            &[
                "add",
                "--platform",
                "K",
                "--label",
                "x",
                "--rotate-days",
                "soon",
            ],
            "rotation_days:",
        ),
        (
            &[
                "add",
                "--platform",
                "K",
                "--label",
                "x",
                "--expires",
                "2026-13-01",
            ],
            "expires_at: expected a real date as YYYY-MM-DD",
        ),
        (
            &[
                "add",
                "--platform",
                "K",
                "--label",
                "x",
                "--created",
                "2026-05-01",
                "--expires",
                "2026-04-01",
            ],
            "expires_at: must not be before created_at",
        ),
        (
            &[
                "add",
                "--platform",
                "K",
                "--label",
                "x",
                "--tag",
                "two words",
            ],
            "tags:",
        ),
    ];
    for (args, message) in cases {
        kw.run(args, "").refused(message);
    }
    assert_eq!(kw.list_json().len(), 0);
}

#[test]
fn secrets_come_from_stdin_one_line_per_field() {
    let kw = Kw::new();
    let args = [
        "add",
        "--platform",
        "OKX",
        "--label",
        "hedge",
        "--secret",
        "api_key",
        "--secret",
        "passphrase",
    ];
    kw.run(&args, &format!("{}\n", SECRETS[0]))
        .refused("stdin: expected 2 lines, one per --secret (api_key, passphrase), got 1");
    kw.run(&args, "").refused("got 0");
    kw.run(&args, "a\nb\nc\n").refused("got 3");
    kw.run(
        &[
            "add",
            "--platform",
            "OKX",
            "--label",
            "x",
            "--secret",
            "api_key",
        ],
        "",
    )
    .refused("secret field: 'api_key' is empty");
    assert_eq!(kw.list_json().len(), 0);

    let out = kw.run(&args, &format!("{}\r\n{}\r\n", SECRETS[0], SECRETS[3]));
    out.ok();
    let id = out.stdout.trim();
    let v = kw.run(&["reveal", id, "passphrase"], "");
    v.ok();
    assert_eq!(
        v.stdout, SECRETS[3],
        "CRLF input is trimmed, output has no newline"
    );
}

#[test]
fn a_value_typed_as_an_argument_is_refused_and_not_echoed() {
    let kw = Kw::new();
    let secret_arg = format!("api_secret={}", SECRETS[1]);
    let out = kw.run(
        &[
            "add",
            "--platform",
            "K",
            "--label",
            "x",
            "--secret",
            &secret_arg,
        ],
        "ignored\n",
    );
    out.refused("values are read from stdin, never from arguments");
    assert!(!out.stderr.contains(SECRETS[1]));
}

#[test]
fn a_single_secret_field_takes_all_of_stdin_so_a_pem_fits() {
    let kw = Kw::new();
    let pem = format!(
        "-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----\n",
        SECRETS[2]
    );
    let out = kw.run(
        &[
            "add",
            "--platform",
            "Coinbase",
            "--label",
            "cdp",
            "--secret",
            "private_key",
        ],
        &pem,
    );
    out.ok();
    let id = out.stdout.trim().to_owned();
    let v = kw.run(&["reveal", &id, "private_key"], "");
    v.ok();
    assert_eq!(v.stdout, pem.trim_end_matches('\n'));
}

#[test]
fn reveal_prints_the_exact_value_and_is_audited() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    let v = kw.run(&["reveal", &id, "api_secret"], "");
    v.ok();
    assert_eq!(v.stdout, SECRETS[1]);
    kw.run(&["reveal", &id, "nope"], "")
        .refused("secret field: 'nope' is not stored for this key");
    kw.run(&["reveal", "ffffffff", "api_secret"], "")
        .refused("id: no key matches 'ffffffff'");
    let audit = kw.run(&["audit", "--json"], "");
    audit.ok();
    let log: Vec<serde_json::Value> = serde_json::from_str(&audit.stdout).unwrap();
    let reveals: Vec<_> = log
        .iter()
        .filter(|r| r["action"] == "secret.reveal")
        .collect();
    assert_eq!(reveals.len(), 1);
    assert_eq!(reveals[0]["detail"]["field"], "api_secret");
    assert_eq!(reveals[0]["origin"], "cli");
    assert_eq!(reveals[0]["entry_id"], id);
}

#[test]
fn edit_replaces_given_fields_and_clears_empty_ones() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    kw.run(
        &[
            "edit",
            &id[..6],
            "--label",
            "grid bot v2",
            "--owner",
            "alice",
            "--clear-ips",
            "--tag",
            "grid,eu",
        ],
        "",
    )
    .ok();
    let e = &kw.list_json()[0];
    assert_eq!(e["label"], "grid bot v2");
    assert_eq!(e["owner"], "alice");
    assert_eq!(e["ip_allowlist"], serde_json::json!([]));
    assert_eq!(e["tags"], serde_json::json!(["grid", "eu"]));
    assert_eq!(e["platform"], "Kraken", "untouched");

    kw.run(&["edit", &id, "--owner", "", "--rotate-days", ""], "")
        .ok();
    let e = &kw.list_json()[0];
    assert_eq!(e["owner"], serde_json::Value::Null);
    assert_eq!(e["rotation_days"], serde_json::Value::Null);
    // No period of its own: the default for a trading key, 60 days.
    assert_eq!(
        e["next_due_at"],
        format!("{}T00:00:00Z", days_ago(KRAKEN_AGE_DAYS - 60))
    );
    assert_eq!(
        e["due_reason"],
        serde_json::json!({"kind": "period", "days": 60, "default": true})
    );

    kw.run(
        &[
            "edit",
            &id,
            "--secret",
            "api_secret",
            "--remove-secret",
            "api_key",
        ],
        "rotated-value\n",
    )
    .ok();
    let e = &kw.list_json()[0];
    assert_eq!(e["secret_fields"], serde_json::json!(["api_secret"]));

    kw.run(&["edit", &id, "--clear-ips", "--ip", "1.2.3.4"], "")
        .refused("--clear-ips cannot be used with --ip");
    kw.run(&["edit", &id, "--ip", "nope"], "")
        .refused("ip_allowlist:");
    kw.run(&["edit", "0123abcd", "--label", "x"], "")
        .refused("id: no key matches '0123abcd'");
    kw.run(&["edit", "ab", "--label", "x"], "")
        .refused("id: no key matches 'ab'");
}

#[test]
fn status_follows_the_lifecycle() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    let out = kw.run(&["set-status", &id, "suspended"], "");
    out.ok();
    assert_eq!(out.stdout.trim(), format!("{} is suspended", &id[..8]));
    kw.run(&["set-status", &id, "revoked"], "").ok();
    kw.run(&["set-status", &id, "active"], "")
        .refused("status: a revoked key cannot become active");
    kw.run(&["set-status", &id, "retired"], "").ok();
    kw.run(&["set-status", &id, "rotating"], "").usage_error();
    kw.run(&["set-status", &id, "bogus"], "").usage_error();
    assert_eq!(kw.list_json()[0]["status"], "retired");
}

#[test]
fn delete_removes_the_key() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    let out = kw.run(&["delete", &id], "");
    out.ok();
    assert_eq!(out.stdout.trim(), format!("deleted {}", &id[..8]));
    assert_eq!(kw.list_json().len(), 0);
    kw.run(&["delete", &id], "").refused("id: no key matches");
}

#[test]
fn audit_lists_every_action_and_verifies_the_chain() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    kw.run(&["edit", &id, "--owner", "bob"], "").ok();
    kw.run(&["set-status", &id, "suspended"], "").ok();
    kw.run(&["delete", &id], "").ok();
    let out = kw.run(&["audit", "--json"], "");
    out.ok();
    let log: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    let actions: Vec<&str> = log.iter().map(|r| r["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| !a.starts_with("vault.unlock"))
            .copied()
            .collect::<Vec<_>>(),
        [
            "vault.init",
            "entry.create",
            "entry.edit",
            "entry.status",
            "entry.delete"
        ]
    );
    for (i, r) in log.iter().enumerate() {
        assert_eq!(r["seq"], i as u64 + 1);
        assert_eq!(r["hash"].as_str().unwrap().len(), 64);
    }
    let human = kw.run(&["audit"], "");
    human.ok();
    assert!(human.stdout.contains("entry.status"));
    let v = kw.run(&["audit", "--verify"], "");
    v.ok();
    assert!(v.stdout.starts_with("audit log: ") && v.stdout.contains("chain intact"));
    let c = kw.run(&["check"], "");
    c.ok();
    assert!(c.stdout.starts_with("vault ok"));
}

#[test]
fn passwd_changes_the_passphrase() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    let new = "velvet harbour quartz tundra 7";
    kw.run_env(&["passwd"], &[("KEYWARD_NEW_PASSPHRASE", Some("weak"))], "")
        .refused("passphrase: too weak");
    let out = kw.run_env(&["passwd"], &[("KEYWARD_NEW_PASSPHRASE", Some(new))], "");
    out.ok();
    assert_eq!(out.stdout.trim(), "passphrase changed");
    kw.run(&["list"], "").refused("wrong passphrase");
    kw.run_env(
        &["show", &id, "--json"],
        &[("KEYWARD_PASSPHRASE", Some(new))],
        "",
    )
    .ok();
}

#[test]
fn vault_is_taken_from_the_flag_anywhere_then_the_environment_then_the_data_dir() {
    let kw = Kw::new();
    let other = kw.home.join("other-vault");
    let other = other.to_str().unwrap();
    kw.run_env(&["--vault", other, "init"], &[("KEYWARD_VAULT", None)], "")
        .ok();
    // After the subcommand too.
    kw.run_env(
        &[
            "add",
            "--platform",
            "Bybit",
            "--label",
            "x",
            "--vault",
            other,
        ],
        &[("KEYWARD_VAULT", None)],
        "",
    )
    .ok();
    let out = kw.run_env(
        &["list", "--json", "--vault", other],
        &[("KEYWARD_VAULT", None)],
        "",
    );
    out.ok();
    assert!(out.stdout.contains("Bybit"));
    assert_eq!(
        kw.list_json().len(),
        0,
        "the KEYWARD_VAULT vault is another one"
    );

    // Neither flag nor variable: the platform data dir.
    let out = kw.run_env(&["init"], &[("KEYWARD_VAULT", None)], "");
    out.ok();
    assert!(
        Path::new(&kw.home.join("data/keyward/vault.key")).exists(),
        "{}",
        out.stdout
    );
}

#[test]
fn usage_errors_exit_2_and_help_and_version_exit_0() {
    let kw = Kw::new();
    kw.run(&["bogus"], "").usage_error();
    kw.run(&["show"], "").usage_error();
    kw.run(&["add", "--platform"], "").usage_error();
    kw.run(&["list", "--frobnicate"], "").usage_error();
    let v = kw.run(&["--version"], "");
    v.ok();
    assert_eq!(
        v.stdout.trim(),
        format!("keyward {}", env!("CARGO_PKG_VERSION"))
    );
    let h = kw.run(&["--help"], "");
    h.ok();
    for cmd in [
        "init",
        "add",
        "list",
        "show",
        "edit",
        "set-status",
        "delete",
        "reveal",
        "audit",
        "passwd",
    ] {
        assert!(h.stdout.contains(cmd), "{cmd} missing from help");
    }
}

#[test]
fn a_damaged_vault_is_a_one_line_error_not_a_panic() {
    let kw = Kw::new();
    kw.add_kraken();
    let db = kw.vault.join("vault.db");
    let mut bytes = std::fs::read(&db).unwrap();
    for b in &mut bytes[0..16] {
        *b ^= 0xff;
    }
    std::fs::write(&db, bytes).unwrap();
    kw.run(&["list"], "")
        .refused("vault.db is damaged or was modified outside Keyward");
    std::fs::write(kw.vault.join("vault.key"), b"garbage").unwrap();
    kw.run(&["list"], "").refused("vault.key is damaged");
}

/// How long before the run the Kraken key of `add_kraken` was created: every
/// date the transcripts type is relative to the day they run.
const KRAKEN_AGE_DAYS: i64 = 20;

/// A date `days` ago (negative: ahead), as `--created` takes it.
fn days_ago(days: i64) -> String {
    let d = time::OffsetDateTime::now_utc() - time::Duration::days(days);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

impl Kw {
    fn add_due(&self, label: &str, created_days_ago: i64, rotate_days: &str) -> String {
        let out = self.run(
            &[
                "add",
                "--platform",
                "Kraken",
                "--label",
                label,
                "--perm",
                "read",
                "--ip",
                "203.0.113.7",
                "--rotate-days",
                rotate_days,
                "--created",
                &days_ago(created_days_ago),
                "--secret",
                "api_secret",
            ],
            SECRETS[1],
        );
        out.ok();
        out.stdout.trim().to_owned()
    }
}

#[test]
fn due_lists_keys_soonest_first_with_the_json_contract() {
    let kw = Kw::new();
    kw.add_due("soon", 27, "30");
    let overdue = kw.add_due("late", 40, "30");
    kw.add_due("fresh", 0, "90");
    let out = kw.run(&["due", "--json"], "");
    out.ok();
    let v: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v.len(), 2, "{}", out.stdout);
    assert_eq!(v[0]["id"], overdue.as_str());
    assert_eq!(v[0]["label"], "late");
    assert_eq!(v[0]["days_left"], -10);
    assert_eq!(v[1]["days_left"], 3);
    assert_eq!(v[1]["reason"], "30-day rotation period");
    let mut keys: Vec<&str> = v[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["days_left", "due_at", "id", "label", "platform", "reason"]
    );
    let out = kw.run(&["due"], "");
    out.ok();
    assert!(
        out.stdout.contains("overdue by 10 days") && out.stdout.contains("due in 3 days"),
        "{}",
        out.stdout
    );
    assert_eq!(
        kw.run(&["due", "--within", "100", "--json"], "")
            .ok()
            .stdout
            .matches("\"id\"")
            .count(),
        3
    );
    kw.run(&["due", "--within", "99999"], "")
        .refused("--within: must be from 0 to 3650 days");
    kw.run(&["due", "--within", "-1"], "").usage_error();
    let out = kw.run(&["due", "--within", "0"], "");
    assert_eq!(
        out.ok().stdout.lines().count(),
        1,
        "only the overdue key: {}",
        out.stdout
    );
}

#[test]
fn snooze_and_rotate_from_the_command_line() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    let out = kw.run(&["snooze", &id[..8], "--days", "7"], "");
    assert!(out
        .ok()
        .stdout
        .starts_with(&format!("reminders for {} snoozed until ", &id[..8])));
    kw.run(&["snooze", &id, "--days", "0"], "")
        .refused("days: must be from 1 to 90");
    kw.run(&["snooze", "ffffffff", "--days", "1"], "")
        .refused("id: no key matches");
    kw.run(&["snooze", &id], "").usage_error();

    kw.run(&["rotate", &id], "").usage_error();
    kw.run(&["rotate", &id, "--secret", "api_secret"], "")
        .refused("secret field: 'api_secret' is empty");
    let out = kw.run(&["rotate", &id, "--secret", "api_secret"], SECRETS[2]);
    assert!(out
        .ok()
        .stdout
        .starts_with(&format!("{} rotated; next due ", &id[..8])));
    let out = kw.run(&["reveal", &id, "api_secret"], "");
    assert_eq!(out.ok().stdout, SECRETS[2]);
    kw.run(&["reveal", &id, "api_key"], "")
        .refused("not stored");
    let out = kw.run(&["audit", "--json"], "");
    assert!(
        out.ok().stdout.contains("rotation.complete") && out.stdout.contains("reminder.snooze")
    );
    let e = &kw.list_json()[0];
    assert!(e["last_rotated_at"].is_string());
    kw.run(&["set-status", &id, "revoked"], "").ok();
    kw.run(&["rotate", &id, "--secret", "api_secret"], SECRETS[1])
        .refused("a revoked key cannot be rotated");
}

#[test]
fn remind_without_a_notification_service_says_so_and_marks_nothing() {
    let kw = Kw::new();
    kw.add_due("late", 40, "30");
    let no_bus = [(
        "DBUS_SESSION_BUS_ADDRESS",
        Some("unix:path=/nonexistent/bus"),
    )];
    kw.run_env(&["remind", "--once"], &no_bus, "")
        .refused("notifications: no notification service");
    kw.run_env(&["remind", "--once"], &no_bus, "")
        .refused("notifications:");
    kw.run(&["remind"], "").usage_error();
    // Locked, with nothing past in the schedule: nothing to send, no bus needed.
    let out = kw.run_env(
        &["remind", "--once"],
        &[("KEYWARD_PASSPHRASE", None), no_bus[0]],
        "",
    );
    assert_eq!(out.ok().stdout.trim(), "nothing to send");
}

#[test]
fn the_reminder_schedule_beside_the_vault_names_no_key() {
    let kw = Kw::new();
    let a = kw.add_due("treasury-sweep-0042", 80, "90");
    let b = kw.add_kraken();
    let text = std::fs::read_to_string(kw.vault.join("reminders.json")).unwrap();
    for needle in [
        "treasury-sweep-0042",
        "grid bot",
        "Kraken",
        "kraken",
        &a[..8],
        &b[..8],
    ] {
        assert!(!text.contains(needle), "{needle} in {text}");
    }
    assert!(text.contains("\"keys\": 1"), "{text}");
}

#[test]
fn findings_name_the_rule_severity_key_and_fix() {
    let kw = Kw::new();
    // Withdraw from anywhere, the same secret as a staging key.
    let risky = kw.run(
        &[
            "add",
            "--platform",
            "Binance",
            "--label",
            "sweeper",
            "--perm",
            "read,withdraw",
            "--rotate-days",
            "30",
            "--owner",
            "treasury",
            "--purpose",
            "sweep",
            "--secret",
            "api_secret",
        ],
        SECRETS[1],
    );
    let risky = risky.ok().stdout.trim().to_owned();
    kw.run(
        &[
            "add",
            "--platform",
            "Binance",
            "--label",
            "sweeper (staging)",
            "--env",
            "staging",
            "--perm",
            "read",
            "--ip",
            "203.0.113.7",
            "--secret",
            "api_secret",
        ],
        SECRETS[1],
    )
    .ok();
    let out = kw.run(&["findings", "--json"], "");
    let v: Vec<serde_json::Value> = serde_json::from_str(&out.ok().stdout).unwrap();
    let mut keys: Vec<&str> = v[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        ["fix", "key_id", "label", "message", "platform", "rule", "severity"]
    );
    let has = |rule: &str, sev: &str, key: &str| {
        v.iter()
            .any(|f| f["rule"] == rule && f["severity"] == sev && f["key_id"] == key)
    };
    assert!(has("permission.moves-funds", "critical", &risky), "{v:#?}");
    assert!(has("secret.reused", "critical", &risky), "{v:#?}");
    assert_eq!(v[0]["severity"], "critical", "worst first");
    let text = kw.run(&["findings"], "");
    let text = &text.ok().stdout;
    assert!(
        text.lines()
            .next()
            .unwrap()
            .starts_with("3 critical, 0 high, "),
        "{text}"
    );
    assert!(text.contains("can withdraw from any IP address"), "{text}");
    assert!(text.contains("fix: add an IP allowlist"), "{text}");
    // An empty vault has none.
    assert_eq!(
        Kw::new().run(&["findings"], "").ok().stdout.trim(),
        "no findings"
    );
}

#[test]
fn a_review_from_start_to_report_from_the_command_line() {
    let kw = Kw::new();
    let a = kw.add_kraken();
    let b = kw
        .run(
            &[
                "add",
                "--platform",
                "Binance",
                "--label",
                "treasury",
                "--perm",
                "read,withdraw",
                "--secret",
                "api_secret",
            ],
            SECRETS[1],
        )
        .ok()
        .stdout
        .trim()
        .to_owned();
    kw.run(&["review", "list"], "").ok();
    assert_eq!(
        kw.run(&["review", "list"], "").stdout.trim(),
        "no reviews yet"
    );
    kw.run(&["review", "start", "--reviewer", ""], "")
        .refused("reviewer: is required");
    // The reviewer defaults to the logged-in user: without USER or
    // LOGNAME (cron, systemd), the account's name from the user database.
    kw.run(&["review", "start", "--platform", "Nowhere"], "")
        .refused("scope: no live key matches");
    kw.run_env(
        &["review", "start", "--platform", "Nowhere"],
        &[("USER", Some("carol"))],
        "",
    )
    .refused("scope: no live key matches");
    let out = kw.run(&["review", "start", "--reviewer", "alice", "--json"], "");
    let r: serde_json::Value = serde_json::from_str(&out.ok().stdout).unwrap();
    assert_eq!(
        (r["reviewer"].as_str(), r["total"].as_u64()),
        (Some("alice"), Some(2))
    );
    let id = r["id"].as_str().unwrap().to_owned();
    kw.run(&["review", "start", "--reviewer", "bob"], "")
        .refused("is in progress");

    kw.run(
        &["review", "decide", &id[..8], &a, "--decision", "maybe"],
        "",
    )
    .usage_error();
    kw.run(
        &[
            "review",
            "decide",
            &id[..8],
            &a,
            "--decision",
            "keep",
            "--check",
            "still_needed=perhaps",
        ],
        "",
    )
    .refused("check: the answer must be yes or no");
    kw.run(
        &[
            "review",
            "decide",
            &id[..8],
            &a,
            "--decision",
            "keep",
            "--check",
            "colour=yes",
        ],
        "",
    )
    .refused("check: unknown check");
    let out = kw.run(
        &[
            "review",
            "decide",
            &id[..8],
            &a[..8],
            "--decision",
            "keep",
            "--note",
            "runs the grid",
            "--check",
            "still_needed=yes",
            "--check",
            "owner-correct=no",
        ],
        "",
    );
    assert_eq!(
        out.ok().stdout.trim(),
        "Kraken · grid bot: keep (1 of 2 decided)"
    );
    kw.run(&["review", "finish", &id], "")
        .refused("1 key(s) still undecided, the first is 'treasury'");
    kw.run(
        &[
            "review",
            "decide",
            &id,
            &b,
            "--decision",
            "revoke",
            "--note",
            "sweeps moved to custody",
        ],
        "",
    )
    .ok();
    let out = kw.run(&["review", "finish", &id], "");
    assert!(out
        .ok()
        .stdout
        .contains("keep 1, reduce 0, rotate 0, revoke 1; audit head "));

    let out = kw.run(&["review", "list", "--json"], "");
    let list: Vec<serde_json::Value> = serde_json::from_str(&out.ok().stdout).unwrap();
    assert!(list[0]["finished_at"].is_string());
    let head = list[0]["audit_head"].as_str().unwrap().to_owned();
    let out = kw.run(&["review", "followups"], "");
    assert!(
        out.ok().stdout.contains("revoke  Binance · treasury"),
        "{}",
        out.stdout
    );
    let out = kw.run(&["findings", "--json"], "");
    assert!(out.ok().stdout.contains("review.revoke"));

    // Reports: to stdout and to a file, holding every key and no secret.
    let dir = tempfile::tempdir().unwrap();
    for format in ["md", "csv", "html"] {
        let file = dir.path().join(format!("r.{format}"));
        let out = kw.run(
            &[
                "review",
                "report",
                &id[..8],
                "--format",
                format,
                "--out",
                file.to_str().unwrap(),
            ],
            "",
        );
        out.ok();
        let bytes = std::fs::read(&file).unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let text = String::from_utf8_lossy(&bytes);
        for needle in [
            a.as_str(),
            b.as_str(),
            "alice",
            "runs the grid",
            head.as_str(),
        ] {
            assert!(text.contains(needle), "{format} lacks {needle}");
        }
        for s in SECRETS {
            assert!(!text.contains(s), "{format} report holds a secret");
        }
    }
    let out = kw.run(&["review", "report", &id, "--format", "md"], "");
    assert!(out
        .ok()
        .stdout
        .starts_with("# Access review: all live keys"));
    kw.run(&["review", "report", &id, "--format", "pdf"], "")
        .usage_error();
    kw.run(&["review", "decide", &id, &a, "--decision", "rotate"], "")
        .refused("finished and can only be read");

    // The follow-up settles by confirming the revoke.
    kw.run(&["review", "resolve", &b[..8]], "").ok();
    assert_eq!(
        kw.run(&["review", "followups"], "").ok().stdout.trim(),
        "no open follow-ups"
    );
    let out = kw.run(&["show", &b, "--json"], "");
    assert!(out.ok().stdout.contains("\"status\": \"revoked\""));
    let out = kw.run(&["audit", "--json"], "");
    let log = &out.ok().stdout;
    for action in ["review.start", "review.decide", "review.finish"] {
        assert!(log.contains(action), "{action}");
    }
}

#[test]
fn an_incident_from_open_to_close_from_the_command_line() {
    let kw = Kw::new();
    let a = kw.add_kraken();
    kw.run(&["incident", "list"], "").ok();
    assert_eq!(
        kw.run(&["incident", "list"], "").stdout.trim(),
        "no incidents"
    );
    kw.run(&["incident", "open"], "").usage_error();
    kw.run(&["incident", "open", &a, "--suspected-at", "yesterday"], "")
        .refused("suspected_at: ");
    kw.run(&["set-status", &a, "compromised"], "").usage_error();
    let out = kw.run(
        &[
            "incident",
            "open",
            &a[..8],
            "--suspected-at",
            &days_ago(5),
            "--note",
            "seen in a screenshot",
            "--json",
        ],
        "",
    );
    let i: serde_json::Value = serde_json::from_str(&out.ok().stdout).unwrap();
    let id = i["id"].as_str().unwrap().to_owned();
    assert_eq!(i["severity"], "high", "trade → high");
    assert_eq!(i["current"], "contain");
    let out = kw.run(&["show", &a, "--json"], "");
    assert!(out.ok().stdout.contains("\"status\": \"compromised\""));
    let out = kw.run(&["findings", "--json"], "");
    assert!(out.ok().stdout.contains("incident.open"));

    kw.run(&["incident", "step", &id, "replace", "--done"], "")
        .refused("finish 'contain' first");
    kw.run(&["incident", "step", &id, "contain"], "")
        .usage_error();
    kw.run(
        &["incident", "step", &id, "contain", "--done", "--skip"],
        "",
    )
    .usage_error();
    kw.run(&["incident", "step", &id, "panic", "--done"], "")
        .refused("step: must be one of contain, replace");
    let out = kw.run(
        &[
            "incident",
            "step",
            &id[..8],
            "contain",
            "--done",
            "--note",
            "revoked",
        ],
        "",
    );
    assert_eq!(
        out.ok().stdout.trim(),
        "contain: done; next: replace — Replace: a new, narrower key if still needed"
    );
    assert!(kw
        .run(&["show", &a, "--json"], "")
        .stdout
        .contains("\"status\": \"revoked\""));
    kw.run(&["incident", "step", &id, "replace", "--skip"], "")
        .refused("note: say why");
    kw.run(&["incident", "step", &id, "replace", "--na"], "")
        .ok();
    kw.run(
        &[
            "incident",
            "step",
            &id,
            "review_activity",
            "--done",
            "--activity",
            "maybe",
        ],
        "",
    )
    .refused("activity: must be one of yes, no, unknown");
    kw.run(
        &[
            "incident",
            "step",
            &id,
            "review-activity",
            "--done",
            "--activity",
            "no",
        ],
        "",
    )
    .ok();
    kw.run(&["incident", "step", &id, "secure_account", "--done"], "")
        .ok();
    kw.run(
        &[
            "incident",
            "step",
            &id,
            "find_copies",
            "--done",
            "--note",
            "checked by hand",
        ],
        "",
    )
    .ok();
    kw.run(
        &[
            "incident",
            "step",
            &id,
            "root_cause",
            "--done",
            "--cause",
            "screenshot",
        ],
        "",
    )
    .ok();
    let out = kw.run(&["incident", "summary", &id], "");
    let summary = &out.ok().stdout;
    assert!(summary.contains("Kraken · grid bot"), "{summary}");
    assert!(summary.contains("Root cause: a screenshot or screen share"));
    assert!(summary.contains("Never add one to a support request"));
    kw.run(&["incident", "step", &id, "notify", "--done"], "")
        .ok();
    let out = kw.run(
        &[
            "incident",
            "step",
            &id,
            "close",
            "--done",
            "--note",
            "no screenshots of settings",
        ],
        "",
    );
    assert_eq!(
        out.ok().stdout.trim(),
        format!("incident {} closed", &id[..8])
    );

    let out = kw.run(&["incident", "show", &id], "");
    let text = &out.ok().stdout;
    for step in [
        "contain",
        "replace",
        "review_activity",
        "secure_account",
        "find_copies",
        "root_cause",
        "notify",
        "close",
    ] {
        assert!(text.contains(step), "{step} in {text}");
    }
    let dir = tempfile::tempdir().unwrap();
    for format in ["md", "html"] {
        let file = dir.path().join(format!("i.{format}"));
        kw.run(
            &[
                "incident",
                "report",
                &id,
                "--format",
                format,
                "--out",
                file.to_str().unwrap(),
            ],
            "",
        )
        .ok();
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains("no screenshots of settings") && text.contains(&a));
        for s in SECRETS {
            assert!(!text.contains(s), "{format} report holds a secret");
        }
    }
    let out = kw.run(&["incident", "list"], "");
    assert!(out.ok().stdout.contains("closed "));
    let out = kw.run(&["audit", "--json"], "");
    for action in ["incident.open", "incident.step", "incident.close"] {
        assert!(out.stdout.contains(action), "{action}");
    }
}

/// Runs `age -d` as a user without Keyward would: on a terminal (age reads
/// a passphrase only from one), through `script`'s pseudo-terminal.
fn age_decrypt(file: &std::path::Path, out: &std::path::Path, passphrase: &str) -> bool {
    let cmd = format!("age -d -o '{}' '{}'", out.display(), file.display());
    let mut child = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("script (bsdutils) and age are installed by scripts/bootstrap");
    // age asks once it has read the header: give it the line when it does.
    std::thread::sleep(std::time::Duration::from_millis(300));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{passphrase}\n").as_bytes())
        .unwrap();
    child.wait().unwrap().success() && out.exists()
}

#[test]
fn a_backup_opens_with_the_standard_age_tool_and_restores_into_a_new_vault() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    let bpass = "harbour violet engine 73 quartz";
    let file = kw._tmp.path().join("keyward-backup.age");
    let f = file.to_str().unwrap();
    let env = [("KEYWARD_BACKUP_PASSPHRASE", Some(bpass))];
    kw.run(&["backup"], "").refused("out: give --out FILE");
    kw.run_env(
        &["backup", "--out", f],
        &[("KEYWARD_BACKUP_PASSPHRASE", Some("hunter2"))],
        "",
    )
    .refused("passphrase: too weak");
    let out = kw.run_env(&["backup", "--out", f], &env, "");
    assert!(out.ok().stdout.starts_with(&format!(
        "backup written to {f}: 1 key(s), 2 secret field(s)"
    )));
    kw.run_env(&["backup", "--out", f], &env, "")
        .refused("exists; pass --force");

    // The standard tool opens it: the document holds the secrets, in clear.
    let plain = kw._tmp.path().join("plain.json");
    assert!(age_decrypt(&file, &plain, bpass), "age -d failed");
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&plain).unwrap()).unwrap();
    assert_eq!(doc["format"], "keyward-backup");
    assert_eq!(doc["tables"]["entries"][0]["id"], id.as_str());
    let values: Vec<&str> = doc["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["value"].as_str())
        .collect();
    assert!(
        values.contains(&SECRETS[0]) && values.contains(&SECRETS[1]),
        "{values:?}"
    );

    let out = kw.run_env(&["backup", "verify", f], &env, "");
    assert!(out
        .ok()
        .stdout
        .starts_with("backup ok: 1 key(s), 2 secret field(s), 0 review(s), 0 incident(s)"));
    kw.run_env(
        &["backup", "verify", f],
        &[("KEYWARD_BACKUP_PASSPHRASE", Some("wrong"))],
        "",
    )
    .refused("backup: wrong passphrase or identity");
    let bytes = std::fs::read(&file).unwrap();
    let cut = kw._tmp.path().join("cut.age");
    std::fs::write(&cut, &bytes[..bytes.len() - 40]).unwrap();
    kw.run_env(&["backup", "verify", cut.to_str().unwrap()], &env, "")
        .refused("backup: the file is damaged or truncated");

    // Restore: into a new vault only, with a new passphrase.
    kw.run_env(&["restore", f], &env, "")
        .refused("a vault already exists");
    let fresh = kw._tmp.path().join("restored");
    let fresh_s = fresh.to_str().unwrap();
    let out = kw.run_env(&["--vault", fresh_s, "restore", f], &env, "");
    assert!(out
        .ok()
        .stdout
        .starts_with(&format!("restored into {fresh_s}: 1 key(s)")));
    let out = kw.run(&["--vault", fresh_s, "reveal", &id, "api_secret"], "");
    assert_eq!(out.ok().stdout, SECRETS[1]);
    let out = kw.run(&["--vault", fresh_s, "audit", "--json"], "");
    assert!(out.ok().stdout.contains("backup.restore"));
    kw.run(&["--vault", fresh_s, "check"], "").ok();

    // To an age recipient: opens with the identity file, by age and by Keyward.
    let keyfile = kw._tmp.path().join("me.txt");
    let gen = Command::new("age-keygen")
        .args(["-o", keyfile.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(gen.status.success());
    let text = std::fs::read_to_string(&keyfile).unwrap();
    let public = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .unwrap()
        .to_owned();
    let file2 = kw._tmp.path().join("to-me.age");
    let f2 = file2.to_str().unwrap();
    kw.run(&["backup", "--out", f2, "--recipient", "age1nope"], "")
        .refused("recipient 1: not an age public key (age1…)");
    kw.run(&["backup", "--out", f2, "--recipient", &public], "")
        .ok();
    let age = Command::new("age")
        .args(["-d", "-i", keyfile.to_str().unwrap(), f2])
        .output()
        .unwrap();
    assert!(age.status.success());
    assert!(String::from_utf8_lossy(&age.stdout).contains(SECRETS[1]));
    kw.run_env(&["backup", "verify", f2], &env, "")
        .refused("give --identity FILE");
    let out = kw.run(
        &[
            "backup",
            "verify",
            f2,
            "--identity",
            keyfile.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.ok().stdout.starts_with("backup ok: 1 key(s)"));
    // Automatic backups are off until the settings say otherwise.
    let out = kw.run(&["backup", "--auto"], "");
    assert_eq!(out.ok().stdout.trim(), "no automatic backup due");
    kw.run(&["backup", "--auto", "--out", f], "").usage_error();
}

#[test]
fn a_forgotten_passphrase_is_replaced_with_the_recovery_code() {
    let kw = Kw::empty();
    let out = kw.run(&["init", "--recovery-code"], "");
    let code = out.ok().stdout.lines().last().unwrap().to_owned();
    assert!(code.starts_with("AGE-SECRET-KEY-1 "), "{code}");
    assert!(out.stderr.contains("shown once"));
    let id = kw.add_kraken();
    assert_eq!(
        kw.run(&["recovery", "status"], "").ok().stdout.trim(),
        "this vault has a recovery code"
    );
    // recovery.key opens with the standard age tool and the code.
    let codefile = kw._tmp.path().join("code.txt");
    std::fs::write(&codefile, code.replace(' ', "")).unwrap();
    let age = Command::new("age")
        .args([
            "-d",
            "-i",
            codefile.to_str().unwrap(),
            kw.vault.join("recovery.key").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&age.stdout).starts_with("AGE-SECRET-KEY-1"));

    let new = "copper meadow lantern 19 orbit";
    let env = [("KEYWARD_NEW_PASSPHRASE", Some(new))];
    kw.run_env(&["recover"], &env, "AGE-SECRET-KEY-1WRONG\n")
        .refused("recovery code: not a recovery code");
    let other = Kw::empty();
    let other_out = other.run(&["init", "--recovery-code"], "");
    let other_code = other_out.ok().stdout.lines().last().unwrap().to_owned();
    kw.run_env(&["recover"], &env, &other_code)
        .refused("recovery code: wrong code for this vault");
    kw.run_env(
        &["recover"],
        &[("KEYWARD_NEW_PASSPHRASE", Some("weak"))],
        &code,
    )
    .refused("passphrase: too weak");
    let out = kw.run_env(&["recover"], &env, &code.to_lowercase());
    assert!(out.ok().stdout.starts_with("new passphrase set"));
    kw.run(&["list"], "").refused("wrong passphrase");
    let out = kw.run_env(
        &["reveal", &id, "api_secret"],
        &[("KEYWARD_PASSPHRASE", Some(new))],
        "",
    );
    assert_eq!(out.ok().stdout, SECRETS[1]);
    let envp = [("KEYWARD_PASSPHRASE", Some(new))];
    kw.run_env(&["recovery", "remove"], &envp, "").ok();
    kw.run_env(&["recover"], &env, &code)
        .refused("this vault has no recovery code");
    let out = kw.run_env(&["audit", "--json"], &envp, "");
    for a in ["recovery.create", "vault.recover", "recovery.remove"] {
        assert!(out.ok().stdout.contains(a), "{a}");
    }
}

#[test]
fn csv_export_neutralises_formulas_and_round_trips_into_another_vault() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    kw.run(
        &[
            "add",
            "--platform",
            "Binance",
            "--label",
            "=HYPERLINK(\"http://x\")",
            "--perm",
            "read,withdraw",
            "--ip",
            "203.0.113.0/24,198.51.100.7",
            "--tag",
            "desk,-sweep",
            "--owner",
            "@treasury",
            "--secret",
            "api_secret",
        ],
        SECRETS[3],
    )
    .ok();
    let out = kw.run(&["export", "--format", "csv"], "");
    let csv = out.ok().stdout.clone();
    assert!(
        csv.starts_with(
            "id,platform,account,label,environment,owner,purpose,permissions,ip_allowlist,"
        ),
        "{csv}"
    );
    assert!(csv.contains("\"'=HYPERLINK(\"\"http://x\"\")\""), "{csv}");
    assert!(csv.contains(",'@treasury,"), "{csv}");
    assert!(
        csv.contains("desk;-sweep"),
        "a list cell is neutralised only at its start"
    );
    assert!(csv.contains(&id) && csv.contains("api_key;api_secret"));
    for s in SECRETS {
        assert!(!csv.contains(s), "a secret in the export");
    }
    let file = kw._tmp.path().join("keys.csv");
    std::fs::write(&file, &csv).unwrap();

    let other = Kw::new();
    let f = file.to_str().unwrap();
    let out = other.run(&["import", f, "--format", "csv", "--dry-run"], "");
    assert!(
        out.ok()
            .stdout
            .contains("2 to import, 0 rejected (dry run: nothing written)"),
        "{}",
        out.stdout
    );
    assert!(other.list_json().is_empty(), "a dry run writes nothing");
    let out = other.run(&["import", f, "--format", "csv"], "");
    assert_eq!(out.ok().stdout.trim(), "imported 2 key(s)");
    let list = other.list_json();
    let b = list.iter().find(|e| e["platform"] == "Binance").unwrap();
    assert_eq!(
        b["label"], "=HYPERLINK(\"http://x\")",
        "the guard is undone on import"
    );
    assert_eq!(b["owner"], "@treasury");
    assert_eq!(
        b["ip_allowlist"],
        serde_json::json!(["203.0.113.0/24", "198.51.100.7"])
    );
    assert_eq!(b["tags"], serde_json::json!(["desk", "-sweep"]));
    assert_eq!(b["permissions"], serde_json::json!(["read", "withdraw"]));
    assert_eq!(
        b["secret_fields"],
        serde_json::json!([]),
        "CSV carries no secrets"
    );
}

#[test]
fn keepassxc_and_bitwarden_exports_import_with_their_secrets_sealed() {
    let kw = Kw::new();
    let kp = kw._tmp.path().join("keepassxc.csv");
    std::fs::write(
        &kp,
        "\"Group\",\"Title\",\"Username\",\"Password\",\"URL\",\"Notes\",\"TOTP\",\"Icon\",\"Last Modified\",\"Created\"\n\
         \"Root/Exchanges\",\"spot bot\",\"kp-key-1\",\"kp-secret-Q1w2\",\"https://www.binance.com/en/my/settings/api-management\",\"main desk\",\"\",\"0\",\"2024-01-05T10:00:00Z\",\"2024-01-05T10:00:00Z\"\n\
         \"Root/Kraken\",\"grid\",\"kp-key-2\",\"kp-secret-E3r4\",\"\",\"\",\"\",\"0\",\"\",\"\"\n\
         \"Root\",\"empty one\",\"\",\"\",\"\",\"\",\"\",\"0\",\"\",\"\"\n\
         \"Root\",\"\",\"u\",\"p-no-title\",\"\",\"\",\"\",\"0\",\"\",\"\"\n",
    )
    .unwrap();
    let f = kp.to_str().unwrap();
    let out = kw.run(&["import", f, "--format", "keepassxc-csv", "--dry-run"], "");
    let text = &out.ok().stdout;
    assert!(
        text.contains("import  Binance · spot bot  [api_key, api_secret]"),
        "{text}"
    );
    assert!(text.contains("import  Kraken · grid"), "{text}");
    assert!(text.contains("REJECT  no username or password"), "{text}");
    assert!(text.contains("REJECT  label: is required"), "{text}");
    assert!(
        !text.contains("kp-secret"),
        "a dry run shows names, never values"
    );
    kw.run(&["import", f, "--format", "keepassxc-csv"], "")
        .refused("import: 2 row(s) rejected");
    assert!(kw.list_json().is_empty(), "a refused import writes nothing");
    let out = kw.run(
        &["import", f, "--format", "keepassxc-csv", "--skip-invalid"],
        "",
    );
    assert_eq!(out.ok().stdout.trim(), "imported 2 key(s)");
    let list = kw.list_json();
    let spot = list.iter().find(|e| e["label"] == "spot bot").unwrap();
    assert_eq!(spot["notes"], "main desk");
    let out = kw.run(&["reveal", spot["id"].as_str().unwrap(), "api_secret"], "");
    assert_eq!(out.ok().stdout, "kp-secret-Q1w2");

    let bw = kw._tmp.path().join("bitwarden.json");
    std::fs::write(
        &bw,
        r#"{"encrypted": false, "folders": [{"id": "f1", "name": "OKX"}],
            "items": [{"type": 1, "name": "hedge", "folderId": "f1", "notes": null,
                       "login": {"username": "bw-key", "password": "bw-secret-T5y6", "uris": []},
                       "fields": [{"name": "Passphrase", "value": "bw-pass-U7i8", "type": 1}]},
                      {"type": 2, "name": "a note", "notes": "hello"}]}"#,
    )
    .unwrap();
    let out = kw.run(
        &[
            "import",
            bw.to_str().unwrap(),
            "--format",
            "bitwarden-json",
            "--skip-invalid",
        ],
        "",
    );
    assert_eq!(out.ok().stdout.trim(), "imported 1 key(s)");
    let list = kw.list_json();
    let hedge = list.iter().find(|e| e["label"] == "hedge").unwrap();
    assert_eq!(hedge["platform"], "OKX");
    assert_eq!(
        hedge["secret_fields"],
        serde_json::json!(["api_key", "api_secret", "passphrase"])
    );
    let out = kw.run(&["reveal", hedge["id"].as_str().unwrap(), "passphrase"], "");
    assert_eq!(out.ok().stdout, "bw-pass-U7i8");
    std::fs::write(&bw, r#"{"encrypted": true, "data": "…"}"#).unwrap();
    kw.run(
        &["import", bw.to_str().unwrap(), "--format", "bitwarden-json"],
        "",
    )
    .refused("file: an encrypted Bitwarden export");
    let out = kw.run(&["audit", "--json"], "");
    assert!(out.ok().stdout.contains("entry.import"));
}

#[test]
fn hostile_import_files_get_one_clear_line_and_change_nothing() {
    let kw = Kw::new();
    let file = kw._tmp.path().join("hostile");
    let f = file.to_str().unwrap();
    let try_it = |bytes: &[u8], format: &str, want: &str| {
        std::fs::write(&file, bytes).unwrap();
        let out = kw.run(&["import", f, "--format", format], "");
        out.refused(want);
        for secret in SECRETS {
            assert!(!out.stderr.contains(secret), "{}", out.stderr);
        }
        assert!(kw.list_json().is_empty());
    };
    try_it(
        b"platform,label\nKraken,caf\xe9\n",
        "csv",
        "file: not UTF-8 text (line 2)",
    );
    try_it(
        b"platform,label,password\nKraken,bot,x\n",
        "csv",
        "file: column 'password' is not a Keyward column",
    );
    try_it(b"label\nbot\n", "csv", "file: no 'platform' column");
    // No header row: the first line's cells are never echoed (one may be
    // a secret).
    try_it(
        format!("Kraken,bot,{}\n", SECRETS[1]).as_bytes(),
        "csv",
        "file: column 1 of the first line is not a Keyward column name",
    );
    try_it(b"{not json", "bitwarden-json", "file: not JSON");
    try_it(
        b"{\"items\": 3}",
        "bitwarden-json",
        "file: not a Bitwarden export",
    );
    try_it(
        b"Title,Notes\nx,y\n",
        "keepassxc-csv",
        "file: not a KeePassXC CSV export",
    );
    let mut big = b"platform,label\n".to_vec();
    for i in 0..20_001 {
        big.extend_from_slice(format!("Kraken,bot {i}\n").as_bytes());
    }
    try_it(&big, "csv", "file: more than 20000 rows; split it");
    let long = format!(
        "platform,label,notes\nKraken,bot,{}\nKraken,ok,\"=1+2\"\n",
        "x".repeat(70_000)
    );
    std::fs::write(&file, long).unwrap();
    let out = kw.run(&["import", f, "--format", "csv", "--dry-run"], "");
    assert!(
        out.ok()
            .stdout
            .contains("REJECT  a cell is longer than 64 KiB"),
        "{}",
        out.stdout
    );
    kw.run(&["import", f, "--format", "csv", "--skip-invalid"], "")
        .ok();
    let list = kw.list_json();
    assert_eq!(list.len(), 1);
    assert_eq!(
        list[0]["notes"], "=1+2",
        "a formula is kept as text, never run"
    );
    kw.run(&["import", "/nonexistent/file.csv", "--format", "csv"], "")
        .refused("file: cannot read /nonexistent/file.csv");
}

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
    std::fs::write(&hook, include_str!("../scripts/pre-commit-hook")).unwrap();
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

// --- hardening (issue 14) ---------------------------------------------------

/// The header's scrypt work factor of `vault.key` (`-> scrypt SALT LOG_N`).
fn work_factor(vault: &Path) -> u8 {
    let bytes = std::fs::read(vault.join("vault.key")).unwrap();
    let stanza = bytes.split(|&b| b == b'\n').nth(1).unwrap();
    String::from_utf8_lossy(stanza)
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

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
fn a_release_style_kdf_is_restored_at_unlock_and_vault_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let kw = Kw::empty();
    // The vault directory existed already, open to everyone: made 0700.
    std::fs::create_dir_all(&kw.vault).unwrap();
    std::fs::set_permissions(&kw.vault, std::fs::Permissions::from_mode(0o755)).unwrap();
    kw.run(&["init"], "").ok();
    assert_eq!(
        std::fs::metadata(&kw.vault).unwrap().permissions().mode() & 0o777,
        0o700
    );
    for f in ["vault.db", "vault.key", "vault.pub"] {
        let mode = std::fs::metadata(kw.vault.join(f))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600, "{f}");
    }
    assert_eq!(work_factor(&kw.vault), 10);
    // A later unlock asks for more work: vault.key is re-wrapped, audited.
    kw.run_env(&["list"], &[("KEYWARD_INSECURE_TEST_KDF", Some("11"))], "")
        .ok();
    assert_eq!(work_factor(&kw.vault), 11);
    let log = kw.run(&["audit", "--json"], "");
    assert!(log.ok().stdout.contains("vault.kdf_upgrade"));
    // Never lowered.
    kw.run(&["list"], "").ok();
    assert_eq!(work_factor(&kw.vault), 11);
}

#[test]
fn a_vault_key_that_is_not_a_small_regular_file_is_damage_not_a_wait() {
    let kw = Kw::new();
    let key = kw.vault.join("vault.key");
    let saved = std::fs::read(&key).unwrap();
    std::fs::remove_file(&key).unwrap();
    assert!(Command::new("mkfifo").arg(&key).status().unwrap().success());
    // A plain read would wait for a writer for ever.
    kw.run(&["list"], "").refused("vault.key is damaged");
    std::fs::remove_file(&key).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &key).unwrap();
    kw.run(&["list"], "").refused("vault.key is damaged");
    std::fs::remove_file(&key).unwrap();
    std::fs::write(&key, &saved).unwrap();
    kw.run(&["list"], "").ok();
}

#[test]
fn every_export_is_audited() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    kw.run(&["export", "--format", "csv"], "").ok();
    let out = kw.run(
        &[
            "incident",
            "open",
            &id,
            "--suspected-at",
            &days_ago(2),
            "--json",
        ],
        "",
    );
    let i: serde_json::Value = serde_json::from_str(&out.ok().stdout).unwrap();
    let inc = i["id"].as_str().unwrap().to_owned();
    kw.run(&["incident", "report", &inc, "--format", "md"], "")
        .ok();
    kw.run(&["incident", "summary", &inc], "").ok();
    let log = kw.run(&["audit", "--json"], "");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&log.ok().stdout).unwrap();
    let count = |a: &str| rows.iter().filter(|r| r["action"] == a).count();
    assert_eq!(count("inventory.export"), 1);
    assert_eq!(count("incident.export"), 2, "the report and the summary");
    let formats: Vec<&str> = rows
        .iter()
        .filter(|r| r["action"] == "incident.export")
        .map(|r| r["detail"]["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["md", "summary"]);
}

#[test]
fn a_secret_key_given_as_a_recipient_is_never_echoed() {
    let kw = Kw::new();
    let secret = "AGE-SECRET-KEY-1QYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQSZQGPQYQS";
    let out_file = kw._tmp.path().join("b.age");
    let out = kw.run(
        &[
            "backup",
            "--out",
            out_file.to_str().unwrap(),
            "--recipient",
            secret,
        ],
        "",
    );
    out.refused("recipient 1: that is an age secret key");
    assert!(!out.stderr.contains(&secret[16..40]), "{}", out.stderr);
    assert!(!out_file.exists());
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
fn rekey_leaves_old_copies_of_the_key_files_opening_nothing() {
    let kw = Kw::new();
    let id = kw.add_kraken();
    let code = kw.run(&["recovery", "create"], "");
    let old_code = code.ok().stdout.trim().to_owned();
    let old_key = std::fs::read(kw.vault.join("vault.key")).unwrap();
    let old_recovery = std::fs::read(kw.vault.join("recovery.key")).unwrap();
    let head_before = kw
        .run(&["audit", "--head"], "")
        .ok()
        .stdout
        .trim()
        .to_owned();

    let out = kw.run(&["rekey"], "");
    out.ok();
    assert!(out.stderr.contains("new vault identity"), "{}", out.stderr);
    let new_code = out.stdout.trim().to_owned();
    assert!(new_code.starts_with("AGE-SECRET-KEY-1 "), "{new_code}");
    assert_ne!(new_code, old_code);
    // Same passphrase; the secret unchanged; the old head still proven.
    let v = kw.run(&["reveal", &id, "api_secret"], "");
    assert_eq!(v.ok().stdout, SECRETS[1]);
    kw.run(&["audit", "--verify", "--expect", &head_before], "")
        .ok();
    // The old vault.key put back, with the old passphrase: opens nothing.
    let new_key = std::fs::read(kw.vault.join("vault.key")).unwrap();
    std::fs::write(kw.vault.join("vault.key"), &old_key).unwrap();
    kw.run(&["list"], "").refused("vault.db is damaged");
    std::fs::write(kw.vault.join("vault.key"), &new_key).unwrap();
    // The old recovery.key with the old code: opens nothing either.
    std::fs::write(kw.vault.join("recovery.key"), &old_recovery).unwrap();
    kw.run_env(
        &["recover"],
        &[(
            "KEYWARD_NEW_PASSPHRASE",
            Some("copper meadow lantern 19 orbit"),
        )],
        &format!("{old_code}\n"),
    )
    .refused("vault.db is damaged");
    // A new passphrase with it, and no recovery code.
    let out = kw.run_env(
        &["rekey", "--no-recovery-code"],
        &[(
            "KEYWARD_NEW_PASSPHRASE",
            Some("copper meadow lantern 19 orbit"),
        )],
        "",
    );
    out.ok();
    assert!(out.stdout.is_empty(), "no code printed: {}", out.stdout);
    assert!(!kw.vault.join("recovery.key").exists());
    kw.run(&["list"], "").refused("wrong passphrase");
    kw.run_env(
        &["list"],
        &[("KEYWARD_PASSPHRASE", Some("copper meadow lantern 19 orbit"))],
        "",
    )
    .ok();
}

#[test]
fn passwd_says_the_identity_did_not_change() {
    let kw = Kw::new();
    let out = kw.run_env(
        &["passwd"],
        &[(
            "KEYWARD_NEW_PASSPHRASE",
            Some("copper meadow lantern 19 orbit"),
        )],
        "",
    );
    out.ok();
    assert!(out.stderr.contains("run `keyward rekey`"), "{}", out.stderr);
}

#[test]
fn the_audit_head_is_printed_and_proven_and_a_rollback_is_refused() {
    let kw = Kw::new();
    kw.add_kraken();
    let head = kw
        .run(&["audit", "--head"], "")
        .ok()
        .stdout
        .trim()
        .to_owned();
    let (seq, hash) = head.split_once(':').unwrap();
    assert!(seq.parse::<u64>().is_ok() && hash.len() == 64, "{head}");
    kw.run(&["audit", "--verify", "--expect", "12:xyz"], "")
        .refused("head: expected SEQ:HASH");
    kw.run(&["audit", "--expect", &head], "").usage_error();
    let out = kw.run(&["audit", "--verify", "--expect", &head, "--json"], "");
    let v: serde_json::Value = serde_json::from_str(&out.ok().stdout).unwrap();
    assert_eq!(v["holds"], head.as_str());
    // vault.db put back alone (an older copy): refused at unlock, named.
    let db = kw.vault.join("vault.db");
    let old_db = std::fs::read(&db).unwrap();
    kw.add_kraken();
    std::fs::write(&db, &old_db).unwrap();
    kw.run(&["list"], "")
        .refused("vault.db was rolled back or replaced: its audit log is shorter");
    // Kept on purpose: accepted, recorded, and the old head still holds.
    let out = kw.run(&["audit", "--accept-rollback"], "");
    assert!(
        out.ok().stdout.starts_with("accepted and recorded"),
        "{}",
        out.stdout
    );
    kw.run(&["list"], "").ok();
    let log = kw.run(&["audit", "--json"], "");
    assert!(log.ok().stdout.contains("audit.rollback_accepted"));
    kw.run(&["audit", "--verify", "--expect", &head], "").ok();
    // A head the log never had.
    let other = format!("{seq}:{}", "0".repeat(64));
    kw.run(&["audit", "--verify", "--expect", &other], "")
        .refused("rolled back or rewritten");
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

#[test]
fn without_user_or_logname_the_reviewer_is_the_account_name() {
    let kw = Kw::new();
    kw.add_kraken();
    let account = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_owned();
    // `cmd` clears the environment: no USER, no LOGNAME, as under cron.
    let out = kw.run(&["review", "start", "--json"], "");
    let r: serde_json::Value = serde_json::from_str(&out.ok().stdout).unwrap();
    assert_eq!(r["reviewer"], account.as_str());
}
