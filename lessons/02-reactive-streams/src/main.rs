//! Lesson 02's program: the stream example of the Go original, and backpressure you can watch.
//!
//! Everything runs on a paused clock: every `t=` is virtual and exact, so the trace is
//! the same on every run.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use futures::{StreamExt, stream};
use lesson_02::Reactive;
use lesson_02::publisher::publish;
use tokio::time::{Instant, sleep};

/// Lesson 02: reactive streams with backpressure.
#[derive(Parser)]
#[command(name = "lesson-02")]
struct Args {
    /// The publisher's buffer, in items (1 to 16).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=16))]
    buffer: u8,
}

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(20));
    kit_run::brief_panics();
    kit_run::run_paused!(run(usize::from(args.buffer)));
}

async fn run(buffer: usize) {
    println!("Lesson 02: reactive streams");
    println!();

    // The Go original's example, operator by operator.
    println!("1..=10 -> map(x2) -> filter(> 10) -> sum");
    let doubled: Vec<i64> = stream::iter(1..=10i64).mapped(|x| x * 2).collect().await;
    println!("  after map:    {}", join(&doubled));
    let kept: Vec<i64> = stream::iter(doubled).filtered(|x| *x > 10).collect().await;
    println!("  after filter: {}", join(&kept));
    let sum = stream::iter(1..=10i64)
        .mapped(|x| x * 2)
        .filtered(|x| *x > 10)
        .fold(0, |acc, x| async move { acc + x })
        .await;
    println!("  sum: {sum}");
    println!();

    let chunks: Vec<Vec<u32>> = stream::iter(1..=8).chunked(3).collect().await;
    let shown: Vec<String> = chunks.iter().map(|c| format!("{c:?}")).collect();
    println!("chunked(3) of 1..=8: {}", shown.join(" "));

    let start = Instant::now();
    let mut throttled = stream::iter(["a", "b", "c", "d"]).throttled(Duration::from_millis(100));
    let mut times = Vec::new();
    while let Some(item) = throttled.next().await {
        times.push(format!("{item}@{}ms", start.elapsed().as_millis()));
    }
    println!(
        "throttled(100ms), four items ready at once: {}",
        times.join(" ")
    );
    println!();

    backpressure(buffer).await;
    println!();

    println!("An error ends the stream:");
    let mut readings = vec![Err("sensor offline"), Ok(21), Ok(20)];
    let got: Vec<Result<i32, &str>> = publish(buffer, move || readings.pop()).collect().await;
    println!("  received {got:?}, then the end");
}

/// A fast producer, a slow subscriber, and the buffer between them.
async fn backpressure(buffer: usize) {
    const TAKE: u64 = 6;
    const WORK: Duration = Duration::from_millis(50);
    println!(
        "Backpressure: a fast producer, a buffer of {buffer}, a subscriber that needs {}ms per item",
        WORK.as_millis()
    );
    let start = Instant::now();
    let trace: Arc<Mutex<Vec<String>>> = Arc::default();
    let made = Arc::new(Mutex::new(0u64));
    let consumed = Arc::new(Mutex::new(0u64));
    let source = {
        let (trace, made, consumed) =
            (Arc::clone(&trace), Arc::clone(&made), Arc::clone(&consumed));
        move || {
            let mut made = made.lock().unwrap();
            *made += 1;
            let waiting = *made - *consumed.lock().unwrap();
            let full = if waiting as usize == buffer {
                "   (buffer full: the producer waits)"
            } else {
                ""
            };
            trace.lock().unwrap().push(format!(
                "  t={:>4}ms  made {}{full}",
                start.elapsed().as_millis(),
                *made
            ));
            Some(Ok::<u64, String>(*made))
        }
    };
    let mut items = publish(buffer, source);
    for _ in 0..TAKE {
        let item = items.next().await.expect("an endless source");
        *consumed.lock().unwrap() += 1;
        trace.lock().unwrap().push(format!(
            "  t={:>4}ms  took {}",
            start.elapsed().as_millis(),
            item.expect("no errors here")
        ));
        sleep(WORK).await;
    }
    drop(items);
    // Give the producer every chance to notice.
    sleep(Duration::from_millis(500)).await;
    for line in trace.lock().unwrap().iter() {
        println!("{line}");
    }
    println!(
        "  the subscriber left after {TAKE} items; the producer had made {} and stopped",
        *made.lock().unwrap()
    );
}

fn join(values: &[i64]) -> String {
    values
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}
