//! Exercise 03.1: the counts.

use crate::Counts;

impl Counts {
    /// A call was let through.
    pub fn on_request(&mut self) {
        //@ solution
        self.requests += 1;
        //@ skeleton
        // todo!("exercise 03.1: Counts::on_request")
        //@ end
    }

    /// A call succeeded: one more success in total and in a row; the run of failures is
    /// over.
    pub fn on_success(&mut self) {
        //@ solution
        self.total_successes += 1;
        self.consecutive_successes += 1;
        // A success ends a run of failures: "5 failures in a row" must mean in a row.
        self.consecutive_failures = 0;
        //@ skeleton
        // todo!("exercise 03.1: Counts::on_success")
        //@ end
    }

    /// A call failed: one more failure in total and in a row; the run of successes is over.
    pub fn on_failure(&mut self) {
        //@ solution
        self.total_failures += 1;
        self.consecutive_failures += 1;
        self.consecutive_successes = 0;
        //@ skeleton
        // todo!("exercise 03.1: Counts::on_failure")
        //@ end
    }

    /// Back to zero, at the start of a new generation.
    pub fn clear(&mut self) {
        //@ solution
        *self = Counts::default();
        //@ skeleton
        // todo!("exercise 03.1: Counts::clear")
        //@ end
    }
}
