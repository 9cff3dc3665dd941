//! The reference token bucket and GCRA against governor's GCRA, per decision.
//!
//! `cargo bench -p lesson-05 --features solution`
//!
//! Each benchmark asks its limiter 1,000 times with a quota so large that every request is
//! allowed, so it measures the bookkeeping of one allowed request: reading the clock,
//! taking the lock (the token bucket) or a compare-exchange (both GCRAs), updating the
//! state. Governor is measured twice: with its default clock (quanta, which reads the CPU's
//! timestamp counter) and with std's `Instant` (`MonotonicClock`), the clock tokio's
//! `Instant::now()` — and so our `try_acquire` — reads when time is not paused. The
//! `clock` group measures the clock reads alone, and `two_threads` the same decisions
//! from two threads sharing one limiter. The chapter reports the ratios of the medians
//! from one run.

use std::num::NonZeroU32;
use std::time::Duration;

use divan::{Bencher, black_box};
use governor::clock::{Clock, MonotonicClock, QuantaClock};
use governor::{Quota, RateLimiter as Governor};
use lesson_05::RateLimiter;
use lesson_05::gcra::Gcra;
use lesson_05::token_bucket::TokenBucket;

fn main() {
    divan::main();
}

const CALLS: usize = 1_000;
const PER_SECOND: u32 = 1_000_000_000;

fn quota() -> Quota {
    Quota::per_second(NonZeroU32::new(PER_SECOND).expect("non-zero"))
}

fn ours_gcra() -> Gcra {
    Gcra::new(PER_SECOND, Duration::from_secs(1), PER_SECOND)
}

fn ours_token_bucket() -> TokenBucket {
    TokenBucket::new(PER_SECOND, Duration::from_nanos(1))
}

/// One thread asks one limiter.
mod one_thread {
    use super::*;

    #[divan::bench(sample_count = 50)]
    fn governor_default_clock(bencher: Bencher) {
        let limiter = Governor::direct(quota());
        bencher.bench_local(|| {
            for _ in 0..CALLS {
                let _ = black_box(limiter.check());
            }
        });
    }

    #[divan::bench(sample_count = 50)]
    fn governor_std_clock(bencher: Bencher) {
        let limiter = Governor::direct_with_clock(quota(), MonotonicClock);
        bencher.bench_local(|| {
            for _ in 0..CALLS {
                let _ = black_box(limiter.check());
            }
        });
    }

    #[divan::bench(sample_count = 50)]
    fn ours_gcra(bencher: Bencher) {
        let limiter = super::ours_gcra();
        bencher.bench_local(|| {
            for _ in 0..CALLS {
                let _ = black_box(limiter.try_acquire());
            }
        });
    }

    #[divan::bench(sample_count = 50)]
    fn ours_token_bucket(bencher: Bencher) {
        let limiter = super::ours_token_bucket();
        bencher.bench_local(|| {
            for _ in 0..CALLS {
                let _ = black_box(limiter.try_acquire());
            }
        });
    }
}

/// Two threads ask one limiter at once (this project's machine has two cores).
mod two_threads {
    use super::*;

    #[divan::bench(sample_count = 50, threads = 2)]
    fn governor_std_clock(bencher: Bencher) {
        let limiter = Governor::direct_with_clock(quota(), MonotonicClock);
        bencher.bench(|| {
            for _ in 0..CALLS {
                let _ = black_box(limiter.check());
            }
        });
    }

    #[divan::bench(sample_count = 50, threads = 2)]
    fn ours_gcra(bencher: Bencher) {
        let limiter = super::ours_gcra();
        bencher.bench(|| {
            for _ in 0..CALLS {
                let _ = black_box(limiter.try_acquire());
            }
        });
    }

    #[divan::bench(sample_count = 50, threads = 2)]
    fn ours_token_bucket(bencher: Bencher) {
        let limiter = super::ours_token_bucket();
        bencher.bench(|| {
            for _ in 0..CALLS {
                let _ = black_box(limiter.try_acquire());
            }
        });
    }
}

/// The clock reads alone, 1,000 of them.
mod clock {
    use super::*;

    #[divan::bench(sample_count = 50)]
    fn quanta(bencher: Bencher) {
        let clock = QuantaClock::default();
        bencher.bench_local(|| {
            for _ in 0..CALLS {
                black_box(clock.now());
            }
        });
    }

    #[divan::bench(sample_count = 50)]
    fn std_instant(bencher: Bencher) {
        bencher.bench_local(|| {
            for _ in 0..CALLS {
                black_box(std::time::Instant::now());
            }
        });
    }

    #[divan::bench(sample_count = 50)]
    fn tokio_instant(bencher: Bencher) {
        bencher.bench_local(|| {
            for _ in 0..CALLS {
                black_box(tokio::time::Instant::now());
            }
        });
    }
}
