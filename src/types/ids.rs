//! Identifiers of the gateway's own objects: a fixed prefix and a random part (`case-3f…`). They parse once, where
//! they enter (a path, a body, a row), and are compared as values inside.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use super::ParseError;

/// Longest random part of an identifier.
const MAX_TAIL: usize = 64;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $field:literal, $pattern:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(try_from = "String", into = "String")]
        #[schema(value_type = String, pattern = $pattern, example = json!(concat!($prefix, "-3f2a…")))]
        pub struct $name(String);

        impl $name {
            /// A new identifier: the prefix and 128 random bits.
            pub fn generate() -> $name {
                $name(format!(concat!($prefix, "-{}"), random_hex()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let tail = s.strip_prefix(concat!($prefix, "-")).unwrap_or_default();
                let ok = !tail.is_empty()
                    && tail.len() <= MAX_TAIL
                    && tail.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
                if ok {
                    Ok($name(s.to_owned()))
                } else {
                    Err(ParseError::new($field, concat!("not an identifier of the form `", $prefix, "-…`")))
                }
            }
        }

        impl TryFrom<String> for $name {
            type Error = ParseError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id!(
    /// A case (*casus*).
    CaseId,
    "case",
    "case_id",
    "^case-[a-z0-9-]{1,64}$"
);
id!(
    /// A meeting (*overleg*).
    MeetingId,
    "meeting",
    "meeting_id",
    "^meeting-[a-z0-9-]{1,64}$"
);
id!(
    /// An information request.
    RequestId,
    "request",
    "request_id",
    "^request-[a-z0-9-]{1,64}$"
);
id!(
    /// An item of content in a response or share.
    ItemId,
    "item",
    "item_id",
    "^item-[a-z0-9-]{1,64}$"
);
id!(
    /// A recorded consent.
    ConsentId,
    "consent",
    "consent_id",
    "^consent-[a-z0-9-]{1,64}$"
);

id!(
    /// A report (*melding*) about a case's subjects.
    ReportId,
    "report",
    "report_id",
    "^report-[a-z0-9-]{1,64}$"
);
id!(
    /// A weighing decision.
    WeighingId,
    "weighing",
    "weighing_id",
    "^weighing-[a-z0-9-]{1,64}$"
);
id!(
    /// A sealed free text about a case (a reason, a note).
    TextId,
    "text",
    "text_id",
    "^text-[a-z0-9-]{1,64}$"
);

/// 128 random bits as hex; never all zeros.
fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).is_err() || bytes == [0u8; 16] {
        bytes[15] = 1;
    }
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_refuse_anything_else() {
        let id = CaseId::generate();
        assert!(id.as_str().starts_with("case-") && id.as_str().len() == 37);
        assert_eq!(id.as_str().parse::<CaseId>().unwrap(), id);
        assert!(
            "case-none".parse::<CaseId>().is_ok(),
            "an id that names nothing still parses; the store says 404"
        );
        for bad in [
            "",
            "case-",
            "meeting-1",
            "case-ABC",
            "case-a b",
            &format!("case-{}", "a".repeat(65)),
        ] {
            assert!(bad.parse::<CaseId>().is_err(), "{bad}");
        }
        assert!(MeetingId::generate().as_str().starts_with("meeting-"));
    }
}
