//! Exercise 00.4: `select!` over two channels and a deadline.
//!
//! Two price feeds send quotes; we take quotes from whichever has one, until both feeds
//! have closed or a deadline passes. In Go this is a `for { select { … } }` loop with a
//! `time.After` case. In tokio it is a loop around `tokio::select!`.

use std::time::Duration;

use tokio::sync::mpsc::Receiver;

/// Which feed a quote came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feed {
    Primary,
    Backup,
}

/// What [`collect_quotes`] gathered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collected {
    /// Every quote received before the end, in the order received.
    pub quotes: Vec<(Feed, u32)>,
    /// Whether the deadline ended the collection (rather than both feeds closing).
    pub timed_out: bool,
}

/// Receive quotes from both feeds as they arrive, until both feeds are closed or
/// `deadline` (measured from the call) has passed, whichever comes first.
///
/// - The deadline is one point in time for the whole call, not a fresh timeout for every
///   quote.
/// - A closed feed must not end the collection while the other is still open, and must
///   not be polled again and again: `recv()` on a closed channel is always ready.
/// - Use `tokio::time` for the deadline, never `std::time`: the tests run on a paused
///   clock.
pub async fn collect_quotes(
    primary: Receiver<u32>,
    backup: Receiver<u32>,
    deadline: Duration,
) -> Collected {
    let _ = (primary, backup, deadline);
    todo!("exercise 00.4: collect_quotes")
}
