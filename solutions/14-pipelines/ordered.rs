//! Exercise 14.3: an order-preserving fan-in with a bounded reorder buffer.

//@ solution
use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore};
//@ end
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
        //@ solution
        let (output, results) = mpsc::channel(self.buffer.max(1));
        // One permit per item between intake and output. A worker takes a permit *before*
        // it takes an item, and the item carries it until it is sent out in order. So the
        // reorder buffer can hold at most `window - 1` items, and the stage never has to
        // refuse a finished result — which could deadlock: the missing item would wait to
        // be accepted by a buffer that waits for it.
        let permits = Arc::new(Semaphore::new(window.max(1)));
        // The input and the next sequence number, under one lock, so numbers follow the
        // order items leave the input.
        let intake = Arc::new(Mutex::new((input, 0_u64)));
        // Finished results, numbered; it never fills up, as at most `window` exist.
        let (done, mut finished) = mpsc::channel::<(u64, O, OwnedSemaphorePermit)>(window.max(1));

        for _ in 0..self.workers.max(1) {
            let (stage, permits, intake, done) = (
                self.clone(),
                Arc::clone(&permits),
                Arc::clone(&intake),
                done.clone(),
            );
            tasks.spawn(async move {
                loop {
                    let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                        return Ok(()); // never closed, but nothing to do if it were
                    };
                    let next = {
                        let mut intake = intake.lock().await;
                        let (input, next_seq) = &mut *intake;
                        input.recv().await.map(|item| {
                            *next_seq += 1;
                            (*next_seq - 1, item)
                        })
                    };
                    let Some((seq, item)) = next else {
                        return Ok(()); // the input is closed and drained
                    };
                    let result = stage.call(item).await?;
                    if done.send((seq, result, permit)).await.is_err() {
                        return Ok(());
                    }
                }
            });
        }
        drop(done); // only the workers' clones: `finished` ends when the last worker does

        // The fan-in: a reorder buffer keyed by sequence number that sends the next
        // expected item as soon as it is there.
        tasks.spawn(async move {
            let mut waiting: BTreeMap<u64, (O, OwnedSemaphorePermit)> = BTreeMap::new();
            let mut next = 0_u64;
            while let Some((seq, result, permit)) = finished.recv().await {
                waiting.insert(seq, (result, permit));
                while let Some((result, permit)) = waiting.remove(&next) {
                    if output.send(result).await.is_err() {
                        return Ok(()); // nobody reads the output any more
                    }
                    // Only now, with the item out, may one more item come in.
                    drop(permit);
                    next += 1;
                }
            }
            // Every worker has ended. Anything still waiting sits behind a gap left by a
            // failed item, whose error the pipeline reports.
            Ok(())
        });
        results
        //@ skeleton
        // let _ = (input, window, tasks);
        // todo!("exercise 14.3: Stage::spawn_ordered")
        //@ end
    }
}
