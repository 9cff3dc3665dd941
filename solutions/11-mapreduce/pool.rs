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
//@ solution
use std::sync::{Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::Instant;
//@ end
use std::time::Duration;

//@ solution
use crate::shuffle::{map_task, reduce_task};
use crate::tasks::{Next, Tasks};
//@ skeleton
// // What you will need:
// // use crate::shuffle::{map_task, reduce_task};
// // use crate::tasks::{Next, Tasks};
// // use std::sync::{Condvar, Mutex};
// // use std::thread;
// // use std::time::Instant;
//@ end
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
    //@ solution
    let reducers = config.reducers;
    let maps = {
        let job = job.clone();
        phase(splits.len(), config, move |i| {
            map_task(&*job, &splits[i], reducers)
        })
    };

    // The shuffle proper: reduce task p reads bucket p of every map task's output.
    let mut by_partition: Vec<Vec<Output<J::Value>>> = (0..reducers).map(|_| Vec::new()).collect();
    for buckets in maps {
        for (p, bucket) in buckets.into_iter().enumerate() {
            by_partition[p].push(bucket);
        }
    }
    let by_partition = Arc::new(by_partition);

    let parts = {
        let job = job.clone();
        phase(reducers, config, move |p| {
            job.before_reduce(p)?;
            Ok(reduce_task(&*job, &by_partition[p]))
        })
    };
    // Each key was reduced by exactly one task, so the parts never share a key.
    parts.into_iter().flatten().collect()
    //@ skeleton
    // let _ = (job, splits, config);
    // todo!("exercise 11.4: run")
    //@ end
}
//@ solution

/// What the workers of one phase and its coordinator share.
struct Shared<O> {
    /// The book of tasks. A `std::sync::Mutex`: it is held only to ask for a task or
    /// to report one, never while a task runs — holding it across `run_task` would make
    /// the pool run one task at a time however many threads it has.
    tasks: Mutex<Tasks<O>>,
    /// Signalled after every commit or failure: wakes the coordinator (is the phase
    /// over?) and the idle workers (is there a task again?).
    changed: Condvar,
}

impl<O> Shared<O> {
    fn lock(&self) -> MutexGuard<'_, Tasks<O>> {
        // A worker that panicked while holding the lock left the book consistent (every
        // method of Tasks finishes its update before it can panic), so carry on.
        self.tasks.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Run `count` tasks on `config.workers` new threads; return the kept outputs by task id
/// once every task has committed.
///
/// The workers are plain `thread::spawn`ed threads, not scoped ones, on purpose: a scope
/// would wait for a stalled straggler, and the phase must end when the re-run commits.
/// So everything a worker touches is owned (`Arc`s, `'static`).
fn phase<O, F>(count: usize, config: Config, run_task: F) -> Vec<O>
where
    O: Send + 'static,
    F: Fn(usize) -> Result<O, crate::Failed> + Send + Sync + 'static,
{
    let shared = Arc::new(Shared {
        tasks: Mutex::new(Tasks::new(count, config.stall_after)),
        changed: Condvar::new(),
    });
    let run_task = Arc::new(run_task);
    // An idle worker wakes at least this often to look for stalled tasks: nobody
    // notifies it when a running task *becomes* late.
    let poll = (config.stall_after / 4).clamp(Duration::from_millis(1), Duration::from_millis(50));

    for _ in 0..config.workers.max(1) {
        let shared = shared.clone();
        let run_task = run_task.clone();
        thread::spawn(move || {
            loop {
                let (task, attempt) = {
                    let mut tasks = shared.lock();
                    loop {
                        match tasks.next(Instant::now()) {
                            Next::Run { task, attempt } => break (task, attempt),
                            Next::Done => return,
                            Next::Wait => {
                                tasks = shared
                                    .changed
                                    .wait_timeout(tasks, poll)
                                    .unwrap_or_else(|e| e.into_inner())
                                    .0;
                            }
                        }
                    }
                }; // the lock is released here, before the task runs

                let outcome = run_task(task);

                let mut tasks = shared.lock();
                match outcome {
                    Ok(output) => {
                        tasks.commit(task, attempt, output);
                    }
                    Err(_) => tasks.failed(task, attempt),
                }
                drop(tasks);
                shared.changed.notify_all();
            }
        });
    }

    let mut tasks = shared.lock();
    loop {
        if let Some(outputs) = tasks.take_outputs() {
            // Wake the idle workers so they see Done and end.
            shared.changed.notify_all();
            return outputs;
        }
        tasks = shared
            .changed
            .wait(tasks)
            .unwrap_or_else(|e| e.into_inner());
    }
}
//@ end
