//! The reference stack and queue against crossbeam's queues and a plain `Mutex`.
//!
//! `cargo workbook bench 07` runs this (`cargo bench -p lesson-07 --features solution`) and
//! redraws the chapter's charts from the run.
//!
//! Each sample is 1,000 pairs of (push, pop) on one shared structure: from one thread
//! (the cost of an operation with nobody else around), and from two threads at once (the
//! cost when both cores fight over the same head and tail, which is what lock-free
//! structures are for, and where a lock's waiting shows).

use std::collections::VecDeque;
use std::sync::Mutex;

use crossbeam_queue::{ArrayQueue, SegQueue};
use divan::{Bencher, black_box};
use lesson_07::queue::Queue;
use lesson_07::stack::Stack;

fn main() {
    divan::main();
}

const PAIRS: u64 = 1_000;

/// Run 1,000 (push, pop) pairs with `push` and `pop`.
fn pairs(push: impl Fn(u64), pop: impl Fn() -> Option<u64>) {
    for i in 0..PAIRS {
        push(i);
        black_box(pop());
    }
}

macro_rules! queue_benches {
    ($threads:literal) => {
        #[divan::bench(sample_count = 50, threads = $threads)]
        fn reference_ms_queue(bencher: Bencher) {
            let q = Queue::new();
            bencher.bench(|| pairs(|x| q.push(x), || q.pop()));
        }

        #[divan::bench(sample_count = 50, threads = $threads)]
        fn crossbeam_segqueue(bencher: Bencher) {
            let q = SegQueue::new();
            bencher.bench(|| pairs(|x| q.push(x), || q.pop()));
        }

        #[divan::bench(sample_count = 50, threads = $threads)]
        fn crossbeam_arrayqueue(bencher: Bencher) {
            let q = ArrayQueue::new(64);
            bencher.bench(|| {
                pairs(
                    |x| q.push(x).expect("at most one item per thread is queued"),
                    || q.pop(),
                )
            });
        }

        #[divan::bench(sample_count = 50, threads = $threads)]
        fn mutex_vecdeque(bencher: Bencher) {
            let q = Mutex::new(VecDeque::new());
            bencher.bench(|| {
                pairs(
                    |x| q.lock().unwrap().push_back(x),
                    || q.lock().unwrap().pop_front(),
                )
            });
        }
    };
}

macro_rules! stack_benches {
    ($threads:literal) => {
        #[divan::bench(sample_count = 50, threads = $threads)]
        fn reference_treiber_stack(bencher: Bencher) {
            let s = Stack::new();
            bencher.bench(|| pairs(|x| s.push(x), || s.pop()));
        }

        #[divan::bench(sample_count = 50, threads = $threads)]
        fn mutex_vec(bencher: Bencher) {
            let s = Mutex::new(Vec::new());
            bencher.bench(|| pairs(|x| s.lock().unwrap().push(x), || s.lock().unwrap().pop()));
        }
    };
}

/// Queues, one thread.
mod queue_one_thread {
    use super::*;
    queue_benches!(1);
}

/// Queues, two threads sharing one queue.
mod queue_two_threads {
    use super::*;
    queue_benches!(2);
}

/// Stacks, one thread.
mod stack_one_thread {
    use super::*;
    stack_benches!(1);
}

/// Stacks, two threads sharing one stack.
mod stack_two_threads {
    use super::*;
    stack_benches!(2);
}
