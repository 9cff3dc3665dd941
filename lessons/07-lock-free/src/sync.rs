//! The atomics the exercises use, from one place. Not an exercise.
//!
//! A normal build gives you std's types. `cargo workbook loom 07` builds with
//! `--cfg loom`, and then the same names are loom's: your code runs unchanged inside the
//! models in `tests/lesson.rs`, and loom tries every interleaving of its atomic
//! operations that matters. crossbeam-epoch runs on loom in that build too
//! (`--cfg crossbeam_loom`), so the models check reclamation as well.

#[cfg(not(loom))]
pub use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};

#[cfg(loom)]
pub use loom::sync::atomic::{AtomicBool, AtomicU8, AtomicU32, AtomicU64, AtomicUsize, Ordering};

/// crossbeam-epoch: `Atomic`, `Owned`, `Shared`, `pin()` and `Guard::defer_destroy`.
pub use crossbeam_epoch as epoch;

/// Tell the processor this thread is spinning; under loom, let another thread run.
#[cfg(not(loom))]
pub use std::hint::spin_loop;

#[cfg(loom)]
pub use loom::hint::spin_loop;

/// A cell whose contents other threads may read and write, with loom's API: every access
/// is a closure, so loom can check that no two accesses race.
#[cfg(loom)]
pub use loom::cell::UnsafeCell;

/// A cell whose contents other threads may read and write, with loom's API: every access
/// is a closure, so loom can check that no two accesses race.
#[cfg(not(loom))]
#[derive(Debug)]
pub struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub fn new(value: T) -> UnsafeCell<T> {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Read through the pointer `f` is given. Safe to call; what `f` does with the
    /// pointer is up to you to justify.
    pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Write through the pointer `f` is given.
    pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
