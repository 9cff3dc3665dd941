//! Lesson 10: saga — one order across three services, undone in reverse when a step fails,
//! and carried on after a crash from a log in a real SQLite file.
//!
//! The exercise files, in the chapter's order:
//!
//! - [`retry`]: retries with exponential backoff and seeded jitter (10.1);
//! - [`progress`]: where a saga stands, read from its log (10.2);
//! - [`orchestrator`]: running the steps (10.3), compensating (10.4), resuming after a
//!   crash (10.5).
//!
//! Finished code the lesson needs: [`log`] is the saga log (a table of the SQLite file),
//! [`services`] are the scripted inventory, payment and shipping services (tables of the
//! same file, so that what they did survives a crash), [`crash`] is how the tests stop the
//! program at a chosen point. This file holds the small types everything shares.
//!
//! You edit the exercise files only; this file swaps in the reference solution when the
//! crate is built with `--features solution`.

#[cfg_attr(feature = "solution", path = "../../../solutions/10-saga/retry.rs")]
pub mod retry;

#[cfg_attr(feature = "solution", path = "../../../solutions/10-saga/progress.rs")]
pub mod progress;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/10-saga/orchestrator.rs"
)]
pub mod orchestrator;

pub mod crash;
pub mod log;
pub mod services;

use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Where a saga stands. It is never stored: [`progress::read`] works it out from the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Begun, no step sent yet.
    Pending,
    /// Going forward: some step has been sent, none has failed.
    Running,
    /// Every step done. Ends the saga.
    Completed,
    /// A step failed; undoing the steps that took effect, in reverse.
    Compensating,
    /// Every step that took effect has been undone. Ends the saga: the order did not
    /// happen, and nothing of it is left behind.
    Compensated,
    /// A step failed, and an undo kept failing too: something is left behind that the
    /// saga could not undo. Ends the saga, and someone must look at it.
    Failed,
}

impl Status {
    /// Completed, Compensated and Failed end a saga: nothing more will be sent.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Completed | Status::Compensated | Status::Failed
        )
    }
}

/// What a service answers when a call does not succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StepError {
    /// Try again later: a timeout, a lost reply, a service restarting. The call may or may
    /// not have taken effect.
    Transient(String),
    /// The answer is no, and will stay no: a card declined, an item discontinued. The
    /// call did not take effect.
    Permanent(String),
}

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StepError::Transient(why) => write!(f, "transient: {why}"),
            StepError::Permanent(why) => write!(f, "permanent: {why}"),
        }
    }
}

/// How a call ended after its retries ([`retry::retry`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A permanent error: not retried, and the call did not take effect.
    Permanent(String),
    /// Transient errors until the attempts ran out. Whether the call took effect is
    /// unknown: the last reply may have been lost on its way back.
    GaveUp {
        /// How many times the call was sent.
        attempts: u32,
        /// The last transient error.
        last: String,
    },
}

impl Failure {
    /// Could the call have taken effect? Only a permanent error says for certain that it
    /// did not.
    pub fn may_have_taken_effect(&self) -> bool {
        matches!(self, Failure::GaveUp { .. })
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Permanent(why) => write!(f, "{why}"),
            Failure::GaveUp { attempts, last } => {
                write!(f, "gave up after {attempts} attempts: {last}")
            }
        }
    }
}

/// One of the services a saga calls: a step, and the way to undo it.
///
/// Both calls carry an idempotency key. A service that sees a key again does not do the
/// work again: it answers what it answered the first time. That is what makes a retry
/// safe when a reply was lost: the request did arrive, the charge was made, and the
/// retry with the same key finds it.
pub trait Participant {
    /// The step's name, e.g. `"payment"`.
    fn name(&self) -> &str;
    /// Do the step (reserve the items, charge the card, book the parcel).
    fn act(&self, key: &str) -> Result<(), StepError>;
    /// Undo what [`act`](Participant::act) with the same `key` did. Undoing what never
    /// took effect succeeds and does nothing.
    fn undo(&self, key: &str) -> Result<(), StepError>;
}

/// Where a retry loop waits. The lesson's clocks are virtual: waiting moves them forward
/// at once, so a minute of backoff takes no time in a test.
pub trait Clock {
    /// The time since the clock started.
    fn now(&self) -> Duration;
    /// Wait for `d`.
    fn sleep(&self, d: Duration);
}

/// A [`Clock`] that only moves when something sleeps on it, and remembers each sleep.
#[derive(Debug, Default)]
pub struct VirtualClock {
    state: Mutex<(Duration, Vec<Duration>)>,
}

impl VirtualClock {
    /// A clock at zero that has not slept.
    pub fn new() -> VirtualClock {
        VirtualClock::default()
    }

    /// Every sleep so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .clone()
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Duration {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).0
    }

    fn sleep(&self, d: Duration) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.0 += d;
        state.1.push(d);
    }
}

/// Where the randomness in a backoff comes from.
pub trait Jitter {
    /// A duration between zero and `upto`, both included.
    fn pick(&self, upto: Duration) -> Duration;
}

/// Jitter from a random generator seeded with a number: the same seed picks the same
/// durations, so a run can be repeated exactly.
#[derive(Debug)]
pub struct SeededJitter {
    rng: Mutex<StdRng>,
}

impl SeededJitter {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> SeededJitter {
        SeededJitter {
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }
}

impl Jitter for SeededJitter {
    fn pick(&self, upto: Duration) -> Duration {
        let upto = u64::try_from(upto.as_nanos()).unwrap_or(u64::MAX);
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        Duration::from_nanos(rng.random_range(0..=upto))
    }
}

/// Jitter that always picks zero.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoJitter;

impl Jitter for NoJitter {
    fn pick(&self, _upto: Duration) -> Duration {
        Duration::ZERO
    }
}

/// Jitter that always picks the most it may.
#[derive(Clone, Copy, Debug, Default)]
pub struct MostJitter;

impl Jitter for MostJitter {
    fn pick(&self, upto: Duration) -> Duration {
        upto
    }
}
