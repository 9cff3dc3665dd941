//! Exercise 20.2: the ingest handler — `POST /events`.
//!
//! ```text
//!  POST /events  x-api-key: K   {"key": "sensor-a", "events": [{"id": "e1", "ts_ms": 1000, "value": 7}]}
//!    1. rate limit K          over the limit ─▶ 429, Retry-After: whole seconds
//!    2. parse and validate    bad input      ─▶ 4xx, a message that names the problem
//!    3. the stream's actor    committed      ─▶ 200 {"stored": 1, "duplicates": 0, "position": 42}
//!                             not committed  ─▶ 5xx (503 when shutting down)
//! ```
//!
//! A `200` is a promise: the batch is in the store and survives a crash from now on. So
//! the answer is sent only after the actor reports the commit — never before, never on a
//! guess. A refused batch leaves nothing behind: it is refused *before* anything of it is
//! handed to the actor.

use axum::body::Bytes;
use axum::extract::State;
//@ solution
use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
//@ end
use axum::http::HeaderMap;
//@ solution
use axum::response::IntoResponse;
use axum::response::Json;
//@ end
use axum::response::Response;
use serde::Deserialize;

use crate::App;
//@ solution
use crate::IngestError;
//@ end
use crate::store::NewEvent;

/// The header that names the client, for the rate limit. A request without it counts as
/// the key `"anonymous"`.
pub const API_KEY: &str = "x-api-key";

/// The body of `POST /events`. Only these fields: a request with any other field is
/// refused (a misspelt `"value"` would otherwise be stored as nothing at all).
#[derive(Debug, Deserialize)]
//@ solution
#[serde(deny_unknown_fields)]
//@ end
pub struct Batch {
    /// The stream key: not empty.
    pub key: String,
    /// One to `config.max_batch` events.
    pub events: Vec<EventIn>,
}

/// One event of a batch. Only these fields.
#[derive(Debug, Deserialize)]
//@ solution
#[serde(deny_unknown_fields)]
//@ end
pub struct EventIn {
    /// The client's id for the event: not empty, unique for the client.
    pub id: String,
    /// When it happened (milliseconds of the client's clock).
    pub ts_ms: i64,
    /// The measurement.
    pub value: i64,
}

/// `POST /events`: rate-limit, validate, hand the batch to its stream's actor, and answer.
///
/// - The API key (header [`API_KEY`], `"anonymous"` without it) over its limit
///   (`app.limiter.check`): `429 Too Many Requests` with a `Retry-After` header of
///   `RateLimited::retry_after_secs()`.
/// - A body that is not a [`Batch`] (malformed JSON, a missing or unknown field, a wrong
///   type): `400`, with a message that says what is wrong (serde's error says it well).
/// - An empty key, no events, or an event with an empty id: `400`, naming it.
/// - More than `app.config.max_batch` events: `413 Payload Too Large`, naming the limit.
/// - Otherwise `app.streams.submit(key, events)`: on `Ok(ack)`, `200` with `ack` as JSON;
///   `ShuttingDown`: `503`; any other error: `500`. The message is the error's text.
pub async fn ingest(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    //@ solution
    // The limit comes first: it is the cheapest check, and a client over its limit should
    // not get the server to parse its megabytes.
    let client = headers
        .get(API_KEY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("anonymous");
    if let Err(limited) = app.limiter.check(client) {
        let secs = limited.retry_after_secs();
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(RETRY_AFTER, secs.to_string())],
            format!("rate limit: API key {client:?} is over its limit; retry after {secs} s"),
        )
            .into_response();
    }
    let batch: Batch = match serde_json::from_slice(&body) {
        Ok(batch) => batch,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, format!("bad batch: {e}")).into_response();
        }
    };
    if batch.key.is_empty() {
        return (StatusCode::BAD_REQUEST, "bad batch: the key is empty").into_response();
    }
    if batch.events.is_empty() {
        return (StatusCode::BAD_REQUEST, "bad batch: no events").into_response();
    }
    let max = app.config.max_batch;
    if batch.events.len() > max {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "bad batch: {} events, over the limit of {max} per batch",
                batch.events.len()
            ),
        )
            .into_response();
    }
    if let Some(i) = batch.events.iter().position(|e| e.id.is_empty()) {
        return (
            StatusCode::BAD_REQUEST,
            format!("bad batch: event {i} has an empty id"),
        )
            .into_response();
    }
    let events = batch
        .events
        .into_iter()
        .map(|e| NewEvent {
            id: e.id,
            ts_ms: e.ts_ms,
            value: e.value,
        })
        .collect();
    // Wait for the actor's answer: the 200 goes out only after the commit.
    match app.streams.submit(&batch.key, events).await {
        Ok(ack) => (StatusCode::OK, Json(ack)).into_response(),
        Err(e @ IngestError::ShuttingDown) => {
            (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response()
        }
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
    //@ skeleton
    // let _ = (app, headers, body, NewEvent::clone, API_KEY);
    // todo!("exercise 20.2: ingest")
    //@ end
}
