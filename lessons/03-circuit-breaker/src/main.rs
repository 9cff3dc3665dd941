//! Lesson 03's program: a circuit breaker in front of a scripted, flaky dependency.
//!
//! The clock is paused: every timestamp is virtual and exact, and the same on every run.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use lesson_03::breaker::CircuitBreaker;
use lesson_03::{BreakerError, Settings};
use tokio::time::{Instant, sleep, sleep_until};

/// Lesson 03: a circuit breaker in front of a flaky dependency.
#[derive(Parser)]
#[command(name = "lesson-03")]
struct Args {
    /// Trial calls let through while half-open (and successes needed to close).
    #[arg(long, default_value_t = 2)]
    max_requests: u32,
}

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(20));
    kit_run::brief_panics();
    kit_run::run_paused!(run(args.max_requests));
}

/// When the dependency fails: down from 1.0s to 2.5s, and again from 6.0s to 6.3s.
fn dependency_is_down(at: Duration) -> bool {
    let ms = at.as_millis();
    (1_000..2_500).contains(&ms) || (6_000..6_300).contains(&ms)
}

async fn run(max_requests: u32) {
    let start = Instant::now();
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    let changes = Arc::clone(&log);
    let settings = Settings::new("inventory")
        .max_requests(max_requests)
        .timeout(Duration::from_secs(1))
        .ready_to_trip(|c| c.consecutive_failures >= 3)
        .on_state_change(move |name, from, to| {
            changes.lock().unwrap().push(format!(
                "t={:>6.3}s  {name}: {from} -> {to}",
                start.elapsed().as_secs_f64()
            ));
        });
    let breaker = Arc::new(CircuitBreaker::new(settings));

    println!(
        "Lesson 03: a circuit breaker (trips after 3 failures in a row; 1s timeout; {max_requests} trial calls)"
    );
    println!("The dependency is down from 1.0s to 2.5s and from 6.0s to 6.3s; a call takes 80ms.");
    println!("Four callers each call every 200ms, for 8s.");
    println!();

    let tallies: Arc<Mutex<[u32; 4]>> = Arc::default();
    let mut callers = Vec::new();
    for caller in 0..4u64 {
        let (breaker, tallies) = (Arc::clone(&breaker), Arc::clone(&tallies));
        callers.push(tokio::spawn(async move {
            // Staggered by 50ms, with calls of 80ms, so no two events (a call starting, a
            // call ending) ever happen at the same virtual instant: the log is then the
            // same whatever order a runtime would run simultaneous tasks in.
            let mut next = start + Duration::from_millis(50 * caller);
            while next < start + Duration::from_secs(8) {
                sleep_until(next).await;
                let result = breaker
                    .call(|| async {
                        sleep(Duration::from_millis(80)).await;
                        if dependency_is_down(start.elapsed()) {
                            Err("503")
                        } else {
                            Ok("200")
                        }
                    })
                    .await;
                let slot = match result {
                    Ok(_) => 0,
                    Err(BreakerError::Inner(_)) => 1,
                    Err(BreakerError::Rejected(lesson_03::Rejected::Open)) => 2,
                    Err(BreakerError::Rejected(lesson_03::Rejected::TooManyRequests)) => 3,
                };
                tallies.lock().unwrap()[slot] += 1;
                next += Duration::from_millis(200);
            }
        }));
    }
    for caller in callers {
        caller.await.expect("a caller panicked");
    }

    println!("State changes:");
    for line in log.lock().unwrap().iter() {
        println!("  {line}");
    }
    let [ok, failed, open, too_many] = *tallies.lock().unwrap();
    println!();
    println!("Calls: {} in all", ok + failed + open + too_many);
    println!("  succeeded                       {ok:>4}");
    println!("  failed at the dependency        {failed:>4}");
    println!("  rejected, breaker open          {open:>4}  (the dependency never saw them)");
    println!("  rejected, too many trial calls  {too_many:>4}");
}
