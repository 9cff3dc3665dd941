//! The lesson's word count on timely-dataflow: map and combine where the text is, shuffle
//! by `fnv1a(word)` to the worker that owns the word, reduce there, and collect the result
//! on worker 0, which checks it against a plain sequential count.
//!
//! Two processes on one machine, talking over TCP on 127.0.0.1 (see `hosts.txt`):
//!
//! ```sh
//! cd examples-production/timely-wordcount && cargo build --release
//! target/release/timely-wordcount -n 2 -p 1 -h hosts.txt &
//! target/release/timely-wordcount -n 2 -p 0 -h hosts.txt
//! ```
//!
//! or one process with two worker threads: `cargo run --release -- -w 2`.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use lesson_11::{corpus, split_lines, top_words, words};
use timely::container::CapacityContainerBuilder;
use timely::dataflow::InputHandle;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::Operator;

/// The lesson's partition hash (exercise 11.2), written out again: the shuffle must agree
/// on it in every process.
fn fnv1a(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

const WORDS: usize = 600_000;
const SPLITS: usize = 16;

fn main() {
    timely::execute_from_args(std::env::args(), |worker| {
        let index = worker.index();
        let peers = worker.peers();
        let mut input = InputHandle::new();
        let collected: Rc<RefCell<BTreeMap<String, u64>>> = Rc::default();
        let sink = collected.clone();

        worker.dataflow::<usize, _, _>(|scope| {
            input
                .to_stream(scope)
                // Reduce: the worker that owns a word (by its hash) sums its partial counts
                // and, once its input is complete, sends each total on.
                .unary_frontier::<CapacityContainerBuilder<Vec<(String, u64)>>, _, _, _>(
                    Exchange::new(|pair: &(String, u64)| fnv1a(&pair.0)),
                    "Reduce",
                    |capability, _info| {
                        let mut capability = Some(capability);
                        let mut counts: HashMap<String, u64> = HashMap::new();
                        move |(input, frontier), output| {
                            input.for_each(|_time, data| {
                                for (word, n) in data.drain(..) {
                                    *counts.entry(word).or_default() += n;
                                }
                            });
                            if frontier.is_empty()
                                && let Some(capability) = capability.take()
                            {
                                let mut session = output.session(&capability);
                                for pair in counts.drain() {
                                    session.give(pair);
                                }
                            }
                        }
                    },
                )
                // Collect every total on worker 0.
                .sink(
                    Exchange::new(|_: &(String, u64)| 0),
                    "Collect",
                    move |(input, _)| {
                        input.for_each(|_time, data| {
                            sink.borrow_mut().extend(data.drain(..));
                        });
                    },
                );
        });

        // Map and combine: worker i reads splits i, i + peers, …, and sends one partial
        // count per distinct word, not one record per occurrence.
        let splits = split_lines(&corpus(11, WORDS, 5000), SPLITS);
        let mut local: HashMap<String, u64> = HashMap::new();
        for split in splits.iter().skip(index).step_by(peers) {
            for word in words(&split.text) {
                *local.entry(word).or_default() += 1;
            }
        }
        for pair in local {
            input.send(pair);
        }
        input.close();
        while worker.step() {}

        if index == 0 {
            let counts = collected.borrow();
            let mut expected: BTreeMap<String, u64> = BTreeMap::new();
            for split in &splits {
                for word in words(&split.text) {
                    *expected.entry(word).or_default() += 1;
                }
            }
            println!(
                "timely, {peers} workers: {} distinct words, {} in all",
                counts.len(),
                counts.values().sum::<u64>()
            );
            for (rank, (word, n)) in top_words(&counts, 5).iter().enumerate() {
                println!("  {:>2}. {word:<6} {n}", rank + 1);
            }
            println!("equals a sequential count: {}", *counts == expected);
        }
    })
    .expect("timely could not start its workers");
}
