//! Exercise 19.4: work that stops when asked.
//!
//! Two kinds of work run inside the service, and a shutdown has to be able to stop both:
//!
//! - [`do_work`]: what a `GET /work?ms=N` request does (here: wait N ms). When the drain
//!   deadline passes, the shutdown cancels its token and the request must give up at once.
//! - [`batcher`]: a background job that groups ingested events into batches and writes
//!   them. When the service stops, it must write what it already accepted — an event the
//!   service answered "202 Accepted" for must not be lost — and then return.
//!
//! Neither may spin: a loop that checks a flag without ever waiting (Go's
//! `select { case <-done: return; default: }`) keeps a core at 100% while idle, and on
//! tokio's scheduler it never lets the tasks it is waiting for run at all.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior, interval_at};
use tokio_util::sync::CancellationToken;

/// How a piece of work ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It ran for its whole duration.
    Done,
    /// `cancel` was cancelled first (or before it began).
    Cancelled,
}

/// Wait `duration` (tokio's clock), unless `cancel` is cancelled first; a token already
/// cancelled wins at once, every time, even when `duration` is zero.
pub async fn do_work(duration: Duration, cancel: &CancellationToken) -> Outcome {
    //@ solution
    tokio::select! {
        // `biased`: check the token first, so a request that arrives after the deadline
        // does not start work that nobody will wait for.
        biased;
        _ = cancel.cancelled() => Outcome::Cancelled,
        _ = tokio::time::sleep(duration) => Outcome::Done,
    }
    //@ skeleton
    // let _ = (duration, cancel);
    // todo!("exercise 19.4: do_work")
    //@ end
}

/// Read events from `events`, and `write` them in batches, in the order they came:
///
/// - a batch of `batch_size` events is written as soon as it is full;
/// - a partial batch waits for a timer: it is written at most `flush_every` (tokio's
///   clock) after its first event arrived, but never when the batcher starts (a timer
///   that starts again on every event would never fire while events keep coming);
/// - an empty batch is never written;
/// - when `stop` is cancelled, or every sender is gone: stop taking new events (close the
///   channel), write every event already accepted — the partial batch **and** what is
///   still queued in the channel, in batches of at most `batch_size` — and return.
///
/// It waits (never spins) while there is nothing to do.
pub async fn batcher(
    mut events: mpsc::Receiver<u64>,
    batch_size: usize,
    flush_every: Duration,
    stop: CancellationToken,
    mut write: impl FnMut(Vec<u64>),
) {
    //@ solution
    let mut batch = Vec::with_capacity(batch_size);
    // `interval_at`, not `interval`: an interval's first tick completes at once, and
    // would write the first events as a partial batch before the timer ever ran.
    let mut flush = interval_at(Instant::now() + flush_every, flush_every);
    // After a stall, one flush is enough; a burst of catch-up ticks would flush nothing.
    flush.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        // Every branch is cancel safe: `recv` loses nothing when another branch wins
        // (tokio documents it so), and the batch lives out here, not inside a future
        // that `select!` may drop. A branch that awaited a whole batch
        // (`collect(&mut events, batch_size)`) would drop the events it had taken so far
        // each time the timer or the stop token won.
        tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            event = events.recv() => match event {
                Some(event) => {
                    batch.push(event);
                    if batch.len() >= batch_size {
                        write(std::mem::take(&mut batch));
                    }
                }
                None => break,
            },
            _ = flush.tick() => {
                if !batch.is_empty() {
                    write(std::mem::take(&mut batch));
                }
            }
        }
    }
    // Stop taking new events, then take what was accepted before: `close` makes
    // senders fail while `recv` still hands out everything queued, then `None`.
    events.close();
    while let Some(event) = events.recv().await {
        batch.push(event);
        if batch.len() >= batch_size {
            write(std::mem::take(&mut batch));
        }
    }
    if !batch.is_empty() {
        write(batch);
    }
    //@ skeleton
    // let _ = (&mut events, batch_size, flush_every, stop, &mut write);
    // let _ = (interval_at, Instant::now(), MissedTickBehavior::Delay);
    // todo!("exercise 19.4: batcher")
    //@ end
}
