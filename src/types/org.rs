use super::ParseError;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use utoipa::ToSchema;

/// How an organisation takes part (domain.md, "Who works together").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrgKind {
    Ketenpartner,
    Convenantpartner,
    Incidenteel,
}

impl OrgKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Ketenpartner => "ketenpartner",
            OrgKind::Convenantpartner => "convenantpartner",
            OrgKind::Incidenteel => "incidenteel",
        }
    }
}

impl FromStr for OrgKind {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ketenpartner" => Ok(OrgKind::Ketenpartner),
            "convenantpartner" => Ok(OrgKind::Convenantpartner),
            "incidenteel" => Ok(OrgKind::Incidenteel),
            _ => Err(ParseError::new(
                "kind",
                "kind must be ketenpartner, convenantpartner or incidenteel",
            )),
        }
    }
}

/// Lifecycle of an onboarded organisation; only `active` ones are let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OrgStatus {
    Active,
    Suspended,
    Offboarded,
}

impl OrgStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrgStatus::Active => "active",
            OrgStatus::Suspended => "suspended",
            OrgStatus::Offboarded => "offboarded",
        }
    }
}

impl FromStr for OrgStatus {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "active" => Ok(OrgStatus::Active),
            "suspended" => Ok(OrgStatus::Suspended),
            "offboarded" => Ok(OrgStatus::Offboarded),
            _ => Err(ParseError::new("status", "unknown organisation status")),
        }
    }
}

impl std::fmt::Display for OrgKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Display for OrgStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
