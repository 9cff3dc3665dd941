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
pub struct Addr<M> {
    tx: mpsc::Sender<M>,
}

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
    ///
    /// Returns `Err(Gone)` if the actor has stopped (the receiving half is gone).
    pub async fn tell(&self, msg: M) -> Result<(), Gone> {
        let _ = msg;
        todo!("exercise 01.1: Addr::tell")
    }
}

/// Start `actor` on a tokio task with a mailbox that holds at most `capacity` messages.
///
/// - The task handles messages one at a time, in the order they arrived.
/// - The task ends when every `Addr` of this mailbox has been dropped, and returns the
///   actor, so that whoever awaits the `JoinHandle` can look at its final state.
/// - The mailbox is bounded: a `tell` into a full mailbox waits.
pub fn spawn<A: Actor>(actor: A, capacity: usize) -> (Addr<A::Msg>, JoinHandle<A>) {
    let _ = (actor, capacity);
    todo!("exercise 01.1: spawn")
}
