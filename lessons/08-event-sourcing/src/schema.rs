//! The SQLite file: how it is opened, and its two tables. Finished code, not an exercise.
//!
//! ```text
//! events     stream, version, kind, schema_version, data     one row per event
//!            UNIQUE (stream, version): a version can be written once, whatever the code does
//!            CHECK (json_valid(data)): a row whose data is not JSON is refused
//! snapshots  stream, version, state                           the state at that version
//! ```
//!
//! Every connection is opened the same way:
//!
//! - **WAL journal** (`journal_mode=WAL`): readers never wait for the writer, and the
//!   writer never waits for readers; there is still only one writer at a time.
//! - **`synchronous=FULL`**: each commit waits until the write-ahead log is on disk. A
//!   process crash loses nothing committed even with `NORMAL`; `FULL` also survives a
//!   power cut, which a SIGKILL test cannot show.
//! - **A busy timeout**: a connection that finds another one writing waits for it (up to
//!   [`BUSY_TIMEOUT`]) instead of failing at once with `SQLITE_BUSY`.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

/// How long a connection waits for another one's write lock before giving up with
/// `SQLITE_BUSY`. Short enough that a lock nobody releases ends a test with an error, not
/// a timeout.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(3);

/// The tables. `IF NOT EXISTS`: every connection runs this, the first one creates them.
pub const TABLES: &str = "
    CREATE TABLE IF NOT EXISTS events (
        stream         TEXT    NOT NULL,
        version        INTEGER NOT NULL CHECK (version >= 1),
        kind           TEXT    NOT NULL,
        schema_version INTEGER NOT NULL,
        data           TEXT    NOT NULL CHECK (json_valid(data)),
        UNIQUE (stream, version)
    );
    CREATE TABLE IF NOT EXISTS snapshots (
        stream  TEXT    NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        state   TEXT    NOT NULL CHECK (json_valid(state)),
        PRIMARY KEY (stream, version)
    );
";

/// Open (creating if needed) the event store's file, with the settings above.
pub fn open(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    // First, so that even switching to WAL waits for a connection busy with the file.
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // `journal_mode` answers with the mode it set: a query, not an update.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    debug_assert_eq!(mode.to_lowercase(), "wal");
    conn.execute_batch("PRAGMA synchronous = FULL;")?;
    conn.execute_batch(TABLES)?;
    Ok(conn)
}
