//! Exercise 14.1: a stage — N workers between two bounded channels.

use std::future::Future;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;
//@ solution
use tokio::sync::Mutex;
//@ end
use tokio::sync::mpsc;

use crate::{StageError, Tasks};

/// The function a stage applies to each item, boxed so that stages of different
/// functions have the same type.
type StageFn<I, O> = Arc<dyn Fn(I) -> BoxFuture<'static, Result<O, String>> + Send + Sync>;

/// One typed step of a pipeline: `workers` tasks apply one async function to the items
/// of an input channel and send the results into an output channel of `buffer` items.
///
/// Go's `Stage[I, O]` passes a `Message[T]` with an `ID` through every function; here the
/// function sees only the value. Keeping order is the pipeline's business (exercise 14.3),
/// not each function's.
pub struct Stage<I, O> {
    /// Shown in errors and in the program's report.
    pub name: String,
    /// How many items this stage works on at once.
    pub workers: usize,
    /// How many finished items may wait in the output channel for the next stage.
    pub buffer: usize,
    f: StageFn<I, O>,
}

// Written by hand: `#[derive(Clone)]` would require `I: Clone` and `O: Clone`.
impl<I, O> Clone for Stage<I, O> {
    fn clone(&self) -> Self {
        Stage {
            name: self.name.clone(),
            workers: self.workers,
            buffer: self.buffer,
            f: Arc::clone(&self.f),
        }
    }
}

impl<I: Send + 'static, O: Send + 'static> Stage<I, O> {
    /// A stage named `name` that runs `f` on up to `workers` items at once and lets up to
    /// `buffer` results wait for the next stage. A `workers` or `buffer` of 0 counts as 1.
    pub fn new<F, Fut>(name: &str, workers: usize, buffer: usize, f: F) -> Stage<I, O>
    where
        F: Fn(I) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<O, String>> + Send + 'static,
    {
        Stage {
            name: name.to_string(),
            workers: workers.max(1),
            buffer: buffer.max(1),
            f: Arc::new(move |item| f(item).boxed()),
        }
    }

    /// Apply the stage's function to one item; an error carries the stage's name.
    pub fn call(&self, item: I) -> impl Future<Output = Result<O, StageError>> + Send + 'static {
        let (name, work) = (self.name.clone(), (self.f)(item));
        async move {
            work.await.map_err(|message| StageError {
                stage: name,
                message,
            })
        }
    }

    /// Start this stage: spawn `self.workers` tasks into `tasks` and return the receiving
    /// end of a new output channel that holds at most `self.buffer` items.
    ///
    /// Each worker takes the next item from `input`, applies the function ([`Stage::call`])
    /// and sends the result to the output; results leave in the order they finish, not in
    /// the input's order. So at most `workers + buffer` items are ever between being taken
    /// from `input` and being received from the output.
    ///
    /// When `input` is closed and empty, each worker ends with `Ok(())`, and once the last
    /// one has ended the output is closed too: the next stage sees the end. If the
    /// function fails, that worker ends with `Err` (the [`StageError`] from `call`); if
    /// nobody receives the output any more, the workers end with `Ok(())`.
    pub fn spawn(&self, input: mpsc::Receiver<I>, tasks: &mut Tasks) -> mpsc::Receiver<O> {
        //@ solution
        let (output, results) = mpsc::channel(self.buffer.max(1));
        // A tokio `Receiver` has one owner. The workers share it through an async mutex and
        // hold the lock only while they wait for the next item — never while they work on
        // it, or the stage would run one item at a time however many workers it has.
        let input = Arc::new(Mutex::new(input));
        for _ in 0..self.workers.max(1) {
            let (stage, input, output) = (self.clone(), Arc::clone(&input), output.clone());
            tasks.spawn(async move {
                loop {
                    // The guard is a temporary of this statement: it is gone before `call`.
                    let next = input.lock().await.recv().await;
                    let Some(item) = next else {
                        return Ok(()); // the input is closed and drained
                    };
                    let result = stage.call(item).await?;
                    // The send waits while the output is full: this wait is the stage's
                    // backpressure, and what bounds the items in flight.
                    if output.send(result).await.is_err() {
                        return Ok(()); // nobody reads the output any more
                    }
                }
            });
        }
        // `output` itself is dropped here. Only the workers' clones remain, so the output
        // closes when the last worker ends. Keep one more `Sender` alive anywhere (a field,
        // a clone handed to a task that never ends) and the next stage waits forever.
        results
        //@ skeleton
        // let _ = (input, tasks);
        // todo!("exercise 14.1: Stage::spawn")
        //@ end
    }
}
