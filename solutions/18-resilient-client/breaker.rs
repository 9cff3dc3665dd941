//! Exercise 18.3: a circuit breaker layer.
//!
//! ```text
//!   Closed ── threshold failures in a row ──▶ Open ── cooldown passed, next call ──▶ HalfOpen
//!     ▲                                        ▲                                      │
//!     └────────────── the probe succeeds ──────┼──────────────────────────────────────┤
//!                                              └────────── the probe fails ───────────┘
//! ```
//!
//! - **Closed**: calls go through; a success resets the count of failures in a row.
//! - **Open**: calls are refused at once with [`Rejected`] `{ by: "circuit breaker" }`,
//!   without touching the dependency, until `cooldown` has passed on the (virtual) clock.
//! - **HalfOpen**: the first call after the cooldown is the one *probe*; while it is out,
//!   every other call is refused. Its outcome closes the breaker or opens it again (with a
//!   new cooldown).
//!
//! Every error of the inner service counts as a failure (a timeout too). All the services
//! one `CircuitBreakerLayer` makes share one breaker: it stands for one dependency.

//@ solution
//@ skeleton
// #![allow(dead_code, unused_imports)] // the skeleton uses none of this yet; your code will
//@ end

use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::time::Instant;
use tower::{BoxError, Layer, Service};

use crate::errors::Rejected;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

/// The breaker entered state `to` at virtual instant `at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    pub at: Instant,
    pub to: BreakerState,
}

#[derive(Debug)]
struct Breaker {
    threshold: u32,
    cooldown: Duration,
    state: BreakerState,
    /// Failures in a row while closed.
    failures: u32,
    opened_at: Instant,
    log: Vec<Transition>,
}

impl Breaker {
    fn enter(&mut self, to: BreakerState) {
        let at = Instant::now();
        if to == BreakerState::Open {
            self.opened_at = at;
        }
        if to == BreakerState::Closed {
            self.failures = 0;
        }
        self.state = to;
        self.log.push(Transition { at, to });
    }

    /// Called in `call`: may this call go through, and is it the half-open probe?
    /// `None` means refused.
    fn admit(&mut self) -> Option<Admitted> {
        //@ solution
        match self.state {
            BreakerState::Closed => Some(Admitted::Normal),
            BreakerState::Open if Instant::now() >= self.opened_at + self.cooldown => {
                self.enter(BreakerState::HalfOpen);
                Some(Admitted::Probe)
            }
            // Open within the cooldown, or half-open with the probe already out.
            BreakerState::Open | BreakerState::HalfOpen => None,
        }
        //@ skeleton
        // todo!("exercise 18.3: Breaker::admit")
        //@ end
    }

    /// Called when an admitted call ends.
    fn record(&mut self, admitted: Admitted, ok: bool) {
        //@ solution
        match (admitted, ok) {
            (Admitted::Probe, true) => self.enter(BreakerState::Closed),
            (Admitted::Probe, false) => self.enter(BreakerState::Open),
            // An outcome of a call admitted while closed counts only while still closed:
            // a call that was in flight when the breaker opened changes nothing.
            (Admitted::Normal, true) if self.state == BreakerState::Closed => self.failures = 0,
            (Admitted::Normal, false) if self.state == BreakerState::Closed => {
                self.failures += 1;
                if self.failures >= self.threshold {
                    self.enter(BreakerState::Open);
                }
            }
            (Admitted::Normal, _) => {}
        }
        //@ skeleton
        // let _ = (admitted, ok);
        // todo!("exercise 18.3: Breaker::record")
        //@ end
    }
}

/// How a call was let through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Admitted {
    Normal,
    Probe,
}

/// Ends the probe as a failure if its future is dropped before it answers (a timeout
/// further out, a caller that gave up): otherwise the breaker would stay half-open, with
/// a probe out that never comes back, and refuse every call for ever.
struct Outcome {
    breaker: Arc<Mutex<Breaker>>,
    admitted: Admitted,
    done: bool,
}

impl Outcome {
    fn record(&mut self, ok: bool) {
        lock(&self.breaker).record(self.admitted, ok);
        self.done = true;
    }
}

impl Drop for Outcome {
    fn drop(&mut self) {
        if !self.done && self.admitted == Admitted::Probe {
            lock(&self.breaker).record(Admitted::Probe, false);
        }
    }
}

fn lock(breaker: &Mutex<Breaker>) -> MutexGuard<'_, Breaker> {
    breaker.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes [`CircuitBreaker`] services that share one breaker; also the handle to read its
/// state and its transitions.
#[derive(Clone, Debug)]
pub struct CircuitBreakerLayer {
    breaker: Arc<Mutex<Breaker>>,
}

impl CircuitBreakerLayer {
    /// Opens after `threshold` failures in a row; tries one probe `cooldown` later.
    pub fn new(threshold: u32, cooldown: Duration) -> CircuitBreakerLayer {
        CircuitBreakerLayer {
            breaker: Arc::new(Mutex::new(Breaker {
                threshold,
                cooldown,
                state: BreakerState::Closed,
                failures: 0,
                opened_at: Instant::now(),
                log: Vec::new(),
            })),
        }
    }

    pub fn state(&self) -> BreakerState {
        lock(&self.breaker).state
    }

    /// Every change of state so far, in order.
    pub fn transitions(&self) -> Vec<Transition> {
        lock(&self.breaker).log.clone()
    }
}

impl<S> Layer<S> for CircuitBreakerLayer {
    type Service = CircuitBreaker<S>;

    fn layer(&self, inner: S) -> CircuitBreaker<S> {
        CircuitBreaker {
            inner,
            breaker: Arc::clone(&self.breaker),
        }
    }
}

/// Refuses calls while its breaker is open (see the module's documentation).
#[derive(Clone, Debug)]
pub struct CircuitBreaker<S> {
    inner: S,
    breaker: Arc<Mutex<Breaker>>,
}

impl<S, R> Service<R> for CircuitBreaker<S>
where
    S: Service<R>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<S::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        //@ solution
        // An open breaker still says Ready: an error from `poll_ready` tells the caller
        // the service is broken for good. The refusal comes from `call`, at once.
        self.inner.poll_ready(cx).map_err(Into::into)
        //@ skeleton
        // let _ = cx;
        // todo!("exercise 18.3: CircuitBreaker::poll_ready")
        //@ end
    }

    fn call(&mut self, req: R) -> Self::Future {
        //@ solution
        let Some(admitted) = lock(&self.breaker).admit() else {
            return Box::pin(async {
                Err(Rejected {
                    by: "circuit breaker",
                }
                .into())
            });
        };
        let attempt = self.inner.call(req);
        let mut outcome = Outcome {
            breaker: Arc::clone(&self.breaker),
            admitted,
            done: false,
        };
        Box::pin(async move {
            let answer = attempt.await.map_err(Into::into);
            outcome.record(answer.is_ok());
            answer
        })
        //@ skeleton
        // let _ = req;
        // todo!("exercise 18.3: CircuitBreaker::call")
        //@ end
    }
}
