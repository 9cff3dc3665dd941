//! Lesson 02: reactive streams.
//!
//! Each module but this one is an exercise file. You edit those files only; this one swaps
//! in the reference solution when the crate is built with `--features solution`, and adds
//! [`Reactive`], which lets the operators you write chain like `StreamExt`'s.

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/02-reactive-streams/map.rs"
)]
pub mod map;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/02-reactive-streams/filter.rs"
)]
pub mod filter;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/02-reactive-streams/chunks.rs"
)]
pub mod chunks;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/02-reactive-streams/throttle.rs"
)]
pub mod throttle;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/02-reactive-streams/publisher.rs"
)]
pub mod publisher;

use std::time::Duration;

use futures::Stream;

/// The lesson's operators as methods, so they chain:
/// `stream.mapped(|x| x * 2).filtered(|x| *x > 10)`.
///
/// The names differ from `futures::StreamExt`'s (`map`, `filter`, …) so that both can be
/// in scope at once and it is always clear whose operator runs.
pub trait Reactive: Stream + Sized {
    /// [`map::Map`]: apply `f` to every item.
    fn mapped<F, T>(self, f: F) -> map::Map<Self, F>
    where
        F: FnMut(Self::Item) -> T,
    {
        map::Map::new(self, f)
    }

    /// [`filter::Filter`]: keep the items for which `keep` returns true.
    fn filtered<P>(self, keep: P) -> filter::Filter<Self, P>
    where
        P: FnMut(&Self::Item) -> bool,
    {
        filter::Filter::new(self, keep)
    }

    /// [`chunks::Chunks`]: group items into vectors of `size`.
    fn chunked(self, size: usize) -> chunks::Chunks<Self> {
        chunks::Chunks::new(self, size)
    }

    /// [`throttle::Throttle`]: at most one item per `period`.
    fn throttled(self, period: Duration) -> throttle::Throttle<Self> {
        throttle::Throttle::new(self, period)
    }
}

impl<S: Stream> Reactive for S {}
