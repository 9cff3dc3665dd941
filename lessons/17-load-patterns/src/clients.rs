//! Exercises 17.1, 17.2, 17.3 and 17.5: four ways to send many requests with one shared
//! HTTP client.
//!
//! Every function takes the client it must use: one `reqwest::Client` holds a pool of
//! connections, and building one per request opens a new TCP connection each time.

use reqwest::Client;

use crate::aimd::Aimd;
use crate::report::{Outcome, Report};

/// How many times the adaptive client sends one request before it keeps the refusal as
/// that request's answer.
pub const MAX_ATTEMPTS: usize = 100;

/// Exercise 17.1: `GET url` with `client`, read the whole body, and return the status.
/// The request is over only when its body has been read.
pub async fn fetch(client: &Client, url: &str) -> Outcome {
    let _ = (client, url);
    todo!("exercise 17.1: fetch")
}

/// Exercise 17.1: send `requests` requests one after the other.
pub async fn sequential(client: &Client, url: &str, requests: usize) -> Report {
    let _ = (client, url, requests);
    todo!("exercise 17.1: sequential")
}

/// Exercise 17.2: one task per request, all at once; every request's outcome is counted,
/// errors included.
pub async fn task_per_request(client: &Client, url: &str, requests: usize) -> Report {
    let _ = (client, url, requests);
    todo!("exercise 17.2: task_per_request")
}

/// Exercise 17.3: never more than `workers` requests in flight (`workers` is at least 1),
/// each one in flight until its body has been read.
pub async fn bounded(client: &Client, url: &str, requests: usize, workers: usize) -> Report {
    let _ = (client, url, requests, workers);
    todo!("exercise 17.3: bounded")
}

/// Exercise 17.5: at most `limiter.limit()` requests in flight, the limit learned from the
/// answers. A 429 or 503 shrinks the limit and the request is sent again (at most
/// `MAX_ATTEMPTS` times in all); a success grows it back slowly. The report holds one
/// final outcome per request, and `retried` counts the refused attempts sent again.
pub async fn adaptive(client: &Client, url: &str, requests: usize, limiter: &mut Aimd) -> Report {
    let _ = (client, url, requests, limiter);
    todo!("exercise 17.5: adaptive")
}
