//! Cases and their members. Every change commits together with its `admin` record in the disclosure log.
use sqlx::Row;

use super::log::commit_with_record as record;
use super::{Store, StoreError};
use crate::log::chain::Entry;

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

impl Store {
    /// Stores a new case with its reporter as first member.
    ///
    /// # Errors
    /// The database refused; nothing was stored.
    pub async fn insert_case(&self, case: &CaseRow, reason: &str, entry: Entry) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
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
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO case_members (case_id, oin, since, reason) VALUES ($1, $2, $3, $4)")
            .bind(&case.id)
            .bind(&case.reporter_oin)
            .bind(&case.reported_at)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
        record(tx, entry, &case.reported_at).await
    }

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

    /// Grants `oin` access to the case; `false` when it already had access.
    ///
    /// # Errors
    /// The database refused.
    pub async fn add_case_member(&self, case_id: &str, member: &MemberRow, entry: Entry) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let added = sqlx::query(
            "INSERT INTO case_members (case_id, oin, since, reason) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(case_id)
        .bind(&member.oin)
        .bind(&member.since)
        .bind(&member.reason)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if added {
            record(tx, entry, &member.since).await?;
        }
        Ok(added)
    }

    /// Withdraws `oin`'s access; `false` when it had none.
    ///
    /// # Errors
    /// The database refused.
    pub async fn remove_case_member(
        &self,
        case_id: &str,
        oin: &str,
        entry: Entry,
        now: &str,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let removed = sqlx::query("DELETE FROM case_members WHERE case_id = $1 AND oin = $2")
            .bind(case_id)
            .bind(oin)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if removed {
            record(tx, entry, now).await?;
        }
        Ok(removed)
    }

    /// Closes an open case; `false` when it was not open.
    ///
    /// # Errors
    /// The database refused.
    pub async fn close_case(&self, case_id: &str, entry: Entry, now: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool().begin().await?;
        let closed =
            sqlx::query("UPDATE cases SET status = 'closed', closed_at = $1 WHERE id = $2 AND status = 'open'")
                .bind(now)
                .bind(case_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                == 1;
        if closed {
            record(tx, entry, now).await?;
        }
        Ok(closed)
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

impl Store {
    /// Stores a consent with its record.
    ///
    /// # Errors
    /// The database refused; nothing was stored.
    pub async fn insert_consent(&self, c: &ConsentRow, entry: Entry) -> Result<(), StoreError> {
        let json = |v: &Vec<String>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
        let mut tx = self.pool().begin().await?;
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
        .execute(&mut *tx)
        .await?;
        record(tx, entry, &c.recorded_at).await
    }

    /// The scopes of the case's consents, expired ones included.
    ///
    /// # Errors
    /// The database refused, or holds a malformed consent.
    pub async fn consent_scopes(&self, case_id: &str) -> Result<Vec<ConsentScope>, StoreError> {
        let rows: Vec<(String, String, String)> =
            sqlx::query_as("SELECT categories, organisations, valid_until FROM consents WHERE case_id = $1")
                .bind(case_id)
                .fetch_all(self.pool())
                .await?;
        rows.into_iter()
            .map(|(categories, organisations, valid_until)| {
                ConsentScope::parse(&categories, &organisations, valid_until)
            })
            .collect()
    }

    /// Whether a consent of the case, valid at `now`, covers `category` going to `recipient_oin`.
    ///
    /// # Errors
    /// The database refused, or holds a malformed consent.
    pub async fn consent_covers(
        &self,
        case_id: &str,
        category: &str,
        recipient_oin: &str,
        now: &str,
    ) -> Result<bool, StoreError> {
        let scopes = self.consent_scopes(case_id).await?;
        Ok(scopes
            .iter()
            .any(|s| s.valid_at(now) && s.covers(category, recipient_oin)))
    }
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
