//! Where an object stands, as the store keeps it (lower-case text) and the API shows it.
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use utoipa::ToSchema;

use super::ParseError;

macro_rules! status {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($text => Ok($name::$variant),)+
                    _ => Err(ParseError::new("status", concat!("not a ", stringify!($name)))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

status!(
    /// A case: open, closed (its retention runs), or purged (its content destroyed).
    CaseStatus { Open => "open", Closed => "closed", Purged => "purged" }
);
status!(
    /// A meeting: open, or closed explicitly (a meeting whose window passed is still `open`, but over).
    MeetingStatus { Open => "open", Closed => "closed" }
);
status!(
    /// An addressee's answer to a request; `expired` is an open one past its due date (never stored).
    AnswerStatus { Open => "open", Answered => "answered", Declined => "declined", Expired => "expired" }
);
status!(
    /// What a notification tells an organisation: it was asked for information, made a member of a case, added to
    /// a meeting, or appointed a case's holder; or (the host) that a holder asks for its case on an agenda again, or
    /// that a report arrived; a holder that a report joined its case; a reporter the weighing of its report.
    NotificationKind {
        RequestReceived => "request_received",
        CaseMemberAdded => "case_member_added",
        MeetingAttendeeAdded => "meeting_attendee_added",
        HolderAppointed => "holder_appointed",
        AgendaRequested => "agenda_requested",
        ReportReceived => "report_received",
        ReportJoined => "report_joined",
        WeighingOutcome => "weighing_outcome",
    }
);
status!(
    /// Whom a report is about: one person, a family (*gezin*) or a group.
    ReportKind { Persoon => "persoon", Gezin => "gezin", Groep => "groep" }
);
status!(
    /// Why a person has no BSN: not in the BRP (*geen GBA*), registered as a non-resident (RNI), or not known.
    NoBsnReason { GeenGba => "geen_gba", Rni => "rni", Onbekend => "onbekend" }
);
status!(
    /// The statistical gender of a report's subject.
    Gender { Man => "man", Vrouw => "vrouw", X => "x", Onbekend => "onbekend" }
);
status!(
    /// What a monitoring check found: on course, adjust, or back on an agenda.
    CheckStatus { OpKoers => "op_koers", Bijsturen => "bijsturen", Heragenderen => "heragenderen" }
);
status!(
    /// Where a monitoring check stands: due (not yet past its date), overdue, or done (recorded).
    CheckState { Due => "due", Overdue => "overdue", Done => "done" }
);

/// The statistical age band of a report's subject (never a birth date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum AgeBand {
    #[serde(rename = "<18")]
    Under18,
    #[serde(rename = "18-23")]
    From18To23,
    #[serde(rename = "23+")]
    Over23,
    #[serde(rename = "onbekend")]
    Onbekend,
}

impl AgeBand {
    pub fn as_str(self) -> &'static str {
        match self {
            AgeBand::Under18 => "<18",
            AgeBand::From18To23 => "18-23",
            AgeBand::Over23 => "23+",
            AgeBand::Onbekend => "onbekend",
        }
    }
}

impl FromStr for AgeBand {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            AgeBand::Under18,
            AgeBand::From18To23,
            AgeBand::Over23,
            AgeBand::Onbekend,
        ]
        .into_iter()
        .find(|b| b.as_str() == s)
        .ok_or_else(|| ParseError::new("age_band", "not an age band"))
    }
}
