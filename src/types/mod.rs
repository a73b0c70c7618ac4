//! Newtypes and enums that parse once where a value enters the gateway (a path, a body, a row); inside, nothing
//! re-validates them. Uses nothing else of the crate.
mod bsn;
pub mod clock;
mod ids;
mod instant;
mod oin;
mod org;
mod person;
mod role;
mod status;

pub use bsn::Bsn;
pub use ids::{CaseId, ConsentId, ItemId, MeetingId, ReportId, RequestId, TextId, WeighingId};
pub use instant::Instant;
pub use oin::Oin;
pub use org::{OrgKind, OrgStatus};
pub use person::{PersonId, PersonStatus};
pub use role::UserRole;
pub use status::{
    AgeBand, AnswerStatus, CaseStatus, CheckState, CheckStatus, Gender, MeetingStatus, NoBsnReason, NotificationKind,
    ReportKind,
};

/// Whether `code` is a CBS municipality code: `GM` and four digits (`GM0268`).
pub fn is_municipality(code: &str) -> bool {
    code.len() == 6 && code.starts_with("GM") && code.bytes().skip(2).all(|b| b.is_ascii_digit())
}

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
