//! Exercise 03.4: the circuit breaker around async calls.

use std::future::Future;
use std::sync::Mutex;

use tokio::time::Instant;

use crate::machine::Machine;
use crate::{BreakerError, Counts, Settings, State};

/// A circuit breaker that async tasks share (`Arc<CircuitBreaker>`).
pub struct CircuitBreaker {
    /// A `std::sync::Mutex`: it is only ever held for a few instructions, never across an
    /// `.await`.
    machine: Mutex<Machine>,
}

impl CircuitBreaker {
    /// A closed breaker.
    pub fn new(settings: Settings) -> CircuitBreaker {
        CircuitBreaker {
            machine: Mutex::new(Machine::new(settings, Instant::now())),
        }
    }

    /// The state now.
    pub fn state(&self) -> State {
        self.lock().state(Instant::now())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Machine> {
        //@ solution
        // A panic cannot happen while this lock is held unless `ready_to_trip` or
        // `on_state_change` panics; even then the machine is consistent, so recover.
        //@ end
        self.machine.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The counts of the current generation.
    pub fn counts(&self) -> Counts {
        self.lock().counts()
    }

    /// Run `call` through the breaker.
    //@ solution
    //@ skeleton
    // ///
    // /// - Ask the machine first (`before_request` at `Instant::now()`); if it says no,
    // ///   return `BreakerError::Rejected` without calling.
    // /// - Otherwise run the call **without holding the lock** — other callers must be able
    // ///   to ask the breaker meanwhile — and report how it went (`after_request`, with the
    // ///   generation `before_request` returned and the time the call finished).
    // /// - `Ok` is a success and `Err(e)` a failure, returned as `BreakerError::Inner(e)`.
    // /// - A call that panics is a failure too — report it, and let the panic go on to the
    // ///   caller — and so is a call that is *cancelled*: its future dropped at an `.await`
    // ///   by a timeout or a `select!`. Neither runs the code after the `.await`, but both
    // ///   run destructors: a guard whose `Drop` reports a failure, disarmed once the call
    // ///   returns, covers both. (A trial call that is never reported keeps its half-open
    // ///   slot forever.)
    //@ end
    pub async fn call<T, E, Fut>(&self, call: impl FnOnce() -> Fut) -> Result<T, BreakerError<E>>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        //@ solution
        // Decide and count in one critical section. Checking the state under one lock
        // and counting under another would let two callers both see "one slot left".
        let generation = self
            .lock()
            .before_request(Instant::now())
            .map_err(BreakerError::Rejected)?;
        // From here on, this call *will* be reported, whatever happens to it. Three ways
        // out: it returns (reported below), it panics, or it is cancelled — the future of
        // `call` dropped at an `.await`, by a timeout or a `select!` that chose another
        // branch. The last two skip every line after the `.await`; only a destructor
        // still runs. A counted half-open trial that is never reported keeps its slot
        // forever, and the breaker never leaves half-open. So the guard reports a failure
        // from its `Drop`, unless we disarm it with the real outcome.
        let mut pending = Pending {
            breaker: self,
            generation,
            armed: true,
        };
        // The guard holds no lock (it only borrows `self`): the call runs unlocked, so
        // other callers can be let through or rejected meanwhile. Holding a lock across
        // this `.await` would serialise every call through the breaker.
        let result = call().await;
        pending.armed = false;
        // The time the call *finished*: a late result is judged by the generation it
        // started in (see `after_request`).
        self.lock()
            .after_request(generation, result.is_ok(), Instant::now());
        result.map_err(BreakerError::Inner)
        //@ skeleton
        // let _ = call;
        // todo!("exercise 03.4: CircuitBreaker::call")
        //@ end
    }
}
//@ solution

/// A call that has been let through and not yet reported.
struct Pending<'a> {
    breaker: &'a CircuitBreaker,
    generation: u64,
    armed: bool,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if self.armed {
            // Panicking or cancelled: a failure, as far as the breaker can tell. (During a
            // panic this runs as the stack unwinds; the panic then goes on to the caller
            // untouched — we never caught it.)
            self.breaker
                .lock()
                .after_request(self.generation, false, Instant::now());
        }
    }
}
//@ end
