//! The server the four clients load: finished code, not an exercise.
//!
//! An axum server on 127.0.0.1 (port 0, the bound address read back) that answers
//! `GET /data` after a configurable service time, and counts what it sees:
//!
//! - **in flight**: requests it accepted whose response body has not ended yet. A request
//!   counts from the moment the handler starts until just before the last chunk of its body
//!   is sent, so a client that lets go of a request once the headers arrive — before it
//!   has read the body — shows up here as one more request in flight.
//! - **attempts in flight**: the same, counting refused requests too.
//! - **connections**: TCP connections accepted, so a client built per request shows.
//!
//! Two options make tests exact:
//!
//! - `hold: Some(k)`: every accepted request waits until the server has seen `k` requests
//!   in all (a one-shot gate; after it opens nothing waits). A client bounded at `n` with
//!   `hold: Some(n)` therefore reaches exactly `n` in flight, whatever the schedule.
//! - `body_delay`: the time between the first chunk of the body and the last one.
//! - `hold_first: Some(k)`: only the first accepted request waits, until `k` requests have
//!   arrived in all. A client that keeps its other slots busy while one request is slow
//!   gets there; one that waits for the slowest of a wave does not (the gate then opens
//!   after its patience, and says so).
//! - `cut_every: Some(k)`: every `k`-th arrival's body is cut short after its first chunk
//!   (the connection is closed), so the client gets a 200 and then an error.
//!
//! In overload mode (`capacity: Some(c)`) a request that arrives while `c` are in flight
//! is refused at once with `refuse_with` (429 or 503).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use tokio::net::TcpSocket;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How long an accepted request waits at a closed gate before the gate opens anyway.
const HOLD_PATIENCE: Duration = Duration::from_secs(2);

/// What the server does.
#[derive(Clone, Debug)]
pub struct Config {
    /// How long the handler works before it answers.
    pub service_time: Duration,
    /// The time between the first and the last chunk of the body.
    pub body_delay: Duration,
    /// Overload mode: refuse a request that arrives while this many are in flight.
    pub capacity: Option<usize>,
    /// The status a refused request gets (429 or 503).
    pub refuse_with: StatusCode,
    /// Hold accepted requests until this many requests have arrived in all.
    pub hold: Option<usize>,
    /// Hold only the first accepted request until this many requests have arrived in all.
    pub hold_first: Option<usize>,
    /// Cut short the body of every this-many-th arrival (1 = every one).
    pub cut_every: Option<usize>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            service_time: Duration::ZERO,
            body_delay: Duration::ZERO,
            capacity: None,
            refuse_with: StatusCode::SERVICE_UNAVAILABLE,
            hold: None,
            hold_first: None,
            cut_every: None,
        }
    }
}

/// What the server saw, read at any time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests that arrived, accepted or refused.
    pub arrivals: usize,
    /// Requests answered 200.
    pub served: usize,
    /// Requests refused (overload mode).
    pub refused: usize,
    /// Accepted requests in flight now.
    pub in_flight: usize,
    /// The most accepted requests ever in flight at once.
    pub max_in_flight: usize,
    /// The most requests, accepted or refused, ever in flight at once.
    pub max_attempts: usize,
    /// TCP connections accepted.
    pub connections: usize,
    /// Whether the hold gate opened because its patience ran out (too few requests came).
    pub hold_timed_out: bool,
    /// Whether the first request's gate (`hold_first`) opened because its patience ran out.
    pub first_hold_timed_out: bool,
    /// Responses whose body was cut short (`cut_every`).
    pub cut: usize,
}

#[derive(Default)]
struct Counts {
    stats: Stats,
    attempts: usize,
    /// For each arrival, in order, how many requests (accepted or refused) were in flight
    /// with it, itself included.
    attempts_at_arrival: Vec<usize>,
}

struct Shared {
    config: Config,
    counts: Mutex<Counts>,
    gate: watch::Sender<bool>,
    first_gate: watch::Sender<bool>,
    connections: AtomicUsize,
}

impl Shared {
    fn counts(&self) -> MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A running server; it stops when dropped.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Server {
    /// Bind 127.0.0.1 on a free port and serve `GET /data` on the current tokio runtime.
    pub async fn start(config: Config) -> std::io::Result<Server> {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        // A deep accept queue: the one-task-per-request client opens thousands of
        // connections at once (the kernel caps this at net.core.somaxconn).
        let listener = socket.listen(8192)?;
        let addr = listener.local_addr()?;
        let (gate, _) = watch::channel(config.hold.is_none_or(|k| k == 0));
        let (first_gate, _) = watch::channel(config.hold_first.is_none_or(|k| k <= 1));
        let shared = Arc::new(Shared {
            config,
            counts: Mutex::new(Counts::default()),
            gate,
            first_gate,
            connections: AtomicUsize::new(0),
        });
        let counted = Arc::clone(&shared);
        let listener = listener.tap_io(move |stream| {
            counted.connections.fetch_add(1, Ordering::Relaxed);
            // The body goes out in two small writes: without this, Nagle's algorithm
            // holds the second until the first is acknowledged.
            let _ = stream.set_nodelay(true);
        });
        let app = Router::new()
            .route("/data", get(data))
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Server { addr, shared, task })
    }

    /// The address the server listens on (always 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of `GET /data`.
    pub fn url(&self) -> String {
        format!("http://{}/data", self.addr)
    }

    /// What the server has seen so far.
    pub fn stats(&self) -> Stats {
        let mut stats = self.shared.counts().stats.clone();
        stats.connections = self.shared.connections.load(Ordering::Relaxed);
        stats
    }

    /// For each request in arrival order, how many requests (accepted or refused) were in
    /// flight when it arrived, itself included.
    pub fn attempts_at_arrival(&self) -> Vec<usize> {
        self.shared.counts().attempts_at_arrival.clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Counts one request out of flight when dropped: at the end of its body, or when the
/// client goes away first.
struct InFlight {
    shared: Arc<Shared>,
    accepted: bool,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut counts = self.shared.counts();
        counts.attempts -= 1;
        if self.accepted {
            counts.stats.in_flight -= 1;
        }
    }
}

/// Where a response body is: the first chunk is next, the last, or it is done.
enum Part {
    First(InFlight),
    Last(InFlight, bool),
    Done,
}

async fn data(State(shared): State<Arc<Shared>>) -> Response {
    let (guard, arrivals) = {
        let mut counts = shared.counts();
        counts.stats.arrivals += 1;
        counts.attempts += 1;
        let attempts = counts.attempts;
        counts.attempts_at_arrival.push(attempts);
        counts.stats.max_attempts = counts.stats.max_attempts.max(attempts);
        let full = shared
            .config
            .capacity
            .is_some_and(|c| counts.stats.in_flight >= c);
        if full {
            counts.stats.refused += 1;
        } else {
            counts.stats.in_flight += 1;
            counts.stats.max_in_flight = counts.stats.max_in_flight.max(counts.stats.in_flight);
        }
        let guard = InFlight {
            shared: Arc::clone(&shared),
            accepted: !full,
        };
        (guard, counts.stats.arrivals)
    };
    if shared.config.hold.is_some_and(|k| arrivals >= k) {
        shared.gate.send_replace(true);
    }
    if shared.config.hold_first.is_some_and(|k| arrivals >= k) {
        shared.first_gate.send_replace(true);
    }
    if !guard.accepted {
        drop(guard);
        return (shared.config.refuse_with, "busy\n").into_response();
    }
    let mut gate = shared.gate.subscribe();
    if tokio::time::timeout(HOLD_PATIENCE, gate.wait_for(|open| *open))
        .await
        .is_err()
    {
        shared.counts().stats.hold_timed_out = true;
        shared.gate.send_replace(true);
    }
    if arrivals == 1 && shared.config.hold_first.is_some() {
        let mut first_gate = shared.first_gate.subscribe();
        if tokio::time::timeout(HOLD_PATIENCE, first_gate.wait_for(|open| *open))
            .await
            .is_err()
        {
            shared.counts().stats.first_hold_timed_out = true;
        }
    }
    if !shared.config.service_time.is_zero() {
        tokio::time::sleep(shared.config.service_time).await;
    }
    shared.counts().stats.served += 1;
    let body_delay = shared.config.body_delay;
    let cut = shared
        .config
        .cut_every
        .is_some_and(|k| arrivals % k.max(1) == 0);
    if cut {
        shared.counts().stats.cut += 1;
    }
    // Two chunks: the first goes out with the headers; the request leaves flight just
    // before the last one, so the client can only see the end of the body after that.
    let chunks = futures::stream::unfold(Part::First(guard), move |part| async move {
        match part {
            Part::First(guard) => Some((
                Ok(Bytes::from_static(b"{\"data\":")),
                Part::Last(guard, cut),
            )),
            Part::Last(guard, cut) => {
                if !body_delay.is_zero() {
                    tokio::time::sleep(body_delay).await;
                }
                drop(guard);
                if cut {
                    // An error from the body stream makes hyper close the connection
                    // mid-body: the client has the headers, then a broken body.
                    let error = std::io::Error::other("body cut short on purpose");
                    return Some((Err(error), Part::Done));
                }
                Some((Ok(Bytes::from_static(b"\"ok\"}\n")), Part::Done))
            }
            Part::Done => None,
        }
    });
    (StatusCode::OK, Body::from_stream(chunks)).into_response()
}
