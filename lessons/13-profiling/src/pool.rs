//! Exercise 13.3: a pool of buffers, so that a request reuses one instead of allocating.

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
    max_idle: usize,
    capacity: usize,
}

impl BufferPool {
    /// A pool that keeps at most `max_idle` idle buffers of about `capacity` bytes.
    pub fn new(max_idle: usize, capacity: usize) -> BufferPool {
        let _ = (max_idle, capacity);
        todo!("exercise 13.3: BufferPool::new")
    }

    /// An empty buffer: an idle one, or a new one with room for `capacity` bytes.
    pub fn get(&self) -> Vec<u8> {
        todo!("exercise 13.3: BufferPool::get")
    }

    /// Give `buffer` back. It is emptied (its bytes are the last request's, and the next
    /// one must not see them); it is dropped if the pool is full or it grew too big.
    pub fn put(&self, mut buffer: Vec<u8>) {
        let _ = &mut buffer;
        todo!("exercise 13.3: BufferPool::put")
    }

    /// How many buffers are idle in the pool.
    pub fn idle(&self) -> usize {
        todo!("exercise 13.3: BufferPool::idle")
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
