//! Exercises 01.4 and 01.5: an actor system — a registry, metrics, and a graceful stop.
//!
//! The system starts every actor under [`supervise`], remembers it by name so other
//! actors can find it, reports what each one has done, and at the end stops them all
//! without losing a message.

use std::any::Any;
use std::fmt;
use std::sync::{Arc, Mutex};

//@ solution
use tokio::sync::mpsc;
//@ end
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::actor::{Actor, Addr};
//@ solution
//@ skeleton
// #[allow(unused_imports)] // you will need `supervise` and `Stats` in `spawn`
//@ end
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
//@ solution
//@ skeleton
// #[allow(dead_code)] // the skeleton never reads these fields; your methods will
//@ end
struct Registry {
    /// In the order the actors were started.
    entries: Vec<Entry>,
    /// Set when `shutdown` begins; `spawn` refuses from then on.
    shutting_down: bool,
}

//@ solution
/// One registered actor.
//@ skeleton
// /// One registered actor. This is a suggestion: change the private fields if your design
// /// needs others.
// #[allow(dead_code)] // the skeleton never builds one; your `spawn` will
//@ end
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
        //@ solution
        // One critical section for the check and the insert: checking the name, releasing
        // the lock and locking again to insert would let two spawns of one name both pass.
        let mut registry = self.lock();
        if registry.shutting_down {
            return Err(SpawnError::ShuttingDown);
        }
        if registry.entries.iter().any(|e| e.name == name) {
            return Err(SpawnError::NameTaken(name.to_string()));
        }

        let (tx, rx) = mpsc::channel(capacity);
        let addr = Addr::new(tx);
        let stats = Arc::new(Stats::default());
        let stop = CancellationToken::new();
        // `tokio::spawn` does not run the task yet, it only schedules it; spawning while
        // holding the (synchronous, short) registry lock is therefore fine.
        let task = tokio::spawn({
            let stats = Arc::clone(&stats);
            let stop = stop.clone();
            async move {
                let exit = supervise(factory, rx, policy, stop, Arc::clone(&stats)).await;
                // Recorded by the task itself, so the metrics see the end of an actor that
                // gave up even if nobody ever awaits this task.
                stats.record_exit(exit);
                exit
            }
        });
        registry.entries.push(Entry {
            name: name.to_string(),
            addr: Box::new(addr.clone()),
            stats,
            stop,
            task: Some(task),
        });
        Ok(addr)
        //@ skeleton
        // let _ = (name, capacity, policy, factory, &self.registry);
        // todo!("exercise 01.4: System::spawn")
        //@ end
    }

    /// The address of the actor called `name`, if there is one and its messages are `M`.
    pub fn lookup<M: Send + 'static>(&self, name: &str) -> Option<Addr<M>> {
        //@ solution
        self.lock()
            .entries
            .iter()
            .find(|e| e.name == name)
            // A name with the wrong message type is as good as no name: the caller could
            // not send it anything.
            .and_then(|e| e.addr.downcast_ref::<Addr<M>>())
            .cloned()
        //@ skeleton
        // let _ = name;
        // todo!("exercise 01.4: System::lookup")
        //@ end
    }

    /// Every actor's metrics, in start order.
    pub fn metrics(&self) -> Metrics {
        //@ solution
        let registry = self.lock();
        Metrics {
            actors: registry
                .entries
                .iter()
                .map(|e| ActorMetrics {
                    name: e.name.clone(),
                    status: match e.stats.exit() {
                        None => Status::Running,
                        Some(Exit::Stopped) => Status::Stopped,
                        Some(Exit::GaveUp) => Status::GaveUp,
                    },
                    handled: e.stats.handled(),
                    panics: e.stats.panics(),
                    restarts: e.stats.restarts(),
                })
                .collect(),
        }
        //@ skeleton
        // todo!("exercise 01.4: System::metrics")
        //@ end
    }

    /// Stop every actor without losing a message, and return the final metrics.
    //@ solution
    //@ skeleton
    // ///
    // /// - From now on `spawn` refuses with [`SpawnError::ShuttingDown`]: mark the system
    // ///   before you stop the first actor. That includes a child an actor tries to start
    // ///   while it drains its mailbox during this shutdown, which would otherwise still be
    // ///   running after `shutdown` returns.
    // /// - Stop the actors one at a time, in the **reverse** of the order they were
    // ///   started: cancel one's stop token, wait until its task has drained its mailbox
    // ///   and ended, then go on to the next.
    // /// - Do not hold the registry lock while you wait: an actor that is draining may
    // ///   call `lookup` or `metrics`.
    //@ end
    pub async fn shutdown(&self) -> Metrics {
        //@ solution
        // Take what we need to wait on out of the registry, then let go of the lock. An
        // actor that is draining may call `lookup` or `metrics`; if we held the lock
        // across the `.await` below, it would block on it forever (and on a
        // current-thread runtime, block us too).
        let stopping: Vec<(CancellationToken, Option<JoinHandle<Exit>>)> = {
            let mut registry = self.lock();
            // Refuse new actors before stopping any, in the same critical section that
            // takes the list: an actor draining its mailbox may try to start a child, and
            // a child started now would not be on the list, so nobody would stop it.
            registry.shutting_down = true;
            registry
                .entries
                .iter_mut()
                .map(|e| (e.stop.clone(), e.task.take()))
                .collect()
        };

        // Reverse start order, one at a time, as an Erlang supervisor stops its children.
        // Actors are usually started sinks first (a producer needs its consumer's
        // address), so the reverse stops producers first: by the time a consumer is told
        // to stop, everything its producers will ever send is already in its mailbox.
        for (stop, task) in stopping.into_iter().rev() {
            stop.cancel();
            if let Some(task) = task {
                // The task records its own exit in its stats; a panic that escaped
                // `supervise` itself would show here, and is a bug worth surfacing.
                if let Err(e) = task.await
                    && e.is_panic()
                {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
        }
        self.metrics()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Registry> {
        // Nothing panics while holding this lock (no user code runs under it), but if it
        // ever did, the registry is still consistent: recover instead of spreading the
        // panic to every caller.
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
        //@ skeleton
        // todo!("exercise 01.5: System::shutdown")
        //@ end
    }
}
