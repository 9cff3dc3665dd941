//! Exercise 20.1: an actor per stream — routing, supervision, and closing.
//!
//! Every stream key gets one actor, created on the first batch for that key: a task that
//! owns the key's state (its version in the store) and takes the key's batches from a
//! bounded mailbox, one at a time. One writer per key is what keeps a key's events in
//! order, and what lets the actor append at the version it knows without a conflict.
//!
//! ```text
//!  submit("a", batch) ──▶ actors["a"] mailbox ──▶ actor "a": append at version v ──▶ reply
//!  submit("b", batch) ──▶ actors["b"] mailbox ──▶ actor "b": …      (created on first use)
//! ```
//!
//! A handler that panics does not take the platform down: the supervisor (the loop around
//! the actor's handler) catches the panic, answers that batch with
//! `IngestError::ActorCrashed` — never with an `Ack`: nobody knows whether it was
//! committed — counts the restart in `metrics.actor_restarts`, throws the actor's state
//! away and goes on with the next batch from the same mailbox, rebuilding its state from
//! the store.

use std::sync::Arc;

use crate::metrics::Metrics;
use crate::store::{EventLog, NewEvent};
use crate::{Ack, IngestError};

/// Routes each batch to its key's actor, creating actors on first use.
///
/// Choosing its fields is part of 20.1. What they must allow:
/// - `submit` from many tasks at once (it takes `&self`, and the router is shared in an
///   `Arc`);
/// - exactly one actor per key at any time;
/// - `close` refusing new batches at once, and `wait` waiting for every actor to finish
///   the batches already in its mailbox.
pub struct StreamRouter {
    // Your fields.
}

impl StreamRouter {
    /// A router with no actors yet. Each actor's mailbox holds `mailbox` batches (at
    /// least 1).
    pub fn new(store: Arc<EventLog>, metrics: Arc<Metrics>, mailbox: usize) -> StreamRouter {
        let _ = (store, metrics, mailbox);
        todo!("exercise 20.1: StreamRouter::new")
    }

    /// Hand `events` to the actor of `key` (starting it if it is the key's first batch),
    /// and wait for its answer.
    ///
    /// - `Ok(Ack)` only when the actor's append committed. `Ack.position` is the store's
    ///   head after the append (`Appended::head`).
    /// - `Err(IngestError::ShuttingDown)` once `close` has been called.
    /// - `Err(IngestError::ActorCrashed)` when the actor panicked while handling this
    ///   batch; the actor goes on with the next one.
    /// - Other errors of the append (a conflict, the store) are passed on.
    pub async fn submit(&self, key: &str, events: Vec<NewEvent>) -> Result<Ack, IngestError> {
        let _ = (key, events);
        todo!("exercise 20.1: StreamRouter::submit")
    }

    /// Refuse new batches from now on. Batches already in a mailbox are still handled.
    pub fn close(&self) {
        todo!("exercise 20.1: StreamRouter::close")
    }

    /// After `close`: wait until every actor has handled every batch it was given and
    /// has stopped.
    pub async fn wait(&self) {
        todo!("exercise 20.1: StreamRouter::wait")
    }
}
