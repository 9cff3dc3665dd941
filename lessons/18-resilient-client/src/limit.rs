//! Exercise 18.4: a concurrency limit with back-pressure.
//!
//! At most `max` calls in flight through all the services one `layer()` call made (and
//! their clones). A call is *in flight* from `call` until its response future finishes
//! or is dropped — not until `call` returns, which is at once.
//!
//! The permit is taken in `poll_ready`, not in `call`: `poll_ready` is where a service
//! says "not now" (`Poll::Pending`, and a wake-up when a permit comes free), and that is
//! how back-pressure travels up the stack to a caller who can wait, shed load or buffer.
//! A permit taken by `poll_ready` belongs to that one handle until its `call`; a clone
//! starts without one.

#![allow(dead_code, unused_imports)] // the skeleton uses none of this yet; your code will

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::FutureExt;
use futures::future::BoxFuture;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{BoxError, Layer, Service};

/// Makes [`ConcurrencyLimit`] services. Each `layer()` call makes a new semaphore of `max`
/// permits, shared by that service's clones (tower's `ConcurrencyLimitLayer` does the same).
#[derive(Clone, Copy, Debug)]
pub struct ConcurrencyLimitLayer {
    max: usize,
}

impl ConcurrencyLimitLayer {
    pub fn new(max: usize) -> ConcurrencyLimitLayer {
        ConcurrencyLimitLayer { max }
    }
}

impl<S> Layer<S> for ConcurrencyLimitLayer {
    type Service = ConcurrencyLimit<S>;

    fn layer(&self, inner: S) -> ConcurrencyLimit<S> {
        ConcurrencyLimit {
            inner,
            semaphore: Arc::new(Semaphore::new(self.max)),
            permit: None,
            acquiring: None,
        }
    }
}

/// At most `max` calls in flight (see the module's documentation).
pub struct ConcurrencyLimit<S> {
    inner: S,
    semaphore: Arc<Semaphore>,
    /// The permit `poll_ready` took, waiting for `call`.
    permit: Option<OwnedSemaphorePermit>,
    /// A wait for a permit that `poll_ready` started and has not finished.
    acquiring: Option<BoxFuture<'static, OwnedSemaphorePermit>>,
}

impl<S: Clone> Clone for ConcurrencyLimit<S> {
    fn clone(&self) -> Self {
        todo!("exercise 18.4: ConcurrencyLimit::clone")
    }
}

impl<S, R> Service<R> for ConcurrencyLimit<S>
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
        let _ = cx;
        todo!("exercise 18.4: ConcurrencyLimit::poll_ready")
    }

    fn call(&mut self, req: R) -> Self::Future {
        let _ = req;
        todo!("exercise 18.4: ConcurrencyLimit::call")
    }
}
