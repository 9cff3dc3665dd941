//! Exercise 01.1: an actor, its mailbox, and a handle to it.
//!
//! An actor is a task that owns some state and a mailbox. Nobody else can touch the
//! state: the only way in is a message, and the actor handles one message at a time. The
//! handle, [`Addr`], is the sending half of the mailbox; clone it as often as you like.

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
//@ solution
///
/// Only the *sending* half: the receiving half belongs to the actor's task alone, which is
/// what makes the actor the only code that ever touches its state.
//@ end
pub struct Addr<M> {
    tx: mpsc::Sender<M>,
}

//@ solution
// Written by hand: `#[derive(Clone)]` would require `M: Clone`, but cloning a handle never
// clones a message.
//@ end
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
    //@ solution
    //@ skeleton
    // ///
    // /// Returns `Err(Gone)` if the actor has stopped (the receiving half is gone).
    //@ end
    pub async fn tell(&self, msg: M) -> Result<(), Gone> {
        //@ solution
        // `send` waits for a free slot: that wait is the backpressure a bounded mailbox
        // exists for. It fails only when the receiver is gone, and then hands the message
        // back inside `SendError`; the caller only needs to know the actor is gone.
        self.tx.send(msg).await.map_err(|_| Gone)
        //@ skeleton
        // let _ = msg;
        // todo!("exercise 01.1: Addr::tell")
        //@ end
    }
}

/// Start `actor` on a tokio task with a mailbox that holds at most `capacity` messages.
///
/// - The task handles messages one at a time, in the order they arrived.
/// - The task ends when every `Addr` of this mailbox has been dropped, and returns the
///   actor, so that whoever awaits the `JoinHandle` can look at its final state.
/// - The mailbox is bounded: a `tell` into a full mailbox waits.
pub fn spawn<A: Actor>(actor: A, capacity: usize) -> (Addr<A::Msg>, JoinHandle<A>) {
    //@ solution
    let mut actor = actor;
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
    //@ skeleton
    // let _ = (actor, capacity);
    // todo!("exercise 01.1: spawn")
    //@ end
}
