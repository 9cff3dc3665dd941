//! A scripted flaky service (finished code, not an exercise): the dependency the
//! resilient client talks to.
//!
//! It answers call after call from a script (`Ok`, `Fail`, `Slow(ms)`, `Reject`), shared by
//! all its clones, and records every call with its virtual time, so a test can count the
//! attempts, read when each was made and how many were in flight at once. When the script
//! runs out it answers `Ok`.
//!
//! It also checks tower's contract: `call` only after `poll_ready` returned `Ready(Ok)` **on
//! the same clone**, one `call` per `poll_ready`. A clone starts not ready (tower's rule: a
//! readiness reservation belongs to the value that was polled, and cloning does not copy
//! it). A call that breaks the rule is recorded and panics with a message that says so.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::time::Instant;
use tower::{BoxError, Service};

use crate::errors::{Failed, Rejected};

/// A request to the dependency: an id, and whether sending it twice is harmless.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Req {
    pub id: u32,
    /// A `GET` is idempotent; a payment is not: if its first attempt timed out, it may
    /// have been carried out, and a retry would pay twice.
    pub idempotent: bool,
}

impl Req {
    /// An idempotent request (a read).
    pub fn read(id: u32) -> Req {
        Req {
            id,
            idempotent: true,
        }
    }

    /// A request that must not be sent twice (a write with effects).
    pub fn write(id: u32) -> Req {
        Req {
            id,
            idempotent: false,
        }
    }
}

/// What the retry layer asks of a request: may it be sent again?
pub trait Idempotent {
    fn is_idempotent(&self) -> bool;
}

impl Idempotent for Req {
    fn is_idempotent(&self) -> bool {
        self.idempotent
    }
}

/// One answer of the script.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Answer the request's id at once.
    Ok,
    /// Fail at once with [`Failed`].
    Fail,
    /// Answer the id after this many (virtual) milliseconds.
    Slow(u64),
    /// Refuse at once with [`Rejected`] `{ by: "script" }`: stands in for a layer further
    /// down that refused.
    Reject,
}

/// One call the service received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Call {
    /// Virtual milliseconds since the service was made.
    pub at_ms: u64,
    pub id: u32,
    pub step: Step,
}

#[derive(Debug)]
struct Shared {
    script: VecDeque<Step>,
    calls: Vec<Call>,
    in_flight: usize,
    max_in_flight: usize,
    violations: Vec<String>,
    start: Instant,
}

/// The scripted service. Clones share the script and the record.
#[derive(Debug)]
pub struct Flaky {
    shared: Arc<Mutex<Shared>>,
    /// Set by `poll_ready`, taken by `call`: this clone's readiness.
    ready: bool,
}

impl Clone for Flaky {
    fn clone(&self) -> Flaky {
        // A clone is a new handle: it has not been polled ready.
        Flaky {
            shared: Arc::clone(&self.shared),
            ready: false,
        }
    }
}

impl Flaky {
    /// A service that answers from `script`, then `Ok` for ever. Make it inside the
    /// runtime: its clock starts now.
    pub fn new(script: impl IntoIterator<Item = Step>) -> Flaky {
        Flaky {
            shared: Arc::new(Mutex::new(Shared {
                script: script.into_iter().collect(),
                calls: Vec::new(),
                in_flight: 0,
                max_in_flight: 0,
                violations: Vec::new(),
                start: Instant::now(),
            })),
            ready: false,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every call received so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.lock().calls.clone()
    }

    /// How many calls were received.
    pub fn call_count(&self) -> usize {
        self.lock().calls.len()
    }

    /// The most calls that were in flight at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.lock().max_in_flight
    }

    /// Calls made without a `poll_ready` first, described.
    pub fn violations(&self) -> Vec<String> {
        self.lock().violations.clone()
    }
}

/// Counts a call out of flight when its future ends or is dropped (a timeout drops it).
struct InFlight(Arc<Mutex<Shared>>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.in_flight -= 1;
    }
}

impl Service<Req> for Flaky {
    type Response = u32;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<u32, BoxError>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.ready = true;
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let step = {
            let mut s = self.lock();
            let at_ms = s.start.elapsed().as_millis() as u64;
            if !self.ready {
                let text = format!(
                    "the flaky service got `call` for request {} at t={at_ms}ms without a \
                     `poll_ready` that returned Ready on this same clone first (tower's contract: \
                     poll_ready, then one call; a clone is not ready — poll the clone you call)",
                    req.id
                );
                s.violations.push(text.clone());
                drop(s);
                panic!("{text}");
            }
            let step = s.script.pop_front().unwrap_or(Step::Ok);
            s.calls.push(Call {
                at_ms,
                id: req.id,
                step,
            });
            s.in_flight += 1;
            s.max_in_flight = s.max_in_flight.max(s.in_flight);
            step
        };
        self.ready = false;
        let guard = InFlight(Arc::clone(&self.shared));
        Box::pin(async move {
            let _guard = guard;
            match step {
                Step::Ok => Ok(req.id),
                Step::Fail => Err(Failed { id: req.id }.into()),
                Step::Reject => Err(Rejected { by: "script" }.into()),
                Step::Slow(ms) => {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    Ok(req.id)
                }
            }
        })
    }
}
