//! Lesson 18: Resilient client.
//!
//! You edit the exercise files only; this file swaps in the reference solution when the
//! crate is built with `--features solution`.

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/18-resilient-client/resilient_client.rs"
)]
pub mod resilient_client;
