//! Lesson 06's tests, in the order of the chapter's exercises.
//!
//! Every test starts the lesson's server on 127.0.0.1 and pools real TCP connections to
//! it. The server counts the connections open at once from its side of the socket, so
//! `max_size` is checked where it matters; it can also break a connection on purpose.

use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use kit::Gate;
use lesson_06::pool::{Config, Pool, PoolError};
use lesson_06::server::Server;
use lesson_06::{ManualClock, SystemClock, TcpManager};

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
                panic!("the borrower failed with the connection in hand (a planned panic)");
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
            let pool = pool(&server, config(1, 1, Duration::from_secs(5)));
            assert!(server.break_connection(1));
            let mut conn = pool
                .get()
                .expect("the broken one is replaced by a fresh one");
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
        .hangs_if("close waits for a loan that is not out: discard must count the connection back in (out -= 1)")
        .run(|| {
            let server = Server::start().expect("a server");
            let pool = pool(&server, config(1, 2, Duration::from_secs(5)));
            assert!(server.break_connection(1));
            drop(pool.get().expect("a fresh connection replaces the broken one"));
            pool.close();
            assert_eq!(pool.open(), 0, "every connection closed");
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

// ---------------------------------------------------------------------------------------
// The lesson program

kit::program_tests!("--max-size", "0");
