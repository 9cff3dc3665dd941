//! Lesson 17's tests, in the order of the chapter's exercises.
//!
//! Every property is checked on the server's side of the socket: the server counts the
//! requests in flight from the moment its handler starts until just before the last chunk
//! of the body goes out, and the TCP connections it accepts. Its hold gate (`hold:
//! Some(k)`) keeps accepted requests waiting until `k` have arrived, which makes "the
//! maximum in flight reaches N" exact instead of likely.

use std::future::Future;
use std::time::Duration;

use lesson_17::aimd::Aimd;
use lesson_17::clients;
use lesson_17::report::Report;
use lesson_17::server::{Config, Server, Stats};
use reqwest::StatusCode;

/// Run `make()` on a two-thread tokio runtime with real time (the requests go through
/// real sockets, so the paused clock does not apply), under the exercise's deadline.
fn on_runtime<F, Fut>(id: &str, hangs_if: &str, make: F) -> Fut::Output
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future,
    Fut::Output: Send + 'static,
{
    kit::lesson!().exercise(id).hangs_if(hangs_if).run(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        runtime.block_on(make())
    })
}

/// Run `client(url)` on a current-thread tokio runtime — one thread, so a client that
/// never awaits starves itself — against a server running on a runtime of its own, under
/// the exercise's deadline. Returns the client's output and what the server saw.
fn on_one_thread<F, Fut>(
    id: &str,
    hangs_if: &str,
    config: Config,
    client: F,
) -> (Fut::Output, Stats)
where
    F: FnOnce(String) -> Fut + Send + 'static,
    Fut: Future,
    Fut::Output: Send + 'static,
{
    kit::lesson!().exercise(id).hangs_if(hangs_if).run(move || {
        let server_runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime for the server");
        let server = server_runtime.block_on(server(config));
        let client_runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime for the client");
        let output = client_runtime.block_on(client(server.url()));
        (output, server.stats())
    })
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("an HTTP client")
}

async fn server(config: Config) -> Server {
    Server::start(config)
        .await
        .expect("cannot start the test server on 127.0.0.1")
}

/// A URL on 127.0.0.1 where nothing listens: every request to it fails to connect.
async fn nowhere() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("its address");
    drop(listener);
    format!("http://{addr}/data")
}

fn every_request_answered(report: &Report, stats: &Stats, requests: usize) {
    assert_eq!(
        report.total(),
        requests,
        "{requests} requests were sent, but the report counts {} outcomes ({}): every \
         request must end with exactly one status or one error",
        report.total(),
        report.summary()
    );
    assert_eq!(
        report.count(200),
        requests,
        "every request should have been answered 200; the report says {}",
        report.summary()
    );
    assert_eq!(
        stats.served, requests,
        "the server answered {} requests 200, not {requests}",
        stats.served
    );
}

// ---------------------------------------------------------------------------------------
// 17.1: fetch, sequential

#[test]
fn ex17_1_fetch_returns_the_status_or_the_error() {
    on_runtime("17.1", "fetch never finishes reading the body", || async {
        let refusing = server(Config {
            capacity: Some(0),
            ..Config::default()
        })
        .await;
        let client = client();
        let status = clients::fetch(&client, &refusing.url()).await;
        assert_eq!(
            status.as_ref().ok(),
            Some(&503),
            "a server that answers 503: fetch should return Ok(503), got {status:?}"
        );
        let plain = server(Config::default()).await;
        let status = clients::fetch(&client, &plain.url()).await;
        assert_eq!(status.as_ref().ok(), Some(&200), "got {status:?}");
        let failed = clients::fetch(&client, &nowhere().await).await;
        assert!(
            failed.is_err(),
            "nothing listens at that address: fetch should return the error, got {failed:?}"
        );
    });
}

#[test]
fn ex17_1_sequential_keeps_one_request_in_flight_on_one_connection() {
    let (report, stats) = on_runtime(
        "17.1",
        "a request waits for one that is never sent",
        || async {
            // The body's last chunk comes 15 ms after its first: a client that moves on
            // before it has read the body shows as two requests in flight.
            let server = server(Config {
                body_delay: Duration::from_millis(15),
                ..Config::default()
            })
            .await;
            let report = clients::sequential(&client(), &server.url(), 10).await;
            (report, server.stats())
        },
    );
    every_request_answered(&report, &stats, 10);
    assert_eq!(
        stats.max_in_flight, 1,
        "the server saw {} requests in flight at once: a sequential client sends the next \
         request only after it has read the whole body of the previous one",
        stats.max_in_flight
    );
    // One connection would do; the pool may open a second when a request starts just
    // before the previous connection is back in it. A client per request opens 10.
    assert!(
        stats.connections <= 5,
        "10 requests opened {} TCP connections: use the client you are given (its pool \
         keeps the connection open between requests) and read each body to the end, so \
         the connection can be used again",
        stats.connections
    );
}

#[test]
fn ex17_1_a_body_cut_short_is_an_error() {
    on_runtime("17.1", "fetch never finishes reading the body", || async {
        // The headers and the first chunk go out, and 20 ms later the connection closes.
        let cutting = server(Config {
            cut_every: Some(1),
            body_delay: Duration::from_millis(20),
            ..Config::default()
        })
        .await;
        let status = clients::fetch(&client(), &cutting.url()).await;
        assert!(
            status.is_err(),
            "the server sent a 200 and then closed the connection in the middle of the \
             body: fetch should return the error from reading the body, got {status:?} \
             (a request whose body never arrived whole did not succeed)"
        );
    });
}

#[test]
fn ex17_1_sequential_counts_errors() {
    let report = on_runtime("17.1", "a request that never ends", || async {
        clients::sequential(&client(), &nowhere().await, 5).await
    });
    assert_eq!(
        (report.errors, report.total()),
        (5, 5),
        "5 requests, one after the other, to an address where nothing listens: each should \
         be counted as an error, not skipped (the report says {})",
        report.summary()
    );
}

// ---------------------------------------------------------------------------------------
// 17.2: one task per request

#[test]
fn ex17_2_every_request_is_in_flight_at_once() {
    let (report, stats) = on_runtime(
        "17.2",
        "a task that never ends, or a wait for a task that was never spawned (too few \
         requests only make the server's gate wait 2 s, they cannot hang)",
        || async {
            let server = server(Config {
                hold: Some(20),
                ..Config::default()
            })
            .await;
            let report = clients::task_per_request(&client(), &server.url(), 20).await;
            (report, server.stats())
        },
    );
    every_request_answered(&report, &stats, 20);
    assert!(
        !stats.hold_timed_out && stats.max_in_flight == 20,
        "the server holds each request until 20 have arrived; it saw at most {} in flight at \
         once{}: spawn one task per request before waiting for any of them",
        stats.max_in_flight,
        if stats.hold_timed_out {
            " and gave up waiting"
        } else {
            ""
        }
    );
}

#[test]
fn ex17_2_errors_are_counted_not_dropped() {
    let report = on_runtime("17.2", "a task that never ends", || async {
        clients::task_per_request(&client(), &nowhere().await, 30).await
    });
    assert_eq!(
        (report.errors, report.total()),
        (30, 30),
        "30 requests to an address where nothing listens: every one should be counted as \
         an error (the report says {})",
        report.summary()
    );
}

// ---------------------------------------------------------------------------------------
// 17.3: bounded fan-out

#[test]
fn ex17_3_bounded_reaches_n_and_never_exceeds_it() {
    let (report, stats) = on_runtime(
        "17.3",
        "a permit that is never given back, or a task that is never joined (too few \
         requests in flight only make the server's gate wait 2 s, they cannot hang)",
        || async {
            // Hold until 4 have arrived (so the maximum reaches 4 exactly), and keep each
            // body's end 100 ms after its start: a permit given back when the headers
            // arrive lets a fifth request in while four bodies are still being read.
            let server = server(Config {
                hold: Some(4),
                body_delay: Duration::from_millis(100),
                ..Config::default()
            })
            .await;
            let report = clients::bounded(&client(), &server.url(), 12, 4).await;
            (report, server.stats())
        },
    );
    every_request_answered(&report, &stats, 12);
    assert!(
        stats.max_in_flight <= 4,
        "N = 4, but the server saw {} requests in flight at once: a request is in flight \
         until its body has been read, so hold the permit until then",
        stats.max_in_flight
    );
    assert!(
        !stats.hold_timed_out && stats.max_in_flight == 4,
        "N = 4, but the server never saw 4 requests in flight at once (at most {}): the \
         limit should allow exactly N",
        stats.max_in_flight
    );
}

#[test]
fn ex17_3_bounded_shares_one_client() {
    let (report, stats) = on_runtime("17.3", "a permit that is never given back", || async {
        let server = server(Config::default()).await;
        let report = clients::bounded(&client(), &server.url(), 40, 4).await;
        (report, server.stats())
    });
    every_request_answered(&report, &stats, 40);
    assert!(
        stats.connections <= 20,
        "40 requests, at most 4 at a time, opened {} TCP connections: share the client you \
         are given (clone it: the clone shares its connection pool) instead of building one \
         per request",
        stats.connections
    );
}

#[test]
fn ex17_3_keeps_n_in_flight_while_one_request_is_slow() {
    let (report, stats) = on_one_thread(
        "17.3",
        "the client never lets its one thread go (this test runs it on a current-thread \
         runtime): a loop that retries `try_acquire` without an `.await` in it spins \
         forever, so no request can finish to give a permit back — wait with \
         `acquire_owned().await`",
        // The server holds the first request until all 12 have arrived: the other three
        // slots must keep working while it is slow.
        Config {
            hold_first: Some(12),
            ..Config::default()
        },
        |url| async move { clients::bounded(&client(), &url, 12, 4).await },
    );
    every_request_answered(&report, &stats, 12);
    assert!(
        stats.max_in_flight <= 4,
        "N = 4, but the server saw {} requests in flight at once",
        stats.max_in_flight
    );
    assert!(
        !stats.first_hold_timed_out,
        "the server kept the first request waiting until all 12 had arrived, but the other \
         requests stopped coming while it waited: the client waited for the slow one \
         (waves of N joined together wait for the slowest of each wave). Start the next \
         request as soon as any one finishes, so N stay in flight"
    );
}

#[test]
fn ex17_3_spawns_at_most_n_tasks_at_a_time() {
    let ((report, most_alive), stats) = on_one_thread(
        "17.3",
        "the client never lets its one thread go (this test runs it on a current-thread \
         runtime): a loop without an `.await` in it spins forever",
        Config::default(),
        |url| async move {
            // Sample how many tasks are alive on the client's runtime while it runs.
            let most = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let seen = std::sync::Arc::clone(&most);
            let sampler = tokio::spawn(async move {
                let metrics = tokio::runtime::Handle::current().metrics();
                loop {
                    seen.fetch_max(
                        metrics.num_alive_tasks(),
                        std::sync::atomic::Ordering::Relaxed,
                    );
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            });
            let report = clients::bounded(&client(), &url, 60, 4).await;
            sampler.abort();
            (report, most.load(std::sync::atomic::Ordering::Relaxed))
        },
    );
    every_request_answered(&report, &stats, 60);
    // 4 request tasks, a task or so per open connection (reqwest's pool spawns them), and
    // the sampler: twice that leaves room for a worker pool's timing, and is still far
    // below the 60 tasks of spawning everything up front.
    let allowed = 2 * (4 + stats.connections) + 4;
    assert!(
        most_alive <= allowed,
        "60 requests with N = 4: at one point {most_alive} tasks were alive on the client's \
         runtime (4 in flight and {} connections allow about {allowed}). Take the permit \
         before spawning the task, so the loop itself waits; a task spawned per request \
         that waits for its permit inside still makes all 60 tasks at once",
        stats.connections
    );
}

// ---------------------------------------------------------------------------------------
// 17.4: the AIMD limit

const SLOW: Duration = Duration::from_millis(100);
const FAST: Duration = Duration::from_millis(1);

fn limits_after(limiter: &mut Aimd, successes: usize) -> Vec<usize> {
    (0..successes)
        .map(|_| {
            limiter.on_success(FAST);
            limiter.limit()
        })
        .collect()
}

#[test]
fn ex17_4_grows_by_one_per_window_of_successes() {
    kit::lesson!().exercise("17.4").run(|| {
        let mut aimd = Aimd::new(4, 1, 16, SLOW);
        assert_eq!(
            limits_after(&mut aimd, 9),
            [4, 4, 4, 5, 5, 5, 5, 5, 6],
            "from a limit of 4, the limit after each of 9 fast successes: it grows by one \
             once `limit` successes have been counted since it last changed"
        );
        let mut capped = Aimd::new(15, 1, 16, SLOW);
        assert_eq!(
            limits_after(&mut capped, 40).last(),
            Some(&16),
            "max is 16: the limit never grows past it"
        );
    });
}

#[test]
fn ex17_4_halves_on_overload_and_keeps_the_floor() {
    kit::lesson!().exercise("17.4").run(|| {
        let mut aimd = Aimd::new(13, 2, 16, SLOW);
        let mut seen = Vec::new();
        for _ in 0..4 {
            aimd.on_overload();
            seen.push(aimd.limit());
        }
        assert_eq!(
            seen,
            [6, 3, 2, 2],
            "from 13 with min 2, the limit after each of four overloads: halve it (rounding \
             down), never below min"
        );
        // A decrease starts the count of successes again.
        let mut aimd = Aimd::new(4, 1, 16, SLOW);
        limits_after(&mut aimd, 3);
        aimd.on_overload();
        assert_eq!(
            limits_after(&mut aimd, 3),
            [2, 3, 3],
            "limit 4, three successes, an overload (limit 2), then three successes: the \
             successes before the overload do not count towards growing again"
        );
    });
}

#[test]
fn ex17_4_a_slow_success_counts_as_overload() {
    kit::lesson!().exercise("17.4").run(|| {
        let target = Duration::from_millis(10);
        let mut aimd = Aimd::new(8, 1, 16, target);
        aimd.on_success(target + Duration::from_millis(1));
        assert_eq!(
            aimd.limit(),
            4,
            "a success slower than the latency target is a sign of overload: halve the limit"
        );
        aimd.on_success(target);
        assert_eq!(
            aimd.limit(),
            4,
            "a success exactly at the target is not slow, and one success is not enough to \
             grow a limit of 4"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 17.5: the adaptive client

/// Run the adaptive client (starting at 16) against a server with room for 4 that
/// refuses past that with `refuse_with`; the server holds its first accepted requests
/// until 16 have arrived, so the first burst is always refused in part.
fn adaptive_run(refuse_with: StatusCode, requests: usize) -> (Report, Stats, Vec<usize>, usize) {
    on_runtime(
        "17.5",
        "the client waits for a request it never sent (the limit shrank to 0?)",
        move || async move {
            let server = server(Config {
                service_time: Duration::from_millis(3),
                capacity: Some(4),
                refuse_with,
                hold: Some(16),
                ..Config::default()
            })
            .await;
            let mut limiter = Aimd::new(16, 1, 16, Duration::from_secs(5));
            let report = clients::adaptive(&client(), &server.url(), requests, &mut limiter).await;
            (
                report,
                server.stats(),
                server.attempts_at_arrival(),
                limiter.limit(),
            )
        },
    )
}

/// A limiter still at its start (16) after refusals was never told about them.
fn never_shrank(stats: &Stats, last_limit: usize, status: u16) {
    assert!(
        last_limit < 16,
        "the server refused {} attempts with {status}, yet the limit never shrank (it is \
         still {last_limit}): call `limiter.on_overload()` on each 429 or 503, and read \
         `limiter.limit()` again each time you decide whether to send another request",
        stats.refused
    );
}

/// One client, at most 16 requests in flight: a few more connections than that at most.
fn few_connections(stats: &Stats) {
    assert!(
        stats.connections <= 40,
        "the run opened {} TCP connections with at most 16 requests in flight: send every \
         attempt, retries included, with the client you are given (its pool reuses \
         connections), not a new one per attempt",
        stats.connections
    );
}

#[test]
fn ex17_5_adaptive_backs_off_and_loses_nothing() {
    let requests = 200;
    let (report, stats, attempts, last_limit) =
        adaptive_run(StatusCode::SERVICE_UNAVAILABLE, requests);
    assert!(
        stats.refused > 0,
        "the server never refused: the client should start with `limiter.limit()` (16) \
         requests in flight"
    );
    never_shrank(&stats, last_limit, 503);
    few_connections(&stats);
    every_request_answered(&report, &stats, requests);
    assert_eq!(
        report.retried, stats.refused,
        "the server refused {} attempts; each should be sent again and counted in `retried`",
        stats.refused
    );
    let late = attempts[attempts.len() / 2..]
        .iter()
        .max()
        .copied()
        .unwrap_or(0);
    assert!(
        late <= 8,
        "after the server started refusing (room for 4), the client still had {late} \
         requests at the server at once in the second half of the run: shrink the limit \
         on each 503"
    );
    assert!(
        stats.refused < requests / 2,
        "{} of {} attempts were refused: the limit should settle near the server's room \
         (4), not keep overshooting it",
        stats.refused,
        stats.arrivals
    );
}

#[test]
fn ex17_5_a_429_is_overload_too() {
    let requests = 80;
    let (report, stats, _, last_limit) = adaptive_run(StatusCode::TOO_MANY_REQUESTS, requests);
    never_shrank(&stats, last_limit, 429);
    few_connections(&stats);
    every_request_answered(&report, &stats, requests);
    assert!(
        stats.refused > 0 && stats.refused < requests,
        "{} attempts were refused with 429 for {requests} requests: treat 429 like 503",
        stats.refused
    );
}

#[test]
fn ex17_5_keeps_the_limit_busy_while_one_request_is_slow() {
    let (report, stats) = on_one_thread(
        "17.5",
        "the client never lets its one thread go (this test runs it on a current-thread \
         runtime), or waits for a request it never sent",
        Config {
            hold_first: Some(12),
            ..Config::default()
        },
        |url| async move {
            let mut limiter = Aimd::new(4, 1, 4, Duration::from_secs(5));
            clients::adaptive(&client(), &url, 12, &mut limiter).await
        },
    );
    every_request_answered(&report, &stats, 12);
    assert!(
        !stats.first_hold_timed_out,
        "the limit was 4 and the server kept the first request waiting until all 12 had \
         arrived, but the other requests stopped coming while it waited: top up to \
         `limiter.limit()` each time any request finishes, not only when none is in flight"
    );
}

#[test]
fn ex17_5_errors_are_counted_not_retried() {
    let (report, stats) = on_one_thread(
        "17.5",
        "the client waits for a request it never sent",
        Config {
            cut_every: Some(4),
            ..Config::default()
        },
        |url| async move {
            let mut limiter = Aimd::new(4, 1, 4, Duration::from_secs(5));
            clients::adaptive(&client(), &url, 20, &mut limiter).await
        },
    );
    assert_eq!(
        (stats.arrivals, report.retried),
        (20, 0),
        "20 requests; the server cut {} bodies short. A failed request is an error to \
         count, not a refusal to send again: the server saw {} attempts and the report \
         says {} retried",
        stats.cut,
        stats.arrivals,
        report.retried
    );
    assert_eq!(
        (report.errors, report.count(200), report.total()),
        (stats.cut, 20 - stats.cut, 20),
        "the server cut {} of 20 bodies short: those are errors, the rest 200s (the report \
         says {})",
        stats.cut,
        report.summary()
    );
}

#[test]
fn ex17_5_gives_up_after_max_attempts() {
    let (report, stats) = on_one_thread(
        "17.5",
        "a request the server refuses every time is sent again forever: stop after \
         `MAX_ATTEMPTS` attempts in all and keep the refusal as its answer",
        Config {
            capacity: Some(0),
            ..Config::default()
        },
        |url| async move {
            let mut limiter = Aimd::new(4, 1, 4, Duration::from_secs(5));
            clients::adaptive(&client(), &url, 2, &mut limiter).await
        },
    );
    let max = clients::MAX_ATTEMPTS;
    assert_eq!(
        (
            stats.arrivals,
            report.retried,
            report.count(503),
            report.total()
        ),
        (2 * max, 2 * (max - 1), 2, 2),
        "a server that refuses everything, 2 requests: each should be sent {max} times in \
         all, the last refusal kept as its answer ({} attempts arrived; the report says {}, \
         {} retried)",
        stats.arrivals,
        report.summary(),
        report.retried
    );
}

kit::program_tests!("--workers", "0");
