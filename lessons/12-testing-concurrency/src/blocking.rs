//! Blocking queues: `push` waits while the queue is full, `pop` waits while it is empty.
//! Two correct, one with a lost wake-up planted in it. Not an exercise: exercise 12.3
//! checks them.

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
