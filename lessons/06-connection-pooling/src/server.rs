//! The lesson's server: a line protocol on 127.0.0.1, one thread per connection.
//!
//! Each connection is greeted with `HELLO <id>`, then every `PING` line is answered with
//! `PONG` (and anything else with `ERR`). The server counts the connections open at once
//! — the pool's `max_size` is checked here, on the other side of the socket — and can
//! break any connection on purpose.
//!
//! A connection counts as open from its accept until it is closed: by the server, at the
//! moment it breaks it, or by the client, when the server's thread for it reads the end
//! of the stream (a moment after the client closed it).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// A running server. It stops accepting when dropped.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    next_id: AtomicU64,
    open: AtomicUsize,
    max_open: AtomicUsize,
    accepted: AtomicU64,
    /// The connections open, by id. A connection is counted in `open` while it is here:
    /// whoever removes it (breaking it, or its thread at the end of the stream) uncounts it.
    streams: Mutex<BTreeMap<u64, TcpStream>>,
    stopped: AtomicBool,
}

impl Server {
    /// Start a server on a free port of 127.0.0.1.
    pub fn start() -> std::io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let accept = Arc::clone(&shared);
        thread::Builder::new()
            .name("server-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    if accept.stopped.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let Ok(copy) = stream.try_clone() else {
                        continue;
                    };
                    let id = accept.next_id.fetch_add(1, Ordering::SeqCst) + 1;
                    accept.accepted.fetch_add(1, Ordering::SeqCst);
                    {
                        let mut streams = accept.streams();
                        streams.insert(id, copy);
                        let now = accept.open.fetch_add(1, Ordering::SeqCst) + 1;
                        accept.max_open.fetch_max(now, Ordering::SeqCst);
                    }
                    let conn = Arc::clone(&accept);
                    let spawned = thread::Builder::new()
                        .name(format!("server-conn-{id}"))
                        .spawn(move || {
                            serve(stream, id);
                            conn.forget(id);
                        });
                    if spawned.is_err() {
                        accept.forget(id);
                    }
                }
            })?;
        Ok(Server { addr, shared })
    }

    /// Where to connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections open right now (as far as the server knows: a connection the client
    /// closed is counted until the server's thread notices, a moment later; one the server
    /// broke is uncounted at once).
    pub fn open(&self) -> usize {
        self.shared.open.load(Ordering::SeqCst)
    }

    /// The most connections that were ever open at once.
    pub fn max_open(&self) -> usize {
        self.shared.max_open.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> u64 {
        self.shared.accepted.load(Ordering::SeqCst)
    }

    /// Break connection `id` on purpose, as a network failure or a server restart would:
    /// the server closes its end, and from this moment counts it closed. The client finds
    /// out at its next read.
    pub fn break_connection(&self, id: u64) -> bool {
        let Some(stream) = self.shared.streams().remove(&id) else {
            return false;
        };
        self.shared.open.fetch_sub(1, Ordering::SeqCst);
        stream.shutdown(Shutdown::Both).is_ok()
    }

    /// Wait (up to two seconds) until at most `n` connections are open — the server's
    /// threads notice a closed connection a moment after the client closes it.
    pub fn wait_until_open_at_most(&self, n: usize) -> usize {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while self.open() > n && std::time::Instant::now() < deadline {
            thread::sleep(std::time::Duration::from_millis(5));
        }
        self.open()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        for stream in self.shared.streams().values() {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }
}

impl Shared {
    fn streams(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, TcpStream>> {
        self.streams.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Connection `id` is closed: uncount it, unless breaking it already did.
    fn forget(&self, id: u64) {
        if self.streams().remove(&id).is_some() {
            self.open.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn serve(stream: TcpStream, id: u64) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    if writer
        .write_all(format!("HELLO {id}\n").as_bytes())
        .is_err()
    {
        return;
    }
    for line in BufReader::new(stream).lines() {
        let Ok(line) = line else { return };
        let answer = if line == "PING" { "PONG\n" } else { "ERR\n" };
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}
