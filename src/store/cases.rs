//! Cases, their members and consents.
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{col, col_opt, json_list, json_text, Store, StoreError, Tx};
use crate::types::{CaseId, CaseStatus, ConsentId, Instant, Oin};

/// A case as stored (content sealed).
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub id: CaseId,
    pub reported_at: Instant,
    pub reporter_oin: Oin,
    pub holder_oin: Oin,
    /// The subject's keyed pseudonym.
    pub subject: String,
    pub status: CaseStatus,
    pub closed_at: Option<Instant>,
    pub master_key_id: Option<String>,
    pub data_key: Option<Vec<u8>>,
    pub sealed_subject: Option<Vec<u8>>,
    pub sealed_summary: Option<Vec<u8>>,
}

/// A member organisation of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub oin: Oin,
    pub since: Instant,
    pub reason: String,
}

const CASE_COLUMNS: [&str; 11] = [
    "id",
    "reported_at",
    "reporter_oin",
    "holder_oin",
    "subject",
    "status",
    "closed_at",
    "master_key_id",
    "data_key",
    "sealed_subject",
    "sealed_summary",
];

/// The case's columns of table alias `c`, named `c_…` so they can share a row with another table's.
pub(super) fn case_columns() -> String {
    CASE_COLUMNS.map(|c| format!("c.{c} AS c_{c}")).join(", ")
}

/// A case from a row with [`case_columns`].
pub(super) fn case_of(row: &sqlx::any::AnyRow) -> Result<CaseRow, StoreError> {
    Ok(CaseRow {
        id: col(row, "c_id")?,
        reported_at: col(row, "c_reported_at")?,
        reporter_oin: col(row, "c_reporter_oin")?,
        holder_oin: col(row, "c_holder_oin")?,
        subject: row.try_get("c_subject")?,
        status: col(row, "c_status")?,
        closed_at: col_opt(row, "c_closed_at")?,
        master_key_id: row.try_get("c_master_key_id")?,
        data_key: row.try_get("c_data_key")?,
        sealed_subject: row.try_get("c_sealed_subject")?,
        sealed_summary: row.try_get("c_sealed_summary")?,
    })
}

impl Store {
    /// How many cases the database holds, purged ones included.
    pub async fn case_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM cases")
            .fetch_one(self.pool())
            .await?)
    }

    /// The closure outcomes recorded for a case, in id order.
    pub async fn closure_outcomes(&self, case_id: &CaseId) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT outcome FROM case_closure_outcomes WHERE case_id = $1 ORDER BY outcome")
                .bind(case_id.as_str())
                .fetch_all(self.pool())
                .await?,
        )
    }
}

impl Tx {
    /// Stores a new case with its reporter as first member.
    ///
    /// # Errors
    /// The database refused.
    pub async fn insert_case(&mut self, case: &CaseRow, reason: &str) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO cases ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            CASE_COLUMNS.join(", ")
        ))
        .bind(case.id.as_str())
        .bind(case.reported_at.to_string())
        .bind(case.reporter_oin.as_str())
        .bind(case.holder_oin.as_str())
        .bind(&case.subject)
        .bind(case.status.as_str())
        .bind(case.closed_at.map(|t| t.to_string()))
        .bind(case.master_key_id.clone())
        .bind(case.data_key.clone())
        .bind(case.sealed_subject.clone())
        .bind(case.sealed_summary.clone())
        .execute(self.conn())
        .await?;
        sqlx::query("INSERT INTO case_members (case_id, oin, since, reason) VALUES ($1, $2, $3, $4)")
            .bind(case.id.as_str())
            .bind(case.reporter_oin.as_str())
            .bind(case.reported_at.to_string())
            .bind(reason)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Grants `oin` access to the case; `false` when it already had access.
    ///
    /// # Errors
    /// The database refused.
    pub async fn add_case_member(&mut self, case_id: &CaseId, member: &MemberRow) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "INSERT INTO case_members (case_id, oin, since, reason) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(case_id.as_str())
        .bind(member.oin.as_str())
        .bind(member.since.to_string())
        .bind(&member.reason)
        .execute(self.conn())
        .await?
        .rows_affected()
            == 1)
    }

    /// Withdraws `oin`'s access; `false` when it had none.
    ///
    /// # Errors
    /// The database refused.
    pub async fn remove_case_member(&mut self, case_id: &CaseId, oin: &Oin) -> Result<bool, StoreError> {
        Ok(sqlx::query("DELETE FROM case_members WHERE case_id = $1 AND oin = $2")
            .bind(case_id.as_str())
            .bind(oin.as_str())
            .execute(self.conn())
            .await?
            .rows_affected()
            == 1)
    }

    /// Makes `oin` the holder of an open case; `false` when the case is not open or `oin` holds it already.
    ///
    /// # Errors
    /// The database refused.
    pub async fn set_holder(&mut self, case_id: &CaseId, oin: &Oin) -> Result<bool, StoreError> {
        Ok(
            sqlx::query("UPDATE cases SET holder_oin = $1 WHERE id = $2 AND status = 'open' AND holder_oin <> $1")
                .bind(oin.as_str())
                .bind(case_id.as_str())
                .execute(self.conn())
                .await?
                .rows_affected()
                == 1,
        )
    }

    /// Closes an open case; `false` when it was not open.
    ///
    /// # Errors
    /// The database refused.
    pub async fn close_case(
        &mut self,
        case_id: &CaseId,
        now: Instant,
        outcomes: &[String],
    ) -> Result<bool, StoreError> {
        let closed =
            sqlx::query("UPDATE cases SET status = 'closed', closed_at = $1 WHERE id = $2 AND status = 'open'")
                .bind(now.to_string())
                .bind(case_id.as_str())
                .execute(self.conn())
                .await?
                .rows_affected()
                == 1;
        if closed {
            sqlx::query("DELETE FROM open_subjects WHERE case_id = $1")
                .bind(case_id.as_str())
                .execute(self.conn())
                .await?;
            for outcome in outcomes {
                sqlx::query("INSERT INTO case_closure_outcomes (case_id, outcome) VALUES ($1, $2)")
                    .bind(case_id.as_str())
                    .bind(outcome)
                    .execute(self.conn())
                    .await?;
            }
        }
        Ok(closed)
    }

    /// Stores a consent.
    ///
    /// # Errors
    /// The database refused.
    pub async fn insert_consent(&mut self, c: &ConsentRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO consents (id, case_id, categories, organisations, valid_until, recorded_by_oin, \
             recorded_by_sub, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(c.id.as_str())
        .bind(c.case_id.as_str())
        .bind(json_text(&c.categories))
        .bind(json_text(&c.organisations))
        .bind(c.valid_until.to_string())
        .bind(c.recorded_by_oin.as_str())
        .bind(&c.recorded_by_sub)
        .bind(c.recorded_at.to_string())
        .execute(self.conn())
        .await?;
        Ok(())
    }

    /// Marks a consent withdrawn by `by` (organisation and user) at `now`; `false` when it was withdrawn already
    /// (nothing changed).
    ///
    /// # Errors
    /// The database refused.
    pub async fn withdraw_consent(
        &mut self,
        id: &ConsentId,
        by: (&Oin, &str),
        now: Instant,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "UPDATE consents SET withdrawn_at = $1, withdrawn_by_oin = $2, withdrawn_by_sub = $3 \
             WHERE id = $4 AND withdrawn_at IS NULL",
        )
        .bind(now.to_string())
        .bind(by.0.as_str())
        .bind(by.1)
        .bind(id.as_str())
        .execute(self.conn())
        .await?
        .rows_affected()
            == 1)
    }
}

impl Store {
    pub async fn case(&self, id: &CaseId) -> Result<Option<CaseRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {} FROM cases c WHERE c.id = $1", case_columns()))
            .bind(id.as_str())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(case_of).transpose()
    }

    /// The newest `limit` cases.
    pub async fn all_cases(&self, limit: i64) -> Result<Vec<CaseRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM cases c ORDER BY c.reported_at DESC, c.id LIMIT $1",
            case_columns()
        ))
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(case_of).collect()
    }

    /// Cases `oin` is a member of, newest first.
    pub async fn cases_of_member(&self, oin: &Oin) -> Result<Vec<CaseRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM cases c JOIN case_members m ON m.case_id = c.id WHERE m.oin = $1 \
             ORDER BY c.reported_at DESC, c.id",
            case_columns()
        ))
        .bind(oin.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(case_of).collect()
    }

    /// The consents of a case, oldest first.
    ///
    /// # Errors
    /// The database refused, or a row does not parse.
    pub async fn consents(&self, case_id: &CaseId) -> Result<Vec<ConsentRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CONSENT_COLUMNS} FROM consents WHERE case_id = $1 ORDER BY recorded_at, id"
        ))
        .bind(case_id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(consent_of).collect()
    }

    /// One consent of a case.
    ///
    /// # Errors
    /// The database refused, or the row does not parse.
    pub async fn consent(&self, case_id: &CaseId, id: &ConsentId) -> Result<Option<ConsentRow>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CONSENT_COLUMNS} FROM consents WHERE case_id = $1 AND id = $2"
        ))
        .bind(case_id.as_str())
        .bind(id.as_str())
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(consent_of).transpose()
    }

    pub async fn case_members(&self, case_id: &CaseId) -> Result<Vec<MemberRow>, StoreError> {
        let rows = sqlx::query("SELECT oin, since, reason FROM case_members WHERE case_id = $1 ORDER BY since, oin")
            .bind(case_id.as_str())
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                Ok(MemberRow {
                    oin: col(r, "oin")?,
                    since: col(r, "since")?,
                    reason: r.try_get("reason")?,
                })
            })
            .collect()
    }
}

const CONSENT_COLUMNS: &str =
    "id, case_id, categories, organisations, valid_until, recorded_by_oin, recorded_by_sub, recorded_at, withdrawn_at";

fn consent_of(r: &AnyRow) -> Result<ConsentRow, StoreError> {
    let scope = ConsentScope::parse(
        &r.try_get::<String, _>("categories")?,
        &r.try_get::<String, _>("organisations")?,
        &r.try_get::<String, _>("valid_until")?,
        r.try_get::<Option<String>, _>("withdrawn_at")?.as_deref(),
    )?;
    Ok(ConsentRow {
        id: col(r, "id")?,
        case_id: col(r, "case_id")?,
        categories: scope.categories,
        organisations: scope.organisations,
        valid_until: scope.valid_until,
        recorded_by_oin: col(r, "recorded_by_oin")?,
        recorded_by_sub: r.try_get("recorded_by_sub")?,
        recorded_at: col(r, "recorded_at")?,
        withdrawn_at: scope.withdrawn_at,
    })
}

/// A consent as stored (categories and organisations as JSON arrays).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub id: ConsentId,
    pub case_id: CaseId,
    pub categories: Vec<String>,
    pub organisations: Vec<Oin>,
    pub valid_until: Instant,
    pub recorded_by_oin: Oin,
    pub recorded_by_sub: String,
    pub recorded_at: Instant,
    /// When the client withdrew it; a new consent has none.
    pub withdrawn_at: Option<Instant>,
}

/// What one consent lets through: these categories to these organisations, until `valid_until` or its
/// withdrawal, whichever comes first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentScope {
    pub categories: Vec<String>,
    pub organisations: Vec<Oin>,
    pub valid_until: Instant,
    pub withdrawn_at: Option<Instant>,
}

impl ConsentScope {
    /// A scope from its stored columns (JSON arrays of category ids and OINs, and the end).
    ///
    /// # Errors
    /// A column does not parse.
    pub(crate) fn parse(
        categories: &str,
        organisations: &str,
        valid_until: &str,
        withdrawn_at: Option<&str>,
    ) -> Result<ConsentScope, StoreError> {
        Ok(ConsentScope {
            categories: json_list(categories, "consent categories")?,
            organisations: json_list(organisations, "consent organisations")?,
            valid_until: valid_until.parse().map_err(|_| StoreError::Corrupt("consent end"))?,
            withdrawn_at: withdrawn_at
                .map(|t| t.parse().map_err(|_| StoreError::Corrupt("consent withdrawal")))
                .transpose()?,
        })
    }

    /// Whether the consent still holds at `now`: the one rule for expiry and withdrawal.
    pub fn valid_at(&self, now: Instant) -> bool {
        self.valid_until > now && self.withdrawn_at.is_none_or(|w| now < w)
    }

    pub fn covers(&self, category: &str, recipient: &Oin) -> bool {
        self.categories.iter().any(|c| c == category) && self.organisations.contains(recipient)
    }
}
