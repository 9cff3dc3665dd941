//! Exercises 04.1–04.3: a pool of worker threads over a bounded queue.
//!
//! ```text
//!  submit ──▶ [ job job job ]  (bounded)  ──▶ worker 0 ──┐
//!                                          ├──▶ worker 1 ──┼──▶ results (unbounded)
//!                                          └──▶ worker 2 ──┘
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::thread::JoinHandle;

use crossbeam_channel::{Receiver, Sender};

use crate::{JobId, JobResult, Shutdown, SubmitError};

/// A job: a boxed closure, run once on some worker.
pub type Job<T> = Box<dyn FnOnce() -> T + Send + 'static>;

/// A fixed set of worker threads taking jobs from one bounded queue.
pub struct Pool<T> {
    /// The sending half of the job queue; `None` once the pool has begun to close.
    jobs: Option<Sender<(JobId, Job<T>)>>,
    /// The receiving half, kept so `shutdown_now` can empty the queue itself.
    queue: Receiver<(JobId, Job<T>)>,
    /// Every job's result, in the order jobs finish.
    results: Receiver<JobResult<T>>,
    /// The worker threads, joined when the pool closes.
    workers: Vec<JoinHandle<()>>,
    /// The id the next job gets.
    next_id: AtomicU64,
    /// Jobs discarded by `shutdown_now`.
    discarded: Arc<AtomicUsize>,
}

impl<T: Send + 'static> Pool<T> {
    /// Exercise 04.1. Start `workers` threads over a queue that holds at most `queue` jobs.
    ///
    /// Each worker takes jobs from the queue until it is closed and empty. It runs each job
    /// inside `std::panic::catch_unwind`, so a panicking job becomes a
    /// `JobError::Panicked(message)` result (`crate::panic_message` reads the payload) and
    /// the worker goes on to the next job. Every job yields exactly one `JobResult`.
    ///
    /// Panics if `workers` is 0.
    pub fn new(workers: usize, queue: usize) -> Pool<T> {
        let _ = (workers, queue);
        todo!("exercise 04.1: Pool::new")
    }

    /// Exercise 04.1. Queue a job (boxed: `Box::new(job)` is a [`Job<T>`]), waiting while
    /// the queue is full; returns the job's id. `Err(SubmitError::Closed(job))` if the
    /// pool is closing.
    pub fn submit<F>(&self, job: F) -> Result<JobId, SubmitError<Job<T>>>
    where
        F: FnOnce() -> T + Send + 'static,
    {
        let _ = (job, &self.jobs, &self.next_id);
        todo!("exercise 04.1: Pool::submit")
    }

    /// Exercise 04.2. Queue a job if there is room now; `Err(SubmitError::Full(job))` if
    /// the queue is full — the boxed job comes back — and `Err(SubmitError::Closed(job))`
    /// if the pool is closing. Never waits.
    pub fn try_submit<F>(&self, job: F) -> Result<JobId, SubmitError<Job<T>>>
    where
        F: FnOnce() -> T + Send + 'static,
    {
        let _ = job;
        todo!("exercise 04.2: Pool::try_submit")
    }

    /// The results, as the jobs finish. (Results nobody takes from here are returned by
    /// `close` and `shutdown_now`.)
    pub fn results(&self) -> &Receiver<JobResult<T>> {
        &self.results
    }

    /// Exercise 04.3. Stop taking jobs, let every queued job run, wait for every worker to
    /// exit, and return the results nobody has taken yet, sorted by id.
    pub fn close(mut self) -> Vec<JobResult<T>> {
        let _ = (&mut self.workers, &self.results);
        todo!("exercise 04.3: Pool::close")
    }

    /// Exercise 04.3. Stop taking jobs, and discard — drop without running — the queued
    /// jobs that have not started, at once, even while every worker is busy; let the jobs
    /// already running finish, wait for every worker to exit, and report.
    pub fn shutdown_now(mut self) -> Shutdown<T> {
        let _ = (&mut self.workers, &self.queue, &self.discarded);
        todo!("exercise 04.3: Pool::shutdown_now")
    }
}

impl<T> Drop for Pool<T> {
    /// Exercise 04.1. A pool that goes out of scope must not leave threads behind: close
    /// the queue (drop the sender) and join every worker. Queued jobs still run.
    fn drop(&mut self) {
        todo!("exercise 04.1: Pool::drop")
    }
}
