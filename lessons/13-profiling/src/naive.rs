//! The versions a profile would start from, to compare against (not an exercise): one
//! `Mutex` counter, two counters side by side, a fresh buffer per request, and the
//! producer/consumer pipeline used to compare channel bounds.

use std::sync::Mutex;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

/// One lock around one number: every increment from every thread takes the lock.
#[derive(Default)]
pub struct MutexCounter {
    count: Mutex<u64>,
}

impl MutexCounter {
    /// Add `n`.
    pub fn add(&self, n: u64) {
        *self.count.lock().unwrap() += n;
    }

    /// The total.
    pub fn sum(&self) -> u64 {
        *self.count.lock().unwrap()
    }
}

/// Two counters side by side: 16 bytes, one cache line (false sharing).
#[derive(Default)]
pub struct AdjacentPair {
    /// Bumped by one thread.
    pub requests: AtomicU64,
    /// Bumped by another.
    pub errors: AtomicU64,
}

impl AdjacentPair {
    /// One more request.
    pub fn add_request(&self) {
        self.requests.fetch_add(1, Relaxed);
    }

    /// One more error.
    pub fn add_error(&self) {
        self.errors.fetch_add(1, Relaxed);
    }
}

/// Move `items` numbers from a producer thread to a consumer thread through a bounded
/// channel of `capacity` slots (0 = a rendezvous: each send waits for its receive). The
/// consumer does `work` units of busy work per item. Returns the sum received.
pub fn pipeline(items: u64, capacity: usize, work: u32) -> u64 {
    let (tx, rx) = crossbeam_channel::bounded::<u64>(capacity);
    std::thread::scope(|s| {
        s.spawn(move || {
            for i in 0..items {
                tx.send(i).unwrap();
            }
        });
        let mut sum = 0u64;
        for v in rx {
            let mut x = v;
            for _ in 0..work {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
            sum = sum.wrapping_add(v);
            std::hint::black_box(x);
        }
        sum
    })
}
