//! Exercise 03.1: the counts — reference solution.

use crate::Counts;

impl Counts {
    /// A call was let through.
    pub fn on_request(&mut self) {
        self.requests += 1;
    }

    /// A call succeeded.
    pub fn on_success(&mut self) {
        self.total_successes += 1;
        self.consecutive_successes += 1;
        // A success ends a run of failures: "5 failures in a row" must mean in a row.
        self.consecutive_failures = 0;
    }

    /// A call failed.
    pub fn on_failure(&mut self) {
        self.total_failures += 1;
        self.consecutive_failures += 1;
        self.consecutive_successes = 0;
    }

    /// Back to zero, at the start of a new generation.
    pub fn clear(&mut self) {
        *self = Counts::default();
    }
}
