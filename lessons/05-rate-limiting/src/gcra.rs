//! Exercise 05.6: GCRA, the generic cell rate algorithm.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::{NotUntil, RateLimiter};

/// `limit` requests per `period`, with bursts of up to `burst`, kept as one number: the
/// *theoretical arrival time* (TAT) of the next request if requests came exactly at the
/// rate. A request may come early by up to the burst tolerance.
pub struct Gcra {
    /// The emission interval: `period / limit`, the spacing of requests at the rate.
    interval: Duration,
    /// The burst tolerance: `interval × (burst − 1)`.
    tolerance: Duration,
    /// `None` until the first request.
    tat: Mutex<Option<Instant>>,
}

impl Gcra {
    /// `limit` per `period`, bursts of `burst`.
    pub fn new(limit: u32, period: Duration, burst: u32) -> Gcra {
        assert!(
            limit > 0 && burst > 0 && !period.is_zero(),
            "GCRA needs a rate and a burst"
        );
        let interval = period / limit;
        Gcra {
            interval,
            tolerance: interval * (burst - 1),
            tat: Mutex::new(None),
        }
    }
}

impl RateLimiter for Gcra {
    /// `tat = max(stored TAT, now)` (just `now` before the first request). If
    /// `tat > now + tolerance`, the request is too early: refuse until
    /// `tat - tolerance`. Otherwise allow, and store `tat + interval`.
    ///
    /// Read, decide and store in one step: two callers must never both decide from the
    /// same stored TAT.
    fn check_at(&self, now: Instant) -> Result<Instant, NotUntil> {
        let _ = (now, self.interval, self.tolerance, &self.tat);
        todo!("exercise 05.6: Gcra::check_at")
    }
}
