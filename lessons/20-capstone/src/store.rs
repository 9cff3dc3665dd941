//! The event store: an append-only log in a SQLite file. Finished code (chapter 8's
//! design), not an exercise.
//!
//! ```text
//! events  position  INTEGER PRIMARY KEY AUTOINCREMENT   1, 2, 3, … in commit order
//!         key, seq  UNIQUE (key, seq)                    each stream's events 1, 2, 3, …
//!         id        UNIQUE                               the client's id for the event
//!         ts_ms, value                                   event time and measurement
//! ```
//!
//! - **Append at an expected version** (optimistic concurrency): a stream's events are
//!   numbered without gaps, and a writer says which version it built on. Two writers of
//!   one stream cannot both win; the stream actor (20.1) is the one writer of its key.
//! - **Idempotent by event id**: an event whose id is already stored is skipped and
//!   counted as a duplicate, in the same transaction. A client that resends a batch it got
//!   no answer for (a crash, a timeout) stores nothing twice.
//! - **One batch, one transaction**: all of its new events are committed, or none.
//! - **Positions in commit order**: one process writes, through one connection, so an
//!   event committed later always has a higher position. A reader that has seen up to
//!   position `p` and asks for `> p` misses nothing.
//!
//! Every call runs its SQLite work on tokio's blocking pool (`spawn_blocking`): a commit
//! waits for the disk, and an async worker thread must never wait for a disk.
//!
//! [`Faults`] are the tests' way to make the store misbehave on purpose: panic before or
//! after a commit, or hold a key's commits until released.

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use tokio::sync::watch;

use crate::IngestError;

/// An event to append, as the client sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    /// The client's id for the event: unique across the store.
    pub id: String,
    /// When it happened, in milliseconds (the event's own time, not the server's).
    pub ts_ms: i64,
    /// The measurement.
    pub value: i64,
}

/// A committed event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// Its place in the whole log: 1 for the first event ever committed.
    pub position: u64,
    /// Its stream.
    pub key: String,
    /// Its place in its stream: 1 for the stream's first event.
    pub seq: u64,
    pub id: String,
    pub ts_ms: i64,
    pub value: i64,
}

/// What an append did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    /// New events written.
    pub stored: u32,
    /// Events skipped because their id was already stored.
    pub duplicates: u32,
    /// The stream's version after the append: its number of events.
    pub version: u64,
    /// The log's last position after the append.
    pub head: u64,
}

/// How long a connection waits for the file's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(3);

const TABLES: &str = "
    CREATE TABLE IF NOT EXISTS events (
        position INTEGER PRIMARY KEY AUTOINCREMENT,
        key      TEXT    NOT NULL,
        seq      INTEGER NOT NULL CHECK (seq >= 1),
        id       TEXT    NOT NULL UNIQUE,
        ts_ms    INTEGER NOT NULL,
        value    INTEGER NOT NULL,
        UNIQUE (key, seq)
    );
";

/// The event log: one SQLite file, one writing connection, one reading connection.
pub struct EventLog {
    writer: Arc<Mutex<Connection>>,
    reader: Arc<Mutex<Connection>>,
    /// The last committed position; the projector waits on it.
    head: watch::Sender<u64>,
    faults: Arc<Faults>,
    /// How many times `read_after` was called (the tests check that an idle projector
    /// does not poll).
    reads: AtomicUsize,
}

fn open_connection(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    // In WAL mode, NORMAL loses nothing committed when the *process* dies (SIGKILL, a
    // panic that aborts): the log is in the kernel's page cache. Only a power cut can
    // take the last commits; FULL (chapter 8) survives that too, at one fsync per commit.
    conn.execute_batch("PRAGMA synchronous = NORMAL;")?;
    conn.execute_batch(TABLES)?;
    Ok(conn)
}

fn lock(conn: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    conn.lock().unwrap_or_else(|e| e.into_inner())
}

fn sql(n: u64) -> i64 {
    i64::try_from(n).expect("fits in SQLite's 64-bit integer")
}

fn store_error(e: impl std::fmt::Display) -> IngestError {
    IngestError::Store(e.to_string())
}

impl EventLog {
    /// Open (creating if needed) the log in the file at `path`.
    pub fn open(path: &Path) -> rusqlite::Result<EventLog> {
        EventLog::open_with_faults(path, Arc::new(Faults::default()))
    }

    /// Open the log, misbehaving as `faults` say (tests only).
    pub fn open_with_faults(path: &Path, faults: Arc<Faults>) -> rusqlite::Result<EventLog> {
        let writer = open_connection(path)?;
        let reader = open_connection(path)?;
        let head: i64 =
            writer.query_row("SELECT COALESCE(MAX(position), 0) FROM events", [], |r| {
                r.get(0)
            })?;
        Ok(EventLog {
            writer: Arc::new(Mutex::new(writer)),
            reader: Arc::new(Mutex::new(reader)),
            head: watch::Sender::new(head.unsigned_abs()),
            faults,
            reads: AtomicUsize::new(0),
        })
    }

    /// The faults this log was opened with.
    pub fn faults(&self) -> &Arc<Faults> {
        &self.faults
    }

    /// Append `events` to the stream `key` if it is at version `expected` (its number of
    /// events), skipping events whose id is already stored. All or nothing: when this
    /// returns `Ok`, the new events are committed; on `Err`, nothing was written.
    ///
    /// `Err(IngestError::Conflict { .. })` when the stream is at another version.
    pub async fn append(
        &self,
        key: &str,
        expected: u64,
        events: Vec<NewEvent>,
    ) -> Result<Appended, IngestError> {
        self.faults.before_commit(key, &events).await;
        let writer = Arc::clone(&self.writer);
        let owned_key = key.to_string();
        let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
        let appended = tokio::task::spawn_blocking(move || {
            append_blocking(&mut lock(&writer), &owned_key, expected, &events)
        })
        .await
        .map_err(store_error)??;
        self.head.send_if_modified(|head| {
            let moved = appended.head > *head;
            *head = (*head).max(appended.head);
            moved
        });
        self.faults.after_commit(&ids);
        Ok(appended)
    }

    /// The stream's version: its number of events, 0 for a stream never written.
    pub async fn version(&self, key: &str) -> Result<u64, IngestError> {
        let reader = Arc::clone(&self.reader);
        let key = key.to_string();
        tokio::task::spawn_blocking(move || {
            lock(&reader).query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM events WHERE key = ?1",
                [key],
                |r| Ok(r.get::<_, i64>(0)?.unsigned_abs()),
            )
        })
        .await
        .map_err(store_error)?
        .map_err(store_error)
    }

    /// Up to `max` committed events after position `after`, in position order.
    pub async fn read_after(&self, after: u64, max: usize) -> Result<Vec<Committed>, IngestError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        let reader = Arc::clone(&self.reader);
        tokio::task::spawn_blocking(move || read_after_blocking(&lock(&reader), after, max))
            .await
            .map_err(store_error)?
            .map_err(store_error)
    }

    /// Every committed event, in position order (for tests and the program's report).
    pub fn read_all_blocking(&self) -> rusqlite::Result<Vec<Committed>> {
        read_after_blocking(&lock(&self.reader), 0, usize::MAX)
    }

    /// How many times [`EventLog::read_after`] has been called.
    pub fn read_after_calls(&self) -> usize {
        self.reads.load(Ordering::SeqCst)
    }

    /// The last committed position (0 before the first event).
    pub fn head(&self) -> u64 {
        *self.head.borrow()
    }

    /// A receiver that sees [`EventLog::head`] move: `changed().await` returns after
    /// each commit that wrote something.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.head.subscribe()
    }
}

fn append_blocking(
    conn: &mut Connection,
    key: &str,
    expected: u64,
    events: &[NewEvent],
) -> Result<Appended, IngestError> {
    // IMMEDIATE: take the write lock before reading the version, so no other writer can
    // slip in between the check and the inserts (chapter 8).
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(store_error)?;
    let actual: u64 = tx
        .query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM events WHERE key = ?1",
            [key],
            |r| Ok(r.get::<_, i64>(0)?.unsigned_abs()),
        )
        .map_err(store_error)?;
    if actual != expected {
        return Err(IngestError::Conflict { expected, actual });
    }
    let mut version = actual;
    let mut duplicates = 0;
    let mut seen_here = HashSet::new();
    {
        let mut exists = tx
            .prepare("SELECT 1 FROM events WHERE id = ?1")
            .map_err(store_error)?;
        let mut insert = tx
            .prepare("INSERT INTO events (key, seq, id, ts_ms, value) VALUES (?1, ?2, ?3, ?4, ?5)")
            .map_err(store_error)?;
        for event in events {
            let stored: Option<i64> = exists
                .query_row([&event.id], |r| r.get(0))
                .optional()
                .map_err(store_error)?;
            if stored.is_some() || !seen_here.insert(event.id.as_str()) {
                duplicates += 1;
                continue;
            }
            version += 1;
            insert
                .execute(params![
                    key,
                    sql(version),
                    event.id,
                    event.ts_ms,
                    event.value
                ])
                .map_err(store_error)?;
        }
    }
    let head: i64 = tx
        .query_row("SELECT COALESCE(MAX(position), 0) FROM events", [], |r| {
            r.get(0)
        })
        .map_err(store_error)?;
    tx.commit().map_err(store_error)?;
    Ok(Appended {
        stored: u32::try_from(version - actual).unwrap_or(u32::MAX),
        duplicates,
        version,
        head: head.unsigned_abs(),
    })
}

fn read_after_blocking(
    conn: &Connection,
    after: u64,
    max: usize,
) -> rusqlite::Result<Vec<Committed>> {
    let mut query = conn.prepare(
        "SELECT position, key, seq, id, ts_ms, value FROM events
         WHERE position > ?1 ORDER BY position LIMIT ?2",
    )?;
    let max = i64::try_from(max).unwrap_or(i64::MAX);
    let rows = query.query_map(params![sql(after), max], |r| {
        Ok(Committed {
            position: r.get::<_, i64>(0)?.unsigned_abs(),
            key: r.get(1)?,
            seq: r.get::<_, i64>(2)?.unsigned_abs(),
            id: r.get(3)?,
            ts_ms: r.get(4)?,
            value: r.get(5)?,
        })
    })?;
    rows.collect()
}

/// Misbehaviour on purpose, for the tests: each fault is armed by the test and fires in
/// [`EventLog::append`].
#[derive(Default)]
pub struct Faults {
    /// Panic (once) before committing a batch that holds this event id.
    panic_before: Mutex<Option<String>>,
    /// Panic (once) after committing a batch that holds this event id.
    panic_after: Mutex<Option<String>>,
    /// Batches of this key wait before their commit until [`Faults::release`].
    hold_key: Mutex<Option<String>>,
    released: watch::Sender<bool>,
    /// How many batches reached the hold.
    arrived: watch::Sender<usize>,
    /// Every commit waits this long first (milliseconds; the SIGTERM test's slow store).
    slow_commit_ms: AtomicU64,
    /// Batches that reached the commit point, held or not.
    reached_commit: AtomicUsize,
}

impl Faults {
    /// No faults.
    pub fn none() -> Arc<Faults> {
        Arc::new(Faults::default())
    }

    /// Panic, once, before committing the batch that holds event `id`.
    pub fn panic_before_commit(&self, id: &str) {
        *self.panic_before.lock().unwrap_or_else(|e| e.into_inner()) = Some(id.to_string());
    }

    /// Panic, once, just after committing the batch that holds event `id`.
    pub fn panic_after_commit(&self, id: &str) {
        *self.panic_after.lock().unwrap_or_else(|e| e.into_inner()) = Some(id.to_string());
    }

    /// Hold every batch of `key` before its commit, until [`Faults::release`].
    pub fn hold(&self, key: &str) {
        *self.hold_key.lock().unwrap_or_else(|e| e.into_inner()) = Some(key.to_string());
        self.released.send_replace(false);
    }

    /// Let the held batches commit (and stop holding).
    pub fn release(&self) {
        self.released.send_replace(true);
    }

    /// Wait until `n` batches have reached the hold.
    pub async fn arrived(&self, n: usize) {
        let mut rx = self.arrived.subscribe();
        let _ = rx.wait_for(|&k| k >= n).await;
    }

    /// Make every commit wait `ms` milliseconds first.
    pub fn slow_commits(&self, ms: u64) {
        self.slow_commit_ms.store(ms, Ordering::Relaxed);
    }

    /// How many batches have reached the commit point.
    pub fn reached_commit(&self) -> usize {
        self.reached_commit.load(Ordering::SeqCst)
    }

    async fn before_commit(&self, key: &str, events: &[NewEvent]) {
        self.reached_commit.fetch_add(1, Ordering::SeqCst);
        let fire = take_if_holds(&self.panic_before, events.iter().map(|e| e.id.as_str()));
        if let Some(id) = fire {
            panic!("a fault the test planted: the store panics before committing event {id}");
        }
        let held = self
            .hold_key
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_deref()
            == Some(key);
        if held && !*self.released.borrow() {
            let mut released = self.released.subscribe();
            self.arrived.send_modify(|n| *n += 1);
            let _ = released.wait_for(|&r| r).await;
        }
        let slow = self.slow_commit_ms.load(Ordering::Relaxed);
        if slow > 0 {
            tokio::time::sleep(Duration::from_millis(slow)).await;
        }
    }

    fn after_commit(&self, ids: &[String]) {
        if let Some(id) = take_if_holds(&self.panic_after, ids.iter().map(String::as_str)) {
            panic!("a fault the test planted: the store panics after committing event {id}");
        }
    }
}

fn take_if_holds<'a>(
    slot: &Mutex<Option<String>>,
    mut ids: impl Iterator<Item = &'a str>,
) -> Option<String> {
    let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
    let armed = slot.as_deref()?;
    if ids.any(|id| id == armed) {
        slot.take()
    } else {
        None
    }
}
