//! Cases, their members and consents.
use sqlx::Row;

use super::{Store, StoreError, Tx};

/// A case as stored (content sealed).
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub id: String,
    pub reported_at: String,
    pub reporter_oin: String,
    pub holder_oin: String,
    pub subject: String,
    pub status: String,
    pub closed_at: Option<String>,
    pub master_key_id: Option<String>,
    pub data_key: Option<Vec<u8>>,
    pub sealed_subject: Option<Vec<u8>>,
    pub sealed_summary: Option<Vec<u8>>,
}

/// A member organisation of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub oin: String,
    pub since: String,
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
        id: row.try_get("c_id")?,
        reported_at: row.try_get("c_reported_at")?,
        reporter_oin: row.try_get("c_reporter_oin")?,
        holder_oin: row.try_get("c_holder_oin")?,
        subject: row.try_get("c_subject")?,
        status: row.try_get("c_status")?,
        closed_at: row.try_get("c_closed_at")?,
        master_key_id: row.try_get("c_master_key_id")?,
        data_key: row.try_get("c_data_key")?,
        sealed_subject: row.try_get("c_sealed_subject")?,
        sealed_summary: row.try_get("c_sealed_summary")?,
    })
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
        .bind(&case.id)
        .bind(&case.reported_at)
        .bind(&case.reporter_oin)
        .bind(&case.holder_oin)
        .bind(&case.subject)
        .bind(&case.status)
        .bind(case.closed_at.clone())
        .bind(case.master_key_id.clone())
        .bind(case.data_key.clone())
        .bind(case.sealed_subject.clone())
        .bind(case.sealed_summary.clone())
        .execute(self.conn())
        .await?;
        sqlx::query("INSERT INTO case_members (case_id, oin, since, reason) VALUES ($1, $2, $3, $4)")
            .bind(&case.id)
            .bind(&case.reporter_oin)
            .bind(&case.reported_at)
            .bind(reason)
            .execute(self.conn())
            .await?;
        Ok(())
    }

    /// Grants `oin` access to the case; `false` when it already had access.
    ///
    /// # Errors
    /// The database refused.
    pub async fn add_case_member(&mut self, case_id: &str, member: &MemberRow) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "INSERT INTO case_members (case_id, oin, since, reason) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(case_id)
        .bind(&member.oin)
        .bind(&member.since)
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
    pub async fn remove_case_member(&mut self, case_id: &str, oin: &str) -> Result<bool, StoreError> {
        Ok(sqlx::query("DELETE FROM case_members WHERE case_id = $1 AND oin = $2")
            .bind(case_id)
            .bind(oin)
            .execute(self.conn())
            .await?
            .rows_affected()
            == 1)
    }

    /// Closes an open case; `false` when it was not open.
    ///
    /// # Errors
    /// The database refused.
    pub async fn close_case(&mut self, case_id: &str, now: &str) -> Result<bool, StoreError> {
        Ok(
            sqlx::query("UPDATE cases SET status = 'closed', closed_at = $1 WHERE id = $2 AND status = 'open'")
                .bind(now)
                .bind(case_id)
                .execute(self.conn())
                .await?
                .rows_affected()
                == 1,
        )
    }

    /// Stores a consent.
    ///
    /// # Errors
    /// The database refused.
    pub async fn insert_consent(&mut self, c: &ConsentRow) -> Result<(), StoreError> {
        let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "INSERT INTO consents (id, case_id, categories, organisations, valid_until, recorded_by_oin, \
             recorded_by_sub, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&c.id)
        .bind(&c.case_id)
        .bind(json(&c.categories))
        .bind(json(&c.organisations))
        .bind(&c.valid_until)
        .bind(&c.recorded_by_oin)
        .bind(&c.recorded_by_sub)
        .bind(&c.recorded_at)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

impl Store {
    pub async fn case(&self, id: &str) -> Result<Option<CaseRow>, StoreError> {
        let row = sqlx::query(&format!("SELECT {} FROM cases c WHERE c.id = $1", case_columns()))
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(case_of).transpose()
    }

    /// Cases `oin` is a member of, newest first.
    pub async fn cases_of_member(&self, oin: &str) -> Result<Vec<CaseRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM cases c JOIN case_members m ON m.case_id = c.id WHERE m.oin = $1 \
             ORDER BY c.reported_at DESC, c.id",
            case_columns()
        ))
        .bind(oin)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(case_of).collect()
    }

    pub async fn case_members(&self, case_id: &str) -> Result<Vec<MemberRow>, StoreError> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT oin, since, reason FROM case_members WHERE case_id = $1 ORDER BY since, oin")
                .bind(case_id)
                .fetch_all(self.pool())
                .await?;
        Ok(rows
            .into_iter()
            .map(|(oin, since, reason)| MemberRow { oin, since, reason })
            .collect())
    }
}

/// A consent as stored (categories and organisations as JSON arrays).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRow {
    pub id: String,
    pub case_id: String,
    pub categories: Vec<String>,
    pub organisations: Vec<String>,
    pub valid_until: String,
    pub recorded_by_oin: String,
    pub recorded_by_sub: String,
    pub recorded_at: String,
}

/// What one consent lets through: these categories to these organisations, until `valid_until` (RFC 3339).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentScope {
    pub categories: Vec<String>,
    pub organisations: Vec<String>,
    pub valid_until: String,
}

impl ConsentScope {
    /// A scope from its stored columns (JSON arrays of category ids and OINs).
    ///
    /// # Errors
    /// A column is not a JSON array of strings.
    pub(crate) fn parse(
        categories: &str,
        organisations: &str,
        valid_until: String,
    ) -> Result<ConsentScope, StoreError> {
        let parse = |t: &str| serde_json::from_str::<Vec<String>>(t).map_err(|_| StoreError::Corrupt("consent"));
        Ok(ConsentScope {
            categories: parse(categories)?,
            organisations: parse(organisations)?,
            valid_until,
        })
    }

    /// Whether the consent still holds at `now` (RFC 3339, as stored): the one rule for expiry.
    pub fn valid_at(&self, now: &str) -> bool {
        self.valid_until.as_str() > now
    }

    pub fn covers(&self, category: &str, recipient_oin: &str) -> bool {
        self.categories.iter().any(|c| c == category) && self.organisations.iter().any(|o| o == recipient_oin)
    }
}
