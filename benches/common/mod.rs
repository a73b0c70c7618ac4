//! What the database benchmarks share: a fresh database per run on SQLite (a temporary file) or on the PostgreSQL
//! server DOELPOORT_BENCH_POSTGRES_URL names (a new database, dropped afterwards).
#![allow(dead_code)]

use doelpoort::log::chain::{Entry, Kind, Record};
use doelpoort::store::Store;
use std::time::Instant;

pub struct BenchDb {
    pub label: &'static str,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl BenchDb {
    pub fn sqlite(name: &str) -> BenchDb {
        let dir = tempfile::tempdir().unwrap();
        BenchDb {
            label: "SQLite (FULL)",
            url: format!("sqlite://{}", dir.path().join(name).display()),
            _dir: Some(dir),
            pg: None,
        }
    }

    /// A new database on the server of DOELPOORT_BENCH_POSTGRES_URL, if it is set.
    pub async fn postgres(name: &str) -> Option<BenchDb> {
        let admin = std::env::var("DOELPOORT_BENCH_POSTGRES_URL").ok()?;
        let db = format!("doelpoort_bench_{name}_{}", std::process::id());
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&admin).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {db}"))
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        let (base, _) = admin.rsplit_once('/').unwrap();
        Some(BenchDb {
            label: "PostgreSQL",
            url: format!("{base}/{db}"),
            _dir: None,
            pg: Some((admin, db)),
        })
    }

    pub async fn open(&self) -> Store {
        let store = Store::connect(&self.url).await.unwrap();
        store.migrate().await.unwrap();
        store
    }

    /// Drops a PostgreSQL database made for the run, unless DOELPOORT_BENCH_KEEP is set (to look at it afterwards).
    pub async fn drop_database(self) {
        if std::env::var_os("DOELPOORT_BENCH_KEEP").is_some() {
            println!("  kept {}", self.url);
            std::mem::forget(self);
            return;
        }
        if let Some((admin, db)) = &self.pg {
            let pool = sqlx::AnyPool::connect(admin).await.unwrap();
            sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
}

/// Lowercase hex that looks like a hash (as pseudonyms, digests and trace ids do), `len` digits, from `seed`.
fn hex(seed: &str, len: usize) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, seed.as_bytes());
    let mut out = hex::encode(digest.as_ref());
    out.truncate(len);
    out
}

/// An id shaped like the gateway's (a UUID), from `seed`.
fn uuid(seed: &str) -> String {
    let h = hex(seed, 32);
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

/// A disclosure record of a realistic size and content (about 530 bytes encoded, its pseudonym, ids and digest as
/// random-looking as the gateway's, so that they compress no better than real ones), the `i`-th of a synthetic log.
pub fn disclosure(i: usize) -> Entry {
    Entry {
        kind: if i % 5 == 0 { Kind::Admin } else { Kind::Disclosure },
        source_oin: Some("00000099000000000005".into()),
        recipient_oin: Some("00000099000000000001".into()),
        actor_oin: Some("00000099000000000001".into()),
        actor_sub: Some(format!("professional-{}", i % 97)),
        case_id: Some(uuid(&format!("case {}", i % 5000))),
        subject: Some(hex(&format!("subject {}", i % 100_000), 64)),
        meeting_type: Some("focus".into()),
        purpose: Some("plan_van_aanpak".into()),
        categories: vec!["leefgebieden".into(), "nazorg_domeinen".into()],
        covenant_version: Some("2026.1".into()),
        article: Some("art. 7 lid 2".into()),
        meeting_id: Some(uuid(&format!("meeting {}", i % 300))),
        request_id: Some(uuid(&format!("request {i}"))),
        content_digest: Some(hex(&format!("content {i}"), 64)),
        reason: Some("1 item(s)".into()),
        trace_id: Some(hex(&format!("trace {i}"), 32)),
        span_id: Some(hex(&format!("span {i}"), 16)),
        ..Entry::new(Kind::Disclosure)
    }
}

/// Appends `n` such records through the in-transaction door, 20,000 per transaction, handing each to `each`.
pub async fn fill_log(store: &Store, n: usize, mut each: impl FnMut(&Record)) {
    let started = Instant::now();
    let mut i = 0;
    while i < n {
        let batch: Vec<Entry> = (i..(i + 20_000).min(n)).map(disclosure).collect();
        i += batch.len();
        let mut tx = store.begin().await.unwrap();
        let now = time::OffsetDateTime::now_utc().into();
        let records: Vec<Record> = doelpoort::log::record_in(&mut tx, batch, now).await.unwrap();
        tx.commit().await.unwrap();
        records.iter().for_each(&mut each);
        if i % 1_000_000 == 0 {
            println!("  {i} records after {:.0} s", started.elapsed().as_secs_f64());
        }
    }
}

/// The main of a log benchmark: `run` over `DOELPOORT_BENCH_RECORDS` records (default `default`), on SQLite and,
/// when a server is named, on PostgreSQL (`DOELPOORT_BENCH_ONLY=postgres` leaves SQLite out). `cargo test --benches`
/// only checks that it builds.
pub fn on_each_backend<F, Fut>(name: &str, default: usize, run: F)
where
    F: Fn(BenchDb, usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let n: usize = std::env::var("DOELPOORT_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        if std::env::var("DOELPOORT_BENCH_ONLY").as_deref() != Ok("postgres") {
            run(BenchDb::sqlite(&format!("{name}.db")), n).await;
        }
        if let Some(db) = BenchDb::postgres(name).await {
            run(db, n).await;
        }
    });
}
