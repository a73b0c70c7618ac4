//! Retention and key management at rest: finding closed cases, purging their content and data key, and
//! re-wrapping data keys under a new master key.
use sqlx::Row;

use super::{col, Store, StoreError, Tx};
use crate::types::{CaseId, Instant};

/// A closed case that has not been purged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedCase {
    pub id: CaseId,
    pub closed_at: Instant,
}

/// A case's data key as stored: wrapped under the master key `master_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub case_id: CaseId,
    pub master_id: String,
    pub blob: Vec<u8>,
}

impl Store {
    /// Closed cases not purged yet, oldest closing first.
    pub async fn closed_cases(&self) -> Result<Vec<ClosedCase>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, closed_at FROM cases WHERE status = 'closed' AND purged_at IS NULL AND closed_at IS NOT NULL \
             ORDER BY closed_at, id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ClosedCase {
                    id: col(r, "id")?,
                    closed_at: col(r, "closed_at")?,
                })
            })
            .collect()
    }

    /// The meeting types of the meetings that had the case on their agenda.
    pub async fn case_meeting_types(&self, case_id: &CaseId) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT m.meeting_type FROM meeting_agenda a JOIN meetings m ON m.id = a.meeting_id \
             WHERE a.case_id = $1 ORDER BY m.meeting_type",
        )
        .bind(case_id.as_str())
        .fetch_all(self.pool())
        .await?)
    }

    /// Every stored data key.
    pub async fn wrapped_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, master_key_id, data_key FROM cases WHERE data_key IS NOT NULL AND master_key_id IS NOT NULL \
             ORDER BY id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredKey {
                    case_id: col(r, "id")?,
                    master_id: r.try_get("master_key_id")?,
                    blob: r.try_get("data_key")?,
                })
            })
            .collect()
    }

    /// The ids of the master keys that wrapped at least one stored data key.
    ///
    /// # Errors
    /// The database refused.
    pub async fn master_keys_in_use(&self) -> Result<Vec<String>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT master_key_id FROM cases WHERE data_key IS NOT NULL AND master_key_id IS NOT NULL \
             ORDER BY master_key_id",
        )
        .fetch_all(self.pool())
        .await?)
    }
}

impl Tx {
    /// Destroys a closed case's data key, sealed subject and summary, its reports' sealed summaries and subjects, its
    /// sealed texts, its members' reasons and its items' content; `false` when it is not
    /// closed (or purged already).
    ///
    /// # Errors
    /// The database refused.
    pub async fn purge_case(&mut self, case_id: &CaseId, now: Instant) -> Result<bool, StoreError> {
        let purged = sqlx::query(
            "UPDATE cases SET status = 'purged', purged_at = $1, data_key = NULL, master_key_id = NULL, \
             sealed_subject = NULL, sealed_summary = NULL WHERE id = $2 AND status = 'closed'",
        )
        .bind(now.to_string())
        .bind(case_id.as_str())
        .execute(self.conn())
        .await?
        .rows_affected()
            == 1;
        if purged {
            for sql in [
                "UPDATE items SET sealed = NULL WHERE case_id = $1",
                "UPDATE reports SET sealed_summary = NULL, sealed_subjects = NULL WHERE case_id = $1",
                "UPDATE case_texts SET sealed = NULL WHERE case_id = $1",
                "UPDATE case_members SET reason = '' WHERE case_id = $1",
            ] {
                sqlx::query(sql).bind(case_id.as_str()).execute(self.conn()).await?;
            }
        }
        Ok(purged)
    }

    /// Replaces a case's wrapped data key if it is still wrapped by `old_master_id`; `false` otherwise.
    ///
    /// # Errors
    /// The database refused.
    pub async fn replace_wrapped_key(
        &mut self,
        case_id: &CaseId,
        old_master_id: &str,
        new_master_id: &str,
        blob: &[u8],
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "UPDATE cases SET master_key_id = $1, data_key = $2 WHERE id = $3 AND master_key_id = $4 \
             AND data_key IS NOT NULL",
        )
        .bind(new_master_id)
        .bind(blob.to_vec())
        .bind(case_id.as_str())
        .bind(old_master_id)
        .execute(self.conn())
        .await?
        .rows_affected()
            == 1)
    }
}
