//! Exercise 07.3: a Treiber stack, with crossbeam-epoch deciding when a popped node may
//! be freed.

use std::mem::ManuallyDrop;
#[allow(unused_imports)] // what the reference uses
use std::ptr;

use crate::sync::Ordering;
#[allow(unused_imports)]
use crate::sync::epoch::{self, Atomic, Owned, Shared};

/// A lock-free stack: the head is one atomic pointer, and every change is one
/// compare-exchange on it.
pub struct Stack<T> {
    head: Atomic<Node<T>>,
}

struct Node<T> {
    /// Moved out (with `ptr::read`) by the pop that unlinks the node; never dropped with
    /// the node, which other threads may still be reading.
    value: ManuallyDrop<T>,
    next: Atomic<Node<T>>,
}

impl<T> Stack<T> {
    pub fn new() -> Stack<T> {
        Stack {
            head: Atomic::null(),
        }
    }

    /// Push `value` on top.
    pub fn push(&self, value: T) {
        let _ = value;
        todo!("exercise 07.3: Stack::push")
    }

    /// Pop the top value, or `None` if the stack is empty.
    pub fn pop(&self) -> Option<T> {
        todo!("exercise 07.3: Stack::pop")
    }

    /// Whether the stack was empty when we looked.
    pub fn is_empty(&self) -> bool {
        let guard = epoch::pin();
        self.head.load(Ordering::Acquire, &guard).is_null()
    }
}

impl<T> Default for Stack<T> {
    fn default() -> Stack<T> {
        Stack::new()
    }
}

impl<T> Drop for Stack<T> {
    fn drop(&mut self) {
        // `&mut self`: no other thread can reach the stack, so no guard is needed, and
        // the nodes (and their values, which nobody popped) can be freed at once.
        unsafe {
            let guard = epoch::unprotected();
            let mut current = self.head.load(Ordering::Relaxed, guard);
            while let Some(node) = current.as_ref() {
                let next = node.next.load(Ordering::Relaxed, guard);
                let mut owned = current.into_owned();
                ManuallyDrop::drop(&mut owned.value);
                drop(owned);
                current = next;
            }
        }
    }
}
