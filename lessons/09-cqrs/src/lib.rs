//! Lesson 09: CQRS — commands append events to a log, a projector folds them into a
//! read model, and many readers query that read model while the projector writes.
//!
//! ```text
//!  Command ──▶ CommandBus::execute ──▶ load the order's events, decide, append at the
//!                                      expected version ──▶ EventStore (store.rs)
//!                                                               │ read_after(checkpoint)
//!  Query ◀── Queries ◀── ReadModel::snapshot ◀── swap ◀── Projector::catch_up(to)
//! ```
//!
//! [`store`] is the event store (lesson 08's design, finished here) and [`queries`] the
//! query side; the exercise files are `commands.rs`, `projection.rs` and
//! `read_model.rs`. You edit the exercise files only; this file swaps in the reference
//! solution when the crate is built with `--features solution`.

#[cfg_attr(feature = "solution", path = "../../../solutions/09-cqrs/commands.rs")]
pub mod commands;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/09-cqrs/projection.rs"
)]
pub mod projection;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/09-cqrs/read_model.rs"
)]
pub mod read_model;

pub mod queries;
pub mod store;

use std::collections::BTreeMap;
use std::fmt;

/// An order's id. Each order is one stream of the event store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrderId(pub u32);

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "order-{}", self.0)
    }
}

/// `qty` units of one product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    pub sku: String,
    pub qty: u32,
}

impl Line {
    pub fn new(sku: &str, qty: u32) -> Line {
        Line {
            sku: sku.to_string(),
            qty,
        }
    }
}

/// What happened to an order. Events are facts in the past tense: once appended, they
/// never change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Placed { customer: String, lines: Vec<Line> },
    Shipped,
    Cancelled,
}

/// Where an order stands, as the read model tells it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Open,
    Shipped,
    Cancelled,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Open => "open",
            Status::Shipped => "shipped",
            Status::Cancelled => "cancelled",
        })
    }
}

/// The product catalog: another team's service, which the projection asks for each
/// product's category. Orders name products only; the read model also counts units per
/// category, so the projector looks categories up while it computes the new view — a
/// lookup that can be slow (in production it is a network call) and can fail.
pub trait Catalog: Send + Sync {
    /// The category of `sku`.
    fn category(&self, sku: &str) -> String;
}

/// A catalog held in memory. Products it does not list are in the category `"other"`.
#[derive(Clone, Debug, Default)]
pub struct StaticCatalog {
    categories: BTreeMap<String, String>,
}

impl StaticCatalog {
    /// A catalog of `(sku, category)` pairs.
    pub fn new(pairs: &[(&str, &str)]) -> StaticCatalog {
        StaticCatalog {
            categories: pairs
                .iter()
                .map(|(sku, category)| (sku.to_string(), category.to_string()))
                .collect(),
        }
    }
}

impl Catalog for StaticCatalog {
    fn category(&self, sku: &str) -> String {
        self.categories
            .get(sku)
            .cloned()
            .unwrap_or_else(|| "other".to_string())
    }
}
