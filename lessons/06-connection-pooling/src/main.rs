//! Lesson 06's program: a pool of real TCP connections under a concurrent workload.
//!
//! Which thread gets which connection changes from run to run, so the program prints only
//! what holds for every schedule: totals, and bounds checked on both sides of the socket.

use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use clap::Parser;
use lesson_06::pool::{Config, Pool};
use lesson_06::server::Server;
use lesson_06::{ManualClock, TcpManager};

/// Lesson 06: a connection pool over real TCP connections.
#[derive(Parser)]
#[command(name = "lesson-06")]
struct Args {
    /// Connections open at most (2 to 16).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(2..=16))]
    max_size: u8,
}

fn yes(ok: bool) -> &'static str {
    if ok { "yes" } else { "NO" }
}

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(30));
    kit_run::brief_panics();
    let max_size = usize::from(args.max_size);

    let server = Server::start().expect("cannot start the server on 127.0.0.1");
    let clock = Arc::new(ManualClock::new());
    let config = Config {
        min_idle: 2,
        max_size,
        checkout_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(60),
    };
    let pool = Pool::new(
        TcpManager::new(server.addr()),
        config,
        Arc::clone(&clock) as Arc<_>,
    )
    .expect("cannot open the first connections");

    println!("Lesson 06: a pool of TCP connections to a server on 127.0.0.1");
    println!("min_idle 2, max_size {max_size}, checkout timeout 5s, idle timeout 60s");
    println!();
    println!("The server breaks idle connection 1 on purpose; then two checkouts at once.");
    server.break_connection(1);
    {
        // Both idle connections are checked out: the broken one fails its ping and is
        // replaced by a new connection, and neither guard holds a broken one.
        let mut a = pool.get().expect("a connection");
        let mut b = pool.get().expect("a connection");
        let both = a.ping().is_ok() && b.ping().is_ok() && a.id != 1 && b.id != 1;
        println!("  both work, and neither is connection 1: {}", yes(both));
        println!(
            "  discarded after a failed ping: {}",
            pool.stats().discarded
        );
    }

    const THREADS: usize = 8;
    const EACH: usize = 10;
    println!(
        "{THREADS} threads check out a connection {EACH} times each, ping through it, and return it."
    );
    let workers: Vec<_> = (0..THREADS)
        .map(|_| {
            let pool = pool.clone();
            thread::spawn(move || {
                let mut ok = 0;
                for _ in 0..EACH {
                    let mut conn = pool.get().expect("a connection within 5s");
                    if conn.ping().is_ok() {
                        ok += 1;
                    }
                    thread::sleep(Duration::from_millis(1));
                }
                ok
            })
        })
        .collect();
    let pings: usize = workers
        .into_iter()
        .map(|w| w.join().expect("a worker panicked"))
        .sum();
    let stats = pool.stats();
    println!("  pings answered: {pings} of {}", THREADS * EACH);
    println!("  timeouts: {}", stats.timeouts);
    println!(
        "  connections open at once never exceeded {max_size}, by the pool's count: {}",
        yes(stats.max_open <= max_size)
    );
    println!(
        "  ... and by the server's: {}",
        yes(server.max_open() <= max_size)
    );
    println!();

    clock.advance(Duration::from_secs(61));
    pool.reap_idle();
    println!(
        "61s later, after the idle timeout: {} connections idle (min_idle)",
        pool.idle()
    );
    println!();

    let held = pool.get().expect("a connection");
    let (returned, has_returned) = mpsc::channel();
    let holder = thread::spawn(move || {
        thread::sleep(Duration::from_millis(50));
        // Say so *before* returning it: close() cannot return before the drop below, so
        // if it waited, this message is already there when it does.
        let _ = returned.send(());
        drop(held);
    });
    println!("close() with one connection still on loan...");
    pool.close();
    let waited = has_returned.try_recv().is_ok();
    holder.join().expect("the holder panicked");
    println!(
        "  close() returned only after it came back: {}",
        yes(waited)
    );
    println!(
        "  connections the server still sees open: {}",
        server.wait_until_open_at_most(0)
    );
}
