//! The platform's plumbing: the routes, the query and metrics handlers, and starting
//! every part in the right order. Finished code, not an exercise: the ingest handler is
//! 20.2, the shutdown order 20.4.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::limiter::{Clock, KeyedLimiter};
use crate::metrics::Metrics;
use crate::read_model::{ReadModel, Window};
use crate::shutdown::{Parts, ShutdownReport};
use crate::store::{EventLog, Faults};
use crate::streams::StreamRouter;
use crate::{App, Config, ingest, projection, shutdown};

/// How long `GET /query?at_least=…` waits for the read model.
pub const QUERY_WAIT: Duration = Duration::from_secs(5);

/// The routes: `POST /events` (20.2), `GET /query`, `GET /metrics`, each answer counted.
pub fn routes(app: App) -> Router {
    Router::new()
        .route("/events", post(ingest::ingest))
        .route("/query", get(query))
        .route("/metrics", get(metrics))
        .layer(middleware::from_fn_with_state(app.clone(), count))
        .with_state(app)
}

/// Count every request while it is handled, and its answer by status.
async fn count(State(app): State<App>, request: Request, next: Next) -> Response {
    let route = request.uri().path().to_string();
    app.metrics.in_flight.inc();
    let response = next.run(request).await;
    app.metrics.in_flight.dec();
    app.metrics.answered(&route, response.status().as_u16());
    response
}

/// `GET /query?key=K[&from_ms=A&to_ms=B][&at_least=P]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryParams {
    /// The stream key.
    pub key: String,
    /// Windows starting at or after this event time (ms)…
    pub from_ms: Option<i64>,
    /// …and before this one.
    pub to_ms: Option<i64>,
    /// Wait (up to [`QUERY_WAIT`]) until the read model has reached this position: read
    /// your own writes, with the `position` of a `200` to `POST /events`.
    pub at_least: Option<u64>,
}

/// The answer to `GET /query`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryAnswer {
    pub key: String,
    /// The position of the read model the answer comes from.
    pub position: u64,
    pub count: u64,
    pub sum: i64,
    /// The windows of event time in `[from_ms, to_ms)`: their start, count and sum. A
    /// window's count is its rate, in events per second.
    pub windows: Vec<WindowAnswer>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WindowAnswer {
    pub start_ms: i64,
    pub count: u64,
    pub sum: i64,
}

async fn query(State(app): State<App>, Query(q): Query<QueryParams>) -> Response {
    if let Some(p) = q.at_least
        && let Err(lag) = app.model.wait_for(p, QUERY_WAIT).await
    {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "the read model is at position {}, still short of {}",
                lag.reached, lag.wanted
            ),
        )
            .into_response();
    }
    Json(answer(&app.model, &q.key, q.from_ms, q.to_ms)).into_response()
}

/// What the read model says about `key`, with the windows in `[from_ms, to_ms)`.
pub fn answer(
    model: &ReadModel,
    key: &str,
    from_ms: Option<i64>,
    to_ms: Option<i64>,
) -> QueryAnswer {
    let view = model.read();
    let stats = view.keys.get(key).cloned().unwrap_or_default();
    let from = from_ms.unwrap_or(i64::MIN);
    let to = to_ms.unwrap_or(i64::MAX);
    QueryAnswer {
        key: key.to_string(),
        position: view.position,
        count: stats.count,
        sum: stats.sum,
        windows: stats
            .windows
            .range(from..to)
            .map(|(&start_ms, &Window { count, sum })| WindowAnswer {
                start_ms,
                count,
                sum,
            })
            .collect(),
    }
}

async fn metrics(State(app): State<App>) -> Response {
    app.metrics.store_head.set(gauge(app.store.head()));
    app.metrics
        .read_model_position
        .set(gauge(app.model.position()));
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.encode(),
    )
        .into_response()
}

fn gauge(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A running platform.
pub struct Platform {
    /// Where it listens: a free port of 127.0.0.1.
    pub addr: SocketAddr,
    /// Its parts, for tests and the program's report.
    pub app: App,
    parts: Parts,
}

impl Platform {
    /// Open the store in `db`, build every part, catch the read model up from the store
    /// (the projector starts at position 0) and start listening on 127.0.0.1.
    pub async fn start(
        db: &Path,
        config: Config,
        clock: Arc<dyn Clock>,
        faults: Arc<Faults>,
    ) -> std::io::Result<Platform> {
        let store =
            Arc::new(EventLog::open_with_faults(db, faults).map_err(std::io::Error::other)?);
        let metrics = Arc::new(Metrics::new());
        let model = Arc::new(ReadModel::new());
        let limiter = Arc::new(KeyedLimiter::new(
            config.rate_burst,
            config.rate_every,
            clock,
        ));
        let streams = Arc::new(StreamRouter::new(
            Arc::clone(&store),
            Arc::clone(&metrics),
            config.mailbox,
        ));
        let stop_projector = CancellationToken::new();
        let projector = tokio::spawn(projection::run(
            Arc::clone(&store),
            Arc::clone(&model),
            stop_projector.clone(),
        ));
        let app = App {
            config: Arc::new(config),
            limiter,
            streams: Arc::clone(&streams),
            store: Arc::clone(&store),
            model: Arc::clone(&model),
            metrics,
        };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let stop_accepting = CancellationToken::new();
        let serve = axum::serve(listener, routes(app.clone()))
            .with_graceful_shutdown(stop_accepting.clone().cancelled_owned());
        let server = tokio::spawn(async move {
            if let Err(e) = serve.await {
                eprintln!("the HTTP server failed: {e}");
            }
        });
        Ok(Platform {
            addr,
            app,
            parts: Parts {
                stop_accepting,
                server,
                streams,
                store,
                model,
                stop_projector,
                projector,
            },
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop the platform in order (20.4) and say where the store and the read model ended.
    pub async fn shutdown(self) -> ShutdownReport {
        shutdown::shutdown(self.parts).await
    }
}
