//! Exercise 02.1: `Map`, written against `Stream::poll_next` — reference solution.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;

/// Applies `f` to every item of `inner`.
pub struct Map<S, F> {
    inner: S,
    f: F,
}

impl<S, F> Map<S, F> {
    /// Wrap `inner`. Nothing is polled until the `Map` itself is.
    pub fn new(inner: S, f: F) -> Self {
        Map { inner, f }
    }
}

impl<S, F, T> Stream for Map<S, F>
where
    S: Stream + Unpin,
    F: FnMut(S::Item) -> T + Unpin,
{
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // `Map` is `Unpin` because its fields are, so the pin can be taken off: nothing
        // here relies on the `Map` staying at one address.
        let this = self.get_mut();
        // `Pin::new` re-pins the inner stream for its own `poll_next` (allowed for `Unpin`
        // types). We pass *our* context on: if the inner stream is not ready, it registers
        // our task's waker, which is what makes returning `Pending` below legitimate.
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(item)) => Poll::Ready(Some((this.f)(item))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
        // (`futures::ready!` and `Poll::map` shorten this to one line; spelled out, the
        // three cases are the whole contract of a stream.)
    }
}
