//! Exercises 12.1–12.5: checks that find bugs in concurrent code.
//!
//! Each check takes a way to make an implementation (a `fn` the lesson passes in, so the
//! same check runs against every implementation) and answers:
//!
//! - `Ok(())`: I tried, and found nothing wrong;
//! - `Err("found a bug: …")`, `Err("stuck: …")`, `Err("deadlock: …")`: what went wrong,
//!   in words a colleague reading a CI log would understand.
//!
//! A check must never panic and never hang, whatever the implementation does: it is a
//! test, and a test that hangs tells nobody anything. The lesson's tests run your checks
//! against correct implementations (they must pass) and against implementations with a
//! planted bug (they must find it).

use crate::bank::MakeBank;
use crate::blocking::MakeBlockingQueue;
use crate::counter::MakeCounter;
use crate::pool::MakePool;
use crate::queue::MakeQueue;
// What the reference uses; uncomment what you need:
// use std::collections::VecDeque;
// use std::sync::mpsc::{self, RecvTimeoutError};
// use std::sync::{Arc, Barrier};
// use std::thread;
// use std::time::Duration;
// use proptest::prelude::*;
// use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
// use crate::catch_panic;
// use crate::pool::Tracker;

/// Exercise 12.1: a loom model that finds a lost update.
///
/// In a `loom::model`, make a counter with `new()`, increment it from two threads (a
/// `loom::thread::spawn`ed one and the model's own), join, and assert that it reads 2.
/// loom runs the closure once per interleaving of the counter's atomic operations and
/// panics at the first one that breaks the assertion; catch that panic (with
/// [`crate::catch_panic`]) and return it as `Err("found a bug: …")`.
pub fn check_counter(new: MakeCounter) -> Result<(), String> {
    let _ = new;
    todo!("exercise 12.1: check_counter")
}

/// Exercise 12.2: a property against a sequential model.
///
/// Generate scenarios — a capacity and a list of operations — with proptest, run each on a
/// fresh queue from `new(capacity)` and on a model (a `VecDeque` you bound by hand), and
/// require every answer to match. Run the property with a `TestRunner` (seeded, so every
/// run tries the same scenarios) and turn its failure, which carries proptest's shrunk
/// minimal scenario, into `Err("found a bug: …")`.
pub fn check_queue(new: MakeQueue) -> Result<(), String> {
    let _ = new;
    todo!("exercise 12.2: check_queue")
}

/// Exercise 12.3: a stress test that ends even when the queue loses a wake-up.
///
/// Make a small queue (`new(2)`), start producers and consumers together behind a
/// `Barrier`, have the producers push distinct items and the consumers report each item
/// they pop on a channel, and check that every item arrives exactly once. Wait for the
/// reports with `recv_timeout`, never `recv` or `join`: if nothing arrives for a while,
/// return `Err("stuck: …")`. The stuck threads are left behind; they end with the
/// process.
pub fn check_blocking_queue(new: MakeBlockingQueue) -> Result<(), String> {
    let _ = new;
    todo!("exercise 12.3: check_blocking_queue")
}

/// Exercise 12.4: a deadlock caught by a timeout.
///
/// Make a bank with two accounts (`new(&[1000, 1000])`), and from two threads, started
/// together, make many small transfers in opposite directions: one from 0 to 1, one from 1
/// to 0. Wait for both with a timeout; if they do not finish, return
/// `Err("deadlock: …")`. If they do, check that no money appeared or vanished.
pub fn check_bank(new: MakeBank) -> Result<(), String> {
    let _ = new;
    todo!("exercise 12.4: check_bank")
}

/// Exercise 12.5: a leak check without sleeps or thread counts.
///
/// Make a pool with a [`crate::pool::Tracker`] (`new(4, &tracker)`), give it a few jobs and
/// wait until they have run, then drop the pool. The moment `drop` returns, every worker
/// must be gone: if `tracker.alive()` is not 0, return `Err("found a bug: …")`.
pub fn check_pool(new: MakePool) -> Result<(), String> {
    let _ = new;
    todo!("exercise 12.5: check_pool")
}
