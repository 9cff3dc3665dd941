//! Exercise 10.2: where a saga stands, read from its log.
//!
//! The log is the saga's only memory: after a crash, a fresh orchestrator knows nothing
//! but what these entries say. [`read`] folds them into the answer to the two questions
//! recovery asks — where does the saga stand, and what must be sent next.

use crate::Status;
use crate::log::Entry;

/// Where a saga stands, and what is left to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    pub status: Status,
    /// While the saga is Pending or Running: the step to send next — the first whose
    /// action is not logged `Done`. It may have been `Started` already, before a crash:
    /// then it is sent again, with the same key. `None` in every other status.
    pub next_step: Option<usize>,
    /// While the saga is Compensating: the steps still to undo, in the order to undo them.
    /// Empty in every other status.
    pub to_undo: Vec<usize>,
    /// The steps whose undo got stuck (an `Entry::Stuck`), in the order they got stuck.
    pub stuck: Vec<usize>,
}

/// Read the log of a saga of `steps` steps. `None` if the log is empty (the saga was never
/// begun).
///
/// The rules:
///
/// - No `Failed` entry: the saga goes forward. Every step `Done` is Completed; otherwise
///   it is Running once any step has been `Started`, Pending before that.
/// - A `Failed` entry for step `k`: the saga goes backward. The steps to undo are those
///   that may have taken effect: every step logged `Done`, and step `k` itself only if its
///   failure says it may have taken effect ([`crate::Failure::may_have_taken_effect`]: it
///   gave up on transient errors; a permanent refusal did nothing). They are undone last
///   done first. A step logged `Undone` or `Stuck` is no longer to undo; a step logged
///   `Undoing` but neither is still to undo (the crash may have come before the service
///   heard of it). While any are left, the saga is Compensating; then it is Compensated,
///   or Failed if any undo got stuck.
pub fn read(entries: &[Entry], steps: usize) -> Option<Progress> {
    let _ = (entries, steps, Status::Pending);
    todo!("exercise 10.2: read")
}
