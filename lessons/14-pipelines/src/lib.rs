//! Lesson 14: pipelines.
//!
//! Each module but this one is an exercise file. You edit those files only; this one swaps
//! in the reference solution when the crate is built with `--features solution`, and holds
//! the two types every exercise shares: the error a stage reports and the set of tasks a
//! running pipeline is made of.

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/14-pipelines/stage.rs"
)]
pub mod stage;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/14-pipelines/pipeline.rs"
)]
pub mod pipeline;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/14-pipelines/ordered.rs"
)]
pub mod ordered;

use std::fmt;

pub use pipeline::{Pipeline, Running};
pub use stage::Stage;

/// What a stage's function returned instead of a value, with the stage's name.
///
/// A pipeline returns the first one and stops every stage (exercise 14.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StageError {
    /// The name of the stage whose function failed.
    pub stage: String,
    /// What the function said.
    pub message: String,
}

impl fmt::Display for StageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stage {} failed: {}", self.stage, self.message)
    }
}

impl std::error::Error for StageError {}

/// Every worker task of every stage of a running pipeline.
///
/// A task ends with `Ok(())` when its input is closed and drained (or nobody reads its
/// output any more), and with `Err` when its stage's function failed. A `JoinSet` is
/// Go's `errgroup.Group` with one difference that matters here: dropping it aborts every
/// task still in it.
pub type Tasks = tokio::task::JoinSet<Result<(), StageError>>;
