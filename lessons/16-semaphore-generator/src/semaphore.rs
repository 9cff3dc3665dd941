//! Exercises 16.1–16.3: a counting semaphore with RAII permits, a FIFO line of waiters
//! (a large request at the head is never overtaken), and waiters that may be cancelled at
//! any moment without losing permits or blocking the line.
//!
//! One `std::sync::Mutex` guards everything: the free permits, the line, and the grants
//! made but not yet collected. A std mutex, not tokio's, because no `.await` happens while
//! it is held and every critical section is a few field updates.

#![allow(dead_code)] // the skeleton reads none of these fields yet; your code will

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

/// A counting semaphore: `permits` things may be held at once; whoever wants more waits,
/// in line, first come first served.
pub struct Semaphore {
    state: Mutex<State>,
}

/// Everything the semaphore knows, behind one lock.
struct State {
    /// Permits nobody holds and nobody has been granted.
    available: usize,
    /// Set by `close`: every acquire from now on fails.
    closed: bool,
    /// The waiters, oldest first. Only the head may be granted permits: a later, smaller
    /// request that would fit is still refused (no barging), so a large request is never
    /// starved by a stream of small ones.
    queue: VecDeque<Waiter>,
    /// Waiters that were granted their permits but whose future has not been polled since.
    /// The permits are theirs; if the future is dropped before it collects them, its
    /// `Drop` gives them back.
    granted: Vec<u64>,
    /// The id of the next waiter.
    next_id: u64,
}

/// One future waiting in line.
struct Waiter {
    id: u64,
    wanted: usize,
    waker: Waker,
}

/// Permits held, given back to the semaphore when this is dropped — at the end of the
/// scope, or while unwinding from a panic.
#[must_use = "a permit is given back as soon as it is dropped: bind it with `let _permit = …`"]
pub struct Permit<'a> {
    semaphore: &'a Semaphore,
    count: usize,
}

/// `acquire` failed: the semaphore is closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcquireError;

/// Why `try_acquire` returned no permit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore is closed.
    Closed,
    /// Not enough permits are free now, or others are already waiting in line.
    NoPermits,
}

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the semaphore is closed")
    }
}

impl std::error::Error for AcquireError {}

impl Semaphore {
    /// A semaphore with `permits` permits, all free.
    pub fn new(permits: usize) -> Semaphore {
        Semaphore {
            state: Mutex::new(State {
                available: permits,
                closed: false,
                queue: VecDeque::new(),
                granted: Vec::new(),
                next_id: 0,
            }),
        }
    }

    /// The lock. A panic never happens while it is held, but a poisoned mutex is still
    /// usable: a `Permit` dropped while unwinding must be able to give its permits back.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many permits are free now (not held, not granted to a waiter).
    pub fn available_permits(&self) -> usize {
        todo!("exercise 16.1: Semaphore::available_permits")
    }

    /// One permit, now, or an error — never waits.
    pub fn try_acquire(&self) -> Result<Permit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// `n` permits, now, or an error — never waits. Fails with `Closed` once the semaphore
    /// is closed, and with `NoPermits` when fewer than `n` are free *or anyone is waiting
    /// in line* (exercise 16.2): taking permits past a waiter would be barging.
    pub fn try_acquire_many(&self, n: usize) -> Result<Permit<'_>, TryAcquireError> {
        let _ = n;
        todo!("exercise 16.1: Semaphore::try_acquire_many")
    }

    /// One permit: waits in line until it is this caller's turn and one is free.
    pub fn acquire(&self) -> Acquire<'_> {
        self.acquire_many(1)
    }

    /// `n` permits at once: waits in line until it is this caller's turn and `n` are free.
    /// `n` must not exceed the permits the semaphore was made with, or it waits until the
    /// semaphore is closed.
    pub fn acquire_many(&self, n: usize) -> Acquire<'_> {
        Acquire {
            semaphore: self,
            wanted: n,
            waiting: None,
        }
    }

    /// Close the semaphore: every waiter wakes up with `AcquireError`, and every later
    /// acquire fails. Permits already held stay valid and are given back as usual.
    pub fn close(&self) {
        todo!("exercise 16.3: Semaphore::close")
    }

    /// Give `n` permits back and serve the line.
    fn release(&self, n: usize) {
        let mut state = self.lock();
        state.available += n;
        let wake = grant_in_order(&mut state);
        drop(state);
        wake.into_iter().for_each(Waker::wake);
    }
}

/// Grant permits to the head of the line while it fits, in order; return the wakers of the
/// waiters served, to wake once the lock is released.
///
/// The head is served first or nobody is: a later, smaller request waits behind a large
/// head even if it would fit (exercise 16.2).
fn grant_in_order(state: &mut State) -> Vec<Waker> {
    if !state.queue.is_empty() {
        todo!("exercise 16.2: grant_in_order")
    }
    Vec::new()
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        todo!("exercise 16.1: give the permits back when a Permit is dropped")
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit")
            .field("count", &self.count)
            .finish()
    }
}

impl Permit<'_> {
    /// How many permits this holds.
    pub fn count(&self) -> usize {
        self.count
    }
}

/// The future `acquire` and `acquire_many` return.
///
/// It must be cancel safe: when it is dropped before it completes, the semaphore must be
/// as if it had never asked (exercise 16.3).
#[must_use = "a future does nothing unless awaited"]
pub struct Acquire<'a> {
    semaphore: &'a Semaphore,
    wanted: usize,
    /// Our id in the line once we joined it; `None` before the first poll and after we
    /// completed.
    waiting: Option<u64>,
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<Permit<'a>, AcquireError>;

    /// On the first poll: fail if closed; take the permits at once if nobody is in line
    /// and enough are free; otherwise join the end of the line. On a later poll: collect
    /// the grant if one was made, fail if the semaphore was closed, or stay in line with
    /// the newest waker.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let _ = cx;
        todo!("exercise 16.2: Acquire::poll")
    }
}

impl Drop for Acquire<'_> {
    /// Cancelled (dropped before it completed): leave the line, or, if permits were
    /// granted but never collected, give them back. Either way, serve the line again —
    /// a large request leaving the head may let the smaller ones behind it through.
    fn drop(&mut self) {
        let Some(id) = self.waiting.take() else {
            return;
        };
        todo!("exercise 16.3: a cancelled Acquire (waiter {id}) leaves the line")
    }
}
