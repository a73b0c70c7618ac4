use super::ParseError;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use utoipa::ToSchema;

/// A person's id at its organisation (the `UID` of a personal certificate): 1–64 of `A-Z a-z 0-9 . _ -`, so it
/// can stand in a path, a record and a certificate unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(transparent)]
pub struct PersonId(String);

impl PersonId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for PersonId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let ok = (1..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if ok {
            Ok(PersonId(s.to_owned()))
        } else {
            Err(ParseError::new(
                "id",
                "a person id is 1–64 of A-Z, a-z, 0-9, '.', '_' and '-'",
            ))
        }
    }
}

impl std::fmt::Display for PersonId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lifecycle of a person; only `active` ones are let in. A removed person is not given back its access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PersonStatus {
    Active,
    Suspended,
    Removed,
}

impl PersonStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonStatus::Active => "active",
            PersonStatus::Suspended => "suspended",
            PersonStatus::Removed => "removed",
        }
    }
}

impl FromStr for PersonStatus {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(PersonStatus::Active),
            "suspended" => Ok(PersonStatus::Suspended),
            "removed" => Ok(PersonStatus::Removed),
            _ => Err(ParseError::new("status", "unknown person status")),
        }
    }
}

impl std::fmt::Display for PersonStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn person_ids_are_bounded_and_plain() {
        assert!("zvh-fg".parse::<PersonId>().is_ok());
        assert!("a.b_c-9".parse::<PersonId>().is_ok());
        assert!("".parse::<PersonId>().is_err());
        assert!("a b".parse::<PersonId>().is_err());
        assert!("a/b".parse::<PersonId>().is_err());
        assert!("x".repeat(65).parse::<PersonId>().is_err());
    }
}
