//! Crash points: how the tests stop a saga at a chosen moment. Finished code, not an
//! exercise.
//!
//! The saga log and the services pass a crash point each time they have written
//! something durable: after each entry of the log is committed, and after each change a
//! service makes to its ledger is committed, before it replies. The points are counted
//! from 1 on the current thread. Armed at point `n`, the `n`-th point ends the run:
//!
//! - [`Crash::Kill`]: the process sends itself SIGKILL. Nothing more runs — no
//!   destructor, no rollback, no flush. This is what the lesson program does for the
//!   crash test (`lesson-10 --crash-test`).
//! - [`Crash::Unwind`]: the thread unwinds with a [`Crashed`] payload, which the caller
//!   catches with `std::panic::catch_unwind`. The tests use it to stop a saga in the
//!   middle without a second process. It does not run the panic hook, so it prints
//!   nothing.
//!
//! Your code never calls these; it only has to be right when they fire.

use std::cell::Cell;

/// How an armed crash point ends the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crash {
    /// SIGKILL the process.
    Kill,
    /// Unwind the thread with a [`Crashed`] payload.
    Unwind,
}

/// The payload of a [`Crash::Unwind`] crash: which point fired, and what had just been
/// written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crashed {
    pub point: u64,
    pub after: String,
}

thread_local! {
    static PASSED: Cell<u64> = const { Cell::new(0) };
    static ARMED: Cell<Option<(u64, Crash)>> = const { Cell::new(None) };
}

/// Crash at the `point`-th crash point from now on this thread (1 is the next one).
pub fn arm(point: u64, how: Crash) {
    PASSED.with(|p| p.set(0));
    ARMED.with(|a| a.set(Some((point, how))));
}

/// Crash nowhere; return how many points were passed since [`arm`].
pub fn disarm() -> u64 {
    ARMED.with(|a| a.set(None));
    PASSED.with(|p| p.replace(0))
}

/// A crash point: `after` says what has just been made durable (it is printed to stderr
/// when the point kills the process, and carried by the unwind payload).
pub(crate) fn point(after: impl FnOnce() -> String) {
    let Some((at, how)) = ARMED.with(Cell::get) else {
        return;
    };
    let n = PASSED.with(|p| {
        p.set(p.get() + 1);
        p.get()
    });
    if n != at {
        return;
    }
    ARMED.with(|a| a.set(None));
    let after = after();
    match how {
        Crash::Kill => {
            eprintln!("crash point {n}: killed after {after}");
            // SAFETY: raise only sends a signal to this process; SIGKILL cannot be caught,
            // so it does not return.
            unsafe {
                libc::raise(libc::SIGKILL);
            }
            unreachable!("SIGKILL returned");
        }
        Crash::Unwind => std::panic::resume_unwind(Box::new(Crashed { point: n, after })),
    }
}
