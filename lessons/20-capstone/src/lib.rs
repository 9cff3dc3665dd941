//! Lesson 20: Capstone.
//!
//! You edit the exercise files only; this file swaps in the reference solution when the
//! crate is built with `--features solution`.

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/20-capstone/capstone.rs"
)]
pub mod capstone;
