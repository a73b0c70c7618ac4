//! An inclusion proof at 10,000,000 records (DOELPOORT_BENCH_RECORDS to change): the hashes of
//! `GET /v1/audit/proof/inclusion` read from the tree's tiles for random records, p50 and p99, against a
//! primary-key read of one record in the same run; and the bytes the database holds per record (records, their
//! indexes and the tree). SQLite always; PostgreSQL too when DOELPOORT_BENCH_POSTGRES_URL names a server.
//! Run: `cargo bench --bench log_proof`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::needless_pass_by_value
)]

mod common;
use common::BenchDb;

use doelpoort::log::merkle::inclusion_ranges;
use doelpoort::log::Records;
use std::time::{Duration, Instant};

/// Bytes the whole database takes (records, indexes, tree, and the few other tables, empty here).
async fn database_bytes(url: &str) -> i64 {
    let pool = sqlx::AnyPool::connect(url).await.unwrap();
    let bytes = if url.starts_with("sqlite") {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&pool)
            .await
            .unwrap();
        let (pages,): (i64,) = sqlx::query_as("PRAGMA page_count").fetch_one(&pool).await.unwrap();
        let (size,): (i64,) = sqlx::query_as("PRAGMA page_size").fetch_one(&pool).await.unwrap();
        pages * size
    } else {
        sqlx::query("VACUUM ANALYZE").execute(&pool).await.unwrap();
        let (bytes,): (i64,) = sqlx::query_as("SELECT pg_database_size(current_database())::BIGINT")
            .fetch_one(&pool)
            .await
            .unwrap();
        bytes
    };
    pool.close().await;
    bytes
}

fn percentiles(mut d: Vec<Duration>) -> (f64, f64) {
    d.sort();
    let ms = |x: Duration| x.as_secs_f64() * 1000.0;
    (ms(d[d.len() / 2]), ms(d[d.len() * 99 / 100]))
}

async fn run(db: BenchDb, n: usize) {
    let label = db.label;
    let store = db.open().await;
    common::fill_log(&store, n, |_| {}).await;
    let bytes = database_bytes(&db.url).await;
    let records = Records::new(store.clone());
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n as u64
    };
    let (mut proof, mut read) = (Vec::new(), Vec::new());
    for round in 0..4_000 {
        let index = next();
        let started = Instant::now();
        let path = records.range_hashes(&inclusion_ranges(index, n as u64)).await.unwrap();
        let took = started.elapsed();
        assert!(!path.is_empty());
        let started = Instant::now();
        let r = records.record(index as i64 + 1).await.unwrap();
        let read_took = started.elapsed();
        assert!(r.is_some());
        if round >= 200 {
            proof.push(took);
            read.push(read_took);
        }
    }
    let (p50, p99) = percentiles(proof);
    let (r50, r99) = percentiles(read);
    println!(
        "{label}: {n} records, {:.0} bytes per record (database total); inclusion proof p50 {p50:.3} ms p99 {p99:.3} ms, \
         primary-key read p50 {r50:.3} ms p99 {r99:.3} ms (p99 ratio {:.2})",
        bytes as f64 / n as f64,
        p99 / r99
    );
    store.close().await;
    db.drop_database().await;
}

fn main() {
    common::on_each_backend("proof", 10_000_000, run);
}
