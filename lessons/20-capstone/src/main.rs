//! Lesson 20's program: the platform under a scripted load, then a scripted set of
//! queries whose answers are exact.
//!
//! Several clients post a few thousand events over loopback at once. Which request
//! arrives first changes from run to run, so the program prints only what does not depend
//! on it: counts, sums and windowed rates (per window of *event* time), the status of
//! each scripted bad request, and the positions the store and the read model end at. The
//! rate limiter reads a manual clock that the program never moves, so which request is
//! refused depends on counts, not on speed.
//!
//! With `--serve --db FILE` it is instead the platform alone, for the crash tests: it
//! prints `listening on http://ADDR`, serves until SIGTERM, shuts down in order (20.4)
//! and exits 0. It also exits (with 1) when its standard input closes, so that a test
//! that dies never leaves a server behind.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use lesson_20::limiter::{ManualClock, SystemClock};
use lesson_20::server::{Platform, QueryAnswer};
use lesson_20::store::Faults;
use lesson_20::{Ack, Config};

/// Lesson 20: a small real-time analytics platform under load.
#[derive(Parser)]
#[command(name = "lesson-20")]
struct Args {
    /// How many clients post at once (1 to 16).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=16))]
    clients: u32,

    /// How many batches each client posts (1 to 50).
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u32).range(1..=50))]
    batches: u32,

    /// Be the platform alone: serve on 127.0.0.1 with the store in this file.
    #[arg(long, value_name = "FILE")]
    serve: Option<PathBuf>,

    /// With --serve: each API key's burst.
    #[arg(long, default_value_t = 10_000, requires = "serve")]
    burst: u32,

    /// With --serve: every commit waits this long first (the SIGTERM test's slow store).
    #[arg(long, default_value_t = 0, requires = "serve")]
    slow_commit_ms: u64,
}

/// The load's stream keys.
const KEYS: [&str; 5] = ["sensor-a", "sensor-b", "sensor-c", "sensor-d", "sensor-e"];
/// Events per batch.
const PER_BATCH: u32 = 20;

fn main() {
    let args = Args::parse();
    kit_run::brief_panics();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    match args.serve.clone() {
        Some(db) => {
            kit_run::watchdog!(Duration::from_secs(60));
            exit_when_stdin_closes();
            runtime.block_on(serve(&db, &args));
        }
        None => {
            kit_run::watchdog!(Duration::from_secs(30));
            runtime.block_on(story(&args));
        }
    }
}

/// The crash tests' server.
async fn serve(db: &Path, args: &Args) {
    let faults = Faults::none();
    faults.slow_commits(args.slow_commit_ms);
    let config = Config {
        rate_burst: args.burst,
        ..Config::default()
    };
    let platform = Platform::start(db, config, Arc::new(SystemClock::new()), faults)
        .await
        .unwrap_or_else(|e| {
            eprintln!("cannot start: {e}");
            std::process::exit(1)
        });
    println!("listening on {}", platform.url());
    std::io::stdout().flush().expect("stdout");
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("a SIGTERM handler");
    term.recv().await;
    let report = platform.shutdown().await;
    println!(
        "stopped: store head {}, read model at {}",
        report.store_head, report.model_position
    );
}

/// A thread that ends the process when stdin reaches its end (the parent is gone).
fn exit_when_stdin_closes() {
    std::thread::spawn(|| {
        let mut buf = [0u8; 64];
        let mut stdin = std::io::stdin();
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
        std::process::exit(1);
    });
}

/// The event `e` of batch `b` of client `c`: its id, event time and value.
fn event(c: u32, b: u32, e: u32) -> serde_json::Value {
    let n = i64::from((c * 1000 + b) * PER_BATCH + e);
    serde_json::json!({
        "id": format!("c{c}-b{b}-e{e}"),
        "ts_ms": 1_000_000 + (n * 137) % 10_000,
        "value": (n * 7) % 23 - 5,
    })
}

fn batch_key(c: u32, b: u32) -> &'static str {
    KEYS[((c + b) as usize) % KEYS.len()]
}

fn batch(c: u32, b: u32) -> String {
    serde_json::json!({
        "key": batch_key(c, b),
        "events": (0..PER_BATCH).map(|e| event(c, b, e)).collect::<Vec<_>>(),
    })
    .to_string()
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    api_key: &str,
    body: String,
) -> (u16, String, Option<String>) {
    let response = client
        .post(format!("{url}/events"))
        .header("x-api-key", api_key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the platform answers");
    let status = response.status().as_u16();
    let retry = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = response.text().await.expect("a body");
    (status, text, retry)
}

async fn query(client: &reqwest::Client, url: &str, q: &str) -> QueryAnswer {
    let text = client
        .get(format!("{url}/query?{q}"))
        .send()
        .await
        .expect("the platform answers")
        .text()
        .await
        .expect("a body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET /query?{q}: {e}: {text}"))
}

async fn story(args: &Args) {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("a temporary directory");
    let config = Config {
        rate_burst: args.batches + 5,
        ..Config::default()
    };
    let burst = config.rate_burst;
    let clock = Arc::new(ManualClock::new());
    let platform = Platform::start(&dir.path().join("events.db"), config, clock, Faults::none())
        .await
        .expect("the platform starts");
    let url = platform.url();
    println!("Lesson 20: a small analytics platform under a scripted load");
    println!(
        "load: {} clients x {} batches x {PER_BATCH} events, over {} stream keys, at once",
        args.clients,
        args.batches,
        KEYS.len()
    );

    // The load: every client posts its batches one after another; the clients run at once.
    let mut clients = tokio::task::JoinSet::new();
    for c in 0..args.clients {
        let url = url.clone();
        let batches = args.batches;
        clients.spawn(async move {
            let http = reqwest::Client::new();
            let mut last = 0;
            for b in 0..batches {
                let (status, text, _) =
                    post(&http, &url, &format!("client-{c}"), batch(c, b)).await;
                assert_eq!(status, 200, "client {c} batch {b}: {text}");
                let ack: Ack = serde_json::from_str(&text).expect("an Ack");
                assert_eq!(ack.stored, PER_BATCH, "client {c} batch {b}: {text}");
                last = last.max(ack.position);
            }
            last
        });
    }
    let mut last_ack = 0;
    while let Some(last) = clients.join_next().await {
        last_ack = last_ack.max(last.expect("a client ran"));
    }
    let total = args.clients * args.batches * PER_BATCH;
    println!("acknowledged: {total} events, every one with 200");

    let http = reqwest::Client::new();
    println!();
    println!("queries (read model at least at the last acknowledged position):");
    for key in KEYS {
        let a = query(&http, &url, &format!("key={key}&at_least={last_ack}")).await;
        let busiest = a.windows.iter().max_by_key(|w| (w.count, -w.start_ms));
        println!(
            "  {key}: count {:>4}  sum {:>6}  windows {:>2}  busiest window {}",
            a.count,
            a.sum,
            a.windows.len(),
            busiest.map_or("-".to_string(), |w| format!(
                "{}..{} ms: {} events/s, sum {}",
                w.start_ms,
                w.start_ms + 1000,
                w.count,
                w.sum
            ))
        );
    }
    let a = query(&http, &url, "key=sensor-a&from_ms=1003000&to_ms=1006000").await;
    println!("  sensor-a, event time 1003000..1006000 ms, per second:");
    for w in &a.windows {
        println!(
            "    {}: {:>3} events, sum {:>5}",
            w.start_ms, w.count, w.sum
        );
    }
    let nobody = query(&http, &url, "key=nobody").await;
    println!("  nobody: count {}, sum {}", nobody.count, nobody.sum);

    println!();
    println!("a resend of client 0's first batch (same ids):");
    let (status, text, _) = post(&http, &url, "client-0", batch(0, 0)).await;
    let ack: Ack = serde_json::from_str(&text).unwrap_or_default();
    println!(
        "  {status}: stored {}, duplicates {}",
        ack.stored, ack.duplicates
    );

    println!();
    println!("bad input (nothing of these is stored):");
    let oversized = serde_json::json!({
        "key": "sensor-a",
        "events": (0..101).map(|e| event(99, 0, e)).collect::<Vec<_>>(),
    })
    .to_string();
    let bad = [
        (
            "malformed JSON",
            "{\"key\": \"sensor-a\", \"events\": [".to_string(),
        ),
        (
            "an unknown field",
            r#"{"key": "sensor-a", "events": [{"id": "x1", "ts_ms": 1, "value": 2, "unit": "C"}]}"#
                .to_string(),
        ),
        ("101 events (limit 100)", oversized),
        (
            "an empty key",
            r#"{"key": "", "events": [{"id": "x2", "ts_ms": 1, "value": 2}]}"#.to_string(),
        ),
    ];
    for (what, body) in bad {
        let (status, _, _) = post(&http, &url, "tester", body).await;
        println!("  {what}: {status}");
    }

    println!();
    println!("rate limit: API key \"greedy\" has a burst of {burst}, and the clock stands still:");
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for i in 0..=burst {
        let body = serde_json::json!({
            "key": "greedy", "events": [{"id": format!("greedy-{i}"), "ts_ms": 0, "value": 1}],
        })
        .to_string();
        let (status, _, retry) = post(&http, &url, "greedy", body).await;
        statuses.push(status);
        retry_after = retry_after.or(retry);
    }
    let ok = statuses.iter().filter(|&&s| s == 200).count();
    println!(
        "  {} requests: {ok} answered 200, then {}, Retry-After: {}",
        statuses.len(),
        statuses.last().copied().unwrap_or_default(),
        retry_after.as_deref().unwrap_or("(none)")
    );

    let metrics = http
        .get(format!("{url}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("a body");
    println!();
    println!("metrics (some lines of GET /metrics):");
    // A family's lines come in no particular order: sort them.
    let mut lines: Vec<&str> = metrics
        .lines()
        .filter(|l| {
            l.starts_with("http_requests_total{route=\"/events\"")
                || l.starts_with("stream_actor_restarts_total")
        })
        .collect();
    lines.sort_unstable();
    for line in lines {
        println!("  {line}");
    }

    let report = platform.shutdown().await;
    println!();
    println!(
        "shutdown: store head {}, read model at {}",
        report.store_head, report.model_position
    );
}
