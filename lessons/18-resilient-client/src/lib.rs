//! Lesson 18: a resilient client as tower layers.
//!
//! ```text
//!  client.rs (18.5)   send ─▶ ConcurrencyLimit ─▶ Retry ─▶ CircuitBreaker ─▶ Timeout ─▶ Flaky
//!                             limit.rs (18.4)     retry.rs  breaker.rs (18.3) timeout.rs flaky.rs
//!                                                 (18.2)                      (18.1)     (finished)
//! ```
//!
//! You edit the exercise files only (`timeout.rs`, `retry.rs`, `breaker.rs`, `limit.rs`,
//! `client.rs`); this file swaps in the reference solution when the crate is built with
//! `--features solution`. `errors.rs` and `flaky.rs` are finished code.

pub mod errors;
pub mod flaky;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/18-resilient-client/timeout.rs"
)]
pub mod timeout;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/18-resilient-client/retry.rs"
)]
pub mod retry;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/18-resilient-client/breaker.rs"
)]
pub mod breaker;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/18-resilient-client/limit.rs"
)]
pub mod limit;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/18-resilient-client/client.rs"
)]
pub mod client;
