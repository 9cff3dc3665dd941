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

/// 300 rounds of 8 threads sending 100 requests each, at once, to a fresh limiter that
/// allows exactly 50 of them; returns the first round's count that is not 50.
fn allowed_under_contention<L: RateLimiter + 'static>(
    make: impl Fn() -> L,
) -> Option<(usize, usize)> {
    let t0 = Instant::now();
    // Many rounds: a race between a check and an update is rare in any one of them.
    for round in 0..300 {
        let limiter = Arc::new(make());
        let allowed = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Gate::new(8, Duration::from_secs(2)));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (limiter, allowed, gate) = (
                    Arc::clone(&limiter),
                    Arc::clone(&allowed),
                    Arc::clone(&gate),
                );
                thread::spawn(move || {
                    gate.arrive();
                    for _ in 0..100 {
                        if limiter.check_at(t0).is_ok() {
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
        let allowed = allowed.load(Ordering::SeqCst);
        if allowed != 50 {
            return Some((round, allowed));
        }
    }
    None
}

#[test]
fn ex05_1_check_and_take_are_one_step_under_contention() {
    exercise("05.1").run(|| {
        if let Some((round, allowed)) =
            allowed_under_contention(|| TokenBucket::new(50, Duration::from_secs(3600)))
        {
            panic!(
                "round {round}: 800 requests at once from 8 threads against a bucket of 50 \
                 tokens, and {allowed} passed, not 50 — refill, check and take the token under \
                 one lock"
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
            "at most 4 in any 1s, exactly (an entry stops counting when it is exactly 1s old: \
             at 1700ms the request of 700ms no longer counts)",
        );
    });
}

#[test]
fn ex05_4_an_entry_counts_for_exactly_one_window() {
    exercise("05.4").run(|| {
        let t0 = Instant::now();
        let log = SlidingLog::new(1, SECOND);
        assert!(log.check_at(t0).is_ok());
        let just_before = t0 + SECOND - Duration::from_nanos(1);
        match log.check_at(just_before) {
            Err(NotUntil(retry)) => assert!(
                retry == t0 + SECOND,
                "1ns before 1s the request of 0ms still counts, and the refusal named {} as the \
                 retry instant: it stops counting at exactly 0ms + window = 1000ms, so name that",
                show(retry, t0)
            ),
            Ok(_) => panic!(
                "1ns before 1s the request of 0ms still counts, but a second request was \
                 allowed: an entry counts while it is less than `window` old — forget only \
                 entries with t + window <= now"
            ),
        }
        if let Err(NotUntil(retry)) = log.check_at(t0 + SECOND) {
            panic!(
                "at 1000ms the request of 0ms is exactly 1s old and no longer counts, but the \
                 request was refused and told to retry at {}. Forget the entries with \
                 t + window <= now: comparing with `<` keeps an entry one instant too long{}",
                show(retry, t0),
                if retry <= t0 + SECOND {
                    " (which is why the refusal names an instant that has already come)"
                } else {
                    ""
                }
            );
        }
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

/// The instant a refusal names, as ms (and ns) since `t0`, for a failure message.
fn show(at: Instant, t0: Instant) -> String {
    let nanos = at.duration_since(t0).as_nanos();
    format!("{}ms ({nanos}ns)", nanos / 1_000_000)
}

/// Refused at `now` with a retry instant of exactly `want`; 1ns before it still refused;
/// at it, allowed.
fn assert_retry_exactly(
    counter: &SlidingWindowCounter,
    t0: Instant,
    now: Instant,
    want: Instant,
    why: &str,
) {
    let retry = match counter.check_at(now) {
        Err(NotUntil(retry)) => retry,
        Ok(_) => panic!(
            "at {} the request was allowed, but the estimate is over the limit: {why}",
            show(now, t0)
        ),
    };
    assert!(
        retry == want,
        "at {} the refusal named {} as the retry instant; the first instant at which a retry \
         succeeds is {}: {why}. Within a window the estimate falls as the previous window's \
         weight fades, so the retry instant is this window's start + (window - \
         floor((limit - current - 1) x window / previous)), in whole nanoseconds; only when \
         that is not before the next window's start is the next window's start the answer",
        show(now, t0),
        show(retry, t0),
        show(want, t0),
    );
    let just_before = want - Duration::from_nanos(1);
    assert!(
        counter.check_at(just_before).is_err(),
        "1ns before the retry instant ({}) the estimate is still over the limit, but the \
         request was allowed: compare previous x (window - elapsed) + (current + 1) x window \
         <= limit x window in whole nanoseconds",
        show(just_before, t0)
    );
    assert!(
        counter.check_at(want).is_ok(),
        "at the retry instant ({}) the request was refused, but the estimate is exactly within \
         the limit there: a request that NotUntil named must pass at that instant",
        show(want, t0)
    );
}

#[test]
fn ex05_5_a_refusal_names_the_exact_retry_instant() {
    exercise("05.5").run(|| {
        let t0 = Instant::now();
        let counter = SlidingWindowCounter::new(2, SECOND, t0);
        for _ in 0..2 {
            assert!(counter.check_at(t0 + ms(900)).is_ok(), "2 of 2 at 900ms");
        }
        assert_retry_exactly(
            &counter,
            t0,
            t0 + ms(1200),
            t0 + ms(1500),
            "2 x (1000 - elapsed) / 1000 + 0 + 1 <= 2 first holds 500ms into the window",
        );

        // Three requests in the first window weigh 3 x (1s - elapsed) / 1s; with a limit of 3
        // the next one fits once that is at most 2, at elapsed = 1s - floor(2s / 3) =
        // 333,333,334ns. Floating point and rounding to milliseconds both miss it.
        let counter = SlidingWindowCounter::new(3, SECOND, t0);
        for _ in 0..3 {
            assert!(counter.check_at(t0 + ms(500)).is_ok(), "3 of 3 at 500ms");
        }
        assert_retry_exactly(
            &counter,
            t0,
            t0 + ms(1100),
            t0 + SECOND + Duration::from_nanos(333_333_334),
            "3 x (1s - elapsed) / 1s + 0 + 1 <= 3 first holds 333,333,334ns into the window",
        );
    });
}

#[test]
fn ex05_5_a_refusal_at_the_end_of_a_window_names_the_next_one_or_later() {
    exercise("05.5").run(|| {
        let t0 = Instant::now();
        let counter = SlidingWindowCounter::new(2, SECOND, t0);
        for _ in 0..2 {
            assert!(counter.check_at(t0 + ms(900)).is_ok(), "2 of 2 at 900ms");
        }
        let now = t0 + ms(950);
        match counter.check_at(now) {
            Err(NotUntil(retry)) => assert!(
                retry >= t0 + SECOND && retry <= t0 + ms(1500),
                "at 950ms the window is full and nothing in it will fade: the earliest retry \
                 could be the next window's start (1000ms) — where the counts shift — and the \
                 first success is at 1500ms, but the refusal named {}",
                show(retry, t0)
            ),
            Ok(_) => panic!("at 950ms the window already has its 2 requests"),
        }
        assert!(
            counter.check_at(t0 + ms(1500)).is_ok(),
            "at 1.5s the estimate is 2 x 0.5 + 0 = 1, so one more fits"
        );
    });
}

#[test]
fn ex05_5_the_estimate_is_exact_at_the_edge() {
    exercise("05.5").run(|| {
        let t0 = Instant::now();
        let counter = SlidingWindowCounter::new(15, ms(900), t0);
        for _ in 0..15 {
            counter
                .check_at(t0 + ms(100))
                .expect("15 of 15 in the first window");
        }
        for _ in 0..4 {
            counter.check_at(t0 + ms(1150)).expect(
                "250ms into the second window the estimate is 15 x 650/900 + current + 1, within \
                 15 for the first 4 requests",
            );
        }
        assert!(
            counter
                .check_at(t0 + ms(1200) - Duration::from_nanos(1))
                .is_err(),
            "1ns before 300ms into the second window the estimate is just over 15 x 600/900 + 4 + \
             1 = 15, over the limit of 15, but the request was allowed"
        );
        assert!(
            counter.check_at(t0 + ms(1200)).is_ok(),
            "300ms into the second window the estimate is 15 x 600/900 + 4 + 1 = 15 exactly, \
             within the limit of 15, but the request was refused. In floating point, \
             15 x (1 - 300/900) + 5 comes out as 15.000000000000002: compare integers instead, \
             previous x (window - elapsed) + (current + 1) x window <= limit x window, in \
             nanoseconds as u128"
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

#[test]
fn ex05_6_check_and_update_are_one_step_under_contention() {
    exercise("05.6").run(|| {
        if let Some((round, allowed)) =
            allowed_under_contention(|| Gcra::new(1, Duration::from_secs(3600), 50))
        {
            panic!(
                "round {round}: 800 requests at once from 8 threads against a GCRA with a burst \
                 of 50, and {allowed} passed, not 50 — read the TAT, decide and store the new \
                 TAT in one step: under one lock, or (lock-free) with a compare-exchange that \
                 fails and decides again when another thread stored first"
            );
        }
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
fn ex05_7_keyed_limits_each_key() {
    exercise("05.7").run(|| {
        let t0 = Instant::now();
        let keyed: Keyed<String, TokenBucket> =
            Keyed::new(Duration::from_secs(60), |_| TokenBucket::new(2, SECOND));
        let ask = |key: &str, at: u64| keyed.check_at(&key.to_string(), t0 + ms(at)).is_ok();
        assert!(ask("ann", 0) && ask("ann", 0), "ann has 2");
        assert!(!ask("ann", 0), "ann's third is refused");
        assert!(ask("bob", 0), "bob has a bucket of his own");
        assert_eq!(keyed.len(), 2, "two keys asked, two remembered");
        assert!(!ask("ann", 500), "ann's bucket is still empty at 500ms");
        assert!(ask("ann", 1000), "ann's bucket refills at 1000ms");
    });
}

#[test]
fn ex05_7_keyed_forgets_keys_idle_for_idle_or_longer() {
    exercise("05.7").run(|| {
        let t0 = Instant::now();
        let keyed: Keyed<String, TokenBucket> =
            Keyed::new(Duration::from_secs(60), |_| TokenBucket::new(2, SECOND));
        let ask = |key: &str, at: u64| keyed.check_at(&key.to_string(), t0 + ms(at)).is_ok();
        assert!(ask("ann", 0) && ask("ann", 0) && ask("bob", 0));
        for user in 0..1000 {
            keyed
                .check_at(&format!("user-{user}"), t0 + ms(1000))
                .expect("a new key");
        }
        // Each probe is a new key, so a sweep on every call and a sweep on every new key
        // are both seen. (ms, key, how many keys should be remembered after the call, why)
        let probes = [
            (59_999, "carol", 1003, "nothing has been idle for 60s yet"),
            (
                60_000,
                "dave",
                1002,
                "ann and bob, last used at 0ms, have been idle for exactly 60s",
            ),
            (
                61_000,
                "erin",
                3,
                "the 1000 users, last used at 1000ms, have been idle for exactly 60s",
            ),
        ];
        let mut seen = Vec::new();
        for (at, key, _, _) in probes {
            assert!(ask(key, at), "{key} is new at {at}ms and has a full bucket");
            seen.push(keyed.len());
        }
        let mut table = String::from("  after the request of   remembered  want\n");
        for ((at, key, want, why), got) in probes.iter().zip(&seen) {
            let mark = if got == want { "" } else { "   <--" };
            table.push_str(&format!(
                "  {key:>5} at {at:>6}ms   {got:>10}  {want:>4}{mark}   ({why})\n"
            ));
        }
        let wanted: Vec<usize> = probes.iter().map(|p| p.2).collect();
        let cause = if seen == wanted {
            ""
        } else if seen[0] < 1003 {
            "Keys were forgotten before they had been idle for 60s: keep a key while \
             last_used + idle > now."
        } else if seen.windows(2).all(|w| w[1] > w[0]) {
            "No key was ever forgotten: the map only grows, a memory leak with one entry per \
             client. Each call should first forget the keys idle for `idle` or longer."
        } else if seen[1] == 1004 && seen[2] < 1005 {
            "Keys were forgotten, but one instant late: a key idle for exactly `idle` must go \
             too. Keep a key while last_used + idle > now (not >=)."
        } else {
            "Keys idle for `idle` or longer must be forgotten on each call, and only those."
        };
        assert!(
            seen == wanted,
            "a keyed limiter with idle = 60s remembered the wrong keys:\n{table}{cause}"
        );
        assert!(
            ask("ann", 61_000) && ask("ann", 61_000),
            "a forgotten key starts afresh, with a full bucket of 2"
        );
    });
}

// ---------------------------------------------------------------------------------------
// The lesson program

/// Not an exercise: the chapter's "In production" GCRA on integer nanoseconds makes the
/// same decisions as exercise 05.6 asks of `Gcra`: a burst, then the rate, and a refusal
/// that names the first instant at which asking again succeeds.
#[test]
fn nano_gcra_allows_a_burst_then_the_rate() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let now = AtomicU64::new(1_000);
    let limiter = lesson_05::nano_gcra::NanoGcra::new(10, Duration::from_secs(1), 3, || {
        now.load(Ordering::Relaxed)
    });
    for i in 0..3 {
        assert_eq!(limiter.check(), Ok(()), "request {i} of a burst of 3");
    }
    // Three allowed at t = 1000 ns: the TAT is 1000 + 3 × 100 ms; the tolerance 200 ms.
    let retry = 1_000 + 100_000_000;
    assert_eq!(limiter.check(), Err(retry), "the fourth request at once");
    now.store(retry - 1, Ordering::Relaxed);
    assert_eq!(limiter.check(), Err(retry), "1 ns before the retry instant");
    now.store(retry, Ordering::Relaxed);
    assert_eq!(limiter.check(), Ok(()), "at the retry instant");
    assert_eq!(
        limiter.check(),
        Err(retry + 100_000_000),
        "then one per interval"
    );
}

kit::program_tests!("--limit", "0");
