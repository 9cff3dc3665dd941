//! Lesson 06's tests, in the order of the chapter's exercises.
//!
//! Every test starts the lesson's server on 127.0.0.1 and pools real TCP connections to
//! it. The server counts the connections open at once from its side of the socket, so
//! `max_size` is checked where it matters; it can also break a connection on purpose.

use std::io;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use kit::Gate;
use lesson_06::pool::{Config, Pool, PoolError};
use lesson_06::server::Server;
use lesson_06::{Clock, Manager, ManualClock, SystemClock, TcpConn, TcpManager};

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn config(min_idle: usize, max_size: usize, checkout_timeout: Duration) -> Config {
    Config {
        min_idle,
        max_size,
        checkout_timeout,
        idle_timeout: Duration::from_secs(600),
    }
}

fn pool(server: &Server, config: Config) -> Pool<TcpManager> {
    Pool::new(
        TcpManager::new(server.addr()),
        config,
        Arc::new(SystemClock),
    )
    .expect("the server is up")
}

/// Somewhere the test can hold a thread up: while held, every thread that `pass`es waits
/// there (up to four seconds, so nothing waits forever) until `release`.
///
/// The tests give `wait_for` a patience of 3s: longer than the 2s deadline `.ci/hang-check`
/// sets, so a `get` that never returns there ends in the kit's timeout message, and shorter
/// than the usual 5s, so a learner gets the test's own message.
#[derive(Default)]
struct Hold {
    state: Mutex<HoldState>,
    changed: Condvar,
}

#[derive(Default)]
struct HoldState {
    holding: bool,
    /// Threads that reached the hold while it was held.
    arrived: usize,
}

impl Hold {
    fn lock(&self) -> MutexGuard<'_, HoldState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn hold(&self) {
        self.lock().holding = true;
    }

    fn release(&self) {
        self.lock().holding = false;
        self.changed.notify_all();
    }

    fn pass(&self) {
        let mut state = self.lock();
        if !state.holding {
            return;
        }
        state.arrived += 1;
        self.changed.notify_all();
        let _ = self
            .changed
            .wait_timeout_while(state, Duration::from_secs(4), |s| s.holding);
    }

    /// Wait until `n` threads have arrived; `false` if they have not within `patience`.
    fn wait_for(&self, n: usize, patience: Duration) -> bool {
        let state = self.lock();
        let (state, _) = self
            .changed
            .wait_timeout_while(state, patience, |s| s.arrived < n)
            .unwrap_or_else(|e| e.into_inner());
        state.arrived >= n
    }
}

/// Real connections to the lesson's server, whose connect (and ping) the test can hold up.
struct SlowManager {
    tcp: TcpManager,
    connect: Arc<Hold>,
    ping: Arc<Hold>,
}

impl Manager for SlowManager {
    type Connection = TcpConn;
    type Error = io::Error;

    fn connect(&self) -> io::Result<TcpConn> {
        self.connect.pass();
        self.tcp.connect()
    }

    fn is_valid(&self, conn: &mut TcpConn) -> io::Result<()> {
        self.ping.pass();
        self.tcp.is_valid(conn)
    }
}

/// A pool whose connects (and pings) the returned holds can hold up.
fn slow_pool(server: &Server, config: Config) -> (Pool<SlowManager>, Arc<Hold>, Arc<Hold>) {
    let (connect, ping) = (Arc::new(Hold::default()), Arc::new(Hold::default()));
    let manager = SlowManager {
        tcp: TcpManager::new(server.addr()),
        connect: Arc::clone(&connect),
        ping: Arc::clone(&ping),
    };
    let pool = Pool::new(manager, config, Arc::new(SystemClock)).expect("the server is up");
    (pool, connect, ping)
}

/// A clock that stands still, except when the test moves it or when it jumps as armed;
/// it counts how often it is read, so a test can wait until the pool looked at it again.
struct WatchedClock {
    state: Mutex<WatchedState>,
    read: Condvar,
}

struct WatchedState {
    now: Instant,
    reads: usize,
    /// After read number `.0`, the clock jumps forward by `.1`.
    jump: Option<(usize, Duration)>,
}

impl WatchedClock {
    fn new() -> WatchedClock {
        WatchedClock {
            state: Mutex::new(WatchedState {
                now: Instant::now(),
                reads: 0,
                jump: None,
            }),
            read: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, WatchedState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn reads(&self) -> usize {
        self.lock().reads
    }

    /// Right after the next read (which still sees the time before), jump forward by `by`.
    fn jump_after_next_read(&self, by: Duration) {
        let mut state = self.lock();
        state.jump = Some((state.reads + 1, by));
    }

    fn advance(&self, by: Duration) {
        self.lock().now += by;
    }

    /// Wait until the clock has been read `n` times in all; `false` if not within `patience`.
    fn wait_for_reads(&self, n: usize, patience: Duration) -> bool {
        let state = self.lock();
        let (state, _) = self
            .read
            .wait_timeout_while(state, patience, |s| s.reads < n)
            .unwrap_or_else(|e| e.into_inner());
        state.reads >= n
    }
}

impl Clock for WatchedClock {
    fn now(&self) -> Instant {
        let mut state = self.lock();
        let now = state.now;
        state.reads += 1;
        if let Some((after, by)) = state.jump
            && state.reads == after
        {
            state.now += by;
            state.jump = None;
        }
        self.read.notify_all();
        now
    }
}

// ---------------------------------------------------------------------------------------
// 06.1 checkout and return

#[test]
fn ex06_1_a_returned_connection_is_reused() {
    exercise("06.1").run(|| {
        let server = Server::start().expect("a server");
        let pool = pool(&server, config(0, 4, Duration::from_secs(5)));
        let first_id = {
            let mut conn = pool.get().expect("a connection");
            conn.ping().expect("a fresh connection answers");
            conn.id
        };
        let mut conn = pool.get().expect("a connection");
        assert_eq!(
            conn.id, first_id,
            "the connection returned by the first guard should be handed out again"
        );
        conn.ping().expect("a reused connection answers");
        drop(conn);
        let stats = pool.stats();
        assert_eq!(
            (stats.opened, stats.reused),
            (1, 1),
            "one connection opened, then reused once (opened, reused)"
        );
        assert_eq!(server.accepted(), 1, "the server saw a single connection");
    });
}

#[test]
fn ex06_1_never_more_than_max_size_connections() {
    exercise("06.1")
        .hangs_if("a thread waits for a connection that is never returned: does dropping a guard put it back and wake a waiter?")
        .run(|| {
            let server = Server::start().expect("a server");
            let pool = pool(&server, config(0, 3, Duration::from_secs(10)));
            let gate = Arc::new(Gate::new(8, Duration::from_secs(2)));
            let workers: Vec<_> = (0..8)
                .map(|_| {
                    let (pool, gate) = (pool.clone(), Arc::clone(&gate));
                    thread::spawn(move || {
                        gate.arrive(); // all 8 ask at once
                        for _ in 0..15 {
                            let mut conn = pool.get().unwrap_or_else(|e| {
                                panic!(
                                    "get failed ({e}) although a connection comes back every \
                                     millisecond: does take_or_reserve wait in a loop until the \
                                     deadline? A Condvar wait can end early"
                                )
                            });
                            conn.ping().expect("a working connection");
                            thread::sleep(ms(1));
                        }
                    })
                })
                .collect();
            for w in workers {
                w.join().expect("no panic");
            }
            let stats = pool.stats();
            assert!(
                server.max_open() <= 3,
                "the server saw {} connections open at once from a pool of max_size 3: reserve a \
                 slot (count the connection as open) *before* connecting, not after",
                server.max_open()
            );
            assert!(
                stats.max_open <= 3 && stats.max_open >= server.max_open(),
                "the pool's count of open connections peaked at {}, the server's at {}: the pool \
                 counts a slot when it reserves it, so its peak is between the server's and max_size \
                 (update stats.max_open when reserving)",
                stats.max_open,
                server.max_open()
            );
            assert_eq!(stats.opened + stats.reused, 120, "every checkout is a new or a reused connection");
            assert_eq!(stats.opened, server.accepted(), "opened matches what the server accepted");
        });
}

#[test]
fn ex06_1_a_full_pool_times_out_with_a_clear_error() {
    exercise("06.1")
        .hangs_if(
            "get waits without a deadline: use Condvar::wait_timeout until the checkout deadline",
        )
        .run(|| {
            let server = Server::start().expect("a server");
            let pool = pool(&server, config(0, 1, ms(100)));
            let held = pool.get().expect("the only connection");
            match pool.get() {
                Err(PoolError::Timeout(d)) => {
                    assert_eq!(d, ms(100), "the error carries the checkout timeout");
                    let message = PoolError::<std::io::Error>::Timeout(d).to_string();
                    assert!(message.contains("100ms"), "and says it: {message}");
                }
                Err(other) => panic!("expected a timeout, got {other}"),
                Ok(_) => panic!("a pool of max_size 1 handed out a second connection"),
            }
            assert_eq!(pool.stats().timeouts, 1, "the timeout is counted");
            drop(held);
            assert!(
                pool.get().is_ok(),
                "once the connection is back, get succeeds"
            );
        });
}

#[test]
fn ex06_1_a_waiter_is_woken_when_a_connection_comes_back() {
    exercise("06.1")
        .hangs_if("dropping a guard does not wake the thread waiting in get: notify the condvar")
        .run(|| {
            let server = Server::start().expect("a server");
            let pool = pool(&server, config(0, 1, Duration::from_secs(30)));
            let held = pool.get().expect("the only connection");
            let held_id = held.id;
            let (got, has_got) = mpsc::channel();
            let waiter = {
                let pool = pool.clone();
                thread::spawn(move || {
                    let conn = pool.get().expect("the connection, once returned");
                    let _ = got.send(conn.id);
                })
            };
            assert!(
                has_got.recv_timeout(ms(100)).is_err(),
                "the waiter must wait while the only connection is out"
            );
            drop(held);
            assert_eq!(
                has_got.recv_timeout(Duration::from_secs(3)),
                Ok(held_id),
                "the waiter should get the returned connection at once, not after its 30s timeout"
            );
            waiter.join().expect("no panic");
        });
}

#[test]
fn ex06_1_a_borrower_that_panics_gives_the_connection_back() {
    exercise("06.1").run(|| {
        let server = Server::start().expect("a server");
        let pool = pool(&server, config(0, 1, Duration::from_secs(5)));
        let borrower = {
            let pool = pool.clone();
            thread::spawn(move || {
                let _conn = pool.get().expect("the only connection");
                kit::planned_panic!(
                    "the borrower failed with the connection in hand (a planned panic)"
                );
            })
        };
        assert!(borrower.join().is_err(), "the borrower panicked");
        assert_eq!(
            (pool.idle(), pool.open()),
            (1, 1),
            "(idle, open): the guard's Drop runs while the panic unwinds, and must give the \
             connection back then too — is `Drop` still returning early when `thread::panicking()`?"
        );
        assert!(pool.get().is_ok(), "and the next borrower gets it");
    });
}

#[test]
fn ex06_1_a_slot_is_reserved_before_connecting() {
    exercise("06.1")
        .hangs_if("a thread waits for a connection that is never returned: does dropping a guard put it back and wake a waiter?")
        .run(|| {
            let server = Server::start().expect("a server");
            let (pool, connect, _) = slow_pool(&server, config(0, 2, Duration::from_secs(5)));
            connect.hold();
            let (got, has_got) = mpsc::channel();
            let getters: Vec<_> = (0..3)
                .map(|_| {
                    let (pool, got) = (pool.clone(), got.clone());
                    thread::spawn(move || {
                        let conn = pool.get().map(|c| c.id);
                        let _ = got.send(conn.is_ok());
                    })
                })
                .collect();
            assert!(
                connect.wait_for(2, Duration::from_secs(3)),
                "three threads asked a pool of max_size 2 with nothing open for a connection, but \
                 fewer than two of them began to connect"
            );
            let third = connect.wait_for(3, ms(300));
            connect.release();
            assert!(
                !third,
                "while two connects were still in progress in a pool of max_size 2, a third thread \
                 began a third: reserve the slot (count it open) before connecting, not once the \
                 connection is open"
            );
            for _ in 0..3 {
                assert_eq!(
                    has_got.recv_timeout(Duration::from_secs(3)),
                    Ok(true),
                    "each of the three gets a connection: the third once one comes back"
                );
            }
            for g in getters {
                g.join().expect("no panic");
            }
            assert!(server.max_open() <= 2, "the server saw {} open at once", server.max_open());
        });
}

#[test]
fn ex06_1_connecting_does_not_hold_up_the_pool() {
    exercise("06.1")
        .hangs_if("the pool's lock is held while connecting: connect in the reserved slot without the lock")
        .run(|| {
            let server = Server::start().expect("a server");
            let (pool, connect, _) = slow_pool(&server, config(1, 2, Duration::from_secs(5)));
            let first = pool.get().expect("the idle connection");
            let first_id = first.id;
            connect.hold();
            let opener = {
                let pool = pool.clone();
                thread::spawn(move || pool.get().map(|c| c.id).ok())
            };
            assert!(
                connect.wait_for(1, Duration::from_secs(3)),
                "with one of two connections out, get should open a second one"
            );
            // The connect now takes as long as the test likes. Meanwhile, another thread
            // gives the first connection back and checks it out again.
            let (got, has_got) = mpsc::channel();
            let other = {
                let pool = pool.clone();
                thread::spawn(move || {
                    drop(first);
                    let again = pool.get().map(|c| c.id).ok();
                    let _ = got.send(again);
                })
            };
            let again = has_got.recv_timeout(Duration::from_secs(2));
            connect.release();
            assert_eq!(
                again,
                Ok(Some(first_id)),
                "while one thread was connecting, another could not give a connection back and \
                 check it out again within 2s: is the pool's lock held while connecting? A connect \
                 can take seconds; reserve the slot under the lock, then connect without it"
            );
            assert!(opener.join().expect("no panic").is_some(), "the slow connect succeeds in the end");
            other.join().expect("no panic");
        });
}

#[test]
fn ex06_1_a_waiter_waits_only_for_the_time_left() {
    exercise("06.1")
        .hangs_if("a waiter sleeps the whole checkout timeout again after waking: wait for the time left until the deadline, by the pool's clock")
        .run(|| {
            let server = Server::start().expect("a server");
            let clock = Arc::new(WatchedClock::new());
            let timeout = Duration::from_secs(10);
            let pool = Pool::new(
                TcpManager::new(server.addr()),
                config(0, 1, timeout),
                Arc::clone(&clock) as Arc<_>,
            )
            .expect("the server is up");
            let held = pool.get().expect("the only connection");
            // The next read is the waiter's `get` taking its deadline (now + 10s); right after
            // it the clock jumps to 1 ms before that deadline, as if 9.999s had passed. From
            // then on the clock stands still until the test moves it.
            clock.jump_after_next_read(timeout - ms(1));
            let reads = clock.reads();
            let (answer, has_answer) = mpsc::channel();
            let waiter = {
                let pool = pool.clone();
                thread::spawn(move || {
                    let _ = answer.send(pool.get().map(|c| c.id));
                })
            };
            // A waiter that waits only for the time left sleeps 1 ms, looks at the clock, sees
            // the deadline not reached, sleeps 1 ms again, and so on.
            let kept_looking = clock.wait_for_reads(reads + 12, Duration::from_secs(2));
            match has_answer.try_recv() {
                Ok(Err(PoolError::Timeout(_))) => panic!(
                    "get gave up although by the pool's clock its deadline had not come: decide by \
                     the clock (now >= deadline), not by whether a wait timed out"
                ),
                Ok(Err(other)) => panic!("the waiter got an error: {other}"),
                Ok(Ok(_)) => panic!("a pool of max_size 1 handed out a second connection"),
                Err(_) => {}
            }
            assert!(
                kept_looking,
                "with 1 ms left before its deadline by the pool's clock, the waiter did not look \
                 at the clock again for 2s: it waits much longer than the time left. get computes \
                 the deadline once; after every wake-up, read the pool's clock and wait only for \
                 `deadline - now`, never the whole checkout_timeout again (Go's sync.Cond has no \
                 timed wait, and re-arming a timeout on every wake-up is the Go habit that does this)"
            );
            clock.advance(ms(2)); // past the deadline
            match has_answer.recv_timeout(Duration::from_secs(2)) {
                Ok(Err(PoolError::Timeout(d))) => {
                    assert_eq!(d, timeout, "the error carries the checkout timeout")
                }
                Ok(Err(other)) => panic!("expected a timeout, got {other}"),
                Ok(Ok(_)) => panic!("a pool of max_size 1 handed out a second connection"),
                Err(_) => panic!(
                    "the pool's clock passed the deadline, but the waiter did not give up within \
                     2s: after every wake-up, compare the pool's clock with the deadline"
                ),
            }
            assert_eq!(pool.stats().timeouts, 1, "the timeout is counted");
            waiter.join().expect("no panic");
            drop(held);
        });
}

// ---------------------------------------------------------------------------------------
// 06.2 health checks

#[test]
fn ex06_2_a_broken_connection_is_never_handed_out() {
    exercise("06.2").run(|| {
        let server = Server::start().expect("a server");
        let pool = pool(&server, config(2, 2, Duration::from_secs(5)));
        let broken = 1;
        assert!(
            server.break_connection(broken),
            "the server breaks connection {broken}"
        );
        for _ in 0..3 {
            // Two at once, so both idle connections are checked out, the broken one too.
            let mut pair = [
                pool.get().expect("a working connection"),
                pool.get().expect("a working connection"),
            ];
            for conn in &mut pair {
                assert_ne!(
                    conn.id, broken,
                    "the pool handed out the connection that failed its ping"
                );
                conn.ping().expect("every connection handed out works");
            }
        }
        let stats = pool.stats();
        assert_eq!(
            stats.discarded, 1,
            "the broken connection is discarded, once"
        );
        assert_eq!(
            pool.open(),
            2,
            "its slot is free again: a new connection took it"
        );
        assert!(stats.max_open <= 2);
    });
}

#[test]
fn ex06_2_discarding_frees_the_slot_for_a_waiter() {
    exercise("06.2")
        .hangs_if("a discarded connection's slot is never freed, or the waiter is never told")
        .run(|| {
            let server = Server::start().expect("a server");
            let pool = pool(&server, config(1, 1, ms(500)));
            assert!(server.break_connection(1));
            let mut conn = pool.get().unwrap_or_else(|e| {
                panic!(
                    "the broken connection should be replaced by a fresh one, but get failed \
                     ({e}): does discard free the broken connection's slot (open -= 1)?"
                )
            });
            assert_ne!(conn.id, 1);
            conn.ping().expect("works");
            drop(conn);
            let stats = pool.stats();
            assert_eq!(
                (stats.discarded, stats.opened),
                (1, 2),
                "(discarded, opened)"
            );
            assert_eq!(
                server.wait_until_open_at_most(1),
                1,
                "the broken connection is closed on our side too"
            );
        });
}

#[test]
fn ex06_2_a_pool_that_discarded_a_connection_still_closes() {
    exercise("06.2")
        .hangs_if(
            "close waits for a connection that is gone: discard must free its slot (open -= 1)",
        )
        .run(|| {
            let server = Server::start().expect("a server");
            let pool = pool(&server, config(1, 2, Duration::from_secs(5)));
            assert!(server.break_connection(1));
            drop(
                pool.get()
                    .expect("a fresh connection replaces the broken one"),
            );
            pool.close();
            assert_eq!(pool.open(), 0, "every connection closed");
        });
}

#[test]
fn ex06_2_a_discard_while_closing_lets_close_finish() {
    exercise("06.2")
        .hangs_if("close is never told that a discarded connection's slot was freed: wake the threads waiting on the condvar in discard")
        .run(|| {
            let server = Server::start().expect("a server");
            let (pool, _, ping) = slow_pool(&server, config(1, 1, Duration::from_secs(5)));
            ping.hold();
            // A borrower takes the idle connection; its ping before the loan is held up.
            let borrower = {
                let pool = pool.clone();
                thread::spawn(move || pool.get().map(|c| c.id).err().map(|e| e.to_string()))
            };
            assert!(ping.wait_for(1, Duration::from_secs(3)), "get pings the idle connection");
            let (closed, has_closed) = mpsc::channel();
            let closer = {
                let pool = pool.clone();
                thread::spawn(move || {
                    pool.close();
                    let _ = closed.send(());
                })
            };
            // This get waits (the only connection is being pinged) until close refuses it, or
            // is refused at once: either way, close has begun. It now waits for the
            // connection being pinged.
            assert!(
                matches!(pool.get(), Err(PoolError::Closed)),
                "once close began, get must return Err(Closed)"
            );
            // The connection fails its ping, and the borrower discards it.
            assert!(server.break_connection(1));
            ping.release();
            has_closed.recv_timeout(Duration::from_secs(3)).expect(
                "close did not return after the last connection was discarded: discard frees a \
                 slot close may be waiting for; wake the waiters (notify_all)",
            );
            assert_eq!(
                borrower.join().expect("no panic"),
                Some("the pool is closed".to_string()),
                "the borrower's get, after the discard, finds the pool closed"
            );
            closer.join().expect("no panic");
            assert_eq!((pool.open(), pool.idle()), (0, 0), "(open, idle) after close");
            assert_eq!(pool.stats().discarded, 1);
        });
}

// ---------------------------------------------------------------------------------------
// 06.3 idle timeout (a manual clock)

/// A pool whose idle timeout (60s) runs on a clock the test moves by hand.
fn pool_on_a_manual_clock(
    server: &Server,
    min_idle: usize,
    max_size: usize,
) -> (Pool<TcpManager>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new());
    let config = Config {
        min_idle,
        max_size,
        checkout_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(60),
    };
    let pool = Pool::new(
        TcpManager::new(server.addr()),
        config,
        Arc::clone(&clock) as Arc<_>,
    )
    .expect("the server is up");
    (pool, clock)
}

#[test]
fn ex06_3_idle_connections_beyond_min_idle_are_closed() {
    exercise("06.3").run(|| {
        let server = Server::start().expect("a server");
        let (pool, clock) = pool_on_a_manual_clock(&server, 1, 4);
        let guards: Vec<_> = (0..4).map(|_| pool.get().expect("a connection")).collect();
        drop(guards);
        assert_eq!(pool.idle(), 4);
        clock.advance(Duration::from_secs(59));
        assert_eq!(
            pool.reap_idle(),
            0,
            "59s idle is under the 60s idle timeout"
        );
        clock.advance(Duration::from_secs(1));
        assert_eq!(
            pool.reap_idle(),
            3,
            "60s idle: all but min_idle = 1 are closed"
        );
        assert_eq!(
            (pool.idle(), pool.open()),
            (1, 1),
            "(idle, open) after reaping"
        );
        assert_eq!(
            pool.stats().reaped,
            3,
            "stats.reaped counts the connections closed by the idle timeout"
        );
        assert_eq!(
            server.wait_until_open_at_most(1),
            1,
            "the server saw them closed"
        );
        assert_eq!(
            pool.reap_idle(),
            0,
            "min_idle is kept however long it idles"
        );
    });
}

#[test]
fn ex06_3_only_the_long_idle_ones_go() {
    exercise("06.3").run(|| {
        let server = Server::start().expect("a server");
        let (pool, clock) = pool_on_a_manual_clock(&server, 0, 3);
        let (a, b) = (pool.get().expect("a"), pool.get().expect("b"));
        drop(a);
        clock.advance(Duration::from_secs(40));
        drop(b); // returned 40s later than `a`
        clock.advance(Duration::from_secs(30));
        assert_eq!(
            pool.reap_idle(),
            1,
            "after 70s the first has idled 70s, the second only 30s: one is closed"
        );
        assert_eq!(pool.idle(), 1);
    });
}

// ---------------------------------------------------------------------------------------
// 06.4 close

#[test]
fn ex06_4_close_waits_for_connections_on_loan() {
    exercise("06.4")
        .hangs_if("close waits for a connection that came back but did not wake it: notify when a guard returns to a closing pool")
        .run(|| {
            let server = Server::start().expect("a server");
            let pool = pool(&server, config(2, 3, Duration::from_secs(5)));
            let held = pool.get().expect("a connection");
            let (closed, has_closed) = mpsc::channel();
            let closer = {
                let pool = pool.clone();
                thread::spawn(move || {
                    pool.close();
                    let _ = closed.send(());
                })
            };
            assert!(
                has_closed.recv_timeout(ms(200)).is_err(),
                "close returned while a connection was still on loan: it should wait for it"
            );
            match pool.get() {
                Err(PoolError::Closed) => {}
                Err(other) => panic!("a closing pool should refuse with Closed, not: {other}"),
                Ok(_) => panic!("a closing pool handed out a connection"),
            }
            drop(held);
            has_closed
                .recv_timeout(Duration::from_secs(3))
                .expect("close returns once the last connection is back");
            closer.join().expect("no panic");
            assert_eq!(pool.open(), 0, "close closes every connection");
            assert_eq!(server.wait_until_open_at_most(0), 0, "and the server sees them all closed");
        });
}

#[test]
fn ex06_4_close_waits_for_every_loan() {
    exercise("06.4")
        .hangs_if("close waits for a loan that came back but was not signalled")
        .run(|| {
            let server = Server::start().expect("a server");
            let pool = pool(&server, config(0, 3, Duration::from_secs(5)));
            let first = pool.get().expect("a connection");
            let second = pool.get().expect("a connection");
            let (closed, has_closed) = mpsc::channel();
            let closer = {
                let pool = pool.clone();
                thread::spawn(move || {
                    pool.close();
                    let _ = closed.send(());
                })
            };
            thread::sleep(ms(50));
            drop(first);
            assert!(
                has_closed.recv_timeout(ms(200)).is_err(),
                "close returned after the first of two loans came back: it must wait while any is \
                 out (a `while`, not an `if`, around the wait)"
            );
            drop(second);
            has_closed
                .recv_timeout(Duration::from_secs(3))
                .expect("close returns once both are back");
            closer.join().expect("no panic");
        });
}

#[test]
fn ex06_4_waiters_are_told_the_pool_closed() {
    exercise("06.4")
        .hangs_if("a thread waiting in get is never woken when the pool closes: notify all waiters in close")
        .run(|| {
            let server = Server::start().expect("a server");
            let pool = pool(&server, config(0, 1, Duration::from_secs(30)));
            let held = pool.get().expect("the only connection");
            let (answer, has_answer) = mpsc::channel();
            let waiter = {
                let pool = pool.clone();
                thread::spawn(move || {
                    let _ = answer.send(matches!(pool.get(), Err(PoolError::Closed)));
                })
            };
            thread::sleep(ms(50));
            let closer = {
                let pool = pool.clone();
                thread::spawn(move || pool.close())
            };
            let told = has_answer.recv_timeout(Duration::from_secs(3));
            assert!(
                told == Ok(true),
                "a thread waiting for a connection should get Err(Closed) as soon as the pool \
                 closes, but it got {}",
                match told {
                    Ok(false) => "another answer",
                    _ => "no answer within 3s",
                }
            );
            drop(held);
            closer.join().expect("no panic");
            waiter.join().expect("no panic");
            assert_eq!(pool.stats().timeouts, 0, "the waiter did not time out: it was told");
        });
}

#[test]
fn ex06_4_close_waits_for_a_connection_being_opened() {
    exercise("06.4")
        .hangs_if("close waits for a connection that is never counted back: is every open connection idle once the connect ends?")
        .run(|| {
            let server = Server::start().expect("a server");
            let (pool, connect, _) = slow_pool(&server, config(0, 1, Duration::from_secs(5)));
            connect.hold();
            // The only slot is reserved, and its connect is held up.
            let opener = {
                let pool = pool.clone();
                thread::spawn(move || pool.get().map(|c| c.id).err().map(|e| e.to_string()))
            };
            assert!(connect.wait_for(1, Duration::from_secs(3)), "get connects in the free slot");
            let (closed, has_closed) = mpsc::channel();
            let closer = {
                let pool = pool.clone();
                thread::spawn(move || {
                    pool.close();
                    let _ = closed.send((pool.open(), pool.idle()));
                })
            };
            // A thread that asks now waits (the only slot is taken) until close refuses it.
            let asker = {
                let pool = pool.clone();
                thread::spawn(move || matches!(pool.get(), Err(PoolError::Closed)))
            };
            assert!(
                asker.join().expect("no panic"),
                "once close began, get must return Err(Closed)"
            );
            let early = has_closed.recv_timeout(ms(500));
            connect.release();
            if let Ok((open, idle)) = early {
                panic!(
                    "close returned while a connection was still being opened (then open = {open}, \
                     idle = {idle}): that connection would outlive the pool. Wait until every open \
                     connection is idle: none on loan, none being opened"
                );
            }
            assert_eq!(
                opener.join().expect("no panic"),
                Some("the pool is closed".to_string()),
                "a connection that finished opening after close began must be closed, not handed out"
            );
            assert_eq!(
                has_closed.recv_timeout(Duration::from_secs(3)),
                Ok((0, 0)),
                "close returns once that connection is closed, leaving (open, idle) = (0, 0)"
            );
            closer.join().expect("no panic");
            assert_eq!(server.wait_until_open_at_most(0), 0, "the server sees nothing open");
        });
}

// ---------------------------------------------------------------------------------------
// The lesson program

kit::program_tests!("--max-size", "0");
