//! Exercises 01.4 and 01.5: an actor system — a registry, metrics, and a graceful stop.
//!
//! The system starts every actor under [`supervise`], remembers it by name so other
//! actors can find it, reports what each one has done, and at the end stops them all
//! without losing a message.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, Mutex};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::actor::{Actor, Addr};
#[allow(unused_imports)] // you will need `supervise` and `Stats` in `spawn`
use crate::supervisor::{Exit, RestartPolicy, Stats, supervise};

/// Why [`System::spawn`] refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpawnError {
    /// An actor with this name is already registered.
    NameTaken(String),
    /// [`System::shutdown`] has begun.
    ShuttingDown,
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::NameTaken(name) => write!(f, "an actor named {name:?} already exists"),
            SpawnError::ShuttingDown => f.write_str("the system is shutting down"),
        }
    }
}

impl std::error::Error for SpawnError {}

/// Whether an actor is still running, and if not, how it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Running,
    Stopped,
    GaveUp,
}

/// What one actor has done so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActorMetrics {
    pub name: String,
    pub status: Status,
    pub handled: u64,
    pub panics: u64,
    pub restarts: u64,
}

/// Every actor's metrics, in the order the actors were started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    pub actors: Vec<ActorMetrics>,
}

impl Metrics {
    /// The metrics of the actor called `name`.
    pub fn get(&self, name: &str) -> Option<&ActorMetrics> {
        self.actors.iter().find(|a| a.name == name)
    }

    /// How many actors are running.
    pub fn running(&self) -> usize {
        self.actors
            .iter()
            .filter(|a| a.status == Status::Running)
            .count()
    }

    /// Messages handled by all actors together.
    pub fn handled(&self) -> u64 {
        self.actors.iter().map(|a| a.handled).sum()
    }

    /// Panics of all actors together.
    pub fn panics(&self) -> u64 {
        self.actors.iter().map(|a| a.panics).sum()
    }

    /// Restarts of all actors together.
    pub fn restarts(&self) -> u64 {
        self.actors.iter().map(|a| a.restarts).sum()
    }
}

impl fmt::Display for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "  {:<12} {:<8} {:>7} {:>6} {:>8}",
            "actor", "status", "handled", "panics", "restarts"
        )?;
        for a in &self.actors {
            let status = match a.status {
                Status::Running => "running",
                Status::Stopped => "stopped",
                Status::GaveUp => "gave up",
            };
            writeln!(
                f,
                "  {:<12} {:<8} {:>7} {:>6} {:>8}",
                a.name, status, a.handled, a.panics, a.restarts
            )?;
        }
        write!(
            f,
            "  {} actors ({} running), {} messages handled, {} panics, {} restarts",
            self.actors.len(),
            self.running(),
            self.handled(),
            self.panics(),
            self.restarts()
        )
    }
}

/// An actor system: named, supervised actors, their metrics, and a graceful stop.
///
/// `System` is a cheap handle (an `Arc`): clone it into actors that need to look up
/// others or start children.
#[derive(Clone, Default)]
pub struct System {
    registry: Arc<Mutex<Registry>>,
}

/// Everything the system knows. Behind a `std::sync::Mutex`: every critical section is
/// short and never contains an `.await`.
#[derive(Default)]
#[allow(dead_code)] // the skeleton never reads these fields; your methods will
struct Registry {
    /// In the order the actors were started.
    entries: Vec<Entry>,
    /// Set when `shutdown` begins; `spawn` refuses from then on.
    shutting_down: bool,
}

/// One registered actor. This is a suggestion: change the private fields if your design
/// needs others.
#[allow(dead_code)] // the skeleton never builds one; your `spawn` will
struct Entry {
    name: String,
    /// The actor's `Addr<M>`, with `M` erased so that one registry can hold actors of
    /// every message type. `lookup` gets it back with `downcast_ref::<Addr<M>>()`.
    addr: Box<dyn Any + Send + Sync>,
    stats: Arc<Stats>,
    stop: CancellationToken,
    /// The supervised task; `None` once `shutdown` has taken it to wait for it.
    task: Option<JoinHandle<Exit>>,
}

impl System {
    /// An empty system.
    pub fn new() -> System {
        System::default()
    }

    /// Start a supervised actor called `name`, with a mailbox of `capacity` messages,
    /// made (and remade after a panic) by `factory`. Returns its address.
    ///
    /// - Refuse a name that is taken, and refuse everything once shutdown has begun.
    /// - Run [`supervise`] on a tokio task of its own, with a fresh `CancellationToken`
    ///   and `Stats`; when it returns, record its `Exit` in the stats (`record_exit`).
    /// - Remember the actor, in start order, so that `lookup`, `metrics` and `shutdown`
    ///   can find it.
    ///
    /// May be called from inside an actor's handler: an actor can start children.
    pub fn spawn<A, F>(
        &self,
        name: &str,
        capacity: usize,
        policy: RestartPolicy,
        factory: F,
    ) -> Result<Addr<A::Msg>, SpawnError>
    where
        A: Actor,
        F: FnMut() -> A + Send + 'static,
    {
        let _ = (name, capacity, policy, factory, &self.registry);
        todo!("exercise 01.4: System::spawn")
    }

    /// The address of the actor called `name`, if there is one and its messages are `M`.
    pub fn lookup<M: Send + 'static>(&self, name: &str) -> Option<Addr<M>> {
        let _ = name;
        todo!("exercise 01.4: System::lookup")
    }

    /// Every actor's metrics, in start order.
    pub fn metrics(&self) -> Metrics {
        todo!("exercise 01.4: System::metrics")
    }

    /// Stop every actor without losing a message, and return the final metrics.
    ///
    /// - From now on `spawn` refuses with [`SpawnError::ShuttingDown`]: mark the system
    ///   before you stop the first actor. That includes a child an actor tries to start
    ///   while it drains its mailbox during this shutdown, which would otherwise still be
    ///   running after `shutdown` returns.
    /// - Stop the actors one at a time, in the **reverse** of the order they were
    ///   started: cancel one's stop token, wait until its task has drained its mailbox
    ///   and ended, then go on to the next.
    /// - Do not hold the registry lock while you wait: an actor that is draining may
    ///   call `lookup` or `metrics`.
    pub async fn shutdown(&self) -> Metrics {
        todo!("exercise 01.5: System::shutdown")
    }
}
