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

    /// Return the next item that passes `keep`, the end, or `Pending`.
    ///
    /// An item that fails `keep` is not an answer. Returning `Pending` after dropping it
    /// would break the rule: nobody has arranged to wake this task (the inner stream just
    /// returned `Ready`), so it would never be polled again. Poll the inner stream again
    /// instead, until it yields an item that passes, ends, or returns `Pending` itself.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let _ = (&self.inner, &self.keep, cx);
        todo!("exercise 02.2: Filter::poll_next")
    }
}
