//! Lesson 17: Load patterns.
//!
//! You edit the exercise files only; this file swaps in the reference solution when the
//! crate is built with `--features solution`.

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/17-load-patterns/load_patterns.rs"
)]
pub mod load_patterns;
