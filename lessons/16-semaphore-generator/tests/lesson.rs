//! Lesson 16's tests, in the order of the chapter's exercises.
//!
//! The async tests run on a paused clock (`kit`): a waiter that nobody wakes leaves every
//! task waiting; the virtual clock then jumps to the test's `timeout` at once, and the
//! test fails with a message that says who waited, instead of hanging. The times the
//! tests compare are virtual, and relative to the test's start.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{StreamExt, poll};
use lesson_16::generator::{Generator, fibonacci};
use lesson_16::semaphore::{AcquireError, Permit, Semaphore, TryAcquireError};
use tokio::time::{Instant, sleep, timeout};

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

/// What a spawned task returned. A panic in it (a `todo!`, a failed assertion) goes on as
/// this test's own, so the harness names it.
fn joined<T>(result: Result<T, tokio::task::JoinError>) -> T {
    match result {
        Ok(value) => value,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => panic!("a task of the test was cancelled: {error}"),
    }
}

/// How long (virtual) a test lets one call take before calling it stuck.
const PATIENCE: Duration = Duration::from_secs(10);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ---------------------------------------------------------------------------------------
// 16.1 Permits you can count

#[test]
fn ex16_1_try_acquire_takes_permits_until_none_are_left() {
    exercise("16.1").run(|| {
        let sem = Semaphore::new(3);
        assert_eq!(
            sem.available_permits(),
            3,
            "a new semaphore of 3 has 3 free"
        );
        let one = sem
            .try_acquire()
            .expect("try_acquire on a fresh semaphore of 3 failed");
        assert_eq!(one.count(), 1);
        assert_eq!(sem.available_permits(), 2, "after taking 1 of 3");
        let two = sem
            .try_acquire_many(2)
            .expect("try_acquire_many(2) with 2 free failed");
        assert_eq!(two.count(), 2);
        assert_eq!(sem.available_permits(), 0, "after taking all 3");
        assert!(
            matches!(sem.try_acquire(), Err(TryAcquireError::NoPermits)),
            "with no permit free, try_acquire must fail with NoPermits (and never wait)"
        );
        drop(one);
        assert!(
            matches!(sem.try_acquire_many(2), Err(TryAcquireError::NoPermits)),
            "with 1 free, try_acquire_many(2) must fail, and take nothing"
        );
        assert_eq!(
            sem.available_permits(),
            1,
            "a failed try_acquire_many took permits"
        );
        drop(two);
    });
}

#[test]
fn ex16_1_a_dropped_permit_gives_its_permits_back() {
    exercise("16.1").run(|| {
        let sem = Semaphore::new(3);
        {
            let _permit = sem.try_acquire_many(2).expect("2 of 3 free");
            assert_eq!(sem.available_permits(), 1);
        }
        assert_eq!(
            sem.available_permits(),
            3,
            "a Permit of 2 went out of scope: both permits must be free again (impl Drop for Permit)"
        );
        for round in 0..100 {
            let permit = sem.try_acquire_many(3).ok();
            assert!(
                permit.is_some(),
                "round {round}: all 3 permits should be free again after each drop"
            );
        }
        assert_eq!(sem.available_permits(), 3);
    });
}

#[test]
fn ex16_1_a_panic_while_holding_a_permit_still_gives_it_back() {
    exercise("16.1").run(|| {
        let sem = Semaphore::new(2);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let _permit = sem.try_acquire_many(2).expect("2 of 2 free");
            kit::planned_panic!("the job holding 2 permits failed");
        }));
        assert!(outcome.is_err());
        assert_eq!(
            sem.available_permits(),
            2,
            "a job panicked while holding 2 permits: unwinding drops the Permit, which must give \
             them back (a panic must not leak permits)"
        );
        assert!(sem.try_acquire_many(2).is_ok());
    });
}

// ---------------------------------------------------------------------------------------
// 16.2 Waiting in line

const NOBODY_WAKES: &str = "a waiter was never woken: when permits are given back, grant them to the head of the \
     line and wake its task (and `poll` must store the waker of the task that polls it)";

/// One job of a scripted scene: it asks at `at` ms for `wants` permits and holds them for
/// `holds` ms. Returns when each job got its permits, in ms from the start.
async fn scene(
    permits: usize,
    jobs: &[(&'static str, u64, usize, u64)],
) -> Vec<(&'static str, u64)> {
    let sem = Arc::new(Semaphore::new(permits));
    let start = Instant::now();
    let got = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for &(name, at, wants, holds) in jobs {
        let (sem, got) = (Arc::clone(&sem), Arc::clone(&got));
        tasks.push(tokio::spawn(async move {
            sleep(ms(at)).await;
            let permit = sem.acquire_many(wants).await;
            let _permit = permit.expect("nobody closed the semaphore");
            got.lock()
                .unwrap()
                .push((name, start.elapsed().as_millis() as u64));
            sleep(ms(holds)).await;
        }));
    }
    for (task, (name, ..)) in tasks.into_iter().zip(jobs) {
        match timeout(PATIENCE, task).await {
            Ok(done) => joined(done),
            Err(_) => panic!(
                "job {name} never got its permits (got so far: {:?}): {NOBODY_WAKES}",
                got.lock().unwrap()
            ),
        }
    }
    let mut got = got.lock().unwrap().clone();
    got.sort_by_key(|&(name, t)| (t, name));
    got
}

#[test]
fn ex16_2_acquire_waits_until_a_permit_is_dropped() {
    exercise("16.2").hangs_if(NOBODY_WAKES).run_async(|| async {
        let got = scene(1, &[("first", 0, 1, 100), ("second", 1, 1, 10)]).await;
        assert_eq!(
            got,
            vec![("first", 0), ("second", 100)],
            "with 1 permit held from t=0 to t=100ms, the second acquire must wait and get it at \
             t=100ms exactly (when the first is dropped)"
        );
    });
}

#[test]
fn ex16_2_a_first_come_first_served_line() {
    exercise("16.2").hangs_if(NOBODY_WAKES).run_async(|| async {
        let got = scene(
            1,
            &[
                ("holder", 0, 1, 100),
                ("w1", 1, 1, 10),
                ("w2", 2, 1, 10),
                ("w3", 3, 1, 10),
                ("w4", 4, 1, 10),
                ("w5", 5, 1, 10),
            ],
        )
        .await;
        assert_eq!(
            got,
            vec![
                ("holder", 0),
                ("w1", 100),
                ("w2", 110),
                ("w3", 120),
                ("w4", 130),
                ("w5", 140)
            ],
            "five waiters lined up at t=1..5ms behind a holder: they must get the permit first \
             come, first served (a queue, not a stack)"
        );
    });
}

/// A waker that counts its wake-ups.
struct CountWakes(AtomicUsize);

impl std::task::Wake for CountWakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn ex16_2_a_waiter_sleeps_until_it_is_woken() {
    exercise("16.2").hangs_if(NOBODY_WAKES).run_async(|| async {
        let sem = Semaphore::new(1);
        let held = sem.try_acquire().expect("1 permit free");
        let polls = AtomicUsize::new(0);
        let mut acquire = std::pin::pin!(sem.acquire());
        let waiting = std::future::poll_fn(|cx| {
            polls.fetch_add(1, SeqCst);
            acquire.as_mut().poll(cx)
        });
        let release = async {
            sleep(ms(1_000)).await;
            drop(held);
        };
        let (got, ()) = tokio::join!(timeout(PATIENCE, waiting), release);
        assert!(
            got.is_ok(),
            "the waiter never got the permit: {NOBODY_WAKES}"
        );
        let polls = polls.load(SeqCst);
        assert!(
            polls <= 5,
            "a waiter that waited one (virtual) second for a permit was polled {polls} times: it \
             wakes itself up (a timer re-armed on every poll, or wake_by_ref before Pending) \
             instead of sleeping until a release wakes it. Keep the waker and wake it when the \
             permits are granted"
        );
    });
}

#[test]
fn ex16_2_the_latest_waker_is_the_one_woken() {
    exercise("16.2").hangs_if(NOBODY_WAKES).run_async(|| async {
        use std::future::Future;
        use std::task::{Context, Poll, Waker};
        let sem = Semaphore::new(1);
        let held = sem.try_acquire().expect("1 permit free");
        let (first, second) = (
            Arc::new(CountWakes(AtomicUsize::new(0))),
            Arc::new(CountWakes(AtomicUsize::new(0))),
        );
        let mut acquire = std::pin::pin!(sem.acquire());
        // Polled by one task, then moved to another (as select! and join! do): the second
        // waker is the one that must be woken.
        let w1 = Waker::from(Arc::clone(&first));
        assert!(
            acquire
                .as_mut()
                .poll(&mut Context::from_waker(&w1))
                .is_pending()
        );
        let w2 = Waker::from(Arc::clone(&second));
        assert!(
            acquire
                .as_mut()
                .poll(&mut Context::from_waker(&w2))
                .is_pending()
        );
        drop(held);
        assert!(
            second.0.load(SeqCst) >= 1,
            "an acquire polled first with one waker, then with another, was granted its permit, \
             and the second waker was not woken (the first was woken {} times): on every poll \
             that returns Pending, store the waker of *this* poll (or `will_wake` it), since a \
             future may move between tasks",
            first.0.load(SeqCst)
        );
        let w = Waker::from(Arc::clone(&second));
        assert!(
            matches!(
                acquire.as_mut().poll(&mut Context::from_waker(&w)),
                Poll::Ready(Ok(_))
            ),
            "after the permit was dropped, the waiting acquire should be ready with a permit"
        );
    });
}

#[test]
fn ex16_2_a_large_request_at_the_head_is_not_overtaken() {
    exercise("16.2").hangs_if(NOBODY_WAKES).run_async(|| async {
        let got = scene(
            3,
            &[
                ("A holds 1", 0, 1, 100),
                ("B holds 1", 0, 1, 40),
                ("big wants 3", 10, 3, 50),
                ("small wants 1", 20, 1, 10),
                ("medium wants 2", 30, 2, 10),
            ],
        )
        .await;
        assert_eq!(
            got,
            vec![
                ("A holds 1", 0),
                ("B holds 1", 0),
                ("big wants 3", 100),
                ("medium wants 2", 150),
                ("small wants 1", 150),
            ],
            "1 permit was free from t=0 and 2 from t=40ms, but `big` (3) asked first: `small` \
             must not overtake it, neither when it arrives nor when B gives a permit back (no \
             barging — a large request would starve behind a stream of small ones). When big \
             gives its 3 back at t=150ms, small (1) and medium (2) both fit, and both get theirs \
             at once"
        );
    });
}

#[test]
fn ex16_2_try_acquire_does_not_barge_past_waiters() {
    exercise("16.2").hangs_if(NOBODY_WAKES).run_async(|| async {
        let sem = Arc::new(Semaphore::new(2));
        let held = sem.try_acquire().expect("2 free");
        let waiter = {
            let sem = Arc::clone(&sem);
            tokio::spawn(async move { sem.acquire_many(2).await.map(|p| p.count()) })
        };
        kit::settle().await;
        // Not asserted: what `available_permits` says now. 1 is free, but a semaphore that
        // hands free permits to the head waiter as they come back (as tokio's does) says 0.
        assert!(
            matches!(sem.try_acquire(), Err(TryAcquireError::NoPermits)),
            "1 of 2 permits is held and a waiter for 2 is in line: try_acquire must not take the \
             other one past the waiter (it would starve it), and fail with NoPermits"
        );
        drop(held);
        match timeout(PATIENCE, waiter).await {
            Ok(got) => assert_eq!(joined(got), Ok(2)),
            Err(_) => {
                panic!("the waiter for 2 never got them after both were free: {NOBODY_WAKES}")
            }
        }
    });
}

#[test]
fn ex16_2_holders_never_exceed_the_permits_and_use_them_all() {
    exercise("16.2").hangs_if(NOBODY_WAKES).run_async(|| async {
        let sem = Arc::new(Semaphore::new(3));
        let inside = Arc::new(kit::HighWater::new());
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let (sem, inside) = (Arc::clone(&sem), Arc::clone(&inside));
            tasks.push(tokio::spawn(async move {
                let _permit = sem.acquire().await.expect("never closed");
                let _in = inside.enter();
                sleep(ms(10)).await;
            }));
        }
        for task in tasks {
            match timeout(PATIENCE, task).await {
                Ok(done) => joined(done),
                Err(_) => panic!("a job never got a permit: {NOBODY_WAKES}"),
            }
        }
        assert_eq!(
            inside.max(),
            3,
            "10 jobs of 10 ms on 3 permits: at most 3 may run at once, and 3 should"
        );
        assert_eq!(
            start.elapsed(),
            ms(40),
            "10 jobs of 10 ms, 3 at a time, take 4 rounds: 40 ms"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 16.3 Cancel safety and close

const CANCEL_BLOCKS: &str = "a cancelled waiter still stands in line (or holds permits it never collected): when an \
     `Acquire` is dropped before it completes, remove it from the line, give back what it was \
     granted, and serve the line again";

#[test]
fn ex16_3_a_cancelled_waiter_does_not_block_the_line() {
    exercise("16.3").hangs_if(CANCEL_BLOCKS).run_async(|| async {
        let sem = Arc::new(Semaphore::new(1));
        let held = sem.try_acquire().expect("1 free");
        let start = Instant::now();
        let quitter = {
            let sem = Arc::clone(&sem);
            tokio::spawn(async move { timeout(ms(10), sem.acquire()).await.is_err() })
        };
        let patient = {
            let sem = Arc::clone(&sem);
            tokio::spawn(async move {
                sleep(ms(1)).await;
                let _permit = sem.acquire().await.expect("never closed");
                start.elapsed()
            })
        };
        assert!(joined(quitter.await), "the quitter should have timed out");
        sleep(ms(40)).await;
        drop(held);
        match timeout(PATIENCE, patient).await {
            Ok(at) => assert_eq!(
                joined(at),
                ms(50),
                "the permit was given back at t=50ms; the waiter behind the cancelled one gets it then"
            ),
            Err(_) => panic!(
                "the waiter behind a cancelled one never got the permit: {CANCEL_BLOCKS}"
            ),
        }
        assert_eq!(sem.available_permits(), 1, "after everyone is done, the 1 permit is free");
    });
}

#[test]
fn ex16_3_a_cancelled_large_waiter_at_the_head_lets_smaller_ones_through() {
    exercise("16.3")
        .hangs_if(CANCEL_BLOCKS)
        .run_async(|| async {
            let sem = Arc::new(Semaphore::new(2));
            let held = sem.try_acquire().expect("2 free");
            let start = Instant::now();
            let big = {
                let sem = Arc::clone(&sem);
                tokio::spawn(async move { timeout(ms(10), sem.acquire_many(2)).await.is_err() })
            };
            let small = {
                let sem = Arc::clone(&sem);
                tokio::spawn(async move {
                    sleep(ms(1)).await;
                    let _permit = sem.acquire().await.expect("never closed");
                    start.elapsed()
                })
            };
            match timeout(PATIENCE, small).await {
                Ok(at) => assert_eq!(
                    joined(at),
                    ms(10),
                    "1 permit was free all along, and `small` waited only behind `big` (wants 2), \
                 which gave up at t=10ms: small must get its permit then, not when someone \
                 gives a permit back. When a waiter leaves the head, serve the line again"
                ),
                Err(_) => panic!("the small waiter never got the free permit: {CANCEL_BLOCKS}"),
            }
            assert!(joined(big.await), "big should have timed out");
            drop(held);
            assert_eq!(
                sem.available_permits(),
                2,
                "once big gave up, small got its permit and the holder dropped its own: both \
                 permits of the semaphore must be free again"
            );
        });
}

#[test]
fn ex16_3_a_waiter_cancelled_after_its_grant_gives_the_permits_back() {
    exercise("16.3").hangs_if(CANCEL_BLOCKS).run_async(|| async {
        // Cancelled while waiting, before any grant: nothing lost.
        let sem = Semaphore::new(1);
        let held = sem.try_acquire().expect("1 free");
        let mut waiting = Box::pin(sem.acquire());
        assert!(poll!(&mut waiting).is_pending(), "the only permit is held: acquire must wait");
        drop(waiting);
        drop(held);
        assert_eq!(
            sem.available_permits(),
            1,
            "a waiter was cancelled before it got anything: the permit is free once the holder drops it"
        );

        // Granted, then cancelled before it was polled again: the grant must come back,
        // and go to the next in line.
        let held = sem.try_acquire().expect("1 free");
        let mut first = Box::pin(sem.acquire());
        let mut second = Box::pin(sem.acquire());
        assert!(poll!(&mut first).is_pending());
        assert!(poll!(&mut second).is_pending());
        drop(held); // the permit now belongs to `first`, which has not seen it yet
        drop(first); // ... and never will
        let got: Result<Permit<'_>, AcquireError> = match timeout(PATIENCE, second).await {
            Ok(got) => got,
            Err(_) => panic!(
                "a waiter was granted the permit, then cancelled before it collected it, and the \
                 permit never reached the next waiter: {CANCEL_BLOCKS}"
            ),
        };
        drop(got);
        assert_eq!(
            sem.available_permits(),
            1,
            "a permit granted to a cancelled waiter must be given back, not lost"
        );
    });
}

#[test]
fn ex16_3_close_wakes_every_waiter_with_an_error() {
    const CLOSE_WAKES_NOBODY: &str = "`close` must wake every waiter, and a woken waiter whose semaphore is closed returns \
         Err(AcquireError)";
    exercise("16.3")
        .hangs_if(CLOSE_WAKES_NOBODY)
        .run_async(|| async {
            let sem = Arc::new(Semaphore::new(1));
            let held = sem.try_acquire().expect("1 free");
            let waiters: Vec<_> = (1..=3)
                .map(|n| {
                    let sem = Arc::clone(&sem);
                    tokio::spawn(async move { sem.acquire_many(n).await.map(|p| p.count()) })
                })
                .collect();
            kit::settle().await;
            sem.close();
            for (i, waiter) in waiters.into_iter().enumerate() {
                match timeout(PATIENCE, waiter).await {
                    Ok(got) => assert_eq!(
                        joined(got),
                        Err(AcquireError),
                        "waiter {} was waiting when the semaphore was closed",
                        i + 1
                    ),
                    Err(_) => panic!(
                        "waiter {} was never woken by close: {CLOSE_WAKES_NOBODY}",
                        i + 1
                    ),
                }
            }
            assert!(
                matches!(sem.try_acquire(), Err(TryAcquireError::Closed)),
                "try_acquire on a closed semaphore fails with Closed"
            );
            drop(held);
            assert!(
                matches!(sem.try_acquire(), Err(TryAcquireError::Closed)),
                "a closed semaphore stays closed, even with permits free"
            );
            match timeout(PATIENCE, sem.acquire()).await {
                Ok(got) => assert!(got.is_err(), "acquire on a closed semaphore fails at once"),
                Err(_) => panic!("acquire on a closed semaphore waited instead of failing"),
            }
        });
}

// ---------------------------------------------------------------------------------------
// 16.4 A lazy generator

const PRODUCER_RUNS_ON: &str = "the producer never stopped: `Yielder::send` must fail once the consumer dropped the \
     generator (and the channel between them must be bounded by `buffer`)";

/// Sets its flag when the producer's future is dropped: when it returned, or was aborted.
struct Ended(Arc<AtomicBool>);

impl Drop for Ended {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

/// A producer of 1, 2, 3, … (at most 1,000) that counts the items `send` accepted and
/// stops at the first `Err`.
struct Counting {
    started: Arc<AtomicBool>,
    sent: Arc<AtomicUsize>,
    ended: Arc<AtomicBool>,
}

fn counting(buffer: usize) -> (Generator<u64>, Counting) {
    let c = Counting {
        started: Arc::default(),
        sent: Arc::default(),
        ended: Arc::default(),
    };
    let (started, sent, ended) = (
        Arc::clone(&c.started),
        Arc::clone(&c.sent),
        Arc::clone(&c.ended),
    );
    let generator = Generator::new(buffer, move |y| async move {
        let _ended = Ended(ended);
        started.store(true, SeqCst);
        for i in 1..=1_000u64 {
            if y.send(i).await.is_err() {
                return;
            }
            sent.fetch_add(1, SeqCst);
        }
    });
    (generator, c)
}

#[test]
fn ex16_4_nothing_is_produced_before_the_first_poll() {
    exercise("16.4").run_async(|| async {
        let (mut generator, c) = counting(4);
        sleep(Duration::from_secs(1)).await;
        assert!(
            !c.started.load(SeqCst) && c.sent.load(SeqCst) == 0,
            "the producer ran (sent {}) before anybody asked for an item: a generator is lazy — \
             start the producer at the first poll, not in `new`",
            c.sent.load(SeqCst)
        );
        match timeout(PATIENCE, generator.next()).await {
            Ok(first) => assert_eq!(first, Some(1), "the first item"),
            Err(_) => panic!("the first poll never got an item: {PRODUCER_RUNS_ON}"),
        }
        assert!(c.started.load(SeqCst));
    });
}

#[test]
fn ex16_4_the_producer_runs_at_most_buffer_items_ahead() {
    exercise("16.4")
        .hangs_if(PRODUCER_RUNS_ON)
        .run_async(|| async {
            for buffer in [1, 3] {
                let (mut generator, c) = counting(buffer);
                for expected in 1..=2 {
                    match timeout(PATIENCE, generator.next()).await {
                        Ok(item) => assert_eq!(item, Some(expected)),
                        Err(_) => panic!("the consumer waited for ever for item {expected}"),
                    }
                }
                sleep(Duration::from_secs(1)).await;
                let sent = c.sent.load(SeqCst);
                assert!(
                    sent <= 2 + buffer,
                    "buffer {buffer}: the consumer read 2 and then nothing for a second, yet the \
                 producer had {sent} items accepted: it may run at most `buffer` ahead (a \
                 bounded channel), not on and on"
                );
                assert!(
                    !c.ended.load(SeqCst),
                    "the producer ended early, with the consumer still there"
                );
            }
        });
}

#[test]
fn ex16_4_after_take_n_and_drop_the_producer_stops() {
    exercise("16.4").hangs_if(PRODUCER_RUNS_ON).run_async(|| async {
        for (n, buffer) in [(1, 1), (3, 4), (10, 2)] {
            let (generator, c) = counting(buffer);
            let got: Vec<u64> = match timeout(PATIENCE, generator.take(n).collect()).await {
                Ok(got) => got,
                Err(_) => panic!("take({n}) never finished"),
            };
            assert_eq!(got, (1..=n as u64).collect::<Vec<_>>(), "take({n})");
            kit::settle().await;
            let sent = c.sent.load(SeqCst);
            assert!(
                sent <= n + buffer,
                "take({n}) with a buffer of {buffer}: the producer had {sent} items accepted, \
                 more than {n} taken + {buffer} buffered: `send` must fail once the consumer is gone"
            );
            assert!(
                c.ended.load(SeqCst),
                "take({n}) with a buffer of {buffer}: the consumer dropped the generator, and the \
                 producer (waiting in `send`) had not stopped 1 ms later: {PRODUCER_RUNS_ON}"
            );
            sleep(Duration::from_secs(60)).await;
            assert_eq!(c.sent.load(SeqCst), sent, "the producer went on after the drop");
        }
    });
}

#[test]
fn ex16_4_fibonacci_starts_0_1_1_2_3_5() {
    exercise("16.4").run_async(|| async {
        let first: Vec<u64> = match timeout(PATIENCE, fibonacci(2).take(12).collect()).await {
            Ok(first) => first,
            Err(_) => panic!("fibonacci(2).take(12) never finished"),
        };
        assert_eq!(first, vec![0, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89]);
    });
}

#[test]
fn ex16_4_fibonacci_ends_at_the_largest_u64_instead_of_overflowing() {
    exercise("16.4").run_async(|| async {
        // At most 200: a sequence that wraps around instead of ending would go on for ever.
        let all: Vec<u64> = match timeout(PATIENCE, fibonacci(4).take(200).collect()).await {
            Ok(all) => all,
            Err(_) => panic!(
                "fibonacci(4).take(200) never ended: the generator neither produced 200 numbers \
                 nor ended its stream (does the producer wait for room that never comes, or \
                 does poll_next return Pending without arranging a wake-up?)"
            ),
        };
        if let Some(i) = all
            .windows(3)
            .position(|w| w[0].checked_add(w[1]) != Some(w[2]))
        {
            panic!(
                "every number is the sum of the two before it, but numbers {i}, {} and {} are \
                 {:?}: the sum overflowed a u64 and wrapped around. Stop with checked_add \
                 instead (it returns None for the first sum that does not fit)",
                i + 1,
                i + 2,
                &all[i..i + 3]
            );
        }
        assert_eq!(
            (all.len(), all.last().copied()),
            (94, Some(12_200_160_415_121_876_738)),
            "the sequence has 94 numbers that fit in a u64, the last 12200160415121876738; \
             it must end there (checked_add returns None for the next) — not wrap, not panic, \
             not stop early"
        );
    });
}

kit::program_tests!("--fib", "0");
