//! Lesson 06: a connection pool over real TCP connections.
//!
//! [`server`] is a small line-protocol server the lesson starts on 127.0.0.1, with a
//! switch to break any connection on purpose; [`TcpManager`] connects to it. The pool
//! itself is the exercise file. You edit the exercise file only; this file swaps in the
//! reference solution when the crate is built with `--features solution`.

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/06-connection-pooling/pool.rs"
)]
pub mod pool;

pub mod server;

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How a pool makes and checks its connections (r2d2 calls this `ManageConnection`).
pub trait Manager: Send + Sync + 'static {
    type Connection: Send + 'static;
    type Error: std::error::Error + Send + 'static;

    /// Open a new connection.
    fn connect(&self) -> Result<Self::Connection, Self::Error>;

    /// Check that a connection still works (a ping).
    fn is_valid(&self, conn: &mut Self::Connection) -> Result<(), Self::Error>;
}

/// A connection to the lesson's [`server`].
#[derive(Debug)]
pub struct TcpConn {
    /// The number the server gave this connection in its greeting.
    pub id: u64,
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

impl TcpConn {
    /// Send one line, read one line back.
    pub fn request(&mut self, line: &str) -> io::Result<String> {
        self.writer.write_all(format!("{line}\n").as_bytes())?;
        let mut answer = String::new();
        if self.reader.read_line(&mut answer)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            ));
        }
        Ok(answer.trim_end().to_string())
    }

    /// `PING` → `PONG`.
    pub fn ping(&mut self) -> io::Result<()> {
        match self.request("PING")?.as_str() {
            "PONG" => Ok(()),
            other => Err(io::Error::other(format!("expected PONG, got {other:?}"))),
        }
    }
}

/// Connects to the lesson's server.
pub struct TcpManager {
    addr: SocketAddr,
}

impl TcpManager {
    pub fn new(addr: SocketAddr) -> TcpManager {
        TcpManager { addr }
    }
}

impl Manager for TcpManager {
    type Connection = TcpConn;
    type Error = io::Error;

    fn connect(&self) -> io::Result<TcpConn> {
        let stream = TcpStream::connect(self.addr)?;
        // A server that stops answering must not hang a ping forever.
        stream.set_read_timeout(Some(Duration::from_secs(5)))?;
        let writer = stream.try_clone()?;
        let mut reader = BufReader::new(stream);
        let mut greeting = String::new();
        reader.read_line(&mut greeting)?;
        let id = greeting
            .trim_end()
            .strip_prefix("HELLO ")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| io::Error::other(format!("bad greeting {greeting:?}")))?;
        Ok(TcpConn { id, reader, writer })
    }

    fn is_valid(&self, conn: &mut TcpConn) -> io::Result<()> {
        conn.ping()
    }
}

/// Where the pool gets the time: for the idle timeout, and for the checkout deadline.
/// Injected, so timeouts can be tested without waiting: a test moves a [`ManualClock`]
/// forward. (A paused tokio clock would not do here: it jumps forward whenever tasks wait
/// on real I/O.)
///
/// A thread waiting for a connection sleeps on a real condition variable for the time left
/// by this clock, then looks at the clock again: on a [`ManualClock`] that stands still, it
/// waits until the clock is moved past its deadline (or a connection comes back).
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Instant;
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that moves only when told to.
pub struct ManualClock {
    now: Mutex<Instant>,
}

impl ManualClock {
    pub fn new() -> ManualClock {
        ManualClock {
            now: Mutex::new(Instant::now()),
        }
    }

    /// Move the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }
}

impl Default for ManualClock {
    fn default() -> ManualClock {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}
