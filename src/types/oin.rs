use super::ParseError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Organisatie-identificatienummer: exactly 20 decimal digits, as carried in the subject `serialNumber` of a
/// PKIoverheid certificate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, pattern = "^[0-9]{20}$", example = "00000099000000000002")]
pub struct Oin(String);

impl Oin {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Oin {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() == 20 && s.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Oin(s.to_owned()))
        } else {
            Err(ParseError::new("oin", "an OIN is exactly 20 digits"))
        }
    }
}

impl TryFrom<String> for Oin {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Oin> for String {
    fn from(o: Oin) -> String {
        o.0
    }
}

impl fmt::Display for Oin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_twenty_digits_only() {
        assert!("00000001003214345000".parse::<Oin>().is_ok());
        assert!("0000000100321434500".parse::<Oin>().is_err());
        assert!("000000010032143450001".parse::<Oin>().is_err());
        assert!("0000000100321434500a".parse::<Oin>().is_err());
        assert!("".parse::<Oin>().is_err());
    }
}
