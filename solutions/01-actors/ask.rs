//! Exercise 01.2: request and reply.
//!
//! `tell` is fire-and-forget. To get an answer, the request carries a reply channel: a
//! `tokio::sync::oneshot::Sender`, which the actor uses once to send the answer back.

use tokio::sync::oneshot;

use crate::actor::{Actor, Addr, Gone};

/// The half of a oneshot channel on which an actor sends its reply.
pub type Reply<R> = oneshot::Sender<R>;

impl<M: Send + 'static> Addr<M> {
    /// Send a request and wait for its reply.
    //@ solution
    //@ skeleton
    // ///
    // /// `make` builds the message around the reply channel, for example
    // /// `addr.ask(CounterMsg::Get)`. Returns `Err(Gone)` if the actor has stopped, or
    // /// if it dropped the reply channel without answering.
    //@ end
    pub async fn ask<R>(&self, make: impl FnOnce(Reply<R>) -> M) -> Result<R, Gone> {
        //@ solution
        // A fresh oneshot per request: the reply cannot be confused with another caller's.
        let (reply, answer) = oneshot::channel();
        self.tell(make(reply)).await?;
        // The receiver fails if the sender was dropped without a value: the actor stopped
        // (or panicked) with our request in its mailbox, or chose not to answer. Either
        // way the answer is not coming, and waiting on would hang forever.
        answer.await.map_err(|_| Gone)
        //@ skeleton
        // let _ = make;
        // todo!("exercise 01.2: Addr::ask")
        //@ end
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

    //@ solution
    //@ skeleton
    // /// `Add(n)` adds `n`; `Get(reply)` sends the total on `reply`.
    // ///
    // /// A caller may stop waiting before the reply comes (it timed out, or its task was
    // /// cancelled). Sending the reply then fails; that must not crash the counter.
    //@ end
    async fn handle(&mut self, msg: CounterMsg) {
        //@ solution
        match msg {
            CounterMsg::Add(n) => self.total += n,
            CounterMsg::Get(reply) => {
                // `send` fails if the caller has stopped waiting (its `ask` future was
                // dropped by a timeout or a `select!`). That is the caller's business:
                // `.unwrap()` here would let any impatient caller crash the counter.
                let _ = reply.send(self.total);
            }
        }
        //@ skeleton
        // let _ = (msg, self.total);
        // todo!("exercise 01.2: Counter::handle")
        //@ end
    }
}
