//! Information requests, their addressees, and items of content (responses and meeting shares, sealed).
use sqlx::Row;

use super::{col, col_opt, json_list, json_text, CaseRow, MeetingRow, Store, StoreError, Tx};
use crate::types::{AnswerStatus, CaseId, Instant, ItemId, MeetingId, Oin, RequestId};

/// A request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRow {
    pub id: RequestId,
    pub case_id: CaseId,
    pub meeting_id: MeetingId,
    pub purpose: String,
    pub categories: Vec<String>,
    pub requester_oin: Oin,
    pub requester_sub: String,
    pub due: Instant,
    pub created_at: Instant,
}

/// A request with what every read of it or answer to it starts from.
#[derive(Debug, Clone)]
pub struct RequestRows {
    pub request: RequestRow,
    pub addressees: Vec<AddresseeRow>,
    pub case: CaseRow,
    pub meeting: MeetingRow,
}

/// One addressee of a request and where its answer stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddresseeRow {
    pub oin: Oin,
    /// `open`, `answered` or `declined` (`expired` is never stored).
    pub status: AnswerStatus,
    pub reason: Option<String>,
    pub changed_at: Option<Instant>,
    /// The categories asked of this addressee; `None`: all of the request's.
    pub categories: Option<Vec<String>>,
}

/// An item of content, sealed under its case's data key (`None` once purged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRow {
    pub id: ItemId,
    pub case_id: CaseId,
    pub request_id: Option<RequestId>,
    pub meeting_id: MeetingId,
    pub purpose: String,
    pub source_oin: Oin,
    pub source_sub: String,
    pub category: String,
    /// Place in the response or share it came with.
    pub position: i64,
    pub digest: String,
    pub sealed: Option<Vec<u8>>,
    pub created_at: Instant,
}

const REQUEST_COLUMNS: &str =
    "r.id AS id, r.case_id AS case_id, r.meeting_id AS meeting_id, r.purpose AS purpose, r.categories AS categories, \
     r.requester_oin AS requester_oin, r.requester_sub AS requester_sub, r.due AS due, r.created_at AS created_at";

const ITEM_COLUMNS: &str = "id, case_id, request_id, meeting_id, purpose, source_oin, source_sub, category, \
                            position, digest, sealed, created_at";

fn request_of(row: &sqlx::any::AnyRow) -> Result<RequestRow, StoreError> {
    let categories: String = row.try_get("categories")?;
    Ok(RequestRow {
        id: col(row, "id")?,
        case_id: col(row, "case_id")?,
        meeting_id: col(row, "meeting_id")?,
        purpose: row.try_get("purpose")?,
        categories: json_list(&categories, "request categories")?,
        requester_oin: col(row, "requester_oin")?,
        requester_sub: row.try_get("requester_sub")?,
        due: col(row, "due")?,
        created_at: col(row, "created_at")?,
    })
}

fn addressee_of(row: &sqlx::any::AnyRow) -> Result<AddresseeRow, StoreError> {
    Ok(AddresseeRow {
        oin: col(row, "oin")?,
        status: col(row, "status")?,
        reason: row.try_get("reason")?,
        changed_at: col_opt(row, "changed_at")?,
        categories: row
            .try_get::<Option<String>, _>("a_categories")?
            .map(|t| json_list(&t, "categories"))
            .transpose()?,
    })
}

fn item_of(row: &sqlx::any::AnyRow) -> Result<ItemRow, StoreError> {
    Ok(ItemRow {
        id: col(row, "id")?,
        case_id: col(row, "case_id")?,
        request_id: col_opt(row, "request_id")?,
        meeting_id: col(row, "meeting_id")?,
        purpose: row.try_get("purpose")?,
        source_oin: col(row, "source_oin")?,
        source_sub: row.try_get("source_sub")?,
        category: row.try_get("category")?,
        position: row.try_get("position")?,
        digest: row.try_get("digest")?,
        sealed: row.try_get("sealed")?,
        created_at: col(row, "created_at")?,
    })
}

async fn insert_items(tx: &mut Tx, items: &[ItemRow]) -> Result<(), StoreError> {
    for i in items {
        sqlx::query(&format!(
            "INSERT INTO items ({ITEM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(i.id.as_str())
        .bind(i.case_id.as_str())
        .bind(i.request_id.as_ref().map(ToString::to_string))
        .bind(i.meeting_id.as_str())
        .bind(&i.purpose)
        .bind(i.source_oin.as_str())
        .bind(&i.source_sub)
        .bind(&i.category)
        .bind(i.position)
        .bind(&i.digest)
        .bind(i.sealed.clone())
        .bind(i.created_at.to_string())
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

impl Tx {
    /// Stores a request with its addressees (all `open`).
    ///
    /// # Errors
    /// The database refused.
    pub async fn insert_request(
        &mut self,
        r: &RequestRow,
        addressees: &[(Oin, Option<Vec<String>>)],
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO requests (id, case_id, meeting_id, purpose, categories, requester_oin, requester_sub, due, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(r.id.as_str())
        .bind(r.case_id.as_str())
        .bind(r.meeting_id.as_str())
        .bind(&r.purpose)
        .bind(json_text(&r.categories))
        .bind(r.requester_oin.as_str())
        .bind(&r.requester_sub)
        .bind(r.due.to_string())
        .bind(r.created_at.to_string())
        .execute(self.conn())
        .await?;
        for (oin, categories) in addressees {
            sqlx::query(
                "INSERT INTO request_addressees (request_id, oin, status, categories) VALUES ($1, $2, 'open', $3)",
            )
            .bind(r.id.as_str())
            .bind(oin.as_str())
            .bind(categories.as_ref().map(|c| json_text(c)))
            .execute(self.conn())
            .await?;
        }
        Ok(())
    }

    /// Answers (with `items`) or declines (`items` empty, `reason` set) for addressee `oin`, if its answer is
    /// still open; `false` when it was not (nothing written).
    ///
    /// # Errors
    /// The database refused.
    pub async fn settle_request(
        &mut self,
        request_id: &RequestId,
        oin: &Oin,
        outcome: (AnswerStatus, Option<&str>),
        items: &[ItemRow],
        now: Instant,
    ) -> Result<bool, StoreError> {
        let (status, reason) = outcome;
        let updated = sqlx::query(
            "UPDATE request_addressees SET status = $1, reason = $2, changed_at = $3 \
             WHERE request_id = $4 AND oin = $5 AND status = 'open'",
        )
        .bind(status.as_str())
        .bind(reason.map(str::to_owned))
        .bind(now.to_string())
        .bind(request_id.as_str())
        .bind(oin.as_str())
        .execute(self.conn())
        .await?
        .rows_affected()
            == 1;
        if updated {
            insert_items(self, items).await?;
        }
        Ok(updated)
    }

    /// Stores the items of one meeting share.
    ///
    /// # Errors
    /// The database refused.
    pub async fn insert_share(&mut self, items: &[ItemRow]) -> Result<(), StoreError> {
        insert_items(self, items).await
    }
}

impl Store {
    /// A request with its addressees, its case and its meeting, in one query (the request's, case's and
    /// meeting's columns repeat on each addressee's row; every request has at least one addressee).
    pub async fn request(&self, id: &RequestId) -> Result<Option<RequestRows>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS}, a.oin AS oin, a.status AS status, a.reason AS reason, \
             a.changed_at AS changed_at, a.categories AS a_categories, {}, {} FROM requests r \
             JOIN request_addressees a ON a.request_id = r.id JOIN cases c ON c.id = r.case_id \
             JOIN meetings m ON m.id = r.meeting_id WHERE r.id = $1 ORDER BY a.oin",
            super::cases::case_columns(),
            super::meetings::meeting_columns()
        ))
        .bind(id.as_str())
        .fetch_all(self.pool())
        .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        Ok(Some(RequestRows {
            request: request_of(first)?,
            addressees: rows.iter().map(addressee_of).collect::<Result<_, _>>()?,
            case: super::cases::case_of(first)?,
            meeting: super::meetings::meeting_of(first)?,
        }))
    }

    /// Requests addressed to `oin`, newest first, with where its answer stands.
    pub async fn inbox(&self, oin: &Oin) -> Result<Vec<(RequestRow, AddresseeRow)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {REQUEST_COLUMNS}, a.oin AS oin, a.status AS status, a.reason AS reason, \
             a.changed_at AS changed_at, a.categories AS a_categories FROM requests r \
             JOIN request_addressees a ON a.request_id = r.id WHERE a.oin = $1 ORDER BY r.created_at DESC, r.id"
        ))
        .bind(oin.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| Ok((request_of(r)?, addressee_of(r)?))).collect()
    }

    /// The facts generation (migration 0007): every change to what a release is judged on moves it.
    ///
    /// # Errors
    /// The database refused.
    pub async fn facts_generation(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT generation FROM facts_generation WHERE id = 1")
                .fetch_one(self.pool())
                .await?,
        )
    }

    /// The items answering a request, oldest first.
    pub async fn request_items(&self, request_id: &RequestId) -> Result<Vec<ItemRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE request_id = $1 ORDER BY created_at, position, id"
        ))
        .bind(request_id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(item_of).collect()
    }

    /// Every item about a case (responses and shares), oldest first.
    pub async fn case_items(&self, case_id: &CaseId) -> Result<Vec<ItemRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE case_id = $1 ORDER BY created_at, position, id"
        ))
        .bind(case_id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(item_of).collect()
    }

    /// The items shared in a meeting about a case, oldest first.
    pub async fn shared_items(&self, meeting_id: &MeetingId, case_id: &CaseId) -> Result<Vec<ItemRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM items WHERE meeting_id = $1 AND case_id = $2 AND request_id IS NULL \
             ORDER BY created_at, position, id"
        ))
        .bind(meeting_id.as_str())
        .bind(case_id.as_str())
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(item_of).collect()
    }
}
