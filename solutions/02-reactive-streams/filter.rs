//! Exercise 02.2: `Filter`, and the rule every hand-written stream must keep.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;

/// Yields only the items of `inner` for which `keep` returns true.
pub struct Filter<S, P> {
    inner: S,
    keep: P,
}

impl<S, P> Filter<S, P> {
    /// Wrap `inner`.
    pub fn new(inner: S, keep: P) -> Self {
        Filter { inner, keep }
    }
}

impl<S, P> Stream for Filter<S, P>
where
    S: Stream + Unpin,
    P: FnMut(&S::Item) -> bool + Unpin,
{
    type Item = S::Item;

    //@ solution
    //@ skeleton
    // /// Return the next item that passes `keep`, the end, or `Pending`.
    // ///
    // /// An item that fails `keep` is not an answer. Returning `Pending` after dropping it
    // /// would break the rule: nobody has arranged to wake this task (the inner stream just
    // /// returned `Ready`), so it would never be polled again. Poll the inner stream again
    // /// instead, until it yields an item that passes, ends, or returns `Pending` itself.
    //@ end
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        //@ solution
        let this = self.get_mut();
        // Keep polling while the inner stream has items we reject. We may only return
        // `Pending` when the inner stream did: then (and only then) a wake-up is arranged.
        // The alternative, `cx.waker().wake_by_ref(); return Poll::Pending;`, is correct
        // too, but sends every rejected item through a round trip of the scheduler.
        loop {
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Ready(Some(item)) if (this.keep)(&item) => return Poll::Ready(Some(item)),
                Poll::Ready(Some(_rejected)) => continue,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
        //@ skeleton
        // let _ = (&self.inner, &self.keep, cx);
        // todo!("exercise 02.2: Filter::poll_next")
        //@ end
    }
}
