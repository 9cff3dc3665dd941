//! Exercise 08.1: the order aggregate.
//!
//! An order is never stored as a row that is updated. What is stored is what happened to
//! it — its events — and the order is what you get by applying them, in order, to an
//! empty one. Two functions, with two different jobs:
//!
//! - [`Order::handle`] *decides*. It takes a command (a request that may be refused), looks
//!   at the current state, and answers with the events that record what happened, or with
//!   an error. It may read the clock and ask for new ids, through the [`Env`] it is given;
//!   it changes nothing.
//! - [`Order::apply`] *remembers*. It takes one event — a fact, already decided — and
//!   changes the state. It never refuses, never reads a clock, never makes an id: the same
//!   events must always give the same order, today or when replayed in a year.

use std::collections::BTreeMap;

use crate::{Cents, Env, ShipmentId, Timestamp};

/// What a caller asks an order to do. It may be refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Place {
        customer: String,
    },
    AddItem {
        sku: String,
        quantity: u32,
        unit_price: Cents,
    },
    RemoveItem {
        sku: String,
        quantity: u32,
    },
    Confirm,
    Ship {
        carrier: String,
    },
    Cancel {
        reason: String,
    },
}

/// What happened to an order: the events of the current schema (version 2).
///
/// Everything `apply` needs is in the event, including the times and ids `handle` got
/// from its [`Env`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderEvent {
    Placed {
        customer: String,
        at: Timestamp,
    },
    /// `quantity` more of `sku`; the line's unit price becomes `unit_price`.
    ItemAdded {
        sku: String,
        quantity: u32,
        unit_price: Cents,
    },
    /// `quantity` fewer of `sku`; a line with none left is gone.
    ItemRemoved {
        sku: String,
        quantity: u32,
    },
    Confirmed {
        at: Timestamp,
    },
    Shipped {
        shipment: ShipmentId,
        carrier: String,
        at: Timestamp,
    },
    Cancelled {
        reason: String,
        at: Timestamp,
    },
}

impl OrderEvent {
    /// The event's name, as stored in the `kind` column.
    pub fn kind(&self) -> &'static str {
        match self {
            OrderEvent::Placed { .. } => "Placed",
            OrderEvent::ItemAdded { .. } => "ItemAdded",
            OrderEvent::ItemRemoved { .. } => "ItemRemoved",
            OrderEvent::Confirmed { .. } => "Confirmed",
            OrderEvent::Shipped { .. } => "Shipped",
            OrderEvent::Cancelled { .. } => "Cancelled",
        }
    }
}

/// Where an order is in its life.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Status {
    /// No event yet: the order does not exist.
    #[default]
    NotPlaced,
    /// Placed; items can be added and removed.
    Open,
    Confirmed,
    Shipped,
    Cancelled,
}

/// One line of an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub quantity: u32,
    pub unit_price: Cents,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shipment {
    pub id: ShipmentId,
    pub carrier: String,
    pub at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cancellation {
    pub reason: String,
    pub at: Timestamp,
}

/// The state of an order: what its events add up to. `Order::default()` is the state
/// before the first event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Order {
    pub status: Status,
    pub customer: String,
    pub placed_at: Option<Timestamp>,
    /// By SKU; a line is here while its quantity is at least 1.
    pub lines: BTreeMap<String, Line>,
    pub confirmed_at: Option<Timestamp>,
    pub shipment: Option<Shipment>,
    pub cancellation: Option<Cancellation>,
}

/// Why `handle` refused a command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrderError {
    /// The command is not allowed while the order is in `status`.
    WrongStatus { status: Status },
    /// An `AddItem` or `RemoveItem` of zero items.
    ZeroQuantity,
    /// A `RemoveItem` of more than the order holds (`ordered` is 0 for an SKU it does not
    /// hold).
    NotEnough {
        sku: String,
        ordered: u32,
        removing: u32,
    },
    /// A `Confirm` of an order with no lines.
    Empty,
}

impl std::fmt::Display for OrderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OrderError::WrongStatus { status } => write!(f, "not allowed while {status:?}"),
            OrderError::ZeroQuantity => write!(f, "a quantity of zero"),
            OrderError::NotEnough {
                sku,
                ordered,
                removing,
            } => write!(f, "removing {removing} of {sku:?}, ordered {ordered}"),
            OrderError::Empty => write!(f, "the order has no items"),
        }
    }
}

impl std::error::Error for OrderError {}

impl Order {
    /// Decide: the events that carrying out `command` on this order records, or why it is
    /// refused. Changes nothing.
    ///
    /// | command      | allowed when                        | event                        |
    /// |--------------|-------------------------------------|------------------------------|
    /// | `Place`      | `NotPlaced`                         | `Placed { at: now }`         |
    /// | `AddItem`    | `Open`, quantity ≥ 1                | `ItemAdded`                  |
    /// | `RemoveItem` | `Open`, 1 ≤ quantity ≤ the line's   | `ItemRemoved`                |
    /// | `Confirm`    | `Open`, at least one line           | `Confirmed { at: now }`      |
    /// | `Ship`       | `Confirmed`                         | `Shipped { a new id, now }`  |
    /// | `Cancel`     | `Open` or `Confirmed`               | `Cancelled { at: now }`      |
    ///
    /// The status is checked first: a command in the wrong status is
    /// `OrderError::WrongStatus`, whatever else is wrong with it.
    pub fn handle(&self, command: &Command, env: &dyn Env) -> Result<Vec<OrderEvent>, OrderError> {
        let _ = (command, env);
        todo!("exercise 08.1: Order::handle")
    }

    /// Remember: change the state as `event` says. Never fails and never checks a rule —
    /// the event is a fact, decided when it was recorded — and takes everything it needs
    /// from the event: no clock, no id generator, nothing outside `self` and `event`.
    pub fn apply(&mut self, event: &OrderEvent) {
        let _ = event;
        todo!("exercise 08.1: Order::apply")
    }

    /// The state `events` add up to, applied in order to an empty order.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a OrderEvent>) -> Order {
        let mut order = Order::default();
        for event in events {
            order.apply(event);
        }
        order
    }

    /// What the order costs: the sum of quantity × unit price over its lines.
    pub fn total(&self) -> Cents {
        Cents(
            self.lines
                .values()
                .map(|line| u64::from(line.quantity) * line.unit_price.0)
                .sum(),
        )
    }
}
