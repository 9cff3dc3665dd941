//! Exercise 20.4: the shutdown order.
//!
//! ```text
//!  1. stop accepting        the listener closes: new connections are refused
//!  2. drain requests        every request already in flight gets its answer
//!  3. drain the actors      every batch in a mailbox is committed (or refused), actors end
//!  4. catch up, stop        the projector folds in the last commits, then ends
//!  5. report                store head and read model position: equal
//! ```
//!
//! Each step waits for the one before: a request in flight still needs its actor (so
//! the actors stop after the requests), and an actor's last commit still needs the
//! projector (so the projector stops after the actors).

use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::read_model::ReadModel;
use crate::store::EventLog;
use crate::streams::StreamRouter;

/// The running parts, as `Platform::start` made them.
pub struct Parts {
    /// Cancel it and the HTTP server stops accepting; the server task then ends when every
    /// request in flight has been answered (axum's graceful shutdown).
    pub stop_accepting: CancellationToken,
    /// The HTTP server.
    pub server: JoinHandle<()>,
    /// The stream actors (20.1).
    pub streams: Arc<StreamRouter>,
    pub store: Arc<EventLog>,
    pub model: Arc<ReadModel>,
    /// Cancel it and the projector catches up one last time and ends (20.3).
    pub stop_projector: CancellationToken,
    /// The projector.
    pub projector: JoinHandle<()>,
}

/// Where the platform stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShutdownReport {
    /// The store's last position.
    pub store_head: u64,
    /// The read model's position.
    pub model_position: u64,
}

/// Stop every part, in the order above, and report where the store and the read model
/// ended. Every acknowledged event is then in both.
pub async fn shutdown(parts: Parts) -> ShutdownReport {
    //@ solution
    // 1–2. No new connections; wait for the answers in flight. Their batches are in the
    // actors' mailboxes or being committed, so the actors must still be running.
    parts.stop_accepting.cancel();
    let _ = parts.server.await;
    // 3. No request can submit any more; let the actors finish what they were given.
    parts.streams.close();
    parts.streams.wait().await;
    // 4. The last commit has happened: the projector's final catch-up sees it.
    parts.stop_projector.cancel();
    let _ = parts.projector.await;
    ShutdownReport {
        store_head: parts.store.head(),
        model_position: parts.model.position(),
    }
    //@ skeleton
    // let _ = parts;
    // todo!("exercise 20.4: shutdown")
    //@ end
}
