//! Exercise 02.4: `Throttle` — at most one item per period, in (virtual) time.

//@ solution
use std::future::Future;
//@ end
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::Stream;
use tokio::time::Sleep;

/// Passes the items of `inner` on, at most one per `period`: the first at once, each
/// later one no sooner than `period` after the one before. Items are delayed, never
/// dropped.
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

    //@ solution
    //@ skeleton
    // /// If a delay is running, poll it: while it is `Pending`, so is the throttle (the
    // /// `Sleep` has registered the waker with tokio's timer). Then poll `inner`; when it
    // /// yields an item, start a new delay of `period` — `tokio::time::sleep(period)`,
    // /// boxed and pinned — and yield the item.
    // ///
    // /// Comparing `Instant::now()` with a stored deadline and returning `Pending` is the
    // /// trap: nothing would wake the task when the deadline comes.
    //@ end
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        //@ solution
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
        //@ skeleton
        // let _ = (&self.inner, self.period, &self.delay, cx);
        // todo!("exercise 02.4: Throttle::poll_next")
        //@ end
    }
}
