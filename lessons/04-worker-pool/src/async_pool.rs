//! Exercise 04.4: the same pool on tokio — worker tasks, async jobs.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;

use crate::{JobId, JobResult, Shutdown, SubmitError};

/// An async job: a boxed future, run once by some worker task.
pub type AsyncJob<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// The queue's receiving half, shared by the workers.
type SharedQueue<T> = Arc<Mutex<mpsc::Receiver<(JobId, AsyncJob<T>)>>>;

/// A fixed set of worker tasks taking async jobs from one bounded queue.
pub struct AsyncPool<T> {
    /// The sending half of the job queue; `None` once the pool has begun to close.
    jobs: Option<mpsc::Sender<(JobId, AsyncJob<T>)>>,
    /// The receiving half, shared with the workers (a tokio `Receiver` has one owner, so
    /// they take turns at it through an async mutex); `shutdown_now` empties it too.
    queue: SharedQueue<T>,
    /// Every job's result, in the order jobs finish.
    results: mpsc::UnboundedReceiver<JobResult<T>>,
    /// The worker tasks.
    workers: Vec<JoinHandle<()>>,
    next_id: AtomicU64,
}

impl<T: Send + 'static> AsyncPool<T> {
    /// Start `workers` tasks over a queue of at most `queue` jobs (a `queue` of 0 counts
    /// as 1: tokio's channels need room for one). The workers share the receiver through
    /// `self.queue` and take turns at it. A panicking job becomes a `JobError::Panicked`
    /// result (`futures::FutureExt::catch_unwind`), and its worker goes on.
    ///
    /// The trap of the Rust Book's thread pool waits here too: a worker must hold the
    /// queue's lock only while it *takes* a job, never while it runs one.
    pub fn new(workers: usize, queue: usize) -> AsyncPool<T> {
        let _ = (workers, queue);
        todo!("exercise 04.4: AsyncPool::new")
    }

    /// Queue a job, waiting while the queue is full.
    pub async fn submit<F>(&self, job: F) -> Result<JobId, SubmitError<AsyncJob<T>>>
    where
        F: Future<Output = T> + Send + 'static,
    {
        let _ = (&job, &self.jobs, &self.next_id);
        todo!("exercise 04.4: AsyncPool::submit")
    }

    /// Queue a job if there is room now; never waits.
    pub fn try_submit<F>(&self, job: F) -> Result<JobId, SubmitError<AsyncJob<T>>>
    where
        F: Future<Output = T> + Send + 'static,
    {
        drop(job);
        todo!("exercise 04.4: AsyncPool::try_submit")
    }

    /// Stop taking jobs, run every queued job, wait for every worker task to end, and
    /// return the results, sorted by id.
    pub async fn close(mut self) -> Vec<JobResult<T>> {
        let _ = (&mut self.workers, &mut self.results);
        todo!("exercise 04.4: AsyncPool::close")
    }

    /// Stop taking jobs, and discard the queued ones — drop them unrun, at once, whatever
    /// the workers are doing: busy with long jobs, or idle, waiting for the next. Let the
    /// jobs already running finish, wait for every worker task to end, and report how many
    /// were discarded, with the results nobody has taken, sorted by id.
    pub async fn shutdown_now(mut self) -> Shutdown<T> {
        let _ = (&mut self.workers, &self.queue);
        todo!("exercise 04.4: AsyncPool::shutdown_now")
    }
}

impl<T> Drop for AsyncPool<T> {
    /// A `Drop` cannot `.await`, so a pool dropped without `close` cannot wait for its
    /// workers. It must not leave them running either: abort every worker task (their
    /// jobs are cancelled).
    fn drop(&mut self) {
        todo!("exercise 04.4: AsyncPool::drop")
    }
}
