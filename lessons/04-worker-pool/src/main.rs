//! Lesson 04's program: both pools at work.
//!
//! The thread pool's results are printed by job id, and its concurrency as a property
//! ("never more than N"), since which thread ran what changes from run to run. The tokio
//! pool runs on a paused clock, so even its shutdown is exact.

use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use kit_run::HighWater;
use lesson_04::async_pool::AsyncPool;
use lesson_04::pool::Pool;
use lesson_04::{JobError, JobResult};
use tokio::time::{Instant, sleep};

/// Lesson 04: a worker pool on threads and on tokio.
#[derive(Parser)]
#[command(name = "lesson-04")]
struct Args {
    /// Worker threads (and tasks), 1 to 16.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=16))]
    workers: u8,
}

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(20));
    kit_run::brief_panics();
    let workers = usize::from(args.workers);

    println!("Lesson 04: a worker pool");
    println!();
    println!("Threads: {workers} workers, a queue of 4; 10 jobs, job 6 panics");
    let running = Arc::new(HighWater::new());
    let pool: Pool<String> = Pool::new(workers, 4);
    for n in 0..10u64 {
        let running = Arc::clone(&running);
        pool.submit(move || {
            let _running = running.enter();
            std::thread::sleep(Duration::from_millis(2));
            if n == 6 {
                panic!("job 6 cannot parse its input");
            }
            format!("fib({}) = {}", 20 + n, fib(20 + n))
        })
        .unwrap_or_else(|_| panic!("the pool is open"));
    }
    let results = pool.close();
    print_results(&results);
    println!(
        "  jobs running at once never exceeded {workers}: {}",
        if running.max() <= workers {
            "yes"
        } else {
            "NO"
        }
    );
    println!();

    kit_run::run_paused!(tokio_pool());
}

async fn tokio_pool() {
    println!("Tokio: 1 worker task; 6 jobs of 100ms each; shutdown_now at t=250ms (virtual time)");
    let start = Instant::now();
    let pool: AsyncPool<String> = AsyncPool::new(1, 8);
    for n in 0..6u64 {
        pool.submit(async move {
            sleep(Duration::from_millis(100)).await;
            format!("report {n} sent")
        })
        .await
        .unwrap_or_else(|_| panic!("the pool is open"));
    }
    sleep(Duration::from_millis(250)).await;
    let shutdown = pool.shutdown_now().await;
    print_results(&shutdown.results);
    println!(
        "  shutdown_now returned at t={}ms: {} finished, {} discarded unrun",
        start.elapsed().as_millis(),
        shutdown.results.len(),
        shutdown.discarded
    );
}

fn print_results(results: &[JobResult<String>]) {
    let (mut ok, mut failed) = (0, 0);
    for r in results {
        match &r.outcome {
            Ok(value) => {
                ok += 1;
                println!("  job {:>2}: {value}", r.id);
            }
            Err(JobError::Panicked(message)) => {
                failed += 1;
                println!("  job {:>2}: panicked: {message}", r.id);
            }
        }
    }
    println!("  ok {ok}, failed {failed}");
}

fn fib(n: u64) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a + b);
    }
    a
}
