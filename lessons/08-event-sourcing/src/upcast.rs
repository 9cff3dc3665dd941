//! Exercise 08.5: the upcaster — reading the events the shop's first version wrote.
//!
//! Events are never rewritten: the rows version 1 of the shop stored (`schema_version` 1)
//! are still in the file, in their old shape. Rather than teach `apply` both shapes, the
//! codec decodes an old row into an [`OrderEventV1`] and turns it into today's
//! [`OrderEvent`] with the `From` impl below, before anything else sees it. `apply` only
//! ever knows the current shape.
//!
//! What changed between the two shapes:
//!
//! | v1                                   | v2                                      |
//! |--------------------------------------|-----------------------------------------|
//! | times in whole seconds (`*_secs`)    | `Timestamp`, in milliseconds            |
//! | `qty`                                | `quantity`                              |
//! | `price`: dollars, as a float         | `unit_price`: `Cents`, an integer        |
//! | `shipment`: a bare number            | `ShipmentId`                            |

use crate::order::OrderEvent;
#[allow(unused_imports)] // you will need them in `from`
use crate::{Cents, ShipmentId, Timestamp};

/// An event as version 1 of the shop wrote it (`schema_version` 1). Never written any
/// more; only read.
#[derive(Clone, Debug, PartialEq)]
pub enum OrderEventV1 {
    Placed {
        customer: String,
        at_secs: u64,
    },
    ItemAdded {
        sku: String,
        qty: u32,
        /// Dollars: 4.5 is $4.50. (The reason v2 exists.)
        price: f64,
    },
    ItemRemoved {
        sku: String,
        qty: u32,
    },
    Confirmed {
        at_secs: u64,
    },
    Shipped {
        shipment: u64,
        carrier: String,
        at_secs: u64,
    },
    Cancelled {
        reason: String,
        at_secs: u64,
    },
}

impl From<OrderEventV1> for OrderEvent {
    /// The same fact in today's shape: every field of the v1 event carried over, in v2's
    /// units. A history upcast from v1 and the same history written in v2 give the same
    /// order.
    fn from(old: OrderEventV1) -> OrderEvent {
        let _ = old;
        todo!("exercise 08.5: From<OrderEventV1> for OrderEvent")
    }
}
