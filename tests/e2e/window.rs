//! Figures of the real window, for docs/benchmarks.md (not a test: it
//! asserts nothing about time). Runs inside the throwaway desktop like the
//! end-to-end suite, on the release binary (`npm run build` first):
//!
//!   cargo bench --manifest-path tests/e2e/Cargo.toml --bench window
//!
//! - cold start: process start to the first paint of the unlock screen;
//! - memory: PSS of the app and its WebKit processes, unlocked with 1,000
//!   keys, idle and then after `KEYWARD_BENCH_MINUTES` (default 5) of
//!   scripted use;
//! - filter keystroke to repaint with 10,000 keys;
//! - reminder scheduler wake-ups with nothing due, unlocked with 1,000 keys,
//!   over `KEYWARD_BENCH_MINUTES` (and the whole process's, for scale).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod harness;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use harness::{ensure_desktop, repo, session, Ui};
use keyward_core::inventory;
use keyward_core::testdata::{fake_key, Created};
use keyward_core::{KdfParams, Origin, Passphrase, Vault, VaultDir};

const PASS: &str = "bench harbour quartz lantern 5";

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // The app, started by tauri-driver, inherits this: it notes each
    // scheduler wake-up in the file.
    let trace = std::env::temp_dir().join(format!("keyward-wakeups-{}.log", std::process::id()));
    if std::env::var_os("KEYWARD_TRACE_SCHEDULER").is_none() {
        std::env::set_var("KEYWARD_TRACE_SCHEDULER", &trace);
    }
    ensure_desktop();
    let app = repo().join("target/release/keyward");
    assert!(
        app.exists(),
        "build the release binary first: npm run build"
    );
    let desktop = PathBuf::from(std::env::var("KEYWARD_DESKTOP_DIR").unwrap());
    let size = std::fs::metadata(&app).unwrap().len();
    println!("release binary: {:.1} MB ({size} bytes)", size as f64 / 1e6);

    let small = desktop.join("vault-1k");
    let big = desktop.join("vault-10k");
    make_vault(&small, 1_000);
    make_vault(&big, 10_000);

    // KEYWARD_BENCH_ONLY=start|memory|filter|wakeups runs one part.
    let only = std::env::var("KEYWARD_BENCH_ONLY").unwrap_or_default();
    let runs = |part: &str| only.is_empty() || only == part;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if runs("start") {
        cold_start(&app, &small);
    }
    if runs("memory") {
        runtime.block_on(memory(&app, &small));
    }
    if runs("filter") {
        runtime.block_on(filter_keystroke(&app, &big));
    }
    if runs("wakeups") {
        runtime.block_on(wakeups(&app, &small));
    }
}

/// Scheduler wake-ups while nothing is due (the vault's keys were created
/// today: the first reminder is 16 days away), counted from the app's
/// trace; and every thread's context switches, for scale.
async fn wakeups(app: &Path, vault: &Path) {
    let trace = PathBuf::from(std::env::var_os("KEYWARD_TRACE_SCHEDULER").unwrap());
    let client = session(app, &["--vault", vault.to_str().unwrap()]).await;
    let ui = Ui { c: client.clone() };
    unlock(&ui, 1_000).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let pid = app_pid(app);
    let lines = || {
        std::fs::read_to_string(&trace)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("woke"))
            .count()
    };
    let switches = || -> u64 {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .map(|tasks| {
                tasks
                    .flatten()
                    .filter_map(|t| std::fs::read_to_string(t.path().join("status")).ok())
                    .flat_map(|s| {
                        s.lines()
                            .filter(|l| l.starts_with("voluntary_ctxt_switches"))
                            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                            .collect::<Vec<_>>()
                    })
                    .sum()
            })
            .unwrap_or(0)
    };
    let planned = std::fs::read_to_string(&trace).unwrap_or_default();
    let next = planned
        .lines()
        .rev()
        .find(|l| l.contains("next wake-up"))
        .unwrap_or("")
        .to_owned();
    let minutes: u64 = std::env::var("KEYWARD_BENCH_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(5);
    let (w0, s0) = (lines(), switches());
    tokio::time::sleep(Duration::from_secs(minutes * 60)).await;
    let (w1, s1) = (lines(), switches());
    let per_hour = |n: u64| n as f64 * 60.0 / minutes as f64;
    println!(
        "scheduler wake-ups with nothing due, unlocked, {minutes} min idle: {} ({:.0}/hour); {}",
        w1 - w0,
        per_hour((w1 - w0) as u64),
        next.trim_start_matches("keyward scheduler: ")
    );
    println!(
        "  the whole app process (GTK, WebKit IPC, idle-lock check), for scale: {:.0} voluntary context switches/hour",
        per_hour(s1 - s0)
    );
    client.close().await.ok();
}

fn make_vault(dir: &Path, n: usize) {
    let started = Instant::now();
    let now = time::OffsetDateTime::now_utc();
    let mut vault = Vault::init(
        &VaultDir::new(dir),
        &Passphrase::new(PASS.into()),
        KdfParams::default(),
        now,
        Origin::Test,
    )
    .unwrap();
    for i in 0..n {
        // Created now: nothing is due for weeks (the wake-up figure needs that).
        let (draft, secrets) = fake_key(i, Created::Now);
        inventory::add(&mut vault, &draft, secrets, now).unwrap();
    }
    vault.lock().unwrap();
    eprintln!(
        "  made a vault of {n} keys in {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

/// Process start to the first paint of the unlock screen, 10 launches.
fn cold_start(app: &Path, vault: &Path) {
    let mut outer = Vec::new();
    let mut inner = Vec::new();
    let mut page = Vec::new();
    for _ in 0..10 {
        let t0 = Instant::now();
        let mut child = Command::new(app)
            .args(["--vault", vault.to_str().unwrap()])
            .env("KEYWARD_STARTUP_PROBE", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            // "keyward: first paint (page: 119 ms from navigation start), 368.2 ms after start"
            if let Some(rest) = line.strip_prefix("keyward: first paint (page: ") {
                outer.push(t0.elapsed().as_secs_f64() * 1000.0);
                let number = |s: &str| s.trim().split(' ').next().unwrap().parse::<f64>().unwrap();
                page.push(number(rest));
                inner.push(number(rest.rsplit("), ").next().unwrap()));
                break;
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        std::thread::sleep(Duration::from_millis(300));
    }
    println!(
        "cold start to first paint (10 launches): median {:.0} ms, min {:.0}, max {:.0} (spawn to the window's report); from main: median {:.0} ms; of which the page, navigation start to paint: median {:.0} ms",
        median(&mut outer.clone()),
        min(&outer),
        max(&outer),
        median(&mut inner),
        median(&mut page)
    );
}

/// PSS (kB) of `pid` and every descendant.
fn pss_tree(pid: u32) -> (u64, usize) {
    let mut all = vec![pid];
    let mut i = 0;
    while i < all.len() {
        let parent = all[i];
        for e in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else {
                continue;
            };
            // Fields after the command name (which may hold spaces) end with ')'.
            let after = &stat[stat.rfind(')').unwrap() + 2..];
            let ppid: u32 = after.split(' ').nth(1).unwrap().parse().unwrap();
            if ppid == parent && !all.contains(&p) {
                all.push(p);
            }
        }
        i += 1;
    }
    let mut total = 0;
    for p in &all {
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")) {
            for line in text.lines() {
                if let Some(v) = line.strip_prefix("Pss:") {
                    total += v
                        .trim()
                        .trim_end_matches(" kB")
                        .trim()
                        .parse::<u64>()
                        .unwrap_or(0);
                }
            }
        }
    }
    (total, all.len())
}

fn app_pid(app: &Path) -> u32 {
    let mut newest = None;
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if std::fs::read_link(format!("/proc/{p}/exe")).ok().as_deref() == Some(app) {
            newest = Some(newest.map_or(p, |n: u32| n.max(p)));
        }
    }
    newest.expect("the app's process")
}

async fn unlock(ui: &Ui, keys: usize) {
    ui.typ("#unlock-pass", &format!("{PASS}\u{E007}"))
        .await
        .unwrap();
    ui.until_within("the inventory", Duration::from_secs(60), || async {
        ui.texts(".count")
            .await
            .first()
            .is_some_and(|t| t.replace(',', "").starts_with(&keys.to_string()))
    })
    .await
    .unwrap();
}

async fn memory(app: &Path, vault: &Path) {
    let client = session(app, &["--vault", vault.to_str().unwrap()]).await;
    let ui = Ui { c: client.clone() };
    unlock(&ui, 1_000).await;
    let pid = app_pid(app);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (idle, procs) = pss_tree(pid);
    println!(
        "memory, unlocked with 1,000 keys, idle: {:.0} MB PSS over {procs} processes",
        idle as f64 / 1024.0
    );

    let minutes: u64 = std::env::var("KEYWARD_BENCH_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(5);
    let start = Instant::now();
    let mut samples = vec![(0u64, idle)];
    let mut round = 0u64;
    let words = ["grid", "kraken", "treasury 7", "desk3", "arb bot 12", "okx"];
    while start.elapsed() < Duration::from_secs(minutes * 60) {
        round += 1;
        // A user's minute: search, open keys, reveal and hide, sort, settings.
        let w = words[(round as usize) % words.len()];
        ui.typ("input[aria-label='Search keys']", w).await.ok();
        tokio::time::sleep(Duration::from_millis(300)).await;
        ui.click("[role=row][aria-rowindex='2']").await.ok();
        ui.click("button[aria-label='Reveal api_secret']")
            .await
            .ok();
        tokio::time::sleep(Duration::from_millis(300)).await;
        ui.click("button[aria-label^='Hide api_secret']").await.ok();
        ui.clear("input[aria-label='Search keys']").await.ok();
        ui.click("button[aria-label='Sort by Next due']").await.ok();
        ui.click("button[aria-label='Sort by Platform']").await.ok();
        for _ in 0..5 {
            if let Ok(el) = ui.find(".viewport").await {
                let _ =
                    ui.c.execute(
                        "arguments[0].scrollTop += 2000;",
                        vec![serde_json::to_value(&el).unwrap()],
                    )
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        ui.click("button[aria-label='Settings']").await.ok();
        ui.click("button[aria-label='Close']").await.ok();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let minute = start.elapsed().as_secs() / 60;
        if samples.last().is_some_and(|(m, _)| *m < minute) {
            samples.push((minute, pss_tree(pid).0));
        }
    }
    tokio::time::sleep(Duration::from_secs(10)).await;
    let (after, _) = pss_tree(pid);
    samples.push((minutes, after));
    let series: Vec<String> = samples
        .iter()
        .map(|(m, kb)| format!("{m}m {:.0}", *kb as f64 / 1024.0))
        .collect();
    println!(
        "memory after {minutes} min of scripted use ({round} rounds): {:.0} MB PSS (series, MB: {})",
        after as f64 / 1024.0,
        series.join(", ")
    );
    client.close().await.ok();
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn filter_keystroke(app: &Path, vault: &Path) {
    let client = session(app, &["--vault", vault.to_str().unwrap()]).await;
    let ui = Ui { c: client.clone() };
    let t = Instant::now();
    unlock(&ui, 10_000).await;
    println!("unlock with 10,000 keys, passphrase submitted to the table shown: {:.0} ms (includes the 2^18 KDF)", t.elapsed().as_secs_f64() * 1000.0);
    ui.c
        .execute(
            r#"
            window.__kw = [];
            const input = document.querySelector("input[aria-label='Search keys']");
            const shown = () => document.querySelector(".count").textContent + "|" +
              Array.from(document.querySelectorAll(".row .label-text")).slice(0, 3).map(e => e.textContent).join("|");
            // Key down → poll each frame until what the table shows changes →
            // the end of that frame (after it painted).
            input.addEventListener("keydown", () => {
              const t0 = performance.now();
              const before = shown();
              const check = () => {
                if (shown() === before && performance.now() - t0 < 2000) return requestAnimationFrame(check);
                const ch = new MessageChannel();
                ch.port1.onmessage = () => window.__kw.push(performance.now() - t0);
                ch.port2.postMessage(0);
              };
              requestAnimationFrame(check);
            });
            return true;
            "#,
            vec![],
        )
        .await
        .unwrap();
    let input = ui.find("input[aria-label='Search keys']").await.unwrap();
    // Each keystroke here changes what the table shows (labels end in numbers).
    for text in ["739", "2048", "51", "9999", "4242"] {
        for ch in text.chars() {
            input.send_keys(&ch.to_string()).await.unwrap();
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        for _ in 0..text.chars().count() {
            input.send_keys("\u{E003}").await.unwrap();
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let v = ui.c.execute("return window.__kw;", vec![]).await.unwrap();
    let all: Vec<f64> = v
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|x| x.as_f64())
        .collect();
    // A keystroke that changed nothing on screen has no repaint to time.
    let mut ms: Vec<f64> = all.iter().copied().filter(|t| *t < 2000.0).collect();
    let unchanged = all.len() - ms.len();
    let n = ms.len();
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p95 = ms[((n as f64) * 0.95) as usize - 1];
    println!(
        "filter keystroke to repaint, 10,000 keys ({n} keystrokes; {unchanged} changed nothing and are left out): median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        median(&mut ms.clone()),
        p95,
        max(&ms)
    );
    client.close().await.ok();
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}
fn min(v: &[f64]) -> f64 {
    v.iter().cloned().fold(f64::INFINITY, f64::min)
}
fn max(v: &[f64]) -> f64 {
    v.iter().cloned().fold(0.0, f64::max)
}
