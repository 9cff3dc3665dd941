//! The program the chapter's flamegraph was recorded from: a request loop before any
//! optimisation — every request allocates a fresh buffer and bumps a statistic behind one
//! `Mutex` shared by all workers — then the same loop with the lesson's fixes. The chapter's
//! flamegraph is redrawn with
//!
//! ```sh
//! bash lessons/13-profiling/scripts/flamegraph.sh
//! ```
//!
//! which samples this program with `perf` (no root needed at perf_event_paranoid ≤ 2) and
//! draws it with inferno.

use std::hint::black_box;
use std::thread;

use lesson_13::naive::MutexCounter;
use lesson_13::pool::BufferPool;
use lesson_13::sharded::ShardedCounter;

const WORKERS: usize = 2;
const REQUESTS: u64 = 1_000_000;

/// The work of one request: checksum the bytes it was sent.
#[inline(never)]
fn handle(buffer: &mut Vec<u8>, i: u64) -> u64 {
    buffer.extend((0..512u64).map(|j| (i ^ j) as u8));
    buffer
        .iter()
        .fold(0u64, |acc, &b| acc.rotate_left(5) ^ b as u64)
}

#[inline(never)]
fn before(stats: &MutexCounter, worker: usize) {
    for i in 0..REQUESTS {
        let mut buffer = Vec::with_capacity(64); // grows to 512 bytes: three reallocations
        black_box(handle(&mut buffer, i + worker as u64));
        stats.add(1);
    }
}

#[inline(never)]
fn after(stats: &ShardedCounter, pool: &BufferPool, worker: usize) {
    for i in 0..REQUESTS {
        let mut buffer = pool.get();
        black_box(handle(&mut buffer, i + worker as u64));
        pool.put(buffer);
        stats.add(worker, 1);
    }
}

fn main() {
    let mutex = MutexCounter::default();
    thread::scope(|s| {
        for w in 0..WORKERS {
            let mutex = &mutex;
            s.spawn(move || before(mutex, w));
        }
    });
    let sharded = ShardedCounter::new(WORKERS);
    let pool = BufferPool::new(WORKERS, 4096);
    thread::scope(|s| {
        for w in 0..WORKERS {
            let (sharded, pool) = (&sharded, &pool);
            s.spawn(move || after(sharded, pool, w));
        }
    });
    println!("before: {} requests; after: {}", mutex.sum(), sharded.sum());
}
