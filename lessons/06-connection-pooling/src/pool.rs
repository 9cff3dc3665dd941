//! Exercises 06.1–06.4: a connection pool.
//!
//! ```text
//!   get() ──▶ idle connection? ──yes──▶ ping ok? ──yes──▶ PooledConn (a guard)
//!                 │ no                     │ no: discard, try again       │
//!                 ▼                        │                              │ drop
//!            a free slot? ──yes──▶ reserve it, connect (unlocked) ──▶ ───┤
//!                 │ no                                                    ▼
//!                 ▼                                            back to idle, wake a waiter
//!            wait until one comes back, or the checkout deadline
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::{Clock, Manager};

/// How big the pool is, and how long things may take.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Connections kept open even when idle (opened by `Pool::new`).
    pub min_idle: usize,
    /// Connections open at most, idle or in use.
    pub max_size: usize,
    /// How long `get` waits for a connection when all `max_size` are in use, by the pool's
    /// clock.
    pub checkout_timeout: Duration,
    /// Idle connections beyond `min_idle` are closed after this long unused.
    pub idle_timeout: Duration,
}

/// What the pool has done so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Connections opened.
    pub opened: u64,
    /// Checkouts served by an idle connection.
    pub reused: u64,
    /// Connections thrown away because they failed their ping.
    pub discarded: u64,
    /// Idle connections closed by the idle timeout.
    pub reaped: u64,
    /// `get` calls that gave up waiting.
    pub timeouts: u64,
    /// The most connections that were ever open at once.
    pub max_open: usize,
}

/// Why `get` returned no connection.
#[derive(Debug)]
pub enum PoolError<E> {
    /// Every connection stayed in use for the whole checkout timeout.
    Timeout(Duration),
    /// The pool is closed.
    Closed,
    /// Opening a new connection failed.
    Connect(E),
}

impl<E: fmt::Display> fmt::Display for PoolError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PoolError::Timeout(d) => write!(
                f,
                "no connection became free within {d:?}: every connection is in use"
            ),
            PoolError::Closed => f.write_str("the pool is closed"),
            PoolError::Connect(e) => write!(f, "cannot open a connection: {e}"),
        }
    }
}

/// A pool of connections made by a [`Manager`]. Clone it to share it between threads.
pub struct Pool<M: Manager> {
    shared: Arc<Shared<M>>,
}

impl<M: Manager> Clone for Pool<M> {
    fn clone(&self) -> Self {
        Pool {
            shared: Arc::clone(&self.shared),
        }
    }
}

struct Shared<M: Manager> {
    manager: M,
    config: Config,
    clock: Arc<dyn Clock>,
    state: Mutex<State<M::Connection>>,
    /// Signalled whenever a connection or a slot may have become available: `get` waits on
    /// it for one, and `close` for every open connection to be idle.
    changed: Condvar,
}

struct State<C> {
    /// Connections nobody is using, the most recently returned at the back.
    idle: VecDeque<Idle<C>>,
    /// Connections open or being opened: idle, on loan, and reserved slots. The ones not
    /// idle (`open - idle.len()`) are on loan or being opened.
    open: usize,
    closed: bool,
    stats: Stats,
}

struct Idle<C> {
    conn: C,
    since: Instant,
}

/// What `take_or_reserve` got.
#[allow(dead_code)] // the skeleton never builds an `Idle`; your take_or_reserve will
enum Taken<C> {
    /// An idle connection, to be checked before use.
    Idle(C),
    /// A reserved slot: `open` already counts it; the caller must connect, or give it back.
    Slot,
}

/// A connection on loan from the pool: use it through `*` (`Deref`), and it goes back
/// when the guard is dropped.
pub struct PooledConn<M: Manager> {
    shared: Arc<Shared<M>>,
    conn: Option<M::Connection>,
}

impl<M: Manager> Deref for PooledConn<M> {
    type Target = M::Connection;
    fn deref(&self) -> &M::Connection {
        self.conn.as_ref().expect("present until dropped")
    }
}

impl<M: Manager> DerefMut for PooledConn<M> {
    fn deref_mut(&mut self) -> &mut M::Connection {
        self.conn.as_mut().expect("present until dropped")
    }
}

impl<M: Manager> Pool<M> {
    /// A pool with `min_idle` connections open and idle.
    pub fn new(
        manager: M,
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<Pool<M>, PoolError<M::Error>> {
        assert!(
            config.max_size > 0 && config.min_idle <= config.max_size,
            "a pool needs 0 < max_size and min_idle <= max_size"
        );
        let mut idle = VecDeque::new();
        for _ in 0..config.min_idle {
            let conn = manager.connect().map_err(PoolError::Connect)?;
            idle.push_back(Idle {
                conn,
                since: clock.now(),
            });
        }
        let opened = idle.len();
        Ok(Pool {
            shared: Arc::new(Shared {
                manager,
                config,
                clock,
                state: Mutex::new(State {
                    idle,
                    open: opened,
                    closed: false,
                    stats: Stats {
                        opened: opened as u64,
                        max_open: opened,
                        ..Stats::default()
                    },
                }),
                changed: Condvar::new(),
            }),
        })
    }

    /// Check a connection out, waiting up to `checkout_timeout` if all are in use.
    pub fn get(&self) -> Result<PooledConn<M>, PoolError<M::Error>> {
        // The deadline is computed once, here, on the pool's clock. Every wait in
        // `take_or_reserve` is for the time left until it, however often that thread is
        // woken, and however often this loop goes round after a failed ping.
        let deadline = self.shared.clock.now() + self.shared.config.checkout_timeout;
        loop {
            match self.take_or_reserve(deadline)? {
                Taken::Idle(conn) => {
                    if let Some(conn) = self.check(conn) {
                        self.lock().stats.reused += 1;
                        return Ok(self.guard(conn));
                    }
                    // It failed its ping and was discarded: try again, with the time left.
                }
                Taken::Slot => return self.open_in_slot(),
            }
        }
    }

    /// What the pool has done so far.
    pub fn stats(&self) -> Stats {
        self.lock().stats
    }

    /// How many connections are idle.
    pub fn idle(&self) -> usize {
        self.lock().idle.len()
    }

    /// How many connections are open (idle, on loan, or being opened).
    pub fn open(&self) -> usize {
        self.lock().open
    }

    fn lock(&self) -> MutexGuard<'_, State<M::Connection>> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn guard(&self, conn: M::Connection) -> PooledConn<M> {
        PooledConn {
            shared: Arc::clone(&self.shared),
            conn: Some(conn),
        }
    }

    /// Connect in a slot `take_or_reserve` reserved. The lock is not held while
    /// connecting: a connect can take milliseconds (or, to a dead host, seconds), and
    /// every other `get` and every return would wait behind it.
    fn open_in_slot(&self) -> Result<PooledConn<M>, PoolError<M::Error>> {
        match self.shared.manager.connect() {
            Ok(conn) => {
                let mut state = self.lock();
                state.stats.opened += 1;
                if !state.closed {
                    return Ok(self.guard(conn));
                }
                // `close` began while we were connecting. A closed pool hands nothing out,
                // and `close` is waiting for this slot: close the connection (outside the
                // lock), then give the slot back and wake `close`.
                drop(state);
                drop(conn);
                self.lock().open -= 1;
                self.shared.changed.notify_all();
                Err(PoolError::Closed)
            }
            Err(e) => {
                // Give the slot back, and wake everyone: a waiter in `get` may reserve it
                // and try again, and `close` may be waiting for it.
                self.lock().open -= 1;
                self.shared.changed.notify_all();
                Err(PoolError::Connect(e))
            }
        }
    }

    /// Ping an idle connection before handing it out; a broken one is discarded.
    fn check(&self, mut conn: M::Connection) -> Option<M::Connection> {
        match self.shared.manager.is_valid(&mut conn) {
            Ok(()) => Some(conn),
            Err(_) => {
                self.discard(conn);
                None
            }
        }
    }

    // --- exercise 06.1 -----------------------------------------------------------------

    /// Find `get` a connection: an idle one — the most recently returned — or else a free
    /// slot for a new one. A slot is counted open before this returns, so that however
    /// many threads ask at once, no more than `max_size` connections are ever open or
    /// being opened (`stats.max_open` records the most there ever were).
    ///
    /// When there is neither, wait for one until `deadline`, a time on the pool's clock
    /// (`self.shared.clock`), however often the waiter is woken before then without getting
    /// one; a waiter still without one then gives up: count a timeout and return
    /// `Err(PoolError::Timeout(checkout_timeout))`. Once the pool is closed:
    /// `Err(PoolError::Closed)`, waiters too.
    fn take_or_reserve(
        &self,
        deadline: Instant,
    ) -> Result<Taken<M::Connection>, PoolError<M::Error>> {
        let _ = (deadline, self.lock(), Taken::<M::Connection>::Slot);
        todo!("exercise 06.1: Pool::take_or_reserve")
    }

    // --- exercise 06.2 -----------------------------------------------------------------

    /// A checked-out connection failed its ping: close it (drop it), free its slot, and
    /// count it as discarded. `get` then tries again, and may open a fresh connection in
    /// the freed slot. Whoever waits for a slot must hear of it: `close` may be waiting
    /// for this very connection.
    fn discard(&self, conn: M::Connection) {
        let _ = conn;
        todo!("exercise 06.2: Pool::discard")
    }

    // --- exercise 06.3 -----------------------------------------------------------------

    /// Close the idle connections that have been idle for `idle_timeout` or longer, by the
    /// pool's clock, oldest first, keeping at least `min_idle` idle. Returns how many were
    /// closed.
    pub fn reap_idle(&self) -> usize {
        let state = self.lock();
        let _ = (
            self.shared.clock.now(),
            state.idle.front().map(|i| (&i.conn, i.since)),
        );
        todo!("exercise 06.3: Pool::reap_idle")
    }

    // --- exercise 06.4 -----------------------------------------------------------------

    /// Close the pool: from now on `get` returns `Err(PoolError::Closed)` (waiters too).
    /// Wait until every open connection is idle — none on loan, none still being opened —
    /// then close them all.
    pub fn close(&self) {
        let _ = self.lock().closed;
        todo!("exercise 06.4: Pool::close")
    }
}

impl<M: Manager> Drop for PooledConn<M> {
    /// Exercise 06.1: return the connection — to the back of the idle queue, stamped with
    /// the pool's clock — and wake one waiter. A pool that is closing still takes it back:
    /// `close` is waiting for it (wake everyone then: more than one thread may be waiting
    /// in `close`).
    fn drop(&mut self) {
        // Until you write this body: a test that is already failing must not panic a
        // second time here. Delete these three lines when you do — a guard must give its
        // connection back during a panic too.
        if std::thread::panicking() {
            return;
        }
        let _ = (&self.shared, &self.conn);
        todo!("exercise 06.1: PooledConn::drop")
    }
}
