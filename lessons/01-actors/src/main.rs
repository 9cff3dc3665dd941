//! Lesson 01's program: a small analytics pipeline of actors.
//!
//! ```text
//! raw log lines ──▶ ingest ──▶ aggregate ──▶ dashboard
//! ```
//!
//! `ingest` parses lines and panics on a malformed one; its supervisor restarts it. The
//! program prints each actor's log, in a fixed actor order, then the system's metrics.
//! Every actor receives from one sender only, so each log is the same on every run.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use lesson_01::actor::{Actor, Addr};
use lesson_01::supervisor::RestartPolicy;
use lesson_01::system::System;

/// Lesson 01: an analytics pipeline of supervised actors.
#[derive(Parser)]
#[command(name = "lesson-01")]
struct Args {
    /// How many times `ingest` may be restarted after a panic.
    #[arg(long, default_value_t = 2)]
    max_restarts: u32,
}

/// Two malformed lines: with the default of 2 restarts, `ingest` survives both.
const TRAFFIC: [&str; 13] = [
    "GET /home user=1",
    "GET /pricing user=2",
    "GET /home user=3",
    "FLUSH",
    "GET /docs",
    "GET /home user=2",
    "!!garbage!!",
    "GET /pricing user=4",
    "FLUSH",
    "GET /docs user=1",
    "POST /login user=3",
    "GET /home",
    "FLUSH",
];

/// A shared, append-only log per actor, printed at the end.
type Log = Arc<Mutex<Vec<String>>>;

fn note(log: &Log, line: String) {
    log.lock().unwrap_or_else(|e| e.into_inner()).push(line);
}

// --- dashboard -------------------------------------------------------------------------

enum DashboardMsg {
    Snapshot {
        flush: u32,
        counts: BTreeMap<String, u64>,
    },
}

struct Dashboard {
    log: Log,
}

impl Actor for Dashboard {
    type Msg = DashboardMsg;

    async fn handle(&mut self, msg: DashboardMsg) {
        let DashboardMsg::Snapshot { flush, counts } = msg;
        let shown: Vec<String> = counts
            .iter()
            .map(|(page, n)| format!("{page}={n}"))
            .collect();
        note(&self.log, format!("flush {flush}: {}", shown.join(" ")));
    }
}

// --- aggregate -------------------------------------------------------------------------

enum AggregateMsg {
    View { page: String },
    Flush,
}

struct Aggregate {
    dashboard: Addr<DashboardMsg>,
    counts: BTreeMap<String, u64>,
    flushes: u32,
    log: Log,
}

impl Actor for Aggregate {
    type Msg = AggregateMsg;

    async fn handle(&mut self, msg: AggregateMsg) {
        match msg {
            AggregateMsg::View { page } => {
                let n = self.counts.entry(page.clone()).or_default();
                *n += 1;
                note(&self.log, format!("{page} -> {n}"));
            }
            AggregateMsg::Flush => {
                self.flushes += 1;
                note(&self.log, format!("flush {} to dashboard", self.flushes));
                let snapshot = DashboardMsg::Snapshot {
                    flush: self.flushes,
                    counts: self.counts.clone(),
                };
                // `tell` waits if the dashboard's mailbox is full: backpressure travels
                // up the pipeline instead of piling up in memory.
                if self.dashboard.tell(snapshot).await.is_err() {
                    note(&self.log, "dashboard is gone".to_string());
                }
            }
        }
    }
}

// --- ingest ----------------------------------------------------------------------------

enum IngestMsg {
    Line(String),
}

struct Ingest {
    aggregate: Addr<AggregateMsg>,
    /// Which incarnation this is: 1 at first, 2 after the first restart, ...
    incarnation: u32,
    parsed: u32,
    log: Log,
}

impl Actor for Ingest {
    type Msg = IngestMsg;

    async fn handle(&mut self, msg: IngestMsg) {
        let IngestMsg::Line(line) = msg;
        let forward = if line == "FLUSH" {
            AggregateMsg::Flush
        } else {
            let Some(page) = line
                .strip_prefix("GET ")
                .and_then(|r| r.split_whitespace().next())
            else {
                note(
                    &self.log,
                    format!(
                        "#{} cannot parse {line:?} (after {} good lines): panics",
                        self.incarnation, self.parsed
                    ),
                );
                // Let it crash: the supervisor starts a fresh `Ingest`.
                panic!("ingest: malformed line {line:?}");
            };
            self.parsed += 1;
            AggregateMsg::View {
                page: page.to_string(),
            }
        };
        note(&self.log, format!("#{} {line}", self.incarnation));
        let _ = self.aggregate.tell(forward).await;
    }
}

// --- the program -----------------------------------------------------------------------

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(20));
    // `ingest` panics on purpose; print those panics in two lines, without a backtrace.
    kit_run::brief_panics();
    // Virtual time: nothing here sleeps, but the paused runtime makes the run
    // single-threaded and repeatable.
    kit_run::run_paused!(run(args.max_restarts));
}

async fn run(max_restarts: u32) {
    let system = System::new();
    let logs: [(&str, Log); 3] = [
        ("ingest", Log::default()),
        ("aggregate", Log::default()),
        ("dashboard", Log::default()),
    ];
    let log_of = |name: &str| {
        logs.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, log)| Arc::clone(log))
            .expect("a known actor")
    };
    let once = RestartPolicy { max_restarts: 0 };

    // Sinks first: each stage looks up the next one by name when it is made.
    let log = log_of("dashboard");
    system
        .spawn("dashboard", 4, once, move || Dashboard {
            log: Arc::clone(&log),
        })
        .expect("a fresh system accepts the dashboard");

    let log = log_of("aggregate");
    let dashboard = system
        .lookup::<DashboardMsg>("dashboard")
        .expect("the dashboard is registered");
    system
        .spawn("aggregate", 4, once, move || Aggregate {
            dashboard: dashboard.clone(),
            counts: BTreeMap::new(),
            flushes: 0,
            log: Arc::clone(&log),
        })
        .expect("a fresh system accepts the aggregate");

    let log = log_of("ingest");
    let aggregate = system
        .lookup::<AggregateMsg>("aggregate")
        .expect("the aggregate is registered");
    let mut incarnation = 0;
    let ingest = system
        .spawn("ingest", 4, RestartPolicy { max_restarts }, move || {
            incarnation += 1;
            Ingest {
                aggregate: aggregate.clone(),
                incarnation,
                parsed: 0,
                log: Arc::clone(&log),
            }
        })
        .expect("a fresh system accepts ingest");

    let mut refused = 0;
    for line in TRAFFIC {
        if ingest
            .tell(IngestMsg::Line(line.to_string()))
            .await
            .is_err()
        {
            refused += 1;
        }
    }

    let metrics = system.shutdown().await;

    println!("Lesson 01: actors — ingest -> aggregate -> dashboard");
    println!(
        "({} lines sent to ingest, {refused} refused; max restarts {max_restarts})",
        TRAFFIC.len()
    );
    for (name, log) in &logs {
        println!();
        println!("{name}");
        for line in log.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            println!("  {line}");
        }
    }
    println!();
    println!("metrics after shutdown");
    println!("{metrics}");
}
