//! The repository layer over SQLite and PostgreSQL: the pool, migrations, and one file per group of tables. Both
//! backends run the same SQL through sqlx's `Any` driver (placeholders `$1…`, portable types only); what differs
//! per backend — connection pragmas and migrations — stays in this module.
//!
//! Reads are methods of [`Store`]; writes are methods of a [`Tx`], so that the caller decides what commits
//! together — a change and its record in the disclosure log, which the log writes into the same transaction. The
//! store knows no HTTP and no log types; it may use only `types`.
mod cases;
mod exchange;
pub mod figures;
mod meetings;
mod notifications;
mod orgs;
mod people;
mod process;
mod retention;

pub use cases::{CaseRow, ConsentRow, ConsentScope, MemberRow};
pub use exchange::{AddresseeRow, ItemRow, RequestRow, RequestRows};
pub use meetings::{AttendeeRow, CaseInMeeting, Change, MeetingRow};
pub use notifications::{About, NotificationRow};
pub use people::{PersonCertRow, PersonRow};
pub use process::{CheckRow, PlanRow, RecordedCheck, ReportRow, WeighingRow};
pub use retention::{ClosedCase, StoredKey};

pub use orgs::{CertificateRow, IssuedRow, KeyRow, NewOrganisation, OrgRow, RegisteredKey, RegistryRows, SignatureRow};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("the database URL must start with sqlite:// or postgres://")]
    UnsupportedUrl,
    #[error("SQLite setting {pragma} is {actual}, expected {expected}")]
    Pragma {
        pragma: &'static str,
        actual: String,
        expected: &'static str,
    },
    #[error("{0} already exists")]
    Exists(&'static str),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("the database holds a malformed {0}")]
    Corrupt(&'static str),
    /// Writes are refused until an operator acts (the log failed its start-up check).
    #[error("writes are refused: {0}")]
    Fenced(String),
}

impl StoreError {
    /// Whether the database could not be reached or could not write (down, restarting, disk full, read-only), as
    /// opposed to a request or data problem: callers answer 503 and may succeed again later.
    pub fn is_unavailable(&self) -> bool {
        let e = match self {
            StoreError::Database(e) => e,
            StoreError::Fenced(_) => return true,
            _ => return false,
        };
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => unavailable_code(db.as_ref()),
            _ => false,
        }
    }
}

/// PostgreSQL SQLSTATE classes 08 (connection), 53 (insufficient resources: disk full, out of memory) and 57
/// (operator intervention: shutdown, restart), and 25006 (read-only transaction); SQLite's primary result codes
/// BUSY, LOCKED, READONLY, IOERR, FULL and CANTOPEN (the low byte of an extended code).
fn unavailable_code(db: &dyn sqlx::error::DatabaseError) -> bool {
    let Some(code) = db.code() else {
        return false;
    };
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        return code
            .parse::<u32>()
            .is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 8 | 10 | 13 | 14));
    }
    code.starts_with("08") || code.starts_with("53") || code.starts_with("57") || code == "25006"
}

/// Column `name` of `row`, parsed into its type: rows become typed values here, at the boundary, and a value that
/// does not parse (edited by hand, say) is reported as corrupt rather than passed on.
pub(crate) fn col<T: std::str::FromStr>(row: &AnyRow, name: &'static str) -> Result<T, StoreError> {
    row.try_get::<String, _>(name)?
        .parse()
        .map_err(|_| StoreError::Corrupt(name))
}

/// As [`col`] for a column that may be NULL.
pub(crate) fn col_opt<T: std::str::FromStr>(row: &AnyRow, name: &'static str) -> Result<Option<T>, StoreError> {
    row.try_get::<Option<String>, _>(name)?
        .map(|v| v.parse().map_err(|_| StoreError::Corrupt(name)))
        .transpose()
}

/// A JSON array of values of one type, as some columns hold lists.
pub(crate) fn json_list<T: std::str::FromStr>(text: &str, what: &'static str) -> Result<Vec<T>, StoreError> {
    serde_json::from_str::<Vec<String>>(text)
        .map_err(|_| StoreError::Corrupt(what))?
        .iter()
        .map(|v| v.parse().map_err(|_| StoreError::Corrupt(what)))
        .collect()
}

/// A list as the JSON array text a column holds.
pub(crate) fn json_text<T: std::fmt::Display>(values: &[T]) -> String {
    let texts: Vec<String> = values.iter().map(ToString::to_string).collect();
    serde_json::to_string(&texts).unwrap_or_else(|_| "[]".into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn of_url(url: &str) -> Result<Backend, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl)
        }
    }
}

/// The pool settings both backends share; `discarded` counts connections closed because they came back in a
/// transaction.
fn pool_options(discarded: Arc<AtomicU64>) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .acquire_timeout(Duration::from_secs(5))
        .after_release(move |conn, _| {
            let discarded = discarded.clone();
            Box::pin(async move {
                let clean = settled(conn);
                if !clean {
                    discarded.fetch_add(1, Ordering::Relaxed);
                }
                Ok(clean)
            })
        })
}

/// Whether a connection coming back to the pool may be used again: only when no transaction is open on it. After
/// a failed transaction the driver's idea of the transaction state can be wrong (SQLite rolls a transaction back by
/// itself on a full disk, so the driver's ROLLBACK fails and its depth counter stays up; the next "transaction"
/// would then be a savepoint whose release commits nothing). Such a connection is closed, never reused.
fn settled(conn: &sqlx::AnyConnection) -> bool {
    use sqlx::Connection as _;
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::warn!("closing a database connection left in a transaction");
    }
    clean
}

/// SQLite settings set on every connection and verified at start-up.
const SQLITE_PRAGMAS: [&str; 4] = [
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    "PRAGMA busy_timeout = 5000",
];

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// A handle on the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    discarded: Arc<AtomicU64>,
    /// Why every write transaction is refused, if it is; shared by every clone of this store.
    fence: Arc<std::sync::RwLock<Option<String>>>,
}

impl Store {
    /// Connects, and on SQLite creates the file if needed and sets and checks the pragmas.
    ///
    /// # Errors
    /// The URL is not supported, the database cannot be reached, or a SQLite pragma did not take.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let discarded = Arc::new(AtomicU64::new(0));
        let options = pool_options(discarded.clone());
        let pool = match backend {
            Backend::Sqlite => {
                let url = if url.contains("mode=") {
                    url.to_owned()
                } else if url.contains('?') {
                    format!("{url}&mode=rwc")
                } else {
                    format!("{url}?mode=rwc")
                };
                // An embedded connection cannot drop, so it is not pinged before each use: on SQLite a ping is a
                // round trip to the connection's thread, as costly as the query it would precede.
                options
                    .max_connections(8)
                    .test_before_acquire(false)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            for pragma in SQLITE_PRAGMAS {
                                conn.execute(pragma).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?
            }
            Backend::Postgres => options.max_connections(16).connect(url).await?,
        };
        let store = Store {
            pool,
            backend,
            discarded,
            fence: Arc::default(),
        };
        if backend == Backend::Sqlite {
            store.verify_sqlite_pragmas().await?;
        }
        Ok(store)
    }

    async fn verify_sqlite_pragmas(&self) -> Result<(), StoreError> {
        let checks: [(&'static str, &'static str); 4] = [
            ("journal_mode", "wal"),
            ("synchronous", "2"),
            ("foreign_keys", "1"),
            ("busy_timeout", "5000"),
        ];
        let mut conn = self.pool.acquire().await?;
        for (pragma, expected) in checks {
            let row: AnyRow = sqlx::query(&format!("PRAGMA {pragma}")).fetch_one(&mut *conn).await?;
            let actual = row
                .try_get::<String, _>(0)
                .or_else(|_| row.try_get::<i64, _>(0).map(|n| n.to_string()))?;
            if actual.to_lowercase() != expected {
                return Err(StoreError::Pragma {
                    pragma,
                    actual,
                    expected,
                });
            }
        }
        Ok(())
    }

    /// Applies the migrations of this backend.
    ///
    /// # Errors
    /// A migration failed or the database was changed by hand since a migration ran.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.pool).await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Connections closed because they came back to the pool inside a transaction (each also a warning): a
    /// transaction some path left without commit or rollback.
    pub fn discarded_connections(&self) -> u64 {
        self.discarded.load(Ordering::Relaxed)
    }

    /// A round trip to the database (health checks).
    ///
    /// # Errors
    /// The database does not answer.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Refuses every write transaction from now on, for every clone of this store; only a restart lifts it.
    pub fn fence(&self, why: String) {
        *self.fence.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(why);
    }

    /// Why write transactions are refused, if they are.
    pub fn fenced(&self) -> Option<String> {
        self.fence
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`), waiting up to
    /// the busy timeout for it: a deferred transaction that read first fails at once with `SQLITE_BUSY` when
    /// another connection wrote meanwhile, which made concurrent writes answer 503.
    ///
    /// # Errors
    /// The database cannot be reached.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        if let Some(why) = self.fenced() {
            return Err(StoreError::Fenced(why));
        }
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(Tx {
            tx: Some(tx),
            backend: self.backend,
        })
    }
}

/// A write transaction: what is written through it commits together, or not at all. One left without
/// [`Tx::commit`] or [`Tx::rollback`] (an error returned with `?`, a future dropped at a deadline) is rolled back
/// by a task of its own before its connection goes back to the pool, so that no connection returns inside a
/// transaction.
pub struct Tx {
    /// `None` only once committed or rolled back.
    tx: Option<sqlx::Transaction<'static, sqlx::Any>>,
    backend: Backend,
}

impl Drop for Tx {
    fn drop(&mut self) {
        let Some(tx) = self.tx.take() else { return };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(error) = tx.rollback().await {
                        tracing::warn!(%error, "rolling back an abandoned transaction failed");
                    }
                });
            }
            // No runtime to roll back on: sqlx queues the rollback itself.
            Err(_) => drop(tx),
        }
    }
}

impl Tx {
    fn open(&mut self) -> &mut sqlx::Transaction<'static, sqlx::Any> {
        #[allow(clippy::expect_used)] // only commit and rollback, which consume self, take it
        self.tx.as_mut().expect("a transaction is open until it is consumed")
    }

    /// Commits everything written through this transaction.
    ///
    /// # Errors
    /// The database refused; nothing was written.
    pub async fn commit(mut self) -> Result<(), StoreError> {
        if let Some(tx) = self.tx.take() {
            tx.commit().await?;
        }
        Ok(())
    }

    /// Rolls back everything written through this transaction.
    ///
    /// # Errors
    /// The database could not be told (it rolls back by itself when the connection closes).
    pub async fn rollback(mut self) -> Result<(), StoreError> {
        if let Some(tx) = self.tx.take() {
            tx.rollback().await?;
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection, for the SQL of the table groups (and the log's own).
    pub(crate) fn conn(&mut self) -> &mut sqlx::AnyConnection {
        self.open()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (found by the attack round): a transaction abandoned mid-statement (its future dropped at a
    /// deadline, as the log writer's commit timeout does) came back to the pool still inside a transaction, and the
    /// connection was closed with a warning. It is rolled back first, so the connection is reused.
    #[tokio::test]
    async fn an_abandoned_transaction_is_rolled_back_before_its_connection_returns() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(&format!("sqlite://{}", dir.path().join("db.sqlite").display()))
            .await
            .unwrap();
        sqlx::query("CREATE TABLE scratch (x INTEGER NOT NULL)")
            .execute(store.pool())
            .await
            .unwrap();
        for _ in 0..3 {
            let mut tx = store.begin().await.unwrap();
            sqlx::query("INSERT INTO scratch (x) VALUES (1)")
                .execute(tx.conn())
                .await
                .unwrap();
            let slow = sqlx::query(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) \
                 SELECT COUNT(*) FROM n",
            );
            let abandoned = tokio::time::timeout(Duration::from_millis(20), slow.fetch_one(tx.conn())).await;
            assert!(abandoned.is_err(), "the statement outlived its deadline");
            drop(tx);
        }
        let seen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM scratch")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(seen, 0, "nothing of an abandoned transaction was written");
        assert_eq!(store.discarded_connections(), 0);
        store.close().await;
    }

    /// Regression (found by `benches/crash.py --fault disk-full`): SQLite rolls a transaction back by itself on
    /// some errors (a full disk; here a trigger's `RAISE(ROLLBACK)`); the driver's ROLLBACK then fails and its
    /// transaction depth stays up, so the connection's next `begin` is a savepoint. An ordinary error in that one
    /// leaves the savepoint's transaction open, and a later commit releases only a nested savepoint: the caller
    /// is told its write is durable while it is not. A connection left in a transaction is closed instead.
    #[tokio::test]
    async fn a_transaction_the_database_rolled_back_by_itself_does_not_swallow_later_commits() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("db.sqlite").display());
        let pool = pool_options(Arc::default())
            .max_connections(1)
            .connect(&url)
            .await
            .unwrap();
        for ddl in [
            "CREATE TABLE scratch (x TEXT NOT NULL)",
            "CREATE TRIGGER scratch_rollback BEFORE INSERT ON scratch WHEN NEW.x = 'rollback' \
             BEGIN SELECT RAISE(ROLLBACK, 'rolled back by the database'); END",
        ] {
            sqlx::query(ddl).execute(&pool).await.unwrap();
        }
        for value in ["'rollback'", "NULL"] {
            let mut tx = pool.begin().await.unwrap();
            let failed = sqlx::query(&format!("INSERT INTO scratch (x) VALUES ({value})"))
                .execute(&mut *tx)
                .await;
            assert!(failed.is_err());
        }
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("INSERT INTO scratch (x) VALUES ('acknowledged')")
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let other = sqlx::AnyPool::connect(&url).await.unwrap();
        let seen: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM scratch")
            .fetch_one(&other)
            .await
            .unwrap();
        assert_eq!(seen, 1, "another connection sees the acknowledged write");
        other.close().await;
        pool.close().await;
    }
}
