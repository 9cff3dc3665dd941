//! Exercise 11.1: two jobs, a word count and an inverted index.
//!
//! A job says what a split emits and how two values of one key merge. The merge is the
//! combiner *and* the reducer, so it has to give the same answer in any grouping:
//! `merge(merge(a, b), c) == merge(a, merge(b, c))` and `merge(a, b) == merge(b, a)`.

use std::collections::BTreeSet;

use crate::{Failed, Job, Split, words};

/// How often each word occurs in the input. Tokenize with [`crate::words`].
#[derive(Clone, Copy, Debug, Default)]
pub struct WordCount;

impl Job for WordCount {
    type Value = u64;

    /// Emit `(word, 1)` for every word of the split.
    fn map(&self, split: &Split, emit: &mut dyn FnMut(&str, u64)) -> Result<(), Failed> {
        let _ = (split, emit, words);
        todo!("exercise 11.1: WordCount::map")
    }

    /// `acc` and `other` are two partial counts of one word.
    fn merge(&self, acc: &mut u64, other: u64) {
        let _ = (acc, other);
        todo!("exercise 11.1: WordCount::merge")
    }
}

/// For each word, the ids of the splits it occurs in.
#[derive(Clone, Copy, Debug, Default)]
pub struct InvertedIndex;

impl Job for InvertedIndex {
    type Value = BTreeSet<usize>;

    /// Emit `(word, {split.id})` for the words of the split.
    fn map(
        &self,
        split: &Split,
        emit: &mut dyn FnMut(&str, BTreeSet<usize>),
    ) -> Result<(), Failed> {
        let _ = (split, emit, words);
        todo!("exercise 11.1: InvertedIndex::map")
    }

    /// `acc` and `other` are two sets of splits that contain one word.
    fn merge(&self, acc: &mut BTreeSet<usize>, other: BTreeSet<usize>) {
        let _ = (acc, other);
        todo!("exercise 11.1: InvertedIndex::merge")
    }
}
