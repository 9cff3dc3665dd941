//! Exercise 05.1: the token bucket.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::{NotUntil, RateLimiter};

/// A bucket of at most `capacity` tokens, refilled with one token every `period`. A
/// request takes a token; with none left, it is refused.
pub struct TokenBucket {
    capacity: u32,
    period: Duration,
    state: Mutex<Bucket>,
}

/// The bucket's contents.
struct Bucket {
    tokens: u32,
    /// When the next token arrives; `None` while the bucket is full (a full bucket does
    /// not fill further, so there is no next token to wait for).
    next_refill: Option<Instant>,
}

impl TokenBucket {
    /// A full bucket. Panics if `capacity` is 0 or `period` is zero.
    pub fn new(capacity: u32, period: Duration) -> TokenBucket {
        assert!(
            capacity > 0 && !period.is_zero(),
            "a bucket needs room and a refill rate"
        );
        TokenBucket {
            capacity,
            period,
            state: Mutex::new(Bucket {
                tokens: capacity,
                next_refill: None,
            }),
        }
    }
}

impl RateLimiter for TokenBucket {
    /// 1. Refill: while the bucket is not full and `next_refill <= now`, add a token and
    ///    move `next_refill` on by one `period` — from the previous refill time, not from
    ///    `now`, so no time is lost between refills. A bucket that becomes full stops its
    ///    refill clock (`next_refill = None`).
    /// 2. Take: with a token, take it — and if the bucket was full, start the refill
    ///    clock: `next_refill = now + period`. Without one, refuse until `next_refill`.
    fn check_at(&self, now: Instant) -> Result<Instant, NotUntil> {
        let bucket = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let _ = (
            now,
            self.capacity,
            self.period,
            bucket.tokens,
            bucket.next_refill,
        );
        todo!("exercise 05.1: TokenBucket::check_at")
    }
}
