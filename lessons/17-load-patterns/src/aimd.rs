//! Exercise 17.4: an AIMD concurrency limit.
//!
//! A plain struct with `&mut self` methods: whoever owns it changes it, and nobody else
//! can read it halfway through a change — no data race is possible by construction.

use std::time::Duration;

/// Additive increase, multiplicative decrease: how many requests a client may have in
/// flight, learned from the server's answers.
#[derive(Clone, Debug)]
pub struct Aimd {
    limit: usize,
    min: usize,
    max: usize,
    latency_target: Duration,
    /// Successes counted since the limit last changed.
    successes: usize,
}

impl Aimd {
    /// A limit that starts at `initial` and stays within `min..=max` (`min` is at least 1);
    /// a success slower than `latency_target` counts as a sign of overload.
    pub fn new(initial: usize, min: usize, max: usize, latency_target: Duration) -> Aimd {
        let min = min.max(1);
        let max = max.max(min);
        Aimd {
            limit: initial.clamp(min, max),
            min,
            max,
            latency_target,
            successes: 0,
        }
    }

    /// How many requests may be in flight now.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The server answered 429 or 503: halve the limit (rounding down), never below `min`.
    pub fn on_overload(&mut self) {
        let _ = (self.min, self.successes);
        todo!("exercise 17.4: Aimd::on_overload")
    }

    /// A request succeeded in `latency`. Slower than the target: the same as an overload.
    /// Otherwise count it; once `limit` successes have been counted since the limit last
    /// changed, the limit grows by one, never above `max`.
    pub fn on_success(&mut self, latency: Duration) {
        let _ = (latency, self.max, self.latency_target);
        todo!("exercise 17.4: Aimd::on_success")
    }
}
