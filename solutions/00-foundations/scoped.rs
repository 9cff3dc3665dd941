//@ solution
//! Exercise 00.1: scoped threads — reference solution.

use std::thread;
//@ skeleton
// //! Exercise 00.1: scoped threads.
// //!
// //! Go starts a goroutine with `go f()` and waits for a group of them with a
// //! `sync.WaitGroup`. For threads that only need to live as long as a function call,
// //! Rust has `std::thread::scope`: threads spawned in the scope may *borrow* local data,
// //! and the scope joins every one of them before it returns.
//@ end

/// Run `f` on every item of `items`, each item on a thread of its own, all at the same
/// time, and return the results in the order of `items`.
//@ solution
//@ skeleton
// ///
// /// - Use `std::thread::scope` so the threads can borrow `items` and `f`.
// /// - Start every thread before you wait for any of them: the test only passes if all
// ///   the calls to `f` run at once.
//@ end
pub fn map_scoped<T, R, F>(items: &[T], f: F) -> Vec<R>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    //@ solution
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
    //@ skeleton
    // let _ = (items, f);
    // todo!("exercise 00.1: map_scoped")
    //@ end
}
