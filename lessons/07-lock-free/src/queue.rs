//! Exercise 07.4: the Michael–Scott queue, with crossbeam-epoch deciding when a node may
//! be freed.

use std::mem::MaybeUninit;

use crate::sync::Ordering;
#[allow(unused_imports)] // what the reference uses
use crate::sync::epoch::{self, Atomic, Owned, Shared};

/// A lock-free FIFO queue. `head` points at a sentinel node whose value is not in the
/// queue; the values are in the nodes after it. `tail` points at the last node, or at
/// most one node behind it while a push is half done — and never at a node before the
/// head, which a pop may already have retired.
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

    /// For the tests, not an exercise: do the first half of a push and stop, as a pusher
    /// paused for ever between linking its node and moving the tail would. The value is
    /// in the queue; the tail is left one node behind the last.
    pub fn push_stalled(&self, value: T) {
        let guard = epoch::pin();
        let node = Owned::new(Node {
            value: MaybeUninit::new(value),
            next: Atomic::null(),
        });
        // Walk from the tail to the last node (the tail may already lag) and link there.
        let mut last = self.tail.load(Ordering::Acquire, &guard);
        loop {
            let next = unsafe { last.deref() }.next.load(Ordering::Acquire, &guard);
            if next.is_null() {
                break;
            }
            last = next;
        }
        unsafe { last.deref() }.next.store(node, Ordering::Release);
    }

    /// For the tests, not an exercise: whether the tail points at the head's node or one
    /// after it, as it must whenever no operation is under way. A tail left on a node
    /// that a pop has retired is not.
    pub fn tail_is_in_the_queue(&self) -> bool {
        let guard = epoch::pin();
        let tail = self.tail.load(Ordering::Acquire, &guard);
        let mut node = self.head.load(Ordering::Acquire, &guard);
        // Only pointers are compared: the tail itself may point at freed memory.
        while !node.is_null() {
            if node == tail {
                return true;
            }
            node = unsafe { node.deref() }.next.load(Ordering::Acquire, &guard);
        }
        false
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
