//! Exercise 04.4: the same pool on tokio — worker tasks, async jobs.

use std::future::Future;
//@ solution
use std::panic::AssertUnwindSafe;
//@ end
use std::pin::Pin;
use std::sync::Arc;
//@ solution
use std::sync::atomic::{AtomicU64, Ordering};
//@ skeleton
// use std::sync::atomic::AtomicU64;
//@ end

//@ solution
use futures::FutureExt;
use tokio::sync::mpsc::error::TrySendError;
//@ end
use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;

//@ solution
use crate::{JobError, JobId, JobResult, Shutdown, SubmitError, panic_message};
//@ skeleton
// use crate::{JobId, JobResult, Shutdown, SubmitError};
//@ end

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
        //@ solution
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
        //@ skeleton
        // let _ = (workers, queue);
        // todo!("exercise 04.4: AsyncPool::new")
        //@ end
    }

    /// Queue a job, waiting while the queue is full.
    pub async fn submit<F>(&self, job: F) -> Result<JobId, SubmitError<AsyncJob<T>>>
    where
        F: Future<Output = T> + Send + 'static,
    {
        //@ solution
        let job: AsyncJob<T> = Box::pin(job);
        let Some(jobs) = &self.jobs else {
            return Err(SubmitError::Closed(job));
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        jobs.send((id, job))
            .await
            .map_err(|e| SubmitError::Closed(e.0.1))?;
        Ok(id)
        //@ skeleton
        // let _ = (&job, &self.jobs, &self.next_id);
        // todo!("exercise 04.4: AsyncPool::submit")
        //@ end
    }

    /// Queue a job if there is room now; never waits.
    pub fn try_submit<F>(&self, job: F) -> Result<JobId, SubmitError<AsyncJob<T>>>
    where
        F: Future<Output = T> + Send + 'static,
    {
        //@ solution
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
        //@ skeleton
        // drop(job);
        // todo!("exercise 04.4: AsyncPool::try_submit")
        //@ end
    }

    /// Stop taking jobs, run every queued job, wait for every worker task to end, and
    /// return the results, sorted by id.
    pub async fn close(mut self) -> Vec<JobResult<T>> {
        //@ solution
        self.join_workers().await;
        self.take_results()
        //@ skeleton
        // let _ = (&mut self.workers, &mut self.results);
        // todo!("exercise 04.4: AsyncPool::close")
        //@ end
    }

    /// Stop taking jobs, and discard the queued ones — drop them unrun, at once, whatever
    /// the workers are doing: busy with long jobs, or idle, waiting for the next. Let the
    /// jobs already running finish, wait for every worker task to end, and report how many
    /// were discarded, with the results nobody has taken, sorted by id.
    pub async fn shutdown_now(mut self) -> Shutdown<T> {
        //@ solution
        // Close the queue first: only then can we be sure to get its lock. A worker holds
        // the lock not just while it takes a job but for as long as it waits for one: an
        // idle worker sits in `recv().await` with the lock held, and that wait ends only
        // when a job arrives or the queue is closed. Taking the lock with the queue still
        // open would wait for a worker that is waiting for us. Closed, the queue wakes it
        // with `None`; it lets go of the lock and ends.
        self.jobs = None;
        // Then empty the queue ourselves, now, rather than leaving the queued jobs for
        // workers to find: a queued job may own things (a buffer, a connection) that
        // should be released at once, not when some worker is done with a long job. A
        // worker busy with a job holds no lock. One that is taking a job as we arrive
        // gets it first; that job runs, and is not counted.
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
        //@ skeleton
        // let _ = (&mut self.workers, &self.queue);
        // todo!("exercise 04.4: AsyncPool::shutdown_now")
        //@ end
    }
}

impl<T> Drop for AsyncPool<T> {
    //@ solution
    //@ skeleton
    // /// A `Drop` cannot `.await`, so a pool dropped without `close` cannot wait for its
    // /// workers. It must not leave them running either: abort every worker task (their
    // /// jobs are cancelled).
    //@ end
    fn drop(&mut self) {
        //@ solution
        // After `close` or `shutdown_now` there is nothing left here. Otherwise we cannot
        // wait (no `.await` in `drop`), and leaving the tasks running would let the pool
        // outlive its owner: abort them. An aborted task is cancelled at its next `.await`.
        for worker in self.workers.drain(..) {
            worker.abort();
        }
        //@ skeleton
        // todo!("exercise 04.4: AsyncPool::drop")
        //@ end
    }
}
