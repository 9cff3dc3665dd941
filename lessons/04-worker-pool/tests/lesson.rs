//! Lesson 04's tests, in the order of the chapter's exercises.
//!
//! The thread pool's tests measure concurrency with `kit::Gate` (a barrier that gives up)
//! and `kit::HighWater`, and check that worker threads are gone with a thread-local guard
//! that each worker thread carries until it exits. The tokio pool's tests run on a paused
//! clock.

use std::cell::RefCell;
use std::collections::HashSet;
use std::future::Future;
use std::ops::Deref;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use futures::FutureExt;
use kit::{Gate, HighWater, settle};
use lesson_04::async_pool::AsyncPool;
use lesson_04::pool::Pool;
use lesson_04::{JobError, JobResult};
use tokio::time::{Instant, sleep, timeout};

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

const PATIENCE: Duration = Duration::from_secs(2);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn ok<T>(id: u64, value: T) -> JobResult<T> {
    JobResult {
        id,
        outcome: Ok(value),
    }
}

/// Take `n` results from a thread pool, sorted by id.
fn take_results<T>(pool: &Pool<T>, n: usize) -> Vec<JobResult<T>>
where
    T: Send + 'static,
{
    let mut got: Vec<JobResult<T>> = (0..n)
        .map(|i| {
            pool.results()
                .recv_timeout(Duration::from_secs(3))
                .unwrap_or_else(|_| panic!("only {i} of {n} results came back"))
        })
        .collect();
    got.sort_by_key(|r| r.id);
    got
}

// ---------------------------------------------------------------------------------------
// Holding pools. Dropping a pool joins its workers. When a test fails while it holds a pool
// whose worker has died (a job's panic that was not caught), or whose `Drop` panics (a
// `join().unwrap()` on that dead worker, a `todo!`), the drop panics again while the first
// panic unwinds — and a panic during a panic aborts the whole test binary, naming no test
// and no exercise. So the tests hold every pool in `Held`, which *forgets* the pool instead
// of dropping it when the test is already failing: the first failure is reported. (The
// forgotten pool's threads wait until the test binary exits.)

struct Held<T>(Option<T>);

impl<T> Held<T> {
    fn new(value: T) -> Held<T> {
        Held(Some(value))
    }

    /// The pool itself, for `close` and `shutdown_now`, which take it by value.
    fn take(mut self) -> T {
        self.0.take().expect("a held value")
    }
}

impl<T> Deref for Held<T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0.as_ref().expect("a held value")
    }
}

/// A held future (a `shutdown_now` in a task of its own) is polled through the wrapper.
impl<F: Future + Unpin> Future for Held<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        Pin::new(self.0.as_mut().expect("a held value")).poll(cx)
    }
}

impl<T> Drop for Held<T> {
    fn drop(&mut self) {
        if let Some(value) = self.0.take() {
            if thread::panicking() {
                std::mem::forget(value);
            } else {
                drop(value);
            }
        }
    }
}

fn thread_pool<T: Send + 'static>(workers: usize, queue: usize) -> Held<Pool<T>> {
    Held::new(Pool::new(workers, queue))
}

fn tokio_pool<T: Send + 'static>(workers: usize, queue: usize) -> Held<AsyncPool<T>> {
    Held::new(AsyncPool::new(workers, queue))
}

// ---------------------------------------------------------------------------------------
// Counting live worker threads: a job marks the thread it runs on with a thread-local
// guard, which is dropped only when that thread exits.

struct Alive(Arc<AtomicUsize>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

thread_local! {
    static MARK: RefCell<Option<Alive>> = const { RefCell::new(None) };
}

/// Count the current thread as alive until it exits.
fn mark_this_thread(alive: &Arc<AtomicUsize>) {
    MARK.with(|m| {
        let mut m = m.borrow_mut();
        if m.is_none() {
            alive.fetch_add(1, Ordering::SeqCst);
            *m = Some(Alive(Arc::clone(alive)));
        }
    });
}

// ---------------------------------------------------------------------------------------
// 04.1 workers and a queue

#[test]
fn ex04_1_every_job_yields_one_result() {
    exercise("04.1").run(|| {
        let pool: Held<Pool<u64>> = thread_pool(3, 4);
        let ids: Vec<u64> = (0..20u64)
            .map(|i| pool.submit(move || i * i).expect("the pool is open"))
            .collect();
        let got = take_results(&pool, 20);
        let want: Vec<JobResult<u64>> = ids
            .iter()
            .zip(0..20u64)
            .map(|(&id, i)| ok(id, i * i))
            .collect();
        assert_eq!(
            got, want,
            "one result per job, with the id `submit` returned"
        );
        assert!(
            pool.results().recv_timeout(ms(50)).is_err(),
            "exactly one result per job: there is an extra one"
        );
    });
}

#[test]
fn ex04_1_exactly_n_jobs_run_at_once() {
    exercise("04.1")
        .hangs_if("the workers take turns: is a lock held while a job runs?")
        .run(|| {
            let pool: Held<Pool<thread::ThreadId>> = thread_pool(3, 16);
            let gate = Arc::new(Gate::new(3, PATIENCE));
            let running = Arc::new(HighWater::new());
            let met = Arc::new(AtomicBool::new(true));
            for _ in 0..12 {
                let (gate, running, met) = (Arc::clone(&gate), Arc::clone(&running), Arc::clone(&met));
                pool.submit(move || {
                    let _running = running.enter();
                    if !gate.arrive() {
                        met.store(false, Ordering::SeqCst);
                    }
                    thread::current().id()
                })
                .expect("open");
            }
            let got = take_results(&pool, 12);
            assert!(
                met.load(Ordering::SeqCst),
                "3 workers should run 3 jobs at the same time, but fewer were running together \
                 (is a lock held while a job runs, as in `while let Ok(job) = rx.lock().unwrap().recv()`?)"
            );
            assert!(running.max() <= 3, "{} jobs ran at once with 3 workers", running.max());
            let threads: HashSet<thread::ThreadId> = got
                .into_iter()
                .map(|r| r.outcome.expect("no job panicked"))
                .collect();
            assert_eq!(threads.len(), 3, "the jobs ran on {} threads, not on the 3 workers", threads.len());
            assert!(!threads.contains(&thread::current().id()), "jobs ran on the submitting thread");

            // And never a fourth: four jobs that wait for each other can never all meet.
            let four = Arc::new(Gate::new(4, ms(300)));
            for _ in 0..4 {
                let four = Arc::clone(&four);
                pool.submit(move || {
                    four.arrive();
                    thread::current().id()
                })
                .expect("open");
            }
            take_results(&pool, 4);
            assert!(
                four.is_broken(),
                "4 jobs ran at the same time on a pool of 3 workers: start exactly `workers` threads"
            );
        });
}

#[test]
fn ex04_1_a_panicking_job_is_an_error_and_its_worker_goes_on() {
    exercise("04.1").run(|| {
        let pool: Held<Pool<u32>> = thread_pool(1, 8);
        pool.submit(|| 1).expect("open");
        pool.submit(|| kit::planned_panic!("job 1 exploded (a planned panic)"))
            .expect("open");
        pool.submit(|| 3).expect("open");
        pool.submit(|| 4).expect("open");
        let mut got: Vec<JobResult<u32>> = (0..4)
            .map(|i| {
                pool.results()
                    .recv_timeout(Duration::from_secs(3))
                    .unwrap_or_else(|_| {
                        panic!(
                            "only {i} of 4 results came back from a pool of one worker whose \
                             second job panics: did the panic end the worker thread? Run each job \
                             inside `std::panic::catch_unwind`, so the panic becomes an `Err` \
                             result and the worker goes on to the next job"
                        )
                    })
            })
            .collect();
        got.sort_by_key(|r| r.id);
        assert_eq!(
            got,
            vec![
                ok(0, 1),
                JobResult {
                    id: 1,
                    outcome: Err(JobError::Panicked(
                        "job 1 exploded (a planned panic)".into()
                    ))
                },
                ok(2, 3),
                ok(3, 4),
            ],
            "the panic becomes an Err result with the panic's message, and the one worker goes on"
        );
    });
}

#[test]
fn ex04_1_dropping_the_pool_runs_the_queue_and_joins_every_worker() {
    exercise("04.1")
        .hangs_if("dropping the pool waits for workers that never stop: drop the queue's sender before joining")
        .run(|| {
            let alive = Arc::new(AtomicUsize::new(0));
            let ran = Arc::new(AtomicUsize::new(0));
            let pool: Held<Pool<()>> = thread_pool(3, 16);
            let gate = Arc::new(Gate::new(3, PATIENCE));
            for _ in 0..3 {
                let (alive, gate) = (Arc::clone(&alive), Arc::clone(&gate));
                pool.submit(move || {
                    mark_this_thread(&alive);
                    gate.arrive();
                })
                .expect("open");
            }
            for _ in 0..6 {
                let ran = Arc::clone(&ran);
                pool.submit(move || {
                    ran.fetch_add(1, Ordering::SeqCst);
                })
                .expect("open");
            }
            drop(pool);
            let ran = ran.load(Ordering::SeqCst);
            assert_eq!(
                ran, 6,
                "when drop returned, only {ran} of the 6 queued jobs had run: Drop must close the \
                 queue and then wait (join the workers) until they have run everything"
            );
            assert_eq!(
                alive.load(Ordering::SeqCst),
                0,
                "worker threads are still alive after the pool was dropped: join them in Drop"
            );
        });
}

// ---------------------------------------------------------------------------------------
// 04.2 backpressure at the door

/// A pool of one worker that is busy until `release` is sent, with `queued` more jobs
/// behind it.
fn busy_pool(queue: usize, queued: usize) -> (Held<Pool<u32>>, mpsc::Sender<()>) {
    let pool: Held<Pool<u32>> = thread_pool(1, queue);
    let (release, wait) = mpsc::channel::<()>();
    let (started, has_started) = mpsc::channel::<()>();
    pool.submit(move || {
        let _ = started.send(());
        let _ = wait.recv();
        0
    })
    .expect("open");
    has_started
        .recv_timeout(Duration::from_secs(3))
        .expect("the first job should start");
    for i in 0..queued {
        pool.submit(move || i as u32 + 1).expect("there is room");
    }
    (pool, release)
}

#[test]
fn ex04_2_a_full_queue_turns_try_submit_away_and_hands_the_job_back() {
    exercise("04.2")
        .hangs_if("try_submit waits when the queue is full: use `try_send`, which returns at once")
        .run(|| {
        let (pool, release) = busy_pool(2, 2);
        match pool.try_submit(|| 99) {
            Err(e) if e.is_full() => {
                let job = e.into_job();
                assert_eq!(job(), 99, "the job handed back is the caller's job");
            }
            Err(_) => panic!("try_submit into a full queue should say Full, not Closed"),
            Ok(_) => panic!(
                "try_submit accepted a job into a full queue (1 worker busy, 2 queued, capacity 2)"
            ),
        }
        release.send(()).expect("the first job waits");
        let got = take_results(&pool, 3);
        assert_eq!(
            got.iter()
                .map(|r| r.outcome.clone().unwrap())
                .collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        assert!(
            pool.try_submit(|| 7).is_ok(),
            "with room in the queue, try_submit accepts"
        );
    });
}

#[test]
fn ex04_2_submit_waits_for_room() {
    exercise("04.2").run(|| {
        let (pool, release) = busy_pool(1, 1);
        let pool = Arc::new(pool);
        let (returned, has_returned) = mpsc::channel();
        let submitter = {
            let pool = Arc::clone(&pool);
            thread::spawn(move || {
                let id = pool.submit(|| 7).is_ok();
                let _ = returned.send(id);
            })
        };
        assert!(
            has_returned.recv_timeout(ms(200)).is_err(),
            "submit returned while the queue was full: it should wait for room"
        );
        release.send(()).expect("the first job waits");
        assert_eq!(
            has_returned.recv_timeout(Duration::from_secs(3)),
            Ok(true),
            "once the worker takes a job, the waiting submit goes through"
        );
        submitter.join().expect("no panic");
        assert_eq!(take_results(&pool, 3).len(), 3);
    });
}

// ---------------------------------------------------------------------------------------
// 04.3 closing and shutting down

#[test]
fn ex04_3_close_runs_every_queued_job_and_leaves_no_thread() {
    exercise("04.3").run(|| {
        let alive = Arc::new(AtomicUsize::new(0));
        let pool: Held<Pool<u32>> = thread_pool(4, 16);
        let gate = Arc::new(Gate::new(4, PATIENCE));
        // Four jobs that start together and finish in reverse order, 30ms apart.
        for i in 0..4u32 {
            let (alive, gate) = (Arc::clone(&alive), Arc::clone(&gate));
            pool.submit(move || {
                mark_this_thread(&alive);
                gate.arrive();
                thread::sleep(ms(30 * u64::from(4 - i)));
                i
            })
            .expect("open");
        }
        for i in 4..10u32 {
            pool.submit(move || i).expect("open");
        }
        let results = pool.take().close();
        assert_eq!(
            results.iter().map(|r| r.id).collect::<Vec<_>>(),
            (0..10).collect::<Vec<_>>(),
            "close returns every result not taken yet, sorted by id (jobs 3, 2, 1, 0 finished in that order)"
        );
        assert_eq!(alive.load(Ordering::SeqCst), 0, "worker threads outlived close()");
    });
}

/// Releases `job0` when the last of the queued jobs is dropped — by whoever drops it.
struct LastOneOut {
    left: Arc<AtomicUsize>,
    release: mpsc::Sender<()>,
}

impl Drop for LastOneOut {
    fn drop(&mut self) {
        if self.left.fetch_sub(1, Ordering::SeqCst) == 1 {
            let _ = self.release.send(());
        }
    }
}

#[test]
fn ex04_3_shutdown_now_discards_queued_jobs_at_once() {
    exercise("04.3")
        .hangs_if(
            "shutdown_now waits for the queued jobs: it should drop them unrun at once, even while \
             every worker is busy (empty the queue from shutdown_now itself)",
        )
        .run(|| {
            let alive = Arc::new(AtomicUsize::new(0));
            let ran = Arc::new(AtomicUsize::new(0));
            let pool: Held<Pool<&'static str>> = thread_pool(1, 8);
            let (release, wait) = mpsc::channel::<()>();
            let (started, has_started) = mpsc::channel::<()>();
            {
                let alive = Arc::clone(&alive);
                pool.submit(move || {
                    mark_this_thread(&alive);
                    let _ = started.send(());
                    // The worker stays busy until every queued job has been dropped.
                    let _ = wait.recv_timeout(Duration::from_secs(60));
                    "first"
                })
                .expect("open");
            }
            has_started
                .recv_timeout(Duration::from_secs(3))
                .expect("the first job starts");
            let left = Arc::new(AtomicUsize::new(4));
            for _ in 0..4 {
                let guard = LastOneOut {
                    left: Arc::clone(&left),
                    release: release.clone(),
                };
                let ran = Arc::clone(&ran);
                pool.submit(move || {
                    let _guard = guard;
                    ran.fetch_add(1, Ordering::SeqCst);
                    "queued"
                })
                .expect("there is room");
            }
            drop(release);
            let report = pool.take().shutdown_now();
            assert_eq!(
                ran.load(Ordering::SeqCst),
                0,
                "shutdown_now ran queued jobs instead of discarding them"
            );
            assert_eq!(report.discarded, 4, "4 jobs were queued and never started");
            assert_eq!(
                report.results,
                vec![ok(0, "first")],
                "the running job finishes and its result is reported"
            );
            assert_eq!(
                alive.load(Ordering::SeqCst),
                0,
                "worker threads outlived shutdown_now()"
            );
        });
}

// ---------------------------------------------------------------------------------------
// 04.4 the tokio pool (virtual time)

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks()
}

#[test]
fn ex04_4_n_jobs_at_once_in_virtual_time() {
    exercise("04.4")
        .hangs_if("a worker holds the queue's lock while its job runs, or never lets go of it")
        .run_async(|| async {
            let start = Instant::now();
            let running = Arc::new(HighWater::new());
            let pool: Held<AsyncPool<u32>> = tokio_pool(2, 8);
            for i in 0..6u32 {
                let running = Arc::clone(&running);
                pool.submit(async move {
                    let _running = running.enter();
                    sleep(ms(100)).await;
                    i
                })
                .await
                .expect("open");
            }
            let results = pool.take().close().await;
            assert_eq!(
                results.iter().map(|r| r.outcome.clone().unwrap()).collect::<Vec<_>>(),
                vec![0, 1, 2, 3, 4, 5],
                "close should return every job's result: wait for the workers (await their \
                 JoinHandles) before collecting"
            );
            assert_eq!(
                running.max(),
                2,
                "2 workers: 2 jobs at a time, no more and no fewer (is the queue's lock held while a \
                 job runs? `while let Some(job) = queue.lock().await.recv().await` holds it through \
                 the loop body)"
            );
            assert_eq!(
                start.elapsed(),
                ms(300),
                "six 100ms jobs on 2 workers take 300ms; the workers take turns if a lock is held while a job runs"
            );
            assert_eq!(alive_tasks(), 0, "worker tasks are still alive after close()");
        });
}

#[test]
fn ex04_4_a_full_queue_makes_submit_wait_and_try_submit_refuse() {
    exercise("04.4").run_async(|| async {
        let start = Instant::now();
        let pool: Held<AsyncPool<u32>> = tokio_pool(1, 2);
        for i in 0..3u32 {
            pool.submit(async move {
                sleep(ms(1000)).await;
                i
            })
            .await
            .expect("room for the running job and two queued");
        }
        settle().await;
        assert!(
            pool.try_submit(async { 9 }).is_err_and(|e| e.is_full()),
            "one job running, two queued in a queue of 2: try_submit should say Full"
        );
        let waited = timeout(ms(500), pool.submit(async { 9 })).await;
        assert!(
            waited.is_err(),
            "submit into a full queue should wait, not return"
        );
        pool.submit(async { 9 })
            .await
            .expect("accepted once there is room");
        assert_eq!(
            start.elapsed(),
            ms(1000),
            "room appears when the worker takes the next job, as the first finishes at 1s"
        );
        drop(pool);
    });
}

#[test]
fn ex04_4_a_panic_is_an_error_and_the_worker_goes_on() {
    exercise("04.4").run_async(|| async {
        let pool: Held<AsyncPool<u32>> = tokio_pool(1, 4);
        pool.submit(async { 1 }).await.expect("open");
        pool.submit(async { kit::planned_panic!("async job exploded (a planned panic)") })
            .await
            .expect("open");
        pool.submit(async { 3 }).await.expect("open");
        let results = match AssertUnwindSafe(pool.take().close()).catch_unwind().await {
            Ok(results) => results,
            Err(payload) => {
                let message = lesson_04::panic_message(payload.as_ref());
                if message.starts_with("not yet implemented") {
                    std::panic::resume_unwind(payload);
                }
                panic!(
                    "close() panicked with {message:?}: the job's panic ended its worker task, and \
                     close passed the panic on when it awaited that worker. Run each job inside \
                     `catch_unwind` (`futures::FutureExt`), so the panic becomes an `Err` result \
                     and the worker goes on to the next job"
                )
            }
        };
        assert_eq!(
            results,
            vec![
                ok(0, 1),
                JobResult {
                    id: 1,
                    outcome: Err(JobError::Panicked(
                        "async job exploded (a planned panic)".into()
                    ))
                },
                ok(2, 3)
            ],
            "the panic becomes an Err result with the panic's message, and the one worker goes \
             on to the next job"
        );
    });
}

#[test]
fn ex04_4_shutdown_now_drops_what_has_not_started() {
    exercise("04.4").run_async(|| async {
        let start = Instant::now();
        let ran = Arc::new(AtomicUsize::new(0));
        let pool: Held<AsyncPool<u32>> = tokio_pool(1, 8);
        for i in 0..5u32 {
            let ran = Arc::clone(&ran);
            pool.submit(async move {
                sleep(ms(100)).await;
                ran.fetch_add(1, Ordering::SeqCst);
                i
            })
            .await
            .expect("open");
        }
        sleep(ms(150)).await;
        let report = pool.take().shutdown_now().await;
        assert_eq!(
            start.elapsed(),
            ms(200),
            "job 1 was running at 150ms; it finishes at 200ms, and nothing more runs"
        );
        assert_eq!(
            ran.load(Ordering::SeqCst),
            2,
            "jobs 0 and 1 ran; 2, 3 and 4 are dropped unrun"
        );
        assert_eq!(report.discarded, 3);
        assert_eq!(report.results, vec![ok(0, 0), ok(1, 1)]);
        assert_eq!(
            alive_tasks(),
            0,
            "worker tasks are still alive after shutdown_now()"
        );
    });
}

/// Counts its drops.
struct Dropped(Arc<AtomicUsize>);
impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn ex04_4_shutdown_now_drops_the_queue_at_once() {
    exercise("04.4").run_async(|| async {
        let dropped = Arc::new(AtomicUsize::new(0));
        let pool: Held<AsyncPool<u32>> = tokio_pool(1, 8);
        pool.submit(async {
            sleep(ms(1000)).await;
            0
        })
        .await
        .expect("open");
        for i in 1..=3u32 {
            let guard = Dropped(Arc::clone(&dropped));
            pool.submit(async move {
                let _guard = guard;
                i
            })
            .await
            .expect("open");
        }
        settle().await;
        let shutdown = tokio::spawn(Held::new(Box::pin(pool.take().shutdown_now())));
        sleep(ms(10)).await;
        assert_eq!(
            dropped.load(Ordering::SeqCst),
            3,
            "10ms into shutdown_now, while the one worker is busy for another second, the 3 queued \
             jobs should already be dropped: empty the queue from shutdown_now itself"
        );
        let report = shutdown.await.expect("no panic");
        assert_eq!(report.discarded, 3);
        assert_eq!(report.results, vec![ok(0, 0)]);
    });
}

#[test]
fn ex04_4_shutdown_now_with_an_idle_worker() {
    exercise("04.4")
        .hangs_if(
            "shutdown_now waits for the queue's lock while an idle worker holds it: that worker \
             waits in `recv().await` for a job that only a closed queue can end. Close the queue \
             (drop the sender) before you take the lock",
        )
        .run_async(|| async {
            let pool: Held<AsyncPool<u32>> = tokio_pool(2, 4);
            pool.submit(async { 7 }).await.expect("open");
            // The job is done; both workers are idle, waiting for the next job.
            settle().await;
            let start = Instant::now();
            let report = pool.take().shutdown_now().await;
            assert_eq!(report.discarded, 0, "nothing was queued");
            assert_eq!(report.results, vec![ok(0, 7)]);
            assert_eq!(start.elapsed(), ms(0), "idle workers stop at once");
            assert_eq!(
                alive_tasks(),
                0,
                "worker tasks are still alive after shutdown_now()"
            );

            // The same with one worker busy and the other idle.
            let start = Instant::now();
            let pool: Held<AsyncPool<u32>> = tokio_pool(2, 4);
            pool.submit(async {
                sleep(ms(100)).await;
                1
            })
            .await
            .expect("open");
            settle().await;
            let report = pool.take().shutdown_now().await;
            assert_eq!((report.discarded, report.results), (0, vec![ok(0, 1)]));
            assert_eq!(
                start.elapsed(),
                ms(100),
                "shutdown_now returns when the running job has finished"
            );
            assert_eq!(
                alive_tasks(),
                0,
                "worker tasks are still alive after shutdown_now()"
            );
        });
}

#[test]
fn ex04_4_dropping_the_pool_leaves_no_task_running() {
    exercise("04.4").run_async(|| async {
        let finished = Arc::new(AtomicBool::new(false));
        let pool: Held<AsyncPool<()>> = tokio_pool(2, 4);
        {
            let finished = Arc::clone(&finished);
            pool.submit(async move {
                sleep(ms(100)).await;
                finished.store(true, Ordering::SeqCst);
            })
            .await
            .expect("open");
        }
        settle().await;
        drop(pool);
        settle().await;
        assert_eq!(
            alive_tasks(),
            0,
            "worker tasks outlived the pool: abort them in Drop"
        );
        sleep(ms(500)).await;
        assert!(
            !finished.load(Ordering::SeqCst),
            "a job of a dropped pool ran to the end"
        );
    });
}

// ---------------------------------------------------------------------------------------
// The lesson program

kit::program_tests!("--workers", "0");
