//! Exercise 10.1: retries with exponential backoff and seeded jitter.
//!
//! A transient error is worth another try, but not at once and not forever: each retry
//! waits twice as long as the one before, up to a ceiling, with a random part so that a
//! thousand sagas that failed together do not all come back in the same millisecond.

use std::time::Duration;

use crate::{Clock, Failure, Jitter, StepError};

/// How a call is retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How many times the call is sent in all, the first time included. A policy of 0 or
    /// 1 sends it once and never retries.
    pub max_attempts: u32,
    /// The ceiling of the wait before the first retry; each later retry doubles it.
    pub first_delay: Duration,
    /// No ceiling is ever above this.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 is the retry after the first failure; 0 is
    /// taken as 1).
    ///
    /// The ceiling is `first_delay × 2^(retry − 1)`, but never more than `max_delay` (and
    /// never an overflow, however large `retry` is). The wait is half the ceiling plus a
    /// random part of the other half: `ceiling / 2 + jitter.pick(ceiling − ceiling / 2)`,
    /// one `pick` per call.
    pub fn delay(&self, retry: u32, jitter: &dyn Jitter) -> Duration {
        //@ solution
        let doublings = retry.max(1) - 1;
        let ceiling = 1u32
            .checked_shl(doublings)
            .and_then(|factor| self.first_delay.checked_mul(factor))
            .map_or(self.max_delay, |d| d.min(self.max_delay));
        let half = ceiling / 2;
        half + jitter.pick(ceiling - half)
        //@ skeleton
        // let _ = (retry, jitter, self.first_delay, self.max_delay);
        // todo!("exercise 10.1: RetryPolicy::delay")
        //@ end
    }
}

/// Send a call until it succeeds, fails for good, or runs out of attempts.
///
/// `op` sends the call once. On `Ok`, return how many times it was sent. On a permanent
/// error, return [`Failure::Permanent`] at once. On a transient error, if attempts are
/// left, wait `policy.delay(n, jitter)` on `clock` (`n` counts the retries: 1, 2, …) and
/// send it again; if none are left, return [`Failure::GaveUp`] with the number of
/// attempts and the last error — without a last, pointless wait.
pub fn retry(
    policy: &RetryPolicy,
    clock: &dyn Clock,
    jitter: &dyn Jitter,
    mut op: impl FnMut() -> Result<(), StepError>,
) -> Result<u32, Failure> {
    //@ solution
    let mut attempt = 1;
    loop {
        match op() {
            Ok(()) => return Ok(attempt),
            Err(StepError::Permanent(why)) => return Err(Failure::Permanent(why)),
            Err(StepError::Transient(why)) => {
                if attempt >= policy.max_attempts {
                    return Err(Failure::GaveUp {
                        attempts: attempt,
                        last: why,
                    });
                }
                clock.sleep(policy.delay(attempt, jitter));
                attempt += 1;
            }
        }
    }
    //@ skeleton
    // let _ = (policy, clock, jitter, &mut op);
    // todo!("exercise 10.1: retry")
    //@ end
}
