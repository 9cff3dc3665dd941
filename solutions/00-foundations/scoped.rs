//! Exercise 00.1: scoped threads — reference solution.

use std::thread;

/// Run `f` on every item of `items`, each item on a thread of its own, all at the same
/// time, and return the results in the order of `items`.
pub fn map_scoped<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    thread::scope(|scope| {
        // Each thread borrows `f`; `F: Sync` is what makes `&F` shareable across threads.
        let f = &f;
        // Collect the handles *before* joining any of them. Joining inside the same loop
        // that spawns (`spawn(..).join()`) would run the items one at a time.
        let handles: Vec<_> = items
            .iter()
            .map(|item| scope.spawn(move || f(item)))
            .collect();
        handles
            .into_iter()
            // Joining in spawn order gives the results in input order, whatever order
            // the threads finished in. A thread that panicked hands us its payload; we
            // pass the panic on unchanged instead of inventing a new message.
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|p| std::panic::resume_unwind(p))
            })
            .collect()
    })
}
