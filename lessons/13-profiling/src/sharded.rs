//! Exercise 13.2: a counter split into shards, one per worker.

use std::sync::atomic::AtomicU64;

/// A counter that many workers add to at once, without them all waiting on one lock or
/// fighting over one cache line.
///
/// A `Mutex<u64>` makes every increment take the lock: under contention the workers queue
/// up and the lock's cache line moves between cores on every increment. One `AtomicU64`
/// removes the waiting but not the line moving. A sharded counter gives each worker its
/// own counter (a *shard*), each on its own cache line; a read adds up all the shards.
/// Writes are cheap and never contended; a read costs one load per shard, and is exact
/// only when no one is adding (like any counter read while it changes).
///
/// Task: `new` makes `shards` counters at zero, each on a cache line of its own
/// (`CachePadded`); `shard_of(worker)` says which shard worker `worker` adds to, so that
/// workers `0..shards` each get a different shard; `add` adds to that shard; `sum` adds up
/// every shard; `shard` returns one shard (the tests look at values and addresses).
pub struct ShardedCounter {
    // Your fields: the shards.
}

impl ShardedCounter {
    /// A counter of `shards` shards, all zero. Panics if `shards` is 0.
    pub fn new(shards: usize) -> ShardedCounter {
        assert!(shards > 0, "a sharded counter needs at least one shard");
        todo!("exercise 13.2: ShardedCounter::new")
    }

    /// How many shards.
    pub fn shards(&self) -> usize {
        todo!("exercise 13.2: ShardedCounter::shards")
    }

    /// The shard worker `worker` adds to. Workers `0..shards()` get different shards.
    pub fn shard_of(&self, worker: usize) -> usize {
        let _ = worker;
        todo!("exercise 13.2: ShardedCounter::shard_of")
    }

    /// Add `n` for worker `worker`.
    pub fn add(&self, worker: usize, n: u64) {
        let _ = (worker, n);
        todo!("exercise 13.2: ShardedCounter::add")
    }

    /// The total of every shard.
    pub fn sum(&self) -> u64 {
        todo!("exercise 13.2: ShardedCounter::sum")
    }

    /// Shard `index` (`0..shards()`).
    pub fn shard(&self, index: usize) -> &AtomicU64 {
        let _ = index;
        todo!("exercise 13.2: ShardedCounter::shard")
    }
}
