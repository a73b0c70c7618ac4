//! Signed checkpoints: the gateway seals the chain head with its Ed25519 key at an interval and on shutdown, so
//! partners can hold the operator to a head they fetched.
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

use super::chain::{checkpoint_message, parse_hash};
use super::sql::{Checkpoint, Records};
use crate::crypto::CheckpointSigner;
use crate::store::StoreError;
use crate::types::clock::{rfc3339, SharedClock};

/// Signs the current head if it moved past the last checkpoint; returns the new checkpoint, if any.
///
/// # Errors
/// The database could not be read or written.
pub async fn seal(
    records: &Records,
    signer: &CheckpointSigner,
    clock: &SharedClock,
) -> Result<Option<Checkpoint>, StoreError> {
    let (seq, hash) = records.head().await?;
    if seq == 0 {
        return Ok(None);
    }
    let last = records.latest_checkpoint_seq().await?;
    if last >= seq {
        return Ok(None);
    }
    let head = parse_hash(&hash).ok_or(StoreError::Corrupt("log head hash"))?;
    let at = rfc3339(clock.now());
    let checkpoint = Checkpoint {
        seq,
        signature: signer.sign(&checkpoint_message(seq, &head, &at)),
        at,
        head_hash: hash,
        public_key: signer.public_key(),
    };
    records.insert_checkpoint(&checkpoint).await?;
    Ok(Some(checkpoint))
}

/// Seals every `interval` until `stopped`, then once more.
pub async fn run(
    records: Records,
    signer: Arc<CheckpointSigner>,
    clock: SharedClock,
    interval: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            _ = stopped.changed() => break,
        }
        if let Err(e) = seal(&records, &signer, &clock).await {
            tracing::warn!(error = %e, "checkpoint failed; will retry");
        }
    }
    if let Err(e) = seal(&records, &signer, &clock).await {
        tracing::warn!(error = %e, "checkpoint at shutdown failed");
    }
}
