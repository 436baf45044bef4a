//! What the kill-loop tests share: each binary is its own child (`--child
//! …` runs the work loop), the parent starts it, lets it run for a random
//! while, SIGKILLs it and collects the lines it managed to print.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use keyward_core::KdfParams;

/// Runs the test the way `cargo test` expects of a harness-less binary:
/// `--child ARGS…` runs `child(ARGS)`; otherwise, unless a filter excludes
/// `name`, runs `parent` and prints one result line with what it returns.
pub fn main(name: &str, child: impl FnOnce(&[String]), parent: impl FnOnce() -> String) {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child") {
        child(&args[2..]);
        return;
    }
    // `cargo test NAME` passes NAME to every test binary: honour a filter.
    if let Some(filter) = args.iter().skip(1).find(|a| !a.starts_with('-')) {
        if !name.contains(filter.as_str()) {
            return;
        }
    }
    print!("test {name} ... ");
    std::io::stdout().flush().unwrap();
    let started = Instant::now();
    let said = parent();
    println!("ok ({said}, {:.1}s)", started.elapsed().as_secs_f64());
}

/// A number different on every call (a kill's timing).
pub fn random() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(Instant::now().elapsed().as_nanos() as u64);
    h.finish()
}

/// A low work factor: the loops unlock hundreds of times.
pub fn kdf() -> KdfParams {
    KdfParams::insecure_for_tests(10).unwrap()
}

/// Starts this binary as `--child` with `args`, SIGKILLs it after `after`,
/// and returns the whole lines it printed (a line cut by the kill may be
/// among them: callers parse strictly). `what` names the round in failures.
pub fn run_and_kill(args: &[&str], after: Duration, what: &str) -> Vec<String> {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(&exe)
        .arg("--child")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    std::thread::sleep(after);
    child.kill().unwrap(); // SIGKILL on Unix
    let status = child.wait().unwrap();
    assert!(
        !status.success(),
        "{what}: the child ended on its own: {status}"
    );
    reader.join().unwrap()
}

/// The vault folder as the child's argument.
pub fn arg(dir: &Path) -> &str {
    dir.to_str().unwrap()
}
