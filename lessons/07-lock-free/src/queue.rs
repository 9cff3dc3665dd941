//! Exercise 07.4: the Michael–Scott queue, with crossbeam-epoch deciding when a node may
//! be freed.

use std::mem::MaybeUninit;

use crate::sync::Ordering;
#[allow(unused_imports)] // what the reference uses
use crate::sync::epoch::{self, Atomic, Owned, Shared};

/// A lock-free FIFO queue. `head` points at a sentinel node whose value is not in the
/// queue; the values are in the nodes after it. `tail` points at the last node, or at
/// most one node behind it while a push is half done.
pub struct Queue<T> {
    head: Atomic<Node<T>>,
    tail: Atomic<Node<T>>,
}

struct Node<T> {
    /// Uninitialised in the sentinel, and in a node whose value has been popped (which
    /// is then the new sentinel).
    value: MaybeUninit<T>,
    next: Atomic<Node<T>>,
}

impl<T> Queue<T> {
    pub fn new() -> Queue<T> {
        let queue = Queue {
            head: Atomic::null(),
            tail: Atomic::null(),
        };
        // `new` has the queue to itself: no guard needed.
        unsafe {
            let guard = epoch::unprotected();
            let sentinel = Owned::new(Node {
                value: MaybeUninit::uninit(),
                next: Atomic::null(),
            })
            .into_shared(guard);
            queue.head.store(sentinel, Ordering::Relaxed);
            queue.tail.store(sentinel, Ordering::Relaxed);
        }
        queue
    }

    /// Add `value` at the back.
    pub fn push(&self, value: T) {
        let _ = value;
        todo!("exercise 07.4: Queue::push")
    }

    /// Remove the value at the front, or `None` if the queue is empty.
    pub fn pop(&self) -> Option<T> {
        todo!("exercise 07.4: Queue::pop")
    }

    /// Whether the queue was empty when we looked.
    pub fn is_empty(&self) -> bool {
        let guard = epoch::pin();
        let head = self.head.load(Ordering::Acquire, &guard);
        unsafe { head.deref() }
            .next
            .load(Ordering::Acquire, &guard)
            .is_null()
    }
}

impl<T> Default for Queue<T> {
    fn default() -> Queue<T> {
        Queue::new()
    }
}

impl<T> Drop for Queue<T> {
    fn drop(&mut self) {
        // `&mut self`: nobody else can reach the queue. Free the sentinel, then every
        // node after it with the value nobody popped.
        unsafe {
            let guard = epoch::unprotected();
            let mut current = self.head.load(Ordering::Relaxed, guard);
            let mut is_sentinel = true;
            while !current.is_null() {
                let mut owned = current.into_owned();
                current = owned.next.load(Ordering::Relaxed, guard);
                if !is_sentinel {
                    owned.value.assume_init_drop();
                }
                drop(owned);
                is_sentinel = false;
            }
        }
    }
}
