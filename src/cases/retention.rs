//! Retention: a closed case's content is destroyed when the retention period of the meeting types it was
//! discussed in has passed (the longest of them; a case never on an agenda gets the covenant's shortest). The
//! purge destroys the case's wrapped data key, its sealed BSN and summary, and the content of its items; the
//! disclosure log keeps every record (they hold digests and pseudonyms only), so it stays verifiable.
//!
//! Also here: re-wrapping every data key under the current master key after a rotation.
use time::{Duration, OffsetDateTime};

use crate::covenant::Covenant;
use crate::crypto::envelope::{Keyring, SealError, WrappedKey};
use crate::log::actor::AnyActor;
use crate::log::{self, chain::Entry};
use crate::store::{ClosedCase, Store, StoreError, StoredKey};
use crate::types::{CaseId, Instant};

#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the data key of case {0} does not unwrap under any configured master key")]
    Unwrap(CaseId),
}

/// Days a closed case is kept, from the covenant's meeting types it was discussed in.
pub fn retention_days(covenant: &Covenant, meeting_types: &[String]) -> u32 {
    let of = |id: &String| covenant.meeting_type(id).map(|t| t.retention_days);
    meeting_types
        .iter()
        .filter_map(of)
        .max()
        .or_else(|| covenant.meeting_types.iter().map(|t| t.retention_days).min())
        .unwrap_or(0)
}

/// Purges every closed case whose retention has passed at `now`; returns their ids.
///
/// # Errors
/// The database refused (cases purged before the failure stay purged, each with its record).
pub async fn purge_due(
    store: &Store,
    covenant: &Covenant,
    now: OffsetDateTime,
    actor: &AnyActor,
) -> Result<Vec<CaseId>, RetentionError> {
    let mut purged = Vec::new();
    let now = Instant::from(now);
    for ClosedCase { id, closed_at } in store.closed_cases().await? {
        let days = retention_days(covenant, &store.case_meeting_types(&id).await?);
        if closed_at + Duration::days(i64::from(days)) > now {
            continue;
        }
        let detail = serde_json::json!({"closed_at": closed_at, "retention_days": days,
            "covenant_version": covenant.version});
        let entry = Entry {
            case_id: Some(id.to_string()),
            ..actor.admin_entry("case.purge", id.as_str(), &detail)
        };
        let mut tx = store.begin().await?;
        let done = tx.purge_case(&id, now).await?;
        if log::commit_if(tx, done, entry, now).await? {
            tracing::info!(case = %id, retention_days = days, "purged a case at the end of its retention");
            purged.push(id);
        }
    }
    Ok(purged)
}

/// Re-wraps every data key not wrapped under the current master key, in one transaction with its record in the
/// disclosure log; returns how many were re-wrapped. Content is not touched.
///
/// # Errors
/// A data key unwraps under no configured key (left as it is), or the database refused.
pub async fn rewrap_all(
    store: &Store,
    keys: &Keyring,
    now: OffsetDateTime,
    actor: &AnyActor,
) -> Result<usize, RetentionError> {
    let mut rewrapped = 0;
    let wrapped_keys = store.wrapped_keys().await?;
    let mut tx = store.begin().await?;
    for StoredKey {
        case_id,
        master_id,
        blob,
    } in wrapped_keys
    {
        let wrapped = WrappedKey { master_id, blob };
        let new = match keys.rewrap(case_id.as_str(), &wrapped) {
            Ok(Some(new)) => new,
            Ok(None) => continue,
            Err(SealError::Open | SealError::KeyLength | SealError::Random) => {
                return Err(RetentionError::Unwrap(case_id));
            }
        };
        if tx
            .replace_wrapped_key(&case_id, &wrapped.master_id, &new.master_id, &new.blob)
            .await?
        {
            rewrapped += 1;
        }
    }
    let detail = serde_json::json!({"master_key": keys.current().id(), "rewrapped": rewrapped});
    let entry = actor.admin_entry("content.rewrap", keys.current().id(), &detail);
    log::commit_with(tx, entry, now.into()).await?;
    Ok(rewrapped)
}
