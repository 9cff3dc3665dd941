//! Lesson 20: the capstone — a small real-time analytics platform, assembled from the
//! patterns of the earlier chapters.
//!
//! ```text
//!  client ──POST /events──▶ ingest (20.2) ──▶ rate limit ─▶ StreamRouter (20.1)
//!     ▲      {key, events}    validate          (ch. 5)      one actor per key (ch. 1)
//!     │                                                          │ append at the key's version
//!     └──── 200 {stored, duplicates, position} ◀── committed ◀── EventLog: SQLite (ch. 8)
//!                                                                │ head moves
//!  client ──GET /query──▶ ReadModel ◀── projector (20.3) ◀───────┘ read_after(position)
//!                          (ch. 9)      catch-up, then follow
//!  SIGTERM ──▶ shutdown (20.4): stop accepting ▶ drain requests ▶ drain actors ▶ catch up
//! ```
//!
//! The exercise files are the seams between the parts: [`streams`] (20.1), [`ingest`]
//! (20.2), [`projection`] (20.3) and [`shutdown`] (20.4). The parts themselves are
//! finished: [`store`] (the event log in a SQLite file), [`limiter`] (a keyed token
//! bucket on an injectable clock), [`read_model`] (the view the queries read),
//! [`metrics`] (Prometheus text) and [`server`] (the routes, the query handler, starting
//! and stopping the whole platform). This file holds the small types they share.
//!
//! You edit the exercise files only; this file swaps in the reference solution when the
//! crate is built with `--features solution`.

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/20-capstone/streams.rs"
)]
pub mod streams;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/20-capstone/ingest.rs"
)]
pub mod ingest;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/20-capstone/projection.rs"
)]
pub mod projection;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/20-capstone/shutdown.rs"
)]
pub mod shutdown;

pub mod limiter;
pub mod metrics;
pub mod read_model;
pub mod server;
pub mod store;

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

use crate::limiter::KeyedLimiter;
use crate::metrics::Metrics;
use crate::read_model::ReadModel;
use crate::store::EventLog;
use crate::streams::StreamRouter;

/// The platform's settings.
#[derive(Clone, Debug)]
pub struct Config {
    /// The most events one `POST /events` may carry; a larger batch is refused whole.
    pub max_batch: usize,
    /// Each API key's burst: how many requests it may make at once.
    pub rate_burst: u32,
    /// Each API key's sustained rate: one more request every this long.
    pub rate_every: std::time::Duration,
    /// Each stream actor's mailbox: how many batches may wait for it.
    pub mailbox: usize,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_batch: 100,
            rate_burst: 50,
            rate_every: std::time::Duration::from_millis(100),
            mailbox: 64,
        }
    }
}

/// What every request handler shares: the parts of the platform. Cloning it clones the
/// `Arc`s.
#[derive(Clone)]
pub struct App {
    pub config: Arc<Config>,
    pub limiter: Arc<KeyedLimiter>,
    pub streams: Arc<StreamRouter>,
    pub store: Arc<EventLog>,
    pub model: Arc<ReadModel>,
    pub metrics: Arc<Metrics>,
}

/// The answer to a batch that was committed: the body of a `200 OK`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Ack {
    /// Events of the batch written now.
    pub stored: u32,
    /// Events of the batch that were already in the store (same id): a resend.
    pub duplicates: u32,
    /// A store position at or after every event of the batch: a query that asks for
    /// `at_least=position` sees the whole batch.
    pub position: u64,
}

/// Why a batch was not acknowledged. None of these means "committed".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IngestError {
    /// The platform is shutting down and takes no new batches.
    ShuttingDown,
    /// The stream's actor panicked while handling the batch. It may or may not have been
    /// committed; a resend with the same event ids is safe either way.
    ActorCrashed,
    /// The stream was not at the version its writer expected: another writer appended to
    /// it first.
    Conflict { expected: u64, actual: u64 },
    /// The store failed.
    Store(String),
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IngestError::ShuttingDown => write!(f, "shutting down: no new batches"),
            IngestError::ActorCrashed => write!(
                f,
                "the stream's actor crashed while handling the batch; resend it (same ids)"
            ),
            IngestError::Conflict { expected, actual } => write!(
                f,
                "conflict: the stream is at version {actual}, its writer expected {expected}"
            ),
            IngestError::Store(why) => write!(f, "the store failed: {why}"),
        }
    }
}

impl std::error::Error for IngestError {}
