//! The query side, finished code (not an exercise): answers read from the read model
//! only, each with the position it reflects.
//!
//! A `Queries` holds the read model and nothing else — no store, no command bus — so a
//! query cannot touch the write side even by mistake: the compiler keeps the two apart.
//! Each answer comes from *one* snapshot and carries that snapshot's position. Taking the
//! value from one snapshot and the position from a second would pair a number with a
//! position it does not belong to.

use std::sync::Arc;
use std::time::Duration;

use crate::read_model::{Lagging, ReadModel};
use crate::store::Position;
use crate::{OrderId, Status};

/// An answer, and the position of the view it was read from: "5 units, as of @12".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer<T> {
    pub value: T,
    pub position: Position,
}

/// Units on open orders and shipped, across all products.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totals {
    pub open_units: u64,
    pub shipped_units: u64,
    pub open_orders: usize,
}

/// The query side.
#[derive(Clone)]
pub struct Queries {
    model: Arc<ReadModel>,
}

impl Queries {
    pub fn new(model: Arc<ReadModel>) -> Queries {
        Queries { model }
    }

    /// Units of `sku` on open orders.
    pub fn open_units(&self, sku: &str) -> Answer<u64> {
        let view = self.model.snapshot();
        Answer {
            value: view.open_units_of(sku),
            position: view.position,
        }
    }

    /// Units in `category` on open orders.
    pub fn open_units_in(&self, category: &str) -> Answer<u64> {
        let view = self.model.snapshot();
        Answer {
            value: view.open_units_in(category),
            position: view.position,
        }
    }

    /// Where `order` stands, or `None` if the read model has not seen it (yet).
    pub fn status(&self, order: OrderId) -> Answer<Option<Status>> {
        let view = self.model.snapshot();
        Answer {
            value: view.status(order),
            position: view.position,
        }
    }

    /// The totals.
    pub fn totals(&self) -> Answer<Totals> {
        let view = self.model.snapshot();
        Answer {
            value: Totals {
                open_units: view.open_units,
                shipped_units: view.shipped_units,
                open_orders: view.open_orders.len(),
            },
            position: view.position,
        }
    }

    /// Where `order` stands, from a view at or past `position` — reading your own write:
    /// pass the position `CommandBus::execute` returned. Waits up to `timeout`.
    pub async fn status_after(
        &self,
        order: OrderId,
        position: Position,
        timeout: Duration,
    ) -> Result<Answer<Option<Status>>, Lagging> {
        let view = self.model.wait_for(position, timeout).await?;
        Ok(Answer {
            value: view.status(order),
            position: view.position,
        })
    }
}
