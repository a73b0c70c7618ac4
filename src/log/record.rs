//! The second door into the chain: records appended inside the transaction of the change they record, so that the
//! change and its record commit together or not at all.
use super::chain::{Entry, Record};
use crate::store::{StoreError, Tx};
use crate::types::Instant;

/// Appends `entries` (chained after the head, which stays locked until `tx` ends) at time `at`.
///
/// # Errors
/// The database refused; the transaction should be dropped.
pub async fn record_in(tx: &mut Tx, entries: Vec<Entry>, at: Instant) -> Result<Vec<Record>, StoreError> {
    super::sql::append_in(tx, entries, &at.to_string()).await
}

/// Commits `tx` with `entry` when `changed`, otherwise rolls it back (nothing changed, nothing recorded); returns
/// `changed`.
///
/// # Errors
/// The database refused; nothing was written.
pub async fn commit_if(tx: Tx, changed: bool, entry: Entry, at: Instant) -> Result<bool, StoreError> {
    if changed {
        commit_with(tx, entry, at).await?;
    } else {
        tx.rollback().await?;
    }
    Ok(changed)
}

/// Appends `entry` to the chain inside `tx` and commits both: the change and its record exist together or not at
/// all.
///
/// # Errors
/// The database refused; nothing was written.
pub async fn commit_with(mut tx: Tx, entry: Entry, at: Instant) -> Result<(), StoreError> {
    record_in(&mut tx, vec![entry], at).await?;
    tx.commit().await
}
