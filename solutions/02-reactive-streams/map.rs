//! Exercise 02.1: `Map`, written against `Stream::poll_next`.
//!
//! A stream is a future that can complete many times. Its one method, `poll_next`,
//! answers "is there a next item?" with one of three things:
//! - `Poll::Ready(Some(item))`: here it is;
//! - `Poll::Ready(None)`: there will never be another;
//! - `Poll::Pending`: not yet — and *someone has arranged to wake this task* when there
//!   might be. Returning `Pending` without that arrangement leaves the task asleep forever.
//!
//! An operator wraps an inner stream and polls it. Whenever the inner stream returns
//! `Pending`, it has already arranged the wake-up, so the operator may return `Pending`
//! too.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;

/// Applies `f` to every item of `inner`.
//@ solution
//@ skeleton
// ///
// /// The operators in this lesson require `Unpin` inner streams and closures, so that
// /// `poll_next` can reach its fields with `self.get_mut()`; the chapter explains why and
// /// how production code (`pin-project`) lifts that restriction.
//@ end
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

    //@ solution
    //@ skeleton
    // /// Poll the inner stream once: an item becomes `f(item)`; the end stays the end;
    // /// `Pending` stays `Pending`.
    //@ end
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        //@ solution
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
        //@ skeleton
        // let _ = (&self.inner, &self.f, cx);
        // todo!("exercise 02.1: Map::poll_next")
        //@ end
    }
}
