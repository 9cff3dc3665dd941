//! Lesson 08: Event sourcing.
//!
//! You edit the exercise files only; this file swaps in the reference solution when the
//! crate is built with `--features solution`.

#[cfg_attr(feature = "solution", path = "../../../solutions/08-event-sourcing/event_sourcing.rs")]
pub mod event_sourcing;
