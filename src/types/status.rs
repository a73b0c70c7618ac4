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
    /// a meeting, or appointed a case's holder; or (the host) that a holder asks for its case on an agenda again.
    NotificationKind {
        RequestReceived => "request_received",
        CaseMemberAdded => "case_member_added",
        MeetingAttendeeAdded => "meeting_attendee_added",
        HolderAppointed => "holder_appointed",
        AgendaRequested => "agenda_requested",
    }
);
