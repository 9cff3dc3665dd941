//! Exercise 03.4: the circuit breaker around async calls — reference solution.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;

use futures::FutureExt;
use tokio::time::Instant;

use crate::machine::Machine;
use crate::{BreakerError, Settings, State};

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
        // The guard is gone (it was a temporary of the statement above): the call runs
        // unlocked, so other callers can be let through or rejected meanwhile. Holding a
        // lock across this `.await` would serialise every call through the breaker.
        let outcome = AssertUnwindSafe(call()).catch_unwind().await;
        let success = matches!(outcome, Ok(Ok(_)));
        // The time the call *finished*: a late result is judged by the generation it
        // started in (see `after_request`).
        self.lock()
            .after_request(generation, success, Instant::now());
        match outcome {
            Ok(result) => result.map_err(BreakerError::Inner),
            // A panic is a failure as far as the breaker is concerned — recorded above —
            // but it is not ours to swallow.
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}
