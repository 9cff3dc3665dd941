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
    //@ solution
    if entries.is_empty() {
        return None;
    }
    let mut started = false;
    let mut done: Vec<usize> = Vec::new();
    let mut failed = None;
    let mut finished_undo: Vec<usize> = Vec::new();
    let mut stuck: Vec<usize> = Vec::new();
    for entry in entries {
        match entry {
            Entry::Begun | Entry::Undoing { .. } => {}
            Entry::Started { .. } => started = true,
            Entry::Done { step } => done.push(*step),
            Entry::Failed { step, failure } => failed = Some((*step, failure)),
            Entry::Undone { step } => finished_undo.push(*step),
            Entry::Stuck { step, .. } => {
                finished_undo.push(*step);
                stuck.push(*step);
            }
        }
    }
    let Some((failed_step, failure)) = failed else {
        let next = (0..steps).find(|step| !done.contains(step));
        let status = match next {
            None => Status::Completed,
            Some(_) if started => Status::Running,
            Some(_) => Status::Pending,
        };
        return Some(Progress {
            status,
            next_step: next,
            to_undo: Vec::new(),
            stuck,
        });
    };
    let mut took_effect = done;
    if failure.may_have_taken_effect() {
        took_effect.push(failed_step);
    }
    let to_undo: Vec<usize> = took_effect
        .into_iter()
        .rev()
        .filter(|step| !finished_undo.contains(step))
        .collect();
    let status = if !to_undo.is_empty() {
        Status::Compensating
    } else if stuck.is_empty() {
        Status::Compensated
    } else {
        Status::Failed
    };
    Some(Progress {
        status,
        next_step: None,
        to_undo,
        stuck,
    })
    //@ skeleton
    // let _ = (entries, steps, Status::Pending);
    // todo!("exercise 10.2: read")
    //@ end
}
