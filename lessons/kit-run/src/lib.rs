//! What the lesson programs need at run time, apart from the lesson itself.
//!
//! - [`watchdog!`] and [`run_paused!`]: a real-time deadline for the whole program, and
//!   the paused-clock runtime with a virtual one, so a learner's deadlock ends in a
//!   message instead of a terminal that never comes back.
//! - [`brief_panics`]: panics in two lines, without a backtrace.
//! - [`Gate`] and [`HighWater`]: measure concurrency instead of assuming it.
//!
//! The test harness (`kit`) re-exports all of this; a lesson's `[dependencies]` name only
//! this crate, so a lesson binary never links insta or assert_cmd.

mod gate;
mod runtime;

pub use gate::{Gate, HighWater, HighWaterGuard};
pub use runtime::{
    brief_panics, lesson_number, panic_message, paused_runtime, print_brief, run_paused, settle,
    watchdog,
};

/// `kit_run::watchdog!(Duration::from_secs(20))`: end this lesson program with a clear
/// message if it is still running after that much real time. The lesson number comes
/// from the package name.
#[macro_export]
macro_rules! watchdog {
    ($limit:expr) => {
        $crate::watchdog(env!("CARGO_PKG_NAME"), $limit)
    };
}

/// `kit_run::run_paused!(future)`: run the program's async part on the paused-clock
/// runtime, with a deadline in virtual time. The lesson number comes from the package name.
#[macro_export]
macro_rules! run_paused {
    ($future:expr) => {
        $crate::run_paused(env!("CARGO_PKG_NAME"), $future)
    };
}
