//! Exercise 11.5: the same job with rayon.
//!
//! ```text
//!   splits.par_iter()
//!     .fold(identity, fold one split into the accumulator)   one accumulator per
//!                                                            piece rayon cuts off
//!     .reduce(identity, merge two accumulators)              pairs, in a tree
//! ```
//!
//! rayon decides how many pieces there are and which thread runs each: `fold`'s identity
//! runs once per piece (not once per thread, and not once in all), and `reduce` merges
//! the pieces' results in any grouping. So the identity must be neutral (an empty map)
//! and merging must be associative and commutative — which `Job::merge` is.

use crate::{Job, Output, Split};
//@ solution
use rayon::prelude::*;
//@ end

/// The job over `splits` on the current rayon pool (the global one, or the one a caller
/// `install`ed): `par_iter` + `fold` + `reduce`. Panics if a map fails (there is no
/// re-execution here: rayon runs each split once). Equals [`crate::sequential`].
pub fn run_rayon<J: Job>(job: &J, splits: &[Split]) -> Output<J::Value> {
    //@ solution
    splits
        .par_iter()
        .fold(Output::new, |mut acc, split| {
            job.map(split, &mut |key, value| {
                merge_one(job, &mut acc, key, value)
            })
            .unwrap_or_else(|e| panic!("split {}: {e}", split.id));
            acc
        })
        .reduce(Output::new, |a, b| merge_maps(job, a, b))
    //@ skeleton
    // let _ = (job, splits);
    // todo!("exercise 11.5: run_rayon")
    //@ end
}
//@ solution

fn merge_one<J: Job>(job: &J, acc: &mut Output<J::Value>, key: &str, value: J::Value) {
    match acc.get_mut(key) {
        Some(old) => job.merge(old, value),
        None => {
            acc.insert(key.to_string(), value);
        }
    }
}

/// Merge two partial outputs: the smaller into the larger, which is fine only because the
/// merge is commutative.
fn merge_maps<J: Job>(job: &J, a: Output<J::Value>, b: Output<J::Value>) -> Output<J::Value> {
    let (mut big, small) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    for (key, value) in small {
        merge_one(job, &mut big, &key, value);
    }
    big
}
//@ end
