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
        //@ solution
        // One critical section for refill, check and take: with the check and the take
        // under separate locks, two callers could both see the last token.
        let mut bucket = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // Refill in whole periods, each counted from the previous refill, not from `now`:
        // a caller who asks at 260ms and again at 510ms must see the tokens of 250ms and
        // 500ms, not one at 260ms and the next at 510ms. (Counting from the last *request*
        // is the classic drift bug: the bucket fills slower the more often it is asked.)
        while bucket.tokens < self.capacity {
            match bucket.next_refill {
                Some(at) if at <= now => {
                    bucket.tokens += 1;
                    bucket.next_refill = Some(at + self.period);
                }
                _ => break,
            }
        }
        if bucket.tokens == self.capacity {
            // Full: the refill clock stops. Without this, a bucket idle for an hour would
            // "owe" thousands of refills — harmless here thanks to the cap in the loop, but
            // the next refill would come early.
            bucket.next_refill = None;
        }
        if bucket.tokens == 0 {
            let at = bucket.next_refill.expect("an empty bucket is refilling");
            return Err(NotUntil(at));
        }
        if bucket.tokens == self.capacity {
            bucket.next_refill = Some(now + self.period);
        }
        bucket.tokens -= 1;
        Ok(now)
        //@ skeleton
        // let bucket = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // let _ = (
        //     now,
        //     self.capacity,
        //     self.period,
        //     bucket.tokens,
        //     bucket.next_refill,
        // );
        // todo!("exercise 05.1: TokenBucket::check_at")
        //@ end
    }
}
