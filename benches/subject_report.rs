//! Subject-report latency with 10,000,000 records in the log (DOELPOORT_BENCH_RECORDS to change): the query the
//! `/v1/audit/subject-report` handler runs, for the FG (all organisations) and for a partner's officer (scoped),
//! against a primary-key read of one record measured in the same run. SQLite always; PostgreSQL too when
//! DOELPOORT_BENCH_POSTGRES_URL names a server. Run: `cargo bench --bench subject_report`.
//!
//! The records are generated in SQL (one million subjects, about ten records each, every kind and eight
//! organisations) without computing the chain: the report does not read hashes, and hashing ten million
//! records through the append path would only make the set-up slower. Indexes are those of the migrations,
//! dropped during the load and rebuilt from their own definitions.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::needless_pass_by_value
)]

mod common;
use common::BenchDb;
use doelpoort::log::audit::{subject_filter, SUBJECT_REPORT_MAX};
use doelpoort::types::Oin;
use std::time::{Duration, Instant};

const SUBJECTS: i64 = 1_000_000;
const SAMPLES: usize = 300;

fn columns() -> &'static str {
    "seq, at, kind, source_oin, recipient_oin, actor_oin, actor_sub, case_id, subject, meeting_type, purpose, \
     categories, covenant_version, article, content_digest, decision, prev_hash, hash"
}

fn load_sql(postgres: bool, from: i64, to: i64) -> String {
    let hex = |e: &str| {
        if postgres {
            format!("lpad(to_hex({e}), 64, '0')")
        } else {
            format!("printf('%064x', {e})")
        }
    };
    let rows = if postgres {
        format!("FROM generate_series({from}, {to}) AS g(i)")
    } else {
        format!(
            "FROM (WITH RECURSIVE n(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM n WHERE i < {to}) SELECT i FROM n)"
        )
    };
    format!(
        "INSERT INTO log_records ({}) SELECT i, '2026-01-01T00:00:00.000000Z', \
         CASE i % 10 WHEN 0 THEN 'admin' WHEN 1 THEN 'lookup' WHEN 2 THEN 'refusal' ELSE 'disclosure' END, \
         '0000009900000000000' || (i % 8 + 1), '0000009900000000000' || ((i / 8) % 8 + 1), \
         '00000099000000000001', 'professional', 'case-' || (i % 500000), {}, 'focus', 'plan_van_aanpak', \
         '[\"leefgebieden\",\"nazorg_domeinen\"]', '2026.1', 'art. 7', {}, \
         CASE WHEN i % 10 = 2 THEN 'deny' ELSE 'allow' END, {}, {} {rows}",
        columns(),
        hex(&format!("(i * 7) % {SUBJECTS}")),
        hex("i"),
        hex("i - 1"),
        hex("i"),
    )
}

async fn exec(pool: &sqlx::AnyPool, sql: &str) {
    sqlx::query(sql).execute(pool).await.unwrap();
}

async fn load(db: &BenchDb, n: i64) {
    let postgres = db.label == "PostgreSQL";
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let started = Instant::now();
    let indexes: Vec<(String, String)> = if postgres {
        sqlx::query_as(
            "SELECT indexname::text, indexdef::text FROM pg_indexes WHERE tablename = 'log_records' AND indexname <> 'log_records_pkey'",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    } else {
        sqlx::query_as(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'log_records' AND sql IS NOT NULL",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    for (name, _) in &indexes {
        exec(&pool, &format!("DROP INDEX {name}")).await;
    }
    let chunk = 1_000_000;
    let mut from = 1;
    while from <= n {
        let to = (from + chunk - 1).min(n);
        exec(&pool, &load_sql(postgres, from, to)).await;
        from = to + 1;
    }
    for (_, sql) in &indexes {
        exec(&pool, sql).await;
    }
    exec(&pool, &format!("UPDATE log_head SET seq = {n} WHERE id = 1")).await;
    exec(&pool, if postgres { "ANALYZE log_records" } else { "ANALYZE" }).await;
    pool.close().await;
    println!(
        "  {}: loaded {n} records in {:.0} s",
        db.label,
        started.elapsed().as_secs_f64()
    );
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

async fn run(db: BenchDb, n: i64) {
    let store = db.open().await;
    let records = doelpoort::log::Records::new(store.clone());
    load(&db, n).await;
    let partner: Oin = "00000099000000000005".parse().unwrap();
    let report = |label: &str, mut times: Vec<Duration>, rows: usize| {
        times.sort_unstable();
        println!(
            "{}: {label}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({rows} records returned in all)",
            db.label,
            percentile(&times, 50).as_secs_f64() * 1e3,
            percentile(&times, 99).as_secs_f64() * 1e3,
            times.last().unwrap().as_secs_f64() * 1e3,
        );
        percentile(&times, 99)
    };
    let mut fg = Vec::new();
    let mut scoped = Vec::new();
    let mut by_key = Vec::new();
    let (mut fg_rows, mut scoped_rows) = (0, 0);
    for k in 0..SAMPLES {
        let subject = format!("{:064x}", (k as i64 * 7_919 + 13) % SUBJECTS);
        let t = Instant::now();
        let rows = records
            .query(
                &subject_filter(subject.clone(), None),
                i64::MAX,
                true,
                SUBJECT_REPORT_MAX + 1,
            )
            .await
            .unwrap();
        fg.push(t.elapsed());
        fg_rows += rows.len();
        let t = Instant::now();
        let rows = records
            .query(
                &subject_filter(subject, Some(&partner)),
                i64::MAX,
                true,
                SUBJECT_REPORT_MAX + 1,
            )
            .await
            .unwrap();
        scoped.push(t.elapsed());
        scoped_rows += rows.len();
        let t = Instant::now();
        records
            .record_hash((k as i64 * 104_729) % n + 1)
            .await
            .unwrap()
            .unwrap();
        by_key.push(t.elapsed());
    }
    assert!(fg_rows > 0, "the sampled subjects have records");
    let fg99 = report("subject report, FG", fg, fg_rows);
    report("subject report, partner officer", scoped, scoped_rows);
    let key99 = report("one record by primary key (peer)", by_key, SAMPLES);
    println!(
        "{}: subject report p99 is {:.1}x a primary-key read",
        db.label,
        fg99.as_secs_f64() / key99.as_secs_f64()
    );
    store.close().await;
    db.drop_database().await;
}

fn main() {
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return; // `cargo test --benches` only checks that it builds
    }
    let n: i64 = std::env::var("DOELPOORT_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        run(BenchDb::sqlite("subject.db"), n).await;
        if let Some(db) = BenchDb::postgres("subject").await {
            run(db, n).await;
        }
    });
}
