//! The read model: what the queries read. Finished code (chapter 9's design), not an
//! exercise; the projector that fills it is exercise 20.3.
//!
//! Per stream key: how many events, their sum, and the same per one-second window of
//! *event time* (the `ts_ms` the client sent), so that a windowed rate is a fact about the
//! events, the same however late or fast they arrived, and the same after a replay.
//! The view carries the position of the last event folded in: a query answer says which
//! prefix of the log it reflects.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{RwLock, RwLockReadGuard};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::watch;

use crate::store::Committed;

/// The width of a window of event time.
pub const WINDOW_MS: i64 = 1000;

/// One key's figures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct KeyStats {
    pub count: u64,
    pub sum: i64,
    /// The position of the key's last event folded in.
    pub last_position: u64,
    /// Per window of event time, by the window's start (a multiple of [`WINDOW_MS`]).
    pub windows: BTreeMap<i64, Window>,
}

/// One window's figures: `count` events in `WINDOW_MS`, i.e. a rate of `count` per second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Window {
    pub count: u64,
    pub sum: i64,
}

/// The whole view.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct View {
    /// The position of the last event folded in: the view is exactly what the events up
    /// to here make.
    pub position: u64,
    pub keys: BTreeMap<String, KeyStats>,
}

impl View {
    /// Add `event` to its key's figures and move the view's position to the event's.
    /// It adds, every time it is called: it does not know whether the event is already
    /// in (that is the projection's business, 20.3).
    pub fn record(&mut self, event: &Committed) {
        let stats = self.keys.entry(event.key.clone()).or_default();
        stats.count += 1;
        stats.sum += event.value;
        stats.last_position = event.position;
        let start = event.ts_ms.div_euclid(WINDOW_MS) * WINDOW_MS;
        let window = stats.windows.entry(start).or_default();
        window.count += 1;
        window.sum += event.value;
        self.position = event.position;
    }
}

/// The read model did not reach a position in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lagging {
    pub wanted: u64,
    pub reached: u64,
}

/// The view, shared by the projector (one writer) and the query handlers (many readers).
#[derive(Debug)]
pub struct ReadModel {
    view: RwLock<View>,
    /// The view's position, for [`ReadModel::wait_for`].
    published: watch::Sender<u64>,
    /// How many times `update` was called (the tests check that a read is folded in
    /// with one update, not one per event).
    updates: AtomicUsize,
}

impl Default for ReadModel {
    fn default() -> ReadModel {
        ReadModel::new()
    }
}

impl ReadModel {
    /// An empty view at position 0.
    pub fn new() -> ReadModel {
        ReadModel {
            view: RwLock::new(View::default()),
            published: watch::Sender::new(0),
            updates: AtomicUsize::new(0),
        }
    }

    /// The position of the view.
    pub fn position(&self) -> u64 {
        self.read().position
    }

    /// Read the view. Readers never see a change half made: `update` holds the write lock
    /// for the whole of its change.
    pub fn read(&self) -> RwLockReadGuard<'_, View> {
        self.view.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Change the view under the write lock, then wake whoever waits for its new position.
    /// Keep `change` short and free of `.await` (it cannot await anyway): fold events that
    /// are already read.
    pub fn update(&self, change: impl FnOnce(&mut View)) {
        self.updates.fetch_add(1, Ordering::SeqCst);
        let position = {
            let mut view = self.view.write().unwrap_or_else(|e| e.into_inner());
            change(&mut view);
            view.position
        };
        self.published.send_if_modified(|p| {
            let moved = *p != position;
            *p = position;
            moved
        });
    }

    /// How many times [`ReadModel::update`] has been called.
    pub fn updates(&self) -> usize {
        self.updates.load(Ordering::SeqCst)
    }

    /// Wait until the view has reached `position`, for at most `timeout`.
    pub async fn wait_for(&self, position: u64, timeout: Duration) -> Result<(), Lagging> {
        let mut rx = self.published.subscribe();
        match tokio::time::timeout(timeout, rx.wait_for(|&p| p >= position)).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(Lagging {
                wanted: position,
                reached: self.position(),
            }),
        }
    }
}
