//! The reference thread pool against rayon's `ThreadPool`, on the same jobs.
//!
//! `cargo bench -p lesson-04 --features solution`
//!
//! Each run submits 10,000 small jobs to a pool of 2 threads and collects every result.
//! Both pools are built once, outside the measured loop. The chapter reports the ratio of
//! the two medians from one run.

use std::sync::mpsc;

use divan::Bencher;
use lesson_04::pool::Pool;

fn main() {
    divan::main();
}

const JOBS: u64 = 10_000;
const THREADS: usize = 2;

/// A job: a few hundred nanoseconds of arithmetic.
fn work(seed: u64) -> u64 {
    (0..200u64).fold(seed, |acc, i| {
        acc.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i)
    })
}

#[divan::bench(sample_count = 30)]
fn ours(bencher: Bencher) {
    let pool: Pool<u64> = Pool::new(THREADS, 256);
    bencher.bench_local(|| {
        for i in 0..JOBS {
            let _ = pool.submit(move || work(i));
        }
        (0..JOBS)
            .map(|_| pool.results().recv().expect("a result"))
            .fold(0u64, |acc, r| acc.wrapping_add(r.outcome.unwrap_or(0)))
    });
}

#[divan::bench(sample_count = 30)]
fn rayon_thread_pool(bencher: Bencher) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(THREADS)
        .build()
        .expect("a rayon pool");
    bencher.bench_local(|| {
        let (tx, rx) = mpsc::channel();
        for i in 0..JOBS {
            let tx = tx.clone();
            pool.spawn(move || {
                let _ = tx.send(work(i));
            });
        }
        drop(tx);
        rx.iter().fold(0u64, u64::wrapping_add)
    });
}
