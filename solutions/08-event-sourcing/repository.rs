//! Exercises 08.3 and 08.4: commands end to end, snapshots, and the state as of a version.
//!
//! A [`Repository`] puts the aggregate (08.1) and the store (08.2) together. Executing a
//! command is always the same four steps:
//!
//! ```text
//! load (snapshot + the events after it) ──▶ handle ──▶ append at the loaded version ──▶ snapshot?
//! ```
//!
//! The append is where concurrency is settled: the events were decided on the state at
//! the version `load` returned, so they are appended only if the stream is still there.

use std::fmt;
use std::path::Path;

use crate::Env;
use crate::Version;
use crate::codec::{self, CodecError};
use crate::order::{Command, Order, OrderError};
use crate::store::{AppendError, EventStore};

/// Why a repository call failed.
#[derive(Debug)]
pub enum RepoError {
    /// `handle` refused the command; nothing was appended.
    Rejected(OrderError),
    /// Another writer appended to the order after it was loaded; nothing was appended.
    Conflict {
        expected: Version,
        actual: Version,
    },
    /// `state_at` was asked for a version the order has not reached.
    NoSuchVersion {
        requested: Version,
        current: Version,
    },
    Store(rusqlite::Error),
    Codec(CodecError),
}

impl fmt::Display for RepoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RepoError::Rejected(e) => write!(f, "rejected: {e}"),
            RepoError::Conflict { expected, actual } => write!(
                f,
                "conflict: decided at version {expected}, but the order is at {actual}"
            ),
            RepoError::NoSuchVersion { requested, current } => write!(
                f,
                "no version {requested}: the order is at version {current}"
            ),
            RepoError::Store(e) => write!(f, "the store failed: {e}"),
            RepoError::Codec(e) => write!(f, "unreadable: {e}"),
        }
    }
}

impl std::error::Error for RepoError {}

impl From<AppendError> for RepoError {
    fn from(e: AppendError) -> RepoError {
        match e {
            AppendError::Conflict { expected, actual } => RepoError::Conflict { expected, actual },
            AppendError::Store(e) => RepoError::Store(e),
        }
    }
}

impl From<rusqlite::Error> for RepoError {
    fn from(e: rusqlite::Error) -> RepoError {
        RepoError::Store(e)
    }
}

impl From<CodecError> for RepoError {
    fn from(e: CodecError) -> RepoError {
        RepoError::Codec(e)
    }
}

/// Orders, each kept as a stream of events (the stream is named by the order's id) in an
/// [`EventStore`], with a snapshot of its state every `snapshot_every` events.
pub struct Repository {
    store: EventStore,
    snapshot_every: Version,
}

impl Repository {
    /// A repository over `store` that snapshots an order every `snapshot_every` events.
    ///
    /// # Panics
    ///
    /// If `snapshot_every` is 0.
    pub fn new(store: EventStore, snapshot_every: Version) -> Repository {
        assert!(snapshot_every >= 1, "snapshot_every must be at least 1");
        Repository {
            store,
            snapshot_every,
        }
    }

    /// A repository on its own connection to the file at `path`.
    pub fn open(path: &Path, snapshot_every: Version) -> rusqlite::Result<Repository> {
        Ok(Repository::new(EventStore::open(path)?, snapshot_every))
    }

    pub fn store(&self) -> &EventStore {
        &self.store
    }

    pub fn store_mut(&mut self) -> &mut EventStore {
        &mut self.store
    }

    pub fn snapshot_every(&self) -> Version {
        self.snapshot_every
    }

    /// The order `id` as it is now, and its version: its latest snapshot, if it has one,
    /// with the events after the snapshot applied — never an event the snapshot already
    /// holds, never skipping one. An order with no events is `Order::default()` at 0.
    pub fn load(&self, id: &str) -> Result<(Order, Version), RepoError> {
        //@ solution
        self.rebuild(id, None)
        //@ skeleton
        // let _ = id;
        // todo!("exercise 08.3: Repository::load")
        //@ end
    }

    /// Carry out `command` on order `id`: load it, decide with `handle`, append the events
    /// at the version it was loaded at, and return the order's new version.
    ///
    /// - `handle` refuses: `Err(RepoError::Rejected(_))`, nothing appended.
    /// - Another writer appended after the load: `Err(RepoError::Conflict { .. })`, nothing
    ///   appended — the decision was made on a state that is gone.
    /// - The append takes the order from version `v` past a multiple of `snapshot_every`
    ///   (to `w` with `w / snapshot_every > v / snapshot_every`): save a snapshot of the
    ///   state at `w`, labelled `w`.
    pub fn execute(
        &mut self,
        id: &str,
        command: &Command,
        env: &dyn Env,
    ) -> Result<Version, RepoError> {
        //@ solution
        let (mut order, loaded) = self.load(id)?;
        let events = order.handle(command, env).map_err(RepoError::Rejected)?;
        // The expected version is the one the decision was made at — not the stream's
        // version read again now, which would let an append decided on an old state
        // through.
        let version = self.store.append(id, loaded, &codec::encode_all(&events))?;
        if version / self.snapshot_every > loaded / self.snapshot_every {
            // The state at `version` is the loaded one plus exactly the events just
            // appended. The snapshot is written after the append's commit, in a
            // transaction of its own: a crash in between loses a snapshot, never an
            // event, and a missing snapshot only makes the next load replay more.
            for event in &events {
                order.apply(event);
            }
            self.store
                .save_snapshot(id, version, &codec::order_to_json(&order))?;
        }
        Ok(version)
        //@ skeleton
        // let _ = (id, command, env, codec::encode_all);
        // todo!("exercise 08.3: Repository::execute")
        //@ end
    }

    /// The order `id` as it was at `version`: the events 1..=`version` applied, and no
    /// event after them. Uses the latest snapshot *at or before* `version`, if any.
    ///
    /// `version` 0 is `Order::default()`; a version past the order's current one is
    /// `Err(RepoError::NoSuchVersion { requested, current })`.
    pub fn state_at(&self, id: &str, version: Version) -> Result<Order, RepoError> {
        //@ solution
        let current = self.store.version(id)?;
        if version > current {
            return Err(RepoError::NoSuchVersion {
                requested: version,
                current,
            });
        }
        Ok(self.rebuild(id, Some(version))?.0)
        //@ skeleton
        // let _ = (id, version);
        // todo!("exercise 08.4: Repository::state_at")
        //@ end
    }
    //@ solution

    /// The order up to `up_to` (all of it with `None`) and the version it is at: the
    /// latest snapshot not past `up_to`, then the events after the snapshot.
    fn rebuild(&self, id: &str, up_to: Option<Version>) -> Result<(Order, Version), RepoError> {
        // A snapshot newer than `up_to` holds events past it: `at_most` rules it out.
        let (mut order, mut version) = match self.store.latest_snapshot(id, up_to)? {
            Some((at, state)) => (codec::order_from_json(&state)?, at),
            None => (Order::default(), 0),
        };
        // `read` starts *after* `version`: the snapshot at `version` already holds the
        // event numbered `version`.
        for record in self.store.read(id, version, up_to)? {
            order.apply(&codec::decode(&record)?);
            version = record.version;
        }
        Ok((order, version))
    }
    //@ end
}
