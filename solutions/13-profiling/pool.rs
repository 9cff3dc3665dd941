//! Exercise 13.3: a pool of buffers, so that a request reuses one instead of allocating.
//@ solution

use std::sync::Mutex;
//@ end

/// Buffers for requests: each request takes one with `get`, fills it, and gives it back
/// with `put`. Go's `sync.Pool` does this job; this one is explicit about its limits.
///
/// Task:
/// - `get` returns an **empty** buffer: an idle one if there is one, otherwise a new one
///   with room for `capacity` bytes;
/// - `put` takes a buffer back, emptied, for the next `get` — unless `max_idle` buffers
///   are already idle, or the buffer grew beyond `4 × capacity` bytes (one huge request
///   must not pin a huge buffer forever): those are dropped;
/// - `idle` says how many buffers wait in the pool.
///
/// A heap profiler (dhat) counts the allocations: 1,000 requests one after the other must
/// allocate a handful of times, not 1,000.
pub struct BufferPool {
    //@ solution
    /// Idle buffers. A `Mutex` around a `Vec`: get and put hold it for one push or pop,
    /// far shorter than the request that uses the buffer, so it is rarely contended. (Under
    /// heavy contention, shard it as in 13.2: one stack per worker.)
    idle: Mutex<Vec<Vec<u8>>>,
    //@ end
    max_idle: usize,
    capacity: usize,
}

impl BufferPool {
    /// A pool that keeps at most `max_idle` idle buffers of about `capacity` bytes.
    pub fn new(max_idle: usize, capacity: usize) -> BufferPool {
        //@ solution
        BufferPool {
            // Reserved once, so that `put` never grows the list while requests run.
            idle: Mutex::new(Vec::with_capacity(max_idle)),
            max_idle,
            capacity,
        }
        //@ skeleton
        // let _ = (max_idle, capacity);
        // todo!("exercise 13.3: BufferPool::new")
        //@ end
    }

    /// An empty buffer: an idle one, or a new one with room for `capacity` bytes.
    pub fn get(&self) -> Vec<u8> {
        //@ solution
        // Pop under the lock, allocate outside it: a miss must not make other requests
        // wait for the allocator.
        let reused = self.idle.lock().unwrap().pop();
        reused.unwrap_or_else(|| Vec::with_capacity(self.capacity))
        //@ skeleton
        // todo!("exercise 13.3: BufferPool::get")
        //@ end
    }

    /// Give `buffer` back. It is emptied (its bytes are the last request's, and the next
    /// one must not see them); it is dropped if the pool is full or it grew too big.
    pub fn put(&self, mut buffer: Vec<u8>) {
        //@ solution
        if buffer.capacity() > 4 * self.capacity {
            return; // dropped: keeping it would pin its memory for as long as the pool lives
        }
        // `clear` keeps the allocation and forgets the bytes — Go's `buf.Reset()`, which
        // the Go snippet forgets before its `Put`.
        buffer.clear();
        let mut idle = self.idle.lock().unwrap();
        if idle.len() < self.max_idle {
            idle.push(buffer);
        }
        // Otherwise the buffer is dropped here (after the guard, at the end of the scope:
        // freeing a few KiB under a lock held for nanoseconds is not worth a second scope).
        //@ skeleton
        // let _ = &mut buffer;
        // todo!("exercise 13.3: BufferPool::put")
        //@ end
    }

    /// How many buffers are idle in the pool.
    pub fn idle(&self) -> usize {
        //@ solution
        self.idle.lock().unwrap().len()
        //@ skeleton
        // todo!("exercise 13.3: BufferPool::idle")
        //@ end
    }

    /// The most idle buffers it keeps.
    pub fn max_idle(&self) -> usize {
        self.max_idle
    }

    /// The room each new buffer has.
    pub fn capacity(&self) -> usize {
        self.capacity
    }
}
