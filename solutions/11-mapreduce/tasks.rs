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

//@ solution
/// Where one task stands.
#[derive(Clone, Copy, Debug)]
enum State {
    Idle,
    Running { since: Instant },
    Committed,
}

//@ end
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
    //@ solution
    /// Each task's state, by task id.
    states: Vec<State>,
    /// How many attempts of each task were handed out.
    attempts: Vec<u32>,
    /// The kept output of each committed task. An `Option` per task, set once, is the
    /// in-memory "rename": an output is either all there or not there at all.
    outputs: Vec<Option<O>>,
    /// How many distinct tasks are committed. The phase is over when this reaches the
    /// number of tasks — counting commits instead would end it early when a straggler's
    /// late duplicate arrives before the last task's first one.
    committed: usize,
    stall_after: Duration,
    //@ skeleton
    // // Your fields.
    // _output: std::marker::PhantomData<O>,
    //@ end
}

impl<O> Tasks<O> {
    /// `count` tasks, all idle; a running attempt counts as stalled `stall_after` after it
    /// was handed out.
    pub fn new(count: usize, stall_after: Duration) -> Tasks<O> {
        //@ solution
        Tasks {
            states: vec![State::Idle; count],
            attempts: vec![0; count],
            outputs: (0..count).map(|_| None).collect(),
            committed: 0,
            stall_after,
        }
        //@ skeleton
        // let _ = (count, stall_after);
        // todo!("exercise 11.3: Tasks::new")
        //@ end
    }

    /// The next thing for a worker to do at time `now` (see the rules above).
    pub fn next(&mut self, now: Instant) -> Next {
        //@ solution
        if self.committed == self.states.len() {
            return Next::Done;
        }
        // An idle task first: work that nobody is doing beats a second copy of work that
        // somebody is (probably) still doing.
        let idle = self.states.iter().position(|s| matches!(s, State::Idle));
        let chosen = idle.or_else(|| {
            self.states.iter().position(|s| match s {
                State::Running { since } => {
                    now.saturating_duration_since(*since) >= self.stall_after
                }
                _ => false,
            })
        });
        match chosen {
            Some(task) => {
                self.states[task] = State::Running { since: now };
                self.attempts[task] += 1;
                Next::Run {
                    task,
                    attempt: self.attempts[task],
                }
            }
            // Some task is running and not yet late: wait for it to commit, fail or stall.
            None => Next::Wait,
        }
        //@ skeleton
        // let _ = now;
        // todo!("exercise 11.3: Tasks::next")
        //@ end
    }

    /// Attempt `attempt` of `task` finished with `output`. `true` if this output is kept.
    pub fn commit(&mut self, task: usize, attempt: u32, output: O) -> bool {
        //@ solution
        let _ = attempt; // any attempt may win; only the first to finish does
        if matches!(self.states[task], State::Committed) {
            return false;
        }
        self.states[task] = State::Committed;
        self.outputs[task] = Some(output);
        self.committed += 1;
        true
        //@ skeleton
        // let _ = (task, attempt, output);
        // todo!("exercise 11.3: Tasks::commit")
        //@ end
    }

    /// Attempt `attempt` of `task` failed: the task is to be run again.
    pub fn failed(&mut self, task: usize, attempt: u32) {
        //@ solution
        // Only the latest attempt's failure makes the task idle: if an older attempt (a
        // straggler) fails while a newer one runs, the newer one is still on it.
        if matches!(self.states[task], State::Running { .. }) && attempt == self.attempts[task] {
            self.states[task] = State::Idle;
        }
        //@ skeleton
        // let _ = (task, attempt);
        // todo!("exercise 11.3: Tasks::failed")
        //@ end
    }

    /// Whether every task is committed.
    pub fn is_done(&self) -> bool {
        //@ solution
        self.committed == self.states.len()
        //@ skeleton
        // todo!("exercise 11.3: Tasks::is_done")
        //@ end
    }

    /// The kept outputs, by task id, once every task is committed (`None` before). They
    /// can be taken once; commits that arrive later are still refused.
    pub fn take_outputs(&mut self) -> Option<Vec<O>> {
        //@ solution
        if !self.is_done() {
            return None;
        }
        self.outputs.iter_mut().map(Option::take).collect()
        //@ skeleton
        // todo!("exercise 11.3: Tasks::take_outputs")
        //@ end
    }
}
