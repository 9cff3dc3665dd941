//! Exercise 00.6: the first error cancels the rest (Go's `errgroup`).
//!
//! `errgroup.WithContext` runs goroutines, returns the first error, and cancels the
//! context so the others can stop. With a `JoinSet` the cancelling is free: dropping the
//! set aborts every task still in it.

use std::future::Future;

/// Run every job concurrently, each as a task in a `tokio::task::JoinSet`.
///
/// - If every job succeeds, return their values in the order of `jobs` (not the order
///   they finished in).
/// - As soon as one job fails, return its error without waiting for the others, and make
///   sure the others stop: none of them may run on after this function has returned.
/// - "First" means first in time, not lowest index.
pub async fn try_all<T, E, F>(jobs: Vec<F>) -> Result<Vec<T>, E>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    let _ = jobs;
    todo!("exercise 00.6: try_all")
}
