//! Exercise 14.3: an order-preserving fan-in with a bounded reorder buffer.

use tokio::sync::mpsc;

use crate::{Stage, Tasks};

impl<I: Send + 'static, O: Send + 'static> Stage<I, O> {
    /// Like [`Stage::spawn`], but the output keeps the input's order: the k-th item sent
    /// out is the result of the k-th item taken in, however long each one takes.
    ///
    /// The workers still finish in any order, so results that are ready early wait in a
    /// reorder buffer until every earlier one has been sent. That buffer must stay
    /// bounded: **at most `window` items** (0 counts as 1) may be between being taken from
    /// `input` and being sent to the output. When an early item is slow, the stage stops
    /// taking new items — the slow item blocks intake — instead of buffering the results
    /// behind it without limit.
    ///
    /// As in `spawn`: at most `self.workers` items are worked on at once, the output
    /// holds at most `self.buffer` items, it closes when the input is closed and drained,
    /// and a failing function ends its worker with `Err`.
    pub fn spawn_ordered(
        &self,
        input: mpsc::Receiver<I>,
        window: usize,
        tasks: &mut Tasks,
    ) -> mpsc::Receiver<O> {
        let _ = (input, window, tasks);
        todo!("exercise 14.3: Stage::spawn_ordered")
    }
}
