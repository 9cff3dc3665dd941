//! Lesson 15: broadcast — one publisher, many subscribers, and what to do about the slow
//! ones.
//!
//! ```text
//!  hub.rs (15.1)        publish ──try_send──▶ [buffer s1] ──▶ s1
//!                               ──try_send──▶ [buffer s2] ──▶ s2   full? DropNewest / Disconnect
//!
//!  ring.rs (15.2)       send ──▶ [ … 6 7 8 9 ]  one ring, the last `capacity` messages
//!  lagging.rs (15.3)              ▲cursor  ▲cursor   each receiver reads at its own cursor;
//!                                                    overwritten ones come back as Lagged(n)
//! ```
//!
//! You edit the exercise files only (`hub.rs`, `ring.rs`, `lagging.rs`); this file swaps in
//! the reference solution when the crate is built with `--features solution`.

#[cfg_attr(feature = "solution", path = "../../../solutions/15-broadcast/hub.rs")]
pub mod hub;

#[cfg_attr(feature = "solution", path = "../../../solutions/15-broadcast/ring.rs")]
pub mod ring;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/15-broadcast/lagging.rs"
)]
pub mod lagging;
