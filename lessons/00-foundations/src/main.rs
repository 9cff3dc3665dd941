//! Lesson 00's program: every exercise at work on a small scenario.
//!
//! Everything printed is the same on every run: thread results in index order, async
//! parts on a paused clock (every `t=` is virtual and exact).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Parser;
use kit_run::HighWater;
use lesson_00::cancel::run_workers;
use lesson_00::errgroup::try_all;
use lesson_00::fan_out::fan_out;
use lesson_00::scoped::map_scoped;
use lesson_00::select::collect_quotes;
use lesson_00::shared::gather;
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep, sleep_until};
use tokio_util::sync::CancellationToken;

/// Lesson 00: threads, tasks, channels and cancellation.
#[derive(Parser)]
#[command(name = "lesson-00")]
struct Args {
    /// Worker threads for the fan-out (1 to 16).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=16))]
    workers: u8,
}

const LINES: [&str; 8] = [
    "a goroutine is not a thread",
    "close the channel by dropping every sender",
    "select picks a ready branch",
    "a context is a cancellation token",
    "errgroup returns the first error",
    "the lock owns the data",
    "scoped threads may borrow",
    "join every task you start",
];

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(20));
    kit_run::brief_panics();
    let workers = usize::from(args.workers);

    println!("Lesson 00: threads, tasks, channels, cancellation");
    println!();

    println!("00.1 scoped threads: one thread per word, lengths in input order");
    let words = ["goroutine", "thread", "task", "channel"];
    let lengths = map_scoped(&words, |w| w.len());
    for (word, len) in words.iter().zip(&lengths) {
        println!("  {word:<10} {len}");
    }
    println!();

    println!("00.2 Arc<Mutex<Vec>>: 5 threads push (i, i*i), sorted after the join");
    let squares = gather(5, |i| i * i);
    let shown: Vec<String> = squares.iter().map(|(i, s)| format!("{i}->{s}")).collect();
    println!("  {}", shown.join("  "));
    println!();

    println!(
        "00.3 fan-out: {} lines over {workers} workers, results by job index",
        LINES.len()
    );
    let in_flight = HighWater::new();
    let counts = fan_out(LINES.to_vec(), workers, |line| {
        let _job = in_flight.enter();
        line.split_whitespace().count()
    });
    for (index, words) in &counts {
        println!("  job {index}: {words} words  \"{}\"", LINES[*index]);
    }
    println!(
        "  jobs running at once never exceeded {workers}: {}",
        if in_flight.max() <= workers {
            "yes"
        } else {
            "NO"
        }
    );
    println!();

    // The async half runs in virtual time: the clock only moves when every task waits.
    kit_run::run_paused!(async_part());
}

async fn async_part() {
    println!("00.4 select!: two price feeds, a 100ms deadline (virtual time)");
    let start = Instant::now();
    let primary = feed(start, &[(10, 101), (40, 102)], 45);
    let backup = feed(start, &[(25, 201), (70, 202), (130, 203)], 150);
    let collected = collect_quotes(primary, backup, Duration::from_millis(100)).await;
    for (feed, quote) in &collected.quotes {
        println!("  {feed:?}: {quote}");
    }
    println!(
        "  ended at t={}ms by {}",
        start.elapsed().as_millis(),
        if collected.timed_out {
            "the deadline"
        } else {
            "both feeds closing"
        }
    );
    println!();

    println!("00.5 CancellationToken: 4 workers with 1, 5, 2, 4 units of 10ms; cancel at t=25ms");
    let start = Instant::now();
    let token = CancellationToken::new();
    let canceller = token.clone();
    tokio::spawn(async move {
        sleep(Duration::from_millis(25)).await;
        canceller.cancel();
    });
    let jobs = vec![1, 5, 2, 4];
    let reports = run_workers(jobs.clone(), Duration::from_millis(10), token).await;
    for r in &reports {
        let how = if r.cancelled {
            "observed the cancellation"
        } else {
            "finished"
        };
        println!(
            "  worker {}: {} of {} units, {how}",
            r.worker, r.done, jobs[r.worker]
        );
    }
    println!("  all joined at t={}ms", start.elapsed().as_millis());
    println!();

    println!("00.6 errgroup: three replicas; replica 1 fails at t=20ms");
    let start = Instant::now();
    let finished: Arc<Vec<AtomicBool>> = Arc::new((0..3).map(|_| AtomicBool::new(false)).collect());
    let replica = |i: usize, ms: u64, outcome: Result<&'static str, String>| {
        let finished = Arc::clone(&finished);
        async move {
            sleep(Duration::from_millis(ms)).await;
            finished[i].store(true, Ordering::SeqCst);
            outcome
        }
    };
    let result = try_all(vec![
        replica(0, 80, Ok("replica 0 synced")),
        replica(1, 20, Err("replica 1: disk full".to_string())),
        replica(2, 60, Ok("replica 2 synced")),
    ])
    .await;
    println!(
        "  result: {result:?} at t={}ms",
        start.elapsed().as_millis()
    );
    sleep(Duration::from_millis(200)).await;
    let ran_on: Vec<usize> = (0..3)
        .filter(|&i| i != 1 && finished[i].load(Ordering::SeqCst))
        .collect();
    println!(
        "  replicas that ran on after the error: {}",
        if ran_on.is_empty() {
            "none".to_string()
        } else {
            format!("{ran_on:?}")
        }
    );
}

/// A price feed: sends each quote at its time (ms after `start`), closes at `close_at`.
fn feed(start: Instant, script: &[(u64, u32)], close_at: u64) -> mpsc::Receiver<u32> {
    let (tx, rx) = mpsc::channel(4);
    let script = script.to_vec();
    tokio::spawn(async move {
        for (at, quote) in script {
            sleep_until(start + Duration::from_millis(at)).await;
            let _ = tx.send(quote).await;
        }
        sleep_until(start + Duration::from_millis(close_at)).await;
    });
    rx
}
