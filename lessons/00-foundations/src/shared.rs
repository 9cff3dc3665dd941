//! Exercise 00.2: shared state behind `Arc<Mutex<…>>`.
//!
//! The Go material collects results like this, from many goroutines at once:
//!
//! ```go
//! go func() {
//!     defer wg.Done()
//!     latency, status := callServer()
//!     latencies = append(latencies, latency)   // a data race
//! }()
//! ```
//!
//! In Rust the same code does not compile: a `Vec` cannot be mutated from two threads
//! without a lock. The lock owns the data it protects.

/// Start `n` threads with `std::thread::spawn`. Thread `i` computes `work(i)` and pushes
/// `(i, result)` onto one vector shared by all threads, an `Arc<Mutex<Vec<(usize, R)>>>`.
/// Join every thread, then return the vector sorted by `i`.
///
/// - `std::thread::spawn` needs `'static` data: share `work` and the vector through `Arc`s.
/// - Hold the lock only to push. Computing `work(i)` while holding it would make the
///   threads take turns, and the test checks that they run at the same time.
pub fn gather<R, F>(n: usize, work: F) -> Vec<(usize, R)>
where
    R: Send + 'static,
    F: Fn(usize) -> R + Send + Sync + 'static,
{
    let _ = (n, work);
    todo!("exercise 00.2: gather")
}
