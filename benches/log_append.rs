//! Durable append throughput of the disclosure log with group commit against a one-commit-per-record baseline,
//! measured in the same run on the same disk, at 1, 8 and 64 concurrent writers. SQLite always; PostgreSQL too
//! when DOELPOORT_BENCH_POSTGRES_URL names a server (a fresh database is made and dropped). Run: `cargo bench --bench log_append`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::needless_pass_by_value
)]

mod common;
use common::BenchDb;

use doelpoort::log::chain::{Entry, Kind};
use doelpoort::log::Log;
use doelpoort::store::Store;
use doelpoort::types::clock::SystemClock;
use std::sync::Arc;
use std::time::{Duration, Instant};

const RUN: Duration = Duration::from_secs(4);

fn entry() -> Entry {
    Entry {
        source_oin: Some("00000099000000000005".into()),
        recipient_oin: Some("00000099000000000001".into()),
        categories: vec!["leefgebieden".into(), "nazorg_domeinen".into()],
        purpose: Some("weging".into()),
        content_digest: Some("ab".repeat(32)),
        ..Entry::new(Kind::Disclosure)
    }
}

/// Records per second and p99 latency with `writers` tasks appending for `RUN`.
async fn measure(writers: usize, grouped: bool, store: &Store, log: &Log) -> (f64, Duration) {
    let deadline = Instant::now() + RUN;
    let started = Instant::now();
    let tasks: Vec<_> = (0..writers)
        .map(|_| {
            let (store, log) = (store.clone(), log.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let t = Instant::now();
                    if grouped {
                        log.append(entry()).await.unwrap();
                    } else {
                        let tx = store.begin().await.unwrap();
                        let now = time::OffsetDateTime::now_utc().into();
                        doelpoort::log::commit_with(tx, entry(), now).await.unwrap();
                    }
                    latencies.push(t.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let p99 = all.get(all.len() * 99 / 100).copied().unwrap_or_default();
    (all.len() as f64 / elapsed, p99)
}

async fn bench(name: &str, url: &str) {
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    let log = Log::start(
        store.clone(),
        Arc::new(SystemClock),
        1024,
        std::time::Duration::from_secs(10),
    );
    for writers in [1, 8, 64] {
        let (base, base_p99) = measure(writers, false, &store, &log).await;
        let (group, group_p99) = measure(writers, true, &store, &log).await;
        println!(
            "{name} {writers:>2} writers: one commit per record {base:>8.0} rec/s (p99 {:>6.1} ms) | group commit {group:>8.0} rec/s (p99 {:>6.1} ms) | {:.1}x",
            base_p99.as_secs_f64() * 1e3,
            group_p99.as_secs_f64() * 1e3,
            group / base
        );
    }
    store.close().await;
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` only checks that it builds
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let db = BenchDb::sqlite("bench.db");
        bench("sqlite  ", &db.url).await;
        if let Some(db) = BenchDb::postgres("append").await {
            bench("postgres", &db.url).await;
            db.drop_database().await;
        }
    });
}
