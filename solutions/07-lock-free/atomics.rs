//! Exercises 07.1 and 07.2: a counter that needs no ordering, and a slot that publishes a
//! value to other threads and so needs Release and Acquire.

use std::mem::MaybeUninit;

//@ solution
use crate::sync::{AtomicU8, AtomicUsize, Ordering, UnsafeCell};
//@ skeleton
// #[allow(unused_imports)] // Ordering: you will need it
// use crate::sync::{AtomicU8, AtomicUsize, Ordering, UnsafeCell};
//@ end

/// Exercise 07.1: a counter many threads add to, and one thread now and then empties.
pub struct Counter {
    //@ solution
    count: AtomicUsize,
    //@ skeleton
    // count: AtomicUsize,
    //@ end
}

impl Counter {
    pub fn new() -> Counter {
        Counter {
            count: AtomicUsize::new(0),
        }
    }

    /// Count one.
    pub fn increment(&self) {
        //@ solution
        // One atomic read-modify-write: no increment can slip between a read and a write,
        // because there is no separate read and write. Relaxed is enough: the count
        // publishes nothing else, and every RMW on one atomic sees the latest value.
        self.count.fetch_add(1, Ordering::Relaxed);
        //@ skeleton
        // let _ = &self.count;
        // todo!("exercise 07.1: Counter::increment")
        //@ end
    }

    /// The count now (other threads may be counting while you read it).
    pub fn get(&self) -> usize {
        //@ solution
        self.count.load(Ordering::Relaxed)
        //@ skeleton
        // todo!("exercise 07.1: Counter::get")
        //@ end
    }

    /// Return the count and reset it to zero, in one step: every increment is returned
    /// by exactly one `take` (or is still in the counter).
    pub fn take(&self) -> usize {
        //@ solution
        self.count.swap(0, Ordering::Relaxed)
        //@ skeleton
        // todo!("exercise 07.1: Counter::take")
        //@ end
    }
}

impl Default for Counter {
    fn default() -> Counter {
        Counter::new()
    }
}

//@ solution
/// Nobody has claimed the slot.
const EMPTY: u8 = 0;
/// A publisher has claimed it and is writing the value.
const WRITING: u8 = 1;
/// The value is written and may be read.
const READY: u8 = 2;

//@ end
/// Exercise 07.2: a slot that one thread fills once and any thread may read from then on
/// (`std::sync::OnceLock` without the waiting).
pub struct Slot<T> {
    //@ solution
    state: AtomicU8,
    //@ skeleton
    // /// Say here which states the slot goes through.
    // state: AtomicU8,
    //@ end
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
        //@ solution
        // Claim the slot in one step, so exactly one publisher writes. Relaxed is enough
        // for the claim: it publishes nothing; the store of READY below does.
        if self
            .state
            .compare_exchange(EMPTY, WRITING, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
        {
            return Err(value);
        }
        // Only the claimant gets here, and no reader touches the value before READY.
        self.value.with_mut(|p| unsafe { (*p).write(value) });
        // Release: the write above happens before any Acquire load that sees READY.
        self.state.store(READY, Ordering::Release);
        Ok(())
        //@ skeleton
        // let _ = (&self.state, &self.value, value);
        // todo!("exercise 07.2: Slot::publish")
        //@ end
    }

    /// The value, once it has been published in full; `None` before.
    pub fn get(&self) -> Option<&T> {
        //@ solution
        // Acquire pairs with the publisher's Release: seeing READY, we see the value.
        if self.state.load(Ordering::Acquire) == READY {
            // Published and never written again, so shared references are fine.
            Some(self.value.with(|p| unsafe { (*p).assume_init_ref() }))
        } else {
            None
        }
        //@ skeleton
        // todo!("exercise 07.2: Slot::get")
        //@ end
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
