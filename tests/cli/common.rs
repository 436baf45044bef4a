//! Shared by every module: a throwaway vault (`Kw`) that runs the real
//! binary, the transcript of one run (`Out`), and the secrets no output but
//! `reveal`'s may hold.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub const PASS: &str = "orbit lantern cobalt meadow 42";
/// Every secret the tests use; checked against every output but `reveal`'s.
pub const SECRETS: [&str; 4] = [
    "AKIA-kraken-public-7788",
    "kr4ken-s3cret-Zq9",
    "pem-line-two-XYZ",
    "okx-passphrase-Lm3",
];

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    #[track_caller]
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
    /// A refused operation: exit 1 and exactly one `error: …` line.
    #[track_caller]
    pub fn refused(&self, message: &str) -> &Self {
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
    pub fn usage_error(&self) -> &Self {
        assert_eq!(self.code, 2, "stderr: {}", self.stderr);
        self
    }
}

/// A throwaway vault and the environment every run gets.
pub struct Kw {
    pub _tmp: tempfile::TempDir,
    pub vault: PathBuf,
    pub home: PathBuf,
    outputs: std::cell::RefCell<Vec<String>>,
}

impl Kw {
    pub fn new() -> Kw {
        let kw = Kw::empty();
        kw.run(&["init"], "").ok();
        kw
    }

    pub fn empty() -> Kw {
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

    pub fn cmd(&self, args: &[&str]) -> Command {
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

    pub fn run(&self, args: &[&str], stdin: &str) -> Out {
        self.run_cmd(self.cmd(args), stdin)
    }

    /// Runs with some variables changed: `Some(value)` sets, `None` removes.
    pub fn run_env(&self, args: &[&str], env: &[(&str, Option<&str>)], stdin: &str) -> Out {
        let mut c = self.cmd(args);
        for (k, v) in env {
            match v {
                Some(v) => c.env(k, v),
                None => c.env_remove(k),
            };
        }
        self.run_cmd(c, stdin)
    }

    pub fn run_cmd(&self, mut c: Command, stdin: &str) -> Out {
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

    pub fn add_kraken(&self) -> String {
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

    pub fn list_json(&self) -> Vec<serde_json::Value> {
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

/// How long before the run the Kraken key of `add_kraken` was created: every
/// date the transcripts type is relative to the day they run.
pub const KRAKEN_AGE_DAYS: i64 = 20;

/// A date `days` ago (negative: ahead), as `--created` takes it.
pub fn days_ago(days: i64) -> String {
    let d = time::OffsetDateTime::now_utc() - time::Duration::days(days);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}
