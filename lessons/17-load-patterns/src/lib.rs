//! Lesson 17: Load patterns.
//!
//! You edit the exercise files only; this file swaps in the reference solution when the
//! crate is built with `--features solution`.

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/17-load-patterns/aimd.rs"
)]
pub mod aimd;
#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/17-load-patterns/clients.rs"
)]
pub mod clients;
pub mod report;
pub mod server;
