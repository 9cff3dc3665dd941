//! Lesson 09: Cqrs.
//!
//! You edit the exercise files only; this file swaps in the reference solution when the
//! crate is built with `--features solution`.

#[cfg_attr(feature = "solution", path = "../../../solutions/09-cqrs/cqrs.rs")]
pub mod cqrs;
