//! Lesson 03's tests, in the order of the chapter's exercises.
//!
//! The state machine (03.2, 03.3) is tested with explicit instants: no clock at all. The
//! async breaker (03.4) runs on a paused clock, so "30 s later" takes no time and every
//! transition has an exact timestamp.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::FutureExt;
use kit::HighWater;
use lesson_03::breaker::CircuitBreaker;
use lesson_03::machine::Machine;
use lesson_03::{BreakerError, Counts, Rejected, Settings, State};
use tokio::time::{Instant, sleep};

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

type Log = Arc<Mutex<Vec<(State, State)>>>;

/// Settings that record every change of state.
fn logged(settings: Settings) -> (Settings, Log) {
    let log: Log = Arc::default();
    let sink = Arc::clone(&log);
    let settings =
        settings.on_state_change(move |_, from, to| sink.lock().unwrap().push((from, to)));
    (settings, log)
}

fn changes(log: &Log) -> Vec<(State, State)> {
    log.lock().unwrap().clone()
}

use State::{Closed, HalfOpen, Open};

// ---------------------------------------------------------------------------------------
// 03.1 counts

#[test]
fn ex03_1_counts_keep_totals_and_runs() {
    exercise("03.1").run(|| {
        let mut c = Counts::default();
        c.on_request();
        c.on_success();
        c.on_success();
        c.on_failure();
        assert_eq!(
            c,
            Counts {
                requests: 1,
                total_successes: 2,
                total_failures: 1,
                consecutive_successes: 0,
                consecutive_failures: 1,
            },
            "a failure ends the run of successes"
        );
        c.on_success();
        assert_eq!(
            (c.consecutive_successes, c.consecutive_failures),
            (1, 0),
            "a success ends the run of failures"
        );
        c.clear();
        assert_eq!(c, Counts::default());
    });
}

// ---------------------------------------------------------------------------------------
// 03.2 generations and time

#[test]
fn ex03_2_open_turns_half_open_strictly_after_the_timeout() {
    exercise("03.2").run(|| {
        let t0 = Instant::now();
        let (settings, log) = logged(Settings::new("db").timeout(secs(30)));
        let mut m = Machine::new(settings, t0);
        m.set_state(Open, t0);
        assert_eq!(m.state(t0 + secs(29)), Open);
        assert_eq!(
            m.state(t0 + secs(30)),
            Open,
            "at exactly the timeout the breaker is still open: only *after* it does it try half-open"
        );
        assert_eq!(
            m.state(t0 + secs(30) + ms(1)),
            HalfOpen,
            "just after the timeout the breaker should be half-open: does `set_state` assign the \
             new state *before* starting the new generation? (the expiry depends on the state)"
        );
        assert_eq!(changes(&log), vec![(Closed, Open), (Open, HalfOpen)]);
    });
}

#[test]
fn ex03_2_each_change_of_state_is_a_new_generation_reported_once() {
    exercise("03.2").run(|| {
        let t0 = Instant::now();
        let (settings, log) = logged(Settings::new("db"));
        let mut m = Machine::new(settings, t0);
        m.counts_mut().on_failure();
        let g0 = m.generation();
        m.set_state(Open, t0);
        assert_eq!(
            m.generation(),
            g0 + 1,
            "a change of state starts a new generation"
        );
        assert_eq!(
            m.counts(),
            Counts::default(),
            "a new generation starts with clear counts"
        );
        m.set_state(Open, t0);
        assert_eq!(
            m.generation(),
            g0 + 1,
            "staying in the same state is not a change"
        );
        m.set_state(HalfOpen, t0);
        m.set_state(Closed, t0);
        assert_eq!(m.generation(), g0 + 3);
        assert_eq!(
            changes(&log),
            vec![(Closed, Open), (Open, HalfOpen), (HalfOpen, Closed)],
            "on_state_change sees every change exactly once, and nothing else"
        );
    });
}

#[test]
fn ex03_2_closed_counts_are_cleared_every_interval() {
    exercise("03.2").run(|| {
        let t0 = Instant::now();
        let (settings, log) = logged(Settings::new("db").interval(secs(10)));
        let mut m = Machine::new(settings, t0);
        m.counts_mut().on_failure();
        m.counts_mut().on_failure();
        assert_eq!(m.state(t0 + secs(10)), Closed);
        assert_eq!(
            m.counts().total_failures,
            2,
            "at exactly the interval the counts are kept"
        );
        let g = m.generation();
        assert_eq!(m.state(t0 + secs(10) + ms(1)), Closed);
        assert_eq!(
            m.counts(),
            Counts::default(),
            "after the interval the counts are cleared"
        );
        assert_eq!(
            m.generation(),
            g + 1,
            "clearing the counts starts a new generation"
        );
        assert!(
            changes(&log).is_empty(),
            "clearing the counts is not a change of state"
        );

        // The next interval counts from the clearing.
        m.counts_mut().on_failure();
        assert_eq!(m.state(t0 + secs(20)), Closed);
        assert_eq!(
            m.counts().total_failures,
            1,
            "the next clearing is 10s after the last one, at 20.001s"
        );

        let mut never = Machine::new(Settings::new("db"), t0);
        never.counts_mut().on_failure();
        never.state(t0 + secs(100_000));
        assert_eq!(
            never.counts().total_failures,
            1,
            "an interval of zero never clears the counts"
        );
    });
}

#[test]
fn ex03_2_half_open_waits_for_results_not_for_time() {
    exercise("03.2").run(|| {
        let t0 = Instant::now();
        let mut m = Machine::new(Settings::new("db").interval(secs(5)), t0);
        m.set_state(HalfOpen, t0);
        let g = m.generation();
        assert_eq!(
            m.state(t0 + secs(3600)),
            HalfOpen,
            "half-open has no expiry"
        );
        assert_eq!(m.generation(), g);
    });
}

// ---------------------------------------------------------------------------------------
// 03.3 requests and results

/// A request that finishes at once with `success`.
fn request(m: &mut Machine, success: bool, now: Instant) -> Result<(), Rejected> {
    let generation = m.before_request(now)?;
    m.after_request(generation, success, now);
    Ok(())
}

#[test]
fn ex03_3_closed_trips_when_ready_to_trip_says_so() {
    exercise("03.3").run(|| {
        let t0 = Instant::now();
        let (settings, log) =
            logged(Settings::new("db").ready_to_trip(|c| c.consecutive_failures >= 3));
        let mut m = Machine::new(settings, t0);
        for success in [false, false, true, false, false] {
            request(&mut m, success, t0).expect("closed lets calls through");
        }
        assert_eq!(
            m.state(t0),
            Closed,
            "two failures, a success, two failures: never three in a row"
        );
        assert_eq!(
            m.counts(),
            Counts {
                requests: 5,
                total_successes: 1,
                total_failures: 4,
                consecutive_successes: 0,
                consecutive_failures: 2
            }
        );
        request(&mut m, false, t0).expect("closed lets calls through");
        assert_eq!(
            m.state(t0),
            Open,
            "the third failure in a row trips the breaker"
        );
        assert_eq!(changes(&log), vec![(Closed, Open)]);
    });
}

#[test]
fn ex03_3_open_rejects_and_counts_nothing() {
    exercise("03.3").run(|| {
        let t0 = Instant::now();
        let mut m = Machine::new(Settings::new("db").timeout(secs(30)), t0);
        m.set_state(Open, t0);
        for _ in 0..3 {
            assert_eq!(m.before_request(t0 + secs(10)), Err(Rejected::Open));
        }
        assert_eq!(
            m.counts(),
            Counts::default(),
            "a rejected call changes no count"
        );
    });
}

#[test]
fn ex03_3_half_open_lets_max_requests_through_and_closes_after_as_many_successes() {
    exercise("03.3").run(|| {
        let t0 = Instant::now();
        let (settings, log) = logged(Settings::new("db").max_requests(3).timeout(secs(30)));
        let mut m = Machine::new(settings, t0);
        m.set_state(Open, t0);
        let now = t0 + secs(31);
        let trials: Vec<u64> = (0..3)
            .map(|_| m.before_request(now).expect("a trial call"))
            .collect();
        assert_eq!(
            m.before_request(now),
            Err(Rejected::TooManyRequests),
            "max_requests = 3: three trial calls, in flight or done, and no more"
        );
        m.after_request(trials[0], true, now);
        m.after_request(trials[1], true, now);
        assert_eq!(m.state(now), HalfOpen, "two successes of three");
        m.after_request(trials[2], true, now);
        assert_eq!(
            m.state(now),
            Closed,
            "three successes in a row close the breaker"
        );
        assert_eq!(
            changes(&log),
            vec![(Closed, Open), (Open, HalfOpen), (HalfOpen, Closed)]
        );
        assert!(m.before_request(now).is_ok(), "closed again: calls pass");
    });
}

#[test]
fn ex03_3_one_failure_in_half_open_reopens() {
    exercise("03.3").run(|| {
        let t0 = Instant::now();
        let (settings, log) = logged(Settings::new("db").max_requests(2).timeout(secs(30)));
        let mut m = Machine::new(settings, t0);
        m.set_state(Open, t0);
        let now = t0 + secs(31);
        let a = m.before_request(now).expect("trial");
        let b = m.before_request(now).expect("trial");
        m.after_request(a, false, now);
        assert_eq!(m.state(now), Open, "one failed trial reopens the breaker");
        m.after_request(b, true, now);
        assert_eq!(
            m.state(now),
            Open,
            "the other trial's success belongs to the half-open generation, which is over"
        );
        assert_eq!(
            changes(&log),
            vec![(Closed, Open), (Open, HalfOpen), (HalfOpen, Open)]
        );
        assert_eq!(
            m.state(now + secs(30) + ms(1)),
            HalfOpen,
            "the new open period is a full timeout from the reopening"
        );
    });
}

#[test]
fn ex03_3_results_from_an_older_generation_are_ignored() {
    exercise("03.3").run(|| {
        let t0 = Instant::now();
        let settings = Settings::new("db")
            .interval(secs(10))
            .ready_to_trip(|c| c.consecutive_failures >= 2);
        let mut m = Machine::new(settings, t0);
        let slow = m.before_request(t0).expect("closed");
        request(&mut m, false, t0 + secs(1)).expect("closed");
        // The interval passes while `slow` is in flight: a new generation — even though
        // nobody looks at the breaker until `slow` reports.
        m.after_request(slow, false, t0 + secs(12));
        assert_eq!(
            m.counts(),
            Counts::default(),
            "a call that started before the interval ended must not be counted in the next one: \
             bring the machine up to date (current_state) before comparing generations"
        );

        // Likewise across a change of state.
        let mut m = Machine::new(Settings::new("db").timeout(secs(30)), t0);
        let late = m.before_request(t0).expect("closed");
        m.set_state(Open, t0 + secs(1));
        m.after_request(late, true, t0 + secs(2));
        assert_eq!(
            m.state(t0 + secs(2)),
            Open,
            "a late success from the closed generation moves nothing"
        );
        assert_eq!(m.counts(), Counts::default());

        // And a slow failure from before the breaker opened, arriving while it is half-open.
        let mut m = Machine::new(Settings::new("db").timeout(secs(30)), t0);
        let slow = m.before_request(t0).expect("closed");
        m.set_state(Open, t0 + secs(1));
        assert_eq!(m.state(t0 + secs(32)), HalfOpen);
        m.after_request(slow, false, t0 + secs(33));
        assert_eq!(
            m.state(t0 + secs(33)),
            HalfOpen,
            "a slow failure from the closed generation, arriving during half-open, must not \
             reopen the breaker: it says nothing about the dependency since it recovered"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 03.4 the async breaker (virtual time)

/// A breaker that opens after `failures` consecutive failures, with the given timeout.
fn breaker(failures: u32, max_requests: u32, timeout: Duration) -> (Arc<CircuitBreaker>, Log) {
    let (settings, log) = logged(
        Settings::new("dependency")
            .max_requests(max_requests)
            .timeout(timeout)
            .ready_to_trip(move |c| c.consecutive_failures >= failures),
    );
    (Arc::new(CircuitBreaker::new(settings)), log)
}

async fn fail(cb: &CircuitBreaker) {
    let r: Result<(), BreakerError<&str>> = cb.call(|| async { Err("boom") }).await;
    assert_eq!(
        r,
        Err(BreakerError::Inner("boom")),
        "while closed, the call's error comes back as Inner"
    );
}

#[test]
fn ex03_4_results_and_errors_pass_through() {
    exercise("03.4").run_async(|| async {
        let (cb, _) = breaker(5, 1, secs(30));
        let ok: Result<u32, BreakerError<String>> = cb.call(|| async { Ok(7) }).await;
        assert_eq!(ok, Ok(7));
        let err: Result<u32, BreakerError<String>> =
            cb.call(|| async { Err("nope".to_string()) }).await;
        assert_eq!(err, Err(BreakerError::Inner("nope".to_string())));
        assert_eq!(cb.state(), Closed);
    });
}

#[test]
fn ex03_4_an_open_breaker_does_not_call() {
    exercise("03.4").run_async(|| async {
        let (cb, log) = breaker(2, 1, secs(30));
        fail(&cb).await;
        fail(&cb).await;
        assert_eq!(cb.state(), Open);
        let called = AtomicU32::new(0);
        for _ in 0..3 {
            let r: Result<(), BreakerError<&str>> = cb
                .call(|| async {
                    called.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                })
                .await;
            assert_eq!(r, Err(BreakerError::Rejected(Rejected::Open)));
        }
        assert_eq!(
            called.load(Ordering::SeqCst),
            0,
            "an open breaker must not call the dependency"
        );
        assert_eq!(
            changes(&log),
            vec![(Closed, Open)],
            "rejected calls are not failures: they must not move the breaker"
        );
    });
}

#[test]
fn ex03_4_half_open_lets_at_most_max_requests_through_at_once() {
    exercise("03.4").run_async(|| async {
        let (cb, log) = breaker(1, 3, secs(30));
        fail(&cb).await;
        sleep(secs(31)).await;
        let reached = Arc::new(HighWater::new());
        let calls = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let (cb, reached, calls) = (Arc::clone(&cb), Arc::clone(&reached), Arc::clone(&calls));
            tasks.push(tokio::spawn(async move {
                cb.call(|| async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    let _in_flight = reached.enter();
                    sleep(ms(100)).await;
                    Ok::<(), &str>(())
                })
                .await
            }));
        }
        let mut rejected = 0;
        for task in tasks {
            match task.await.expect("no panic") {
                Ok(()) => {}
                Err(BreakerError::Rejected(Rejected::TooManyRequests)) => rejected += 1,
                Err(other) => panic!(
                    "a caller got {other:?} while the breaker was half-open: was a rejection \
                     reported as a failure?"
                ),
            }
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "10 callers at once while half-open with max_requests = 3: exactly 3 reach the dependency"
        );
        assert_eq!(rejected, 7, "the other 7 are rejected with TooManyRequests");
        assert_eq!(
            reached.max(),
            3,
            "the 3 trial calls should run at the same time: is the lock held during the call?"
        );
        assert_eq!(cb.state(), Closed, "3 successful trials close the breaker");
        assert_eq!(changes(&log), vec![(Closed, Open), (Open, HalfOpen), (HalfOpen, Closed)]);
    });
}

#[test]
fn ex03_4_calls_run_side_by_side() {
    exercise("03.4").run_async(|| async {
        let (cb, _) = breaker(5, 1, secs(30));
        let start = Instant::now();
        let running = HighWater::new();
        let slow = || async {
            let _running = running.enter();
            sleep(ms(100)).await;
            Ok::<(), &str>(())
        };
        let (a, b) = tokio::join!(cb.call(slow), cb.call(slow));
        assert_eq!((a, b), (Ok(()), Ok(())));
        assert_eq!(
            (running.max(), start.elapsed()),
            (2, ms(100)),
            "two 100ms calls through a closed breaker should run at the same time: is a lock \
             held while the call runs?"
        );
    });
}

#[test]
fn ex03_4_rejections_change_no_count() {
    exercise("03.4").run_async(|| async {
        let (cb, log) = breaker(1, 1, secs(30));
        fail(&cb).await;
        sleep(secs(31)).await;
        let trial = {
            let cb = Arc::clone(&cb);
            tokio::spawn(async move {
                cb.call(|| async {
                    sleep(ms(100)).await;
                    Ok::<(), &str>(())
                })
                .await
            })
        };
        kit::settle().await;
        for _ in 0..5 {
            let r: Result<(), BreakerError<&str>> = cb.call(|| async { Ok(()) }).await;
            assert_eq!(r, Err(BreakerError::Rejected(Rejected::TooManyRequests)));
        }
        assert_eq!(
            cb.counts(),
            Counts {
                requests: 1,
                ..Counts::default()
            },
            "rejected calls say nothing about the dependency: they must change no count"
        );
        assert_eq!(trial.await.expect("no panic"), Ok(()));
        assert_eq!(cb.state(), Closed, "the one trial succeeded");
        assert_eq!(
            changes(&log),
            vec![(Closed, Open), (Open, HalfOpen), (HalfOpen, Closed)]
        );
    });
}

#[test]
fn ex03_4_a_cancelled_call_counts_as_a_failure() {
    exercise("03.4").run_async(|| async {
        let (cb, log) = breaker(1, 1, secs(30));
        fail(&cb).await;
        sleep(secs(31)).await;
        // The trial call is cancelled: `timeout` drops its future after 100ms.
        let cancelled = tokio::time::timeout(
            ms(100),
            cb.call(|| async {
                sleep(secs(10)).await;
                Ok::<(), &str>(())
            }),
        )
        .await;
        assert!(
            cancelled.is_err(),
            "the call should have been cancelled by the timeout"
        );
        assert_eq!(
            cb.state(),
            Open,
            "a trial call that was cancelled (its future dropped) must still be reported, as a \
             failure — otherwise the breaker stays half-open with its only trial slot taken, \
             forever. A guard whose Drop reports the failure covers it."
        );
        sleep(secs(31)).await;
        let r: Result<(), BreakerError<&str>> = cb.call(|| async { Ok(()) }).await;
        assert_eq!(r, Ok(()), "after another timeout, a new trial goes through");
        assert_eq!(
            changes(&log),
            vec![
                (Closed, Open),
                (Open, HalfOpen),
                (HalfOpen, Open),
                (Open, HalfOpen),
                (HalfOpen, Closed)
            ]
        );
    });
}

#[test]
fn ex03_4_a_panic_is_a_failure_and_is_not_swallowed() {
    exercise("03.4").run_async(|| async {
        let (cb, _) = breaker(1, 1, secs(30));
        let outcome = AssertUnwindSafe(cb.call(|| async {
            kit::planned_panic!("the dependency panicked (a planned panic)");
            #[allow(unreachable_code)]
            Ok::<(), &str>(())
        }))
        .catch_unwind()
        .await;
        let payload =
            outcome.expect_err("the panic should reach the caller, not turn into a value");
        assert_eq!(
            payload.downcast_ref::<&str>().copied(),
            Some("the dependency panicked (a planned panic)"),
            "the caller should get the call's own panic, unchanged"
        );
        assert_eq!(cb.state(), Open, "a panicking call counts as a failure");
    });
}

#[test]
fn ex03_4_a_scripted_outage_in_virtual_time() {
    exercise("03.4").run_async(|| async {
        let start = Instant::now();
        let timeline: Arc<Mutex<Vec<(u128, State, State)>>> = Arc::default();
        let sink = Arc::clone(&timeline);
        let settings = Settings::new("dependency")
            .timeout(secs(30))
            .ready_to_trip(|c| c.consecutive_failures >= 3)
            .on_state_change(move |_, from, to| {
                sink.lock().unwrap().push((start.elapsed().as_millis(), from, to));
            });
        let cb = CircuitBreaker::new(settings);
        // One call a second; the dependency is down from t=2s to t=40s.
        for second in 0..80u64 {
            sleep_until_second(start, second).await;
            let down = (2..40).contains(&second);
            let _ = cb
                .call(|| async move {
                    sleep(ms(200)).await;
                    if down { Err("down") } else { Ok(()) }
                })
                .await;
        }
        assert_eq!(
            *timeline.lock().unwrap(),
            vec![
                (4_200, Closed, Open),
                (35_000, Open, HalfOpen),
                (35_200, HalfOpen, Open),
                (66_000, Open, HalfOpen),
                (66_200, HalfOpen, Closed),
            ],
            "(ms, from, to): calls at 2, 3 and 4s fail (each takes 200ms), so the breaker opens at \
             4.2s; the timeout ends at 34.2s, but nobody looks until the call at 35s, which becomes \
             the trial — and fails at 35.2s (the dependency is down until 40s); the next trial is \
             the call at 66s (after 65.2s), and it succeeds"
        );
    });
}

#[test]
fn ex03_4_a_result_is_judged_when_the_call_finishes() {
    exercise("03.4").run_async(|| async {
        // A slow call fails: the breaker opens when the failure is *reported*, at 10s, so
        // its 30s open period runs until 40s — not until 30s, as it would if the failure
        // were dated when the call started.
        let start = Instant::now();
        let (cb, log) = breaker(1, 1, secs(30));
        let r: Result<(), BreakerError<&str>> = cb
            .call(|| async {
                sleep(secs(10)).await;
                Err("upstream timeout")
            })
            .await;
        assert_eq!(r, Err(BreakerError::Inner("upstream timeout")));
        tokio::time::sleep_until(start + secs(40)).await;
        assert_eq!(
            cb.state(),
            Open,
            "a call started at 0s and failed at 10s, which opened the breaker: with a 30s timeout \
             it is open until 40s, and it was not at 40s. Was the result reported with an instant \
             read before the call's `.await`? Read `Instant::now()` again once the call has finished"
        );
        sleep(ms(1)).await;
        assert_eq!(cb.state(), HalfOpen, "just after 40s the breaker is half-open");
        assert_eq!(changes(&log), vec![(Closed, Open), (Open, HalfOpen)]);

        // A closed breaker clears its counts every 10s. A call that starts at 9s and fails
        // at 11s belongs to the generation that ended at 10s: its failure is ignored.
        let start = Instant::now();
        let (settings, log) = logged(
            Settings::new("dependency")
                .interval(secs(10))
                .ready_to_trip(|c| c.consecutive_failures >= 1),
        );
        let cb = CircuitBreaker::new(settings);
        tokio::time::sleep_until(start + secs(9)).await;
        let r: Result<(), BreakerError<&str>> = cb
            .call(|| async {
                sleep(secs(2)).await;
                Err("upstream timeout")
            })
            .await;
        assert_eq!(r, Err(BreakerError::Inner("upstream timeout")));
        assert_eq!(
            (cb.state(), changes(&log)),
            (Closed, vec![]),
            "a call started at 9s and failed at 11s, after the interval cleared the counts at \
             10s: its failure belongs to a generation that is over, and must not trip the \
             breaker. Report with the time the call finished (`Instant::now()` after the \
             `.await`), so the machine sees the new generation first"
        );
    });
}

async fn sleep_until_second(start: Instant, second: u64) {
    tokio::time::sleep_until(start + secs(second)).await;
}

// ---------------------------------------------------------------------------------------
// The lesson program

kit::program_tests!("--max-requests", "none");
