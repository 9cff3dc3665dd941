//! Exercise 09.2: the projection — fold committed events into a view shaped for the
//! queries.
//!
//! The view answers "how many units are on open orders, per product and per category",
//! which the event log can only answer by reading every event. It is a plain value:
//! `apply` changes it in place, and knows nothing about threads, locks or readers. Who
//! sees which version of it is exercise 09.3's business.

use std::collections::BTreeMap;

use crate::store::{Position, Recorded};
use crate::{Catalog, Event, OrderId, Status};

/// The read model's data: units on open orders (placed, neither shipped nor cancelled),
/// with the position of the last event folded in.
///
/// Several fields describe the same units, so they must agree; every reader may check
/// it, and the tests do:
///
/// `open_units` = Σ `open_by_sku` = Σ `open_by_category` = Σ the units of `open_orders`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SalesView {
    /// The position of the last event folded in: the view's checkpoint. The view is
    /// exactly what the events up to here make, no more and no less.
    pub position: Position,
    /// Every open order, with its lines and their categories.
    pub open_orders: BTreeMap<OrderId, OpenOrder>,
    /// Every order seen, whatever its status.
    pub statuses: BTreeMap<OrderId, Status>,
    /// Units on open orders, per product. A product with none may be absent or 0.
    pub open_by_sku: BTreeMap<String, u64>,
    /// Units on open orders, per catalog category. A category with none may be absent or 0.
    pub open_by_category: BTreeMap<String, u64>,
    /// All units on open orders.
    pub open_units: u64,
    /// All units of shipped orders.
    pub shipped_units: u64,
}

/// An order still open, as the view keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenOrder {
    pub customer: String,
    pub lines: Vec<OpenLine>,
}

/// One line of an open order, with the category the catalog gave when it was placed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenLine {
    pub sku: String,
    pub qty: u32,
    pub category: String,
}

impl OpenOrder {
    /// The order's units, all lines together.
    pub fn units(&self) -> u64 {
        self.lines.iter().map(|l| u64::from(l.qty)).sum()
    }
}

impl SalesView {
    /// An empty view at `Position::START`.
    pub fn new() -> SalesView {
        SalesView::default()
    }

    /// Units of `sku` on open orders.
    pub fn open_units_of(&self, sku: &str) -> u64 {
        self.open_by_sku.get(sku).copied().unwrap_or(0)
    }

    /// Units in `category` on open orders.
    pub fn open_units_in(&self, category: &str) -> u64 {
        self.open_by_category.get(category).copied().unwrap_or(0)
    }

    /// Where `order` stands, if the view has seen it.
    pub fn status(&self, order: OrderId) -> Option<Status> {
        self.statuses.get(&order).copied()
    }

    /// Fold one committed event into the view.
    ///
    /// - **Idempotent.** An event at or before `self.position` is already in the view:
    ///   ignore it. A source that delivers at least once hands out some events twice,
    ///   and a projector restarted from an older checkpoint replays some; neither may
    ///   count anything twice. Otherwise the view's position becomes the event's.
    /// - `Placed`: the order becomes open (`open_orders`, `statuses`), and each line's
    ///   units are added to `open_by_sku`, to `open_by_category` under the category
    ///   `catalog` gives for the product, and to `open_units`. Keep each line's category
    ///   in the open order.
    /// - `Shipped` / `Cancelled`: the order's status changes, the order leaves
    ///   `open_orders`, and its units leave `open_by_sku`, `open_by_category` and
    ///   `open_units` — under the categories it was *added* with: the catalog may have
    ///   moved a product since, and asking it again would take units from a category
    ///   that never had them. A shipped order's units are added to `shipped_units`.
    ///   (An order that is not open is left alone: the command side never lets that
    ///   happen.)
    pub fn apply(&mut self, recorded: &Recorded, catalog: &dyn Catalog) {
        //@ solution
        if recorded.position <= self.position {
            return; // already folded in: a redelivery, or a replay from an older checkpoint
        }
        self.position = recorded.position;
        let order = recorded.order;
        match &recorded.event {
            Event::Placed { customer, lines } => {
                let mut open = OpenOrder {
                    customer: customer.clone(),
                    lines: Vec::with_capacity(lines.len()),
                };
                for line in lines {
                    let category = catalog.category(&line.sku);
                    let units = u64::from(line.qty);
                    *self.open_by_sku.entry(line.sku.clone()).or_default() += units;
                    *self.open_by_category.entry(category.clone()).or_default() += units;
                    self.open_units += units;
                    open.lines.push(OpenLine {
                        sku: line.sku.clone(),
                        qty: line.qty,
                        category,
                    });
                }
                self.open_orders.insert(order, open);
                self.statuses.insert(order, Status::Open);
            }
            Event::Shipped | Event::Cancelled => {
                let Some(open) = self.open_orders.remove(&order) else {
                    return;
                };
                for line in &open.lines {
                    let units = u64::from(line.qty);
                    subtract(&mut self.open_by_sku, &line.sku, units);
                    subtract(&mut self.open_by_category, &line.category, units);
                }
                self.open_units -= open.units();
                let status = if recorded.event == Event::Shipped {
                    self.shipped_units += open.units();
                    Status::Shipped
                } else {
                    Status::Cancelled
                };
                self.statuses.insert(order, status);
            }
        }
        //@ skeleton
        // let _ = (recorded, catalog, Event::Shipped, Status::Open);
        // todo!("exercise 09.2: SalesView::apply")
        //@ end
    }
}
//@ solution

/// Take `units` from `key`, and drop the key when nothing is left, so that two views of
/// the same events are equal however they got there.
fn subtract(counts: &mut BTreeMap<String, u64>, key: &str, units: u64) {
    if let Some(count) = counts.get_mut(key) {
        *count -= units;
        if *count == 0 {
            counts.remove(key);
        }
    }
}
//@ end
