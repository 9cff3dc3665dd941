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

//@ solution
//@ skeleton
// #![allow(dead_code, unused_imports)] // the skeleton uses none of this yet; your code will
//@ end

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
        //@ solution
        let factor = 1u32.checked_shl(n.saturating_sub(1)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
        //@ skeleton
        // let _ = n;
        // todo!("exercise 18.2: RetryPolicy::backoff")
        //@ end
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
        //@ solution
        self.retries_left
            .fetch_update(SeqCst, SeqCst, |left| left.checked_sub(1))
            .is_ok()
        //@ skeleton
        // todo!("exercise 18.2: Shared::take_retry")
        //@ end
    }

    /// A pause drawn uniformly between half of `delay` and all of it.
    fn jitter(&self, delay: Duration) -> Duration {
        //@ solution
        let full = delay.as_micros() as u64;
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        Duration::from_micros(rng.random_range(full / 2..=full))
        //@ skeleton
        // let _ = delay;
        // todo!("exercise 18.2: Shared::jitter")
        //@ end
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
        //@ solution
        self.inner.poll_ready(cx).map_err(Into::into)
        //@ skeleton
        // let _ = cx;
        // todo!("exercise 18.2: Retry::poll_ready")
        //@ end
    }

    fn call(&mut self, req: R) -> Self::Future {
        //@ solution
        // `self.inner` is the clone that `poll_ready` made ready: the first attempt must
        // go through it. Keep it, and leave a fresh (not ready) clone in its place for the
        // next `poll_ready`. Calling a fresh clone instead would skip its `poll_ready`.
        let fresh = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, fresh);
        let policy = self.policy;
        let shared = Arc::clone(&self.shared);
        let mut attempt = inner.call(req.clone());
        Box::pin(async move {
            let mut errors: Vec<BoxError> = Vec::new();
            let mut retries = 0;
            loop {
                let error: BoxError = match attempt.await {
                    Ok(answer) => return Ok(answer),
                    Err(e) => e.into(),
                };
                // Refusals and requests with effects go back as they are.
                if error.is::<Rejected>() || !req.is_idempotent() {
                    return Err(error);
                }
                errors.push(error);
                if errors.len() as u32 >= policy.max_attempts || !shared.take_retry() {
                    return Err(if errors.len() == 1 {
                        errors.pop().expect("one error")
                    } else {
                        GaveUp { attempts: errors }.into()
                    });
                }
                retries += 1;
                tokio::time::sleep(shared.jitter(policy.backoff(retries))).await;
                // Each later attempt waits for readiness like the first one did.
                attempt = inner.ready().await.map_err(Into::into)?.call(req.clone());
            }
        })
        //@ skeleton
        // let _ = req;
        // todo!("exercise 18.2: Retry::call")
        //@ end
    }
}
