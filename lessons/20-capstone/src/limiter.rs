//! A keyed rate limiter: one token bucket per API key, on an injectable clock. Finished
//! code (chapter 5's design), not an exercise.
//!
//! Each bucket is kept as GCRA keeps it: not a token count that a timer refills, but the
//! *theoretical arrival time* (TAT) of the next request that would find the bucket
//! empty. A request at `now` is allowed if `TAT - now` is within the burst's tolerance,
//! and then pushes the TAT one interval further. It is the same rule as a bucket of
//! `burst` tokens refilled one every `every`, in one timestamp per key and exact
//! integer arithmetic.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where the limiter reads the time. The program and the tests use [`ManualClock`], so
/// that which request is refused does not depend on how fast the machine is.
pub trait Clock: Send + Sync {
    /// The time since the clock started.
    fn now(&self) -> Duration;
}

/// The real, monotonic clock.
#[derive(Debug)]
pub struct SystemClock(Instant);

impl SystemClock {
    pub fn new() -> SystemClock {
        SystemClock(Instant::now())
    }
}

impl Default for SystemClock {
    fn default() -> SystemClock {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Duration {
        self.0.elapsed()
    }
}

/// A clock that moves only when told to.
#[derive(Debug, Default)]
pub struct ManualClock(Mutex<Duration>);

impl ManualClock {
    pub fn new() -> ManualClock {
        ManualClock::default()
    }

    /// Move the clock forward by `d`.
    pub fn advance(&self, d: Duration) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A request was refused: the key may try again after `wait`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimited {
    pub wait: Duration,
}

impl RateLimited {
    /// The wait in whole seconds, rounded up, and at least 1: the value of an HTTP
    /// `Retry-After` header (RFC 9110 §10.2.3 takes whole seconds).
    pub fn retry_after_secs(&self) -> u64 {
        let secs = self.wait.as_secs() + u64::from(self.wait.subsec_nanos() > 0);
        secs.max(1)
    }
}

/// One token bucket per key: `burst` requests at once, then one every `every`.
pub struct KeyedLimiter {
    burst: u32,
    every: Duration,
    clock: std::sync::Arc<dyn Clock>,
    /// Each key's theoretical arrival time. One lock for all keys: the critical section is
    /// a hash lookup and two additions.
    tat: Mutex<HashMap<String, Duration>>,
}

impl KeyedLimiter {
    /// Panics if `burst` is 0 or `every` is zero.
    pub fn new(burst: u32, every: Duration, clock: std::sync::Arc<dyn Clock>) -> KeyedLimiter {
        assert!(
            burst > 0 && !every.is_zero(),
            "a limiter needs a burst and a rate"
        );
        KeyedLimiter {
            burst,
            every,
            clock,
            tat: Mutex::new(HashMap::new()),
        }
    }

    /// Take one request's worth for `key`, or say how long it must wait.
    pub fn check(&self, key: &str) -> Result<(), RateLimited> {
        let now = self.clock.now();
        let tolerance = self.every * (self.burst - 1);
        let mut tat = self.tat.lock().unwrap_or_else(|e| e.into_inner());
        let next = tat.get(key).copied().unwrap_or(now).max(now);
        if next - now > tolerance {
            return Err(RateLimited {
                wait: next - now - tolerance,
            });
        }
        tat.insert(key.to_string(), next + self.every);
        Ok(())
    }
}
