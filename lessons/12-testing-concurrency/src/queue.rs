//! Bounded queues: at most `capacity` items, and `try_push` refuses the next one. Two
//! correct, three with a planted bug. Not an exercise: exercise 12.2 checks them.
//!
//! Each is safe to share between threads (a `Mutex` inside), but the bugs planted here
//! need no second thread to show: any sequence of operations that fills the queue, or
//! pops after two pushes, does. That is what a property against a sequential model finds.

use std::collections::VecDeque;
use std::sync::Mutex;

/// A first-in, first-out queue that holds at most `capacity` items.
pub trait BoundedQueue: Send + Sync {
    /// Add `item` at the back, or hand it back if the queue already holds `capacity`.
    fn try_push(&self, item: u32) -> Result<(), u32>;
    /// Take the item at the front, the oldest, if there is one.
    fn try_pop(&self) -> Option<u32>;
    /// How many items the queue holds.
    fn len(&self) -> usize;
    /// Whether the queue holds nothing.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// How a check gets a fresh, empty queue of a given capacity (at least 1).
pub type MakeQueue = fn(capacity: usize) -> Box<dyn BoundedQueue>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Correct: a `VecDeque` behind a lock, refusing a push when it is full.
#[derive(Debug)]
pub struct DequeQueue {
    capacity: usize,
    items: Mutex<VecDeque<u32>>,
}

impl DequeQueue {
    /// An empty queue of `capacity`.
    pub fn boxed(capacity: usize) -> Box<dyn BoundedQueue> {
        Box::new(DequeQueue {
            capacity,
            items: Mutex::new(VecDeque::with_capacity(capacity)),
        })
    }
}

impl BoundedQueue for DequeQueue {
    fn try_push(&self, item: u32) -> Result<(), u32> {
        let mut items = lock(&self.items);
        if items.len() == self.capacity {
            return Err(item);
        }
        items.push_back(item);
        Ok(())
    }

    fn try_pop(&self) -> Option<u32> {
        lock(&self.items).pop_front()
    }

    fn len(&self) -> usize {
        lock(&self.items).len()
    }
}

/// The state of a [`RingQueue`]: a fixed array, where the oldest item is, how many there are.
#[derive(Debug)]
struct Ring {
    slots: Vec<u32>,
    head: usize,
    len: usize,
}

/// Correct, differently: a ring buffer of exactly `capacity` slots. A check tuned to
/// `VecDeque`'s behaviour (its spare capacity, say) rather than to the queue's contract
/// gets this one wrong.
#[derive(Debug)]
pub struct RingQueue {
    ring: Mutex<Ring>,
}

impl RingQueue {
    /// An empty queue of `capacity`.
    pub fn boxed(capacity: usize) -> Box<dyn BoundedQueue> {
        Box::new(RingQueue {
            ring: Mutex::new(Ring {
                slots: vec![0; capacity],
                head: 0,
                len: 0,
            }),
        })
    }
}

impl BoundedQueue for RingQueue {
    fn try_push(&self, item: u32) -> Result<(), u32> {
        let mut ring = lock(&self.ring);
        let capacity = ring.slots.len();
        if ring.len == capacity {
            return Err(item);
        }
        let tail = (ring.head + ring.len) % capacity;
        ring.slots[tail] = item;
        ring.len += 1;
        Ok(())
    }

    fn try_pop(&self) -> Option<u32> {
        let mut ring = lock(&self.ring);
        if ring.len == 0 {
            return None;
        }
        let item = ring.slots[ring.head];
        ring.head = (ring.head + 1) % ring.slots.len();
        ring.len -= 1;
        Some(item)
    }

    fn len(&self) -> usize {
        lock(&self.ring).len
    }
}

/// **Planted bug: an off-by-one capacity.** It refuses a push only when it already holds
/// *more* than `capacity` items, so it accepts `capacity + 1`. Every other operation is
/// right, so only a test that fills the queue finds it.
#[derive(Debug)]
pub struct OffByOneQueue {
    capacity: usize,
    items: Mutex<VecDeque<u32>>,
}

impl OffByOneQueue {
    /// An empty queue that should hold at most `capacity`.
    pub fn boxed(capacity: usize) -> Box<dyn BoundedQueue> {
        Box::new(OffByOneQueue {
            capacity,
            items: Mutex::new(VecDeque::new()),
        })
    }
}

impl BoundedQueue for OffByOneQueue {
    fn try_push(&self, item: u32) -> Result<(), u32> {
        let mut items = lock(&self.items);
        if items.len() > self.capacity {
            return Err(item);
        }
        items.push_back(item);
        Ok(())
    }

    fn try_pop(&self) -> Option<u32> {
        lock(&self.items).pop_front()
    }

    fn len(&self) -> usize {
        lock(&self.items).len()
    }
}

/// **Planted bug: last in, first out.** Its capacity and its length are right; it pops the
/// *newest* item. A property that compares only lengths and accept/refuse answers
/// with the model passes it; one that compares what `try_pop` returns does not.
#[derive(Debug)]
pub struct LifoQueue {
    capacity: usize,
    items: Mutex<Vec<u32>>,
}

impl LifoQueue {
    /// An empty queue of `capacity` that pops the wrong end.
    pub fn boxed(capacity: usize) -> Box<dyn BoundedQueue> {
        Box::new(LifoQueue {
            capacity,
            items: Mutex::new(Vec::new()),
        })
    }
}

impl BoundedQueue for LifoQueue {
    fn try_push(&self, item: u32) -> Result<(), u32> {
        let mut items = lock(&self.items);
        if items.len() == self.capacity {
            return Err(item);
        }
        items.push(item);
        Ok(())
    }

    fn try_pop(&self) -> Option<u32> {
        lock(&self.items).pop()
    }

    fn len(&self) -> usize {
        lock(&self.items).len()
    }
}

/// **Planted bug: the wrong item handed back.** It refuses exactly the pushes it should,
/// and pops in order; but a refused push returns the *oldest* item, not the one refused
/// (`Err(*items.front())`, a line copied from a peek). A caller that retries what it got
/// back retries the wrong item and loses the refused one. A property that compares only
/// whether `try_push` succeeded passes it; one that compares the whole `Result` does not.
#[derive(Debug)]
pub struct WrongRefusalQueue {
    capacity: usize,
    items: Mutex<VecDeque<u32>>,
}

impl WrongRefusalQueue {
    /// An empty queue of `capacity` that hands back the wrong item when full.
    pub fn boxed(capacity: usize) -> Box<dyn BoundedQueue> {
        Box::new(WrongRefusalQueue {
            capacity,
            items: Mutex::new(VecDeque::new()),
        })
    }
}

impl BoundedQueue for WrongRefusalQueue {
    fn try_push(&self, item: u32) -> Result<(), u32> {
        let mut items = lock(&self.items);
        if items.len() == self.capacity {
            return Err(*items.front().unwrap_or(&item));
        }
        items.push_back(item);
        Ok(())
    }

    fn try_pop(&self) -> Option<u32> {
        lock(&self.items).pop_front()
    }

    fn len(&self) -> usize {
        lock(&self.items).len()
    }
}
