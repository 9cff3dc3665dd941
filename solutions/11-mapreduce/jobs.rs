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
        //@ solution
        for word in words(&split.text) {
            emit(&word, 1);
        }
        Ok(())
        //@ skeleton
        // let _ = (split, emit, words);
        // todo!("exercise 11.1: WordCount::map")
        //@ end
    }

    /// `acc` and `other` are two partial counts of one word.
    fn merge(&self, acc: &mut u64, other: u64) {
        //@ solution
        // Add the *values*, never count them: after a combiner one value may stand for
        // a thousand occurrences. (`values.len()` is right only without a combiner.)
        *acc += other;
        //@ skeleton
        // let _ = (acc, other);
        // todo!("exercise 11.1: WordCount::merge")
        //@ end
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
        //@ solution
        // Emitting once per occurrence would be correct too (the merge is a union);
        // once per distinct word is what a combiner would leave anyway, for less work.
        let distinct: BTreeSet<String> = words(&split.text).collect();
        for word in distinct {
            emit(&word, BTreeSet::from([split.id]));
        }
        Ok(())
        //@ skeleton
        // let _ = (split, emit, words);
        // todo!("exercise 11.1: InvertedIndex::map")
        //@ end
    }

    /// `acc` and `other` are two sets of splits that contain one word.
    fn merge(&self, acc: &mut BTreeSet<usize>, other: BTreeSet<usize>) {
        //@ solution
        // A union: associative, commutative, and idempotent too — which is why this job
        // would survive a task counted twice, and a word count would not.
        acc.extend(other);
        //@ skeleton
        // let _ = (acc, other);
        // todo!("exercise 11.1: InvertedIndex::merge")
        //@ end
    }
}
