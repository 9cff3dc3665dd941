//! Lesson 08: event sourcing — an order aggregate over an event store in a real SQLite file.
//!
//! The exercise files, in the chapter's order:
//!
//! - [`order`]: the aggregate — `handle` turns a command into events, `apply` folds an
//!   event into the state (08.1);
//! - [`store`]: the event store — append at an expected version, in one transaction (08.2);
//! - [`repository`]: commands end to end, snapshots (08.3), the state as of a version (08.4);
//! - [`upcast`]: reading events written by the shop's first version (08.5).
//!
//! Finished code the lesson needs: [`schema`] opens the SQLite file and creates its tables,
//! [`codec`] turns events and states into the JSON the tables hold. This file holds the
//! small types everything shares, and [`Env`]: where `handle` gets the time and new ids.
//!
//! You edit the exercise files only; this file swaps in the reference solution when the
//! crate is built with `--features solution`.

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/08-event-sourcing/order.rs"
)]
pub mod order;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/08-event-sourcing/store.rs"
)]
pub mod store;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/08-event-sourcing/repository.rs"
)]
pub mod repository;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/08-event-sourcing/upcast.rs"
)]
pub mod upcast;

pub mod codec;
pub mod schema;

use std::cell::Cell;
use std::fmt;

/// A stream's version: how many events it holds. The first event of a stream is version
/// 1; a stream with no events is at version 0.
pub type Version = u64;

/// A moment on the caller's clock, in milliseconds. Events carry it; nothing in the lesson
/// reads a real clock except through an [`Env`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub u64);

impl fmt::Display for Timestamp {
    /// `t=12.500s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t={}.{:03}s", self.0 / 1000, self.0 % 1000)
    }
}

/// An amount of money in cents. Money is never a float (see the upcaster, 08.5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cents(pub u64);

impl fmt::Display for Cents {
    /// `4.50`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// The id of a shipment, made by [`Env::next_shipment_id`] when an order ships.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ShipmentId(pub u64);

impl fmt::Display for ShipmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S-{}", self.0)
    }
}

/// Where deciding gets what is not in the state: the time, and new ids.
///
/// Only `handle` (deciding) may ask for these; what it got goes into the events. `apply`
/// never sees an `Env`: replaying the same events must give the same state, today and in
/// a year, so everything `apply` needs must already be in the event.
pub trait Env {
    /// The time now.
    fn now(&self) -> Timestamp;
    /// A shipment id never handed out before.
    fn next_shipment_id(&self) -> ShipmentId;
}

/// An [`Env`] whose clock moves only when told, and whose ids count up from 1: the
/// program and the tests use it, so every timestamp and id they print is exact.
#[derive(Debug, Default)]
pub struct ScriptedEnv {
    now: Cell<u64>,
    last_id: Cell<u64>,
}

impl ScriptedEnv {
    /// The clock at `now`; the first shipment id will be 1.
    pub fn at(now: Timestamp) -> ScriptedEnv {
        ScriptedEnv {
            now: Cell::new(now.0),
            last_id: Cell::new(0),
        }
    }

    /// Set the clock.
    pub fn set_now(&self, now: Timestamp) {
        self.now.set(now.0);
    }

    /// Move the clock forward by `ms` milliseconds.
    pub fn advance(&self, ms: u64) {
        self.now.set(self.now.get() + ms);
    }

    /// How many shipment ids have been handed out.
    pub fn ids_handed_out(&self) -> u64 {
        self.last_id.get()
    }
}

impl Env for ScriptedEnv {
    fn now(&self) -> Timestamp {
        Timestamp(self.now.get())
    }

    fn next_shipment_id(&self) -> ShipmentId {
        self.last_id.set(self.last_id.get() + 1);
        ShipmentId(self.last_id.get())
    }
}
