//! The one repository layer. Both backends run the same SQL through sqlx's `Any` driver (placeholders `$1…`,
//! portable types only); what differs per backend — connection pragmas and migrations — stays in this module.
//! It knows no HTTP.
mod cases;
mod exchange;
mod log;
mod meetings;
mod orgs;
mod retention;

pub use cases::{CaseRow, ConsentRow, ConsentScope, MemberRow};
pub use exchange::{AddresseeRow, ItemRow, RequestRow};
pub use log::{Checkpoint, LogFilter};
pub use meetings::{AttendeeRow, Change, MeetingRow};

pub use orgs::{AdminActionRow, CertificateRow, KeyRow, NewOrganisation, OrgRow, RegistryRows, SignatureRow};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};
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
}

impl Store {
    /// Connects, and on SQLite creates the file if needed and sets and checks the pragmas.
    ///
    /// # Errors
    /// The URL is not supported, the database cannot be reached, or a SQLite pragma did not take.
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url)?;
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(5));
        let pool = match backend {
            Backend::Sqlite => {
                let url = if url.contains("mode=") {
                    url.to_owned()
                } else if url.contains('?') {
                    format!("{url}&mode=rwc")
                } else {
                    format!("{url}?mode=rwc")
                };
                options
                    .max_connections(8)
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
        let store = Store { pool, backend };
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

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }
}
