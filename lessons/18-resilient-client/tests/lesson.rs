//! Lesson 18's tests, in the order of the chapter's exercises.
//!
//! Everything runs on a paused clock (`kit`): the scripted service's `Slow(ms)` and every
//! backoff pause take virtual time, so call times are exact and a test that waits an hour
//! takes microseconds. Times are compared relative to the test's start, never absolute.
//! The scripted service (`flaky.rs`) panics when it is called without a `poll_ready` first
//! on the same clone, so every test also checks tower's contract.

use std::time::Duration;

use lesson_18::breaker::{BreakerState, CircuitBreakerLayer};
use lesson_18::client::{Client, ClientConfig, ClientError};
use lesson_18::errors::{Elapsed, Failed, GaveUp, Rejected};
use lesson_18::flaky::{Flaky, Req, Step};
use lesson_18::limit::ConcurrencyLimitLayer;
use lesson_18::retry::{RetryLayer, RetryPolicy};
use lesson_18::timeout::TimeoutLayer;
use tokio::time::{Instant, sleep};
use tower::{BoxError, Layer, Service, ServiceBuilder, ServiceExt};

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Virtual milliseconds since `start`.
fn since(start: Instant) -> u64 {
    start.elapsed().as_millis() as u64
}

/// Waits until `svc` is ready, then calls it: the one correct way to use a `Service`.
async fn send<S>(svc: &mut S, req: Req) -> Result<u32, BoxError>
where
    S: Service<Req, Response = u32, Error = BoxError>,
{
    svc.ready().await?.call(req).await
}

/// What a spawned task returned; a panic in it goes on as this test's own.
fn joined<T>(result: Result<T, tokio::task::JoinError>) -> T {
    match result {
        Ok(value) => value,
        Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
        Err(error) => panic!("a task of the test was cancelled: {error}"),
    }
}

/// The virtual times of the calls the service received.
fn times(flaky: &Flaky) -> Vec<u64> {
    flaky.calls().iter().map(|c| c.at_ms).collect()
}

fn gaps(times: &[u64]) -> Vec<u64> {
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

fn policy(max_attempts: u32, base: u64, cap: u64, budget: u32, seed: u64) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        base: ms(base),
        cap: ms(cap),
        budget,
        seed,
    }
}

fn fails(n: usize) -> Vec<Step> {
    vec![Step::Fail; n]
}

// ---------------------------------------------------------------------------------------
// 18.1 A per-attempt timeout

#[test]
fn ex18_1_a_slow_call_fails_with_elapsed_at_the_limit() {
    exercise("18.1").run_async(|| async {
        let start = Instant::now();
        let flaky = Flaky::new([Step::Slow(100), Step::Slow(30), Step::Fail]);
        let mut svc = TimeoutLayer::new(ms(50)).layer(flaky.clone());

        let err = send(&mut svc, Req::read(1))
            .await
            .expect_err("a call that takes 100ms under a 50ms timeout must fail");
        assert!(
            err.is::<Elapsed>(),
            "a timed-out call must fail with errors::Elapsed, got: {err}"
        );
        assert_eq!(
            since(start),
            50,
            "the timeout of 50ms must end the call after 50ms (virtual), not when the slow call ends"
        );

        let t = Instant::now();
        assert_eq!(send(&mut svc, Req::read(2)).await.ok(), Some(2));
        assert_eq!(since(t), 30, "a call of 30ms under a 50ms timeout takes 30ms");

        let err = send(&mut svc, Req::read(3))
            .await
            .expect_err("the script fails call 3");
        assert!(
            err.is::<Failed>(),
            "the inner service's own error must pass through unchanged, got: {err}"
        );
        assert_eq!(flaky.call_count(), 3);
    });
}

#[test]
fn ex18_1_waits_for_the_inner_service_to_be_ready() {
    exercise("18.1")
        .hangs_if("Timeout::poll_ready never answers Ready")
        .run_async(|| async {
            // Your layer over tower's own rate limit (1 call per 100ms): tower's
            // RateLimit panics when it is called without being polled ready first.
            let start = Instant::now();
            let flaky = Flaky::new([]);
            let mut svc = ServiceBuilder::new()
                .layer(TimeoutLayer::new(ms(50)))
                .rate_limit(1, ms(100))
                .service(flaky.clone());
            for id in 1..=3 {
                assert_eq!(send(&mut svc, Req::read(id)).await.ok(), Some(id));
            }
            assert_eq!(
                times(&flaky),
                vec![0, 100, 200],
                "tower's rate limit (1 per 100ms) under your timeout must space the calls \
                 100ms apart: Timeout::poll_ready must ask the inner service"
            );
            assert!(since(start) >= 200);
        });
}

#[test]
fn ex18_1_the_clock_starts_in_call_not_in_poll_ready() {
    exercise("18.1")
        .hangs_if("Timeout::poll_ready never answers Ready")
        .run_async(|| async {
            // Under tower's rate limit (1 call per 100ms), request 2 is polled ready at 0ms
            // and admitted at 100ms; it answers 30ms later, well within its 50ms.
            let flaky = Flaky::new([Step::Ok, Step::Slow(30)]);
            let mut svc = ServiceBuilder::new()
                .layer(TimeoutLayer::new(ms(50)))
                .rate_limit(1, ms(100))
                .service(flaky.clone());
            assert_eq!(send(&mut svc, Req::read(1)).await.ok(), Some(1));
            let answer = send(&mut svc, Req::read(2)).await;
            assert_eq!(
                answer.as_ref().map_err(|e| e.to_string()),
                Ok(&2),
                "request 2 waited 100ms in poll_ready for the rate limit, then answered 30ms after \
                 `call`: it must not time out. The 50ms are the attempt's, from `call` on — a \
                 deadline set in poll_ready counts the wait to be admitted too"
            );
        });
}

#[test]
fn ex18_1_a_timed_out_call_is_cancelled() {
    exercise("18.1").run_async(|| async {
        let flaky = Flaky::new([Step::Slow(100), Step::Slow(10)]);
        let mut svc = TimeoutLayer::new(ms(50)).layer(flaky.clone());
        let err = send(&mut svc, Req::read(1))
            .await
            .expect_err("a call of 100ms under a 50ms timeout");
        assert!(err.is::<Elapsed>(), "got: {err}");
        // Request 2 is sent at 50ms, when request 1 would still be running until 100ms.
        assert_eq!(send(&mut svc, Req::read(2)).await.ok(), Some(2));
        assert_eq!(
            flaky.max_in_flight(),
            1,
            "request 1 timed out at 50ms, yet the service still had it in flight when request 2 \
             came: when the time is up, the timeout must drop (cancel) the inner future. A future \
             handed to tokio::spawn keeps running after its JoinHandle times out"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 18.2 Retries with capped backoff, jitter and a budget

#[test]
fn ex18_2_backoff_doubles_up_to_the_cap() {
    exercise("18.2").run(|| {
        let p = policy(10, 10, 80, 0, 1);
        let got: Vec<Duration> = [1, 2, 3, 4, 5, 9].iter().map(|&n| p.backoff(n)).collect();
        assert_eq!(
            got,
            vec![ms(10), ms(20), ms(40), ms(80), ms(80), ms(80)],
            "backoff(n) for n = 1, 2, 3, 4, 5, 9 with base 10ms and cap 80ms: min(cap, base·2^(n-1))"
        );
        assert_eq!(
            p.backoff(64),
            ms(80),
            "backoff(64) must not overflow: 2^63 · 10ms is far above the cap"
        );
        assert_eq!(p.backoff(u32::MAX), ms(80), "backoff(u32::MAX)");
    });
}

/// One idempotent request against `script` through a retry layer with `policy`; the call
/// times.
async fn retried_call_times(script: Vec<Step>, policy: RetryPolicy) -> Vec<u64> {
    let flaky = Flaky::new(script);
    let mut svc = RetryLayer::new(policy).layer(flaky.clone());
    let _ = send(&mut svc, Req::read(1)).await;
    times(&flaky)
}

#[test]
fn ex18_2_pauses_grow_with_jitter_and_stay_under_the_cap() {
    exercise("18.2").run_async(|| async {
        let mut script = fails(6);
        script.push(Step::Ok);
        let t = retried_call_times(script, policy(7, 10, 40, 100, 7)).await;
        assert_eq!(
            t.len(),
            7,
            "6 failures then a success with max_attempts 7: 7 attempts, got call times {t:?}"
        );
        let delays = [10u64, 20, 40, 40, 40, 40];
        let g = gaps(&t);
        for (i, (&gap, &d)) in g.iter().zip(&delays).enumerate() {
            assert!(
                d / 2 <= gap && gap <= d,
                "the pause before retry {} must be in [{}ms, {}ms] (backoff min(cap 40ms, 10ms·2^{i}) = \
                 {d}ms, jittered to between half and all of it), got {gap}ms; all pauses: {g:?}",
                i + 1,
                d / 2,
                d
            );
        }
        assert_ne!(
            g,
            delays.to_vec(),
            "every pause was exactly the backoff: there is no jitter (draw each pause between half the \
             backoff and all of it)"
        );
    });
}

#[test]
fn ex18_2_the_same_seed_gives_the_same_pauses() {
    exercise("18.2").run_async(|| async {
        let script = fails(6);
        let a = retried_call_times(script.clone(), policy(6, 20, 1000, 100, 42)).await;
        let b = retried_call_times(script.clone(), policy(6, 20, 1000, 100, 42)).await;
        let c = retried_call_times(script, policy(6, 20, 1000, 100, 43)).await;
        assert_eq!(
            gaps(&a),
            gaps(&b),
            "two runs with seed 42 must pause exactly alike: draw the jitter from a StdRng seeded \
             with policy.seed (not from the clock, not from the OS)"
        );
        assert_ne!(
            gaps(&a),
            gaps(&c),
            "seeds 42 and 43 gave the same pauses: the jitter does not come from the seed"
        );
    });
}

#[test]
fn ex18_2_gives_up_with_every_attempts_error() {
    exercise("18.2").run_async(|| async {
        let flaky = Flaky::new(fails(10));
        let mut svc = RetryLayer::new(policy(3, 10, 100, 100, 1)).layer(flaky.clone());
        let err = send(&mut svc, Req::read(5))
            .await
            .expect_err("every attempt fails");
        assert_eq!(flaky.call_count(), 3, "max_attempts 3 means 3 calls in all");
        let gave_up = err.downcast_ref::<GaveUp>().unwrap_or_else(|| {
            panic!("after 3 failed attempts the error must be errors::GaveUp, got: {err}")
        });
        let texts: Vec<String> = gave_up.attempts.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            texts,
            vec!["request 5 failed"; 3],
            "GaveUp.attempts: each attempt's error, in order"
        );

        let flaky = Flaky::new(fails(1));
        let mut svc = RetryLayer::new(policy(1, 10, 100, 100, 1)).layer(flaky.clone());
        let err = send(&mut svc, Req::read(6)).await.expect_err("it fails");
        assert!(
            err.is::<Failed>(),
            "with max_attempts 1 nothing is retried: the one error comes back as it is, got: {err}"
        );
    });
}

#[test]
fn ex18_2_a_refusal_is_not_retried() {
    exercise("18.2").run_async(|| async {
        let start = Instant::now();
        let flaky = Flaky::new([Step::Reject, Step::Ok]);
        let mut svc = RetryLayer::new(policy(5, 10, 100, 100, 1)).layer(flaky.clone());
        let err = send(&mut svc, Req::read(1))
            .await
            .expect_err("the first answer is a refusal");
        assert!(
            err.is::<Rejected>(),
            "a Rejected must come back as it is (not retried, not wrapped), got: {err}"
        );
        assert_eq!(
            (flaky.call_count(), since(start)),
            (1, 0),
            "(calls, virtual ms): a refusal is not retried — nothing was tried, and an open \
             breaker would refuse again"
        );
    });
}

#[test]
fn ex18_2_a_request_that_is_not_idempotent_is_not_retried() {
    exercise("18.2").run_async(|| async {
        let flaky = Flaky::new([Step::Fail, Step::Ok]);
        let mut svc = RetryLayer::new(policy(5, 10, 100, 100, 1)).layer(flaky.clone());
        let err = send(&mut svc, Req::write(9))
            .await
            .expect_err("the write's first attempt fails");
        assert!(
            err.is::<Failed>(),
            "the write's own error must come back as it is, got: {err}"
        );
        assert_eq!(
            flaky.call_count(),
            1,
            "Req::write(9) is not idempotent: it must be sent once (a retried payment pays twice)"
        );
        assert_eq!(send(&mut svc, Req::read(10)).await.ok(), Some(10));
    });
}

#[test]
fn ex18_2_the_budget_caps_the_retries_of_all_requests() {
    exercise("18.2").run_async(|| async {
        let flaky = Flaky::new(fails(50));
        let layer = RetryLayer::new(policy(5, 10, 100, 3, 1));
        let mut a = layer.layer(flaky.clone());
        let mut b = layer.layer(flaky.clone());
        let _ = send(&mut a, Req::read(1)).await;
        assert_eq!(
            flaky.call_count(),
            4,
            "budget 3, max_attempts 5: the first request may make 1 attempt + 3 retries"
        );
        let _ = send(&mut b, Req::read(2)).await;
        let _ = send(&mut a.clone(), Req::read(3)).await;
        assert_eq!(
            flaky.call_count(),
            6,
            "with the budget spent, later requests — through another service of the same layer, \
             or a clone — get one attempt each: the budget is shared by everything one RetryLayer makes"
        );
    });
}

#[test]
fn ex18_2_the_last_failure_spends_no_budget() {
    exercise("18.2").run_async(|| async {
        let flaky = Flaky::new(fails(10));
        let mut svc = RetryLayer::new(policy(2, 10, 100, 2, 1)).layer(flaky.clone());
        let _ = send(&mut svc, Req::read(1)).await;
        assert_eq!(
            flaky.call_count(),
            2,
            "max_attempts 2: request 1 makes 2 attempts"
        );
        let _ = send(&mut svc, Req::read(2)).await;
        assert_eq!(
            flaky.call_count(),
            4,
            "budget 2, max_attempts 2: request 1 made 1 retry, so 1 is left and request 2 may \
             retry once too. A retry is taken from the budget only when it is made: check \
             max_attempts first, and take from the budget only if another attempt is allowed"
        );
    });
}

#[test]
fn ex18_2_stopped_after_one_attempt_by_the_budget_gives_that_error() {
    exercise("18.2").run_async(|| async {
        let flaky = Flaky::new(fails(10));
        let mut svc = RetryLayer::new(policy(3, 10, 100, 0, 1)).layer(flaky.clone());
        let err = send(&mut svc, Req::read(1))
            .await
            .expect_err("every attempt fails");
        assert_eq!(flaky.call_count(), 1, "budget 0: no retry");
        assert!(
            err.is::<Failed>(),
            "max_attempts 3 but budget 0: one attempt was made, so its own error must come back \
             as it is (GaveUp means it was retried at least once), got: {err}"
        );
    });
}

#[test]
fn ex18_2_polls_each_attempt_ready() {
    exercise("18.2")
        .hangs_if("Retry::poll_ready or a retry waits for a readiness that never comes")
        .run_async(|| async {
            // Over tower's ConcurrencyLimit of 1: it panics when called without the permit
            // its poll_ready takes.
            let flaky = Flaky::new([Step::Fail, Step::Fail, Step::Ok, Step::Fail, Step::Ok]);
            let mut svc = ServiceBuilder::new()
                .layer(RetryLayer::new(policy(5, 10, 100, 100, 1)))
                .concurrency_limit(1)
                .service(flaky.clone());
            assert_eq!(send(&mut svc, Req::read(1)).await.ok(), Some(1));
            assert_eq!(send(&mut svc, Req::read(2)).await.ok(), Some(2));
            assert_eq!(flaky.call_count(), 5);
            assert!(flaky.violations().is_empty());
        });
}

// ---------------------------------------------------------------------------------------
// 18.3 A circuit breaker layer

#[test]
fn ex18_3_opens_after_threshold_failures_in_a_row() {
    exercise("18.3").run_async(|| async {
        let start = Instant::now();
        let flaky = Flaky::new([
            Step::Fail,
            Step::Fail,
            Step::Ok,
            Step::Fail,
            Step::Fail,
            Step::Slow(10),
        ]);
        let breaker = CircuitBreakerLayer::new(3, ms(1000));
        let mut svc = breaker.layer(flaky.clone());
        for id in 1..=6 {
            let _ = send(&mut svc, Req::read(id)).await;
            assert_eq!(
                breaker.state(),
                BreakerState::Closed,
                "after call {id} of fail, fail, ok, fail, fail, ok (threshold 3): a success resets \
                 the count of failures in a row, so the breaker stays closed"
            );
        }
        let flaky2 = Flaky::new(fails(5));
        let mut svc = breaker.layer(flaky2.clone());
        for id in 7..=9 {
            let _ = send(&mut svc, Req::read(id)).await;
        }
        assert_eq!(
            breaker.state(),
            BreakerState::Open,
            "3 failures in a row with threshold 3 must open the breaker"
        );
        let tr = breaker.transitions();
        assert_eq!(
            tr.iter().map(|t| t.to).collect::<Vec<_>>(),
            vec![BreakerState::Open],
            "one transition so far"
        );
        assert_eq!(
            (tr[0].at - start).as_millis(),
            10,
            "it opened at the 3rd failure"
        );
        let err = send(&mut svc, Req::read(10))
            .await
            .expect_err("an open breaker refuses");
        assert_eq!(
            err.downcast_ref::<Rejected>(),
            Some(&Rejected {
                by: "circuit breaker"
            }),
            "an open breaker must refuse with Rejected {{ by: \"circuit breaker\" }}, got: {err}"
        );
        assert_eq!(
            flaky2.call_count(),
            3,
            "a refused call must not reach the service"
        );
    });
}

#[test]
fn ex18_3_after_the_cooldown_one_probe_goes_through() {
    exercise("18.3").run_async(|| async {
        let start = Instant::now();
        let flaky = Flaky::new([Step::Fail, Step::Slow(100), Step::Ok]);
        let breaker = CircuitBreakerLayer::new(1, ms(1000));
        let svc = breaker.layer(flaky.clone());
        let _ = send(&mut svc.clone(), Req::read(1)).await;
        assert_eq!(breaker.state(), BreakerState::Open, "threshold 1, one failure");
        sleep(ms(999)).await;
        let err = send(&mut svc.clone(), Req::read(2)).await.expect_err(
            "at 999ms of a 1000ms cooldown the breaker must still refuse",
        );
        assert!(err.is::<Rejected>(), "got: {err}");
        sleep(ms(1)).await;
        // Three calls at once when the cooldown is over: one probe, two refusals.
        let mut tasks = Vec::new();
        for id in 3..=5 {
            let mut s = svc.clone();
            tasks.push(tokio::spawn(async move { send(&mut s, Req::read(id)).await }));
        }
        let mut ok = 0;
        let mut refused = 0;
        for task in tasks {
            match joined(task.await) {
                Ok(_) => ok += 1,
                Err(e) if e.is::<Rejected>() => refused += 1,
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        assert_eq!(
            (ok, refused, flaky.call_count()),
            (1, 2, 2),
            "(succeeded, refused, calls to the service) for three calls when the cooldown ended: \
             half-open lets exactly one probe through and refuses the others while it is out"
        );
        assert_eq!(breaker.state(), BreakerState::Closed, "the probe succeeded");
        let tr: Vec<(u128, BreakerState)> = breaker
            .transitions()
            .iter()
            .map(|t| ((t.at - start).as_millis(), t.to))
            .collect();
        assert_eq!(
            tr,
            vec![
                (0, BreakerState::Open),
                (1000, BreakerState::HalfOpen),
                (1100, BreakerState::Closed)
            ],
            "the transitions (virtual ms, state): open at the failure, half-open when the first call \
             after the cooldown comes, closed when the 100ms probe succeeds"
        );
        assert_eq!(send(&mut svc.clone(), Req::read(6)).await.ok(), Some(6));
    });
}

#[test]
fn ex18_3_a_failed_probe_opens_it_again() {
    exercise("18.3").run_async(|| async {
        let start = Instant::now();
        let flaky = Flaky::new([Step::Fail, Step::Fail, Step::Ok]);
        let breaker = CircuitBreakerLayer::new(1, ms(1000));
        let mut svc = breaker.layer(flaky.clone());
        let _ = send(&mut svc, Req::read(1)).await;
        sleep(ms(1000)).await;
        let _ = send(&mut svc, Req::read(2)).await;
        assert_eq!(
            breaker.state(),
            BreakerState::Open,
            "the probe failed: the breaker must open again"
        );
        sleep(ms(500)).await;
        let err = send(&mut svc, Req::read(3))
            .await
            .expect_err("500ms into the new cooldown");
        assert!(
            err.is::<Rejected>(),
            "a failed probe starts a new cooldown, got: {err}"
        );
        sleep(ms(500)).await;
        assert_eq!(send(&mut svc, Req::read(4)).await.ok(), Some(4));
        let tr: Vec<(u128, BreakerState)> = breaker
            .transitions()
            .iter()
            .map(|t| ((t.at - start).as_millis(), t.to))
            .collect();
        use BreakerState::*;
        assert_eq!(
            tr,
            vec![
                (0, Open),
                (1000, HalfOpen),
                (1000, Open),
                (2000, HalfOpen),
                (2000, Closed)
            ],
            "the transitions (virtual ms, state)"
        );
        assert_eq!(flaky.call_count(), 3);
    });
}

#[test]
fn ex18_3_a_timeout_counts_as_a_failure() {
    exercise("18.3").run_async(|| async {
        let flaky = Flaky::new([Step::Slow(100), Step::Slow(100), Step::Ok]);
        let breaker = CircuitBreakerLayer::new(2, ms(1000));
        let mut svc = breaker.layer(TimeoutLayer::new(ms(50)).layer(flaky.clone()));
        for id in 1..=2 {
            let err = send(&mut svc, Req::read(id))
                .await
                .expect_err("a call of 100ms under a 50ms timeout");
            assert!(err.is::<Elapsed>(), "got: {err}");
        }
        assert_eq!(
            breaker.state(),
            BreakerState::Open,
            "two timed-out calls in a row with threshold 2 must open the breaker: every error of \
             the inner service is a failure, a timeout (errors::Elapsed) included — not only \
             errors::Failed. A dependency that hangs is the first one a breaker must stop calling"
        );
        let err = send(&mut svc, Req::read(3))
            .await
            .expect_err("an open breaker refuses");
        assert!(err.is::<Rejected>(), "got: {err}");
        assert_eq!(flaky.call_count(), 2);
    });
}

#[test]
fn ex18_3_an_open_breaker_is_ready_and_refuses_in_call() {
    exercise("18.3")
        .hangs_if("an open breaker's poll_ready never answers")
        .run_async(|| async {
            let flaky = Flaky::new([Step::Fail]);
            let breaker = CircuitBreakerLayer::new(1, ms(1000));
            let mut svc = breaker.layer(flaky.clone());
            let _ = send(&mut svc, Req::read(1)).await;
            assert_eq!(
                breaker.state(),
                BreakerState::Open,
                "threshold 1, one failure"
            );
            if let Err(e) = svc.ready().await {
                panic!(
                    "an open breaker's poll_ready must answer the inner service's readiness \
                     (Ready(Ok) here), and refuse from `call` instead: to tower, an error from \
                     poll_ready means the service is broken for good. Got: {e}"
                );
            }
            let err = svc.call(Req::read(2)).await.expect_err("open: refused");
            assert!(err.is::<Rejected>(), "got: {err}");

            // Why it matters: tower's Buffer in front of the breaker. An error from
            // poll_ready ends the Buffer's worker, and every later call fails, for ever.
            let flaky = Flaky::new([Step::Fail]);
            let breaker = CircuitBreakerLayer::new(1, ms(1000));
            let buffered = ServiceBuilder::new()
                .buffer(4)
                .layer(breaker.clone())
                .service(flaky.clone());
            let _ = buffered.clone().oneshot(Req::read(1)).await;
            let refused = buffered.clone().oneshot(Req::read(2)).await;
            assert!(
                refused.as_ref().is_err_and(|e| e.is::<Rejected>()),
                "behind tower's Buffer, an open breaker must refuse with Rejected, got: {:?}",
                refused.map_err(|e| e.to_string())
            );
            sleep(ms(1000)).await;
            let probe = buffered.clone().oneshot(Req::read(3)).await;
            assert_eq!(
                probe.map_err(|e| e.to_string()),
                Ok(3),
                "behind tower's Buffer, the breaker must recover after its cooldown (the probe \
                 goes through): an error from poll_ready would have ended the Buffer's worker"
            );
        });
}

#[test]
fn ex18_3_a_handle_polled_ready_and_dropped_takes_no_probe() {
    exercise("18.3").run_async(|| async {
        let flaky = Flaky::new([Step::Fail]);
        let breaker = CircuitBreakerLayer::new(1, ms(1000));
        let svc = breaker.layer(flaky.clone());
        let _ = send(&mut svc.clone(), Req::read(1)).await;
        sleep(ms(1000)).await;
        // A caller polls a handle ready after the cooldown, then gives up without calling.
        let mut idle = svc.clone();
        idle.ready().await.expect("ready");
        drop(idle);
        assert_eq!(
            send(&mut svc.clone(), Req::read(2))
                .await
                .map_err(|e| e.to_string()),
            Ok(2),
            "a handle that was polled ready after the cooldown and dropped without `call` must \
             not hold the one probe: admit (and choose the probe) in `call`, not in poll_ready, \
             or the breaker stays half-open, refusing everything, for ever"
        );
        assert_eq!(breaker.state(), BreakerState::Closed, "the probe succeeded");
    });
}

#[test]
fn ex18_3_a_late_failure_while_open_changes_nothing() {
    exercise("18.3").run_async(|| async {
        let start = Instant::now();
        let flaky = Flaky::new([Step::Slow(100), Step::Fail, Step::Ok]);
        let breaker = CircuitBreakerLayer::new(1, ms(1000));
        let svc = breaker.layer(TimeoutLayer::new(ms(50)).layer(flaky.clone()));
        // Request 1 is let through while closed; it will time out at 50ms.
        let mut a = svc.clone();
        a.ready().await.expect("ready");
        let slow = a.call(Req::read(1));
        // Request 2 fails at 0ms: the breaker opens.
        let _ = send(&mut svc.clone(), Req::read(2)).await;
        assert_eq!(
            breaker.state(),
            BreakerState::Open,
            "threshold 1, one failure"
        );
        let _ = slow.await;
        let tr: Vec<(u128, BreakerState)> = breaker
            .transitions()
            .iter()
            .map(|t| ((t.at - start).as_millis(), t.to))
            .collect();
        assert_eq!(
            tr,
            vec![(0, BreakerState::Open)],
            "request 1 was let through while closed and timed out at 50ms, when the breaker was \
             already open: a normal call's outcome counts only while the breaker is closed. \
             Counting it opened the breaker again (and restarted the cooldown). Transitions \
             (virtual ms, state)"
        );
        sleep(ms(950)).await;
        assert_eq!(
            send(&mut svc.clone(), Req::read(3))
                .await
                .map_err(|e| e.to_string()),
            Ok(3),
            "1000ms after it opened, the cooldown is over: the probe goes through"
        );
    });
}

#[test]
fn ex18_3_a_probe_dropped_before_it_answers_counts_as_failed() {
    exercise("18.3").run_async(|| async {
        let start = Instant::now();
        let flaky = Flaky::new([Step::Fail, Step::Slow(100), Step::Ok]);
        let breaker = CircuitBreakerLayer::new(1, ms(1000));
        let svc = breaker.layer(flaky.clone());
        let _ = send(&mut svc.clone(), Req::read(1)).await;
        sleep(ms(1000)).await;
        // The probe takes 100ms; its caller gives up after 50ms and drops its future.
        let mut probe = svc.clone();
        let gave_up = tokio::time::timeout(ms(50), send(&mut probe, Req::read(2))).await;
        assert!(
            gave_up.is_err(),
            "the probe takes 100ms, the caller waits 50ms"
        );
        assert_eq!(
            breaker.state(),
            BreakerState::Open,
            "the probe's response future was dropped before it answered (its caller gave up): \
             that probe failed, and the breaker must open again. Otherwise it stays half-open, \
             refusing everything, for ever. Make the Outcome guard in `call`, move it into the \
             response future and record with it: its Drop records a dropped probe as failed"
        );
        sleep(ms(1000)).await;
        assert_eq!(send(&mut svc.clone(), Req::read(3)).await.ok(), Some(3));
        let tr: Vec<(u128, BreakerState)> = breaker
            .transitions()
            .iter()
            .map(|t| ((t.at - start).as_millis(), t.to))
            .collect();
        use BreakerState::*;
        assert_eq!(
            tr,
            vec![
                (0, Open),
                (1000, HalfOpen),
                (1050, Open),
                (2050, HalfOpen),
                (2050, Closed)
            ],
            "the transitions (virtual ms, state)"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 18.4 A concurrency limit with back-pressure

#[test]
fn ex18_4_at_most_max_calls_in_flight() {
    exercise("18.4")
        .hangs_if("a permit is never given back, or poll_ready never wakes its caller")
        .run_async(|| async {
            let start = Instant::now();
            let flaky = Flaky::new(vec![Step::Slow(100); 10]);
            let svc = ConcurrencyLimitLayer::new(3).layer(flaky.clone());
            let mut tasks = Vec::new();
            for id in 0..10 {
                let s = svc.clone();
                tasks.push(tokio::spawn(async move { s.oneshot(Req::read(id)).await }));
            }
            for task in tasks {
                joined(task.await).expect("every call succeeds");
            }
            assert_eq!(
                flaky.max_in_flight(),
                3,
                "10 calls of 100ms through a limit of 3 (clones share the limit): the service must \
                 see at most 3 — and at some point 3 — at once; a permit is held until the \
                 response future ends, not just until `call` returns"
            );
            assert_eq!(
                since(start),
                400,
                "10 calls of 100ms, 3 at a time, take 4 rounds"
            );
        });
}

#[test]
fn ex18_4_poll_ready_waits_for_a_permit() {
    exercise("18.4")
        .hangs_if("the waiting clone is never woken when the permit comes back")
        .run_async(|| async {
            let flaky = Flaky::new([Step::Slow(50)]);
            let mut a = ConcurrencyLimitLayer::new(1).layer(flaky.clone());
            let mut b = a.clone();
            a.ready().await.expect("the first clone gets the one permit");
            assert!(
                futures::poll!(b.ready()).is_pending(),
                "limit 1 with its permit taken by another clone's poll_ready: poll_ready must be Pending"
            );
            let t = Instant::now();
            let call = a.call(Req::read(1));
            let waiter = tokio::spawn(async move {
                b.ready().await.expect("ready after the permit comes back");
                b.call(Req::read(2)).await
            });
            assert_eq!(call.await.ok(), Some(1));
            assert_eq!(joined(waiter.await).ok(), Some(2));
            assert_eq!(since(t), 50, "the second call ran as soon as the first ended");
        });
}

/// How many of 20 callers are admitted (their `poll_ready` says Ready) at once, without
/// any call finishing, by `svc`; and the most in flight at the service.
async fn admitted_at_once<S>(svc: S, flaky: &Flaky) -> (usize, usize)
where
    S: Service<Req, Response = u32, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send,
{
    let start = Instant::now();
    let mut tasks = Vec::new();
    for id in 0..20 {
        let mut s = svc.clone();
        tasks.push(tokio::spawn(async move {
            s.ready().await.expect("ready");
            let admitted_at = since(start);
            let _ = s.call(Req::read(id)).await;
            admitted_at
        }));
    }
    let mut at_once = 0;
    for task in tasks {
        if joined(task.await) == 0 {
            at_once += 1;
        }
    }
    let _ = flaky;
    (at_once, flaky.max_in_flight())
}

#[test]
fn ex18_4_a_buffer_outside_the_limit_admits_buffer_plus_limit() {
    exercise("18.4").run_async(|| async {
        // tower's Buffer (a queue of 5 in front of a worker task) and your limit of 2.
        let flaky = Flaky::new(vec![Step::Slow(1000); 20]);
        let limit_outside = ServiceBuilder::new()
            .layer(ConcurrencyLimitLayer::new(2))
            .buffer(5)
            .service(flaky.clone());
        let (outside, in_flight) = admitted_at_once(limit_outside, &flaky).await;
        assert_eq!(
            (outside, in_flight),
            (2, 2),
            "(callers admitted at once, most in flight) with the limit of 2 outside a buffer of 5: \
             the limit admits 2"
        );
        let flaky = Flaky::new(vec![Step::Slow(1000); 20]);
        let buffer_outside = ServiceBuilder::new()
            .buffer(5)
            .layer(ConcurrencyLimitLayer::new(2))
            .service(flaky.clone());
        let (inside, in_flight) = admitted_at_once(buffer_outside, &flaky).await;
        assert_eq!(in_flight, 2, "the service never sees more than the limit");
        assert!(
            inside >= 5 + 2,
            "a buffer of 5 outside a limit of 2 admits (takes responsibility for) at least 5 + 2 \
             callers at once, got {inside}: the limit is 2 at the service, not at the caller"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 18.5 The composed client

#[test]
fn ex18_5_order_timeout_inside_or_outside_retry() {
    exercise("18.5").run_async(|| async {
        let script = [Step::Slow(500), Step::Ok];
        let retry = policy(3, 10, 100, 100, 1);

        let flaky = Flaky::new(script);
        let start = Instant::now();
        let mut inside = ServiceBuilder::new()
            .layer(RetryLayer::new(retry))
            .layer(TimeoutLayer::new(ms(100)))
            .service(flaky.clone());
        let answer = send(&mut inside, Req::read(1)).await;
        let took = since(start);
        assert_eq!(
            answer.ok(),
            Some(1),
            "timeout inside retry: attempt 2 succeeds"
        );
        assert_eq!(flaky.call_count(), 2);
        assert!(
            (105..=110).contains(&took),
            "timeout inside retry: 100ms for the cut-off attempt, 5-10ms pause, then the answer: \
             took {took}ms"
        );

        let flaky = Flaky::new(script);
        let start = Instant::now();
        let mut outside = ServiceBuilder::new()
            .layer(TimeoutLayer::new(ms(100)))
            .layer(RetryLayer::new(retry))
            .service(flaky.clone());
        let err = send(&mut outside, Req::read(1))
            .await
            .expect_err("timeout outside retry: the slow first attempt uses up the whole 100ms");
        assert!(err.is::<Elapsed>(), "got: {err}");
        assert_eq!(
            (flaky.call_count(), since(start)),
            (1, 100),
            "timeout outside retry bounds all attempts together: 1 call, failed at 100ms"
        );
    });
}

#[test]
fn ex18_5_order_retry_outside_or_inside_the_breaker() {
    exercise("18.5").run_async(|| async {
        let retry = policy(3, 10, 100, 100, 1);

        let flaky = Flaky::new(fails(20));
        let breaker = CircuitBreakerLayer::new(3, ms(60_000));
        let mut outside = ServiceBuilder::new()
            .layer(RetryLayer::new(retry))
            .layer(breaker.clone())
            .service(flaky.clone());
        let _ = send(&mut outside, Req::read(1)).await;
        let second = send(&mut outside, Req::read(2)).await;
        assert!(
            second.as_ref().is_err_and(|e| e.is::<Rejected>()),
            "retry outside the breaker: 3 failed attempts open it, and the 2nd request is refused"
        );
        assert_eq!(
            (flaky.call_count(), breaker.state()),
            (3, BreakerState::Open),
            "retry outside the breaker: (calls to the dependency, breaker state)"
        );

        let flaky = Flaky::new(fails(20));
        let breaker = CircuitBreakerLayer::new(3, ms(60_000));
        let mut inside = ServiceBuilder::new()
            .layer(breaker.clone())
            .layer(RetryLayer::new(retry))
            .service(flaky.clone());
        let _ = send(&mut inside, Req::read(1)).await;
        let _ = send(&mut inside, Req::read(2)).await;
        assert_eq!(
            (flaky.call_count(), breaker.state()),
            (6, BreakerState::Closed),
            "retry inside the breaker: the breaker sees 2 failures (one per request) while the \
             failing dependency got 6 calls: (calls, breaker state)"
        );
    });
}

fn config() -> ClientConfig {
    ClientConfig {
        limit: 2,
        timeout: ms(100),
        retry: policy(3, 10, 100, 100, 1),
        breaker_threshold: 3,
        breaker_cooldown: ms(60_000),
    }
}

#[test]
fn ex18_5_the_client_gives_each_attempt_its_own_timeout() {
    exercise("18.5").run_async(|| async {
        let flaky = Flaky::new([Step::Slow(500), Step::Ok]);
        let client = Client::new(flaky.clone(), &config());
        assert_eq!(
            client.send(Req::read(1)).await,
            Ok(1),
            "the first attempt is cut off at 100ms and the retry succeeds: the timeout must be \
             inside the retry"
        );
        assert_eq!(flaky.call_count(), 2);
    });
}

#[test]
fn ex18_5_the_clients_breaker_counts_every_attempt() {
    exercise("18.5").run_async(|| async {
        let flaky = Flaky::new(fails(20));
        let client = Client::new(flaky.clone(), &config());
        assert_eq!(
            client.send(Req::read(1)).await,
            Err(ClientError::GaveUp {
                attempts: vec!["request 1 failed".to_string(); 3]
            }),
            "3 failed attempts"
        );
        assert_eq!(
            client.breaker().state(),
            BreakerState::Open,
            "3 failed attempts, threshold 3: the breaker must count each attempt (retry outside \
             the breaker)"
        );
        assert_eq!(
            client.send(Req::read(2)).await,
            Err(ClientError::Rejected {
                by: "circuit breaker"
            })
        );
        assert_eq!(flaky.call_count(), 3);
    });
}

#[test]
fn ex18_5_timeouts_open_the_clients_breaker() {
    exercise("18.5").run_async(|| async {
        let flaky = Flaky::new(vec![Step::Slow(500); 20]);
        let client = Client::new(flaky.clone(), &config());
        assert_eq!(
            client.send(Req::read(1)).await,
            Err(ClientError::GaveUp {
                attempts: vec!["timed out".to_string(); 3]
            }),
            "a dependency that hangs: 3 attempts, each cut off at 100ms"
        );
        assert_eq!(
            client.breaker().state(),
            BreakerState::Open,
            "3 timed-out attempts, threshold 3: the breaker must count them. The timeout must be \
             inside the breaker: outside, it drops the breaker's response future before the \
             outcome is recorded, and a dependency that always hangs never opens the breaker"
        );
        assert_eq!(
            client.send(Req::read(2)).await,
            Err(ClientError::Rejected {
                by: "circuit breaker"
            })
        );
        assert_eq!(flaky.call_count(), 3);
    });
}

#[test]
fn ex18_5_errors_say_what_failed() {
    exercise("18.5").run_async(|| async {
        let flaky = Flaky::new([Step::Fail, Step::Slow(500), Step::Reject]);
        let client = Client::new(flaky.clone(), &config());
        assert_eq!(
            client.send(Req::write(7)).await,
            Err(ClientError::Failed("request 7 failed".to_string())),
            "a write fails once and is not retried"
        );
        assert_eq!(
            client.send(Req::write(8)).await,
            Err(ClientError::TimedOut),
            "a write that times out"
        );
        assert_eq!(
            client.send(Req::read(9)).await,
            Err(ClientError::Rejected { by: "script" }),
            "a refusal from below"
        );
        assert_eq!(flaky.call_count(), 3);
    });
}

#[test]
fn ex18_5_the_client_limits_requests_in_flight() {
    exercise("18.5").run_async(|| async {
        let flaky = Flaky::new(vec![Step::Slow(50); 6]);
        let client = Client::new(flaky.clone(), &config());
        let mut tasks = Vec::new();
        for id in 0..6 {
            let c = client.clone();
            tasks.push(tokio::spawn(async move { c.send(Req::read(id)).await }));
        }
        for task in tasks {
            assert!(joined(task.await).is_ok());
        }
        assert_eq!(
            flaky.max_in_flight(),
            2,
            "limit 2: at most 2 requests in flight (clones of the client share the limit)"
        );
    });
}

kit::program_tests!("--requests", "0");
