//! Lesson 05: rate limiting — six algorithms behind one trait.
//!
//! The trait and the types every algorithm shares are defined here; the exercise files add
//! the algorithms. You edit the exercise files only; this file swaps in the reference
//! solution when the crate is built with `--features solution`.

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/05-rate-limiting/token_bucket.rs"
)]
pub mod token_bucket;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/05-rate-limiting/leaky_bucket.rs"
)]
pub mod leaky_bucket;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/05-rate-limiting/windows.rs"
)]
pub mod windows;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/05-rate-limiting/gcra.rs"
)]
pub mod gcra;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/05-rate-limiting/keyed.rs"
)]
pub mod keyed;

/// Not an exercise: the chapter's "In production" GCRA, on integer nanoseconds.
pub mod nano_gcra;

use tokio::time::Instant;

/// A refusal, with the earliest instant at which asking again could succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotUntil(pub Instant);

/// A rate limiter. Every algorithm implements [`RateLimiter::check_at`]; the rest is
/// built on it.
///
/// Time is passed in, never read inside: `check_at(now)` decides for a request arriving
/// at `now`. Tests pass the instants they want; [`RateLimiter::try_acquire`] passes
/// `tokio::time::Instant::now()`, which a paused tokio clock makes virtual.
pub trait RateLimiter: Send + Sync {
    /// Decide for one request at `now`. `Ok(at)`: allowed, and counted; the request may
    /// proceed at `at` — `now` for every algorithm but the leaky bucket, which may ask
    /// it to wait its turn. `Err(NotUntil(t))`: refused, nothing counted; asking again
    /// before `t` is certainly refused, and at `t` it may succeed (for every algorithm
    /// here but the sliding-window counter, it will).
    fn check_at(&self, now: Instant) -> Result<Instant, NotUntil>;

    /// [`RateLimiter::check_at`] with tokio's clock.
    fn try_acquire(&self) -> Result<Instant, NotUntil> {
        self.check_at(Instant::now())
    }
}
