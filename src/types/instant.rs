//! An instant as the gateway keeps it: UTC, to the microsecond, written as fixed-width RFC 3339 text
//! (`2026-11-23T09:00:00.000000Z`) so that the text sorts as the time does.
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use time::{Duration, OffsetDateTime};

use super::clock::{parse_rfc3339, rfc3339};
use super::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, utoipa::ToSchema)]
#[schema(value_type = String, format = DateTime)]
pub struct Instant(OffsetDateTime);

impl Instant {
    /// The time as a date-time (UTC, microseconds).
    pub fn time(self) -> OffsetDateTime {
        self.0
    }
}

impl From<OffsetDateTime> for Instant {
    fn from(t: OffsetDateTime) -> Instant {
        let utc = t.to_offset(time::UtcOffset::UTC);
        Instant(utc.replace_nanosecond(utc.microsecond() * 1000).unwrap_or(utc))
    }
}

impl std::ops::Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant::from(self.0 + d)
    }
}

impl std::ops::Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        Instant::from(self.0 - d)
    }
}

impl std::ops::Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, other: Instant) -> Duration {
        self.0 - other.0
    }
}

impl FromStr for Instant {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_rfc3339(s)
            .map(Instant::from)
            .ok_or_else(|| ParseError::new("time", "not an RFC 3339 date-time, e.g. 2026-11-23T09:00:00Z"))
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&rfc3339(self.0))
    }
}

impl Serialize for Instant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_utc_microseconds_and_round_trip_as_text() {
        let t: Instant = "2026-01-02T03:04:05.5123456+01:00".parse().unwrap();
        assert_eq!(t.to_string(), "2026-01-02T02:04:05.512345Z");
        assert_eq!(t.to_string().parse::<Instant>().unwrap(), t);
        assert!(t < t + Duration::microseconds(1));
        assert!("yesterday".parse::<Instant>().is_err());
    }
}
