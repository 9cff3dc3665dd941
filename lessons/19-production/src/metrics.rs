//! Exercise 19.3: metrics in the Prometheus text format.
//!
//! A scraper (Prometheus, an agent) reads `GET /metrics` every few seconds. What it needs
//! from a request-serving service, at the least:
//!
//! | name in the text | type | what |
//! |---|---|---|
//! | `lesson_requests_total{status="…"}` | counter | finished `/work` requests, by HTTP status |
//! | `lesson_requests_in_flight` | gauge | `/work` requests started and not yet ended |
//! | `lesson_request_duration_seconds` | histogram, buckets 0.01, 0.1, 1, 10 | how long finished requests took, in **seconds** |
//! | `lesson_events_flushed_total` | counter | events the batcher wrote (exercise 19.4) |
//!
//! The registry and the encoder come from `prometheus-client`; you choose nothing about
//! the text format, only what to count and when.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use tokio::time::Instant;

/// The histogram's bucket bounds, in seconds.
pub const BUCKETS: [f64; 4] = [0.01, 0.1, 1.0, 10.0];

/// The label of `lesson_requests_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabel {
    pub status: u16,
}

/// The service's metrics. Cloning shares them: every metric type of `prometheus-client`
/// is a handle to shared atomics, so a clone in each handler costs a reference count.
#[derive(Clone, Debug)]
pub struct Metrics {
    /// Where every metric below is registered; `encode` writes it out.
    registry: Arc<Registry>,
    requests: Family<StatusLabel, Counter>,
    in_flight: Gauge,
    duration: Histogram,
    events_flushed: Counter,
}

/// One `/work` request in flight, from [`Metrics::start`] until it is finished or dropped.
#[derive(Debug)]
pub struct InFlight {
    metrics: Metrics,
    started: Instant,
}

impl Metrics {
    /// Register the four metrics of the table above, under these names (without the
    /// `_total` that the encoder adds to counters): `lesson_requests`,
    /// `lesson_requests_in_flight`, `lesson_request_duration_seconds`,
    /// `lesson_events_flushed`. Each needs a one-line help text.
    pub fn new() -> Metrics {
        todo!("exercise 19.3: Metrics::new")
    }

    /// A request starts: it is in flight until the returned guard is finished **or
    /// dropped** (a request whose client went away, or that a shutdown cancelled, is
    /// dropped without finishing, and must not stay in flight for ever).
    pub fn start(&self) -> InFlight {
        todo!("exercise 19.3: Metrics::start")
    }

    /// The batcher wrote `n` events.
    pub fn flushed(&self, n: u64) {
        let _ = n;
        todo!("exercise 19.3: Metrics::flushed")
    }

    /// Everything registered, in the text format (`prometheus_client::encoding::text::encode`).
    pub fn encode(&self) -> String {
        let _ = (&self.registry, &self.in_flight, &self.duration);
        let _ = &self.events_flushed;
        todo!("exercise 19.3: Metrics::encode")
    }
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl InFlight {
    /// The request ended with HTTP `status`: count it under its status and record how
    /// long it took since [`Metrics::start`] (tokio's clock, in seconds). Its leaving the
    /// in-flight gauge happens when `self` is dropped, at the end of this call.
    pub fn finish(self, status: u16) {
        let _ = (status, &self.metrics.requests, self.started);
        todo!("exercise 19.3: InFlight::finish")
    }
}

impl Drop for InFlight {
    /// However the request ended — finished, cancelled, its future dropped — it is no
    /// longer in flight.
    fn drop(&mut self) {
        // Exercise 19.3: what must happen when a request ends, however it ends?
        // (No `todo!` here: a panic in `drop` during another panic aborts the tests.)
    }
}
