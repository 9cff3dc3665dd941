//! Exercise 01.2: request and reply — reference solution.

use tokio::sync::oneshot;

use crate::actor::{Actor, Addr, Gone};

/// The half of a oneshot channel on which an actor sends its reply.
pub type Reply<R> = oneshot::Sender<R>;

impl<M: Send + 'static> Addr<M> {
    /// Send a request and wait for its reply.
    pub async fn ask<R>(&self, make: impl FnOnce(Reply<R>) -> M) -> Result<R, Gone> {
        // A fresh oneshot per request: the reply cannot be confused with another caller's.
        let (reply, answer) = oneshot::channel();
        self.tell(make(reply)).await?;
        // The receiver fails if the sender was dropped without a value: the actor stopped
        // (or panicked) with our request in its mailbox, or chose not to answer. Either
        // way the answer is not coming, and waiting on would hang forever.
        answer.await.map_err(|_| Gone)
    }
}

/// What a [`Counter`] understands.
#[derive(Debug)]
pub enum CounterMsg {
    /// Add to the total.
    Add(u64),
    /// Reply with the total.
    Get(Reply<u64>),
}

/// An actor that keeps a running total.
#[derive(Debug, Default)]
pub struct Counter {
    total: u64,
}

impl Actor for Counter {
    type Msg = CounterMsg;

    async fn handle(&mut self, msg: CounterMsg) {
        match msg {
            CounterMsg::Add(n) => self.total += n,
            CounterMsg::Get(reply) => {
                // `send` fails if the caller has stopped waiting (its `ask` future was
                // dropped by a timeout or a `select!`). That is the caller's business:
                // `.unwrap()` here would let any impatient caller crash the counter.
                let _ = reply.send(self.total);
            }
        }
    }
}
