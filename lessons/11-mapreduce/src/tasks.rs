//! Exercise 11.3: the coordinator's book of tasks — who runs what, which attempt, and the
//! one output kept for each task.
//!
//! ```text
//!            next()                  commit(first attempt to finish)
//!   Idle ───────────▶ Running(attempt a, since t) ──────────────▶ Committed(output)
//!    ▲                  │   │
//!    └── failed(a) ─────┘   └── still running at t + stall_after: next() hands the
//!                               task out again as attempt a+1 (both may now finish;
//!                               the first commit wins, the other is dropped)
//! ```
//!
//! `Tasks` holds no lock and reads no clock: the pool wraps it in a `Mutex` and passes
//! `Instant::now()`, and the tests pass instants of their own, so a stall is detected the
//! same way on a fast machine, a slow one, and in a test that takes no time at all.

use std::time::{Duration, Instant};

/// What a worker should do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// Run task `task`; this is its attempt number `attempt` (1 for the first run).
    Run { task: usize, attempt: u32 },
    /// Nothing to hand out now, but the phase is not over: ask again later.
    Wait,
    /// Every task is committed: the phase is over.
    Done,
}

/// The tasks of one phase (the M map tasks, or the R reduce tasks) and their outputs.
///
/// The rules:
/// - `next` hands out an idle task if there is one (a task that was never run, or whose
///   last attempt failed); otherwise a running task whose latest attempt started at
///   least `stall_after` before `now` (a straggler: it runs again, as a new attempt);
///   otherwise `Wait`, or `Done` once every task is committed.
/// - attempts of a task are numbered 1, 2, … in the order `next` hands them out.
/// - `commit` keeps the first output of each task and returns `true`; any later
///   commit of that task (the straggler that finished after all) returns `false` and
///   changes nothing: no output is kept twice, and it does not count again.
/// - `failed` makes the task idle again, unless it is committed or a newer attempt of
///   it is running.
pub struct Tasks<O> {
    // Your fields.
    _output: std::marker::PhantomData<O>,
}

impl<O> Tasks<O> {
    /// `count` tasks, all idle; a running attempt counts as stalled `stall_after` after it
    /// was handed out.
    pub fn new(count: usize, stall_after: Duration) -> Tasks<O> {
        let _ = (count, stall_after);
        todo!("exercise 11.3: Tasks::new")
    }

    /// The next thing for a worker to do at time `now` (see the rules above).
    pub fn next(&mut self, now: Instant) -> Next {
        let _ = now;
        todo!("exercise 11.3: Tasks::next")
    }

    /// Attempt `attempt` of `task` finished with `output`. `true` if this output is kept.
    pub fn commit(&mut self, task: usize, attempt: u32, output: O) -> bool {
        let _ = (task, attempt, output);
        todo!("exercise 11.3: Tasks::commit")
    }

    /// Attempt `attempt` of `task` failed: the task is to be run again.
    pub fn failed(&mut self, task: usize, attempt: u32) {
        let _ = (task, attempt);
        todo!("exercise 11.3: Tasks::failed")
    }

    /// Whether every task is committed.
    pub fn is_done(&self) -> bool {
        todo!("exercise 11.3: Tasks::is_done")
    }

    /// The kept outputs, by task id, once every task is committed (`None` before). They
    /// can be taken once; commits that arrive later are still refused.
    pub fn take_outputs(&mut self) -> Option<Vec<O>> {
        todo!("exercise 11.3: Tasks::take_outputs")
    }
}
