//! Events and states as the JSON the SQLite file holds. Finished code, not an exercise.
//!
//! - [`encode`] / [`decode`]: an [`OrderEvent`] as a row's `kind`, `schema_version` and
//!   `data`. [`decode`] also reads rows of schema version 1, through the upcaster (08.5).
//! - [`encode_v1`]: writes a row as the shop's first version did (the program and the
//!   tests use it to make an old history).
//! - [`order_to_json`] / [`order_from_json`]: an [`Order`] in a snapshot.
//!
//! The JSON is built and read as `serde_json::Value`, by hand, so that what is stored is
//! visible here field by field (serde's derive would do the same with less code).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Value, json};

use crate::order::{Cancellation, Line, Order, OrderEvent, Shipment, Status};
use crate::store::{NewEvent, RecordedEvent};
use crate::upcast::OrderEventV1;
use crate::{Cents, ShipmentId, Timestamp};

/// The schema version [`encode`] writes.
pub const CURRENT_SCHEMA: u32 = 2;

/// A row or a snapshot that cannot be read.
#[derive(Debug)]
pub enum CodecError {
    Json(serde_json::Error),
    /// A field is missing or has the wrong type.
    Field {
        kind: String,
        field: &'static str,
    },
    /// No event of this kind exists in that schema version.
    Unknown {
        kind: String,
        schema_version: u32,
    },
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodecError::Json(e) => write!(f, "not JSON: {e}"),
            CodecError::Field { kind, field } => {
                write!(
                    f,
                    "{kind}: field `{field}` is missing or has the wrong type"
                )
            }
            CodecError::Unknown {
                kind,
                schema_version,
            } => write!(f, "no event {kind:?} in schema version {schema_version}"),
        }
    }
}

impl std::error::Error for CodecError {}

/// `event` as a row of the current schema.
pub fn encode(event: &OrderEvent) -> NewEvent {
    let data = match event {
        OrderEvent::Placed { customer, at } => json!({ "customer": customer, "at": at.0 }),
        OrderEvent::ItemAdded {
            sku,
            quantity,
            unit_price,
        } => json!({ "sku": sku, "quantity": quantity, "unit_price": unit_price.0 }),
        OrderEvent::ItemRemoved { sku, quantity } => json!({ "sku": sku, "quantity": quantity }),
        OrderEvent::Confirmed { at } => json!({ "at": at.0 }),
        OrderEvent::Shipped {
            shipment,
            carrier,
            at,
        } => json!({ "shipment": shipment.0, "carrier": carrier, "at": at.0 }),
        OrderEvent::Cancelled { reason, at } => json!({ "reason": reason, "at": at.0 }),
    };
    NewEvent {
        kind: event.kind().to_string(),
        schema_version: CURRENT_SCHEMA,
        data: data.to_string(),
    }
}

/// Every event of `events`, encoded.
pub fn encode_all(events: &[OrderEvent]) -> Vec<NewEvent> {
    events.iter().map(encode).collect()
}

/// The event a row holds, in the current shape: a row of schema version 1 is decoded as
/// an [`OrderEventV1`] and upcast (`OrderEvent::from`, exercise 08.5).
pub fn decode(record: &RecordedEvent) -> Result<OrderEvent, CodecError> {
    let data: Value = serde_json::from_str(&record.data).map_err(CodecError::Json)?;
    let kind = record.kind.as_str();
    let f = Fields { kind, data: &data };
    let event = match (record.schema_version, kind) {
        (1, _) => return decode_v1(kind, &data).map(OrderEvent::from),
        (2, "Placed") => OrderEvent::Placed {
            customer: f.string("customer")?,
            at: Timestamp(f.u64("at")?),
        },
        (2, "ItemAdded") => OrderEvent::ItemAdded {
            sku: f.string("sku")?,
            quantity: f.u32("quantity")?,
            unit_price: Cents(f.u64("unit_price")?),
        },
        (2, "ItemRemoved") => OrderEvent::ItemRemoved {
            sku: f.string("sku")?,
            quantity: f.u32("quantity")?,
        },
        (2, "Confirmed") => OrderEvent::Confirmed {
            at: Timestamp(f.u64("at")?),
        },
        (2, "Shipped") => OrderEvent::Shipped {
            shipment: ShipmentId(f.u64("shipment")?),
            carrier: f.string("carrier")?,
            at: Timestamp(f.u64("at")?),
        },
        (2, "Cancelled") => OrderEvent::Cancelled {
            reason: f.string("reason")?,
            at: Timestamp(f.u64("at")?),
        },
        (schema_version, _) => {
            return Err(CodecError::Unknown {
                kind: kind.to_string(),
                schema_version,
            });
        }
    };
    Ok(event)
}

/// `event` as the shop's first version wrote it: schema version 1.
pub fn encode_v1(event: &OrderEventV1) -> NewEvent {
    let (kind, data) = match event {
        OrderEventV1::Placed { customer, at_secs } => (
            "Placed",
            json!({ "customer": customer, "at_secs": at_secs }),
        ),
        OrderEventV1::ItemAdded { sku, qty, price } => (
            "ItemAdded",
            json!({ "sku": sku, "qty": qty, "price": price }),
        ),
        OrderEventV1::ItemRemoved { sku, qty } => {
            ("ItemRemoved", json!({ "sku": sku, "qty": qty }))
        }
        OrderEventV1::Confirmed { at_secs } => ("Confirmed", json!({ "at_secs": at_secs })),
        OrderEventV1::Shipped {
            shipment,
            carrier,
            at_secs,
        } => (
            "Shipped",
            json!({ "shipment": shipment, "carrier": carrier, "at_secs": at_secs }),
        ),
        OrderEventV1::Cancelled { reason, at_secs } => {
            ("Cancelled", json!({ "reason": reason, "at_secs": at_secs }))
        }
    };
    NewEvent {
        kind: kind.to_string(),
        schema_version: 1,
        data: data.to_string(),
    }
}

/// A row of schema version 1, in its own shape.
pub fn decode_v1(kind: &str, data: &Value) -> Result<OrderEventV1, CodecError> {
    let f = Fields { kind, data };
    Ok(match kind {
        "Placed" => OrderEventV1::Placed {
            customer: f.string("customer")?,
            at_secs: f.u64("at_secs")?,
        },
        "ItemAdded" => OrderEventV1::ItemAdded {
            sku: f.string("sku")?,
            qty: f.u32("qty")?,
            price: f.f64("price")?,
        },
        "ItemRemoved" => OrderEventV1::ItemRemoved {
            sku: f.string("sku")?,
            qty: f.u32("qty")?,
        },
        "Confirmed" => OrderEventV1::Confirmed {
            at_secs: f.u64("at_secs")?,
        },
        "Shipped" => OrderEventV1::Shipped {
            shipment: f.u64("shipment")?,
            carrier: f.string("carrier")?,
            at_secs: f.u64("at_secs")?,
        },
        "Cancelled" => OrderEventV1::Cancelled {
            reason: f.string("reason")?,
            at_secs: f.u64("at_secs")?,
        },
        _ => {
            return Err(CodecError::Unknown {
                kind: kind.to_string(),
                schema_version: 1,
            });
        }
    })
}

/// `order` as the JSON of a snapshot.
pub fn order_to_json(order: &Order) -> String {
    let lines: serde_json::Map<String, Value> = order
        .lines
        .iter()
        .map(|(sku, line)| {
            (
                sku.clone(),
                json!({ "quantity": line.quantity, "unit_price": line.unit_price.0 }),
            )
        })
        .collect();
    json!({
        "status": status_name(order.status),
        "customer": order.customer,
        "placed_at": order.placed_at.map(|t| t.0),
        "lines": lines,
        "confirmed_at": order.confirmed_at.map(|t| t.0),
        "shipment": order.shipment.as_ref().map(|s| {
            json!({ "id": s.id.0, "carrier": s.carrier, "at": s.at.0 })
        }),
        "cancellation": order.cancellation.as_ref().map(|c| {
            json!({ "reason": c.reason, "at": c.at.0 })
        }),
    })
    .to_string()
}

/// The order a snapshot's JSON holds.
pub fn order_from_json(json: &str) -> Result<Order, CodecError> {
    let data: Value = serde_json::from_str(json).map_err(CodecError::Json)?;
    let f = Fields {
        kind: "snapshot",
        data: &data,
    };
    let status = match f.string("status")?.as_str() {
        "NotPlaced" => Status::NotPlaced,
        "Open" => Status::Open,
        "Confirmed" => Status::Confirmed,
        "Shipped" => Status::Shipped,
        "Cancelled" => Status::Cancelled,
        _ => return Err(f.bad("status")),
    };
    let mut lines = BTreeMap::new();
    for (sku, line) in data["lines"].as_object().ok_or_else(|| f.bad("lines"))? {
        let l = Fields {
            kind: "snapshot line",
            data: line,
        };
        lines.insert(
            sku.clone(),
            Line {
                quantity: l.u32("quantity")?,
                unit_price: Cents(l.u64("unit_price")?),
            },
        );
    }
    let shipment = match &data["shipment"] {
        Value::Null => None,
        s => {
            let s = Fields {
                kind: "snapshot shipment",
                data: s,
            };
            Some(Shipment {
                id: ShipmentId(s.u64("id")?),
                carrier: s.string("carrier")?,
                at: Timestamp(s.u64("at")?),
            })
        }
    };
    let cancellation = match &data["cancellation"] {
        Value::Null => None,
        c => {
            let c = Fields {
                kind: "snapshot cancellation",
                data: c,
            };
            Some(Cancellation {
                reason: c.string("reason")?,
                at: Timestamp(c.u64("at")?),
            })
        }
    };
    Ok(Order {
        status,
        customer: f.string("customer")?,
        placed_at: f.optional_u64("placed_at")?.map(Timestamp),
        lines,
        confirmed_at: f.optional_u64("confirmed_at")?.map(Timestamp),
        shipment,
        cancellation,
    })
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::NotPlaced => "NotPlaced",
        Status::Open => "Open",
        Status::Confirmed => "Confirmed",
        Status::Shipped => "Shipped",
        Status::Cancelled => "Cancelled",
    }
}

/// Typed access to the fields of one JSON object, with errors that name them.
struct Fields<'a> {
    kind: &'a str,
    data: &'a Value,
}

impl Fields<'_> {
    fn bad(&self, field: &'static str) -> CodecError {
        CodecError::Field {
            kind: self.kind.to_string(),
            field,
        }
    }

    fn string(&self, field: &'static str) -> Result<String, CodecError> {
        self.data[field]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| self.bad(field))
    }

    fn u64(&self, field: &'static str) -> Result<u64, CodecError> {
        self.data[field].as_u64().ok_or_else(|| self.bad(field))
    }

    fn u32(&self, field: &'static str) -> Result<u32, CodecError> {
        self.u64(field)?.try_into().map_err(|_| self.bad(field))
    }

    fn f64(&self, field: &'static str) -> Result<f64, CodecError> {
        self.data[field].as_f64().ok_or_else(|| self.bad(field))
    }

    fn optional_u64(&self, field: &'static str) -> Result<Option<u64>, CodecError> {
        match &self.data[field] {
            Value::Null => Ok(None),
            v => v.as_u64().map(Some).ok_or_else(|| self.bad(field)),
        }
    }
}
