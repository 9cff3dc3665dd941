//! Exercise 01.3: supervision — restart an actor that panicked, up to a limit.
//!
//! "Let it crash": an actor does not defend against every bad message. When its handler
//! panics, its supervisor throws the broken state away and starts a fresh actor on the
//! same mailbox, so the actor's handles stay valid and queued messages are not lost. A
//! restart limit stops an actor that keeps crashing from crashing forever.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::actor::Actor;

/// How many times a panicking actor is restarted before its supervisor gives up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartPolicy {
    /// `0` means: never restart, give up at the first panic.
    pub max_restarts: u32,
}

/// Why a supervised actor stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every handle was dropped, or a stop was requested and the mailbox drained.
    Stopped,
    /// The actor panicked once more after `max_restarts` restarts.
    GaveUp,
}

/// The counters a supervisor keeps for one actor.
///
/// Atomics, not a lock: the system reads them for its metrics at any time, and a reader
/// should never wait for an actor that is busy.
#[derive(Debug, Default)]
pub struct Stats {
    handled: AtomicU64,
    panics: AtomicU64,
    restarts: AtomicU64,
    exit: AtomicU8,
}

impl Stats {
    /// One message handled without a panic.
    pub fn record_handled(&self) {
        self.handled.fetch_add(1, Ordering::Relaxed);
    }

    /// One message whose handler panicked.
    pub fn record_panic(&self) {
        self.panics.fetch_add(1, Ordering::Relaxed);
    }

    /// One restart.
    pub fn record_restart(&self) {
        self.restarts.fetch_add(1, Ordering::Relaxed);
    }

    /// How the actor ended; set once, when it has.
    pub fn record_exit(&self, exit: Exit) {
        let code = match exit {
            Exit::Stopped => 1,
            Exit::GaveUp => 2,
        };
        self.exit.store(code, Ordering::Release);
    }

    /// Messages handled without a panic.
    pub fn handled(&self) -> u64 {
        self.handled.load(Ordering::Relaxed)
    }

    /// Messages whose handler panicked.
    pub fn panics(&self) -> u64 {
        self.panics.load(Ordering::Relaxed)
    }

    /// Restarts so far.
    pub fn restarts(&self) -> u64 {
        self.restarts.load(Ordering::Relaxed)
    }

    /// How the actor ended, or `None` while it runs.
    pub fn exit(&self) -> Option<Exit> {
        match self.exit.load(Ordering::Acquire) {
            1 => Some(Exit::Stopped),
            2 => Some(Exit::GaveUp),
            _ => None,
        }
    }
}

/// Run an actor made by `factory` on `mailbox`, restarting it when its handler panics.
///
/// - Handle messages one at a time. Count each in `stats`: `record_handled` when the
///   handler returns, `record_panic` when it panics.
/// - After a panic, if fewer than `policy.max_restarts` restarts have happened, make a
///   fresh actor with `factory` (`record_restart`) and go on with the *same* mailbox.
///   Otherwise give up: return [`Exit::GaveUp`].
/// - When every sender of the mailbox is gone, return [`Exit::Stopped`].
/// - When `stop` is cancelled: close the mailbox so nothing new gets in, handle every
///   message already in it, then return [`Exit::Stopped`] (or `GaveUp`, if the actor
///   gives up while draining).
///
/// To catch a panic inside an async handler, wrap its future:
/// `futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(actor.handle(msg))).await`.
pub async fn supervise<A, F>(
    factory: F,
    mailbox: mpsc::Receiver<A::Msg>,
    policy: RestartPolicy,
    stop: CancellationToken,
    stats: Arc<Stats>,
) -> Exit
where
    A: Actor,
    F: FnMut() -> A + Send + 'static,
{
    let _ = (factory, mailbox, policy, stop, stats);
    todo!("exercise 01.3: supervise")
}
