//! Exercises 10.3–10.5: the orchestrator — running the steps, compensating, resuming.
//!
//! The orchestrator is the only one that knows the whole saga. It sends each step's action
//! in turn; when one fails, it sends the undos of the steps that took effect, last first.
//! Everything it decides, it writes to the saga log *before* acting on it, so that a fresh
//! orchestrator started after a crash can read where the saga stood and carry on.

use crate::log::{Entry, LogError, SagaLog};
use crate::progress;
use crate::retry::RetryPolicy;
#[allow(unused_imports)] // you will need it
use crate::retry::retry;
use crate::{Clock, Jitter, Participant, Status};

/// An orchestrator for sagas made of `steps`, in order.
pub struct Orchestrator<'a> {
    /// Where every decision is written before it is acted on.
    pub log: &'a SagaLog,
    /// The saga's steps, in the order they run. Step `i` of a saga is `steps[i]`.
    pub steps: Vec<&'a dyn Participant>,
    /// How an action is retried.
    pub act_policy: RetryPolicy,
    /// How an undo is retried.
    pub undo_policy: RetryPolicy,
    /// Where retries wait.
    pub clock: &'a dyn Clock,
    /// The randomness in their waits.
    pub jitter: &'a dyn Jitter,
}

impl Orchestrator<'_> {
    /// Where `saga` stands, from its log; `None` if it was never begun.
    pub fn progress(&self, saga: &str) -> Result<Option<progress::Progress>, LogError> {
        Ok(progress::read(&self.log.entries(saga)?, self.steps.len()))
    }

    /// Exercise 10.3: run a new saga (its log is empty) to its end, and return its final
    /// status.
    ///
    /// Log `Begun`. Then for each step in order: log `Started` with the step's idempotency
    /// key, send the action with that key through [`retry`] with `act_policy`, and log
    /// `Done` — or, if it failed, log `Failed` and compensate ([`Orchestrator::compensate`]).
    /// A step's key must be the same every time that step of that saga is sent, and differ
    /// from every other step's and every other saga's.
    pub fn run(&self, saga: &str) -> Result<Status, LogError> {
        //@ solution
        self.log.append(saga, &Entry::Begun)?;
        self.forward(saga, 0)
        //@ skeleton
        // let _ = (saga, &self.log, &self.steps);
        // let _ = (self.act_policy, self.clock, self.jitter);
        // todo!("exercise 10.3: Orchestrator::run")
        //@ end
    }

    //@ solution
    /// Send the actions of steps `from..`, then return Completed; or, at the first step
    /// that fails, compensate.
    fn forward(&self, saga: &str, from: usize) -> Result<Status, LogError> {
        for (step, participant) in self.steps.iter().enumerate().skip(from) {
            let key = format!("{saga}/{}", participant.name());
            self.log.append(
                saga,
                &Entry::Started {
                    step,
                    key: key.clone(),
                },
            )?;
            match retry(&self.act_policy, self.clock, self.jitter, || {
                participant.act(&key)
            }) {
                Ok(_) => self.log.append(saga, &Entry::Done { step })?,
                Err(failure) => {
                    self.log.append(saga, &Entry::Failed { step, failure })?;
                    return self.compensate(saga);
                }
            }
        }
        Ok(Status::Completed)
    }

    /// The key `step`'s action was sent with: from its `Started` entry.
    fn key_of(entries: &[Entry], step: usize) -> Option<&str> {
        entries.iter().find_map(|entry| match entry {
            Entry::Started { step: s, key } if *s == step => Some(key.as_str()),
            _ => None,
        })
    }

    //@ end
    /// Exercise 10.4: undo the steps of `saga` that may have taken effect, last first, and
    /// return the final status: Compensated, or Failed if an undo got stuck.
    ///
    /// Called once the log holds a `Failed` entry (and again after a crash). Read the log
    /// for the steps still to undo ([`progress::read`]). For each: log `Undoing` with the
    /// key the step's action was sent with, send the undo with that key through [`retry`]
    /// with `undo_policy`, and log `Undone` — or, if the undo failed, log `Stuck` with
    /// the failure and go on with the next step. Never drop a failed undo silently.
    pub fn compensate(&self, saga: &str) -> Result<Status, LogError> {
        //@ solution
        let entries = self.log.entries(saga)?;
        let Some(progress) = progress::read(&entries, self.steps.len()) else {
            return Ok(Status::Pending);
        };
        for step in progress.to_undo {
            let participant = self.steps[step];
            let key = Self::key_of(&entries, step)
                .map(str::to_string)
                .unwrap_or_else(|| format!("{saga}/{}", participant.name()));
            self.log.append(
                saga,
                &Entry::Undoing {
                    step,
                    key: key.clone(),
                },
            )?;
            match retry(&self.undo_policy, self.clock, self.jitter, || {
                participant.undo(&key)
            }) {
                Ok(_) => self.log.append(saga, &Entry::Undone { step })?,
                Err(failure) => self.log.append(saga, &Entry::Stuck { step, failure })?,
            }
        }
        Ok(self.progress(saga)?.map_or(Status::Pending, |p| p.status))
        //@ skeleton
        // let _ = (saga, self.undo_policy, Entry::Undone { step: 0 });
        // todo!("exercise 10.4: Orchestrator::compensate")
        //@ end
    }

    /// Exercise 10.5: carry `saga` on after a crash, from its log alone, and return its
    /// final status.
    ///
    /// Never begun: run it. Pending or Running: go forward from `next_step` — sending that
    /// step again with the key it was started with if it was started, and never sending a
    /// step logged `Done` again. Compensating: compensate. Ended: nothing to send; return
    /// the status. A saga is resumed forward or compensated, never both — unless going
    /// forward meets a failing step, which compensates as in [`Orchestrator::run`].
    pub fn resume(&self, saga: &str) -> Result<Status, LogError> {
        //@ solution
        let Some(progress) = self.progress(saga)? else {
            return self.run(saga);
        };
        match progress.status {
            Status::Pending | Status::Running => {
                self.forward(saga, progress.next_step.unwrap_or(self.steps.len()))
            }
            Status::Compensating => self.compensate(saga),
            ended => Ok(ended),
        }
        //@ skeleton
        // let _ = saga;
        // todo!("exercise 10.5: Orchestrator::resume")
        //@ end
    }
}
