//! Exercise 02.4: `Throttle` — at most one item per period, in (virtual) time —
//! reference solution.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use tokio::time::Sleep;

/// Passes the items of `inner` on, at most one per `period`.
pub struct Throttle<S> {
    inner: S,
    period: Duration,
    /// Running while the next item must wait: started when an item is yielded.
    delay: Option<Pin<Box<Sleep>>>,
}

impl<S> Throttle<S> {
    /// Wrap `inner`.
    pub fn new(inner: S, period: Duration) -> Self {
        Throttle {
            inner,
            period,
            delay: None,
        }
    }
}

impl<S> Stream for Throttle<S>
where
    S: Stream + Unpin,
{
    type Item = S::Item;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.get_mut();
        if let Some(delay) = this.delay.as_mut() {
            // Polling the `Sleep` is what registers our waker with tokio's timer. A
            // hand-rolled `if Instant::now() < deadline { return Poll::Pending }` would
            // register nothing, and the task would sleep forever.
            match delay.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) => this.delay = None,
            }
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(item)) => {
                // The period counts from when an item goes *out*, so a burst that was
                // waiting upstream is spread out instead of released at once.
                // `Sleep` is `!Unpin` (the timer keeps a pointer into it): `Box::pin` gives
                // it a stable address and keeps `Throttle` itself `Unpin`.
                this.delay = Some(Box::pin(tokio::time::sleep(this.period)));
                Poll::Ready(Some(item))
            }
            other => other,
        }
    }
}
