//! Blocking queues: `push` waits while the queue is full, `pop` waits while it is empty.
//! Two correct; one with a lost wake-up planted in it; two that are right for one
//! producer or one consumer and wrong for two. Not an exercise: exercise 12.3 checks them.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

/// A bounded first-in, first-out queue whose operations wait instead of failing.
pub trait BlockingQueue: Send + Sync {
    /// Add `item` at the back; wait while the queue holds `capacity` items.
    fn push(&self, item: u32);
    /// Take the oldest item; wait while the queue is empty.
    fn pop(&self) -> u32;
}

/// How a check gets a fresh, empty queue of a given capacity (at least 1), to share
/// between its threads.
pub type MakeBlockingQueue = fn(capacity: usize) -> Arc<dyn BlockingQueue>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Correct: two condition variables, one per thing to wait for. A waiter checks its
/// condition and goes to sleep *while holding the lock* (`Condvar::wait` releases it
/// atomically), in a loop, so no notify can fall between the check and the sleep, and a
/// spurious wake-up only sends it round the loop again.
#[derive(Debug)]
pub struct TwoCondvarQueue {
    capacity: usize,
    items: Mutex<VecDeque<u32>>,
    not_empty: Condvar,
    not_full: Condvar,
}

impl TwoCondvarQueue {
    /// An empty queue of `capacity`, ready to share.
    pub fn shared(capacity: usize) -> Arc<dyn BlockingQueue> {
        Arc::new(TwoCondvarQueue {
            capacity,
            items: Mutex::new(VecDeque::new()),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
        })
    }
}

impl BlockingQueue for TwoCondvarQueue {
    fn push(&self, item: u32) {
        let mut items = lock(&self.items);
        while items.len() == self.capacity {
            items = self.not_full.wait(items).unwrap_or_else(|e| e.into_inner());
        }
        items.push_back(item);
        drop(items);
        // One new item: one consumer can take it. Only consumers wait on `not_empty`,
        // so the one woken is always one that can use it.
        self.not_empty.notify_one();
    }

    fn pop(&self) -> u32 {
        let mut items = lock(&self.items);
        let item = loop {
            if let Some(item) = items.pop_front() {
                break item;
            }
            items = self
                .not_empty
                .wait(items)
                .unwrap_or_else(|e| e.into_inner());
        };
        drop(items);
        self.not_full.notify_one();
        item
    }
}

/// Correct, differently: producers and consumers share one condition variable, so every
/// change wakes *everyone* (`notify_all`), and each waiter re-checks its own condition.
/// `notify_one` here would be a bug: it could wake a producer when only a consumer could
/// go on, and that wake-up would be lost.
#[derive(Debug)]
pub struct OneCondvarQueue {
    capacity: usize,
    items: Mutex<VecDeque<u32>>,
    changed: Condvar,
}

impl OneCondvarQueue {
    /// An empty queue of `capacity`, ready to share.
    pub fn shared(capacity: usize) -> Arc<dyn BlockingQueue> {
        Arc::new(OneCondvarQueue {
            capacity,
            items: Mutex::new(VecDeque::new()),
            changed: Condvar::new(),
        })
    }
}

impl BlockingQueue for OneCondvarQueue {
    fn push(&self, item: u32) {
        let mut items = self
            .changed
            .wait_while(lock(&self.items), |items| items.len() == self.capacity)
            .unwrap_or_else(|e| e.into_inner());
        items.push_back(item);
        drop(items);
        self.changed.notify_all();
    }

    fn pop(&self) -> u32 {
        let mut items = self
            .changed
            .wait_while(lock(&self.items), |items| items.is_empty())
            .unwrap_or_else(|e| e.into_inner());
        let item = items.pop_front().expect("wait_while returned with an item");
        drop(items);
        self.changed.notify_all();
        item
    }
}

/// How long [`LostWakeupQueue`] dawdles between looking and going to sleep. A real lost
/// wake-up has a window a few instructions wide and shows once in a million runs; this
/// one is widened on purpose, so that a stress test finds it on every run and grading is
/// not a matter of luck.
pub const WAKEUP_WINDOW: Duration = Duration::from_millis(1);

/// **Planted bug: a lost wake-up.** A waiter looks at the queue, lets go of the lock, and
/// only then goes to sleep on the condition variable — and sleeps without looking again.
/// A notify sent in between wakes nobody: the waiter then sleeps until the *next* one,
/// which may never come (the last item was pushed, every producer waits for room that no
/// consumer will make).
#[derive(Debug)]
pub struct LostWakeupQueue {
    capacity: usize,
    items: Mutex<VecDeque<u32>>,
    not_empty: Condvar,
    not_full: Condvar,
}

impl LostWakeupQueue {
    /// An empty queue of `capacity`, ready to share.
    pub fn shared(capacity: usize) -> Arc<dyn BlockingQueue> {
        Arc::new(LostWakeupQueue {
            capacity,
            items: Mutex::new(VecDeque::new()),
            not_empty: Condvar::new(),
            not_full: Condvar::new(),
        })
    }
}

impl BlockingQueue for LostWakeupQueue {
    fn push(&self, item: u32) {
        loop {
            let full = lock(&self.items).len() >= self.capacity; // the lock is released here
            if !full {
                break;
            }
            thread::sleep(WAKEUP_WINDOW); // the window, widened: a pop's notify lands here
            let items = lock(&self.items);
            drop(self.not_full.wait(items)); // waits for the *next* pop
        }
        lock(&self.items).push_back(item);
        self.not_empty.notify_one();
    }

    fn pop(&self) -> u32 {
        loop {
            if let Some(item) = lock(&self.items).pop_front() {
                self.not_full.notify_one();
                return item;
            }
            thread::sleep(WAKEUP_WINDOW); // the window, widened: a push's notify lands here
            let items = lock(&self.items);
            drop(self.not_empty.wait(items)); // waits for the *next* push, item or not
        }
    }
}

/// The state of the ring queues below: `capacity` slots, and two counters that only grow
/// (slot `n % capacity` holds the `n`th item pushed).
#[derive(Debug)]
struct Ring {
    slots: Vec<u32>,
    /// How many items were popped: the next pop reads slot `head % capacity`.
    head: usize,
    /// How many items were pushed: the next push writes slot `tail % capacity`.
    tail: usize,
}

/// A ring of `capacity` slots behind one lock and one condition variable, waited on in a
/// loop and notified with `notify_all`: its waiting is right. What the two queues below
/// get wrong is what happens after the wait.
#[derive(Debug)]
struct SharedRing {
    capacity: usize,
    ring: Mutex<Ring>,
    changed: Condvar,
}

impl SharedRing {
    fn new(capacity: usize) -> SharedRing {
        SharedRing {
            capacity,
            ring: Mutex::new(Ring {
                slots: vec![0; capacity],
                head: 0,
                tail: 0,
            }),
            changed: Condvar::new(),
        }
    }

    /// The ring, once it has room for one more item.
    fn with_room(&self) -> MutexGuard<'_, Ring> {
        self.changed
            .wait_while(lock(&self.ring), |r| {
                r.tail.saturating_sub(r.head) >= self.capacity
            })
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The ring, once it holds an item.
    fn with_item(&self) -> MutexGuard<'_, Ring> {
        self.changed
            .wait_while(lock(&self.ring), |r| r.tail <= r.head)
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Push the right way: find the slot and fill it under one lock.
    fn push(&self, item: u32) {
        let mut ring = self.with_room();
        let tail = ring.tail;
        ring.slots[tail % self.capacity] = item;
        ring.tail = tail + 1;
        drop(ring);
        self.changed.notify_all();
    }

    /// Pop the right way: read the slot and move the head under one lock.
    fn pop(&self) -> u32 {
        let mut ring = self.with_item();
        let head = ring.head;
        let item = ring.slots[head % self.capacity];
        ring.head = head + 1;
        drop(ring);
        self.changed.notify_all();
        item
    }
}

/// How long the two queues below take between reading a counter and writing it back (a
/// copy into the slot, say). Widened on purpose, like the other windows of this lesson:
/// two producers (or two consumers) inside at once collide on every run; one alone never
/// does.
pub const COPY_WINDOW: Duration = Duration::from_millis(1);

/// **Planted bug: written for one producer, used by two.** `push` reads the tail, lets go
/// of the lock while it copies the item in, then writes the tail back — fine when only one
/// thread ever pushes, as its author intended. Two producers inside at once read the same
/// tail, fill the same slot and write the same tail: one item is lost, and the consumers
/// wait for it forever. A stress test with one producer cannot find it.
#[derive(Debug)]
pub struct OneProducerQueue {
    ring: SharedRing,
}

impl OneProducerQueue {
    /// An empty queue of `capacity`, ready to share (with one producer, it assumes).
    pub fn shared(capacity: usize) -> Arc<dyn BlockingQueue> {
        Arc::new(OneProducerQueue {
            ring: SharedRing::new(capacity),
        })
    }
}

impl BlockingQueue for OneProducerQueue {
    fn push(&self, item: u32) {
        let tail = self.ring.with_room().tail; // the lock is released here
        thread::sleep(COPY_WINDOW); // the window, widened: another push reads the same tail
        let mut ring = lock(&self.ring.ring);
        ring.slots[tail % self.ring.capacity] = item;
        ring.tail = tail + 1;
        drop(ring);
        self.ring.changed.notify_all();
    }

    fn pop(&self) -> u32 {
        self.ring.pop()
    }
}

/// **Planted bug: written for one consumer, used by two.** `pop` reads the head and its
/// item, lets go of the lock, then writes the head back. Two consumers inside at once
/// return the *same* item and move the head once: one item is popped twice, and another
/// is never popped. Nothing hangs and the number of items popped is right, so a stress
/// test with one consumer, or one that only counts what arrives, cannot find it.
#[derive(Debug)]
pub struct OneConsumerQueue {
    ring: SharedRing,
}

impl OneConsumerQueue {
    /// An empty queue of `capacity`, ready to share (with one consumer, it assumes).
    pub fn shared(capacity: usize) -> Arc<dyn BlockingQueue> {
        Arc::new(OneConsumerQueue {
            ring: SharedRing::new(capacity),
        })
    }
}

impl BlockingQueue for OneConsumerQueue {
    fn push(&self, item: u32) {
        self.ring.push(item)
    }

    fn pop(&self) -> u32 {
        let (head, item) = {
            let ring = self.ring.with_item();
            (ring.head, ring.slots[ring.head % self.ring.capacity])
        }; // the lock is released here
        thread::sleep(COPY_WINDOW); // the window, widened: another pop reads the same head
        lock(&self.ring.ring).head = head + 1;
        self.ring.changed.notify_all();
        item
    }
}
