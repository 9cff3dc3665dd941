//! The service itself: finished code, not an exercise. It wires your parts together.
//!
//! | route | what |
//! |---|---|
//! | `GET /healthz`, `GET /readyz` | [`Health`] (19.2) |
//! | `GET /metrics` | [`Metrics::encode`] (19.3) |
//! | `GET /work?ms=N` | waits N ms ([`do_work`], 19.4) on the tracker; 200 `done`, or 503 `cancelled` if the shutdown cancels it; counted in the metrics |
//! | `GET /ingest?value=N` | queues an event for the [`batcher`] (19.4): 202, or 503 once it has stopped |
//!
//! [`start`] binds the listener, starts the server and the batcher and sets readiness;
//! [`Running::shutdown_on`] waits for a signal and runs [`graceful_shutdown`] (19.5).

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::info;

use crate::config::Config;
use crate::health::Health;
use crate::metrics::Metrics;
use crate::shutdown::{Report, Shutdown, graceful_shutdown};
use crate::work::{Outcome, batcher, do_work};

/// What every handler shares.
#[derive(Clone)]
struct App {
    health: Health,
    metrics: Metrics,
    events: mpsc::Sender<u64>,
    abort: CancellationToken,
    tracker: TaskTracker,
    max_work: Duration,
}

/// A started service.
pub struct Running {
    /// The address the listener is bound to (the port is the system's choice when the
    /// config says 0).
    pub addr: SocketAddr,
    pub metrics: Metrics,
    pub shutdown: Shutdown,
    server: JoinHandle<()>,
}

/// Bind `config`'s address, start the server and the batcher, and become ready.
pub async fn start(config: &Config) -> std::io::Result<Running> {
    let ip: std::net::IpAddr = config
        .server
        .address
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let port = u16::try_from(config.server.port)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let listener = TcpListener::bind((ip, port)).await?;
    let addr = listener.local_addr()?;

    let health = Health::new();
    let metrics = Metrics::new();
    // `abort` ends everything; `stop`, its child, ends the listener and background jobs
    // first. Cancelling a parent cancels its children, so an abort also stops.
    let abort = CancellationToken::new();
    let stop = abort.child_token();
    let tracker = TaskTracker::new();

    let (events, inbox) = mpsc::channel(1024);
    let batch_metrics = metrics.clone();
    tracker.spawn(batcher(
        inbox,
        config.analytics.batch_size,
        Duration::from_millis(config.analytics.flush_every_ms),
        stop.clone(),
        move |batch| {
            info!(
                event = "batch_written",
                events = batch.len(),
                "wrote a batch"
            );
            batch_metrics.flushed(batch.len() as u64);
        },
    ));

    let app = App {
        health: health.clone(),
        metrics: metrics.clone(),
        events,
        abort: abort.clone(),
        tracker: tracker.clone(),
        max_work: Duration::from_millis(config.work.max_ms),
    };
    let router = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .route("/work", get(work))
        .route("/ingest", get(ingest))
        .with_state(app);
    let stopped = stop.clone().cancelled_owned();
    let server = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::error!(event = "server_error", error = %e, "the server failed");
        }
    });

    health.set_ready();
    info!(event = "ready", "ready");
    Ok(Running {
        addr,
        metrics,
        shutdown: Shutdown {
            health,
            unready_delay: Duration::from_millis(config.shutdown.unready_delay_ms),
            drain_deadline: Duration::from_millis(config.shutdown.drain_deadline_ms),
            stop,
            abort,
            tracker,
        },
        server,
    })
}

impl Running {
    /// Serve until `signal` completes, then shut down gracefully; the report says how.
    pub async fn shutdown_on(self, signal: impl Future<Output = ()>) -> Report {
        signal.await;
        info!(event = "signal", "shutdown requested");
        let report = graceful_shutdown(&self.shutdown).await;
        // The work has ended; give the server the same deadline to write the last
        // responses and close its connections, then stop waiting for it.
        if tokio::time::timeout(self.shutdown.drain_deadline, self.server)
            .await
            .is_err()
        {
            info!(event = "server_abandoned", "connections were still open");
        }
        info!(
            event = "exit",
            code = report.exit_code(),
            cancelled = report.cancelled,
            abandoned = report.abandoned,
            "shutdown complete"
        );
        report
    }
}

async fn healthz(State(app): State<App>) -> impl IntoResponse {
    reply(app.health.healthz())
}

async fn readyz(State(app): State<App>) -> impl IntoResponse {
    reply(app.health.readyz())
}

fn reply((status, body): (u16, &'static str)) -> (StatusCode, &'static str) {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        body,
    )
}

async fn metrics_text(State(app): State<App>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.encode(),
    )
}

#[derive(Deserialize)]
struct WorkQuery {
    ms: u64,
}

async fn work(
    State(app): State<App>,
    query: Result<Query<WorkQuery>, QueryRejection>,
) -> impl IntoResponse {
    let in_flight = app.metrics.start();
    let max_ms = u64::try_from(app.max_work.as_millis()).unwrap_or(u64::MAX);
    let Some(Query(WorkQuery { ms })) = query.ok().filter(|q| q.ms <= max_ms) else {
        in_flight.finish(400);
        return (StatusCode::BAD_REQUEST, "want ?ms=N, at most work.max_ms");
    };
    info!(event = "work_started", ms, "work started");
    // On the tracker, so the shutdown waits for it; with `abort`, so it can be cancelled.
    let outcome = app
        .tracker
        .track_future(do_work(Duration::from_millis(ms), &app.abort))
        .await;
    match outcome {
        Outcome::Done => {
            info!(event = "work_done", ms, "work done");
            in_flight.finish(200);
            (StatusCode::OK, "done")
        }
        Outcome::Cancelled => {
            // Not logged: the shutdown has just logged `deadline_passed` with the count,
            // and a line from here would race with it in the log.
            in_flight.finish(503);
            (StatusCode::SERVICE_UNAVAILABLE, "cancelled")
        }
    }
}

#[derive(Deserialize)]
struct IngestQuery {
    value: u64,
}

async fn ingest(State(app): State<App>, Query(q): Query<IngestQuery>) -> impl IntoResponse {
    match app.events.try_send(q.value) {
        Ok(()) => (StatusCode::ACCEPTED, "accepted"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "not accepting events"),
    }
}
