//! The event store: an append-only log of events, finished code (not an exercise).
//!
//! This is lesson 08's design, kept small and in memory so that this lesson builds on its
//! own: every order is a stream with its own version (how many events it has), an append
//! names the version it expects and is refused when the stream has moved on (optimistic
//! concurrency), and every committed event gets the next *global position*, 1, 2, 3, …
//! with no gaps. The command side reads one stream and appends to it ([`Streams`]); the
//! projector reads the whole log in position order from where it left off
//! ([`EventSource`]).
//!
//! One `Mutex` guards the log. An append checks the version and pushes its events under
//! that one lock, so a check and the write it allows cannot be separated by another
//! append — the property lesson 08 gets from an SQLite transaction.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard};

use crate::{Event, OrderId};

/// A place in the global order of committed events: the position of the last event
/// something has seen or reflects. `Position(0)` is before the first event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position(pub u64);

impl Position {
    /// Before the first event.
    pub const START: Position = Position(0);

    /// The position `n` events later.
    pub fn after(self, n: u64) -> Position {
        Position(self.0 + n)
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.0)
    }
}

/// A committed event, as the store hands it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// Its place in the global order: 1 for the first event ever appended.
    pub position: Position,
    /// The stream it belongs to.
    pub order: OrderId,
    /// Its place in its own stream: 1 for the order's first event.
    pub version: u64,
    pub event: Event,
}

/// What an append expects of the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// Exactly this many events in the stream so far (0: the stream must be new).
    Exact(u64),
    /// Append whatever the stream holds. (eventually's `Expected::Any`; a command handler
    /// that validated against what it loaded must never use it.)
    Any,
}

/// The stream was not at the expected version: someone else appended first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub order: OrderId,
    pub expected: u64,
    pub actual: u64,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} is at version {}, not {}: another command appended first",
            self.order, self.actual, self.expected
        )
    }
}

/// The command side's view of the store: one stream at a time.
pub trait Streams: Send + Sync {
    /// Every event of `order`, oldest first (empty for an order never placed).
    fn load(&self, order: OrderId) -> Vec<Recorded>;

    /// Append `events` to `order`'s stream if it is at the `expected` version, all or
    /// nothing. Returns the global position of the last event appended.
    fn append(
        &self,
        order: OrderId,
        expected: Expected,
        events: Vec<Event>,
    ) -> Result<Position, Conflict>;
}

/// The projector's view of the store: the whole log, in position order.
pub trait EventSource: Send + Sync {
    /// Up to `max` events after `after`, in position order.
    ///
    /// The store returns exactly the events after `after`. A message broker that delivers
    /// *at least once* (Kafka after a consumer-group rebalance, NATS JetStream after a
    /// missed ack) may also hand out again events at or before `after`; a projector must
    /// be correct with either.
    fn read_after(&self, after: Position, max: usize) -> Vec<Recorded>;
}

/// The in-memory event store.
#[derive(Debug, Default)]
pub struct EventStore {
    log: Mutex<Log>,
}

#[derive(Debug, Default)]
struct Log {
    /// Every committed event; the event at position `p` is at index `p - 1`.
    events: Vec<Recorded>,
    /// Each stream's events, as indexes into `events`.
    streams: HashMap<OrderId, Vec<usize>>,
}

impl EventStore {
    /// An empty store.
    pub fn new() -> EventStore {
        EventStore::default()
    }

    /// The position of the last committed event (`Position::START` if there is none).
    pub fn head(&self) -> Position {
        Position(self.lock().events.len() as u64)
    }

    fn lock(&self) -> MutexGuard<'_, Log> {
        // Nothing panics while holding this lock, but a poisoned log would still be whole:
        // an append pushes its events only after every check has passed.
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Streams for EventStore {
    fn load(&self, order: OrderId) -> Vec<Recorded> {
        let log = self.lock();
        log.streams
            .get(&order)
            .map(|indexes| indexes.iter().map(|&i| log.events[i].clone()).collect())
            .unwrap_or_default()
    }

    fn append(
        &self,
        order: OrderId,
        expected: Expected,
        events: Vec<Event>,
    ) -> Result<Position, Conflict> {
        assert!(!events.is_empty(), "an append needs at least one event");
        let mut log = self.lock();
        let actual = log.streams.get(&order).map_or(0, |s| s.len() as u64);
        if let Expected::Exact(expected) = expected
            && expected != actual
        {
            return Err(Conflict {
                order,
                expected,
                actual,
            });
        }
        let Log {
            events: all,
            streams,
        } = &mut *log;
        let stream = streams.entry(order).or_default();
        for (k, event) in events.into_iter().enumerate() {
            let index = all.len();
            all.push(Recorded {
                position: Position(index as u64 + 1),
                order,
                version: actual + k as u64 + 1,
                event,
            });
            stream.push(index);
        }
        Ok(Position(all.len() as u64))
    }
}

impl EventSource for EventStore {
    fn read_after(&self, after: Position, max: usize) -> Vec<Recorded> {
        let log = self.lock();
        let from = usize::try_from(after.0)
            .unwrap_or(usize::MAX)
            .min(log.events.len());
        let to = from.saturating_add(max).min(log.events.len());
        log.events[from..to].to_vec()
    }
}
