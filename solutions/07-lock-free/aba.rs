//! Exercise 07.5: the ABA problem, and a tag that fixes it.
//!
//! A pool of slot numbers `0..n` kept as a lock-free stack of free slots, the way an
//! allocator or an object pool keeps its free list: `pop` hands a free slot out, `push`
//! gives it back. Slots are reused all the time, and that is where ABA comes from.

//@ solution
use crate::sync::{AtomicU32, AtomicU64, Ordering};
//@ skeleton
// #[allow(unused_imports)] // Ordering: you will need it
// use crate::sync::{AtomicU32, AtomicU64, Ordering};
//@ end

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

//@ solution
/// The head word: the top slot in the low 32 bits, a tag in the high 32 that every
/// change of the head increments. Two head words are equal only if nothing changed in
/// between — or if exactly 2³² changes did, which is the tag's (small) residual risk.
fn pack(slot: u32, tag: u32) -> u64 {
    (u64::from(tag) << 32) | u64::from(slot)
}

fn slot_of(word: u64) -> u32 {
    word as u32
}

fn tag_of(word: u64) -> u32 {
    (word >> 32) as u32
}

//@ end
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
        //@ solution
        // Acquire pairs with the Release of the push that put the top slot there, so
        // its `next` is the one that push wrote.
        let head = self.head.load(Ordering::Acquire);
        let top = slot_of(head);
        if top == NONE {
            return None;
        }
        let next = self.next[top as usize].load(Ordering::Relaxed);
        Some(Seen { head, next })
        //@ skeleton
        // let _ = (&self.head, &self.next);
        // todo!("exercise 07.5: FreeList::peek")
        //@ end
    }

    /// The second half of a pop: take the top slot `seen` saw, if the list has not
    /// changed since — then its `next` is still the right new top. `Err(Changed)` if it has
    /// changed, and the caller peeks again.
    pub fn try_pop(&self, seen: Seen) -> Result<u32, Changed> {
        //@ solution
        let new = pack(seen.next, tag_of(seen.head).wrapping_add(1));
        self.head
            .compare_exchange(seen.head, new, Ordering::Acquire, Ordering::Relaxed)
            .map(|_| slot_of(seen.head))
            .map_err(|_| Changed)
        //@ skeleton
        // let _ = seen;
        // todo!("exercise 07.5: FreeList::try_pop")
        //@ end
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
        //@ solution
        let mut head = self.head.load(Ordering::Relaxed);
        loop {
            self.next[slot as usize].store(slot_of(head), Ordering::Relaxed);
            // Release: a thread that Acquire-loads this head sees the `next` above.
            let new = pack(slot, tag_of(head).wrapping_add(1));
            match self
                .head
                .compare_exchange_weak(head, new, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => head = actual,
            }
        }
        //@ skeleton
        // let _ = slot;
        // todo!("exercise 07.5: FreeList::push")
        //@ end
    }
}
