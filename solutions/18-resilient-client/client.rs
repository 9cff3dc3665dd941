//! Exercise 18.5: the resilient client — the layers composed in the right order, and one
//! error type that says what went wrong.
//!
//! The order, outermost first (the first layer added to a `ServiceBuilder` sees the
//! request first):
//!
//! ```text
//!  send ─▶ ConcurrencyLimit ─▶ Retry ─▶ CircuitBreaker ─▶ Timeout ─▶ the dependency
//! ```
//!
//! - **Timeout inside Retry**: each attempt has its own time limit, so a slow attempt is
//!   cut off and the next one still gets its chance. Outside, the timeout bounds all
//!   attempts and their pauses together: the first slow attempt uses it all up.
//! - **Retry outside the CircuitBreaker**: every attempt is a call the breaker counts, so
//!   it opens after `threshold` failed *attempts*; and once open, its `Rejected` ends the
//!   retries at once (18.2 never retries a refusal). Inside, the breaker would see one
//!   outcome per request while the retries behind it hit a failing dependency
//!   `max_attempts` times as often.
//! - **Timeout inside the breaker**: a timed-out attempt is a failure the breaker counts.
//! - **ConcurrencyLimit outermost**: at most `limit` requests are being worked on,
//!   their pauses between retries included, whatever happens further in.

//@ solution
//@ skeleton
// #![allow(dead_code, unused_imports)] // the skeleton uses none of this yet; your code will
//@ end

use std::future::Future;
use std::time::Duration;

use tower::{BoxError, Service, ServiceBuilder, ServiceExt, util::BoxCloneService};

use crate::breaker::CircuitBreakerLayer;
use crate::errors::{Elapsed, GaveUp, Rejected};
use crate::flaky::Req;
use crate::limit::ConcurrencyLimitLayer;
use crate::retry::{RetryLayer, RetryPolicy};
use crate::timeout::TimeoutLayer;

/// The settings of every layer.
#[derive(Clone, Copy, Debug)]
pub struct ClientConfig {
    /// Requests in flight at most.
    pub limit: usize,
    /// The time limit of one attempt.
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub breaker_threshold: u32,
    pub breaker_cooldown: Duration,
}

/// Why a request failed, in one type: which layer refused or gave up, and the attempts'
/// errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// A layer refused it without trying (`by` says which).
    Rejected { by: &'static str },
    /// Its one attempt took too long (a request that is not retried).
    TimedOut,
    /// It was retried and every attempt failed: their errors, in order, as text.
    GaveUp { attempts: Vec<String> },
    /// Its one attempt failed with this error (as text).
    Failed(String),
}

/// Sorts a layer's `BoxError` into a [`ClientError`], by downcasting to the error types of
/// `crate::errors`.
pub fn classify(error: BoxError) -> ClientError {
    //@ solution
    if let Some(r) = error.downcast_ref::<Rejected>() {
        ClientError::Rejected { by: r.by }
    } else if error.is::<Elapsed>() {
        ClientError::TimedOut
    } else if let Some(g) = error.downcast_ref::<GaveUp>() {
        ClientError::GaveUp {
            attempts: g.attempts.iter().map(|e| e.to_string()).collect(),
        }
    } else {
        ClientError::Failed(error.to_string())
    }
    //@ skeleton
    // let _ = error;
    // todo!("exercise 18.5: classify")
    //@ end
}

/// The composed client. Cloning it is cheap; clones share the limit, the breaker and the
/// retry budget.
#[derive(Clone)]
pub struct Client {
    service: BoxCloneService<Req, u32, BoxError>,
    breaker: CircuitBreakerLayer,
}

impl Client {
    /// Wraps `dependency` in the layers of this lesson, in the order above.
    pub fn new<S>(dependency: S, config: &ClientConfig) -> Client
    where
        S: Service<Req, Response = u32, Error = BoxError> + Clone + Send + 'static,
        S::Future: Send + 'static,
    {
        let breaker = CircuitBreakerLayer::new(config.breaker_threshold, config.breaker_cooldown);
        //@ solution
        let service = ServiceBuilder::new()
            .layer(ConcurrencyLimitLayer::new(config.limit))
            .layer(RetryLayer::new(config.retry))
            .layer(breaker.clone())
            .layer(TimeoutLayer::new(config.timeout))
            .service(dependency);
        Client {
            service: BoxCloneService::new(service),
            breaker,
        }
        //@ skeleton
        // let _ = (dependency, breaker);
        // todo!("exercise 18.5: Client::new")
        //@ end
    }

    /// The breaker, to read its state and transitions.
    pub fn breaker(&self) -> &CircuitBreakerLayer {
        &self.breaker
    }

    /// Sends one request through every layer: waits until the stack is ready, calls it,
    /// and sorts a failure into a [`ClientError`]. The future owns what it needs (it is
    /// `'static` and `Send`), so it can be spawned.
    pub fn send(
        &self,
        req: Req,
    ) -> impl Future<Output = Result<u32, ClientError>> + Send + 'static {
        //@ solution
        // A clone of our own, polled ready and then called: `oneshot` does both. Calling
        // `self.service` directly would need `&mut self`, and a clone that was never
        // polled ready must not be called.
        let service = self.service.clone();
        async move { service.oneshot(req).await.map_err(classify) }
        //@ skeleton
        // let _ = req;
        // async move { todo!("exercise 18.5: Client::send") }
        //@ end
    }
}
