//! Factsheet latency for a region of 20 municipalities with 100,000 cases over five years (DOELPOORT_BENCH_CASES to
//! change): the query and disclosure control `/v1/statistics/factsheet` runs, cold (first after loading) and warm,
//! against a `SELECT count(*)` over the same period's reports in the same run. SQLite always; PostgreSQL too when
//! DOELPOORT_BENCH_POSTGRES_URL names a server. Run: `cargo bench --bench factsheet`.
//!
//! Each case has one report, a weighing for half of them, a briefing or focus meeting on the agenda for a third, a
//! radicalisation meeting for one in fifty (left out of every figure), and a closing with an outcome for a fifth.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::needless_pass_by_value
)]

mod common;
use common::BenchDb;
use doelpoort::covenant::Covenant;
use doelpoort::figures::factsheet::{factsheet, Period};
use doelpoort::orgs::registry::Snapshot;
use std::path::Path;
use std::time::{Duration, Instant};

const ROLES: [&str; 6] = ["politie", "om", "reclassering", "gemeente", "ggd", "zvh"];
const RUNS: usize = 10;

fn numbers(postgres: bool, n: i64) -> String {
    if postgres {
        format!("FROM generate_series(0, {}) AS g(i)", n - 1)
    } else {
        format!(
            "FROM (WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {}) SELECT i FROM n)",
            n - 1
        )
    }
}

/// An instant `i`-th of `n` through 2022–2026, as stored.
fn at(postgres: bool, n: i64) -> String {
    let day = format!("(i * 1826 / {n})");
    if postgres {
        format!("to_char(TIMESTAMP '2022-01-01' + ({day} || ' days')::interval, 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
    } else {
        format!("strftime('%Y-%m-%dT%H:%M:%S.000000Z', '2022-01-01', '+' || {day} || ' days')")
    }
}

async fn load(pool: &sqlx::AnyPool, postgres: bool, n: i64) {
    for (i, role) in ROLES.iter().enumerate() {
        sqlx::query(&format!(
            "INSERT INTO organisations (oin, name, kind, roles, status, created_at, updated_at) VALUES \
             ('0000009900000000000{}', '{role}', 'ketenpartner', '{role}', 'active', '2022-01-01', '2022-01-01')",
            i + 1
        ))
        .execute(pool)
        .await
        .unwrap();
    }
    let (rows, t) = (numbers(postgres, n), at(postgres, n));
    let oin = "'0000009900000000000' || (i % 6 + 1)";
    let muni = if postgres {
        "'GM' || lpad(((i % 20) + 1)::text, 4, '0')"
    } else {
        "printf('GM%04d', i % 20 + 1)"
    };
    for sql in [
        format!("INSERT INTO cases (id, reported_at, reporter_oin, holder_oin, subject, status, closed_at) \
                 SELECT 'case-' || i, {t}, {oin}, {oin}, 'subject-' || (i % {}), \
                 CASE WHEN i % 5 = 0 THEN 'closed' ELSE 'open' END, CASE WHEN i % 5 = 0 THEN {t} END {rows}", n * 4 / 5),
        format!("INSERT INTO reports (id, case_id, reported_at, reporter_oin, reporter_sub, kind, municipality, gender, \
                 age_band, joined, summary_digest) SELECT 'report-' || i, 'case-' || i, {t}, {oin}, 'p', \
                 CASE WHEN i % 9 = 0 THEN 'gezin' ELSE 'persoon' END, {muni}, \
                 CASE i % 3 WHEN 0 THEN 'man' WHEN 1 THEN 'vrouw' ELSE 'onbekend' END, \
                 CASE i % 4 WHEN 0 THEN '<18' WHEN 1 THEN '18-23' ELSE '23+' END, 0, '' {rows}"),
        format!("INSERT INTO case_subjects (case_id, subject, since) SELECT 'case-' || i, 'subject-' || (i % {}), {t} {rows}", n * 4 / 5),
        format!("INSERT INTO meetings (id, meeting_type, starts_at, ends_at, status, created_by_oin, created_at) \
                 SELECT 'meeting-' || i, CASE WHEN i % 50 = 0 THEN 'radicalisering' WHEN i % 2 = 0 THEN 'briefing' ELSE 'focus' END, \
                 {t}, {t}, 'closed', '00000099000000000006', {t} {rows} WHERE i % 3 = 0 OR i % 50 = 0"),
        format!("INSERT INTO meeting_agenda (meeting_id, case_id, added_at) SELECT 'meeting-' || i, 'case-' || i, {t} {rows} \
                 WHERE i % 3 = 0 OR i % 50 = 0"),
        format!("INSERT INTO weighings (id, case_id, meeting_id, outcome, reason, decided_at, decided_by_oin, decided_by_sub) \
                 SELECT 'weighing-' || i, 'case-' || i, 'meeting-' || (i - i % 6), \
                 CASE i % 4 WHEN 0 THEN 'focus' WHEN 1 THEN 'bilateraal' ELSE 'niet_oppakken' END, \
                 CASE WHEN i % 4 > 1 THEN 'belegd_elders' END, {t}, '00000099000000000006', 'p' {rows} WHERE i % 6 = 0"),
        format!("INSERT INTO case_closure_outcomes (case_id, outcome) SELECT 'case-' || i, 'voortgang_geboekt' {rows} WHERE i % 5 = 0"),
    ] {
        sqlx::query(&sql).execute(pool).await.unwrap();
    }
}

async fn time<F: std::future::Future<Output = ()>>(f: impl Fn() -> F) -> Duration {
    let mut runs = Vec::new();
    for _ in 0..RUNS {
        let t = Instant::now();
        f().await;
        runs.push(t.elapsed());
    }
    runs.sort();
    runs[RUNS / 2]
}

async fn bench(db: BenchDb, postgres: bool, n: i64) {
    let store = db.open().await;
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    let t = Instant::now();
    load(&pool, postgres, n).await;
    println!("{}: loaded {n} cases in {:.1} s", db.label, t.elapsed().as_secs_f64());
    let covenant = Covenant::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("policies")).unwrap();
    let registry = Snapshot::from_rows(store.registry_rows().await.unwrap());
    let period: Period = "2026".parse().unwrap();
    let sheet = || async {
        factsheet(&store, (&covenant, &registry), &period, Some("GM0005"))
            .await
            .unwrap();
    };
    let t = Instant::now();
    sheet().await;
    let cold = t.elapsed();
    let warm = time(sheet).await;
    let count = time(|| async {
        let _: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM reports WHERE reported_at >= '2026-01-01T00:00:00.000000Z' \
             AND reported_at < '2027-01-01T00:00:00.000000Z'",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
    })
    .await;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{}: factsheet GM0005 2026 cold {:.1} ms, warm {:.1} ms; peer count(*) {:.2} ms; warm = {:.0} × peer",
        db.label,
        ms(cold),
        ms(warm),
        ms(count),
        ms(warm) / ms(count).max(1e-6)
    );
    pool.close().await;
    store.close().await;
    db.drop_database().await;
}

#[tokio::main]
async fn main() {
    let n: i64 = std::env::var("DOELPOORT_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    bench(BenchDb::sqlite("factsheet.db"), false, n).await;
    if let Some(db) = BenchDb::postgres("factsheet").await {
        bench(db, true, n).await;
    }
}
