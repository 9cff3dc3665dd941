//! Exercises 07.1 and 07.2: a counter that needs no ordering, and a slot that publishes a
//! value to other threads and so needs Release and Acquire.

use std::mem::MaybeUninit;

#[allow(unused_imports)] // Ordering: you will need it
use crate::sync::{AtomicU8, AtomicUsize, Ordering, UnsafeCell};

/// Exercise 07.1: a counter many threads add to, and one thread now and then empties.
pub struct Counter {
    count: AtomicUsize,
}

impl Counter {
    pub fn new() -> Counter {
        Counter {
            count: AtomicUsize::new(0),
        }
    }

    /// Count one.
    pub fn increment(&self) {
        let _ = &self.count;
        todo!("exercise 07.1: Counter::increment")
    }

    /// The count now (other threads may be counting while you read it).
    pub fn get(&self) -> usize {
        todo!("exercise 07.1: Counter::get")
    }

    /// Return the count and reset it to zero, in one step: every increment is returned
    /// by exactly one `take` (or is still in the counter).
    pub fn take(&self) -> usize {
        todo!("exercise 07.1: Counter::take")
    }
}

impl Default for Counter {
    fn default() -> Counter {
        Counter::new()
    }
}

/// Exercise 07.2: a slot that one thread fills once and any thread may read from then on
/// (`std::sync::OnceLock` without the waiting).
pub struct Slot<T> {
    /// Say here which states the slot goes through.
    state: AtomicU8,
    value: UnsafeCell<MaybeUninit<T>>,
}

// A `Slot` hands out `&T` to any thread (so `T: Sync`) and may drop the value on a thread
// other than the publisher's (so `T: Send`).
unsafe impl<T: Send + Sync> Sync for Slot<T> {}
unsafe impl<T: Send> Send for Slot<T> {}

impl<T> Slot<T> {
    pub fn new() -> Slot<T> {
        Slot {
            state: AtomicU8::new(0),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        }
    }

    /// Fill the slot with `value`, if nobody has: `Ok(())` for the first call, and
    /// `Err(value)` (given back) for every later one, even while the first is still
    /// writing. A reader that sees the slot filled sees the whole value.
    pub fn publish(&self, value: T) -> Result<(), T> {
        let _ = (&self.state, &self.value, value);
        todo!("exercise 07.2: Slot::publish")
    }

    /// The value, once it has been published in full; `None` before.
    pub fn get(&self) -> Option<&T> {
        todo!("exercise 07.2: Slot::get")
    }
}

impl<T> Default for Slot<T> {
    fn default() -> Slot<T> {
        Slot::new()
    }
}

impl<T> Drop for Slot<T> {
    fn drop(&mut self) {
        // `&mut self`: no other thread can be using the slot. Only a value that was
        // written in full is dropped. (During a panic the value is leaked instead: a
        // second panic from an unfinished `get` would abort the tests.)
        if !std::thread::panicking() && self.get().is_some() {
            self.value.with_mut(|p| unsafe { (*p).assume_init_drop() });
        }
    }
}
