use super::ParseError;
use serde::{Deserialize, Serialize};
use std::str::FromStr;
use utoipa::ToSchema;

/// The fixed set of roles a professional's token may carry (contract, "Identity").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserRole {
    Professional,
    Procesregisseur,
    PrivacyOfficer,
    Admin,
}

impl UserRole {
    /// Roles that count only for the host organisation (the ZVH itself).
    pub fn host_only(self) -> bool {
        matches!(self, UserRole::Procesregisseur | UserRole::Admin)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            UserRole::Professional => "professional",
            UserRole::Procesregisseur => "procesregisseur",
            UserRole::PrivacyOfficer => "privacy_officer",
            UserRole::Admin => "admin",
        }
    }
}

impl FromStr for UserRole {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "professional" => Ok(UserRole::Professional),
            "procesregisseur" => Ok(UserRole::Procesregisseur),
            "privacy_officer" => Ok(UserRole::PrivacyOfficer),
            "admin" => Ok(UserRole::Admin),
            _ => Err(ParseError::new(
                "roles",
                "roles are professional, procesregisseur, privacy_officer or admin",
            )),
        }
    }
}
