//! Exercises 09.3–09.5: the read model, shared by one projector and many readers.
//!
//! ```text
//!   Projector::apply_batch                       readers: ReadModel::snapshot()
//!     current = snapshot()      ─┐                  │  Arc<SalesView> @p, never changes
//!     next = clone, apply events │ no lock held     │
//!     publish(next)             ─┘                  ▼
//!        └─▶ swap the Arc under the write lock (one pointer) ─▶ wake wait_for(p)
//! ```
//!
//! A reader never sees a view being built: it sees the view before a batch or the view
//! after it, each with the position it reflects. The position travels inside the view,
//! so the checkpoint is saved *with* the view, by the same swap, never before it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::Catalog;
use crate::projection::SalesView;
use crate::store::{EventSource, Position, Recorded};

/// The published view, shared by the projector (the one writer) and any number of
/// readers. Share it in an `Arc`.
///
/// Choosing its fields is part of 09.3. What they must allow:
/// - `snapshot` returns at once, whatever the projector is doing — in particular while
///   it is computing the next view, which can take as long as a catalog lookup takes;
/// - a snapshot is a whole view at one position: never a view with part of an event
///   applied, never a view whose position says more (or less) than its contents;
/// - (09.5) `wait_for` can sleep until a position is published, and be woken then.
pub struct ReadModel {
    // Your fields: 09.3, and 09.5 adds a way to wake the waiters of `wait_for`.
}

/// `wait_for` gave up: the read model had not reached the position in time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lagging {
    /// The position asked for.
    pub wanted: Position,
    /// The position of the published view when the timeout passed.
    pub reached: Position,
}

impl fmt::Display for Lagging {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the read model is at {}, still short of {}",
            self.reached, self.wanted
        )
    }
}

impl Default for ReadModel {
    fn default() -> ReadModel {
        ReadModel::new()
    }
}

impl ReadModel {
    /// An empty read model: an empty view at `Position::START`.
    pub fn new() -> ReadModel {
        todo!("exercise 09.3: ReadModel::new")
    }

    /// The view as last published, with the position it reflects. It never changes
    /// afterwards: a reader may keep it as long as it likes, and ask again for a newer one.
    pub fn snapshot(&self) -> Arc<SalesView> {
        todo!("exercise 09.3: ReadModel::snapshot")
    }

    /// Wait until the published view has reached `position` (or passed it), and return
    /// that view; give up after `timeout` with how far it got.
    ///
    /// This is how a caller reads its own write: `execute` returned the position of its
    /// event, and a view at or past that position includes it. Wake when a view is
    /// published — do not poll — and do not miss a position published before you began
    /// to wait, or passed in one step from below it to beyond it. Runs on tokio's clock
    /// (`tokio::time`), so a test with the clock paused decides exactly when it times out.
    pub async fn wait_for(
        &self,
        position: Position,
        timeout: Duration,
    ) -> Result<Arc<SalesView>, Lagging> {
        let _ = (position, timeout);
        todo!("exercise 09.5: ReadModel::wait_for")
    }
}

/// The one writer of a read model: reads committed events from a source and folds them
/// into the read model's view with the catalog's help.
///
/// `apply_batch` and `catch_up` take `&mut self`: a projector is owned by one thread, so
/// two of its steps never run at once. Run one projector per read model (in production:
/// one consumer per partition, or a lease); a restart is a new `Projector` over the same
/// read model, which goes on from the read model's checkpoint.
pub struct Projector {
    source: Arc<dyn EventSource>,
    catalog: Arc<dyn Catalog>,
    model: Arc<ReadModel>,
}

impl Projector {
    /// How many events `catch_up` asks the source for at a time.
    pub const BATCH: usize = 64;

    pub fn new(
        source: Arc<dyn EventSource>,
        catalog: Arc<dyn Catalog>,
        model: Arc<ReadModel>,
    ) -> Projector {
        Projector {
            source,
            catalog,
            model,
        }
    }

    /// The read model this projector writes.
    pub fn model(&self) -> &Arc<ReadModel> {
        &self.model
    }

    /// Fold `events` (in position order) into the read model and publish the result;
    /// return the position of the published view.
    ///
    /// - Readers see whole events: the view before an event or after it, never part of
    ///   one, and never a view whose position does not match its contents. (Any prefix of
    ///   the log is a true view, so a reader may see the view after some of the batch's
    ///   events; publishing once per batch costs one copy of the view per batch,
    ///   publishing after every event one per event.)
    /// - Readers never wait for the computation: the catalog may take its time, and a
    ///   `snapshot` meanwhile returns the view before the batch at once.
    /// - Events the view already has (at or before its position) count nothing.
    /// - If the catalog panics halfway (a crash), the read model is left as a whole view
    ///   at the position it reports — as if the batch had not begun, or had stopped after
    ///   a whole event — so a restarted projector that is handed the same events again
    ///   neither loses nor double-counts any.
    pub fn apply_batch(&mut self, events: &[Recorded]) -> Position {
        let _ = (events, &self.source, &self.catalog, &self.model);
        todo!("exercise 09.3: Projector::apply_batch")
    }

    /// Bring the read model up to `to`: read the events after its checkpoint from the
    /// source, batch after batch, and apply them; stop at `to`, or earlier when the
    /// source has nothing more. Return the position the read model has reached.
    ///
    /// Start from the read model's position (a restarted projector goes on where the last
    /// one stopped). Ask for at most [`Projector::BATCH`] events at a time; a source may
    /// give fewer than asked even when it has more, and an empty answer means it has
    /// none. Never apply an event past `to`: the caller asked for the view *at* `to`. And
    /// a source that delivers at least once may hand out again events you already have:
    /// measure progress by positions, not by how many events came.
    pub fn catch_up(&mut self, to: Position) -> Position {
        let _ = to;
        todo!("exercise 09.4: Projector::catch_up")
    }
}
