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

//@ solution
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
//@ end
use std::sync::Arc;
//@ solution
use std::sync::{Mutex, MutexGuard};

use futures::FutureExt;
use tokio::sync::{mpsc, oneshot};
use tokio_util::task::TaskTracker;
//@ end

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
    //@ solution
    /// The store every actor appends to.
    store: Arc<EventLog>,
    /// Where the supervisor counts restarts.
    metrics: Arc<Metrics>,
    /// How many batches may wait in one actor's mailbox; a full mailbox makes `submit`
    /// wait (backpressure to the HTTP handler), it never grows without bound.
    mailbox: usize,
    /// Each key's mailbox, and whether the router is closed. A `std` mutex: it is held
    /// for a map lookup (and, once per key, a spawn), never across an `.await`.
    registry: Mutex<Registry>,
    /// Every actor task, so that `wait` can wait for them all. Unlike a `JoinSet`, it
    /// frees a finished task at once, and `wait` returns when it is closed and empty.
    actors: TaskTracker,
    //@ skeleton
    // // Your fields.
    //@ end
}

//@ solution
#[derive(Default)]
struct Registry {
    mailboxes: HashMap<String, mpsc::Sender<Job>>,
    closed: bool,
}

/// One batch for an actor, and where to send the answer.
struct Job {
    events: Vec<NewEvent>,
    reply: oneshot::Sender<Result<Ack, IngestError>>,
}

//@ end
impl StreamRouter {
    /// A router with no actors yet. Each actor's mailbox holds `mailbox` batches (at
    /// least 1).
    pub fn new(store: Arc<EventLog>, metrics: Arc<Metrics>, mailbox: usize) -> StreamRouter {
        //@ solution
        StreamRouter {
            store,
            metrics,
            mailbox: mailbox.max(1),
            registry: Mutex::new(Registry::default()),
            actors: TaskTracker::new(),
        }
        //@ skeleton
        // let _ = (store, metrics, mailbox);
        // todo!("exercise 20.1: StreamRouter::new")
        //@ end
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
        //@ solution
        let mailbox = {
            let mut registry = self.registry();
            if registry.closed {
                return Err(IngestError::ShuttingDown);
            }
            match registry.mailboxes.get(key) {
                Some(mailbox) => mailbox.clone(),
                None => {
                    let mailbox = self.spawn_actor(key);
                    registry.mailboxes.insert(key.to_string(), mailbox.clone());
                    mailbox
                }
            }
        };
        let (reply, answer) = oneshot::channel();
        // A full mailbox makes us wait here: backpressure. The send fails only if the
        // actor is gone, which happens only after `close`.
        mailbox
            .send(Job { events, reply })
            .await
            .map_err(|_| IngestError::ShuttingDown)?;
        // A reply dropped unsent means the job was lost with a panic: not an Ack.
        answer.await.unwrap_or(Err(IngestError::ActorCrashed))
        //@ skeleton
        // let _ = (key, events);
        // todo!("exercise 20.1: StreamRouter::submit")
        //@ end
    }

    /// Refuse new batches from now on. Batches already in a mailbox are still handled.
    pub fn close(&self) {
        //@ solution
        let mut registry = self.registry();
        registry.closed = true;
        // Dropping our senders ends each actor's `recv` loop once its mailbox is empty
        // and the last in-flight `submit` (which holds a clone) has sent its job.
        registry.mailboxes.clear();
        self.actors.close();
        //@ skeleton
        // todo!("exercise 20.1: StreamRouter::close")
        //@ end
    }

    /// After `close`: wait until every actor has handled every batch it was given and
    /// has stopped.
    pub async fn wait(&self) {
        //@ solution
        self.actors.wait().await;
        //@ skeleton
        // todo!("exercise 20.1: StreamRouter::wait")
        //@ end
    }
    //@ solution

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Start the actor of `key`, under its supervisor, and return its mailbox.
    fn spawn_actor(&self, key: &str) -> mpsc::Sender<Job> {
        let (mailbox, jobs) = mpsc::channel(self.mailbox);
        self.actors.spawn(supervise(
            key.to_string(),
            Arc::clone(&self.store),
            Arc::clone(&self.metrics),
            jobs,
        ));
        mailbox
    }
    //@ end
}
//@ solution

/// The supervisor: takes the key's jobs one at a time and runs the actor's handler on
/// each, catching a panic. The mailbox belongs to the supervisor, so a restart loses no
/// queued batch; the state belongs to the actor, so a restart rebuilds it.
async fn supervise(
    key: String,
    store: Arc<EventLog>,
    metrics: Arc<Metrics>,
    mut jobs: mpsc::Receiver<Job>,
) {
    let mut actor = StreamActor {
        key,
        store,
        version: None,
    };
    while let Some(Job { events, reply }) = jobs.recv().await {
        // AssertUnwindSafe: after a panic we throw the actor's state away (below), so no
        // half-updated state is ever looked at again.
        match AssertUnwindSafe(actor.handle(events)).catch_unwind().await {
            Ok(answer) => {
                // The client may have gone; the batch's fate does not depend on it.
                let _ = reply.send(answer);
            }
            Err(_panic) => {
                metrics.actor_restarts.inc();
                // Restart: a fresh actor, which reads its version from the store. The
                // old one may have committed before it panicked — its version is stale.
                actor.version = None;
                let _ = reply.send(Err(IngestError::ActorCrashed));
            }
        }
    }
}

/// One key's actor: the key's writer, and the version it last wrote.
struct StreamActor {
    key: String,
    store: Arc<EventLog>,
    /// The stream's version, read from the store on the first batch after a (re)start.
    version: Option<u64>,
}

impl StreamActor {
    async fn handle(&mut self, events: Vec<NewEvent>) -> Result<Ack, IngestError> {
        let version = match self.version {
            Some(v) => v,
            None => self.store.version(&self.key).await?,
        };
        // Whatever goes wrong, read the version again next time rather than trust it.
        self.version = None;
        let appended = self.store.append(&self.key, version, events).await?;
        self.version = Some(appended.version);
        Ok(Ack {
            stored: appended.stored,
            duplicates: appended.duplicates,
            position: appended.head,
        })
    }
}
//@ end
