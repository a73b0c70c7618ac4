//! The disclosure log: every record (`disclosure`, `refusal`, `lookup`, `admin`) enters the log through one
//! of two doors, both here: the group-commit [`Log`] writer, and [`record_in`] for a change that commits together
//! with its record in the change's own transaction. The chain, checkpoints, verification, the officers' queries
//! and exports, and the log's own SQL live here too. May use `types`, `crypto` and `store`.
pub mod actor;
pub mod audit;
pub mod bundle;
pub mod chain;
pub mod checkpoint;
pub mod filter;
pub mod ldv;
pub mod merkle;
pub mod note;
pub mod packed;
mod record;
pub(crate) mod sql;
mod statement;
pub mod tiles;
pub mod verify;
mod writer;

use std::path::PathBuf;

pub use filter::LogFilter;
pub use record::{commit_if, commit_with, record_in};
pub use sql::{Checkpoint, DecisionGroup, Records, StoredNote};
pub use writer::{Appended, Log, LogError, Read, Receipt, Released};

/// The disclosure log: its two keys (files; `serve` refuses to start without them) and its pace.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// HMAC key (64+ hex digits) that turns a BSN into the subject pseudonym of records and signs paging cursors.
    pub pseudonym_key_file: Option<PathBuf>,
    /// Ed25519 key (PKCS#8 PEM) that signs checkpoints.
    pub checkpoint_key_file: Option<PathBuf>,
    /// The checkpoints' origin line, which names this log (`c2sp.org/tlog-checkpoint`) and the key that signs it;
    /// `doelpoort/<host OIN>` when absent.
    pub origin: Option<String>,
    /// Public keys (base64url) of earlier checkpoint keys whose checkpoints `audit verify` still accepts.
    pub retired_checkpoint_keys: Vec<String>,
    /// Seconds between checkpoints (one is also sealed at shutdown).
    pub checkpoint_interval_secs: u64,
    /// Records committed in one transaction at most.
    pub batch_max: usize,
    /// How long a request waits for its record to commit before it fails closed with 503.
    pub append_timeout_millis: u64,
}

impl LogConfig {
    /// The origin of this log's checkpoints.
    pub fn origin(&self, host: &crate::types::Oin) -> String {
        self.origin.clone().unwrap_or_else(|| format!("doelpoort/{host}"))
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            pseudonym_key_file: None,
            checkpoint_key_file: None,
            origin: None,
            retired_checkpoint_keys: Vec::new(),
            checkpoint_interval_secs: 300,
            batch_max: 1024,
            append_timeout_millis: 10_000,
        }
    }
}
