//! Lesson 19's program.
//!
//! Without arguments, a demonstration whose output is the same on every run: the
//! configuration checks, then the service started on 127.0.0.1, given a little work, and
//! shut down — its JSON logs (without timestamps) show the shutdown sequence.
//!
//! With `--config FILE` it is the service itself: it logs JSON to stdout, the first line
//! carrying the address it listens on, and serves until SIGTERM or Ctrl-C. A config that
//! is refused ends it with exit code 2 and every problem on stderr.

use std::path::{Path, PathBuf};
use std::process;
use std::time::Duration;

use clap::Parser;
use lesson_19::client::get;
use lesson_19::config::{Config, ConfigError};
use lesson_19::{logs, service};

/// Lesson 19: a small service made ready for production.
#[derive(Parser)]
#[command(name = "lesson-19")]
struct Args {
    /// Serve with this YAML configuration until SIGTERM or Ctrl-C.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// A valid configuration, as the demonstration uses it.
const EXAMPLE: &str = "\
server:
  address: 127.0.0.1
  port: 0
shutdown:
  unready_delay_ms: 100
  drain_deadline_ms: 4000
analytics:
  batch_size: 3
  flush_every_ms: 60000
work:
  max_ms: 60000
log:
  level: info
";

/// Every value breaks a rule.
const BAD: &str = "\
server:
  address: 0.0.0.0
  port: 80800
shutdown:
  unready_delay_ms: 20000
  drain_deadline_ms: 0
analytics:
  batch_size: 0
  flush_every_ms: 0
work:
  max_ms: 0
log:
  level: loud
";

/// A string where a number belongs, on line 3.
const BROKEN: &str = "\
server:
  address: 127.0.0.1
  port: eighty
";

fn main() {
    let args = Args::parse();
    match &args.config {
        Some(path) => {
            // A lesson's server lives at most a minute, so that none is ever left behind.
            kit_run::watchdog!(Duration::from_secs(60));
            kit_run::brief_panics();
            serve(path);
        }
        None => {
            kit_run::watchdog!(Duration::from_secs(30));
            kit_run::brief_panics();
            demo();
        }
    }
}

/// Read and check the config, or end with exit code 2 and say why.
fn load(path: &Path) -> Config {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| {
        eprintln!("--config {}: cannot read it: {e}", path.display());
        process::exit(2);
    });
    match Config::from_yaml(&text) {
        Ok(config) => config,
        Err(ConfigError::Invalid(problems)) => {
            eprintln!(
                "--config {}: {} value(s) break a rule:",
                path.display(),
                problems.len()
            );
            for problem in problems {
                eprintln!("  {problem}");
            }
            process::exit(2);
        }
        Err(error) => {
            eprintln!("--config {}: {error}", path.display());
            process::exit(2);
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

fn serve(path: &Path) -> ! {
    let config = load(path);
    logs::init(&config.log.level);
    let code = runtime().block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        // The handler exists before the address is logged: whoever reads the address
        // may send SIGTERM at once, and must not meet the default action (death).
        let mut term = signal(SignalKind::terminate()).expect("a SIGTERM handler");
        let running = match service::start(&config).await {
            Ok(running) => running,
            Err(e) => {
                tracing::error!(event = "bind_failed", error = %e, "cannot listen");
                return 1;
            }
        };
        tracing::info!(event = "listening", addr = %running.addr, "listening");
        let signal = async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        };
        running.shutdown_on(signal).await.exit_code()
    });
    process::exit(code);
}

fn demo() {
    println!("Lesson 19: a small service made ready for production");
    println!();
    println!("Configuration (exercise 19.1)");
    let config = Config::from_yaml(EXAMPLE).expect("the example config is valid");
    println!(
        "  the example is valid: {}:{}, readiness false {} ms before the listener closes, \
         drain deadline {} ms",
        config.server.address,
        config.server.port,
        config.shutdown.unready_delay_ms,
        config.shutdown.drain_deadline_ms
    );
    println!("  a config with bad values is refused with all of them (exit code 2):");
    match Config::from_yaml(BAD) {
        Err(ConfigError::Invalid(problems)) => {
            for problem in problems {
                println!("    {problem}");
            }
        }
        other => println!("    NOT REFUSED AS INVALID: {other:?}"),
    }
    println!("  a config that does not parse is refused with its line (exit code 2):");
    match Config::from_yaml(BROKEN) {
        Err(error @ ConfigError::Parse { .. }) => println!("    {error}"),
        other => println!("    NOT REFUSED AS UNPARSABLE: {other:?}"),
    }
    println!();
    let log = logs::Buffer::default();
    logs::init_buffer(log.clone());
    runtime().block_on(scenario(config, log));
}

/// The fields printed from a log event, besides its `event`: the ones the chapter asks
/// for. The message and any other field are yours to choose, so they are left out.
const FIELDS: [&str; 6] = ["ms", "events", "cancelled", "tasks", "code", "abandoned"];

/// One JSON log line as `event field=value …`.
fn canonical(line: &str) -> String {
    let Ok(json) = serde_json::from_str::<serde_json::Value>(line) else {
        return format!("(not JSON: {line})");
    };
    let fields = &json["fields"];
    let mut out = fields["event"]
        .as_str()
        .unwrap_or("(no event field)")
        .to_string();
    for name in FIELDS {
        if let Some(value) = fields.get(name) {
            out.push_str(&format!(" {name}={value}"));
        }
    }
    out
}

/// Poll `/metrics` until `line` is one of its lines (at most about 5 s).
async fn wait_for_metric(addr: std::net::SocketAddr, line: &str) {
    for _ in 0..500 {
        if let Ok((200, text)) = get(addr, "/metrics").await
            && text.lines().any(|l| l == line)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!("  (gave up waiting for the metric line {line})");
}

/// Wait until the log has a line that reads `event` once made canonical (at most about 5 s).
async fn wait_for_log(log: &logs::Buffer, event: &str) {
    for _ in 0..500 {
        if log.lines().iter().any(|l| canonical(l) == event) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!("  (gave up waiting for the log line {event})");
}

async fn scenario(config: Config, log: logs::Buffer) {
    let running = service::start(&config)
        .await
        .expect("the service starts on 127.0.0.1");
    let addr = running.addr;
    let metrics = running.metrics.clone();

    for value in 1..=3 {
        let _ = get(addr, &format!("/ingest?value={value}")).await;
    }
    // A full batch is written at once; wait for it, so the log lines keep their order.
    wait_for_metric(addr, "lesson_events_flushed_total 3").await;

    // Wait for each `work_started` line, so that the log keeps this order. The margins
    // are wide on purpose: the 1.5 s of work ends 1.4 s after the listener closes (the
    // unready delay is 100 ms) and 2.6 s before the drain deadline (4 s after it).
    let short = tokio::spawn(async move { get(addr, "/work?ms=1500").await });
    wait_for_log(&log, "work_started ms=1500").await;
    let long = tokio::spawn(async move { get(addr, "/work?ms=60000").await });
    wait_for_log(&log, "work_started ms=60000").await;

    // What SIGTERM does in `--config` mode, triggered from here.
    let report = running.shutdown_on(std::future::ready(())).await;

    let answer = |r: Result<std::io::Result<(u16, String)>, tokio::task::JoinError>| match r {
        Ok(Ok((status, body))) => format!("{status} {body}"),
        Ok(Err(e)) => format!("error: {e}"),
        Err(e) => format!("the request's task failed: {e}"),
    };
    println!("The service on 127.0.0.1: its JSON log, as `event field=value`");
    println!("(timestamps, messages and other fields left out):");
    for line in log.lines() {
        println!("  {}", canonical(&line));
    }
    println!();
    println!("What the clients saw:");
    println!("  GET /work?ms=1500   -> {}", answer(short.await));
    println!("  GET /work?ms=60000  -> {}", answer(long.await));
    let after = match tokio::net::TcpStream::connect(addr).await {
        Ok(_) => "accepted (the listener is still open!)",
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => "refused",
        Err(_) => "failed",
    };
    println!("  a new connection after the shutdown: {after}");
    println!();
    println!(
        "The report: drained in time {}, cancelled {}, abandoned {}, exit code {}",
        report.drained_in_time,
        report.cancelled,
        report.abandoned,
        report.exit_code()
    );
    println!("The metrics at the end (exercise 19.3), sorted:");
    let mut lines: Vec<String> = metrics
        .encode()
        .lines()
        .filter(|l| {
            l.starts_with("lesson_requests_total")
                || l.starts_with("lesson_requests_in_flight")
                || l.starts_with("lesson_events_flushed_total")
                || l.starts_with("lesson_request_duration_seconds_count")
        })
        .map(str::to_string)
        .collect();
    lines.sort();
    for line in lines {
        println!("  {line}");
    }
}
