//! Exercise 18.2: retries with capped exponential backoff, seeded jitter and a budget.
//!
//! A failed attempt of an idempotent request is tried again after a pause. The pauses
//! grow (`base`, `2·base`, `4·base`, … up to `cap`) so that a struggling dependency gets
//! room to recover, and each is *jittered* — drawn at random between half the delay and
//! the whole of it — so that a thousand clients that failed at the same instant do not
//! all come back at the same instant. The random numbers come from a seeded `StdRng`: the
//! same seed gives the same pauses, so a run can be replayed.
//!
//! What is never retried:
//! - a request that is not idempotent (a retry of a payment that timed out may pay twice);
//! - a [`Rejected`] error: a layer below refused without trying, and asking again at once
//!   meets the same refusal (and an open breaker would count nothing).
//!
//! The budget caps the retries of **all** requests through one `RetryLayer` together: when
//! the dependency is down, every request failing and retrying would multiply its load by
//! `max_attempts`; with the budget spent, failures come back at once.

#![allow(dead_code, unused_imports)] // the skeleton uses none of this yet; your code will

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use rand::{Rng, SeedableRng, rngs::StdRng};
use tower::{BoxError, Layer, Service, ServiceExt};

use crate::errors::{GaveUp, Rejected};
use crate::flaky::Idempotent;

/// How to retry.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// The delay before the first retry; it doubles before each next one…
    pub base: Duration,
    /// …but never exceeds `cap`.
    pub cap: Duration,
    /// How many retries all requests through one layer may make together.
    pub budget: u32,
    /// The seed of the jitter's random numbers.
    pub seed: u64,
}

impl RetryPolicy {
    /// The delay before retry number `n` (1 for the first retry), before jitter:
    /// `min(cap, base · 2^(n-1))`. It must not overflow for a large `n`.
    pub fn backoff(&self, n: u32) -> Duration {
        let _ = n;
        todo!("exercise 18.2: RetryPolicy::backoff")
    }
}

/// What the services of one layer share: the random numbers and the budget.
#[derive(Debug)]
struct Shared {
    rng: Mutex<StdRng>,
    retries_left: AtomicU32,
}

impl Shared {
    /// Takes one retry from the budget; false when it is spent.
    fn take_retry(&self) -> bool {
        todo!("exercise 18.2: Shared::take_retry")
    }

    /// A pause drawn uniformly between half of `delay` and all of it.
    fn jitter(&self, delay: Duration) -> Duration {
        let _ = delay;
        todo!("exercise 18.2: Shared::jitter")
    }
}

/// Makes [`Retry`] services; all of them (and their clones) share one budget and one
/// random-number generator.
#[derive(Clone, Debug)]
pub struct RetryLayer {
    policy: RetryPolicy,
    shared: Arc<Shared>,
}

impl RetryLayer {
    pub fn new(policy: RetryPolicy) -> RetryLayer {
        RetryLayer {
            policy,
            shared: Arc::new(Shared {
                rng: Mutex::new(StdRng::seed_from_u64(policy.seed)),
                retries_left: AtomicU32::new(policy.budget),
            }),
        }
    }
}

impl<S> Layer<S> for RetryLayer {
    type Service = Retry<S>;

    fn layer(&self, inner: S) -> Retry<S> {
        Retry {
            inner,
            policy: self.policy,
            shared: Arc::clone(&self.shared),
        }
    }
}

/// Retries failed attempts of idempotent requests (see the module's documentation).
#[derive(Clone, Debug)]
pub struct Retry<S> {
    inner: S,
    policy: RetryPolicy,
    shared: Arc<Shared>,
}

impl<S, R> Service<R> for Retry<S>
where
    S: Service<R> + Clone + Send + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    R: Idempotent + Clone + Send + 'static,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = BoxFuture<'static, Result<S::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        let _ = cx;
        todo!("exercise 18.2: Retry::poll_ready")
    }

    fn call(&mut self, req: R) -> Self::Future {
        let _ = req;
        todo!("exercise 18.2: Retry::call")
    }
}
