//! Exercise 11.4: the pool — N worker threads run the map phase, then the reduce phase,
//! taking tasks from the book of [`Tasks`], and the job ends when the last task of the
//! reduce phase commits.
//!
//! ```text
//!   run ─▶ phase(M map tasks) ─▶ regroup: bucket p of every map output ─▶
//!          phase(R reduce tasks) ─▶ the R parts, joined into one sorted output
//!
//!   phase:   worker 1 ┐                                 ┌ coordinator (run's thread)
//!            worker 2 ├─ lock; tasks.next(now); unlock ─┤ waits until tasks.is_done()
//!            …        │  run the task (no lock held)    │ then takes the outputs
//!            worker N ┘  lock; commit or failed; notify ┘
//! ```

use std::sync::Arc;
use std::time::Duration;

// What you will need:
// use crate::shuffle::{map_task, reduce_task};
// use crate::tasks::{Next, Tasks};
// use std::sync::{Condvar, Mutex};
// use std::thread;
// use std::time::Instant;
use crate::{Job, Output, Split};

/// How to run a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// How many worker threads run tasks (at least 1).
    pub workers: usize,
    /// R: how many partitions the map tasks cut their output into, and so how many
    /// reduce tasks there are (at least 1).
    pub reducers: usize,
    /// A task still running this long after it was handed out is handed out again.
    pub stall_after: Duration,
}

/// Run `job` over `splits`: one map task per split, `config.reducers` reduce tasks, on
/// `config.workers` threads, each phase as described in
/// [`Tasks`](crate::tasks::Tasks): a task whose attempt fails is run again; a task that
/// stalls is run again after `config.stall_after`, and whichever attempt commits first is
/// the one kept. Returns when the last reduce task has committed, without waiting for
/// stragglers (their threads end on their own; what they finish is dropped).
///
/// A reduce task for partition `p` starts with `job.before_reduce(p)?` (a failure there
/// fails the attempt), then [`reduce_task`](crate::shuffle::reduce_task). A map task is
/// [`map_task`](crate::shuffle::map_task).
///
/// The result must equal [`crate::sequential`] on the same splits.
pub fn run<J: Job>(job: Arc<J>, splits: Arc<Vec<Split>>, config: Config) -> Output<J::Value> {
    let _ = (job, splits, config);
    todo!("exercise 11.4: run")
}
