//! The word count of one corpus, three ways: a sequential loop, the pool of exercise
//! 11.4 (2 workers, R = 4) and rayon (exercise 11.5, on a pool of 2 threads).
//!
//! `cargo bench -p lesson-11 --features solution`, or `cargo workbook bench 11` to draw
//! the chapter's chart from one run.
//!
//! The corpus is `lesson_11::corpus(11, 600_000, 5000)`: 600,000 Zipf-distributed words,
//! about 3.3 MB, cut into 16 splits. Every run maps, combines and merges the whole corpus
//! and builds the same sorted `BTreeMap`; the chapter quotes the ratios of the medians.
//! The machine has two cores, so 2× is the ceiling.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use divan::black_box;
use lesson_11::jobs::WordCount;
use lesson_11::pool::{Config, run};
use lesson_11::{Split, corpus, par, sequential, split_lines};

fn main() {
    divan::main();
}

static SPLITS: LazyLock<Arc<Vec<Split>>> =
    LazyLock::new(|| Arc::new(split_lines(&corpus(11, 600_000, 5000), 16)));

static RAYON: LazyLock<rayon::ThreadPool> = LazyLock::new(|| {
    rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("a rayon pool")
});

mod word_count {
    use super::*;

    #[divan::bench(sample_count = 20)]
    fn sequential_loop() -> usize {
        black_box(sequential(&WordCount, &SPLITS)).len()
    }

    #[divan::bench(sample_count = 20)]
    fn pool_2_workers() -> usize {
        let config = Config {
            workers: 2,
            reducers: 4,
            stall_after: Duration::from_secs(60),
        };
        black_box(run(Arc::new(WordCount), SPLITS.clone(), config)).len()
    }

    #[divan::bench(sample_count = 20)]
    fn rayon_2_threads() -> usize {
        black_box(RAYON.install(|| par::run_rayon(&WordCount, &SPLITS))).len()
    }
}
