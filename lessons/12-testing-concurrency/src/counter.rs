//! Counters that several threads increment: one correct with an atomic, one correct with a
//! lock, and one that loses updates. Not an exercise: exercise 12.1 checks them.
//!
//! They are built on **loom's** types (`loom::sync::atomic::AtomicUsize`,
//! `loom::sync::Mutex`), not std's, so a check can run them inside `loom::model` in an
//! ordinary build, with no `--cfg loom`. The price: they work *only* inside a model.
//! Outside one, loom's types panic ("cannot access Loom execution state from outside a
//! Loom model"). A crate that also ships to production re-exports std's types
//! normally and loom's under `--cfg loom`, as lesson 07's `src/sync.rs` does.

use std::sync::Arc;

use loom::sync::Mutex;
use loom::sync::atomic::AtomicUsize;
use loom::sync::atomic::Ordering::Relaxed;

/// A counter that many threads may increment at once.
pub trait Counter: Send + Sync {
    /// Add one.
    fn increment(&self);
    /// The count so far.
    fn get(&self) -> usize;
}

/// How a check gets a fresh counter: call it once per run of a model, inside the model
/// (loom's types must be created inside `loom::model`). The `Arc` is std's: what loom
/// must see are the counter's own operations, not the reference counting around it.
pub type MakeCounter = fn() -> Arc<dyn Counter>;

/// Correct: one `fetch_add`, a read-modify-write that no other thread can come between.
/// `Relaxed` is enough: the count publishes no other data, and joining a thread makes
/// everything it did visible to the joiner.
#[derive(Debug, Default)]
pub struct AtomicCounter {
    count: AtomicUsize,
}

impl AtomicCounter {
    /// A counter at zero, ready to share.
    pub fn shared() -> Arc<dyn Counter> {
        Arc::new(AtomicCounter::default())
    }
}

impl Counter for AtomicCounter {
    fn increment(&self) {
        self.count.fetch_add(1, Relaxed);
    }

    fn get(&self) -> usize {
        self.count.load(Relaxed)
    }
}

/// Correct, differently: the count behind a lock. A check that looks for an atomic's
/// behaviour (rather than for a right final count) gets this one wrong.
#[derive(Debug, Default)]
pub struct MutexCounter {
    count: Mutex<usize>,
}

impl MutexCounter {
    /// A counter at zero, ready to share.
    pub fn shared() -> Arc<dyn Counter> {
        Arc::new(MutexCounter::default())
    }
}

impl Counter for MutexCounter {
    fn increment(&self) {
        *self.count.lock().unwrap_or_else(|e| e.into_inner()) += 1;
    }

    fn get(&self) -> usize {
        *self.count.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// **Planted bug: a lost update.** It reads the count, then stores the count plus one: two
/// atomic operations, not one. Two threads that both read 0 both store 1, and one
/// increment is gone. Each operation is atomic; the increment is not.
#[derive(Debug, Default)]
pub struct LoadStoreCounter {
    count: AtomicUsize,
}

impl LoadStoreCounter {
    /// A counter at zero, ready to share.
    pub fn shared() -> Arc<dyn Counter> {
        Arc::new(LoadStoreCounter::default())
    }
}

impl Counter for LoadStoreCounter {
    fn increment(&self) {
        let seen = self.count.load(Relaxed);
        // Another thread may increment right here; its update is then overwritten.
        self.count.store(seen + 1, Relaxed);
    }

    fn get(&self) -> usize {
        self.count.load(Relaxed)
    }
}
