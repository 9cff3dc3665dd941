//! Exercise 00.6: the first error cancels the rest (Go's `errgroup`).
//!
//! `errgroup.WithContext` runs goroutines, returns the first error, and cancels the
//! context so the others can stop. With a `JoinSet` the cancelling is free: dropping the
//! set aborts every task still in it.

use std::future::Future;

//@ solution
use tokio::task::JoinSet;

/// Run every job concurrently; return all values in job order, or the first error in
/// time, cancelling the jobs still running.
//@ skeleton
// /// Run every job concurrently, each as a task in a `tokio::task::JoinSet`.
// ///
// /// - If every job succeeds, return their values in the order of `jobs` (not the order
// ///   they finished in).
// /// - As soon as one job fails, return its error without waiting for the others, and make
// ///   sure the others stop: none of them may run on after this function has returned.
// /// - "First" means first in time, not lowest index.
//@ end
pub async fn try_all<T, E, F>(jobs: Vec<F>) -> Result<Vec<T>, E>
where
    F: Future<Output = Result<T, E>> + Send + 'static,
    T: Send + 'static,
    E: Send + 'static,
{
    //@ solution
    let mut set = JoinSet::new();
    let total = jobs.len();
    for (index, job) in jobs.into_iter().enumerate() {
        // Tag each result with its index: the set yields results in completion order.
        set.spawn(async move { (index, job.await) });
    }

    let mut values: Vec<Option<T>> = (0..total).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        let (index, result) = match joined {
            Ok(pair) => pair,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("a job was cancelled from outside: {e}"),
        };
        match result {
            Ok(value) => values[index] = Some(value),
            // Returning drops `set`, and dropping a JoinSet aborts every task still in
            // it: the errgroup's "cancel the context" comes for free. (`tokio::spawn`
            // alone would not do this: dropping a JoinHandle detaches its task.)
            Err(e) => return Err(e),
        }
    }
    Ok(values
        .into_iter()
        .map(|v| v.expect("every job reported"))
        .collect())
    //@ skeleton
    // let _ = jobs;
    // todo!("exercise 00.6: try_all")
    //@ end
}
