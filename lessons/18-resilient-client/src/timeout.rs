//! Exercise 18.1: a per-attempt timeout, as a tower `Layer` and `Service`.
//!
//! A `Layer` wraps a service in another; the wrapper is a `Service` with the same two
//! methods as the one it wraps:
//!
//! - `poll_ready`: "may I call you now?" — the wrapper asks the service it wraps, so
//!   back-pressure from deep in the stack (a full concurrency limit, an empty rate
//!   bucket) reaches the caller.
//! - `call`: only after `poll_ready` said `Ready(Ok)`. It returns a future; the work
//!   happens when the future is polled.
//!
//! `Timeout` fails a call that takes longer than `limit` with [`Elapsed`]. The clock starts
//! in `call`, not in `poll_ready`: waiting to be admitted is not the attempt's time.

#![allow(dead_code, unused_imports)] // the skeleton uses none of this yet; your code will

use std::task::{Context, Poll};
use std::time::Duration;

use futures::future::BoxFuture;
use tower::{BoxError, Layer, Service};

use crate::errors::Elapsed;

/// Makes [`Timeout`] services.
#[derive(Clone, Copy, Debug)]
pub struct TimeoutLayer {
    limit: Duration,
}

impl TimeoutLayer {
    pub fn new(limit: Duration) -> TimeoutLayer {
        TimeoutLayer { limit }
    }
}

impl<S> Layer<S> for TimeoutLayer {
    type Service = Timeout<S>;

    fn layer(&self, inner: S) -> Timeout<S> {
        Timeout {
            inner,
            limit: self.limit,
        }
    }
}

/// Fails each call that takes longer than `limit` with [`Elapsed`].
#[derive(Clone, Debug)]
pub struct Timeout<S> {
    inner: S,
    limit: Duration,
}

impl<S, R> Service<R> for Timeout<S>
where
    S: Service<R>,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
{
    type Response = S::Response;
    // Every layer of this lesson answers `BoxError`, as tower's own do: the caller finds
    // out which layer failed by downcasting (exercise 18.5).
    type Error = BoxError;
    // A boxed future is the simple choice: one allocation per call. tower's own layers
    // write a named future type with `pin-project` instead, to save it.
    type Future = BoxFuture<'static, Result<S::Response, BoxError>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        let _ = cx;
        todo!("exercise 18.1: Timeout::poll_ready")
    }

    fn call(&mut self, req: R) -> Self::Future {
        let _ = req;
        todo!("exercise 18.1: Timeout::call")
    }
}
