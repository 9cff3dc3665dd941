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

//@ solution
use std::sync::{Arc, Mutex};
use std::thread;

/// Start `n` threads; thread `i` pushes `(i, work(i))` onto a shared vector. Join them
/// all and return the vector sorted by `i`.
//@ skeleton
// /// Start `n` threads with `std::thread::spawn`. Thread `i` computes `work(i)` and pushes
// /// `(i, result)` onto one vector shared by all threads, an `Arc<Mutex<Vec<(usize, R)>>>`.
// /// Join every thread, then return the vector sorted by `i`.
// ///
// /// - `std::thread::spawn` needs `'static` data: share `work` and the vector through `Arc`s.
// /// - Hold the lock only to push. Computing `work(i)` while holding it would make the
// ///   threads take turns, and the test checks that they run at the same time.
//@ end
pub fn gather<R, F>(n: usize, work: F) -> Vec<(usize, R)>
where
    R: Send + 'static,
    F: Fn(usize) -> R + Send + Sync + 'static,
{
    //@ solution
    // `thread::spawn` requires `'static`: the threads may outlive this stack frame as far
    // as the compiler knows, so they share ownership of `work` and of the results.
    let work = Arc::new(work);
    let results: Arc<Mutex<Vec<(usize, R)>>> = Arc::new(Mutex::new(Vec::with_capacity(n)));

    let handles: Vec<_> = (0..n)
        .map(|i| {
            let work = Arc::clone(&work);
            let results = Arc::clone(&results);
            thread::spawn(move || {
                // Compute first, lock second. `results.lock().push((i, work(i)))` would
                // evaluate `work(i)` with the guard already held, and the threads would
                // run their work one at a time.
                let value = work(i);
                results
                    .lock()
                    .expect("no thread panics while holding the lock")
                    .push((i, value));
            })
        })
        .collect();

    for handle in handles {
        if let Err(panic) = handle.join() {
            std::panic::resume_unwind(panic);
        }
    }

    // Every thread has been joined, so ours is the last `Arc`: take the vector out
    // instead of copying it.
    let mutex =
        Arc::try_unwrap(results).unwrap_or_else(|_| unreachable!("all threads were joined"));
    let mut results = mutex
        .into_inner()
        .expect("no thread panicked while holding the lock");
    // The threads pushed in whatever order the scheduler ran them; sort for a canonical
    // order.
    results.sort_by_key(|(i, _)| *i);
    results
    //@ skeleton
    // let _ = (n, work);
    // todo!("exercise 00.2: gather")
    //@ end
}
