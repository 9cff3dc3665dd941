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

//@ solution
//@ skeleton
// #![allow(dead_code, unused_imports)] // the skeleton uses none of this yet; your code will
//@ end

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
        //@ solution
        // The same semaphore, but no permit: a permit is not copied by cloning (that
        // would be one more call in flight than the limit allows).
        ConcurrencyLimit {
            inner: self.inner.clone(),
            semaphore: Arc::clone(&self.semaphore),
            permit: None,
            acquiring: None,
        }
        //@ skeleton
        // todo!("exercise 18.4: ConcurrencyLimit::clone")
        //@ end
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
        //@ solution
        if self.permit.is_none() {
            let semaphore = Arc::clone(&self.semaphore);
            let acquiring = self.acquiring.get_or_insert_with(|| {
                async move {
                    semaphore
                        .acquire_owned()
                        .await
                        .expect("the semaphore is never closed")
                }
                .boxed()
            });
            // Pending here registered `cx`'s waker with the semaphore: we are woken when
            // a permit comes free. Keep the same wait for the next poll (it keeps our
            // place in the semaphore's line).
            let permit = std::task::ready!(acquiring.poll_unpin(cx));
            self.acquiring = None;
            self.permit = Some(permit);
        }
        // With a permit, ready when the inner service is.
        self.inner.poll_ready(cx).map_err(Into::into)
        //@ skeleton
        // let _ = cx;
        // todo!("exercise 18.4: ConcurrencyLimit::poll_ready")
        //@ end
    }

    fn call(&mut self, req: R) -> Self::Future {
        //@ solution
        let permit = self
            .permit
            .take()
            .expect("ConcurrencyLimit::call without a poll_ready that returned Ready first");
        let response = self.inner.call(req);
        Box::pin(async move {
            let answer = response.await.map_err(Into::into);
            // The permit goes back here, when the call is over (or when this future is
            // dropped half way).
            drop(permit);
            answer
        })
        //@ skeleton
        // let _ = req;
        // todo!("exercise 18.4: ConcurrencyLimit::call")
        //@ end
    }
}
