//! Exercise 13.1: two hot counters that do not share a cache line.

//@ solution
use crossbeam_utils::CachePadded;
//@ end
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

/// Two counters of a server: `requests` is bumped by the thread that accepts requests,
/// `errors` by the thread that writes the error log. Neither thread reads the other's
/// counter, yet a profile shows both slowed down.
///
/// The cause is false sharing: a CPU core owns memory a *cache line* at a time (64 bytes
/// on most x86_64 parts, and the adjacent-line prefetcher pulls pairs, so 128 bytes in
/// practice). Two counters on one line make the two cores pass that line back and forth
/// on every increment, as if they were one shared counter.
///
/// Task: give each counter a cache line of its own, so that the two never share one.
/// `crossbeam_utils::CachePadded<T>` aligns (and pads) a value to the line size crossbeam
/// assumes for the target (128 bytes on x86_64).
pub struct HotPair {
    //@ solution
    // `CachePadded` aligns each field to 128 bytes on x86_64, so `errors` starts on the
    // next line after `requests`: the struct is 256 bytes for 16 bytes of counters. That
    // memory is the price; a second core no longer stealing the line is what it buys.
    requests: CachePadded<AtomicU64>,
    errors: CachePadded<AtomicU64>,
    //@ skeleton
    // // Your fields: the two counters.
    //@ end
}

impl HotPair {
    /// Both counters at zero.
    pub fn new() -> HotPair {
        //@ solution
        HotPair {
            requests: CachePadded::new(AtomicU64::new(0)),
            errors: CachePadded::new(AtomicU64::new(0)),
        }
        //@ skeleton
        // todo!("exercise 13.1: HotPair::new")
        //@ end
    }

    /// The request counter (the tests look at its address).
    pub fn requests(&self) -> &AtomicU64 {
        //@ solution
        &self.requests
        //@ skeleton
        // todo!("exercise 13.1: HotPair::requests")
        //@ end
    }

    /// The error counter (the tests look at its address).
    pub fn errors(&self) -> &AtomicU64 {
        //@ solution
        &self.errors
        //@ skeleton
        // todo!("exercise 13.1: HotPair::errors")
        //@ end
    }

    /// One more request. `Relaxed`: a statistic, nothing else is published with it.
    pub fn add_request(&self) {
        self.requests().fetch_add(1, Relaxed);
    }

    /// One more error.
    pub fn add_error(&self) {
        self.errors().fetch_add(1, Relaxed);
    }
}

impl Default for HotPair {
    fn default() -> HotPair {
        HotPair::new()
    }
}
