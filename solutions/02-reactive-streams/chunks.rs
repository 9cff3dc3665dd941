//! Exercise 02.3: `Chunks` — an operator with a buffer of its own.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;

/// Groups the items of `inner` into vectors of `size` items; the last one may be shorter.
pub struct Chunks<S: Stream> {
    inner: S,
    size: usize,
    /// The chunk being filled.
    buffer: Vec<S::Item>,
    /// Set once `inner` has returned `Ready(None)`: it must not be polled again.
    done: bool,
}

impl<S: Stream> Chunks<S> {
    /// Wrap `inner`. Panics if `size` is 0.
    pub fn new(inner: S, size: usize) -> Self {
        assert!(size > 0, "chunks of size 0 would never fill");
        Chunks {
            inner,
            size,
            buffer: Vec::with_capacity(size),
            done: false,
        }
    }
}

// `S::Item: Unpin` too: the buffer is a field, and a `Vec<T>` is only `Unpin` when `T` is,
// so without it `Chunks` would not be `Unpin` and `self.get_mut()` would not compile.
impl<S> Stream for Chunks<S>
where
    S: Stream + Unpin,
    S::Item: Unpin,
{
    type Item = Vec<S::Item>;

    //@ solution
    //@ skeleton
    // /// Poll `inner` until the buffer holds `size` items, then yield them.
    // ///
    // /// - `inner` returns `Pending` with a part-filled buffer: keep the items and return
    // ///   `Pending` (a chunk is only yielded full, or at the end).
    // /// - `inner` ends: yield what is in the buffer, if anything, then `None` — and never
    // ///   poll `inner` after it has returned `None`.
    //@ end
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Vec<S::Item>>> {
        //@ solution
        let this = self.get_mut();
        // After the end, stay at the end. Many streams panic or misbehave when polled
        // again after `None` (the `Stream` contract allows them to); `done` makes sure we
        // never do it, however often *we* are polled.
        if this.done {
            return Poll::Ready(None);
        }

        loop {
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Ready(Some(item)) => {
                    this.buffer.push(item);
                    if this.buffer.len() == this.size {
                        // `replace` hands the full chunk out and leaves a fresh buffer
                        // with room for the next one, in one move.
                        let full =
                            std::mem::replace(&mut this.buffer, Vec::with_capacity(this.size));
                        return Poll::Ready(Some(full));
                    }
                }
                Poll::Ready(None) => {
                    this.done = true;
                    // The last, short chunk — unless the items divided evenly.
                    return if this.buffer.is_empty() {
                        Poll::Ready(None)
                    } else {
                        Poll::Ready(Some(std::mem::take(&mut this.buffer)))
                    };
                }
                // The part-filled buffer stays where it is; the inner stream will wake us.
                Poll::Pending => return Poll::Pending,
            }
        }
        //@ skeleton
        // let _ = (&self.inner, self.size, &self.buffer, self.done, cx);
        // todo!("exercise 02.3: Chunks::poll_next")
        //@ end
    }
}
