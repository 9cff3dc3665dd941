//! Worker pools, and a [`Tracker`] that counts their live workers. Two pools stop and join
//! their workers when dropped; two leave them behind. Not an exercise: exercise 12.5
//! checks them.
//!
//! Why a tracker and not a count of the process's threads: the test process runs other
//! tests' threads at the same time, and a thread that has been told to stop has not
//! necessarily stopped yet. A count of *this pool's* workers, taken right after `drop`
//! returns, answers exactly: a pool that joins its workers has none left, every time; a
//! pool that does not still has them, every time — no sleep needed, no guess at how long
//! is long enough.

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// A job for a pool: any closure that can run on another thread.
pub type Job = Box<dyn FnOnce() + Send + 'static>;

/// A fixed set of worker threads that run submitted jobs. Dropping the pool must stop its
/// workers, and wait until they have stopped.
pub trait Pool: Send {
    /// Queue `job`; some worker will run it.
    fn submit(&self, job: Job);
}

/// How a check gets a fresh pool of `workers` threads, each of which holds one of
/// `tracker`'s guards for as long as it runs.
pub type MakePool = fn(workers: usize, tracker: &Tracker) -> Box<dyn Pool>;

/// Counts live workers: each holds an [`Alive`] guard from the moment it is spawned until
/// its thread's closure returns. Clones share one count.
#[derive(Clone, Debug, Default)]
pub struct Tracker {
    alive: Arc<AtomicUsize>,
}

impl Tracker {
    /// A tracker with no live workers.
    pub fn new() -> Tracker {
        Tracker::default()
    }

    /// A guard for one worker: counted from now until it is dropped. Take it *before*
    /// spawning the thread and move it in, so the count never misses a starting worker.
    pub fn guard(&self) -> Alive {
        self.alive.fetch_add(1, AcqRel);
        Alive {
            alive: self.alive.clone(),
        }
    }

    /// How many guards are alive now. After `JoinHandle::join` returns, the joined
    /// thread's guard has been dropped (a thread's closure, and all it captured, is
    /// dropped before the thread counts as finished), so this is exact.
    pub fn alive(&self) -> usize {
        self.alive.load(Acquire)
    }
}

/// One live worker, as far as a [`Tracker`] knows. Dropping it counts the worker gone.
#[derive(Debug)]
pub struct Alive {
    alive: Arc<AtomicUsize>,
}

impl Drop for Alive {
    fn drop(&mut self) {
        self.alive.fetch_sub(1, AcqRel);
    }
}

/// Spawn `workers` threads that take jobs from `jobs` until `run` says stop.
fn spawn_workers<M: Send + 'static>(
    workers: usize,
    tracker: &Tracker,
    jobs: Receiver<M>,
    run: fn(M) -> bool,
    wind_down: Duration,
) -> Vec<JoinHandle<()>> {
    let jobs = Arc::new(Mutex::new(jobs));
    (0..workers)
        .map(|i| {
            let alive = tracker.guard();
            let jobs = jobs.clone();
            thread::Builder::new()
                .name(format!("pool-worker-{i}"))
                .spawn(move || {
                    let _alive = alive;
                    loop {
                        // The lock is held only while waiting for a message, not while
                        // running its job.
                        let message = jobs.lock().unwrap_or_else(|e| e.into_inner()).recv();
                        let go_on = message.is_ok_and(run);
                        if !go_on {
                            break;
                        }
                    }
                    thread::sleep(wind_down);
                })
                .expect("spawn a worker")
        })
        .collect()
}

fn run_job(job: Job) -> bool {
    job();
    true
}

/// Correct: `Drop` closes the channel (drops the only sender), so each worker's `recv`
/// fails once the queue is drained and the worker returns; then it joins every worker.
#[derive(Debug)]
pub struct JoiningPool {
    jobs: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl JoiningPool {
    /// A pool of `workers` threads.
    pub fn boxed(workers: usize, tracker: &Tracker) -> Box<dyn Pool> {
        let (jobs, queue) = mpsc::channel();
        Box::new(JoiningPool {
            jobs: Some(jobs),
            workers: spawn_workers(workers, tracker, queue, run_job, Duration::ZERO),
        })
    }
}

impl Pool for JoiningPool {
    fn submit(&self, job: Job) {
        if let Some(jobs) = &self.jobs {
            let _ = jobs.send(job);
        }
    }
}

impl Drop for JoiningPool {
    fn drop(&mut self) {
        drop(self.jobs.take());
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// What [`PillPool`]'s workers receive: a job, or the order to stop.
enum Message {
    Run(Job),
    Stop,
}

fn run_message(message: Message) -> bool {
    match message {
        Message::Run(job) => {
            job();
            true
        }
        Message::Stop => false,
    }
}

/// Correct, differently: `Drop` sends one "stop" message per worker (a poison pill) behind
/// the queued jobs, then joins every worker.
pub struct PillPool {
    messages: Sender<Message>,
    workers: Vec<JoinHandle<()>>,
}

impl PillPool {
    /// A pool of `workers` threads.
    pub fn boxed(workers: usize, tracker: &Tracker) -> Box<dyn Pool> {
        let (messages, queue) = mpsc::channel();
        Box::new(PillPool {
            messages,
            workers: spawn_workers(workers, tracker, queue, run_message, Duration::ZERO),
        })
    }
}

impl Pool for PillPool {
    fn submit(&self, job: Job) {
        let _ = self.messages.send(Message::Run(job));
    }
}

impl Drop for PillPool {
    fn drop(&mut self) {
        for _ in &self.workers {
            let _ = self.messages.send(Message::Stop);
        }
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// **Planted bug: workers that never stop.** Each worker keeps a clone of the pool's
/// sender (to requeue work, say). The channel then never closes — a worker's own sender
/// keeps it open — so `recv` waits forever, and dropping the pool (which joins nobody)
/// leaves every worker behind, for the life of the process.
pub struct LeakyPool {
    jobs: Sender<Job>,
}

impl LeakyPool {
    /// A pool of `workers` threads that outlive it.
    pub fn boxed(workers: usize, tracker: &Tracker) -> Box<dyn Pool> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..workers {
            let alive = tracker.guard();
            let (own_sender, queue) = (jobs.clone(), queue.clone());
            thread::spawn(move || {
                let _alive = alive;
                let _requeue = own_sender; // keeps the channel open forever
                while let Ok(job) = queue.lock().unwrap_or_else(|e| e.into_inner()).recv() {
                    job();
                }
            });
        }
        Box::new(LeakyPool { jobs })
    }
}

impl Pool for LeakyPool {
    fn submit(&self, job: Job) {
        let _ = self.jobs.send(job);
    }
}

/// How long [`DetachedPool`]'s workers take to wind down once their channel closes (flush
/// a log, close a connection). Widened on purpose: a check that looks right after `drop`
/// sees them alive on every run; one that sleeps "long enough" first does not.
pub const WIND_DOWN: Duration = Duration::from_millis(100);

/// **Planted bug: workers told to stop but not waited for.** `Drop` closes the channel and
/// returns at once, without joining: the workers are still running (winding down) when
/// the pool is gone. Whatever they still touch — a file, a connection, a test's
/// temporary directory — may already be gone too.
pub struct DetachedPool {
    jobs: Sender<Job>,
    _workers: Vec<JoinHandle<()>>,
}

impl DetachedPool {
    /// A pool of `workers` threads, detached when it is dropped.
    pub fn boxed(workers: usize, tracker: &Tracker) -> Box<dyn Pool> {
        let (jobs, queue) = mpsc::channel();
        Box::new(DetachedPool {
            jobs,
            _workers: spawn_workers(workers, tracker, queue, run_job, WIND_DOWN),
        })
    }
}

impl Pool for DetachedPool {
    fn submit(&self, job: Job) {
        let _ = self.jobs.send(job);
    }
}

/// How long a neighbour thread (see [`Neighbourly`]) lives: longer than any check may take.
pub const NEIGHBOUR_LIFE: Duration = Duration::from_secs(30);

/// How many neighbour threads [`Neighbourly`] starts, each time: more than the threads
/// other tests could end at the same moment, so they cannot cancel out.
pub const NEIGHBOURS: usize = 16;

fn start_neighbours() {
    for _ in 0..NEIGHBOURS {
        thread::Builder::new()
            .name("another-test".into())
            .stack_size(64 * 1024)
            .spawn(|| thread::sleep(NEIGHBOUR_LIFE))
            .expect("spawn a neighbour thread");
    }
}

/// A correct pool, graded in a busy process. When the pool is made, and again when it
/// has been dropped, threads that have nothing to do with it start (and run for
/// [`NEIGHBOUR_LIFE`]) — as other tests' threads do when `cargo test` runs tests side by
/// side. A check that counts the process's threads (Go's `runtime.NumGoroutine`) sees
/// more threads after the pool is gone than before and blames the pool; a [`Tracker`]
/// counts only the pool's own workers.
pub struct Neighbourly {
    pool: Option<Box<dyn Pool>>,
}

impl Neighbourly {
    /// `pool`, with neighbours starting now and after it is dropped.
    pub fn boxed(pool: Box<dyn Pool>) -> Box<dyn Pool> {
        start_neighbours();
        Box::new(Neighbourly { pool: Some(pool) })
    }
}

impl Pool for Neighbourly {
    fn submit(&self, job: Job) {
        if let Some(pool) = &self.pool {
            pool.submit(job);
        }
    }
}

impl Drop for Neighbourly {
    fn drop(&mut self) {
        drop(self.pool.take());
        start_neighbours();
    }
}
