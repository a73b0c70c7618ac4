//! Notifications: one row per organisation told of a change, written in that change's transaction.
use sqlx::Row;

use super::{col, col_opt, Store, StoreError, Tx};
use crate::types::{CaseId, Instant, MeetingId, NotificationKind, Oin, RequestId};

/// A notification as stored.
#[derive(Debug, Clone)]
pub struct NotificationRow {
    pub id: i64,
    pub oin: Oin,
    pub kind: NotificationKind,
    pub case_id: Option<CaseId>,
    pub meeting_id: Option<MeetingId>,
    pub request_id: Option<RequestId>,
    pub detail: Option<String>,
    pub created_at: Instant,
}

/// What a notification refers to.
#[derive(Debug, Clone, Copy, Default)]
pub struct About<'a> {
    pub case: Option<&'a CaseId>,
    pub meeting: Option<&'a MeetingId>,
    pub request: Option<&'a RequestId>,
    /// A covenant id the notification names (a weighing outcome); never content.
    pub detail: Option<&'a str>,
}

impl Tx {
    /// Tells `oin` of `kind` about `about`, in this transaction.
    ///
    /// # Errors
    /// The database refused.
    pub async fn notify(
        &mut self,
        oin: &Oin,
        kind: NotificationKind,
        about: About<'_>,
        at: Instant,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO notifications (oin, kind, case_id, meeting_id, request_id, created_at, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(oin.as_str())
        .bind(kind.as_str())
        .bind(about.case.map(CaseId::as_str))
        .bind(about.meeting.map(MeetingId::as_str))
        .bind(about.request.map(RequestId::as_str))
        .bind(at.to_string())
        .bind(about.detail)
        .execute(self.conn())
        .await?;
        Ok(())
    }
}

impl Store {
    /// The notifications of `oin` after id `after`, at most `limit`: oldest first, or the newest first when
    /// `newest`.
    pub async fn notifications(
        &self,
        oin: &Oin,
        (after, newest): (i64, bool),
        limit: i64,
    ) -> Result<Vec<NotificationRow>, StoreError> {
        let order = if newest { "DESC" } else { "ASC" };
        let rows = sqlx::query(&format!(
            "SELECT id, oin, kind, case_id, meeting_id, request_id, detail, created_at FROM notifications \
             WHERE oin = $1 AND id > $2 ORDER BY id {order} LIMIT $3"
        ))
        .bind(oin.as_str())
        .bind(after)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NotificationRow {
                    id: r.try_get("id")?,
                    oin: col(r, "oin")?,
                    kind: col(r, "kind")?,
                    case_id: col_opt(r, "case_id")?,
                    meeting_id: col_opt(r, "meeting_id")?,
                    request_id: col_opt(r, "request_id")?,
                    detail: r.try_get("detail")?,
                    created_at: col(r, "created_at")?,
                })
            })
            .collect()
    }
}
