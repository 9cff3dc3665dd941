//! Exercise 13.2: a counter split into shards, one per worker.

//@ solution
use crossbeam_utils::CachePadded;
use std::sync::atomic::Ordering::Relaxed;
//@ end
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
    //@ solution
    // A boxed slice: its length is fixed at `new`, so `shard_of` can never pick a shard
    // that is not there. Each element is 128-byte aligned, so neighbours never share a line.
    shards: Box<[CachePadded<AtomicU64>]>,
    //@ skeleton
    // // Your fields: the shards.
    //@ end
}

impl ShardedCounter {
    /// A counter of `shards` shards, all zero. Panics if `shards` is 0.
    pub fn new(shards: usize) -> ShardedCounter {
        assert!(shards > 0, "a sharded counter needs at least one shard");
        //@ solution
        ShardedCounter {
            shards: (0..shards)
                .map(|_| CachePadded::new(AtomicU64::new(0)))
                .collect(),
        }
        //@ skeleton
        // todo!("exercise 13.2: ShardedCounter::new")
        //@ end
    }

    /// How many shards.
    pub fn shards(&self) -> usize {
        //@ solution
        self.shards.len()
        //@ skeleton
        // todo!("exercise 13.2: ShardedCounter::shards")
        //@ end
    }

    /// The shard worker `worker` adds to. Workers `0..shards()` get different shards.
    pub fn shard_of(&self, worker: usize) -> usize {
        //@ solution
        // Workers are numbered by whoever starts them (a pool's worker index), so a plain
        // modulo spreads them evenly. Hashing a `ThreadId` instead would need no numbering
        // but could put two busy threads on one shard.
        worker % self.shards.len()
        //@ skeleton
        // let _ = worker;
        // todo!("exercise 13.2: ShardedCounter::shard_of")
        //@ end
    }

    /// Add `n` for worker `worker`.
    pub fn add(&self, worker: usize, n: u64) {
        //@ solution
        // Relaxed: each shard is a statistic on its own; `sum` needs no ordering between
        // shards, only that every increment lands in some shard exactly once.
        self.shards[self.shard_of(worker)].fetch_add(n, Relaxed);
        //@ skeleton
        // let _ = (worker, n);
        // todo!("exercise 13.2: ShardedCounter::add")
        //@ end
    }

    /// The total of every shard.
    pub fn sum(&self) -> u64 {
        //@ solution
        self.shards.iter().map(|shard| shard.load(Relaxed)).sum()
        //@ skeleton
        // todo!("exercise 13.2: ShardedCounter::sum")
        //@ end
    }

    /// Shard `index` (`0..shards()`).
    pub fn shard(&self, index: usize) -> &AtomicU64 {
        //@ solution
        &self.shards[index]
        //@ skeleton
        // let _ = index;
        // todo!("exercise 13.2: ShardedCounter::shard")
        //@ end
    }
}
