//! The lag-and-skip channel of exercises 15.2–15.3 against `tokio::sync::broadcast`.
//!
//! `cargo bench -p lesson-15 --features solution`
//!
//! One sample: on a current-thread runtime, one sender sends 1,000 `u64`s into a channel
//! of capacity 1,024 (nobody lags), then each of 1 or 4 receivers reads all 1,000. The
//! work is the channel's own: a lock, a ring slot, a wake-up call with nobody waiting,
//! one clone per receiver per message. tokio's ring has a lock per slot and a reader
//! count per message; ours has one lock around everything. The chapter quotes the ratio
//! of the medians of one run.

use divan::black_box;
use lesson_15::lagging;
use tokio::runtime::{Builder, Runtime};
use tokio::sync::broadcast;

fn main() {
    divan::main();
}

const MESSAGES: u64 = 1_000;
const CAPACITY: usize = 1_024;

fn runtime() -> Runtime {
    Builder::new_current_thread()
        .build()
        .expect("a current-thread runtime")
}

/// Send 1,000 messages, then drain them from `receivers` receivers.
mod send_then_read {
    use super::*;

    #[divan::bench(args = [1, 4])]
    fn ours(bencher: divan::Bencher, receivers: usize) {
        let rt = runtime();
        bencher.bench_local(|| {
            rt.block_on(async {
                let tx = lagging::Sender::new(CAPACITY);
                let mut rxs: Vec<_> = (0..receivers).map(|_| tx.subscribe()).collect();
                for i in 0..MESSAGES {
                    tx.send(black_box(i));
                }
                let mut sum = 0;
                for rx in &mut rxs {
                    for _ in 0..MESSAGES {
                        sum += rx.recv().await.expect("nobody lags");
                    }
                }
                black_box(sum)
            })
        });
    }

    #[divan::bench(args = [1, 4])]
    fn tokio_broadcast(bencher: divan::Bencher, receivers: usize) {
        let rt = runtime();
        bencher.bench_local(|| {
            rt.block_on(async {
                let (tx, first) = broadcast::channel(CAPACITY);
                let mut rxs: Vec<_> = (0..receivers).map(|_| tx.subscribe()).collect();
                drop(first);
                for i in 0..MESSAGES {
                    let _ = tx.send(black_box(i));
                }
                let mut sum = 0;
                for rx in &mut rxs {
                    for _ in 0..MESSAGES {
                        sum += rx.recv().await.expect("nobody lags");
                    }
                }
                black_box(sum)
            })
        });
    }
}
