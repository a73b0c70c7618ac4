//! Subject-report latency with 10,000,000 records in the log (DOELPOORT_BENCH_RECORDS to change): the query the
//! `/v1/audit/subject-report` handler runs, for the FG (all organisations) and for a partner's officer (scoped),
//! against a primary-key read of one record measured in the same run. SQLite always; PostgreSQL too when
//! DOELPOORT_BENCH_POSTGRES_URL names a server. Run: `cargo bench --bench subject_report`.
//!
//! The records (one million subjects, about ten records each, every kind and eight organisations) are appended
//! through the log's own door, 20,000 per transaction, so they are stored as the gateway stores them.
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
use doelpoort::log::chain::{Entry, Kind};
use doelpoort::types::Oin;
use std::time::{Duration, Instant};

const SUBJECTS: i64 = 1_000_000;
const SAMPLES: usize = 300;

/// The `i`-th record: every kind, eight organisations, a subject among a million.
fn entry(i: i64) -> Entry {
    let kind = match i % 10 {
        0 => Kind::Admin,
        1 => Kind::Lookup,
        2 => Kind::Refusal,
        _ => Kind::Disclosure,
    };
    Entry {
        source_oin: Some(format!("0000009900000000000{}", i % 8 + 1)),
        recipient_oin: Some(format!("0000009900000000000{}", (i / 8) % 8 + 1)),
        actor_oin: Some("00000099000000000001".into()),
        actor_sub: Some("professional".into()),
        case_id: Some(format!("case-{}", i % 500_000)),
        subject: Some(format!("{:064x}", (i * 7) % SUBJECTS)),
        meeting_type: Some("focus".into()),
        purpose: Some("plan_van_aanpak".into()),
        categories: vec!["leefgebieden".into(), "nazorg_domeinen".into()],
        covenant_version: Some("2026.1".into()),
        article: Some("art. 7".into()),
        content_digest: Some(format!("{i:064x}")),
        ..Entry::new(kind)
    }
}

async fn load(db: &BenchDb, store: &doelpoort::store::Store, n: i64) {
    let started = Instant::now();
    let mut from = 1;
    while from <= n {
        let to = (from + 19_999).min(n);
        let mut tx = store.begin().await.unwrap();
        let at = time::OffsetDateTime::now_utc().into();
        doelpoort::log::record_in(&mut tx, (from..=to).map(entry).collect(), at)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        from = to + 1;
    }
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    sqlx::query("ANALYZE").execute(&pool).await.unwrap();
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
    load(&db, &store, n).await;
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
