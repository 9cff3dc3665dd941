//! Exercise 02.5: a publisher with a bounded buffer — backpressure, errors, cancellation
//! — reference solution.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use tokio::sync::mpsc;

/// The subscriber's end: a stream of the producer's items.
pub struct Subscription<T, E> {
    items: mpsc::Receiver<Result<T, E>>,
}

/// Start a producer task that calls `source` for items and sends them to the returned
/// [`Subscription`] through a buffer of `buffer` items.
pub fn publish<T, E, F>(buffer: usize, mut source: F) -> Subscription<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
    F: FnMut() -> Option<Result<T, E>> + Send + 'static,
{
    assert!(buffer > 0, "a buffer of 0 items could never hold one");
    // Bounded: this capacity *is* the backpressure. An unbounded channel would let a fast
    // producer run arbitrarily far ahead of a slow subscriber.
    let (tx, items) = mpsc::channel(buffer);
    tokio::spawn(async move {
        loop {
            // Room first, item second. `reserve` waits while the buffer is full, so
            // `source` is only asked for an item that has somewhere to go: at most
            // `buffer` items exist that the subscriber has not taken. (Calling `source`
            // first and then `send(item).await` would hold one more, in our hands.)
            // `reserve` fails once the subscriber has dropped its end: that is the
            // cancellation, and we stop without making another item.
            let Ok(permit) = tx.reserve().await else {
                return;
            };
            match source() {
                Some(Ok(item)) => permit.send(Ok(item)),
                Some(Err(e)) => {
                    // The error is the last thing the subscriber will see; stopping here
                    // drops `tx`, and the subscriber's stream ends after it.
                    permit.send(Err(e));
                    return;
                }
                None => return,
            }
        }
        // `source` is dropped with this task: whatever it owns (a file, a socket) is
        // released as soon as nobody wants its items.
    });
    Subscription { items }
}

impl<T, E> Stream for Subscription<T, E> {
    type Item = Result<T, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T, E>>> {
        // `poll_recv` registers our waker when the buffer is empty, and returns `None`
        // once the producer has dropped its sender and the buffer is drained — after an
        // error, the producer has stopped, so the error is the last item.
        // (`Subscription` is `Unpin`, so `get_mut` needs no projection.)
        self.get_mut().items.poll_recv(cx)
    }
}
