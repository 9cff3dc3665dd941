//! Lesson 07: Lock free.
//!
//! You edit the exercise files only; this file swaps in the reference solution when the
//! crate is built with `--features solution`.

#[cfg_attr(feature = "solution", path = "../../../solutions/07-lock-free/lock_free.rs")]
pub mod lock_free;
