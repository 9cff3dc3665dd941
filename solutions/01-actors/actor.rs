//! Exercise 01.1: an actor, its mailbox, and a handle to it — reference solution.

use std::fmt;
use std::future::Future;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// An actor: private state, and a handler that runs for one message at a time.
pub trait Actor: Send + 'static {
    /// The messages this actor understands.
    type Msg: Send + 'static;

    /// Handle one message. It takes `&mut self`: while it runs, nothing else can see or
    /// change the actor's state, so the state needs no lock.
    fn handle(&mut self, msg: Self::Msg) -> impl Future<Output = ()> + Send;
}

/// The actor is gone: its mailbox is closed, or it dropped a request without replying.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gone;

impl fmt::Display for Gone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the actor is gone")
    }
}

impl std::error::Error for Gone {}

/// A cloneable handle to an actor's mailbox.
///
/// Only the *sending* half: the receiving half belongs to the actor's task alone, which is
/// what makes the actor the only code that ever touches its state.
pub struct Addr<M> {
    tx: mpsc::Sender<M>,
}

// Written by hand: `#[derive(Clone)]` would require `M: Clone`, but cloning a handle never
// clones a message.
impl<M> Clone for Addr<M> {
    fn clone(&self) -> Self {
        Addr {
            tx: self.tx.clone(),
        }
    }
}

impl<M> fmt::Debug for Addr<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Addr")
            .field("closed", &self.tx.is_closed())
            .finish()
    }
}

impl<M: Send + 'static> Addr<M> {
    /// A handle around the sending half of a mailbox.
    pub fn new(tx: mpsc::Sender<M>) -> Self {
        Addr { tx }
    }

    /// Put `msg` in the actor's mailbox, waiting while the mailbox is full.
    pub async fn tell(&self, msg: M) -> Result<(), Gone> {
        // `send` waits for a free slot: that wait is the backpressure a bounded mailbox
        // exists for. It fails only when the receiver is gone, and then hands the message
        // back inside `SendError`; the caller only needs to know the actor is gone.
        self.tx.send(msg).await.map_err(|_| Gone)
    }
}

/// Start `actor` on a tokio task with a mailbox that holds at most `capacity` messages.
pub fn spawn<A: Actor>(mut actor: A, capacity: usize) -> (Addr<A::Msg>, JoinHandle<A>) {
    // Bounded, always. An unbounded mailbox turns a slow actor into a memory leak: the
    // senders never feel that it is behind.
    let (tx, mut rx) = mpsc::channel(capacity);
    let task = tokio::spawn(async move {
        // `recv` returns `None` once every `Sender` is dropped and the buffer is empty.
        // That is the only way this loop ends — so the actor must never hold an `Addr`
        // to itself, or it would wait for its own handle to go away.
        while let Some(msg) = rx.recv().await {
            // One message at a time: the next `recv` happens only after `handle` is done.
            actor.handle(msg).await;
        }
        actor
    });
    (Addr::new(tx), task)
}
