//! Exercise 07.5: the ABA problem, and a tag that fixes it.
//!
//! A pool of slot numbers `0..n` kept as a lock-free stack of free slots, the way an
//! allocator or an object pool keeps its free list: `pop` hands a free slot out, `push`
//! gives it back. Slots are reused all the time, and that is where ABA comes from.

#[allow(unused_imports)] // Ordering: you will need it
use crate::sync::{AtomicU32, AtomicU64, Ordering};

/// "No slot": the end of the list.
pub const NONE: u32 = u32::MAX;

/// A free list of slots `0..n`, with the head in one `AtomicU64`.
pub struct FreeList {
    /// The head word: the top slot, plus whatever else you decide to keep with it.
    head: AtomicU64,
    /// `next[s]`: the slot under `s` while `s` is in the list.
    next: Box<[AtomicU32]>,
}

/// `try_pop`'s refusal: the list changed since `peek`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Changed;

/// What `peek` saw: the head word, and the slot under the top one then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    pub head: u64,
    pub next: u32,
}

impl FreeList {
    /// Every slot `0..n` free, slot 0 on top. The head word starts as the top slot's
    /// number with zeros above it: keep the slot in the low 32 bits.
    pub fn new(n: u32) -> FreeList {
        assert!(n < NONE, "too many slots");
        let next = (0..n)
            .map(|s| AtomicU32::new(if s + 1 < n { s + 1 } else { NONE }))
            .collect();
        FreeList {
            head: AtomicU64::new(if n > 0 { 0 } else { u64::from(NONE) }),
            next,
        }
    }

    /// The first half of a pop: read the head and the slot under the top. `None` if the
    /// list is empty.
    pub fn peek(&self) -> Option<Seen> {
        let _ = (&self.head, &self.next);
        todo!("exercise 07.5: FreeList::peek")
    }

    /// The second half of a pop: take the top slot `seen` saw, if the list has not
    /// changed since — then its `next` is still the right new top. `Err(Changed)` if it has
    /// changed, and the caller peeks again.
    pub fn try_pop(&self, seen: Seen) -> Result<u32, Changed> {
        let _ = seen;
        todo!("exercise 07.5: FreeList::try_pop")
    }

    /// Take a free slot, or `None` if none is free.
    pub fn pop(&self) -> Option<u32> {
        loop {
            let seen = self.peek()?;
            if let Ok(slot) = self.try_pop(seen) {
                return Some(slot);
            }
        }
    }

    /// Give back `slot`, which the caller took with `pop` (or never gave out).
    pub fn push(&self, slot: u32) {
        let _ = slot;
        todo!("exercise 07.5: FreeList::push")
    }
}
