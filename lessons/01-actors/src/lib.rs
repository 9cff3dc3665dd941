//! Lesson 01: actors.
//!
//! Each module is one exercise file. You edit those files only; this one swaps in the
//! reference solution when the crate is built with `--features solution`.

#[cfg_attr(feature = "solution", path = "../../../solutions/01-actors/actor.rs")]
pub mod actor;

#[cfg_attr(feature = "solution", path = "../../../solutions/01-actors/ask.rs")]
pub mod ask;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/01-actors/supervisor.rs"
)]
pub mod supervisor;

#[cfg_attr(feature = "solution", path = "../../../solutions/01-actors/system.rs")]
pub mod system;
