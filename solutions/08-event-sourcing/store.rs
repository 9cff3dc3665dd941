//! Exercise 08.2: the event store — append at an expected version.
//!
//! One stream of events per order, in the `events` table of a SQLite file (see
//! [`crate::schema`]). The store knows nothing about orders: it keeps each event's kind,
//! schema version and JSON data, and numbers the events of a stream 1, 2, 3, … without
//! gaps.
//!
//! Every `EventStore` owns one connection. Two stores opened on the same file — in two
//! threads, or two processes — are two writers, and SQLite lets one write at a time.

use std::fmt;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use crate::Version;
use crate::schema;

//@ solution
//@ skeleton
// #[allow(unused_imports)] // you will need it in `append`
//@ end
use rusqlite::TransactionBehavior;

/// An event to append: what the store writes in the row, apart from its stream and
/// version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    /// The event's name, e.g. `"ItemAdded"`.
    pub kind: String,
    /// Which version of the event's shape `data` is written in (08.5).
    pub schema_version: u32,
    /// The event's fields, as JSON. The table refuses a row whose data is not valid JSON.
    pub data: String,
}

/// An event as stored: its stream and version, and what was appended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedEvent {
    pub stream: String,
    pub version: Version,
    pub kind: String,
    pub schema_version: u32,
    pub data: String,
}

/// Why an append wrote nothing.
#[derive(Debug)]
pub enum AppendError {
    /// The stream is not at the version the caller expected: someone else appended first.
    /// The caller decided on a state that is no longer the latest; nothing was written.
    Conflict { expected: Version, actual: Version },
    /// SQLite failed (a constraint, the disk, a lock held too long). Nothing was written.
    Store(rusqlite::Error),
}

impl fmt::Display for AppendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppendError::Conflict { expected, actual } => write!(
                f,
                "conflict: expected the stream at version {expected}, but it is at {actual}"
            ),
            AppendError::Store(e) => write!(f, "the store failed: {e}"),
        }
    }
}

impl std::error::Error for AppendError {}

impl From<rusqlite::Error> for AppendError {
    fn from(e: rusqlite::Error) -> AppendError {
        AppendError::Store(e)
    }
}

/// An event store in a SQLite file: one connection to it.
pub struct EventStore {
    conn: Connection,
}

impl EventStore {
    /// Open the store in the file at `path`, creating the file and its tables if needed.
    pub fn open(path: &Path) -> rusqlite::Result<EventStore> {
        Ok(EventStore {
            conn: schema::open(path)?,
        })
    }

    /// Append `events` to `stream` as versions `expected + 1`, `expected + 2`, …, if and
    /// only if the stream is at version `expected` — all of them or none — and return the
    /// stream's new version.
    ///
    /// - The stream is at another version: `Err(AppendError::Conflict { expected, actual })`,
    ///   nothing written.
    /// - Any insert fails: `Err(AppendError::Store(_))`, nothing written — not even the
    ///   events before the one that failed.
    /// - Another connection is writing: wait for it (the busy timeout), then decide on what
    ///   it wrote. Two appends at the same expected version: exactly one succeeds, the other
    ///   gets a `Conflict` with the winner's new version as `actual`.
    /// - `events` is empty: nothing to write; the version is still checked.
    ///
    /// When this returns `Ok`, the events are committed: a crash from then on loses none.
    pub fn append(
        &mut self,
        stream: &str,
        expected: Version,
        events: &[NewEvent],
    ) -> Result<Version, AppendError> {
        //@ solution
        // BEGIN IMMEDIATE takes the file's write lock *now*, before the version is read,
        // and holds it until the commit: between the check and the inserts no other writer
        // can slip in. (A plain BEGIN — DEFERRED — would read under a shared lock and ask
        // for the write lock only at the first insert: two appenders could both read the
        // same version, and the later one would fail with SQLITE_BUSY instead of a
        // conflict.) If another connection holds the lock, the busy timeout makes this
        // wait for it.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let actual = current_version(&tx, stream)?;
        if actual != expected {
            // Dropping `tx` rolls back; nothing was written anyway.
            return Err(AppendError::Conflict { expected, actual });
        }
        {
            let mut insert = tx.prepare(
                "INSERT INTO events (stream, version, kind, schema_version, data)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (version, event) in (expected + 1..).zip(events) {
                // A failed insert returns here, and dropping `tx` rolls back the inserts
                // before it: all or nothing.
                insert.execute(params![
                    stream,
                    sql(version),
                    event.kind,
                    event.schema_version,
                    event.data
                ])?;
            }
        }
        // Only a successful commit makes the events durable; a `Transaction` that is
        // dropped without one rolls back.
        tx.commit()?;
        Ok(expected + events.len() as Version)
        //@ skeleton
        // let _ = (stream, expected, events);
        // todo!("exercise 08.2: EventStore::append")
        //@ end
    }

    /// The stream's version: the number of its last event, 0 if it has none.
    pub fn version(&self, stream: &str) -> rusqlite::Result<Version> {
        current_version(&self.conn, stream)
    }

    /// The events of `stream` after version `after`, up to and including `up_to` (all of
    /// them with `None`), in order.
    pub fn read(
        &self,
        stream: &str,
        after: Version,
        up_to: Option<Version>,
    ) -> rusqlite::Result<Vec<RecordedEvent>> {
        // SQLite integers are signed: "no limit" is i64::MAX.
        let up_to = up_to.map_or(i64::MAX, sql);
        let mut query = self.conn.prepare(
            "SELECT version, kind, schema_version, data FROM events
             WHERE stream = ?1 AND version > ?2 AND version <= ?3
             ORDER BY version",
        )?;
        let rows = query.query_map(params![stream, sql(after), up_to], |row| {
            Ok(RecordedEvent {
                stream: stream.to_string(),
                version: row.get::<_, i64>(0)?.unsigned_abs(),
                kind: row.get(1)?,
                schema_version: row.get(2)?,
                data: row.get(3)?,
            })
        })?;
        rows.collect()
    }

    /// Every event of `stream`, in order.
    pub fn read_all(&self, stream: &str) -> rusqlite::Result<Vec<RecordedEvent>> {
        self.read(stream, 0, None)
    }

    /// Store `state` (JSON) as the state of `stream` at `version`, replacing any snapshot
    /// already stored for that version.
    pub fn save_snapshot(
        &self,
        stream: &str,
        version: Version,
        state: &str,
    ) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO snapshots (stream, version, state) VALUES (?1, ?2, ?3)",
            params![stream, sql(version), state],
        )?;
        Ok(())
    }

    /// The snapshot of `stream` with the highest version not above `at_most` (any version
    /// with `None`): its version and its state (JSON).
    pub fn latest_snapshot(
        &self,
        stream: &str,
        at_most: Option<Version>,
    ) -> rusqlite::Result<Option<(Version, String)>> {
        let at_most = at_most.map_or(i64::MAX, sql);
        self.conn
            .query_row(
                "SELECT version, state FROM snapshots
                 WHERE stream = ?1 AND version <= ?2
                 ORDER BY version DESC LIMIT 1",
                params![stream, at_most],
                |row| Ok((row.get::<_, i64>(0)?.unsigned_abs(), row.get(1)?)),
            )
            .optional()
    }

    /// The versions at which `stream` has a snapshot, in order.
    pub fn snapshot_versions(&self, stream: &str) -> rusqlite::Result<Vec<Version>> {
        let mut query = self
            .conn
            .prepare("SELECT version FROM snapshots WHERE stream = ?1 ORDER BY version")?;
        let rows = query.query_map([stream], |row| Ok(row.get::<_, i64>(0)?.unsigned_abs()))?;
        rows.collect()
    }
}

/// `stream`'s version as `conn` sees it. A `Transaction` derefs to its connection, so
/// `current_version(&tx, stream)` reads inside the transaction `tx`.
fn current_version(conn: &Connection, stream: &str) -> rusqlite::Result<Version> {
    conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = ?1",
        [stream],
        |row| Ok(row.get::<_, i64>(0)?.unsigned_abs()),
    )
}

/// A version as a SQLite integer, which is an `i64`: `params![stream, sql(version), …]`.
fn sql(version: Version) -> i64 {
    i64::try_from(version).expect("a version fits in SQLite's 64-bit signed integer")
}
