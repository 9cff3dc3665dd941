//! Exercise 15.1: a broadcaster with a buffer per subscriber, and a policy for the
//! subscriber whose buffer is full.
//!
//! Every subscriber owns a bounded queue (a tokio `mpsc` channel of `capacity`). Publishing
//! offers the message to every queue with `try_send`, which never waits: a queue with room
//! takes it, a full one is handled by the broadcaster's [`Policy`], and a queue whose
//! [`Subscription`] was dropped is forgotten. So the publisher's speed never depends on
//! its slowest subscriber.

use std::fmt;
use std::sync::{Mutex, MutexGuard};

use tokio::sync::mpsc::{self, error::TrySendError};

/// A subscriber's name, handed out in subscription order: `s1`, `s2`, …
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SubscriberId(pub u64);

impl fmt::Display for SubscriberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s{}", self.0)
    }
}

/// What happens to a message offered to a subscriber whose buffer is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// The new message is not queued for that subscriber; it stays subscribed and will
    /// get the next message there is room for.
    DropNewest,
    /// The subscriber is removed: it still receives what its buffer holds, then its
    /// `recv` returns `None`. It can subscribe again and start afresh.
    Disconnect,
}

/// What one `publish` did, per subscriber. A subscriber whose [`Subscription`] was dropped
/// is removed and appears in none of the lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Subscribers whose buffer took the message.
    pub delivered: Vec<SubscriberId>,
    /// Subscribers with a full buffer that were skipped ([`Policy::DropNewest`]).
    pub dropped: Vec<SubscriberId>,
    /// Subscribers with a full buffer that were removed ([`Policy::Disconnect`]).
    pub disconnected: Vec<SubscriberId>,
}

/// One subscriber's end: its own buffer of messages.
pub struct Subscription<T> {
    id: SubscriberId,
    messages: mpsc::Receiver<T>,
}

impl<T> Subscription<T> {
    /// This subscriber's id.
    pub fn id(&self) -> SubscriberId {
        self.id
    }

    /// The next message, waiting for one if the buffer is empty. `None` once the
    /// subscriber has been unsubscribed or disconnected (or the broadcaster dropped) and
    /// its buffer is empty.
    pub async fn recv(&mut self) -> Option<T> {
        self.messages.recv().await
    }

    /// The next message if one is buffered now, without waiting.
    pub fn try_recv(&mut self) -> Option<T> {
        self.messages.try_recv().ok()
    }
}

/// A publisher's side: the list of subscribers, each with the sending half of its buffer.
pub struct Broadcaster<T> {
    /// Room in each subscriber's buffer, in messages.
    capacity: usize,
    /// What to do with a subscriber whose buffer is full.
    policy: Policy,
    /// A `std::sync::Mutex`, not tokio's: it is never held across an `.await` (publishing
    /// never waits), and each critical section is a short walk over the subscribers.
    state: Mutex<State<T>>,
}

struct State<T> {
    /// The id the next subscriber gets.
    next_id: u64,
    /// In subscription order. A `Vec` and not a `HashMap`: publishing walks it in the
    /// same order every time, which makes the program's output repeatable (Go's `map`
    /// iteration order is deliberately random).
    subscribers: Vec<(SubscriberId, mpsc::Sender<T>)>,
}

impl<T: Clone> Broadcaster<T> {
    /// A broadcaster that gives each subscriber a buffer of `capacity` messages and
    /// treats full buffers by `policy`. Panics if `capacity` is 0.
    pub fn new(capacity: usize, policy: Policy) -> Broadcaster<T> {
        assert!(capacity > 0, "a buffer of 0 messages could never hold one");
        Broadcaster {
            capacity,
            policy,
            state: Mutex::new(State {
                next_id: 1,
                subscribers: Vec::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic while the lock was held cannot leave the list half-changed (every
        // change is one push or one retain), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many subscribers are subscribed now.
    pub fn subscriber_count(&self) -> usize {
        self.lock().subscribers.len()
    }

    /// A new subscriber with an empty buffer of `capacity` messages: it receives every
    /// message published from now on, and none published before.
    pub fn subscribe(&self) -> Subscription<T> {
        let _ = (self.capacity, self.lock().next_id, mpsc::channel::<T>);
        todo!("exercise 15.1: Broadcaster::subscribe")
    }

    /// Remove subscriber `id`; `false` if it was not subscribed. Its [`Subscription`]
    /// still yields what its buffer holds, then `None`.
    pub fn unsubscribe(&self, id: SubscriberId) -> bool {
        let _ = id;
        todo!("exercise 15.1: Broadcaster::unsubscribe")
    }

    /// Offer `message` to every subscriber, and say what became of it for each.
    ///
    /// Never waits for a subscriber: a full buffer is handled by the policy at once, and
    /// every other subscriber is still offered the message.
    pub async fn publish(&self, message: T) -> Delivery {
        let _ = (message, &self.policy, self.lock(), TrySendError::Closed(()));
        todo!("exercise 15.1: Broadcaster::publish")
    }
}
