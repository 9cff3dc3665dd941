//! Exercise 05.2: the leaky bucket, as a queue.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::{NotUntil, RateLimiter};

/// Requests leave the bucket one per `period`, in order, however fast they arrive: the
/// output is smooth. A request that would wait more than `capacity − 1` periods (the
/// queue holds one request leaving now and `capacity − 1` behind it) is refused.
pub struct LeakyBucket {
    capacity: u32,
    period: Duration,
    /// When the last admitted request leaves (or left).
    last_departure: Mutex<Option<Instant>>,
}

impl LeakyBucket {
    /// An empty bucket. Panics if `capacity` is 0 or `period` is zero.
    pub fn new(capacity: u32, period: Duration) -> LeakyBucket {
        assert!(
            capacity > 0 && !period.is_zero(),
            "a bucket needs room and a drain rate"
        );
        LeakyBucket {
            capacity,
            period,
            last_departure: Mutex::new(None),
        }
    }
}

impl RateLimiter for LeakyBucket {
    /// A request arriving at `now` leaves at `departure = max(now, last_departure +
    /// period)` (at `now` if nothing has left yet). It is admitted if it waits at most
    /// `(capacity - 1) × period`: then record its departure and return `Ok(departure)`.
    /// Otherwise refuse, until the instant at which that wait would be short enough:
    /// `departure - (capacity - 1) × period`.
    fn check_at(&self, now: Instant) -> Result<Instant, NotUntil> {
        //@ solution
        let mut last = self
            .last_departure
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Departures are spaced by exactly one period: this request leaves one period
        // after the one before it, or at once if that one left long ago.
        let departure = match *last {
            Some(previous) => (previous + self.period).max(now),
            None => now,
        };
        // The longest wait the bucket holds: `capacity` requests, one leaving now and
        // `capacity - 1` queued behind it.
        let longest = self.period * (self.capacity - 1);
        if departure.duration_since(now) > longest {
            // At `departure - longest` the same request would wait exactly `longest`.
            return Err(NotUntil(departure - longest));
        }
        *last = Some(departure);
        Ok(departure)
        //@ skeleton
        // let _ = (now, self.capacity, self.period, &self.last_departure);
        // todo!("exercise 05.2: LeakyBucket::check_at")
        //@ end
    }
}
