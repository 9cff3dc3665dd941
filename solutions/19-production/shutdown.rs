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
        //@ solution
        if self.abandoned == 0 { 0 } else { 1 }
        //@ skeleton
        // todo!("exercise 19.5: Report::exit_code")
        //@ end
    }
}

/// Run the shutdown sequence of the table above and say how it ended.
pub async fn graceful_shutdown(s: &Shutdown) -> Report {
    //@ solution
    // 1. Readiness first, while everything still works: the balancer stops sending new
    //    requests before any would be refused.
    s.health.set_not_ready();
    info!(event = "not_ready", "readiness is false; still serving");
    tokio::time::sleep(s.unready_delay).await;

    // 2. Stop accepting. axum's graceful shutdown closes the listener and lets open
    //    connections finish their requests; the batcher writes what it holds.
    s.stop.cancel();
    info!(event = "stop_accepting", "the listener is closed");

    // 3. Drain, under a deadline. Without `close`, `wait` would never return: an open
    //    tracker may still get tasks, so it is never "done".
    s.tracker.close();
    if timeout(s.drain_deadline, s.tracker.wait()).await.is_ok() {
        info!(event = "drained", "every task ended in time");
        return Report {
            drained_in_time: true,
            cancelled: 0,
            abandoned: 0,
        };
    }

    // 4. Cancel what outlived the deadline. Count before cancelling: afterwards they end.
    let cancelled = s.tracker.len();
    info!(
        event = "deadline_passed",
        cancelled, "the drain deadline passed; cancelling what is left"
    );
    s.abort.cancel();
    let abandoned = match timeout(s.drain_deadline, s.tracker.wait()).await {
        Ok(()) => 0,
        Err(_) => {
            let tasks = s.tracker.len();
            info!(event = "abandoned", tasks, "tasks ignored the cancellation");
            tasks
        }
    };
    Report {
        drained_in_time: false,
        cancelled,
        abandoned,
    }
    //@ skeleton
    // let _ = (timeout::<std::future::Ready<()>>, s);
    // info!(event = "example", field = 1, "a structured event");
    // todo!("exercise 19.5: graceful_shutdown")
    //@ end
}
