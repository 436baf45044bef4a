//! Benchmarks at 10,000 keys: unlock (the passphrase KDF and everything
//! else, apart), list all, build the search index, filter by text, add one
//! key, reveal one secret; and a reminder round as `keyward remind --once`
//! and the app's scheduler run it (plan, record, rewrite the schedule).
//!
//! `cargo bench -p keyward-core --bench vault` (figures in docs/benchmarks.md).
//! The vault uses the production KDF work factor, so the KDF figure is real.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::hint::black_box;
use std::time::{Duration, Instant};

// The same allocator as the app binary, so the figures are the app's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use keyward_core::findings;
use keyward_core::inventory::{self, Filter, SearchIndex, SecretUse};
use keyward_core::reminder::{Snapshot, TimeZone};
use keyward_core::review::{self, report, Decision, Scope};
use keyward_core::rotation::Policy;
use keyward_core::testdata::{fake_key, Created};
use keyward_core::{KdfParams, Origin, Passphrase, Vault, VaultDir};
use time::macros::datetime;
use time::OffsetDateTime;

const KEYS: usize = 10_000;
const NOW: OffsetDateTime = datetime!(2026-11-22 08:00 UTC);
const PASS: &str = "bench harbour quartz lantern 5";
/// A vault with 10,000 keys (two secrets each), made once per run.
fn build_vault(dir: &VaultDir) {
    let started = Instant::now();
    let mut vault = Vault::init(
        dir,
        &Passphrase::new(PASS.into()),
        KdfParams::default(),
        NOW,
        Origin::Test,
    )
    .unwrap();
    for i in 0..KEYS {
        let (draft, secrets) = fake_key(i, Created::Spread);
        inventory::add(&mut vault, &draft, secrets, NOW).unwrap();
    }
    vault.lock().unwrap();
    let size = std::fs::metadata(dir.db_path()).unwrap().len();
    eprintln!(
        "setup: {KEYS} keys in {:.1}s, vault.db {:.1} MiB",
        started.elapsed().as_secs_f64(),
        size as f64 / (1024.0 * 1024.0)
    );
}

fn benches(c: &mut Criterion) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = VaultDir::new(tmp.path().join("vault"));
    build_vault(&dir);
    let pass = Passphrase::new(PASS.into());

    let mut g = c.benchmark_group("unlock_10k");
    g.sample_size(10).measurement_time(Duration::from_secs(12));
    g.bench_function("kdf (scrypt 2^18, vault.key)", |b| {
        b.iter(|| black_box(dir.unwrap_identity(&pass).unwrap()))
    });
    let identity = dir.unwrap_identity(&pass).unwrap();
    g.sample_size(50).measurement_time(Duration::from_secs(5));
    g.bench_function(
        "everything else (open, migrate, rollback check, audit)",
        |b| {
            b.iter_batched(
                || identity.clone(),
                |id| black_box(Vault::open(&dir, id, NOW, Origin::Test).unwrap()),
                BatchSize::PerIteration,
            )
        },
    );
    // Locking writes audit.head (the rollback anchor) when the head moved:
    // one small file, synced, renamed into place.
    g.bench_function("lock (audit.head written)", |b| {
        b.iter_batched(
            || Vault::open(&dir, identity.clone(), NOW, Origin::Test).unwrap(),
            |v| v.lock().unwrap(),
            BatchSize::PerIteration,
        )
    });
    g.finish();

    let mut vault = Vault::open(&dir, identity.clone(), NOW, Origin::Test).unwrap();
    // A reminder round as `remind --once` and the app run it, at 10,000
    // keys created January–October 2026 with 30–90-day periods: at NOW
    // most are overdue, the worst case (every key has something to send).
    let mut g = c.benchmark_group("reminders_10k");
    g.sample_size(20);
    let utc = TimeZone::UTC;
    let snap = Snapshot::read(&vault, utc.clone()).unwrap();
    let plan = snap.plan(NOW);
    eprintln!(
        "reminders: {} of {} keys due now, next wake-up {:?}",
        plan.due_now.len(),
        snap.entries.len(),
        plan.next_wake
    );
    g.bench_function("read and plan (what is due now)", |b| {
        b.iter(|| black_box(Snapshot::read(&vault, utc.clone()).unwrap().plan(NOW)))
    });
    g.bench_function(
        "first round: read, plan, record every due key, write schedule",
        |b| {
            // Forgetting what was sent stays outside the timing.
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    vault
                        .raw_connection()
                        .execute("DELETE FROM reminders", [])
                        .unwrap();
                    let t = Instant::now();
                    let mut snap = Snapshot::read(&vault, utc.clone()).unwrap();
                    let plan = snap.plan(NOW);
                    snap.record(&mut vault, &plan.due_now, NOW).unwrap();
                    total += t.elapsed();
                }
                total
            })
        },
    );
    g.bench_function(
        "later round: read, plan, nothing new, write schedule",
        |b| {
            b.iter(|| {
                let mut snap = Snapshot::read(&vault, utc.clone()).unwrap();
                let plan = snap.plan(NOW);
                assert!(plan.due_now.is_empty());
                snap.record(&mut vault, &[], NOW).unwrap();
            })
        },
    );
    g.finish();

    // Findings: every rule over every key, from metadata.
    let mut g = c.benchmark_group("findings_10k");
    g.sample_size(20);
    let listed = inventory::list(&vault).unwrap();
    let groups = inventory::shared_secrets(&vault).unwrap();
    let policy = Policy::new(&keyward_core::settings::Settings::default());
    let open = findings::Open::default();
    let cx = findings::Context::new(&listed, &groups, &policy, &open, NOW);
    eprintln!(
        "findings: {} over {} keys",
        findings::evaluate(&listed, &cx).len(),
        listed.len()
    );
    g.bench_function("evaluate every rule (keys listed)", |b| {
        b.iter(|| black_box(findings::evaluate(&listed, &cx)))
    });
    g.bench_function("of the vault: list, fingerprints, evaluate", |b| {
        b.iter(|| black_box(findings::of_vault(&vault, NOW).unwrap()))
    });
    g.finish();

    let mut g = c.benchmark_group("inventory_10k");
    g.sample_size(30);
    // The first list of a session decrypts every page it reads.
    g.bench_function("list all, first after unlock", |b| {
        // Opening and closing the session stay outside the timing.
        b.iter_batched_ref(
            || Vault::open(&dir, identity.clone(), NOW, Origin::Test).unwrap(),
            |v| inventory::list(v).unwrap(),
            BatchSize::PerIteration,
        )
    });
    g.bench_function("list all", |b| {
        b.iter(|| black_box(inventory::list(&vault).unwrap()))
    });
    let entries = inventory::list(&vault).unwrap();
    assert_eq!(entries.len(), KEYS);
    g.bench_function("build search index", |b| {
        b.iter(|| black_box(SearchIndex::new(&entries)))
    });
    let index = SearchIndex::new(&entries);
    let text = Filter {
        text: "grid desk3".into(),
        ..Filter::default()
    };
    let hits = index.filter(&entries, &text, NOW).len();
    assert!(hits > 0 && hits < KEYS);
    g.bench_function("filter by text", |b| {
        b.iter(|| black_box(index.filter(&entries, &text, NOW)))
    });
    let one_char = Filter {
        text: "k".into(),
        ..Filter::default()
    };
    g.bench_function("filter by one character", |b| {
        b.iter(|| black_box(index.filter(&entries, &one_char, NOW)))
    });
    let mut n = KEYS;
    g.bench_function("add one key", |b| {
        b.iter(|| {
            n += 1;
            let (draft, secrets) = fake_key(n, Created::Spread);
            black_box(inventory::add(&mut vault, &draft, secrets, NOW).unwrap())
        })
    });
    let target = entries[KEYS / 2].id.clone();
    g.bench_function("reveal one secret", |b| {
        b.iter(|| {
            black_box(
                inventory::take_secret(&mut vault, &target, "api_secret", SecretUse::Reveal, NOW)
                    .unwrap(),
            )
        })
    });
    g.finish();
}

/// An access review of 1,000 keys: start, decide each, finish (timed once:
/// they change the vault), then reading it back and each report format.
fn review_benches(c: &mut Criterion) {
    const N: usize = 1_000;
    let tmp = tempfile::tempdir().unwrap();
    let dir = VaultDir::new(tmp.path().join("vault"));
    // The KDF is not what is measured here.
    let kdf = KdfParams::insecure_for_tests(10).unwrap();
    let mut vault =
        Vault::init(&dir, &Passphrase::new(PASS.into()), kdf, NOW, Origin::Test).unwrap();
    for i in 0..N {
        let (draft, secrets) = fake_key(i, Created::Spread);
        inventory::add(&mut vault, &draft, secrets, NOW).unwrap();
    }
    let t = Instant::now();
    let d = review::start(&mut vault, "bench reviewer", &Scope::default(), NOW).unwrap();
    let start_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    for (n, item) in d.items.iter().enumerate() {
        let decision = Decision::ALL[n % 4];
        review::decide(
            &mut vault,
            &d.review.id,
            &item.entry_id,
            decision,
            Some("still used by the desk; owner confirmed"),
            None,
            NOW,
        )
        .unwrap();
    }
    let decide_ms = t.elapsed().as_secs_f64() * 1e3 / N as f64;
    let t = Instant::now();
    let done = review::finish(&mut vault, &d.review.id, NOW).unwrap();
    let finish_ms = t.elapsed().as_secs_f64() * 1e3;
    eprintln!(
        "review of {} keys: start {start_ms:.1} ms, decide {decide_ms:.2} ms per key, finish {finish_ms:.1} ms",
        done.items.len()
    );
    for f in [
        report::Format::Markdown,
        report::Format::Csv,
        report::Format::Html,
    ] {
        eprintln!(
            "report {:?}: {} KiB",
            f,
            report::render(&done, f).len() / 1024
        );
    }
    let mut g = c.benchmark_group("review_1k");
    g.sample_size(20);
    g.bench_function("read the finished review", |b| {
        b.iter(|| black_box(review::get(&vault, &done.review.id, NOW).unwrap()))
    });
    for (name, f) in [
        ("report: Markdown", report::Format::Markdown),
        ("report: CSV", report::Format::Csv),
        ("report: HTML", report::Format::Html),
    ] {
        g.bench_function(name, |b| b.iter(|| black_box(report::render(&done, f))));
    }
    g.bench_function("export HTML: read and render", |b| {
        b.iter(|| {
            let d = review::get(&vault, &done.review.id, NOW).unwrap();
            black_box(report::render(&d, report::Format::Html))
        })
    });
    g.finish();
}

criterion_group!(vault, benches, review_benches);
criterion_main!(vault);
