//! Exercise 00.5: cancellation with a `CancellationToken`, and joining with a `JoinSet`.
//!
//! Go passes a `context.Context` and each goroutine checks `<-ctx.Done()`. tokio-util's
//! `CancellationToken` plays that role: `cancel()` on one clone wakes every
//! `cancelled().await` on all of them.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// What one worker did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    /// The worker's index in `jobs`.
    pub worker: usize,
    /// How many units of work it finished.
    pub done: u32,
    /// Whether it stopped because the token was cancelled.
    pub cancelled: bool,
}

/// Start one task per entry of `jobs` in a `tokio::task::JoinSet`. Worker `i` performs
/// `jobs[i]` units of work, one after the other; a unit of work is
/// `tokio::time::sleep(tick)`. Wait for every worker and return their reports sorted by
/// worker.
///
/// - A worker stops as soon as `token` is cancelled, even in the middle of a unit: race
///   each unit against `token.cancelled()`. A unit cut short does not count as done.
/// - A worker that finished all its units before the cancellation reports
///   `cancelled: false`.
/// - The workers run at the same time.
pub async fn run_workers(jobs: Vec<u32>, tick: Duration, token: CancellationToken) -> Vec<Report> {
    let _ = (jobs, tick, token);
    todo!("exercise 00.5: run_workers")
}
