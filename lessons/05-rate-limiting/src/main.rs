//! Lesson 05's program: one schedule of requests through all six algorithms, side by side.
//!
//! Time is passed to `check_at`, so every decision is exact; the async part (`acquire`)
//! runs on a paused clock.

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use lesson_05::gcra::Gcra;
use lesson_05::keyed::{Keyed, acquire};
use lesson_05::leaky_bucket::LeakyBucket;
use lesson_05::token_bucket::TokenBucket;
use lesson_05::windows::{FixedWindow, SlidingLog, SlidingWindowCounter};
use lesson_05::{NotUntil, RateLimiter};
use tokio::time::Instant;

/// Lesson 05: six rate limiters, one schedule.
#[derive(Parser)]
#[command(name = "lesson-05")]
struct Args {
    /// Requests allowed per second (and the burst), 1 to 10.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=10))]
    limit: u32,
}

/// When the requests arrive, in ms from the start.
pub const SCHEDULE: [u64; 18] = [
    0, 700, 800, 900, 950, 1000, 1000, 1050, 1100, 1300, 1500, 1700, 1750, 1800, 2000, 2200, 2600,
    3000,
];

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(20));
    kit_run::brief_panics();
    kit_run::run_paused!(run(args.limit));
}

async fn run(limit: u32) {
    let t0 = Instant::now();
    let second = Duration::from_secs(1);
    let period = second / limit;
    let limiters: Vec<(&str, Box<dyn RateLimiter>)> = vec![
        ("token", Box::new(TokenBucket::new(limit, period))),
        ("leaky", Box::new(LeakyBucket::new(limit, period))),
        ("fixed", Box::new(FixedWindow::new(limit, second, t0))),
        ("log", Box::new(SlidingLog::new(limit, second))),
        (
            "counter",
            Box::new(SlidingWindowCounter::new(limit, second, t0)),
        ),
        ("gcra", Box::new(Gcra::new(limit, second, limit))),
    ];
    println!("Lesson 05: {limit} requests per second, by six algorithms");
    println!("(ok: allowed; ok+N: allowed, leaves N ms later; no: refused)");
    println!();
    print!("{:>8}", "t (ms)");
    for (name, _) in &limiters {
        print!("{name:>9}");
    }
    println!();
    let mut allowed = vec![0; limiters.len()];
    for at in SCHEDULE {
        let now = t0 + Duration::from_millis(at);
        print!("{at:>8}");
        for (i, (_, limiter)) in limiters.iter().enumerate() {
            let cell = match limiter.check_at(now) {
                Ok(go) if go == now => {
                    allowed[i] += 1;
                    "ok".to_string()
                }
                Ok(go) => {
                    allowed[i] += 1;
                    format!("ok+{}", go.duration_since(now).as_millis())
                }
                Err(NotUntil(_)) => "no".to_string(),
            };
            print!("{cell:>9}");
        }
        println!();
    }
    print!("{:>8}", "allowed");
    for n in &allowed {
        print!("{n:>9}");
    }
    println!();
    println!();

    // Waiting instead of refusing, in virtual time.
    let bucket = Arc::new(TokenBucket::new(2, Duration::from_millis(500)));
    let start = Instant::now();
    let mut times = Vec::new();
    for _ in 0..5 {
        acquire(bucket.as_ref()).await;
        times.push(start.elapsed().as_millis().to_string());
    }
    println!(
        "acquire() on a token bucket of 2, refilled every 500ms: permits at t = {} ms",
        times.join(", ")
    );

    // Per-user limits, and forgetting idle users.
    let keyed: Keyed<u32, TokenBucket> = Keyed::new(Duration::from_secs(60), move |_| {
        TokenBucket::new(2, Duration::from_secs(1))
    });
    let t = Instant::now();
    let mut denied = 0;
    for user in 0..1000u32 {
        for _ in 0..3 {
            if keyed.check_at(&user, t).is_err() {
                denied += 1;
            }
        }
    }
    println!(
        "keyed (2 per user): 1000 users x 3 requests: {denied} refused, {} users remembered",
        keyed.len()
    );
    let _ = keyed.check_at(&7, t + Duration::from_secs(61));
    println!(
        "  one request a minute later: {} user remembered",
        keyed.len()
    );
}
