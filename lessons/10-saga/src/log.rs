//! The saga log: what the orchestrator has decided and learned, one entry at a time, in a
//! table of a SQLite file. Finished code, not an exercise.
//!
//! ```text
//! saga_log   saga, seq, kind, step, key, reason, attempts     one row per entry
//!            PRIMARY KEY (saga, seq): a saga's entries are numbered 1, 2, 3, … in order
//! ```
//!
//! Each [`SagaLog::append`] is one transaction, committed before it returns: once it
//! has returned, the entry survives a crash of the process. The file is opened like
//! lesson 08's event store — WAL journal, `synchronous=FULL`, a busy timeout — by
//! [`open_db`], which also creates the services' tables ([`crate::services`]).
//!
//! The log never holds a status. Where a saga stands is worked out from its entries by
//! [`crate::progress::read`] (10.2), so there is one source of truth and it cannot
//! disagree with itself.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, params};

use crate::Failure;
use crate::crash;

/// An error of the SQLite file (a full disk, a lock held too long, a broken file).
pub type LogError = rusqlite::Error;

/// One entry of a saga's log. `step` is the step's index in the saga (0 is the first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// The saga exists. Always its first entry.
    Begun,
    /// About to send step `step`'s action, with this idempotency key.
    Started { step: usize, key: String },
    /// Step `step`'s action succeeded.
    Done { step: usize },
    /// Step `step`'s action failed, after its retries.
    Failed { step: usize, failure: Failure },
    /// About to send the undo of step `step`, with the key its action was sent with.
    Undoing { step: usize, key: String },
    /// Step `step` is undone.
    Undone { step: usize },
    /// Step `step`'s undo failed, after its retries: it is left for someone to fix.
    Stuck { step: usize, failure: Failure },
}

impl fmt::Display for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Entry::Begun => write!(f, "begun"),
            Entry::Started { step, key } => write!(f, "started step {step} (key {key})"),
            Entry::Done { step } => write!(f, "done step {step}"),
            Entry::Failed { step, failure } => write!(f, "failed step {step}: {failure}"),
            Entry::Undoing { step, key } => write!(f, "undoing step {step} (key {key})"),
            Entry::Undone { step } => write!(f, "undone step {step}"),
            Entry::Stuck { step, failure } => write!(f, "stuck undoing step {step}: {failure}"),
        }
    }
}

/// How long a connection waits for another one's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(3);

const TABLES: &str = "
    CREATE TABLE IF NOT EXISTS saga_log (
        saga     TEXT    NOT NULL,
        seq      INTEGER NOT NULL CHECK (seq >= 1),
        kind     TEXT    NOT NULL,
        step     INTEGER,
        key      TEXT,
        reason   TEXT,
        attempts INTEGER,
        PRIMARY KEY (saga, seq)
    );
    CREATE TABLE IF NOT EXISTS ledger (
        service TEXT NOT NULL,
        key     TEXT NOT NULL,
        state   TEXT NOT NULL,
        PRIMARY KEY (service, key)
    );
    CREATE TABLE IF NOT EXISTS calls (
        seq     INTEGER PRIMARY KEY AUTOINCREMENT,
        service TEXT    NOT NULL,
        op      TEXT    NOT NULL,
        key     TEXT    NOT NULL,
        fresh   INTEGER NOT NULL,
        reply   TEXT    NOT NULL
    );
";

/// Open (creating if needed) the lesson's SQLite file, with every table in it.
pub fn open_db(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let _mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    conn.execute_batch("PRAGMA synchronous = FULL;")?;
    conn.execute_batch(TABLES)?;
    Ok(conn)
}

/// The saga log, on its own connection to the file.
pub struct SagaLog {
    conn: Connection,
}

impl SagaLog {
    /// Open the log in the file at `path`.
    pub fn open(path: &Path) -> Result<SagaLog, LogError> {
        Ok(SagaLog {
            conn: open_db(path)?,
        })
    }

    /// Append `entry` to `saga`'s log. When this returns `Ok`, the entry is committed.
    pub fn append(&self, saga: &str, entry: &Entry) -> Result<(), LogError> {
        let (kind, step, key, reason, attempts) = columns(entry);
        // One statement: the next number and the insert cannot be torn apart.
        self.conn.execute(
            "INSERT INTO saga_log (saga, seq, kind, step, key, reason, attempts)
             SELECT ?1, COALESCE(MAX(seq), 0) + 1, ?2, ?3, ?4, ?5, ?6
             FROM saga_log WHERE saga = ?1",
            params![saga, kind, step, key, reason, attempts],
        )?;
        crash::point(|| format!("the log entry `{entry}` of {saga}"));
        Ok(())
    }

    /// `saga`'s entries, oldest first. Empty if the saga was never begun.
    pub fn entries(&self, saga: &str) -> Result<Vec<Entry>, LogError> {
        let mut stmt = self.conn.prepare(
            "SELECT kind, step, key, reason, attempts FROM saga_log WHERE saga = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([saga], |row| {
            Ok(entry(
                row.get::<_, String>(0)?,
                row.get::<_, Option<i64>>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, Option<String>>(3)?,
                row.get::<_, Option<i64>>(4)?,
            ))
        })?;
        rows.collect()
    }

    /// Every saga in the log, in the order they were begun.
    pub fn sagas(&self) -> Result<Vec<String>, LogError> {
        let mut stmt = self
            .conn
            .prepare("SELECT saga FROM saga_log WHERE seq = 1 ORDER BY rowid")?;
        let rows = stmt.query_map([], |row| row.get(0))?;
        rows.collect()
    }
}

type Columns<'a> = (
    &'static str,
    Option<i64>,
    Option<&'a str>,
    Option<&'a str>,
    Option<i64>,
);

fn columns(entry: &Entry) -> Columns<'_> {
    let step = |s: &usize| Some(*s as i64);
    let failure = |f: &'static str, failure: &'_ Failure| match failure {
        Failure::Permanent(_) => (f, None),
        Failure::GaveUp { attempts, .. } => (f, Some(i64::from(*attempts))),
    };
    match entry {
        Entry::Begun => ("begun", None, None, None, None),
        Entry::Started { step: s, key } => ("started", step(s), Some(key), None, None),
        Entry::Done { step: s } => ("done", step(s), None, None, None),
        Entry::Failed {
            step: s,
            failure: fl,
        } => {
            let (kind, attempts) = failure("failed", fl);
            (kind, step(s), None, Some(why(fl)), attempts)
        }
        Entry::Undoing { step: s, key } => ("undoing", step(s), Some(key), None, None),
        Entry::Undone { step: s } => ("undone", step(s), None, None, None),
        Entry::Stuck {
            step: s,
            failure: fl,
        } => {
            let (kind, attempts) = failure("stuck", fl);
            (kind, step(s), None, Some(why(fl)), attempts)
        }
    }
}

fn why(failure: &Failure) -> &str {
    match failure {
        Failure::Permanent(why) => why,
        Failure::GaveUp { last, .. } => last,
    }
}

fn entry(
    kind: String,
    step: Option<i64>,
    key: Option<String>,
    reason: Option<String>,
    attempts: Option<i64>,
) -> Entry {
    let step = step.unwrap_or(0) as usize;
    let key = key.unwrap_or_default();
    let failure = || {
        let reason = reason.clone().unwrap_or_default();
        match attempts {
            None => Failure::Permanent(reason),
            Some(n) => Failure::GaveUp {
                attempts: n as u32,
                last: reason,
            },
        }
    };
    match kind.as_str() {
        "begun" => Entry::Begun,
        "started" => Entry::Started { step, key },
        "done" => Entry::Done { step },
        "failed" => Entry::Failed {
            step,
            failure: failure(),
        },
        "undoing" => Entry::Undoing { step, key },
        "undone" => Entry::Undone { step },
        "stuck" => Entry::Stuck {
            step,
            failure: failure(),
        },
        other => panic!("the saga log holds an entry of unknown kind {other:?}"),
    }
}
