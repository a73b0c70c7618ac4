//! Time as a parameter: the instant every decision is taken at, and the waits a connection's deadlines count, so
//! that expiry, windows and idle connections are testable on a clock the test moves, without sleeping.
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use time::OffsetDateTime;

/// A wait on a [`Clock`].
pub type ClockSleep = Pin<Box<dyn Future<Output = ()> + Send + Sync>>;

/// A source of the current time, and of waits measured on it.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;

    /// Resolves once `duration` has passed on this clock.
    fn sleep(&self, duration: std::time::Duration) -> ClockSleep;
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn sleep(&self, duration: std::time::Duration) -> ClockSleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// RFC 3339 in UTC with microseconds: the one text form of an instant in the database and the API, so that it
/// sorts as text.
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// An RFC 3339 date-time from outside input; `None` when it does not parse.
pub fn parse_rfc3339(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn rfc3339_is_fixed_width_utc() {
        assert_eq!(
            rfc3339(datetime!(2026-01-02 03:04:05.5 +01:00)),
            "2026-01-02T02:04:05.500000Z"
        );
    }
}
