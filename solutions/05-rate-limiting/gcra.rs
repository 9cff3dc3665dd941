//! Exercise 05.6: GCRA, the generic cell rate algorithm.

//@ solution
use std::sync::atomic::{AtomicI64, Ordering};
//@ skeleton
// use std::sync::Mutex;
//@ end
use std::time::Duration;

use tokio::time::Instant;

use crate::{NotUntil, RateLimiter};

/// `limit` requests per `period`, with bursts of up to `burst`, kept as one number: the
/// *theoretical arrival time* (TAT) of the next request if requests came exactly at the
/// rate. A request may come early by up to the burst tolerance.
pub struct Gcra {
    //@ solution
    // The reference keeps the TAT in one atomic, as governor does: no lock, and a request
    // is decided with one load and one compare-exchange. A mutex around an
    // `Option<Instant>` (the skeleton's field) passes the same tests; see the chapter's
    // "In production" for what the atomic buys.
    /// The emission interval `period / limit`, in nanoseconds.
    interval: i64,
    /// The burst tolerance `interval × (burst − 1)`, in nanoseconds.
    tolerance: i64,
    /// The origin of the numbers below: any fixed instant will do, and the limiter's
    /// creation is at hand. Instants before it are negative numbers, not errors.
    base: Instant,
    /// The TAT in nanoseconds after `base`; `NO_REQUEST_YET` until the first request.
    tat: AtomicI64,
    //@ skeleton
    // /// The emission interval: `period / limit`, the spacing of requests at the rate.
    // interval: Duration,
    // /// The burst tolerance: `interval × (burst − 1)`.
    // tolerance: Duration,
    // /// `None` until the first request.
    // tat: Mutex<Option<Instant>>,
    //@ end
}
//@ solution

/// The TAT before the first request. As the smallest `i64` it needs no special case:
/// `max(NO_REQUEST_YET, now)` is `now`.
const NO_REQUEST_YET: i64 = i64::MIN;
//@ end

impl Gcra {
    /// `limit` per `period`, bursts of `burst`.
    pub fn new(limit: u32, period: Duration, burst: u32) -> Gcra {
        assert!(
            limit > 0 && burst > 0 && !period.is_zero(),
            "GCRA needs a rate and a burst"
        );
        let interval = period / limit;
        //@ solution
        Gcra {
            interval: nanos(interval),
            tolerance: nanos(interval * (burst - 1)),
            base: Instant::now(),
            tat: AtomicI64::new(NO_REQUEST_YET),
        }
        //@ skeleton
        // Gcra {
        //     interval,
        //     tolerance: interval * (burst - 1),
        //     tat: Mutex::new(None),
        // }
        //@ end
    }
    //@ solution

    /// `at` as nanoseconds after `base` (negative before it). Saturates some 292 years
    /// away from `base`.
    fn to_nanos(&self, at: Instant) -> i64 {
        match at.checked_duration_since(self.base) {
            Some(after) => nanos(after),
            None => -nanos(self.base - at),
        }
    }

    /// The instant `nanos` after `base`.
    fn to_instant(&self, nanos: i64) -> Instant {
        let offset = Duration::from_nanos(nanos.unsigned_abs());
        if nanos >= 0 {
            self.base + offset
        } else {
            self.base - offset
        }
    }
    //@ end
}
//@ solution

/// A duration in whole nanoseconds, saturating at `i64::MAX` (about 292 years).
fn nanos(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs())
        .ok()
        .and_then(|secs| secs.checked_mul(1_000_000_000))
        .and_then(|whole| whole.checked_add(i64::from(duration.subsec_nanos())))
        .unwrap_or(i64::MAX)
}
//@ end

impl RateLimiter for Gcra {
    /// `tat = max(stored TAT, now)` (just `now` before the first request). If
    /// `tat > now + tolerance`, the request is too early: refuse until
    /// `tat - tolerance`. Otherwise allow, and store `tat + interval`.
    ///
    /// Read, decide and store in one step: two callers must never both decide from the
    /// same stored TAT.
    fn check_at(&self, now: Instant) -> Result<Instant, NotUntil> {
        //@ solution
        let now_nanos = self.to_nanos(now);
        // Relaxed is enough: the TAT is the only shared state, and the compare-exchange
        // below orders every update of it after the one it read.
        let mut stored = self.tat.load(Ordering::Relaxed);
        loop {
            // A TAT in the past means the limiter has been idle: it forgives the idleness
            // up to `now`, and no further — which is what caps the burst.
            let tat = stored.max(now_nanos);
            if tat.saturating_sub(now_nanos) > self.tolerance {
                // Too early by `tat - now - tolerance`. Nothing is written on a refusal.
                return Err(NotUntil(self.to_instant(tat - self.tolerance)));
            }
            // Store the new TAT only if nobody has changed it since we read it; if someone
            // has, decide again from what they stored. Each turn of the loop is a complete
            // decision, so a loser never allows on stale state.
            match self.tat.compare_exchange_weak(
                stored,
                tat.saturating_add(self.interval),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(now),
                Err(actual) => stored = actual,
            }
        }
        //@ skeleton
        // let _ = (now, self.interval, self.tolerance, &self.tat);
        // todo!("exercise 05.6: Gcra::check_at")
        //@ end
    }
}
