//! What the database benchmarks share: a fresh database per run on SQLite (a temporary file) or on the PostgreSQL
//! server DOELPOORT_BENCH_POSTGRES_URL names (a new database, dropped afterwards).
#![allow(dead_code)]

use doelpoort::store::Store;

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

    pub async fn drop_database(self) {
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
