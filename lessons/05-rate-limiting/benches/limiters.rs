//! The reference token bucket and GCRA against governor's GCRA, per decision.
//!
//! `cargo bench -p lesson-05 --features solution`
//!
//! Each benchmark asks its limiter 1,000 times with a quota so large that every request is
//! allowed, so it measures the bookkeeping of one allowed request: reading the clock,
//! taking the lock (ours) or a compare-and-swap (governor), updating the state. The
//! chapter reports the ratio of the medians from one run.

use std::num::NonZeroU32;
use std::time::Duration;

use divan::{Bencher, black_box};
use governor::{Quota, RateLimiter as Governor};
use lesson_05::RateLimiter;
use lesson_05::gcra::Gcra;
use lesson_05::token_bucket::TokenBucket;

fn main() {
    divan::main();
}

const CALLS: usize = 1_000;
const PER_SECOND: u32 = 1_000_000_000;

#[divan::bench(sample_count = 50)]
fn ours_token_bucket(bencher: Bencher) {
    let limiter = TokenBucket::new(PER_SECOND, Duration::from_nanos(1));
    bencher.bench_local(|| {
        for _ in 0..CALLS {
            let _ = black_box(limiter.try_acquire());
        }
    });
}

#[divan::bench(sample_count = 50)]
fn ours_gcra(bencher: Bencher) {
    let limiter = Gcra::new(PER_SECOND, Duration::from_secs(1), PER_SECOND);
    bencher.bench_local(|| {
        for _ in 0..CALLS {
            let _ = black_box(limiter.try_acquire());
        }
    });
}

#[divan::bench(sample_count = 50)]
fn governor_gcra(bencher: Bencher) {
    let limiter = Governor::direct(Quota::per_second(
        NonZeroU32::new(PER_SECOND).expect("non-zero"),
    ));
    bencher.bench_local(|| {
        for _ in 0..CALLS {
            let _ = black_box(limiter.check());
        }
    });
}
