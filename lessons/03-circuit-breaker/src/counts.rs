//! Exercise 03.1: the counts.

use crate::Counts;

impl Counts {
    /// A call was let through.
    pub fn on_request(&mut self) {
        todo!("exercise 03.1: Counts::on_request")
    }

    /// A call succeeded: one more success in total and in a row; the run of failures is
    /// over.
    pub fn on_success(&mut self) {
        todo!("exercise 03.1: Counts::on_success")
    }

    /// A call failed: one more failure in total and in a row; the run of successes is over.
    pub fn on_failure(&mut self) {
        todo!("exercise 03.1: Counts::on_failure")
    }

    /// Back to zero, at the start of a new generation.
    pub fn clear(&mut self) {
        todo!("exercise 03.1: Counts::clear")
    }
}
