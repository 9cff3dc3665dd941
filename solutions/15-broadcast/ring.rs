//! Exercise 15.2: a ring of the last `capacity` messages, each with a sequence number.
//!
//! One buffer for all subscribers instead of one each: the publisher writes every message
//! once, and each subscriber keeps only a cursor, the sequence number of the next message
//! it wants. When the ring is full the oldest message is overwritten, so the publisher
//! never waits; a subscriber whose cursor points at an overwritten message has *lagged*,
//! and the ring tells it how many it missed and where to go on from.

use std::collections::VecDeque;

/// What reading at a cursor finds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Read<T> {
    /// The message with that sequence number; the next one to read is `cursor + 1`.
    Value(T),
    /// The messages from `cursor` up to (not including) `resume_at` were overwritten:
    /// `missed` of them. `resume_at` is the sequence number of the oldest message the ring
    /// still holds: go on reading from there.
    Lagged { missed: u64, resume_at: u64 },
    /// Nothing at `cursor` yet: it is the sequence number the next push will get.
    Empty,
}

/// The last `capacity` messages pushed, numbered 0, 1, 2, … in push order.
#[derive(Debug)]
pub struct Ring<T> {
    /// The most room the ring ever takes.
    capacity: usize,
    /// The messages kept, oldest first. (tokio's ring is a fixed array of slots indexed
    /// by `sequence % capacity`, each slot remembering its own sequence number; a
    /// `VecDeque` that drops its front when full keeps the same messages.)
    slots: VecDeque<T>,
    /// The sequence number the next push gets; also how many messages were ever pushed.
    next: u64,
}

impl<T: Clone> Ring<T> {
    /// An empty ring keeping the last `capacity` messages. Panics if `capacity` is 0.
    pub fn new(capacity: usize) -> Ring<T> {
        assert!(capacity > 0, "a ring of 0 slots could never hold a message");
        Ring {
            capacity,
            slots: VecDeque::with_capacity(capacity),
            next: 0,
        }
    }

    /// The sequence number the next push will get (the number of messages ever pushed).
    pub fn next_seq(&self) -> u64 {
        self.next
    }

    /// The sequence number of the oldest message kept; equal to [`Ring::next_seq`] while
    /// the ring is empty.
    pub fn oldest_seq(&self) -> u64 {
        //@ solution
        self.next - self.slots.len() as u64
        //@ skeleton
        // let _ = (self.capacity, self.slots.len());
        // todo!("exercise 15.2: Ring::oldest_seq")
        //@ end
    }

    /// Add `message` as number [`Ring::next_seq`]. When the ring is full, the oldest
    /// message is overwritten: pushing never fails and never waits.
    pub fn push(&mut self, message: T) {
        //@ solution
        if self.slots.len() == self.capacity {
            // Overwrite the oldest, never refuse the newest: a subscriber that keeps up
            // must always get the latest message, whatever the slow ones do.
            self.slots.pop_front();
        }
        self.slots.push_back(message);
        self.next += 1;
        //@ skeleton
        // let _ = message;
        // todo!("exercise 15.2: Ring::push")
        //@ end
    }

    /// What a subscriber whose next message is number `cursor` finds.
    pub fn read(&self, cursor: u64) -> Read<T> {
        //@ solution
        let oldest = self.oldest_seq();
        if cursor < oldest {
            // Numbers cursor, cursor + 1, …, oldest - 1 were overwritten: oldest - cursor
            // of them. Go on from the oldest kept, not from the newest: everything the
            // ring still holds is still deliverable, so skip no more than was lost.
            return Read::Lagged {
                missed: oldest - cursor,
                resume_at: oldest,
            };
        }
        if cursor >= self.next {
            return Read::Empty;
        }
        let index = usize::try_from(cursor - oldest).expect("fewer than capacity");
        Read::Value(self.slots[index].clone())
        //@ skeleton
        // let _ = cursor;
        // todo!("exercise 15.2: Ring::read")
        //@ end
    }
}
