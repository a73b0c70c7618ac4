//! What an organisation has been told: asked for information, made a member of a case, added to a meeting. Each
//! notification is written in the transaction of the change it tells of (`store::Tx::notify`); this reads them.
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::{Store, StoreError};
use crate::types::{CaseId, Instant, MeetingId, NotificationKind, Oin, RequestId};

/// Most notifications one read returns.
pub const PAGE_MAX: i64 = 100;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Notification {
    /// Increasing; pass the last one seen as `after` to read only newer ones.
    pub id: i64,
    pub kind: NotificationKind,
    pub case_id: Option<CaseId>,
    pub meeting_id: Option<MeetingId>,
    pub request_id: Option<RequestId>,
    /// The weighing outcome, for `weighing_outcome` (a covenant id, never content).
    pub outcome: Option<String>,
    pub created_at: Instant,
}

/// The notifications of `oin` after `after`, oldest first, at most [`PAGE_MAX`].
///
/// # Errors
/// The database refused.
pub async fn after(store: &Store, oin: &Oin, after: i64) -> Result<Vec<Notification>, StoreError> {
    read(store, oin, (after, false)).await
}

/// The newest [`PAGE_MAX`] notifications of `oin`, newest first.
///
/// # Errors
/// The database refused.
pub async fn newest(store: &Store, oin: &Oin) -> Result<Vec<Notification>, StoreError> {
    read(store, oin, (0, true)).await
}

async fn read(store: &Store, oin: &Oin, from: (i64, bool)) -> Result<Vec<Notification>, StoreError> {
    Ok(store
        .notifications(oin, from, PAGE_MAX)
        .await?
        .into_iter()
        .map(|n| Notification {
            id: n.id,
            kind: n.kind,
            case_id: n.case_id,
            meeting_id: n.meeting_id,
            request_id: n.request_id,
            outcome: n.detail,
            created_at: n.created_at,
        })
        .collect())
}
