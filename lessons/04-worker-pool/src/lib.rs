//! Lesson 04: a worker pool, on threads and on tokio.
//!
//! The types both pools share are defined here; the exercise files add the pools. You
//! edit the exercise files only; this file swaps in the reference solution when the crate
//! is built with `--features solution`.

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/04-worker-pool/pool.rs"
)]
pub mod pool;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/04-worker-pool/async_pool.rs"
)]
pub mod async_pool;

use std::fmt;

/// Each accepted job gets an id, unique in its pool and increasing in the order the jobs
/// were submitted (a rejected submission may leave a gap).
pub type JobId = u64;

/// Why a job produced no value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobError {
    /// The job panicked, with this message.
    Panicked(String),
}

/// What became of one job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobResult<T> {
    pub id: JobId,
    pub outcome: Result<T, JobError>,
}

/// Why a job was not accepted. The job comes back (boxed, as the pool stores it: a boxed
/// job is a job too), so the caller can run it, retry, or drop it.
pub enum SubmitError<J> {
    /// The queue is full (`try_submit` only: `submit` waits instead).
    Full(J),
    /// The pool is closing or closed.
    Closed(J),
}

impl<J> SubmitError<J> {
    /// The job that was not accepted.
    pub fn into_job(self) -> J {
        match self {
            SubmitError::Full(job) | SubmitError::Closed(job) => job,
        }
    }

    /// Whether the queue was full.
    pub fn is_full(&self) -> bool {
        matches!(self, SubmitError::Full(_))
    }
}

impl<J> fmt::Debug for SubmitError<J> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SubmitError::Full(_) => "Full(..)",
            SubmitError::Closed(_) => "Closed(..)",
        })
    }
}

/// What `shutdown_now` reports.
#[derive(Debug)]
pub struct Shutdown<T> {
    /// Jobs that were queued but never started, and never will be.
    pub discarded: usize,
    /// The results of every job that did run and that nobody had taken yet, by id.
    pub results: Vec<JobResult<T>>,
}

/// The message of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic without a message)".to_string())
}
