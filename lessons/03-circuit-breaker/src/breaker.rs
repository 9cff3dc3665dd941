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
        self.machine.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The counts of the current generation.
    pub fn counts(&self) -> Counts {
        self.lock().counts()
    }

    /// Run `call` through the breaker.
    ///
    /// - Ask the machine first (`before_request` at `Instant::now()`); if it says no,
    ///   return `BreakerError::Rejected` without calling.
    /// - Otherwise run the call **without holding the lock** — other callers must be able
    ///   to ask the breaker meanwhile — and report how it went (`after_request`, with the
    ///   generation `before_request` returned and the time the call finished).
    /// - `Ok` is a success and `Err(e)` a failure, returned as `BreakerError::Inner(e)`.
    /// - A call that panics is a failure too — report it, and let the panic go on to the
    ///   caller — and so is a call that is *cancelled*: its future dropped at an `.await`
    ///   by a timeout or a `select!`. Neither runs the code after the `.await`, but both
    ///   run destructors: a guard whose `Drop` reports a failure, disarmed once the call
    ///   returns, covers both. (A trial call that is never reported keeps its half-open
    ///   slot forever.)
    pub async fn call<T, E, Fut>(&self, call: impl FnOnce() -> Fut) -> Result<T, BreakerError<E>>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        let _ = call;
        todo!("exercise 03.4: CircuitBreaker::call")
    }
}
