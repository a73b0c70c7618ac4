//! Newtypes that parse once at the edge; inside the gateway nothing re-validates them.
mod bsn;
pub mod clock;
mod oin;
mod org;
mod role;

pub use bsn::Bsn;
pub use oin::Oin;
pub use org::{OrgKind, OrgStatus};
pub use role::UserRole;

/// A value that failed to parse; `field` names the input, `reason` says why (never echoes the value).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct ParseError {
    pub field: &'static str,
    pub reason: String,
}

impl ParseError {
    pub fn new(field: &'static str, reason: impl Into<String>) -> Self {
        Self {
            field,
            reason: reason.into(),
        }
    }
}
