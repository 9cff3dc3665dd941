//! Lesson 07: lock-free programming — orderings, a Treiber stack, a Michael–Scott queue,
//! and the ABA problem.
//!
//! You edit the exercise files only; this file swaps in the reference solution when the
//! crate is built with `--features solution`.

/// The atomics every exercise uses: std's, or loom's under `cargo workbook loom 07`.
pub mod sync;

/// Many threads on one structure at once, and an account of what came out.
pub mod stress;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/07-lock-free/atomics.rs"
)]
pub mod atomics;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/07-lock-free/stack.rs"
)]
pub mod stack;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/07-lock-free/queue.rs"
)]
pub mod queue;

#[cfg_attr(feature = "solution", path = "../../../solutions/07-lock-free/aba.rs")]
pub mod aba;
