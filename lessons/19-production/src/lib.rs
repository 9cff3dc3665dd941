//! Lesson 19: a small service made ready for production — configuration, health,
//! metrics, work that can be stopped, and a graceful shutdown.
//!
//! You edit the exercise files only; this file swaps in the reference solution when the
//! crate is built with `--features solution`.

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/19-production/config.rs"
)]
pub mod config;
#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/19-production/health.rs"
)]
pub mod health;
#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/19-production/metrics.rs"
)]
pub mod metrics;
#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/19-production/shutdown.rs"
)]
pub mod shutdown;
#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/19-production/work.rs"
)]
pub mod work;

pub mod client;
pub mod logs;
pub mod service;
