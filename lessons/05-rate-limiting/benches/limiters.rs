//! The reference token bucket and GCRA against governor's GCRA, per decision.
//!
//! `cargo bench -p lesson-05 --features solution`, or `cargo workbook bench 05 --write`
//! to run it and redraw the chapter's charts from this run.
//!
//! Each benchmark asks its limiter 1,000 times with a quota so large that every request is
//! allowed, so it measures the bookkeeping of one allowed request: reading the clock,
//! taking the lock (the token bucket) or a compare-exchange (the GCRAs), updating the
//! state. Governor is measured with its default clock (quanta, which reads the CPU's
//! timestamp counter) and with std's `Instant` (`MonotonicClock`), the clock tokio's
//! `Instant::now()` — and so our `try_acquire` — reads when time is not paused. The
//! reference GCRA is measured on both clocks too (`check_at` takes any instant), and so is
//! the chapter's `NanoGcra`, which keeps time as governor does, in integer nanoseconds.
//! The `clock` group measures the clock reads alone, and `two_threads` the same decisions
//! from two threads sharing one limiter.

use std::num::NonZeroU32;
use std::time::Duration;

use divan::{Bencher, black_box};
use governor::clock::{Clock, MonotonicClock, QuantaClock, Reference};
use governor::{Quota, RateLimiter as Governor};
use lesson_05::RateLimiter;
use lesson_05::gcra::Gcra;
use lesson_05::nano_gcra::NanoGcra;
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
    fn governor_quanta_clock(bencher: Bencher) {
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
    fn reference_gcra_std_clock(bencher: Bencher) {
        let limiter = super::ours_gcra();
        bencher.bench_local(|| {
            for _ in 0..CALLS {
                let _ = black_box(limiter.try_acquire());
            }
        });
    }

    /// The reference GCRA reading governor's default clock: `check_at` takes any `now`,
    /// so the caller chooses the clock. Quanta's reading becomes a tokio `Instant` by an
    /// addition, which this measurement includes.
    #[divan::bench(sample_count = 50)]
    fn reference_gcra_quanta_clock(bencher: Bencher) {
        let limiter = super::ours_gcra();
        let clock = QuantaClock::default();
        let (origin, start) = (tokio::time::Instant::now(), clock.now());
        bencher.bench_local(|| {
            for _ in 0..CALLS {
                let now = origin + Duration::from(clock.now().duration_since(start));
                let _ = black_box(limiter.check_at(now));
            }
        });
    }

    /// Not an exercise: the chapter's "In production" GCRA, which counts time in `u64`
    /// nanoseconds, on governor's default clock — the same arithmetic as governor.
    #[divan::bench(sample_count = 50)]
    fn nano_gcra_quanta_clock(bencher: Bencher) {
        let clock = QuantaClock::default();
        let start = clock.now();
        let limiter = NanoGcra::new(PER_SECOND, Duration::from_secs(1), PER_SECOND, || {
            clock.now().duration_since(start).as_u64()
        });
        bencher.bench_local(|| {
            for _ in 0..CALLS {
                let _ = black_box(limiter.check());
            }
        });
    }

    #[divan::bench(sample_count = 50)]
    fn reference_token_bucket_std_clock(bencher: Bencher) {
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
    fn reference_gcra_std_clock(bencher: Bencher) {
        let limiter = super::ours_gcra();
        bencher.bench(|| {
            for _ in 0..CALLS {
                let _ = black_box(limiter.try_acquire());
            }
        });
    }

    #[divan::bench(sample_count = 50, threads = 2)]
    fn reference_token_bucket_std_clock(bencher: Bencher) {
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
