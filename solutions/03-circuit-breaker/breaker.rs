//! Exercise 03.4: the circuit breaker around async calls — reference solution.

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
        // A panic cannot happen while this lock is held unless `ready_to_trip` or
        // `on_state_change` panics; even then the machine is consistent, so recover.
        self.machine.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The counts of the current generation.
    pub fn counts(&self) -> Counts {
        self.lock().counts()
    }

    /// Run `call` through the breaker.
    pub async fn call<T, E, Fut>(&self, call: impl FnOnce() -> Fut) -> Result<T, BreakerError<E>>
    where
        Fut: Future<Output = Result<T, E>>,
    {
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
    }
}

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
