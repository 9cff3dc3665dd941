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

/// The job over `splits` on the current rayon pool (the global one, or the one a caller
/// `install`ed): `par_iter` + `fold` + `reduce`. Panics if a map fails (there is no
/// re-execution here: rayon runs each split once). Equals [`crate::sequential`].
pub fn run_rayon<J: Job>(job: &J, splits: &[Split]) -> Output<J::Value> {
    let _ = (job, splits);
    todo!("exercise 11.5: run_rayon")
}
