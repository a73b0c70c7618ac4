use super::ParseError;
use std::fmt;
use std::str::FromStr;

/// A citizen service number that passed the elfproef. It never prints: `Debug` and `Display` are redacted, so a
/// BSN cannot reach a log line or an error message by accident. Outside encrypted content the gateway holds only
/// its keyed pseudonym ([`crate::crypto::Pseudonymiser`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Bsn(String);

impl Bsn {
    /// The digits, for pseudonymising or sealing — never for logging.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl FromStr for Bsn {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || ParseError::new("bsn", "not a valid BSN (nine digits passing the elfproef)");
        let digits: Vec<u32> = s
            .chars()
            .map(|c| c.to_digit(10))
            .collect::<Option<_>>()
            .ok_or_else(invalid)?;
        if digits.len() != 9 {
            return Err(invalid());
        }
        // Elfproef: 9·d1 + 8·d2 + … + 2·d8 − 1·d9 is a multiple of 11 (and not zero).
        let sum: i64 = digits
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let weight = if i == 8 { -1 } else { 9 - i as i64 };
                weight * i64::from(*d)
            })
            .sum();
        if sum == 0 || sum % 11 != 0 {
            return Err(invalid());
        }
        Ok(Bsn(s.to_owned()))
    }
}

impl fmt::Debug for Bsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bsn(<redacted>)")
    }
}

impl fmt::Display for Bsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted BSN>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_elfproef_decides() {
        assert!("111222333".parse::<Bsn>().is_ok());
        assert!("123456782".parse::<Bsn>().is_ok());
        assert!("123456789".parse::<Bsn>().is_err());
        assert!("000000000".parse::<Bsn>().is_err());
        assert!("12345678".parse::<Bsn>().is_err());
        assert!("12345678a".parse::<Bsn>().is_err());
        let bsn: Bsn = "123456782".parse().unwrap();
        assert!(!format!("{bsn:?} {bsn}").contains("123456782"));
    }
}
