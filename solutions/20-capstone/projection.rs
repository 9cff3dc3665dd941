//! Exercise 20.3: the projection — committed events into the read model, in position
//! order, each exactly once.
//!
//! ```text
//!  EventLog ──read_after(view.position, READ_BATCH)──▶ apply each ──▶ ReadModel::update
//!     │ head moves (subscribe)                            ▲
//!     └───────────── wake the projector ──────────────────┘
//! ```
//!
//! The read model lives in memory: after a restart it is empty, at position 0, and the
//! projector rebuilds it from the store before it follows new commits (catch-up). The
//! store is the truth; the read model is a cache of it that can always be rebuilt.

//@ solution
use std::time::Duration;
//@ end
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::read_model::{ReadModel, View};
use crate::store::{Committed, EventLog};

/// How many events the projector reads from the store at a time.
pub const READ_BATCH: usize = 256;

/// Fold `event` into `view`, at most once: an event at or before `view.position` is
/// already in the view (a redelivery, or a replay from an older position) and changes
/// nothing. Otherwise [`View::record`] it.
pub fn apply(view: &mut View, event: &Committed) {
    //@ solution
    if event.position <= view.position {
        return;
    }
    view.record(event);
    //@ skeleton
    // let _ = (view, event);
    // todo!("exercise 20.3: apply")
    //@ end
}

/// The projector: bring `model` up to the store's head, then follow it, until `stop`.
///
/// - Read from the store in position order, from the model's position, [`READ_BATCH`]
///   events at a time, until a read comes back empty; fold each batch in with one
///   `model.update` (readers see a batch whole or not at all).
/// - Then sleep until the store's head moves (`store.subscribe()`), or `stop` is
///   cancelled. Never poll in a loop.
/// - When `stop` is cancelled: catch up once more — to the head as it is now — and return.
///   The shutdown (20.4) stops the projector after the last commit, and relies on this.
pub async fn run(store: Arc<EventLog>, model: Arc<ReadModel>, stop: CancellationToken) {
    //@ solution
    // Subscribe before the first read: a commit between the read and the wait still
    // marks the receiver changed, so no wake-up is lost.
    let mut head = store.subscribe();
    loop {
        catch_up(&store, &model).await;
        if stop.is_cancelled() {
            return;
        }
        tokio::select! {
            // Stop wins a tie: the loop then catches up once more and returns.
            biased;
            () = stop.cancelled() => {}
            changed = head.changed() => {
                if changed.is_err() {
                    return; // the store is gone
                }
            }
        }
    }
    //@ skeleton
    // let _ = (store, model, stop, apply);
    // todo!("exercise 20.3: run")
    //@ end
}
//@ solution

/// Read and fold in batches until the store has nothing after the model's position.
async fn catch_up(store: &EventLog, model: &ReadModel) {
    loop {
        let after = model.position();
        let events = match store.read_after(after, READ_BATCH).await {
            Ok(events) => events,
            Err(e) => {
                // The store is the truth: wait and read again rather than skip anything.
                eprintln!("projector: {e}; retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        if events.is_empty() {
            return;
        }
        model.update(|view| {
            for event in &events {
                apply(view, event);
            }
        });
    }
}
//@ end
