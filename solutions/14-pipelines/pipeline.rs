//! Exercises 14.2 and 14.4: stages composed into a pipeline; the first error stops it all.

use tokio::sync::mpsc;

use crate::{Stage, StageError, Tasks};

/// How a pipeline starts its stages: given its input channel, spawn every stage's workers
/// into the tasks and return the last stage's output.
type Wiring<I, O> = Box<dyn FnOnce(mpsc::Receiver<I>, &mut Tasks) -> mpsc::Receiver<O> + Send>;

/// Stages composed in order: items of type `I` go in, items of type `O` come out.
///
/// Nothing runs until [`Pipeline::start`]: `then` only records how the stages connect, and
/// the compiler checks that each stage takes what the previous one gives.
pub struct Pipeline<I, O> {
    wiring: Wiring<I, O>,
}

/// A started pipeline: its last stage's output and every task of every stage.
pub struct Running<O> {
    /// The last stage's output. It ends (`recv` returns `None`) once the input has been
    /// closed and every stage has drained.
    pub output: mpsc::Receiver<O>,
    /// Every worker of every stage. Dropping `Running` aborts them all.
    pub tasks: Tasks,
}

impl<I: Send + 'static> Pipeline<I, I> {
    /// A pipeline with no stages: what goes in comes out.
    pub fn new() -> Pipeline<I, I> {
        Pipeline {
            wiring: Box::new(|input, _| input),
        }
    }
}

impl<I: Send + 'static> Default for Pipeline<I, I> {
    fn default() -> Self {
        Pipeline::new()
    }
}

impl<I: Send + 'static, O: Send + 'static> Pipeline<I, O> {
    /// This pipeline followed by `stage`: `stage` takes the pipeline's output as its
    /// input. Its results leave in the order they finish ([`Stage::spawn`]).
    pub fn then<P: Send + 'static>(self, stage: Stage<O, P>) -> Pipeline<I, P> {
        //@ solution
        let before = self.wiring;
        Pipeline {
            wiring: Box::new(move |input, tasks| {
                let middle = before(input, tasks);
                stage.spawn(middle, tasks)
            }),
        }
        //@ skeleton
        // let _ = (self.wiring, stage);
        // todo!("exercise 14.2: Pipeline::then")
        //@ end
    }

    /// This pipeline followed by `stage`, whose results leave in the order its items
    /// came in, with at most `window` items between its intake and its output
    /// ([`Stage::spawn_ordered`], exercise 14.3).
    pub fn then_ordered<P: Send + 'static>(
        self,
        stage: Stage<O, P>,
        window: usize,
    ) -> Pipeline<I, P> {
        let before = self.wiring;
        Pipeline {
            wiring: Box::new(move |input, tasks| {
                let middle = before(input, tasks);
                stage.spawn_ordered(middle, window, tasks)
            }),
        }
    }

    /// Start every stage. Returns the sending end of the pipeline's input, a channel of
    /// `input_buffer` items (0 counts as 1), and the running pipeline.
    ///
    /// Dropping the returned `Sender` (and every clone of it) closes the input: each stage
    /// drains what it holds, and then the output ends. So the pipeline must keep no
    /// `Sender` of its own.
    pub fn start(self, input_buffer: usize) -> (mpsc::Sender<I>, Running<O>) {
        //@ solution
        let (input, first) = mpsc::channel(input_buffer.max(1));
        let mut tasks = Tasks::new();
        let output = (self.wiring)(first, &mut tasks);
        (input, Running { output, tasks })
        //@ skeleton
        // let _ = (self.wiring, input_buffer, Tasks::new());
        // todo!("exercise 14.2: Pipeline::start")
        //@ end
    }
}

impl<O: Send + 'static> Running<O> {
    /// Run the pipeline to its end and return every output item, in the order they came
    /// out — or the first error.
    ///
    /// Go's `errgroup` with the error kept: while collecting the output, watch the tasks.
    /// The first task that ends with `Err` ends the run: every other task of every stage
    /// is stopped, and the error is returned. No task of the pipeline may still be running
    /// when `finish` returns, with or without an error. A stage task that panicked counts
    /// as an error too.
    ///
    /// The error must end the run even while the input is still open: other workers of
    /// the failed stage go on taking items, so the output may never end by itself.
    pub async fn finish(mut self) -> Result<Vec<O>, StageError> {
        //@ solution
        let mut items = Vec::new();
        let mut output_open = true;
        loop {
            tokio::select! {
                // Tasks first: an error that is already known ends the run before more
                // output is taken.
                biased;
                Some(ended) = self.tasks.join_next() => {
                    let error = match ended {
                        Ok(Ok(())) => continue,
                        Ok(Err(error)) => error,
                        Err(join) => StageError {
                            stage: "(unknown)".to_string(),
                            message: format!("a stage task failed: {join}"),
                        },
                    };
                    // Abort every other task and wait until each has ended: `shutdown`
                    // returns only when none is left. (Dropping the set would abort them
                    // too, but they would end a moment later, after we had returned.)
                    self.tasks.shutdown().await;
                    return Err(error);
                }
                item = self.output.recv(), if output_open => match item {
                    Some(item) => items.push(item),
                    None => output_open = false,
                },
                // Every task has ended and the output is closed: a clean end.
                else => return Ok(items),
            }
        }
        //@ skeleton
        // let _ = (&mut self.output, &mut self.tasks);
        // todo!("exercise 14.4: Running::finish")
        //@ end
    }
}
