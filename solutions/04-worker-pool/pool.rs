//! Exercises 04.1–04.3: a pool of worker threads over a bounded queue.
//!
//! ```text
//!  submit ──▶ [ job job job ]  (bounded)  ──▶ worker 0 ──┐
//!                                          ├──▶ worker 1 ──┼──▶ results (unbounded)
//!                                          └──▶ worker 2 ──┘
//! ```

//@ solution
use std::panic::{self, AssertUnwindSafe};
//@ end
use std::sync::Arc;
//@ solution
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
//@ skeleton
// use std::sync::atomic::{AtomicU64, AtomicUsize};
// use std::thread::JoinHandle;
//@ end

//@ solution
use crossbeam_channel::{Receiver, Sender, TrySendError, bounded, unbounded};
//@ skeleton
// use crossbeam_channel::{Receiver, Sender};
//@ end

//@ solution
use crate::{JobError, JobId, JobResult, Shutdown, SubmitError, panic_message};
//@ skeleton
// use crate::{JobId, JobResult, Shutdown, SubmitError};
//@ end

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
        //@ solution
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
        //@ skeleton
        // let _ = (workers, queue);
        // todo!("exercise 04.1: Pool::new")
        //@ end
    }

    /// Exercise 04.1. Queue a job (boxed: `Box::new(job)` is a [`Job<T>`]), waiting while
    /// the queue is full; returns the job's id. `Err(SubmitError::Closed(job))` if the
    /// pool is closing.
    pub fn submit<F>(&self, job: F) -> Result<JobId, SubmitError<Job<T>>>
    where
        F: FnOnce() -> T + Send + 'static,
    {
        //@ solution
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
        //@ skeleton
        // let _ = (job, &self.jobs, &self.next_id);
        // todo!("exercise 04.1: Pool::submit")
        //@ end
    }

    /// Exercise 04.2. Queue a job if there is room now; `Err(SubmitError::Full(job))` if
    /// the queue is full — the boxed job comes back — and `Err(SubmitError::Closed(job))`
    /// if the pool is closing. Never waits.
    pub fn try_submit<F>(&self, job: F) -> Result<JobId, SubmitError<Job<T>>>
    where
        F: FnOnce() -> T + Send + 'static,
    {
        //@ solution
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
        //@ skeleton
        // let _ = job;
        // todo!("exercise 04.2: Pool::try_submit")
        //@ end
    }

    /// The results, as the jobs finish. (Results nobody takes from here are returned by
    /// `close` and `shutdown_now`.)
    pub fn results(&self) -> &Receiver<JobResult<T>> {
        &self.results
    }

    /// Exercise 04.3. Stop taking jobs, let every queued job run, wait for every worker to
    /// exit, and return the results nobody has taken yet, sorted by id.
    pub fn close(mut self) -> Vec<JobResult<T>> {
        //@ solution
        self.join_workers();
        let mut results: Vec<JobResult<T>> = self.results.try_iter().collect();
        results.sort_by_key(|r| r.id);
        results
        //@ skeleton
        // let _ = (&mut self.workers, &self.results);
        // todo!("exercise 04.3: Pool::close")
        //@ end
    }

    /// Exercise 04.3. Stop taking jobs, and discard — drop without running — the queued
    /// jobs that have not started, at once, even while every worker is busy; let the jobs
    /// already running finish, wait for every worker to exit, and report.
    pub fn shutdown_now(mut self) -> Shutdown<T> {
        //@ solution
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
            // A worker only panics if something outside a job does; pass it on — unless
            // the pool is being dropped because of another panic: a second panic while
            // one unwinds aborts the process.
            if let Err(panic) = worker.join()
                && !thread::panicking()
            {
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
        //@ skeleton
        // let _ = (&mut self.workers, &self.queue, &self.discarded);
        // todo!("exercise 04.3: Pool::shutdown_now")
        //@ end
    }
}

impl<T> Drop for Pool<T> {
    //@ solution
    //@ skeleton
    // /// Exercise 04.1. A pool that goes out of scope must not leave threads behind: close
    // /// the queue (drop the sender) and join every worker. Queued jobs still run.
    //@ end
    fn drop(&mut self) {
        //@ solution
        // After `close` or `shutdown_now` this finds nothing left to do.
        self.join_workers();
        //@ skeleton
        // todo!("exercise 04.1: Pool::drop")
        //@ end
    }
}
