//! `audit verify` throughput over a log of 1,000,000 records (DOELPOORT_BENCH_RECORDS to change), against plain
//! SHA-256 over the same encoded bytes, measured in the same run. SQLite always; PostgreSQL too when
//! DOELPOORT_BENCH_POSTGRES_URL names a server (a fresh database is made and dropped).
//! Run: `cargo bench --bench log_verify`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::needless_pass_by_value
)]

mod common;
use common::BenchDb;

use doelpoort::log::verify::{verify, Trust};
use doelpoort::store::Store;
use std::time::Instant;

/// Appends `n` records; returns their encodings (what the leaves hash).
async fn fill(store: &Store, n: usize) -> Vec<Vec<u8>> {
    let mut encodings = Vec::with_capacity(n);
    common::fill_log(store, n, |r| encodings.push(r.encode())).await;
    encodings
}

/// Plain SHA-256 over each record's bytes, as many digests as records: the rate verification is compared with.
fn plain_hash_rate(encodings: &[Vec<u8>]) -> f64 {
    let started = Instant::now();
    let mut acc = 0u8;
    for e in encodings {
        acc ^= ring::digest::digest(&ring::digest::SHA256, e).as_ref()[0];
    }
    std::hint::black_box(acc);
    encodings.len() as f64 / started.elapsed().as_secs_f64()
}

/// CPU seconds this process has used (user and system, every thread), from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name; 100 ticks a second.
    (ticks(11) + ticks(12)) / 100.0
}

async fn run(db: BenchDb, n: usize) {
    let label = db.label;
    let store = db.open().await;
    let encodings = fill(&store, n).await;
    let bytes: usize = encodings.iter().map(Vec::len).sum();
    let plain = plain_hash_rate(&encodings);
    let started = Instant::now();
    let cpu = cpu_seconds();
    let trust = Trust {
        origin: "doelpoort/bench".into(),
        keys: Vec::new(),
        interval_secs: None,
        now: String::new(),
        anchors: Vec::new(),
    };
    let report = verify(&doelpoort::log::Records::new(store.clone()), &trust, |_, _| {})
        .await
        .unwrap();
    // DOELPOORT_BENCH_PROFILE=N verifies N times more, for a profiler to see verification alone.
    let again: usize = std::env::var("DOELPOORT_BENCH_PROFILE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if again > 0 {
        println!(
            "  profile: verifying {again} more times from {:?}",
            std::time::SystemTime::now()
        );
        for _ in 0..again {
            verify(&doelpoort::log::Records::new(store.clone()), &trust, |_, _| {})
                .await
                .unwrap();
        }
        println!("  profile: done at {:?}", std::time::SystemTime::now());
    }
    let wall = started.elapsed().as_secs_f64();
    let verified = report.records as f64 / wall;
    assert_eq!(report.records as usize, n);
    println!(
        "  audit verify kept {:.2} cores busy in this process ({:.2} s of CPU in {wall:.2} s)",
        (cpu_seconds() - cpu) / wall,
        cpu_seconds() - cpu
    );
    // Where the time goes: reading the bundles alone, and hashing their leaves alone.
    let records = doelpoort::log::Records::new(store.clone());
    let started = Instant::now();
    let (mut after, mut read) = (0i64, 0usize);
    let mut hash_time = std::time::Duration::ZERO;
    loop {
        let page = records.bundles(after, 256).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.last_seq;
        read += page.len();
        let hashing = Instant::now();
        for b in &page {
            for part in doelpoort::log::bundle::split(&b.packed().unwrap()).unwrap() {
                std::hint::black_box(doelpoort::log::merkle::leaf_hash(part));
            }
        }
        hash_time += hashing.elapsed();
    }
    std::hint::black_box(read);
    let read_rate = n as f64 / (started.elapsed() - hash_time).as_secs_f64();
    let hash_rate = n as f64 / hash_time.as_secs_f64();
    println!(
        "  of which: reading the bundles alone {read_rate:.0} rec/s; their leaf hashes alone {hash_rate:.0} rec/s"
    );
    println!(
        "{label}: {n} records ({:.0} bytes each): audit verify {:.0} rec/s, plain SHA-256 {:.0} rec/s, ratio {:.2}",
        bytes as f64 / n as f64,
        verified,
        plain,
        verified / plain
    );
    store.close().await;
    db.drop_database().await;
}

fn main() {
    common::on_each_backend("verify", 1_000_000, run);
}
