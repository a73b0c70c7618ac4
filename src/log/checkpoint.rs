//! Signed checkpoints: at an interval and on shutdown the gateway signs the Merkle tree's size and root as a C2SP
//! signed note, and appends that note to the log as a record of its own (`admin`, action `log.checkpoint`), so a
//! deleted checkpoint leaves a hole that verification names. Partners and their witnesses hold the operator to
//! the notes they fetched.
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

use super::chain::Entry;
use super::merkle::Hash;
use super::note::{self, Checkpoint};
use super::sql::{Records, StoredNote};
use crate::crypto::CheckpointSigner;
use crate::store::StoreError;
use crate::types::clock::{rfc3339, SharedClock};

/// The action of a checkpoint's record.
pub const ACTION: &str = "log.checkpoint";

/// The key and the name checkpoints are signed with.
#[derive(Clone)]
pub struct Notary {
    pub signer: Arc<CheckpointSigner>,
    /// The origin line, also the signature's key name.
    pub origin: String,
}

impl Notary {
    /// The signed note over a tree of `size` leaves with `root`.
    pub fn note(&self, size: u64, root: Hash) -> String {
        let body = Checkpoint {
            origin: self.origin.clone(),
            size,
            root,
        }
        .body();
        let line = note::signature_line(&self.origin, &self.signer.public_key_bytes(), &body, |m| {
            self.signer.sign_bytes(m)
        });
        note::note(&body, &[line])
    }
}

/// The record that carries a checkpoint note.
pub fn record_of(size: u64, root: &Hash, note: &str) -> Entry {
    Entry::admin(
        None,
        "doelpoort",
        ACTION,
        &size.to_string(),
        serde_json::json!({ "root": hex::encode(root), "note": note }).to_string(),
    )
}

/// Signs the tree if records came after the last checkpoint (other than that checkpoint's own record); returns
/// the new checkpoint, if any.
///
/// # Errors
/// The database could not be read or written.
pub async fn seal(records: &Records, notary: &Notary, clock: &SharedClock) -> Result<Option<StoredNote>, StoreError> {
    let now = rfc3339(clock.now());
    records
        .seal_with(&now, |size, root| {
            let note = notary.note(size, root);
            let entry = record_of(size, &root, &note);
            (note, entry)
        })
        .await
}

/// Seals every `interval` until `stopped`, then once more.
pub async fn run(
    records: Records,
    notary: Notary,
    clock: SharedClock,
    interval: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            _ = stopped.changed() => break,
        }
        if let Err(e) = seal(&records, &notary, &clock).await {
            tracing::warn!(error = %e, "checkpoint failed; will retry");
        }
    }
    if let Err(e) = seal(&records, &notary, &clock).await {
        tracing::warn!(error = %e, "checkpoint at shutdown failed");
    }
}
