//! Exercise 11.2: the shuffle — a map task's pairs, combined and cut into R buckets, and
//! a reduce task that folds one bucket of every map task.
//!
//! ```text
//!   map task i:  split i ──map──▶ (k, v), (k, v), … ──combine per key──▶
//!                bucket[partition(k, R)]      (R sorted maps, the task's output)
//!   reduce task p:  bucket p of map task 0, 1, …, M-1 ──merge per key──▶ part p
//! ```
//!
//! Every key lands in one bucket, the same in every map task, so each key is reduced
//! by exactly one reduce task and the parts never overlap.

use crate::{Failed, Job, Output, Split};

/// The 64-bit FNV-1a hash of `key`'s bytes: start from `0xcbf29ce484222325`; for each
/// byte, XOR it in, then multiply by `0x100000001b3` (wrapping).
pub fn fnv1a(key: &str) -> u64 {
    let _ = key;
    todo!("exercise 11.2: fnv1a")
}

/// The reduce task that owns `key` when there are `reducers` of them: `fnv1a(key) %
/// reducers`. Not `std`'s hasher: its `RandomState` is seeded anew in every process (and
/// every `HashMap`), so two workers would send one key to two different reducers.
pub fn partition(key: &str, reducers: usize) -> usize {
    let _ = (key, reducers);
    todo!("exercise 11.2: partition")
}

/// Run `job.map` on `split` and return its output as `reducers` buckets: bucket `p` holds
/// the keys with `partition(key, reducers) == p`, each key once, its values already
/// merged with `job.merge` (the combiner). If the map fails, return its error unchanged
/// (not wrapped) and nothing it emitted.
pub fn map_task<J: Job>(
    job: &J,
    split: &Split,
    reducers: usize,
) -> Result<Vec<Output<J::Value>>, Failed> {
    let _ = (job, split, reducers);
    todo!("exercise 11.2: map_task")
}

/// Fold `buckets` — one bucket from each map task, all for the same partition — into
/// one output, merging the values of each key with `job.merge`.
pub fn reduce_task<J: Job>(job: &J, buckets: &[Output<J::Value>]) -> Output<J::Value> {
    let _ = (job, buckets);
    todo!("exercise 11.2: reduce_task")
}
