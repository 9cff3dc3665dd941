//! Lesson 05's tests, in the order of the chapter's exercises.
//!
//! Every limiter is asked with explicit instants, so each algorithm is held to its exact
//! allow/deny pattern on one schedule: 4 requests per second, the requests at the times
//! below. The expected patterns were worked out by hand in the chapter.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use kit::Gate;
use lesson_05::gcra::Gcra;
use lesson_05::keyed::{Keyed, acquire};
use lesson_05::leaky_bucket::LeakyBucket;
use lesson_05::token_bucket::TokenBucket;
use lesson_05::windows::{FixedWindow, SlidingLog, SlidingWindowCounter};
use lesson_05::{NotUntil, RateLimiter};
use tokio::time::{Instant, sleep, timeout};

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

const SECOND: Duration = Duration::from_secs(1);

/// The schedule, in ms from the start.
const SCHEDULE: [u64; 18] = [
    0, 700, 800, 900, 950, 1000, 1000, 1050, 1100, 1300, 1500, 1700, 1750, 1800, 2000, 2200, 2600,
    3000,
];

/// The limiter's answers to the schedule: `ok`, `+N` (allowed, leaves N ms later), `no`.
fn answers(limiter: &dyn RateLimiter, t0: Instant) -> Vec<String> {
    SCHEDULE
        .iter()
        .map(|&at| {
            let now = t0 + ms(at);
            match limiter.check_at(now) {
                Ok(go) if go == now => "ok".to_string(),
                Ok(go) => format!("+{}", go.duration_since(now).as_millis()),
                Err(_) => "no".to_string(),
            }
        })
        .collect()
}

fn expect(pattern: &str) -> Vec<String> {
    pattern.split_whitespace().map(str::to_string).collect()
}

/// An answer in milliseconds since `t0`: `Ok(ms to go)` or `Err(ms to retry)`, so a
/// failed assertion prints numbers, not `Instant`s.
fn in_ms(answer: Result<Instant, NotUntil>, t0: Instant) -> Result<u64, u64> {
    match answer {
        Ok(at) => Ok(at.duration_since(t0).as_millis() as u64),
        Err(NotUntil(at)) => Err(at.duration_since(t0).as_millis() as u64),
    }
}

/// Show the schedule next to the answers, for a failure message.
fn side_by_side(got: &[String], want: &[String]) -> String {
    let mut out = String::from("  t (ms)   got  want\n");
    for ((at, g), w) in SCHEDULE.iter().zip(got).zip(want) {
        let mark = if g == w { "" } else { "   <--" };
        out.push_str(&format!("  {at:>6}  {g:>4}  {w:>4}{mark}\n"));
    }
    out
}

fn assert_pattern(limiter: &dyn RateLimiter, t0: Instant, want: &str, what: &str) {
    let want = expect(want);
    let got = answers(limiter, t0);
    assert!(
        got == want,
        "{what}: the answers differ from the expected ones:\n{}",
        side_by_side(&got, &want)
    );
}

// ---------------------------------------------------------------------------------------
// 05.1 token bucket

#[test]
fn ex05_1_token_bucket_on_the_schedule() {
    exercise("05.1").run(|| {
        let t0 = Instant::now();
        assert_pattern(
            &TokenBucket::new(4, ms(250)),
            t0,
            "ok ok ok ok ok ok no no no ok ok ok no no ok ok ok ok",
            "a bucket of 4 tokens, one more every 250ms",
        );
    });
}

#[test]
fn ex05_1_refills_count_from_the_last_refill_and_stop_at_capacity() {
    exercise("05.1").run(|| {
        let t0 = Instant::now();
        let bucket = TokenBucket::new(2, ms(100));
        assert_eq!(in_ms(bucket.check_at(t0), t0), Ok(0));
        assert_eq!(in_ms(bucket.check_at(t0), t0), Ok(0));
        assert_eq!(
            in_ms(bucket.check_at(t0 + ms(50)), t0),
            Err(100),
            "empty: refused until the next refill, 100ms after the first token was taken"
        );
        assert!(
            bucket.check_at(t0 + ms(150)).is_ok(),
            "the token of t=100ms"
        );
        assert!(
            bucket.check_at(t0 + ms(210)).is_ok(),
            "the token of t=200ms: refills are every 100ms from the previous refill — counting \
             from the last request (150ms) would make it wait until 250ms"
        );

        let idle = TokenBucket::new(4, ms(100));
        for _ in 0..4 {
            idle.check_at(t0).expect("a full bucket");
        }
        let later = t0 + Duration::from_secs(3600);
        let burst = (0..10).filter(|_| idle.check_at(later).is_ok()).count();
        assert_eq!(
            burst, 4,
            "an hour after it was emptied the bucket holds its capacity of 4 tokens, never more"
        );
    });
}

#[test]
fn ex05_1_check_and_take_are_one_step_under_contention() {
    exercise("05.1").run(|| {
        let t0 = Instant::now();
        // Many rounds: a race between two lock sections is rare in any one of them.
        for round in 0..300 {
            let bucket = Arc::new(TokenBucket::new(50, Duration::from_secs(3600)));
            let allowed = Arc::new(AtomicUsize::new(0));
            let gate = Arc::new(Gate::new(8, Duration::from_secs(2)));
            let threads: Vec<_> = (0..8)
                .map(|_| {
                    let (bucket, allowed, gate) =
                        (Arc::clone(&bucket), Arc::clone(&allowed), Arc::clone(&gate));
                    thread::spawn(move || {
                        gate.arrive();
                        for _ in 0..100 {
                            if bucket.check_at(t0).is_ok() {
                                allowed.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    })
                })
                .collect();
            for t in threads {
                if let Err(panic) = t.join() {
                    // A todo! (or an overflow from two threads taking one token) goes on
                    // as this test's own panic, so the harness can name it.
                    std::panic::resume_unwind(panic);
                }
            }
            assert_eq!(
                allowed.load(Ordering::SeqCst),
                50,
                "round {round}: 800 requests at once from 8 threads against 50 tokens, and exactly \
                 50 may pass — check and take the token under one lock"
            );
        }
    });
}

// ---------------------------------------------------------------------------------------
// 05.2 leaky bucket

#[test]
fn ex05_2_leaky_bucket_on_the_schedule() {
    exercise("05.2").run(|| {
        let t0 = Instant::now();
        assert_pattern(
            &LeakyBucket::new(4, ms(250)),
            t0,
            "ok ok +150 +300 +500 +700 no no no +650 +700 +750 no no +700 +750 +600 +450",
            "a queue of 4 draining one request every 250ms",
        );
    });
}

#[test]
fn ex05_2_a_refusal_names_when_the_wait_would_be_short_enough() {
    exercise("05.2").run(|| {
        let t0 = Instant::now();
        let bucket = LeakyBucket::new(3, ms(100));
        assert_eq!(in_ms(bucket.check_at(t0), t0), Ok(0));
        assert_eq!(in_ms(bucket.check_at(t0), t0), Ok(100));
        assert_eq!(in_ms(bucket.check_at(t0), t0), Ok(200));
        assert_eq!(
            in_ms(bucket.check_at(t0), t0),
            Err(100),
            "a fourth request would leave at 300ms, a wait of 300ms; from 100ms on it would wait 200ms, the most a queue of 3 holds"
        );
        assert_eq!(in_ms(bucket.check_at(t0 + ms(100)), t0), Ok(300));
    });
}

// ---------------------------------------------------------------------------------------
// 05.3 fixed window, 05.4 sliding log, 05.5 sliding-window counter

#[test]
fn ex05_3_fixed_window_on_the_schedule() {
    exercise("05.3").run(|| {
        let t0 = Instant::now();
        let fixed = FixedWindow::new(4, SECOND, t0);
        assert_pattern(
            &fixed,
            t0,
            "ok ok ok ok no ok ok ok ok no no no no no ok ok ok ok",
            "4 per fixed window of 1s — note the 8 allowed between 700ms and 1100ms, across the boundary",
        );
        assert_eq!(
            fixed.check_at(t0 + ms(3100)),
            Ok(t0 + ms(3100)),
            "the window from 3s to 4s has had one request"
        );
    });
}

#[test]
fn ex05_3_a_refusal_names_the_next_window() {
    exercise("05.3").run(|| {
        let t0 = Instant::now();
        let fixed = FixedWindow::new(1, SECOND, t0);
        assert!(fixed.check_at(t0 + ms(2300)).is_ok());
        assert_eq!(in_ms(fixed.check_at(t0 + ms(2400)), t0), Err(3000));
    });
}

#[test]
fn ex05_4_sliding_log_on_the_schedule() {
    exercise("05.4").run(|| {
        let t0 = Instant::now();
        assert_pattern(
            &SlidingLog::new(4, SECOND),
            t0,
            "ok ok ok ok no ok no no no no no ok no ok ok ok no ok",
            "at most 4 in any 1s, exactly",
        );
    });
}

#[test]
fn ex05_4_an_entry_counts_for_exactly_one_window() {
    exercise("05.4").run(|| {
        let t0 = Instant::now();
        let log = SlidingLog::new(1, SECOND);
        assert!(log.check_at(t0).is_ok());
        assert_eq!(
            in_ms(log.check_at(t0 + ms(999)), t0),
            Err(1000),
            "999ms later the first request still counts; it stops counting at exactly 1s"
        );
        assert!(
            log.check_at(t0 + SECOND).is_ok(),
            "1s later it no longer counts"
        );
    });
}

#[test]
fn ex05_5_sliding_window_counter_on_the_schedule() {
    exercise("05.5").run(|| {
        let t0 = Instant::now();
        assert_pattern(
            &SlidingWindowCounter::new(4, SECOND, t0),
            t0,
            "ok ok ok ok no no no no no ok ok no ok no ok no ok ok",
            "the estimate previous x (1 - elapsed) + current, within 4",
        );
    });
}

#[test]
fn ex05_5_a_refusal_names_a_later_instant() {
    exercise("05.5").run(|| {
        let t0 = Instant::now();
        let counter = SlidingWindowCounter::new(2, SECOND, t0);
        for _ in 0..2 {
            assert!(counter.check_at(t0 + ms(900)).is_ok());
        }
        for at in [950, 1000, 1200] {
            let now = t0 + ms(at);
            match counter.check_at(now) {
                Err(NotUntil(retry)) => {
                    assert!(retry > now, "a retry instant must be in the future")
                }
                Ok(_) => panic!("at {at}ms the previous window's 2 requests still weigh too much"),
            }
        }
        assert!(
            counter.check_at(t0 + ms(1500)).is_ok(),
            "at 1.5s the estimate is 2 x 0.5 = 1"
        );
    });
}

#[test]
fn ex05_5_the_estimate_is_exact_at_the_edge() {
    exercise("05.5").run(|| {
        let t0 = Instant::now();
        let counter = SlidingWindowCounter::new(10, ms(300), t0);
        for _ in 0..10 {
            counter
                .check_at(t0 + ms(100))
                .expect("10 of 10 in the first window");
        }
        assert!(
            counter.check_at(t0 + ms(330)).is_ok(),
            "30ms into the next window the estimate is 10 x 270/300 + 1 = 10 exactly, within the \
             limit of 10. Computed in floating point it can come out as 10.000000000000002: \
             compare integers (nanoseconds, u128)"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 05.6 GCRA

#[test]
fn ex05_6_gcra_on_the_schedule() {
    exercise("05.6").run(|| {
        let t0 = Instant::now();
        assert_pattern(
            &Gcra::new(4, SECOND, 4),
            t0,
            "ok ok ok ok ok ok no no no ok ok ok no no ok ok ok ok",
            "GCRA at 4 per second with bursts of 4",
        );
    });
}

#[test]
fn ex05_6_a_refusal_names_the_exact_retry_instant() {
    exercise("05.6").run(|| {
        let t0 = Instant::now();
        let gcra = Gcra::new(2, SECOND, 2);
        assert!(gcra.check_at(t0).is_ok());
        assert!(gcra.check_at(t0).is_ok(), "a burst of 2");
        assert_eq!(
            in_ms(gcra.check_at(t0 + ms(100)), t0),
            Err(500),
            "the TAT is 1000ms and the tolerance 500ms: come back at 500ms"
        );
        assert!(
            gcra.check_at(t0 + ms(500)).is_ok(),
            "a request that NotUntil named passes then"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 05.7 acquire and the keyed limiter (virtual time)

#[test]
fn ex05_7_acquire_waits_exactly_as_long_as_needed() {
    exercise("05.7")
        .hangs_if("acquire polls without sleeping: sleep until the instant NotUntil names")
        .run_async(|| async {
            let start = Instant::now();
            let bucket = TokenBucket::new(2, ms(500));
            let mut times = Vec::new();
            for _ in 0..5 {
                acquire(&bucket).await;
                times.push(start.elapsed().as_millis());
            }
            assert_eq!(
                times,
                vec![0, 0, 500, 1000, 1500],
                "virtual ms at which each acquire returned"
            );

            let leaky = LeakyBucket::new(3, ms(100));
            let start = Instant::now();
            for _ in 0..3 {
                acquire(&leaky).await;
            }
            assert_eq!(
                start.elapsed(),
                ms(200),
                "the leaky bucket's third request leaves at 200ms"
            );
        });
}

/// Counts how often it is asked.
struct Counting<L> {
    inner: L,
    asked: AtomicUsize,
}

impl<L: RateLimiter> RateLimiter for Counting<L> {
    fn check_at(&self, now: Instant) -> Result<Instant, NotUntil> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        self.inner.check_at(now)
    }
}

#[test]
fn ex05_7_acquire_sleeps_instead_of_polling() {
    exercise("05.7")
        .hangs_if("acquire polls without sleeping: sleep until the instant NotUntil names")
        .run_async(|| async {
            let limiter = Counting {
                inner: TokenBucket::new(1, ms(500)),
                asked: AtomicUsize::new(0),
            };
            acquire(&limiter).await;
            acquire(&limiter).await;
            let asked = limiter.asked.load(Ordering::SeqCst);
            assert_eq!(
                asked, 3,
                "two acquires should ask 3 times — allowed; refused until 500ms; allowed at 500ms — \
                 but asked {asked} times: sleep until the instant NotUntil names, do not poll"
            );
        });
}

#[test]
fn ex05_7_a_cancelled_acquire_costs_nothing() {
    exercise("05.7")
        .hangs_if("acquire polls without sleeping: sleep until the instant NotUntil names")
        .run_async(|| async {
            let start = Instant::now();
            let bucket = TokenBucket::new(1, ms(100));
            acquire(&bucket).await;
            // Give up on waiting after 50ms: the token of t=100ms must still be there.
            assert!(timeout(ms(50), acquire(&bucket)).await.is_err(), "there is no token until 100ms");
            sleep(ms(60)).await;
            assert!(
                bucket.try_acquire().is_ok(),
                "at 110ms the token of 100ms should be free: the cancelled acquire must not have taken it"
            );
            assert_eq!(start.elapsed(), ms(110));
        });
}

#[test]
fn ex05_7_keyed_limits_each_key_and_forgets_idle_ones() {
    exercise("05.7").run(|| {
        let t0 = Instant::now();
        let keyed: Keyed<String, TokenBucket> =
            Keyed::new(Duration::from_secs(60), |_| TokenBucket::new(2, SECOND));
        let ask = |key: &str, at: u64| keyed.check_at(&key.to_string(), t0 + ms(at)).is_ok();
        assert!(ask("ann", 0) && ask("ann", 0), "ann has 2");
        assert!(!ask("ann", 0), "ann's third is refused");
        assert!(ask("bob", 0), "bob has a bucket of his own");
        assert_eq!(keyed.len(), 2);
        for user in 0..1000 {
            keyed
                .check_at(&format!("user-{user}"), t0 + ms(1000))
                .expect("a new key");
        }
        assert_eq!(keyed.len(), 1002);
        assert!(ask("carol", 61_000));
        let remembered = keyed.len();
        assert_eq!(
            remembered, 1,
            "61s later every key but carol's has been idle for 60s or more and should be \
             forgotten, but {remembered} keys are remembered: a map that only grows is a memory \
             leak with one entry per client"
        );
        assert!(
            ask("ann", 61_000) && ask("ann", 61_000),
            "a forgotten key starts afresh"
        );
    });
}

// ---------------------------------------------------------------------------------------
// The lesson program

kit::program_tests!("--limit", "0");
