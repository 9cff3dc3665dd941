//! Lesson 12: testing concurrent code. Here your tests are the thing under test.
//!
//! The lesson gives five small concurrent structures, each behind a trait, each with one
//! or two correct implementations and one or two with a bug planted in them. You write a
//! *check* for each structure: a function that takes an implementation and answers
//! `Ok(())` ("I found nothing") or `Err("found a bug: …")`. The lesson's tests then grade
//! your checks: each must find every planted bug and pass every correct implementation.
//!
//! The exercise file, [`checks`], holds the five checks, in the chapter's order:
//!
//! - 12.1 a loom model of a [`counter::Counter`] (a lost update);
//! - 12.2 a proptest property of a [`queue::BoundedQueue`] against a sequential model (an
//!   off-by-one capacity, a queue that is not FIFO, the wrong item handed back);
//! - 12.3 a stress test of a [`blocking::BlockingQueue`] (a lost wake-up; queues right
//!   for one producer or one consumer, wrong for two);
//! - 12.4 a deadlock check of a [`bank::Bank`] (two locks taken in opposite orders; one
//!   lock at a time, which makes money);
//! - 12.5 a leak check of a [`pool::Pool`] (workers that outlive their pool).
//!
//! Finished code the lesson needs: the structures ([`counter`], [`queue`], [`blocking`],
//! [`bank`], [`pool`]), the table of what each check is graded against ([`grading`]), and
//! [`catch_panic`], which turns a panic into an `Err` quietly.
//!
//! You edit the exercise file only; this file swaps in the reference solution when the
//! crate is built with `--features solution`.

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/12-testing-concurrency/checks.rs"
)]
pub mod checks;

pub mod bank;
pub mod blocking;
pub mod counter;
pub mod grading;
pub mod pool;
pub mod queue;

mod quiet;

pub use quiet::catch_panic;
