//! Exercise 04.4: the same pool on tokio — worker tasks, async jobs — reference solution.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::FutureExt;
use tokio::sync::mpsc::error::TrySendError;
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;

use crate::{JobError, JobId, JobResult, Shutdown, SubmitError, panic_message};

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
    /// Start `workers` tasks over a queue of at most `queue` jobs.
    pub fn new(workers: usize, queue: usize) -> AsyncPool<T> {
        assert!(workers > 0, "a pool needs at least one worker");
        let (jobs, queue) = mpsc::channel::<(JobId, AsyncJob<T>)>(queue.max(1));
        let queue = Arc::new(Mutex::new(queue));
        let (report, results) = mpsc::unbounded_channel();
        let workers = (0..workers)
            .map(|_| {
                let (queue, report) = (Arc::clone(&queue), report.clone());
                tokio::spawn(async move {
                    loop {
                        // Take one job, holding the lock only for that. The block ends
                        // the guard's life before the job runs. Written as
                        // `while let Some(job) = queue.lock().await.recv().await { … }`
                        // the guard would live through the loop body — the job — and the
                        // workers would run one job at a time.
                        let next = {
                            let mut queue = queue.lock().await;
                            queue.recv().await
                        };
                        let Some((id, job)) = next else {
                            return; // closed and empty
                        };

                        let outcome = AssertUnwindSafe(job)
                            .catch_unwind()
                            .await
                            .map_err(|payload| JobError::Panicked(panic_message(payload.as_ref())));
                        let _ = report.send(JobResult { id, outcome });
                    }
                })
            })
            .collect();
        AsyncPool {
            jobs: Some(jobs),
            queue,
            results,
            workers,
            next_id: AtomicU64::new(0),
        }
    }

    /// Queue a job, waiting while the queue is full.
    pub async fn submit<F>(&self, job: F) -> Result<JobId, SubmitError<AsyncJob<T>>>
    where
        F: Future<Output = T> + Send + 'static,
    {
        let job: AsyncJob<T> = Box::pin(job);
        let Some(jobs) = &self.jobs else {
            return Err(SubmitError::Closed(job));
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        jobs.send((id, job))
            .await
            .map_err(|e| SubmitError::Closed(e.0.1))?;
        Ok(id)
    }

    /// Queue a job if there is room now; never waits.
    pub fn try_submit<F>(&self, job: F) -> Result<JobId, SubmitError<AsyncJob<T>>>
    where
        F: Future<Output = T> + Send + 'static,
    {
        let job: AsyncJob<T> = Box::pin(job);
        let Some(jobs) = &self.jobs else {
            return Err(SubmitError::Closed(job));
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        match jobs.try_send((id, job)) {
            Ok(()) => Ok(id),
            Err(TrySendError::Full((_, job))) => Err(SubmitError::Full(job)),
            Err(TrySendError::Closed((_, job))) => Err(SubmitError::Closed(job)),
        }
    }

    /// Run every queued job, wait for the workers, return the results by id.
    pub async fn close(mut self) -> Vec<JobResult<T>> {
        self.join_workers().await;
        self.take_results()
    }

    /// Drop the queued jobs unrun, let running ones finish, wait for the workers, report.
    pub async fn shutdown_now(mut self) -> Shutdown<T> {
        self.jobs = None;
        // Empty the queue ourselves, now, rather than leaving the queued jobs for workers
        // to find: a queued job may own things (a buffer, a connection) that should be
        // released at once, not when some worker is done with a long job. The lock is
        // free unless a worker is taking a job this very moment — workers hold it only
        // for that — and then that job runs, and is not counted.
        let discarded = {
            let mut queue = self.queue.lock().await;
            queue.close();
            let mut n = 0;
            while queue.try_recv().is_ok() {
                n += 1; // dropped unrun
            }
            n
        };
        self.join_workers().await;
        Shutdown {
            discarded,
            results: self.take_results(),
        }
    }

    fn take_results(&mut self) -> Vec<JobResult<T>> {
        let mut results = Vec::new();
        while let Ok(result) = self.results.try_recv() {
            results.push(result);
        }
        results.sort_by_key(|r| r.id);
        results
    }

    /// Close the queue and wait until every worker has drained it and ended.
    async fn join_workers(&mut self) {
        self.jobs = None;
        for worker in self.workers.drain(..) {
            if let Err(e) = worker.await
                && e.is_panic()
            {
                std::panic::resume_unwind(e.into_panic());
            }
        }
    }
}

impl<T> Drop for AsyncPool<T> {
    fn drop(&mut self) {
        // After `close` or `shutdown_now` there is nothing left here. Otherwise we cannot
        // wait (no `.await` in `drop`), and leaving the tasks running would let the pool
        // outlive its owner: abort them. An aborted task is cancelled at its next `.await`.
        for worker in self.workers.drain(..) {
            worker.abort();
        }
    }
}
