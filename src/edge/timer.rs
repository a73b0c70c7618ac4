//! hyper's timer (the header-read and idle deadlines of a connection) on the gateway's [`Clock`], so that those
//! deadlines count the clock's time, as every other deadline does.
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::types::clock::{ClockSleep, SharedClock};

/// A [`hyper::rt::Timer`] whose sleeps are the clock's.
#[derive(Clone)]
pub struct ClockTimer(pub SharedClock);

struct Wait(ClockSleep);

impl Future for Wait {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.0.as_mut().poll(cx)
    }
}

impl hyper::rt::Sleep for Wait {}

impl hyper::rt::Timer for ClockTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        Box::pin(Wait(self.0.sleep(duration)))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        self.sleep(deadline.saturating_duration_since(Instant::now()))
    }
}
