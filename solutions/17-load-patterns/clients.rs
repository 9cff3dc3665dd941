//! Exercises 17.1, 17.2, 17.3 and 17.5: four ways to send many requests with one shared
//! HTTP client.
//!
//! Every function takes the client it must use: one `reqwest::Client` holds a pool of
//! connections, and building one per request opens a new TCP connection each time.

//@ solution
use std::collections::VecDeque;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

//@ end
use reqwest::Client;

use crate::aimd::Aimd;
//@ solution
use crate::report::timed;
//@ end
use crate::report::{Outcome, Report};

/// How many times the adaptive client sends one request before it keeps the refusal as
/// that request's answer.
pub const MAX_ATTEMPTS: usize = 100;

/// Exercise 17.1: `GET url` with `client`, read the whole body, and return the status.
/// The request is over only when its body has been read.
pub async fn fetch(client: &Client, url: &str) -> Outcome {
    //@ solution
    let response = client.get(url).send().await?;
    let status = response.status().as_u16();
    response.bytes().await?;
    Ok(status)
    //@ skeleton
    // let _ = (client, url);
    // todo!("exercise 17.1: fetch")
    //@ end
}

/// Exercise 17.1: send `requests` requests one after the other.
pub async fn sequential(client: &Client, url: &str, requests: usize) -> Report {
    //@ solution
    let mut report = Report::new();
    for _ in 0..requests {
        let (outcome, latency) = timed(fetch(client, url)).await;
        report.record(outcome, latency);
    }
    report
    //@ skeleton
    // let _ = (client, url, requests);
    // todo!("exercise 17.1: sequential")
    //@ end
}

/// Exercise 17.2: one task per request, all at once; every request's outcome is counted,
/// errors included.
pub async fn task_per_request(client: &Client, url: &str, requests: usize) -> Report {
    //@ solution
    let mut tasks = JoinSet::new();
    for _ in 0..requests {
        let client = client.clone();
        let url = url.to_owned();
        tasks.spawn(async move { timed(fetch(&client, &url)).await });
    }
    let mut report = Report::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((outcome, latency)) => report.record(outcome, latency),
            // A task that panicked or was cancelled still counts: as an error.
            Err(_) => report.errors += 1,
        }
    }
    report
    //@ skeleton
    // let _ = (client, url, requests);
    // todo!("exercise 17.2: task_per_request")
    //@ end
}

/// Exercise 17.3: never more than `workers` requests in flight (`workers` is at least 1),
/// each one in flight until its body has been read.
pub async fn bounded(client: &Client, url: &str, requests: usize, workers: usize) -> Report {
    //@ solution
    let limit = Arc::new(Semaphore::new(workers.max(1)));
    let mut tasks = JoinSet::new();
    let mut report = Report::new();
    for _ in 0..requests {
        let permit = Arc::clone(&limit)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        // A JoinSet keeps a finished task (and its output) until it is joined: collect
        // what has finished as we go, or 7,500 finished tasks pile up in memory.
        while let Some(joined) = tasks.try_join_next() {
            match joined {
                Ok((outcome, latency)) => report.record(outcome, latency),
                Err(_) => report.errors += 1,
            }
        }
        let client = client.clone();
        let url = url.to_owned();
        tasks.spawn(async move {
            let (outcome, latency) = timed(fetch(&client, &url)).await;
            // Only now, with the body read, may the next request start.
            drop(permit);
            (outcome, latency)
        });
    }
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((outcome, latency)) => report.record(outcome, latency),
            Err(_) => report.errors += 1,
        }
    }
    report
    //@ skeleton
    // let _ = (client, url, requests, workers);
    // todo!("exercise 17.3: bounded")
    //@ end
}

/// Exercise 17.5: at most `limiter.limit()` requests in flight, the limit learned from the
/// answers. A 429 or 503 shrinks the limit and the request is sent again (at most
/// `MAX_ATTEMPTS` times in all); a success grows it back slowly. The report holds one
/// final outcome per request, and `retried` counts the refused attempts sent again.
pub async fn adaptive(client: &Client, url: &str, requests: usize, limiter: &mut Aimd) -> Report {
    //@ solution
    let mut report = Report::new();
    // Attempts made so far by each request waiting to be sent again.
    let mut again: VecDeque<usize> = VecDeque::new();
    let mut not_sent = requests;
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < limiter.limit() {
            let attempts = if let Some(attempts) = again.pop_front() {
                attempts
            } else if not_sent > 0 {
                not_sent -= 1;
                0
            } else {
                break;
            };
            running.push(async move { (attempts + 1, timed(fetch(client, url)).await) });
        }
        // Only this loop touches the limiter: no other task can see it change.
        let Some((attempts, (outcome, latency))) = running.next().await else {
            break;
        };
        match outcome {
            Ok(429 | 503) if attempts < MAX_ATTEMPTS => {
                limiter.on_overload();
                report.retried += 1;
                again.push_back(attempts);
            }
            Ok(429 | 503) => {
                limiter.on_overload();
                report.record(outcome, latency);
            }
            Ok(_) => {
                limiter.on_success(latency);
                report.record(outcome, latency);
            }
            Err(_) => report.record(outcome, latency),
        }
    }
    report
    //@ skeleton
    // let _ = (client, url, requests, limiter);
    // todo!("exercise 17.5: adaptive")
    //@ end
}
