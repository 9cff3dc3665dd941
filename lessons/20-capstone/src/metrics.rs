//! The platform's metrics, in the Prometheus text format (`GET /metrics`). Finished code
//! (chapter 19's), not an exercise — apart from one counter, which the stream actors'
//! supervisor bumps (20.1).

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// The metrics. Counters and gauges are atomics behind an `Arc`: cheap to clone, cheap to
/// bump from any task, read only when scraped.
pub struct Metrics {
    registry: Registry,
    /// Answers to HTTP requests, by route and status code.
    pub requests: Family<Vec<(String, String)>, Counter>,
    /// Requests being handled now.
    pub in_flight: Gauge,
    /// Stream actors restarted after a panic (20.1 bumps it).
    pub actor_restarts: Counter,
    /// The store's last position, set at each scrape.
    pub store_head: Gauge,
    /// The read model's position, set at each scrape.
    pub read_model_position: Gauge,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<Vec<(String, String)>, Counter>::default();
        let in_flight = Gauge::default();
        let actor_restarts = Counter::default();
        let store_head = Gauge::default();
        let read_model_position = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP answers by route and status",
            requests.clone(),
        );
        registry.register(
            "http_in_flight",
            "requests being handled",
            in_flight.clone(),
        );
        registry.register(
            "stream_actor_restarts",
            "stream actors restarted after a panic",
            actor_restarts.clone(),
        );
        registry.register(
            "store_head",
            "the event log's last position",
            store_head.clone(),
        );
        registry.register(
            "read_model_position",
            "the position the read model reflects",
            read_model_position.clone(),
        );
        Metrics {
            registry,
            requests,
            in_flight,
            actor_restarts,
            store_head,
            read_model_position,
        }
    }

    /// Count one answer.
    pub fn answered(&self, route: &str, status: u16) {
        self.requests
            .get_or_create(&vec![
                ("route".to_string(), route.to_string()),
                ("status".to_string(), status.to_string()),
            ])
            .inc();
    }

    /// Everything, in the text format.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}
