//! Exercise 16.4: a lazy generator over a bounded buffer, and Fibonacci numbers from it.
//!
//! The producer is an async function that hands items to a [`Yielder`]; the consumer
//! reads them from the [`Generator`], a `Stream`. Between them sits a channel of `buffer`
//! items: the producer runs at most that far ahead of the consumer, and once the consumer
//! drops the generator, the producer's next `send` fails and it stops.

//@ solution
//@ skeleton
// #![allow(dead_code)] // the skeleton reads none of these fields yet; your code will
//@ end

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::Stream;
use tokio::sync::mpsc;

/// The producer, boxed and not started yet.
type Start<T> = Box<dyn FnOnce(Yielder<T>) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// A stream of the items a producer sends, produced only as they are wanted.
pub struct Generator<T> {
    /// The producer, until the first poll starts it. Starting it in `new` would make the
    /// generator eager: `buffer` items made before anybody asked for one.
    start: Option<Start<T>>,
    /// How many items the producer may make ahead of the consumer.
    buffer: usize,
    /// The consumer's end of the channel, once the producer runs. Dropping it (with the
    /// generator) is what tells the producer to stop.
    items: Option<mpsc::Receiver<T>>,
}

/// The producer's end: `send` each item, and stop when it fails.
pub struct Yielder<T> {
    tx: mpsc::Sender<T>,
}

/// `Yielder::send` failed: the consumer dropped the generator; produce nothing more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stopped;

impl<T: Send + 'static> Generator<T> {
    /// A generator whose items come from `producer`, which runs (as a tokio task) from the
    /// first poll on and at most `buffer` items ahead of the consumer. Nothing runs before
    /// that first poll.
    ///
    /// Panics if `buffer` is 0.
    pub fn new<F, Fut>(buffer: usize, producer: F) -> Generator<T>
    where
        F: FnOnce(Yielder<T>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        assert!(buffer > 0, "a generator needs a buffer of at least 1");
        //@ solution
        Generator {
            start: Some(Box::new(move |yielder| Box::pin(producer(yielder)))),
            buffer,
            items: None,
        }
        //@ skeleton
        // let _ = producer;
        // todo!("exercise 16.4: Generator::new")
        //@ end
    }
}

impl<T: Send + 'static> Stream for Generator<T> {
    type Item = T;

    /// The first poll starts the producer; every poll then reads the next item, or `None`
    /// once the producer has returned and everything it sent was read.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        //@ solution
        let this = self.get_mut();
        if let Some(start) = this.start.take() {
            let (tx, rx) = mpsc::channel(this.buffer);
            // The task is detached, not aborted on drop: the producer stops by itself
            // when `send` fails, so it can finish what it holds (close a file, log).
            tokio::spawn(start(Yielder { tx }));
            this.items = Some(rx);
        }
        match &mut this.items {
            Some(rx) => rx.poll_recv(cx),
            None => Poll::Ready(None),
        }
        //@ skeleton
        // let _ = cx;
        // todo!("exercise 16.4: Generator::poll_next")
        //@ end
    }
}

impl<T> Yielder<T> {
    /// Hand `item` to the consumer, waiting while the buffer is full. `Err(Stopped)` once
    /// the consumer is gone: the producer must then return.
    pub async fn send(&self, item: T) -> Result<(), Stopped> {
        //@ solution
        self.tx.send(item).await.map_err(|_| Stopped)
        //@ skeleton
        // let _ = item;
        // todo!("exercise 16.4: Yielder::send")
        //@ end
    }
}

/// The Fibonacci numbers 0, 1, 1, 2, 3, 5, … up to the largest that fits in a `u64`
/// (12200160415121876738, the 94th), then the end: the next one would overflow, and
/// `checked_add` says so instead of wrapping around or panicking.
pub fn fibonacci(buffer: usize) -> Generator<u64> {
    //@ solution
    Generator::new(buffer, |y| async move {
        let (mut a, mut b) = (0u64, 1u64);
        loop {
            if y.send(a).await.is_err() {
                return;
            }
            let Some(next) = a.checked_add(b) else {
                // `b` is the last number that fits; the one after it would not.
                let _ = y.send(b).await;
                return;
            };
            (a, b) = (b, next);
        }
    })
    //@ skeleton
    // let _ = buffer;
    // todo!("exercise 16.4: fibonacci")
    //@ end
}
