//! Exercise 00.5: cancellation with a `CancellationToken`, and joining with a `JoinSet`
//! — reference solution.

use std::time::Duration;

use tokio::task::JoinSet;
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

/// Run one task per entry of `jobs`; stop them all promptly when `token` is cancelled.
pub async fn run_workers(jobs: Vec<u32>, tick: Duration, token: CancellationToken) -> Vec<Report> {
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
}
