//! Lesson 16: semaphores and generators.
//!
//! ```text
//!  semaphore.rs (16.1–16.3)   acquire_many(3) ─▶ [ w1:3 | w2:1 | w3:2 ] ─▶ permits
//!                             FIFO: only the head is served, even when a later one fits;
//!                             a dropped (cancelled) waiter leaves the line, or gives back
//!                             what it was granted
//!  generator.rs (16.4)        producer ──send──▶ [ buffer of k ] ──▶ consumer (a Stream)
//!                             starts at the first poll; stops when the consumer is gone
//! ```
//!
//! You edit the exercise files only (`semaphore.rs`, `generator.rs`); this file swaps in
//! the reference solution when the crate is built with `--features solution`.

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/16-semaphore-generator/semaphore.rs"
)]
pub mod semaphore;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/16-semaphore-generator/generator.rs"
)]
pub mod generator;
