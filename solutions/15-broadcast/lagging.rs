//! Exercise 15.3: a lag-and-skip channel, as `tokio::sync::broadcast` behaves.
//!
//! One [`Ring`] behind a lock, shared by the [`Sender`] and every [`Receiver`]. Sending
//! pushes into the ring (overwriting the oldest message when it is full) and wakes the
//! receivers that wait; each receiver reads at its own cursor. A receiver that fell more
//! than the ring's capacity behind gets `Err(RecvError::Lagged(missed))` once, and then
//! the oldest message the ring still holds.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use crate::ring::{Read, Ring};

/// Why [`Receiver::recv`] returned no message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvError {
    /// This many messages were overwritten before this receiver read them. The next
    /// `recv` returns the oldest message still kept.
    Lagged(u64),
    /// The sender is gone and this receiver has read everything that is left.
    Closed,
}

/// What the sender and the receivers share.
struct Shared<T> {
    state: Mutex<State<T>>,
    /// Wakes the receivers waiting for a message (or for the close).
    notify: Notify,
}

struct State<T> {
    ring: Ring<T>,
    /// Set when the sender is dropped.
    closed: bool,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The publishing end. Not `Clone`: one publisher, and the channel closes when it drops.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A subscriber: a cursor into the shared ring.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The sequence number of the next message this receiver wants.
    cursor: u64,
}

impl<T: Clone> Sender<T> {
    /// A channel that keeps the last `capacity` messages. Panics if `capacity` is 0.
    pub fn new(capacity: usize) -> Sender<T> {
        Sender {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    ring: Ring::new(capacity),
                    closed: false,
                }),
                notify: Notify::new(),
            }),
        }
    }

    /// A new receiver: it receives every message sent from now on, and none sent before.
    pub fn subscribe(&self) -> Receiver<T> {
        //@ solution
        // The cursor starts at the number the *next* message will get. Starting at the
        // oldest kept would hand a new subscriber up to `capacity` old messages.
        let cursor = self.shared.lock().ring.next_seq();
        Receiver {
            shared: Arc::clone(&self.shared),
            cursor,
        }
        //@ skeleton
        // let _ = &self.shared;
        // todo!("exercise 15.3: Sender::subscribe")
        //@ end
    }

    /// Send `message` to every receiver. Never waits: when the ring is full the oldest
    /// message is overwritten, and receivers that had not read it will learn they lagged.
    pub fn send(&self, message: T) {
        //@ solution
        self.shared.lock().ring.push(message);
        // After the push, with the lock released: a receiver woken now finds the message,
        // and does not wake only to wait for the lock we still hold.
        self.shared.notify.notify_waiters();
        //@ skeleton
        // let _ = (message, &self.shared.lock().ring);
        // todo!("exercise 15.3: Sender::send")
        //@ end
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        //@ solution
        self.shared.lock().closed = true;
        self.shared.notify.notify_waiters();
        //@ skeleton
        // // Exercise 15.3: mark the channel closed and wake the receivers that wait.
        //@ end
    }
}

impl<T: Clone> Receiver<T> {
    /// The next message for this receiver, waiting while there is none.
    ///
    /// `Err(Lagged(n))` if `n` messages were overwritten before this receiver read them
    /// (the next call returns the oldest message kept); `Err(Closed)` once the sender is
    /// gone and everything sent has been read.
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        //@ solution
        loop {
            // Register for the next wake-up *before* looking at the ring: a send between
            // the look and the registration would otherwise wake nobody, and we would
            // wait for a message that is already there.
            let notified = self.shared.notify.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            {
                let state = self.shared.lock();
                match state.ring.read(self.cursor) {
                    Read::Value(message) => {
                        self.cursor += 1;
                        return Ok(message);
                    }
                    Read::Lagged { missed, resume_at } => {
                        // Move the cursor now, so that the next call continues instead of
                        // reporting the same lag for ever.
                        self.cursor = resume_at;
                        return Err(RecvError::Lagged(missed));
                    }
                    // Everything sent has been read; if more is coming, wait for it.
                    Read::Empty if state.closed => return Err(RecvError::Closed),
                    Read::Empty => {}
                }
            }
            notified.await;
        }
        //@ skeleton
        // let _ = (self.cursor, self.shared.lock().closed, &self.shared.notify);
        // let _ = Read::<T>::Empty;
        // todo!("exercise 15.3: Receiver::recv")
        //@ end
    }
}
