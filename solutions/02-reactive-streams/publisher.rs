//! Exercise 02.5: a publisher with a bounded buffer — backpressure, errors, cancellation.
//!
//! A producer task makes items and a subscriber consumes them through a bounded channel.
//! The bound is the backpressure: when the subscriber is slow, the channel fills, and the
//! producer waits instead of piling items up in memory.

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
//@ solution
pub fn publish<T, E, F>(buffer: usize, mut source: F) -> Subscription<T, E>
//@ skeleton
// ///
// /// The producer, in a loop:
// /// 1. waits until there is room in the buffer (`Sender::reserve().await`) — and only then
// /// 2. asks `source` for the next item: `Some(Ok(item))` is sent with the permit;
// ///    `Some(Err(e))` is sent too, and then the producer stops; `None` means the source
// ///    is exhausted: the producer stops.
// ///
// /// If the subscriber is dropped, `reserve` fails: the producer stops at once, without
// /// asking `source` for anything more. The producer owns `source`, so stopping drops it.
// ///
// /// Panics if `buffer` is 0.
// pub fn publish<T, E, F>(buffer: usize, source: F) -> Subscription<T, E>
//@ end
where
    T: Send + 'static,
    E: Send + 'static,
    F: FnMut() -> Option<Result<T, E>> + Send + 'static,
{
    //@ solution
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
    //@ skeleton
    // let _ = (buffer, source);
    // todo!("exercise 02.5: publish")
    //@ end
}

impl<T, E> Stream for Subscription<T, E> {
    type Item = Result<T, E>;

    //@ solution
    //@ skeleton
    // /// The next item from the buffer: `Receiver::poll_recv` does all the work, including
    // /// registering the waker when the buffer is empty.
    //@ end
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T, E>>> {
        //@ solution
        // `poll_recv` registers our waker when the buffer is empty, and returns `None`
        // once the producer has dropped its sender and the buffer is drained — after an
        // error, the producer has stopped, so the error is the last item.
        // (`Subscription` is `Unpin`, so `get_mut` needs no projection.)
        self.get_mut().items.poll_recv(cx)
        //@ skeleton
        // let _ = (&self.items, cx);
        // todo!("exercise 02.5: Subscription::poll_next")
        //@ end
    }
}
