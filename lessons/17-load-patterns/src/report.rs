//! What a client brings back: finished code, not an exercise.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

/// The outcome of one request: the status the server answered, or the error that kept it
/// from answering (no connection, a reset, a body cut short).
pub type Outcome = Result<u16, reqwest::Error>;

/// What a client saw over a run: one status or one error per request, and the latency of
/// each (microseconds, in an HDR histogram).
#[derive(Clone, Debug)]
pub struct Report {
    /// How many requests ended with each status.
    pub statuses: BTreeMap<u16, usize>,
    /// How many requests ended with an error instead of a status.
    pub errors: usize,
    /// Attempts the server refused (429/503) that the client sent again (17.5).
    pub retried: usize,
    /// The latency of each request, in microseconds.
    pub latency: Histogram<u64>,
}

impl Default for Report {
    fn default() -> Report {
        Report::new()
    }
}

impl Report {
    /// An empty report.
    pub fn new() -> Report {
        Report {
            statuses: BTreeMap::new(),
            errors: 0,
            retried: 0,
            // 1 µs to 60 s with 3 significant figures; slower requests count as 60 s.
            latency: Histogram::new_with_bounds(1, 60_000_000, 3)
                .expect("valid bounds and precision"),
        }
    }

    /// Count one request's outcome and latency.
    pub fn record(&mut self, outcome: Outcome, latency: Duration) {
        match outcome {
            Ok(status) => *self.statuses.entry(status).or_default() += 1,
            Err(_) => self.errors += 1,
        }
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.latency.saturating_record(micros.max(1));
    }

    /// How many requests ended with `status`.
    pub fn count(&self, status: u16) -> usize {
        self.statuses.get(&status).copied().unwrap_or(0)
    }

    /// How many requests were counted, statuses and errors together.
    pub fn total(&self) -> usize {
        self.statuses.values().sum::<usize>() + self.errors
    }

    /// The statuses as `200 x 7500, 503 x 2` (errors last), for printing.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self
            .statuses
            .iter()
            .map(|(status, n)| format!("{status} x {n}"))
            .collect();
        if self.errors > 0 {
            parts.push(format!("errors x {}", self.errors));
        }
        if parts.is_empty() {
            "nothing".to_string()
        } else {
            parts.join(", ")
        }
    }
}

/// Run `work` and measure how long it took (real time).
pub async fn timed<F: Future>(work: F) -> (F::Output, Duration) {
    let start = Instant::now();
    let output = work.await;
    (output, start.elapsed())
}
