//! Exercises 04.1–04.3: a pool of worker threads over a bounded queue — reference
//! solution.

use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender, TrySendError, bounded, unbounded};

use crate::{JobError, JobId, JobResult, Shutdown, SubmitError, panic_message};

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
    /// Start `workers` threads over a queue that holds at most `queue` jobs.
    pub fn new(workers: usize, queue: usize) -> Pool<T> {
        assert!(workers > 0, "a pool needs at least one worker");
        // Bounded: when the workers fall behind, `submit` waits. Without the bound a
        // burst of submissions turns into a burst of memory. (A capacity of 0 is a
        // rendezvous: `submit` waits until a worker takes the job.)
        let (jobs, queue) = bounded::<(JobId, Job<T>)>(queue);
        // Unbounded: a worker must never block on reporting a result, or a caller that
        // reads results only after `close` would deadlock with its own pool. Results are
        // bounded anyway, by the number of jobs submitted.
        let (report, results) = unbounded();
        let workers = (0..workers)
            .map(|i| {
                // crossbeam's receiver is multi-consumer: each worker holds a clone and
                // competes for jobs. No `Mutex<Receiver>` — whose guard, in
                // `while let Ok(job) = rx.lock().unwrap().recv()`, would live through the
                // whole loop body and let one job run at a time (the Rust Book's pool).
                let queue = queue.clone();
                let report = report.clone();
                thread::Builder::new()
                    .name(format!("pool-worker-{i}"))
                    .spawn(move || work(queue, report))
                    .expect("cannot spawn a worker thread")
            })
            .collect();
        Pool {
            jobs: Some(jobs),
            queue,
            results,
            workers,
            next_id: AtomicU64::new(0),
            discarded: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Queue a job, waiting while the queue is full; returns the job's id.
    pub fn submit<F>(&self, job: F) -> Result<JobId, SubmitError<Job<T>>>
    where
        F: FnOnce() -> T + Send + 'static,
    {
        // Boxing erases the closure's type, so one queue carries every kind of job.
        let job: Job<T> = Box::new(job);
        let Some(jobs) = &self.jobs else {
            return Err(SubmitError::Closed(job));
        };
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        // `send` waits while the queue is full: the backpressure. It fails only when every
        // receiver is gone, which cannot happen while we hold `self.queue`.
        jobs.send((id, job))
            .map_err(|e| SubmitError::Closed(e.into_inner().1))?;
        Ok(id)
    }

    /// Queue a job if there is room now, without waiting.
    pub fn try_submit<F>(&self, job: F) -> Result<JobId, SubmitError<Job<T>>>
    where
        F: FnOnce() -> T + Send + 'static,
    {
        let job: Job<T> = Box::new(job);
        let Some(jobs) = &self.jobs else {
            return Err(SubmitError::Closed(job));
        };
        // The id is taken before we know the queue has room, so a `Full` leaves a gap in
        // the ids. Handing out ids only on success would need a lock around "take an id
        // and send", and `submit` would then hold that lock while it waits for room —
        // making `try_submit` wait too, which it promises never to do.
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        match jobs.try_send((id, job)) {
            Ok(()) => Ok(id),
            Err(TrySendError::Full((_, job))) => Err(SubmitError::Full(job)),
            Err(TrySendError::Disconnected((_, job))) => Err(SubmitError::Closed(job)),
        }
    }

    /// The results, as the jobs finish.
    pub fn results(&self) -> &Receiver<JobResult<T>> {
        &self.results
    }

    /// Stop taking jobs, run every queued job, join the workers, return untaken results.
    pub fn close(mut self) -> Vec<JobResult<T>> {
        self.join_workers();
        let mut results: Vec<JobResult<T>> = self.results.try_iter().collect();
        results.sort_by_key(|r| r.id);
        results
    }

    /// Discard the queued jobs, let running ones finish, join the workers, report.
    pub fn shutdown_now(mut self) -> Shutdown<T> {
        // Close the queue first, so nothing new arrives while we empty it.
        self.jobs = None;
        // Take every job still queued. A worker may take one at the same moment; that is
        // fine — that job runs, and is not counted as discarded.
        for _job in self.queue.try_iter() {
            self.discarded.fetch_add(1, Ordering::Relaxed);
        }
        self.join_workers();
        let mut results: Vec<JobResult<T>> = self.results.try_iter().collect();
        results.sort_by_key(|r| r.id);
        Shutdown {
            discarded: self.discarded.load(Ordering::Relaxed),
            results,
        }
    }
}

impl<T> Pool<T> {
    /// Close the queue and wait for every worker to exit.
    fn join_workers(&mut self) {
        // Dropping the only sender closes the queue. The workers then take what is left
        // and stop: their `recv` fails once the queue is closed *and* empty. (Joining
        // before dropping the sender would wait forever.)
        self.jobs = None;
        for worker in self.workers.drain(..) {
            // A worker only panics if something outside a job does; pass it on.
            if let Err(panic) = worker.join() {
                panic::resume_unwind(panic);
            }
        }
    }
}

/// One worker's life: take jobs until the queue is closed and empty.
fn work<T>(queue: Receiver<(JobId, Job<T>)>, report: Sender<JobResult<T>>) {
    for (id, job) in queue {
        // `AssertUnwindSafe`: the job owns everything it touches, and after a panic we
        // drop what is left of it; nothing half-updated is observed.
        let outcome = panic::catch_unwind(AssertUnwindSafe(job))
            .map_err(|payload| JobError::Panicked(panic_message(payload.as_ref())));
        // The pool keeps a receiver until it is dropped, so this only fails while the
        // pool itself is being torn down; then nobody wants the result.
        let _ = report.send(JobResult { id, outcome });
    }
}

impl<T> Drop for Pool<T> {
    fn drop(&mut self) {
        // After `close` or `shutdown_now` this finds nothing left to do.
        self.join_workers();
    }
}
