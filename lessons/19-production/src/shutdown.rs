//! Exercise 19.5: the graceful shutdown.
//!
//! When the signal comes (SIGTERM from the orchestrator, Ctrl-C at a terminal), the
//! service goes through these steps, in this order, logging each as a `tracing` event
//! with the field `event` set to the name in the first column:
//!
//! | `event` | what happens first |
//! |---|---|
//! | `not_ready` | readiness becomes false ([`Health::set_not_ready`]) |
//! | — | wait `unready_delay`: new requests are still served meanwhile, while the load balancer notices |
//! | `stop_accepting` | cancel `stop`: the listener closes and background jobs (the batcher) finish |
//! | — | close the tracker, and wait for it to be empty — for at most `drain_deadline` |
//! | `drained` | (if it emptied in time) |
//! | `deadline_passed` | (otherwise) with a field `cancelled`: how many tasks were still running; then cancel `abort`, so that they give up, and wait once more, at most `drain_deadline` |
//! | `abandoned` | (only if some still had not ended) with a field `tasks`: how many |
//!
//! Every wait is bounded: a shutdown that can hang is one that the orchestrator ends with
//! SIGKILL, which loses everything a graceful one was meant to save.

use std::time::Duration;

use tokio::time::timeout;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::info;

use crate::health::Health;

/// What the shutdown sequence needs. The tokens and the tracker are shared with the rest
/// of the service (see `src/service.rs`): the server stops accepting when `stop` is
/// cancelled, in-flight `/work` runs on `tracker` and gives up when `abort` is cancelled.
#[derive(Clone, Debug)]
pub struct Shutdown {
    pub health: Health,
    pub unready_delay: Duration,
    pub drain_deadline: Duration,
    pub stop: CancellationToken,
    pub abort: CancellationToken,
    pub tracker: TaskTracker,
}

/// How the shutdown ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Report {
    /// The tracker emptied within the drain deadline.
    pub drained_in_time: bool,
    /// Tasks still running when the deadline passed (then cancelled).
    pub cancelled: usize,
    /// Tasks still running after the second wait (left behind; the process ends anyway).
    pub abandoned: usize,
}

impl Report {
    /// The process's exit code: 0 when every task ended (drained, or cancelled and
    /// ended: that is the shutdown working as designed, and it was logged); 1 when
    /// tasks were abandoned.
    pub fn exit_code(&self) -> i32 {
        todo!("exercise 19.5: Report::exit_code")
    }
}

/// Run the shutdown sequence of the table above and say how it ended.
pub async fn graceful_shutdown(s: &Shutdown) -> Report {
    let _ = (timeout::<std::future::Ready<()>>, s);
    info!(event = "example", field = 1, "a structured event");
    todo!("exercise 19.5: graceful_shutdown")
}
