//! Exercise 07.3: a Treiber stack, with crossbeam-epoch deciding when a popped node may
//! be freed.

use std::mem::ManuallyDrop;
//@ solution
use std::ptr;

use crate::sync::Ordering;
use crate::sync::epoch::{self, Atomic, Owned};
//@ skeleton
// #[allow(unused_imports)] // what the reference uses
// use std::ptr;
//
// use crate::sync::Ordering;
// #[allow(unused_imports)]
// use crate::sync::epoch::{self, Atomic, Owned, Shared};
//@ end

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
        //@ solution
        let mut node = Owned::new(Node {
            value: ManuallyDrop::new(value),
            next: Atomic::null(),
        });
        let guard = epoch::pin();
        loop {
            let head = self.head.load(Ordering::Relaxed, &guard);
            // Nobody else can see the node yet: a Relaxed store is fine.
            node.next.store(head, Ordering::Relaxed);
            // Release: whoever Acquire-loads the head and finds this node sees its value
            // and its `next`. A failed exchange hands the node back for another try.
            match self.head.compare_exchange_weak(
                head,
                node,
                Ordering::Release,
                Ordering::Relaxed,
                &guard,
            ) {
                Ok(_) => return,
                Err(e) => node = e.new,
            }
        }
        //@ skeleton
        // let _ = value;
        // todo!("exercise 07.3: Stack::push")
        //@ end
    }

    /// Pop the top value, or `None` if the stack is empty.
    pub fn pop(&self) -> Option<T> {
        //@ solution
        let guard = epoch::pin();
        loop {
            // Acquire pairs with the pusher's Release: the node's fields are visible.
            let head = self.head.load(Ordering::Acquire, &guard);
            // Safe to dereference: we are pinned, so a node we loaded is not freed until
            // we unpin, even if another thread pops it meanwhile.
            let node = unsafe { head.as_ref() }?;
            let next = node.next.load(Ordering::Relaxed, &guard);
            if self
                .head
                .compare_exchange_weak(head, next, Ordering::Relaxed, Ordering::Relaxed, &guard)
                .is_ok()
            {
                // We unlinked the node, so the value is ours to move out. The node itself
                // is freed only once every thread pinned now has unpinned.
                unsafe {
                    let value = ptr::read(&*node.value);
                    guard.defer_destroy(head);
                    return Some(value);
                }
            }
        }
        //@ skeleton
        // todo!("exercise 07.3: Stack::pop")
        //@ end
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
