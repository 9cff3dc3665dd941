//! Lesson 13: Profiling and benchmarking.
//!
//! You edit the exercise files only; this file swaps in the reference solution when the
//! crate is built with `--features solution`.

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/13-profiling/padding.rs"
)]
pub mod padding;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/13-profiling/sharded.rs"
)]
pub mod sharded;

#[cfg_attr(feature = "solution", path = "../../../solutions/13-profiling/pool.rs")]
pub mod pool;

pub mod naive;
