//! Not an exercise: GCRA the way governor keeps it, for chapter 5's "In production".
//!
//! The exercise's [`Gcra`](crate::gcra::Gcra) takes a tokio `Instant`, because a paused
//! tokio clock is what makes its tests exact. An `Instant` is a pair of seconds and
//! nanoseconds, and every decision converts it to a number and back. This limiter skips
//! that: time is a `u64` count of nanoseconds read from a clock the caller chooses, and
//! the TAT is one `AtomicU64`, so a decision is a clock read, one load and (usually) one
//! compare-exchange. The benchmark runs it on governor's own clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A GCRA limiter over a clock that counts nanoseconds from any fixed origin.
pub struct NanoGcra<C> {
    clock: C,
    /// `period / limit`, in nanoseconds.
    interval: u64,
    /// `interval × (burst − 1)`, in nanoseconds.
    tolerance: u64,
    /// The theoretical arrival time of the next request. 0, the clock's origin, stands
    /// for "no request yet": `max(0, now)` is `now`.
    tat: AtomicU64,
}

impl<C: Fn() -> u64> NanoGcra<C> {
    /// `limit` per `period`, bursts of `burst`, reading `clock`.
    pub fn new(limit: u32, period: Duration, burst: u32, clock: C) -> NanoGcra<C> {
        assert!(
            limit > 0 && burst > 0 && !period.is_zero(),
            "GCRA needs a rate and a burst"
        );
        let interval = u64::try_from((period / limit).as_nanos()).unwrap_or(u64::MAX);
        NanoGcra {
            clock,
            interval,
            tolerance: interval.saturating_mul(u64::from(burst - 1)),
            tat: AtomicU64::new(0),
        }
    }

    /// Allow one request now, or refuse it until the returned clock reading.
    pub fn check(&self) -> Result<(), u64> {
        let now = (self.clock)();
        let mut stored = self.tat.load(Ordering::Relaxed);
        loop {
            let tat = stored.max(now);
            if tat - now > self.tolerance {
                return Err(tat - self.tolerance);
            }
            match self.tat.compare_exchange_weak(
                stored,
                tat.saturating_add(self.interval),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => stored = actual,
            }
        }
    }
}
