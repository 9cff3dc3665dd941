//! Exercise 00.1: scoped threads.
//!
//! Go starts a goroutine with `go f()` and waits for a group of them with a
//! `sync.WaitGroup`. For threads that only need to live as long as a function call,
//! Rust has `std::thread::scope`: threads spawned in the scope may *borrow* local data,
//! and the scope joins every one of them before it returns.

/// Run `f` on every item of `items`, each item on a thread of its own, all at the same
/// time, and return the results in the order of `items`.
///
/// - Use `std::thread::scope` so the threads can borrow `items` and `f`.
/// - Start every thread before you wait for any of them: the test only passes if all
///   the calls to `f` run at once.
pub fn map_scoped<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    let _ = (items, f);
    todo!("exercise 00.1: map_scoped")
}
