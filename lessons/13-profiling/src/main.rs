//! Lesson 13's program: the learner's optimisation report. Without `--timings` it prints
//! only what holds on every run (layout, shard choice, counts, buffer reuse); with it, it
//! also measures and prints speed ratios, which change from run to run.

use std::hint::black_box;
use std::thread;
use std::time::{Duration, Instant};

use clap::Parser;
use crossbeam_utils::CachePadded;
use lesson_13::naive::{AdjacentPair, MutexCounter};
use lesson_13::padding::HotPair;
use lesson_13::pool::BufferPool;
use lesson_13::sharded::ShardedCounter;

/// Lesson 13: the optimisation report.
#[derive(Parser)]
#[command(name = "lesson-13")]
struct Args {
    /// How many workers add to the counters (1 to 16).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=16))]
    workers: u32,
    /// Also measure the speedups (they differ on every run and every machine).
    #[arg(long)]
    timings: bool,
}

const ADDS: u64 = 100_000;
const REQUESTS: usize = 1_000;

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "NO" }
}

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(20));
    kit_run::brief_panics();
    let workers = args.workers as usize;
    let line = std::mem::align_of::<CachePadded<u8>>();
    let plural = if workers == 1 { "" } else { "s" };
    println!("Lesson 13: the optimisation report ({workers} worker{plural})");

    println!("\n13.1 false sharing");
    let pair = HotPair::new();
    let a = pair.requests() as *const _ as usize;
    let b = pair.errors() as *const _ as usize;
    println!(
        "  requests and errors on different {line}-byte lines: {}",
        yes(a / line != b / line)
    );
    thread::scope(|s| {
        s.spawn(|| (0..ADDS).for_each(|_| pair.add_request()));
        s.spawn(|| (0..ADDS).for_each(|_| pair.add_error()));
    });
    println!(
        "  after {ADDS} of each: requests {}, errors {}",
        pair.requests().load(std::sync::atomic::Ordering::Relaxed),
        pair.errors().load(std::sync::atomic::Ordering::Relaxed)
    );

    println!("\n13.2 sharded counter");
    let counter = ShardedCounter::new(workers);
    thread::scope(|s| {
        for w in 0..workers {
            let counter = &counter;
            s.spawn(move || (0..ADDS).for_each(|_| counter.add(w, 1)));
        }
    });
    let mut shards: Vec<usize> = (0..workers).map(|w| counter.shard_of(w)).collect();
    shards.sort_unstable();
    shards.dedup();
    println!("  {workers} workers × {ADDS} adds: sum {}", counter.sum());
    println!(
        "  each worker on a shard of its own: {}",
        yes(shards.len() == workers)
    );

    println!("\n13.3 buffer pool");
    let pool = BufferPool::new(8, 4096);
    let first = pool.get();
    let first_at = first.as_ptr();
    pool.put(first);
    let mut reused = 0;
    for i in 0..REQUESTS {
        let mut buffer = pool.get();
        let was_empty = buffer.is_empty();
        buffer.extend_from_slice(&[i as u8; 1000]);
        reused += usize::from(was_empty && buffer.as_ptr() == first_at);
        pool.put(buffer);
    }
    println!("  {REQUESTS} requests one after another: the same buffer came back {reused} times");
    let held: Vec<Vec<u8>> = (0..20).map(|_| pool.get()).collect();
    held.into_iter().for_each(|b| pool.put(b));
    println!(
        "  20 buffers given back, at most 8 kept: idle {}",
        pool.idle()
    );

    if args.timings {
        println!("\ntimings (this run, this machine; they change from run to run)");
        timings(workers);
    }
}

fn time(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// `new`'s time as a multiple of `old`'s: below 1.0× is faster.
fn ratio(new: Duration, old: Duration) -> String {
    format!("{:.2}×", new.as_secs_f64() / old.as_secs_f64().max(1e-9))
}

fn timings(workers: usize) {
    let adds = 1_000_000u64;
    let mutex = MutexCounter::default();
    let t_mutex = time(|| {
        thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| (0..adds).for_each(|_| mutex.add(1)));
            }
        })
    });
    let sharded = ShardedCounter::new(workers);
    let t_sharded = time(|| {
        thread::scope(|s| {
            for w in 0..workers {
                let sharded = &sharded;
                s.spawn(move || (0..adds).for_each(|_| sharded.add(w, 1)));
            }
        })
    });
    println!(
        "  {workers} workers × {adds} adds: Mutex {t_mutex:.2?}, sharded {t_sharded:.2?}: sharded takes {} the Mutex's time",
        ratio(t_sharded, t_mutex)
    );

    let adjacent = AdjacentPair::default();
    let t_adjacent = time(|| {
        thread::scope(|s| {
            s.spawn(|| (0..adds).for_each(|_| adjacent.add_request()));
            s.spawn(|| (0..adds).for_each(|_| adjacent.add_error()));
        })
    });
    let padded = HotPair::new();
    let t_padded = time(|| {
        thread::scope(|s| {
            s.spawn(|| (0..adds).for_each(|_| padded.add_request()));
            s.spawn(|| (0..adds).for_each(|_| padded.add_error()));
        })
    });
    println!(
        "  two threads × {adds} adds: adjacent {t_adjacent:.2?}, padded {t_padded:.2?}: padded takes {} the adjacent pair's time",
        ratio(t_padded, t_adjacent)
    );

    let requests = 100_000;
    let t_fresh = time(|| {
        for i in 0..requests {
            let mut buffer = Vec::with_capacity(4096);
            buffer.extend_from_slice(&[i as u8; 1000]);
            black_box(&buffer);
        }
    });
    let pool = BufferPool::new(8, 4096);
    let t_pool = time(|| {
        for i in 0..requests {
            let mut buffer = pool.get();
            buffer.extend_from_slice(&[i as u8; 1000]);
            black_box(&buffer);
            pool.put(buffer);
        }
    });
    println!(
        "  {requests} requests: a fresh buffer each {t_fresh:.2?}, pooled {t_pool:.2?}: pooled takes {} a fresh buffer's time",
        ratio(t_pool, t_fresh)
    );
    println!("  (below 1.00× is faster)");
    if cfg!(debug_assertions) {
        println!("  (a debug build: run with --release for numbers worth quoting)");
    }
}
