//! Exercise 00.4: `select!` over two channels and a deadline.
//!
//! Two price feeds send quotes; we take quotes from whichever has one, until both feeds
//! have closed or a deadline passes. In Go this is a `for { select { … } }` loop with a
//! `time.After` case. In tokio it is a loop around `tokio::select!`.

use std::time::Duration;

use tokio::sync::mpsc::Receiver;
//@ solution
use tokio::time::{Instant, sleep_until};
//@ end

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
    //@ solution
    mut primary: Receiver<u32>,
    mut backup: Receiver<u32>,
    //@ skeleton
    // primary: Receiver<u32>,
    // backup: Receiver<u32>,
    //@ end
    deadline: Duration,
) -> Collected {
    //@ solution
    // One deadline for the whole call. Creating `sleep(deadline)` inside the loop would
    // restart the clock at every quote, and a feed that keeps talking would never time out.
    // `tokio::time::Instant`, not `std::time::Instant`: only tokio's clock can be paused.
    let until = sleep_until(Instant::now() + deadline);
    tokio::pin!(until);

    let mut quotes = Vec::new();
    let (mut primary_open, mut backup_open) = (true, true);
    while primary_open || backup_open {
        tokio::select! {
            // A fixed order makes the result repeatable when two things are ready at
            // once; without `biased;` tokio picks a ready branch at random.
            biased;
            _ = &mut until => return Collected { quotes, timed_out: true },
            // The `if` guards switch a closed feed off. Without them, `recv()` on a closed
            // channel returns `None` at once, every time: the loop would spin. (Go's
            // equivalent trick is setting the channel variable to nil.)
            quote = primary.recv(), if primary_open => match quote {
                Some(q) => quotes.push((Feed::Primary, q)),
                None => primary_open = false,
            },
            quote = backup.recv(), if backup_open => match quote {
                Some(q) => quotes.push((Feed::Backup, q)),
                None => backup_open = false,
            },
        }
    }
    Collected {
        quotes,
        timed_out: false,
    }
    //@ skeleton
    // let _ = (primary, backup, deadline);
    // todo!("exercise 00.4: collect_quotes")
    //@ end
}
