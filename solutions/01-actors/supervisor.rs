//! Exercise 01.3: supervision — restart an actor that panicked, up to a limit.
//!
//! "Let it crash": an actor does not defend against every bad message. When its handler
//! panics, its supervisor throws the broken state away and starts a fresh actor on the
//! same mailbox, so the actor's handles stay valid and queued messages are not lost. A
//! restart limit stops an actor that keeps crashing from crashing forever.

//@ solution
use std::panic::AssertUnwindSafe;
//@ end
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

//@ solution
use futures::FutureExt;
//@ end
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
//@ solution
//@ skeleton
// ///
// /// - Handle messages one at a time. Count each in `stats`: `record_handled` when the
// ///   handler returns, `record_panic` when it panics.
// /// - After a panic, if fewer than `policy.max_restarts` restarts have happened, make a
// ///   fresh actor with `factory` (`record_restart`) and go on with the *same* mailbox.
// ///   Otherwise give up: return [`Exit::GaveUp`].
// /// - When every sender of the mailbox is gone, return [`Exit::Stopped`].
// /// - When `stop` is cancelled: close the mailbox so nothing new gets in, handle every
// ///   message already in it, then return [`Exit::Stopped`] (or `GaveUp`, if the actor
// ///   gives up while draining).
// ///
// /// To catch a panic inside an async handler, wrap its future:
// /// `futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(actor.handle(msg))).await`.
//@ end
pub async fn supervise<A, F>(
    //@ solution
    mut factory: F,
    mut mailbox: mpsc::Receiver<A::Msg>,
    //@ skeleton
    // factory: F,
    // mailbox: mpsc::Receiver<A::Msg>,
    //@ end
    policy: RestartPolicy,
    stop: CancellationToken,
    stats: Arc<Stats>,
) -> Exit
where
    A: Actor,
    F: FnMut() -> A + Send + 'static,
{
    //@ solution
    // The supervisor, not the actor, owns the mailbox. A restarted actor therefore
    // inherits every queued message, and every `Addr` handed out stays valid.
    let mut slot = Slot {
        actor: factory(),
        restarts: 0,
    };

    loop {
        let msg = tokio::select! {
            // `biased;` so that a stop request wins over a busy mailbox: without it,
            // `select!` picks at random and a steady stream of messages could delay the
            // stop indefinitely.
            biased;
            _ = stop.cancelled() => break,
            msg = mailbox.recv() => msg,
        };
        match msg {
            Some(msg) => {
                if slot
                    .handle(msg, &mut factory, policy, &stats)
                    .await
                    .is_err()
                {
                    return Exit::GaveUp;
                }
            }
            // Every sender is gone: nobody can ever send again.
            None => return Exit::Stopped,
        }
    }

    // Graceful stop. `close` refuses new messages (senders get an error at once) but
    // keeps those already buffered, so the drain below is finite: `recv` returns `None`
    // when the buffer is empty, even though senders still exist.
    mailbox.close();
    while let Some(msg) = mailbox.recv().await {
        if slot
            .handle(msg, &mut factory, policy, &stats)
            .await
            .is_err()
        {
            return Exit::GaveUp;
        }
    }
    Exit::Stopped
    //@ skeleton
    // let _ = (factory, mailbox, policy, stop, stats);
    // todo!("exercise 01.3: supervise")
    //@ end
}
//@ solution

/// The current incarnation of the actor, and how many there have been.
struct Slot<A> {
    actor: A,
    restarts: u32,
}

/// The actor panicked one time too many.
struct GiveUp;

impl<A: Actor> Slot<A> {
    /// Handle one message; after a panic, replace the actor or give up.
    async fn handle<F: FnMut() -> A>(
        &mut self,
        msg: A::Msg,
        factory: &mut F,
        policy: RestartPolicy,
        stats: &Stats,
    ) -> Result<(), GiveUp> {
        // `catch_unwind` turns a panic inside the handler's future into an `Err`, on this
        // task, without touching any other task. `AssertUnwindSafe` is our promise that
        // nobody observes the actor's half-updated state afterwards: after a panic we
        // throw the actor away.
        match AssertUnwindSafe(self.actor.handle(msg))
            .catch_unwind()
            .await
        {
            Ok(()) => {
                stats.record_handled();
                Ok(())
            }
            Err(_panic) => {
                stats.record_panic();
                // `max_restarts` restarts are allowed, so the panic that finds the count
                // already at the limit is the one that ends it. (`>` here would allow one
                // restart too many.)
                if self.restarts >= policy.max_restarts {
                    return Err(GiveUp);
                }
                self.restarts += 1;
                stats.record_restart();
                // Fresh state: whatever the panic left half-done goes with the old actor.
                self.actor = factory();
                Ok(())
            }
        }
    }
}
//@ end
