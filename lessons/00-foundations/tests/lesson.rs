//! Lesson 00's tests, in the order of the chapter's exercises.
//!
//! Every body runs under `kit`'s deadlines: a deadlock or a busy loop ends in a message
//! naming the exercise, never in a hang.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use kit::{Gate, HighWater};
use lesson_00::cancel::{Report, run_workers};
use lesson_00::errgroup::try_all;
use lesson_00::fan_out::fan_out;
use lesson_00::scoped::map_scoped;
use lesson_00::select::{Collected, Feed, collect_quotes};
use lesson_00::shared::gather;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

/// How long a `Gate` waits for a round of threads to meet before it concludes they were
/// not running at the same time.
const PATIENCE: Duration = Duration::from_secs(2);

/// Makes calls finish in reverse index order: call `i` returns only after call `i + 1` has
/// returned, and a little later, so results are produced from the highest index down.
struct Backwards {
    n: usize,
    finished: std::sync::Mutex<usize>,
    changed: std::sync::Condvar,
}

impl Backwards {
    fn new(n: usize) -> Backwards {
        Backwards {
            n,
            finished: std::sync::Mutex::new(0),
            changed: std::sync::Condvar::new(),
        }
    }

    /// Wait until every call with a higher index has finished (at most `PATIENCE`: if the
    /// calls do not run at once, other tests say so), then return `i`.
    fn finish_after_the_next(&self, i: usize) -> usize {
        let higher = self.n - 1 - i;
        let guard = self.finished.lock().unwrap();
        let (guard, _) = self
            .changed
            .wait_timeout_while(guard, PATIENCE, |f| *f < higher)
            .unwrap();
        drop(guard);
        // Give the call that just finished time to deliver its result before this one does.
        thread::sleep(Duration::from_millis(15));
        let mut finished = self.finished.lock().unwrap();
        *finished += 1;
        self.changed.notify_all();
        i
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ---------------------------------------------------------------------------------------
// 00.1 scoped threads

#[test]
fn ex00_1_results_come_back_in_input_order() {
    exercise("00.1").run(|| {
        let words = ["tokio", "crossbeam", "rayon", "std"];
        assert_eq!(map_scoped(&words, |w| w.len()), vec![5, 9, 5, 3]);
        let nothing: Vec<u8> = map_scoped(&[] as &[u8], |b| *b);
        assert!(nothing.is_empty(), "no items, no results");
    });
}

#[test]
fn ex00_1_every_item_runs_on_its_own_thread_at_once() {
    exercise("00.1")
        .hangs_if("the threads never all run at once: are you joining each thread right after spawning it?")
        .run(|| {
            let gate = Gate::new(6, PATIENCE);
            let caller = thread::current().id();
            let items: Vec<usize> = (0..6).collect();
            let seen = map_scoped(&items, |_| (gate.arrive(), thread::current().id()));
            assert!(
                seen.iter().all(|(met, _)| *met),
                "the 6 calls to `f` did not all run at the same time (the most ever running together: {}): \
                 spawn every thread first, then join them",
                gate.max_waiting()
            );
            let threads: HashSet<_> = seen.iter().map(|(_, id)| *id).collect();
            assert_eq!(threads.len(), 6, "each item should get a thread of its own");
            assert!(!threads.contains(&caller), "`f` ran on the calling thread, not on a spawned one");
        });
}

// ---------------------------------------------------------------------------------------
// 00.2 Arc<Mutex<…>>

#[test]
fn ex00_2_every_result_once_sorted_by_thread() {
    exercise("00.2").run(|| {
        let got = gather(8, |i| i * 10);
        let want: Vec<(usize, usize)> = (0..8).map(|i| (i, i * 10)).collect();
        assert_eq!(got, want, "one (i, work(i)) per thread, sorted by i");
        assert!(gather(0, |i| i).is_empty(), "zero threads, zero results");
    });
}

#[test]
fn ex00_2_results_are_sorted_even_when_threads_finish_backwards() {
    exercise("00.2").run(|| {
        let order = Arc::new(Backwards::new(6));
        let probe = Arc::clone(&order);
        let got = gather(6, move |i| probe.finish_after_the_next(i));
        let want: Vec<(usize, usize)> = (0..6).map(|i| (i, i)).collect();
        assert_eq!(
            got, want,
            "the threads finished from 5 down to 0, so they pushed in that order: sort the \
             results by index before returning them"
        );
    });
}

#[test]
fn ex00_2_the_lock_is_not_held_while_working() {
    exercise("00.2")
        .hangs_if("the threads are never all running: is the lock held while `work(i)` runs?")
        .run(|| {
            let gate = Arc::new(Gate::new(5, PATIENCE));
            let probe = Arc::clone(&gate);
            let got = gather(5, move |i| (i, probe.arrive(), thread::current().id()));
            let threads: HashSet<_> = got.iter().map(|(_, (_, _, id))| *id).collect();
            assert_eq!(threads.len(), 5, "each index should run on a thread of its own");
            assert!(
                got.iter().all(|(_, (_, met, _))| *met),
                "the 5 calls to `work` did not run at the same time: compute `work(i)` first, \
                 then lock only to push (`v.lock().unwrap().push((i, work(i)))` computes while locked)"
            );
            assert!(got.iter().all(|(i, (j, _, _))| i == j), "results paired with the wrong index");
        });
}

// ---------------------------------------------------------------------------------------
// 00.3 fan-out, close by drop

const RESULTS_NEVER_END: &str = "the results channel never ends: one of its `Sender`s is still \
     alive — the one you created the channel with, or a clone kept outside the workers";

const FEEDER_DEADLOCK: &str = "with bounded channels, one thread that first sends every job and only \
     then reads results blocks forever: feed the jobs from a thread of its own";

/// Exercise 00.3, with every likely cause of a hang listed.
fn exercise_00_3() -> kit::Exercise {
    exercise("00.3")
        .hangs_if(RESULTS_NEVER_END)
        .hangs_if(JOBS_NEVER_END)
        .hangs_if(FEEDER_DEADLOCK)
}

const JOBS_NEVER_END: &str = "the workers never finish: a `Sender` of the jobs channel is still \
     alive, so `for job in job_rx` never sees the end — drop it once every job is sent";

#[test]
fn ex00_3_every_job_once_in_index_order() {
    exercise_00_3().run(|| {
        let jobs: Vec<String> = (0..50).map(|i| "x".repeat(i % 7)).collect();
        let got = fan_out(jobs, 4, |s| s.len());
        let want: Vec<(usize, usize)> = (0..50).map(|i| (i, i % 7)).collect();
        assert_eq!(got, want, "one (index, result) per job, sorted by index");
    });
}

#[test]
fn ex00_3_results_are_sorted_even_when_jobs_finish_backwards() {
    exercise_00_3().run(|| {
        let order = Backwards::new(4);
        let got = fan_out((0..4).collect(), 4, |i: usize| {
            order.finish_after_the_next(i)
        });
        assert_eq!(
            got,
            vec![(0, 0), (1, 1), (2, 2), (3, 3)],
            "the jobs finished from 3 down to 0, so their results arrived in that order: sort \
             them by index before returning them"
        );
    });
}

#[test]
fn ex00_3_one_worker_and_many_jobs_do_not_deadlock() {
    exercise_00_3().run(|| {
        let got = fan_out((0..200).collect(), 1, |n: u32| n * 2);
        assert_eq!(got.len(), 200);
        assert!(got.iter().all(|(i, v)| *v == 2 * *i as u32));
    });
}

#[test]
fn ex00_3_exactly_n_workers_share_the_jobs() {
    exercise_00_3().run(|| {
        let gate = Gate::new(3, PATIENCE);
        let gauge = HighWater::new();
        let caller = thread::current().id();
        let got = fan_out((0..12).collect::<Vec<u32>>(), 3, |n| {
            let _in_flight = gauge.enter();
            let met = gate.arrive();
            (n, met, thread::current().id())
        });
        assert_eq!(got.len(), 12, "every job yields one result");
        assert!(
            got.iter().all(|(_, (_, met, _))| *met),
            "fewer than 3 jobs ran at the same time: are the 3 workers all taking jobs?"
        );
        assert!(
            gauge.max() <= 3,
            "{} jobs ran at once with 3 workers: more threads take jobs than there are workers",
            gauge.max()
        );
        let threads: HashSet<_> = got.iter().map(|(_, (_, _, id))| *id).collect();
        assert_eq!(
            threads.len(),
            3,
            "the jobs should run on exactly the 3 worker threads"
        );
        assert!(!threads.contains(&caller), "jobs ran on the calling thread");
    });
}

// ---------------------------------------------------------------------------------------
// 00.4 select! with a deadline (virtual time)

/// A feed that sends `script`'s quotes at their times (ms after the start), then closes
/// at `close_at`.
fn feed(script: &[(u64, u32)], close_at: u64) -> mpsc::Receiver<u32> {
    let (tx, rx) = mpsc::channel(8);
    let script = script.to_vec();
    let start = Instant::now();
    tokio::spawn(async move {
        for (at, quote) in script {
            sleep_until(start + ms(at)).await;
            let _ = tx.send(quote).await;
        }
        sleep_until(start + ms(close_at)).await;
        drop(tx); // the feed closes
    });
    rx
}

const CLOSED_FEED_SPINS: &str = "a closed feed is polled again and again: `recv()` on a closed channel is \
     always ready with `None`, so switch that branch off (`, if primary_open`)";

#[test]
fn ex00_4_takes_quotes_from_both_until_both_close() {
    exercise("00.4").hangs_if(CLOSED_FEED_SPINS).run_async(|| async {
        let start = Instant::now();
        let primary = feed(&[(10, 1), (30, 2)], 35);
        let backup = feed(&[(20, 100)], 50);
        let got = collect_quotes(primary, backup, Duration::from_secs(1)).await;
        let want = Collected {
            quotes: vec![(Feed::Primary, 1), (Feed::Backup, 100), (Feed::Primary, 2)],
            timed_out: false,
        };
        assert_eq!(got, want);
        assert_eq!(
            start.elapsed(),
            ms(50),
            "the primary feed closed at t=35ms and the backup at t=50ms: the collection should end \
             exactly at 50ms — not when the first feed closes, and not at the deadline"
        );
    });
}

#[test]
fn ex00_4_a_closed_feed_does_not_end_the_collection() {
    exercise("00.4")
        .hangs_if(CLOSED_FEED_SPINS)
        .run_async(|| async {
            let start = Instant::now();
            let primary = feed(&[], 0);
            let backup = feed(&[(10, 7), (20, 8)], 30);
            let got = collect_quotes(primary, backup, Duration::from_secs(1)).await;
            assert_eq!(
                got.quotes,
                vec![(Feed::Backup, 7), (Feed::Backup, 8)],
                "the primary feed closed at once; the backup's quotes still count"
            );
            assert!(!got.timed_out);
            assert_eq!(start.elapsed(), ms(30));
        });
}

#[test]
fn ex00_4_the_deadline_is_one_point_in_time() {
    exercise("00.4").hangs_if(CLOSED_FEED_SPINS).run_async(|| async {
        let start = Instant::now();
        let primary = feed(&[], 300);
        let backup = feed(&[(60, 1), (120, 2), (180, 3)], 200);
        let got = collect_quotes(primary, backup, ms(100)).await;
        assert_eq!(
            start.elapsed(),
            ms(100),
            "the deadline was 100ms after the call; a `sleep(deadline)` created inside the loop \
             starts again at every quote"
        );
        assert_eq!(
            got,
            Collected {
                quotes: vec![(Feed::Backup, 1)],
                timed_out: true
            }
        );
    });
}

// ---------------------------------------------------------------------------------------
// 00.5 CancellationToken + JoinSet (virtual time)

fn report(worker: usize, done: u32, cancelled: bool) -> Report {
    Report {
        worker,
        done,
        cancelled,
    }
}

#[test]
fn ex00_5_workers_run_at_once_and_finish() {
    exercise("00.5").run_async(|| async {
        let start = Instant::now();
        let reports = run_workers(vec![1, 3, 2], ms(10), CancellationToken::new()).await;
        assert_eq!(
            reports,
            vec![
                report(0, 1, false),
                report(1, 3, false),
                report(2, 2, false)
            ]
        );
        assert_eq!(
            start.elapsed(),
            ms(30),
            "the longest worker needs 30ms; anything longer means the workers took turns"
        );
    });
}

#[test]
fn ex00_5_cancellation_stops_workers_in_the_middle_of_a_unit() {
    exercise("00.5").run_async(|| async {
        let start = Instant::now();
        let token = CancellationToken::new();
        let canceller = token.clone();
        tokio::spawn(async move {
            sleep(ms(25)).await;
            canceller.cancel();
        });
        let reports = run_workers(vec![1, 5, 2, 4], ms(10), token).await;
        assert_eq!(
            start.elapsed(),
            ms(25),
            "the token was cancelled at t=25ms: a unit in progress must be cut short, not finished \
             — race each unit against `token.cancelled()` in `select!`"
        );
        assert_eq!(
            reports,
            vec![
                report(0, 1, false),
                report(1, 2, true),
                report(2, 2, false),
                report(3, 2, true)
            ],
            "at t=25ms workers 0 and 2 had finished; 1 and 3 had done 2 units and were half-way through a third"
        );
    });
}

#[test]
fn ex00_5_a_token_cancelled_before_the_start() {
    exercise("00.5").run_async(|| async {
        let token = CancellationToken::new();
        token.cancel();
        let start = Instant::now();
        let reports = run_workers(vec![2, 2], ms(10), token).await;
        assert_eq!(reports, vec![report(0, 0, true), report(1, 0, true)]);
        assert_eq!(start.elapsed(), Duration::ZERO);
    });
}

// ---------------------------------------------------------------------------------------
// 00.6 errgroup (virtual time)

type Job = Pin<Box<dyn Future<Output = Result<u32, &'static str>> + Send>>;

/// Tracks which jobs ran to the end, and how many job futures are still alive.
#[derive(Default)]
struct Probe {
    finished: Vec<AtomicBool>,
    alive: AtomicUsize,
}

struct Alive(Arc<Probe>);
impl Drop for Alive {
    fn drop(&mut self) {
        self.0.alive.fetch_sub(1, Ordering::SeqCst);
    }
}

fn job(probe: &Arc<Probe>, index: usize, after: u64, outcome: Result<u32, &'static str>) -> Job {
    probe.alive.fetch_add(1, Ordering::SeqCst);
    let alive = Alive(Arc::clone(probe));
    Box::pin(async move {
        // Moved into the future: dropped when the job ends or is cancelled.
        let alive = alive;
        sleep(ms(after)).await;
        alive.0.finished[index].store(true, Ordering::SeqCst);
        outcome
    })
}

fn probe(jobs: usize) -> Arc<Probe> {
    Arc::new(Probe {
        finished: (0..jobs).map(|_| AtomicBool::new(false)).collect(),
        alive: AtomicUsize::new(0),
    })
}

#[test]
fn ex00_6_all_values_in_job_order() {
    exercise("00.6").run_async(|| async {
        let p = probe(3);
        let start = Instant::now();
        let got = try_all(vec![
            job(&p, 0, 30, Ok(10)),
            job(&p, 1, 10, Ok(11)),
            job(&p, 2, 20, Ok(12)),
        ])
        .await;
        assert_eq!(
            got,
            Ok(vec![10, 11, 12]),
            "values in the order of the jobs, not the order they finished"
        );
        assert_eq!(
            start.elapsed(),
            ms(30),
            "the jobs should run at the same time"
        );
    });
}

#[test]
fn ex00_6_the_first_error_returns_at_once_and_cancels_the_rest() {
    exercise("00.6").run_async(|| async {
        let p = probe(3);
        let start = Instant::now();
        let got = try_all(vec![
            job(&p, 0, 100, Ok(1)),
            job(&p, 1, 20, Err("disk full")),
            job(&p, 2, 100, Ok(3)),
        ])
        .await;
        assert_eq!(got, Err("disk full"));
        assert_eq!(
            start.elapsed(),
            ms(20),
            "job 1 failed at t=20ms; waiting for the other jobs first is not an errgroup"
        );
        // Give any job left running every chance to finish.
        sleep(ms(500)).await;
        assert!(
            !p.finished[0].load(Ordering::SeqCst) && !p.finished[2].load(Ordering::SeqCst),
            "jobs 0 and 2 ran to the end after try_all returned: they should have been cancelled"
        );
        assert_eq!(
            p.alive.load(Ordering::SeqCst),
            0,
            "cancelled jobs should be dropped"
        );
    });
}

#[test]
fn ex00_6_first_means_first_in_time() {
    exercise("00.6").run_async(|| async {
        let p = probe(2);
        let got = try_all(vec![
            job(&p, 0, 50, Err("late")),
            job(&p, 1, 20, Err("early")),
        ])
        .await;
        assert_eq!(
            got,
            Err("early"),
            "job 1 failed first (t=20ms), job 0 later (t=50ms)"
        );
    });
}

// ---------------------------------------------------------------------------------------
// The lesson program

kit::program_tests!("--workers", "0");
