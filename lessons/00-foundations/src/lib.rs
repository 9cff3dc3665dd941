//! Lesson 00: threads, tasks, channels and cancellation.
//!
//! Each module is one exercise file. You edit those files only; this one swaps in the
//! reference solution when the crate is built with `--features solution`.

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/00-foundations/scoped.rs"
)]
pub mod scoped;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/00-foundations/shared.rs"
)]
pub mod shared;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/00-foundations/fan_out.rs"
)]
pub mod fan_out;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/00-foundations/select.rs"
)]
pub mod select;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/00-foundations/cancel.rs"
)]
pub mod cancel;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/00-foundations/errgroup.rs"
)]
pub mod errgroup;
