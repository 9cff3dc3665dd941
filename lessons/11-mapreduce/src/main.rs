//! Lesson 11's program: a word count and an inverted index over the lesson's corpus, on
//! the learner's pool and with rayon, each compared with a sequential run; then the word
//! count again with one map task that fails and one that stalls.
//!
//! It prints only what is the same on every run: counts, the top words (ties broken by
//! the word), index entries in sorted order, and yes/no answers.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use clap::Parser;
use lesson_11::jobs::{InvertedIndex, WordCount};
use lesson_11::pool::{Config, run};
use lesson_11::{Failed, Job, Split, corpus, par, sequential, split_lines, top_words};

/// Lesson 11: MapReduce.
#[derive(Parser)]
#[command(name = "lesson-11")]
struct Args {
    /// How many words the corpus has (1000 to 5000000).
    #[arg(long, default_value_t = 40_000, value_parser = clap::value_parser!(u64).range(1000..=5_000_000))]
    words: u64,
    /// The corpus's seed.
    #[arg(long, default_value_t = 11)]
    seed: u64,
    /// How many splits (map tasks), 1 to 64.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=64))]
    splits: u64,
    /// How many worker threads, 1 to 16.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=16))]
    workers: u64,
    /// R, how many reduce tasks, 1 to 64.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u64).range(1..=64))]
    reducers: u64,
}

const VOCABULARY: usize = 5000;

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "NO" }
}

/// The word count with scripted trouble: map task `fails` returns an error on its first
/// attempt, after emitting half of its words; map task `stalls` blocks on its first
/// attempt until its second attempt starts, then finishes — late — as well.
struct Troubled {
    fails: usize,
    stalls: usize,
    attempts: Vec<AtomicU32>,
    rerun_started: (Mutex<bool>, Condvar),
}

impl Job for Troubled {
    type Value = u64;

    fn map(&self, split: &Split, emit: &mut dyn FnMut(&str, u64)) -> Result<(), Failed> {
        let attempt = self.attempts[split.id].fetch_add(1, Ordering::SeqCst) + 1;
        if split.id == self.fails && attempt == 1 {
            let words: Vec<String> = lesson_11::words(&split.text).collect();
            for word in &words[..words.len() / 2] {
                emit(word, 1);
            }
            return Err(Failed("scripted failure on the first attempt".into()));
        }
        if split.id == self.stalls {
            let (started, cv) = &self.rerun_started;
            let mut started = started.lock().unwrap();
            if attempt == 1 {
                while !*started {
                    started = cv.wait(started).unwrap();
                }
            } else {
                *started = true;
                cv.notify_all();
            }
        }
        WordCount.map(split, emit)
    }

    fn merge(&self, acc: &mut u64, other: u64) {
        WordCount.merge(acc, other)
    }
}

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(20));
    kit_run::brief_panics();
    println!("Lesson 11: MapReduce");

    let text = corpus(args.seed, args.words as usize, VOCABULARY);
    let splits = Arc::new(split_lines(&text, args.splits as usize));
    let config = Config {
        workers: args.workers as usize,
        reducers: args.reducers as usize,
        stall_after: Duration::from_secs(1),
    };
    println!(
        "corpus: seed {}, {} words drawn from {VOCABULARY} (Zipf), {} bytes, {} splits",
        args.seed,
        args.words,
        text.len(),
        splits.len()
    );

    println!();
    println!(
        "word count: {} map tasks, {} reduce tasks, {} workers",
        splits.len(),
        config.reducers,
        config.workers
    );
    let expected = sequential(&WordCount, &splits);
    let counts = run(Arc::new(WordCount), splits.clone(), config);
    let total: u64 = counts.values().sum();
    println!("  {} distinct words, {total} words in all", counts.len());
    println!("  top 10 (ties by word):");
    for (rank, (word, count)) in top_words(&counts, 10).iter().enumerate() {
        println!("    {:>2}. {word:<10} {count:>7}", rank + 1);
    }
    println!(
        "  pool equals the sequential run: {}",
        yes(counts == expected)
    );
    let rayon_counts = rayon::ThreadPoolBuilder::new()
        .num_threads(config.workers)
        .build()
        .expect("a rayon pool")
        .install(|| par::run_rayon(&WordCount, &splits));
    println!(
        "  rayon equals the sequential run: {}",
        yes(rayon_counts == expected)
    );

    println!();
    let troubled = Arc::new(Troubled {
        fails: 2 % splits.len(),
        stalls: 5 % splits.len(),
        attempts: (0..splits.len()).map(|_| AtomicU32::new(0)).collect(),
        rerun_started: (Mutex::new(false), Condvar::new()),
    });
    println!(
        "word count again: map task {} fails on its first attempt, map task {} stalls until it is run again",
        troubled.fails, troubled.stalls
    );
    let again = run(troubled.clone(), splits.clone(), config);
    println!("  equals the sequential run: {}", yes(again == expected));
    let runs: Vec<String> = troubled
        .attempts
        .iter()
        .enumerate()
        .map(|(i, a)| format!("{i}:{}", a.load(Ordering::SeqCst)))
        .collect();
    println!("  map runs per task: {}", runs.join(" "));

    println!();
    println!("inverted index: same splits, same pool");
    let index = run(Arc::new(InvertedIndex), splits.clone(), config);
    println!("  {} words", index.len());
    let show = |word: &str, ids: Option<&BTreeSet<usize>>| match ids {
        Some(ids) => {
            let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
            println!("    {word:<14} in splits {}", ids.join(" "));
        }
        None => println!("    {word:<14} (nowhere)"),
    };
    // The first three and the last three words in sorted order, and the commonest word.
    for word in index.keys().take(3).chain(
        index
            .keys()
            .rev()
            .take(3)
            .collect::<Vec<_>>()
            .into_iter()
            .rev(),
    ) {
        show(word, index.get(word));
    }
    show("the", index.get("the"));
    println!(
        "  pool equals the sequential run: {}",
        yes(index == sequential(&InvertedIndex, &splits))
    );
}
