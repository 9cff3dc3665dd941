//! Lesson 11: MapReduce — map → shuffle → reduce over a pool of workers, with a combiner,
//! re-execution of failed and stalled tasks, and the same job with rayon.
//!
//! ```text
//!  splits ──▶ map task i (jobs.rs: Job::map, combined with Job::merge)
//!               └─▶ R buckets: key k goes to bucket partition(k, R)    (shuffle.rs)
//!  bucket p of every map task ──▶ reduce task p ──▶ one sorted part of the output
//!  pool.rs runs both phases on N worker threads; tasks.rs decides who runs what,
//!  re-issues a failed or stalled task, and keeps exactly one output per task.
//! ```
//!
//! This file is finished code the lesson needs: the [`Job`] trait, the [`Split`]s of
//! input, the tokenizer [`words`], the deterministic [`corpus`] and the [`sequential`]
//! run every parallel run is compared with. The exercise files are `jobs.rs`,
//! `shuffle.rs`, `tasks.rs`, `pool.rs` and `par.rs`. You edit the exercise files only;
//! this file swaps in the reference solution when the crate is built with
//! `--features solution`.

#[cfg_attr(feature = "solution", path = "../../../solutions/11-mapreduce/jobs.rs")]
pub mod jobs;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/11-mapreduce/shuffle.rs"
)]
pub mod shuffle;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/11-mapreduce/tasks.rs"
)]
pub mod tasks;

#[cfg_attr(feature = "solution", path = "../../../solutions/11-mapreduce/pool.rs")]
pub mod pool;

#[cfg_attr(feature = "solution", path = "../../../solutions/11-mapreduce/par.rs")]
pub mod par;

use std::collections::BTreeMap;
use std::fmt;

/// One piece of the input: what one map task reads. `id` is its index in the job's list
/// of splits (the inverted index records it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub id: usize,
    pub text: String,
}

/// A task gave up. The worker reports it, and the coordinator runs the task again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failed(pub String);

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task failed: {}", self.0)
    }
}

/// A MapReduce job: what to emit for a split, and how two values of one key combine.
///
/// `merge` is used twice: as the **combiner** (inside a map task, to fold the values a
/// split emits for one key before they leave the task) and as the **reducer** (to fold
/// the values of one key from every map task). The engine calls it in any grouping and
/// any order, so it must be associative and commutative; then every grouping gives the
/// answer a sequential fold gives.
///
/// A job is shared by every worker thread, and a worker may still be running it after the
/// job has ended (a straggler), so it is `Send + Sync + 'static`: share it in an `Arc`.
pub trait Job: Send + Sync + 'static {
    /// What a key maps to: a count, a set of split ids, …
    type Value: Clone + Send + Sync + PartialEq + fmt::Debug + 'static;

    /// Read one split and call `emit(key, value)` for each pair it produces. A map that
    /// fails returns `Err`; what it emitted before failing must not reach the output.
    fn map(&self, split: &Split, emit: &mut dyn FnMut(&str, Self::Value)) -> Result<(), Failed>;

    /// Fold `other` into `acc`. Associative and commutative.
    fn merge(&self, acc: &mut Self::Value, other: Self::Value);

    /// Called when a reduce task starts, with its partition. Jobs do nothing here; tests
    /// use it to see reduce tasks run (and fail) on purpose.
    fn before_reduce(&self, partition: usize) -> Result<(), Failed> {
        let _ = partition;
        Ok(())
    }
}

/// The job's result: each key once, in sorted order.
pub type Output<V> = BTreeMap<String, V>;

/// The words of `text`: maximal runs of ASCII letters, lowercased. "Don't stop." is
/// `don`, `t`, `stop`. Everything else (digits, punctuation, spaces) separates words.
pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_ascii_alphabetic())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_ascii_lowercase())
}

/// The whole job on one thread, with no partitions, no combiner and no pool: map every
/// split in order, fold every value into one map. Every parallel run must equal this.
/// Panics if a map fails.
pub fn sequential<J: Job>(job: &J, splits: &[Split]) -> Output<J::Value> {
    let mut out: Output<J::Value> = BTreeMap::new();
    for split in splits {
        job.map(split, &mut |key, value| match out.get_mut(key) {
            Some(acc) => job.merge(acc, value),
            None => {
                out.insert(key.to_string(), value);
            }
        })
        .unwrap_or_else(|e| panic!("sequential run: split {}: {e}", split.id));
    }
    out
}

/// Cut `text` into `n` splits of about equal size, at line ends (a line is never cut).
/// Fewer than `n` if there are fewer lines; ids are 0, 1, …
pub fn split_lines(text: &str, n: usize) -> Vec<Split> {
    let n = n.max(1);
    let target = text.len().div_ceil(n).max(1);
    let mut splits = Vec::new();
    let mut current = String::new();
    for line in text.split_inclusive('\n') {
        current.push_str(line);
        if current.len() >= target && splits.len() + 1 < n {
            splits.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() || splits.is_empty() {
        splits.push(current);
    }
    splits
        .into_iter()
        .enumerate()
        .map(|(id, text)| Split { id, text })
        .collect()
}

/// A small, fast, seeded pseudo-random generator (SplitMix64). Not for cryptography; it
/// makes the corpus the same on every machine and every run, without a dependency.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0.0..1.0`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

/// The most common words, in order of rank: the corpus's top words are these.
const COMMON: [&str; 24] = [
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "it", "as", "was", "with", "be",
    "by", "on", "not", "he", "this", "are", "or", "his", "from", "at",
];

const SYLLABLES: [&str; 16] = [
    "ka", "lo", "mi", "re", "tu", "san", "vo", "ne", "di", "por", "el", "ith", "ba", "gu", "zer",
    "om",
];

/// The word of rank `rank` in the corpus's vocabulary: [`COMMON`] first, then made-up words
/// spelled from syllables (`rank` in base 16, at least two syllables).
pub fn vocabulary_word(rank: usize) -> String {
    if rank < COMMON.len() {
        return COMMON[rank].to_string();
    }
    let mut n = rank - COMMON.len() + 16;
    let mut word = String::new();
    while n > 0 {
        word.insert_str(0, SYLLABLES[n % 16]);
        n /= 16;
    }
    word
}

/// A deterministic text of `words` words drawn from a vocabulary of `vocabulary` words
/// with a Zipf distribution (the word of rank r comes up in proportion to 1/(r+1)), as
/// in natural language: a few words are everywhere, most are rare. Lines of 6 to 13
/// words; each line starts with a capital and ends with a full stop, and some words carry
/// a comma, so the tokenizer has work to do. The same seed gives the same text.
pub fn corpus(seed: u64, words: usize, vocabulary: usize) -> String {
    let vocabulary = vocabulary.max(1);
    let mut cdf = Vec::with_capacity(vocabulary);
    let mut total = 0.0;
    for rank in 0..vocabulary {
        total += 1.0 / (rank as f64 + 1.0);
        cdf.push(total);
    }
    let names: Vec<String> = (0..vocabulary).map(vocabulary_word).collect();
    let mut rng = SplitMix64(seed);
    let mut text = String::with_capacity(words * 6);
    let mut left_in_line = 0;
    for i in 0..words {
        if left_in_line == 0 {
            left_in_line = 6 + rng.below(8) as usize;
        }
        let u = rng.next_f64() * total;
        let rank = cdf.partition_point(|&c| c <= u).min(vocabulary - 1);
        let word = &names[rank];
        let starts_line = text.is_empty() || text.ends_with('\n');
        if !starts_line {
            text.push(' ');
        }
        if starts_line {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                text.push(first.to_ascii_uppercase());
                text.push_str(chars.as_str());
            }
        } else {
            text.push_str(word);
        }
        left_in_line -= 1;
        if left_in_line == 0 || i + 1 == words {
            text.push_str(".\n");
            left_in_line = 0;
        } else if rng.below(12) == 0 {
            text.push(',');
        }
    }
    text
}

/// The `n` most frequent words of a word count, most frequent first; ties broken by the
/// word, alphabetically. A canonical order, so a printed top-N is the same on every run.
pub fn top_words(counts: &Output<u64>, n: usize) -> Vec<(String, u64)> {
    let mut all: Vec<(String, u64)> = counts.iter().map(|(w, &c)| (w.clone(), c)).collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    all.truncate(n);
    all
}
