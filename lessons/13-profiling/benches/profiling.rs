//! The lesson's speed claims, measured: `cargo workbook bench 13` (which runs
//! `cargo bench -p lesson-13 --features solution`).
//!
//! - `counters`: 2 threads each add 1 to one counter 100,000 times — a `Mutex<u64>`, one
//!   `AtomicU64`, the sharded counter of 13.2 (one shard per thread);
//! - `false_sharing`: 2 threads each add 1 to their own counter 100,000 times — the two
//!   counters side by side (one cache line), then padded (13.1);
//! - `buffers`: 1,000 requests, each writing 3,000 bytes into a buffer — a fresh `Vec`
//!   that grows from empty, a fresh `Vec` of the right size, the pool of 13.3;
//! - `channel_capacity`: 20,000 numbers from a producer thread to a consumer that does a
//!   little work per item, through crossbeam channels bounded at 0 (rendezvous), 1, 16,
//!   1024.
//!
//! Each sample spawns its threads, so a sample includes two thread spawns (about the same
//! in every row of a group). The chapter quotes ratios of the medians from one run.

use std::hint::black_box;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::thread;

use lesson_13::naive::{AdjacentPair, MutexCounter, pipeline};
use lesson_13::padding::HotPair;
use lesson_13::pool::BufferPool;
use lesson_13::sharded::ShardedCounter;

fn main() {
    divan::main();
}

const ADDS: u64 = 100_000;

fn two_threads(f: impl Fn(usize) + Sync) {
    thread::scope(|s| {
        for w in 0..2 {
            let f = &f;
            s.spawn(move || f(w));
        }
    });
}

mod counters {
    use super::*;

    #[divan::bench(sample_count = 30)]
    fn one_mutex() {
        let c = MutexCounter::default();
        two_threads(|_| (0..ADDS).for_each(|_| c.add(1)));
        black_box(c.sum());
    }

    #[divan::bench(sample_count = 30)]
    fn one_atomic() {
        let c = AtomicU64::new(0);
        two_threads(|_| {
            (0..ADDS).for_each(|_| {
                c.fetch_add(1, Relaxed);
            })
        });
        black_box(c.load(Relaxed));
    }

    #[divan::bench(sample_count = 30)]
    fn sharded() {
        let c = ShardedCounter::new(2);
        two_threads(|w| (0..ADDS).for_each(|_| c.add(w, 1)));
        black_box(c.sum());
    }
}

mod false_sharing {
    use super::*;

    #[divan::bench(sample_count = 30)]
    fn adjacent() {
        let p = AdjacentPair::default();
        two_threads(|w| {
            (0..ADDS).for_each(|_| {
                if w == 0 {
                    p.add_request()
                } else {
                    p.add_error()
                }
            })
        });
        black_box(&p);
    }

    #[divan::bench(sample_count = 30)]
    fn padded() {
        let p = HotPair::new();
        two_threads(|w| {
            (0..ADDS).for_each(|_| {
                if w == 0 {
                    p.add_request()
                } else {
                    p.add_error()
                }
            })
        });
        black_box(&p);
    }
}

mod buffers {
    use super::*;

    const REQUESTS: usize = 1_000;

    #[divan::bench(sample_count = 50)]
    fn fresh_growing() {
        for i in 0..REQUESTS {
            let mut b = Vec::new();
            b.extend((0..3000).map(|j| (i ^ j) as u8));
            black_box(&b);
        }
    }

    #[divan::bench(sample_count = 50)]
    fn fresh_sized() {
        for i in 0..REQUESTS {
            let mut b = Vec::with_capacity(4096);
            b.extend((0..3000).map(|j| (i ^ j) as u8));
            black_box(&b);
        }
    }

    #[divan::bench(sample_count = 50)]
    fn pooled() {
        let pool = BufferPool::new(8, 4096);
        for i in 0..REQUESTS {
            let mut b = pool.get();
            b.extend((0..3000).map(|j| (i ^ j) as u8));
            black_box(&b);
            pool.put(b);
        }
    }
}

mod channel_capacity {
    use super::*;

    #[divan::bench(args = [0, 1, 16, 1024], sample_count = 20)]
    fn bounded(capacity: usize) {
        black_box(pipeline(20_000, capacity, 20));
    }
}
