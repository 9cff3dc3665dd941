//! The semaphore of exercises 16.1–16.3 against `tokio::sync::Semaphore`.
//!
//! `cargo bench -p lesson-16 --features solution`
//!
//! Two samples on a current-thread runtime. `uncontended`: 1,000 acquire/release pairs
//! with nobody else around — the cost of the fast path (one lock for us, one
//! compare-and-swap for tokio). `contended`: 8 tasks share 2 permits, each acquiring and
//! releasing 125 times with a yield while it holds the permit, so most acquires wait in
//! line and every release hands permits to the head. The chapter quotes the ratio of the
//! medians of one run.

use std::sync::Arc;

use divan::black_box;
use lesson_16::semaphore;
use tokio::runtime::{Builder, Runtime};

fn main() {
    divan::main();
}

const ROUNDS: usize = 1_000;
const TASKS: usize = 8;
const PERMITS: usize = 2;

fn runtime() -> Runtime {
    Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

/// 1,000 acquire/release pairs, one task, permits always free.
mod uncontended {
    use super::*;

    #[divan::bench]
    fn ours(bencher: divan::Bencher) {
        let rt = runtime();
        let sem = semaphore::Semaphore::new(PERMITS);
        bencher.bench_local(|| {
            rt.block_on(async {
                for _ in 0..ROUNDS {
                    let permit = sem.acquire().await.expect("never closed");
                    black_box(&permit);
                }
            })
        });
    }

    #[divan::bench]
    fn tokio_semaphore(bencher: divan::Bencher) {
        let rt = runtime();
        let sem = tokio::sync::Semaphore::new(PERMITS);
        bencher.bench_local(|| {
            rt.block_on(async {
                for _ in 0..ROUNDS {
                    let permit = sem.acquire().await.expect("never closed");
                    black_box(&permit);
                }
            })
        });
    }
}

/// 8 tasks, 2 permits, 125 rounds each; a yield while holding, so others queue up.
mod contended {
    use super::*;

    #[divan::bench]
    fn ours(bencher: divan::Bencher) {
        let rt = runtime();
        bencher.bench_local(|| {
            rt.block_on(async {
                let sem = Arc::new(semaphore::Semaphore::new(PERMITS));
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let sem = Arc::clone(&sem);
                        tokio::spawn(async move {
                            for _ in 0..ROUNDS / TASKS {
                                let _permit = sem.acquire().await.expect("never closed");
                                tokio::task::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("no panic");
                }
            })
        });
    }

    #[divan::bench]
    fn tokio_semaphore(bencher: divan::Bencher) {
        let rt = runtime();
        bencher.bench_local(|| {
            rt.block_on(async {
                let sem = Arc::new(tokio::sync::Semaphore::new(PERMITS));
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let sem = Arc::clone(&sem);
                        tokio::spawn(async move {
                            for _ in 0..ROUNDS / TASKS {
                                let _permit = sem.acquire().await.expect("never closed");
                                tokio::task::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.expect("no panic");
                }
            })
        });
    }
}
