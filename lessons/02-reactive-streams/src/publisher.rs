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
///
/// The producer, in a loop:
/// 1. waits until there is room in the buffer (`Sender::reserve().await`) — and only then
/// 2. asks `source` for the next item: `Some(Ok(item))` is sent with the permit;
///    `Some(Err(e))` is sent too, and then the producer stops; `None` means the source
///    is exhausted: the producer stops.
///
/// If the subscriber is dropped, `reserve` fails: the producer stops at once, without
/// asking `source` for anything more. The producer owns `source`, so stopping drops it.
///
/// Panics if `buffer` is 0.
pub fn publish<T, E, F>(buffer: usize, source: F) -> Subscription<T, E>
where
    T: Send + 'static,
    E: Send + 'static,
    F: FnMut() -> Option<Result<T, E>> + Send + 'static,
{
    let _ = (buffer, source);
    todo!("exercise 02.5: publish")
}

impl<T, E> Stream for Subscription<T, E> {
    type Item = Result<T, E>;

    /// The next item from the buffer: `Receiver::poll_recv` does all the work, including
    /// registering the waker when the buffer is empty.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<T, E>>> {
        let _ = (&self.items, cx);
        todo!("exercise 02.5: Subscription::poll_next")
    }
}
