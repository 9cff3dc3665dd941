//! Exercise 00.5: cancellation with a `CancellationToken`, and joining with a `JoinSet`.
//!
//! Go passes a `context.Context` and each goroutine checks `<-ctx.Done()`. tokio-util's
//! `CancellationToken` plays that role: `cancel()` on one clone wakes every
//! `cancelled().await` on all of them.

use std::time::Duration;

//@ solution
use tokio::task::JoinSet;
//@ end
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
    //@ solution
    let mut set = JoinSet::new();
    for (worker, units) in jobs.into_iter().enumerate() {
        // Each task gets its own clone; cancelling any clone cancels them all.
        let token = token.clone();
        set.spawn(async move {
            let mut done = 0;
            while done < units {
                tokio::select! {
                    // `biased;` checks the token first, so a worker whose unit ends at the
                    // very instant of the cancellation reports the cancellation.
                    biased;
                    _ = token.cancelled() => {
                        return Report { worker, done, cancelled: true };
                    }
                    // The unit of work. If the token wins the race, this sleep is dropped
                    // half-way: that is the "prompt" in "stop promptly". Checking
                    // `token.is_cancelled()` between units instead would let every unit
                    // run to its end first.
                    _ = tokio::time::sleep(tick) => done += 1,
                }
            }
            Report {
                worker,
                done,
                cancelled: false,
            }
        });
    }

    let mut reports = Vec::with_capacity(set.len());
    // `join_next` yields tasks in the order they *finish*. A panicking worker would
    // surface here as an `Err`; we pass the panic on rather than hide it.
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok(report) => reports.push(report),
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("a worker was cancelled from outside: {e}"),
        }
    }
    reports.sort_by_key(|r| r.worker);
    reports
    //@ skeleton
    // let _ = (jobs, tick, token);
    // todo!("exercise 00.5: run_workers")
    //@ end
}
