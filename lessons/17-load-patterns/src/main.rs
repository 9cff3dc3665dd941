//! Lesson 17's program: the four load patterns against a server on 127.0.0.1.
//!
//! It prints only what holds on every run — status counts and the server's maximum
//! in-flight count, made exact by the server's hold gate. `--timings` adds what a run
//! measures (wall time, throughput, p50/p99 latency, peak memory), and `--chart PATH`
//! draws those as an SVG.

use std::alloc::{GlobalAlloc, Layout, System};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use lesson_17::aimd::Aimd;
use lesson_17::clients;
use lesson_17::report::Report;
use lesson_17::server::{Config, Server, Stats};

/// Counts the bytes the program holds, and the most it has held since the last reset.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged; the counters only
// add and subtract sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as it is.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc` is passed on as it is.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Lesson 17: load patterns against a server on 127.0.0.1.
#[derive(Parser)]
#[command(name = "lesson-17")]
struct Args {
    /// Requests each pattern sends (100 to 7500). The Go study sent 7500; the default is
    /// smaller so that the snapshot test stays quick in a debug build.
    #[arg(long, default_value_t = 1500, value_parser = clap::value_parser!(u32).range(100..=7500))]
    requests: u32,
    /// The bounded patterns' limit N (2 to 64).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(2..=64))]
    workers: u32,
    /// The server's service time per request, in milliseconds (0 to 20).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=20))]
    service_ms: u32,
    /// Also print what this run measured (wall time, requests/s, latency, peak memory).
    #[arg(long)]
    timings: bool,
    /// Draw the measurements as an SVG chart at this path (implies --timings).
    #[arg(long)]
    chart: Option<PathBuf>,
}

/// One pattern's run: what the client counted, what the server saw, what it cost.
struct Run {
    name: &'static str,
    report: Report,
    stats: Stats,
    wall: Duration,
    peak_bytes: usize,
}

fn yes(ok: bool) -> &'static str {
    if ok { "yes" } else { "NO" }
}

fn main() {
    let args = Args::parse();
    // A measured run with a service time takes its time: 7,500 sequential requests at
    // 2 ms each are 15 s on their own.
    let measuring = args.timings || args.chart.is_some();
    kit_run::watchdog!(Duration::from_secs(if measuring { 300 } else { 25 }));
    kit_run::brief_panics();
    let requests = args.requests as usize;
    let workers = args.workers as usize;
    let service_time = Duration::from_millis(u64::from(args.service_ms));
    // One task per request opens one connection per request in flight: two descriptors
    // each (client and server live in this process).
    raise_open_file_limit(2 * requests + 256);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let runs = runtime.block_on(run_all(requests, workers, service_time));

    println!("Lesson 17: load patterns against a server on 127.0.0.1");
    println!(
        "{requests} requests per pattern, one shared HTTP client, N = {workers}; the server \
         holds its first requests until enough have arrived, so the maxima below are exact."
    );
    println!();
    let [sequential, per_task, bounded, adaptive] = &runs;
    println!("1. sequential");
    println!("   statuses: {}", sequential.report.summary());
    println!(
        "   server max in flight: {}",
        sequential.stats.max_in_flight
    );
    println!("2. one task per request");
    println!("   statuses: {}", per_task.report.summary());
    println!(
        "   server max in flight above N = {workers}: {}",
        yes(per_task.stats.max_in_flight > workers)
    );
    println!("3. bounded fan-out, N = {workers}");
    println!("   statuses: {}", bounded.report.summary());
    println!("   server max in flight: {}", bounded.stats.max_in_flight);
    println!("4. adaptive (AIMD) against a server that answers 503 past {workers} in flight");
    println!("   final statuses: {}", adaptive.report.summary());
    println!(
        "   the server refused some attempts, and each was sent again: {}",
        yes(adaptive.stats.refused > 0 && adaptive.report.retried == adaptive.stats.refused)
    );
    println!(
        "   server max in flight (accepted): {}",
        adaptive.stats.max_in_flight
    );
    for run in &runs {
        if run.stats.hold_timed_out {
            println!("   ({}: the hold gate timed out)", run.name);
        }
    }

    if measuring {
        print_timings(&runs, service_time);
    }
    if let Some(path) = &args.chart {
        let svg = chart(&runs, requests, workers, service_time);
        std::fs::write(path, svg)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        println!("chart written to {}", path.display());
    }
}

async fn run_all(requests: usize, workers: usize, service_time: Duration) -> [Run; 4] {
    // One client for every request of a pattern; a fresh one per pattern so that no
    // pattern starts with the previous one's pooled connections.
    let client = || {
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("an HTTP client")
    };
    let plain = |hold| Config {
        service_time,
        hold,
        ..Config::default()
    };

    let sequential = measure("sequential", plain(None), |url| async move {
        clients::sequential(&client(), &url, requests).await
    })
    .await;
    // The gate opens at the (N+1)-th arrival: only a client with more than N requests
    // in flight gets past it.
    let per_task = measure(
        "one task per request",
        plain(Some(workers + 1)),
        |url| async move { clients::task_per_request(&client(), &url, requests).await },
    )
    .await;
    let bounded = measure("bounded fan-out", plain(Some(workers)), |url| async move {
        clients::bounded(&client(), &url, requests, workers).await
    })
    .await;
    // The adaptive client starts at 4N against a capacity of N; the gate holds the first
    // N accepted requests until 4N attempts have arrived, so some are always refused.
    let initial = 4 * workers;
    let overload = Config {
        service_time,
        capacity: Some(workers),
        hold: Some(initial),
        ..Config::default()
    };
    let adaptive = measure("adaptive (AIMD)", overload, |url| async move {
        let mut limiter = Aimd::new(initial, 1, initial, Duration::from_millis(250));
        clients::adaptive(&client(), &url, requests, &mut limiter).await
    })
    .await;
    [sequential, per_task, bounded, adaptive]
}

async fn measure<F, Fut>(name: &'static str, config: Config, client: F) -> Run
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = Report>,
{
    // Let the previous pattern's server and connections finish closing, so that their
    // memory is not given back in the middle of this pattern's measurement.
    for _ in 0..30 {
        let live = LIVE.load(Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(100)).await;
        if LIVE.load(Ordering::Relaxed) >= live {
            break;
        }
    }
    let server = Server::start(config)
        .await
        .expect("cannot start the server on 127.0.0.1");
    // Peak memory of this pattern: what the process held at most above what it held
    // before (the server's share included; it is the same for every pattern).
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let start = Instant::now();
    let report = client(server.url()).await;
    let wall = start.elapsed();
    let peak_bytes = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    let stats = server.stats();
    Run {
        name,
        report,
        stats,
        wall,
        peak_bytes,
    }
}

fn per_second(run: &Run) -> f64 {
    run.report.total() as f64 / run.wall.as_secs_f64().max(1e-9)
}

fn print_timings(runs: &[Run], service_time: Duration) {
    println!();
    println!(
        "timings (service time {} ms; not part of the snapshot):",
        service_time.as_millis()
    );
    println!(
        "  {:<22} {:>9} {:>10} {:>9} {:>9} {:>10} {:>11}",
        "pattern", "wall ms", "req/s", "p50 us", "p99 us", "peak KiB", "connections"
    );
    for run in runs {
        println!(
            "  {:<22} {:>9.0} {:>10.0} {:>9} {:>9} {:>10} {:>11}",
            run.name,
            run.wall.as_secs_f64() * 1000.0,
            per_second(run),
            run.report.latency.value_at_quantile(0.5),
            run.report.latency.value_at_quantile(0.99),
            run.peak_bytes / 1024,
            run.stats.connections,
        );
    }
}

/// Four small bar charts side by side: wall time, requests per second, p50/p99 latency,
/// peak memory. Hand-written SVG: no plotting crate.
fn chart(runs: &[Run], requests: usize, workers: usize, service_time: Duration) -> String {
    const COLORS: [&str; 4] = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759"];
    const PANEL_W: f64 = 220.0;
    const PANEL_H: f64 = 180.0;
    const TOP: f64 = 70.0;
    let panels: [(&str, Vec<f64>, &str); 5] = [
        (
            "wall time",
            runs.iter().map(|r| r.wall.as_secs_f64() * 1000.0).collect(),
            "ms",
        ),
        ("throughput", runs.iter().map(per_second).collect(), "req/s"),
        (
            "p50 latency",
            runs.iter()
                .map(|r| r.report.latency.value_at_quantile(0.5) as f64)
                .collect(),
            "µs",
        ),
        (
            "p99 latency",
            runs.iter()
                .map(|r| r.report.latency.value_at_quantile(0.99) as f64)
                .collect(),
            "µs",
        ),
        (
            "peak memory",
            runs.iter().map(|r| r.peak_bytes as f64 / 1024.0).collect(),
            "KiB",
        ),
    ];
    let width = PANEL_W * panels.len() as f64 + 20.0;
    let height = TOP + PANEL_H + 90.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        svg,
        r##"<rect width="100%" height="100%" fill="#ffffff"/>"##
    );
    let _ = writeln!(
        svg,
        r#"<text x="10" y="22" font-size="15" font-weight="bold">Four load patterns, {requests} GET /data each, server on 127.0.0.1 (service time {} ms, N = {workers})</text>"#,
        service_time.as_millis()
    );
    let _ = writeln!(
        svg,
        r##"<text x="10" y="42" fill="#555">Measured in one run of the lesson program; each bar is labelled with its value.</text>"##
    );
    for (p, (title, values, unit)) in panels.iter().enumerate() {
        let x0 = 10.0 + PANEL_W * p as f64;
        let max = values.iter().cloned().fold(0.0_f64, f64::max).max(1e-9);
        let _ = writeln!(
            svg,
            r#"<text x="{}" y="{}" font-weight="bold">{title} ({unit})</text>"#,
            x0 + 10.0,
            TOP - 8.0
        );
        let base = TOP + PANEL_H;
        let _ = writeln!(
            svg,
            r##"<line x1="{}" y1="{base}" x2="{}" y2="{base}" stroke="#333"/>"##,
            x0 + 10.0,
            x0 + PANEL_W - 20.0
        );
        let bar_w = (PANEL_W - 40.0) / values.len() as f64;
        for (i, value) in values.iter().enumerate() {
            let h = (value / max) * (PANEL_H - 20.0);
            let x = x0 + 15.0 + bar_w * i as f64;
            let _ = writeln!(
                svg,
                r#"<rect x="{x:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{}"/>"#,
                base - h,
                bar_w - 6.0,
                COLORS[i % COLORS.len()]
            );
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" font-size="10">{}</text>"#,
                x + (bar_w - 6.0) / 2.0,
                base - h - 4.0,
                short(*value)
            );
        }
    }
    let legend_y = TOP + PANEL_H + 30.0;
    for (i, run) in runs.iter().enumerate() {
        let x = 20.0 + 240.0 * i as f64;
        let _ = writeln!(
            svg,
            r#"<rect x="{x}" y="{}" width="14" height="14" fill="{}"/><text x="{}" y="{}">{}. {}</text>"#,
            legend_y - 11.0,
            COLORS[i % COLORS.len()],
            x + 20.0,
            legend_y,
            i + 1,
            run.name
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// A value with at most three significant digits, as a label.
fn short(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// Raise the soft limit on open files towards `wanted` (never above the hard limit), as
/// Go's runtime does for every Go program since Go 1.19. Rust leaves the limit alone, and
/// 7,500 connections at once need more than the common default of 1024.
#[cfg(unix)]
fn raise_open_file_limit(wanted: usize) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid, writable rlimit for getrlimit to fill in.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return;
    }
    let wanted = wanted as libc::rlim_t;
    if limit.rlim_cur >= wanted {
        return;
    }
    let raised = libc::rlimit {
        rlim_cur: wanted.min(limit.rlim_max),
        rlim_max: limit.rlim_max,
    };
    // SAFETY: `raised` is a valid rlimit; a refusal leaves the limit as it was.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        eprintln!("note: could not raise the open-file limit; the one-task pattern may see errors");
    }
}

#[cfg(not(unix))]
fn raise_open_file_limit(_wanted: usize) {}
