//! Lesson 14's program: the square → double pipeline of the Go original, run three ways
//! in virtual time — unordered, ordered, and with a stage that fails — printing only what
//! holds for every correct solution.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use clap::Parser;
use lesson_14::{Pipeline, Stage};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::time::sleep;

/// Lesson 14: pipelines — typed stages, ordered fan-in, the first error stops them all.
#[derive(Parser)]
#[command(name = "lesson-14")]
struct Args {
    /// The seed of each item's random work time.
    #[arg(long, default_value_t = 14)]
    seed: u64,
    /// How many items go through (1 to 100).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=100))]
    items: u64,
}

/// An item with its input position, like Go's `Message{ID, Payload}`: only so the report
/// can say where each result came from. Order is kept (or not) by the pipeline.
type Item = (u64, u64);

/// Each item's work time in each stage, drawn once from the seed.
struct Delays {
    square: Vec<Duration>,
    double: Vec<Duration>,
}

impl Delays {
    fn new(seed: u64, items: u64) -> Delays {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut draw = |_| Duration::from_millis(rng.random_range(1..=9) * 10);
        Delays {
            square: (0..=items).map(&mut draw).collect(),
            double: (0..=items).map(&mut draw).collect(),
        }
    }
}

/// Counts the calls of the square stage: started, and the most items taken in and not yet
/// out of the pipeline.
#[derive(Default)]
struct Counts {
    started: AtomicUsize,
    delivered: AtomicUsize,
    most_in_flight: AtomicUsize,
}

impl Counts {
    fn in_flight_now(&self) {
        let now = self.started.load(SeqCst) - self.delivered.load(SeqCst);
        self.most_in_flight.fetch_max(now, SeqCst);
    }
}

const SQUARE_WORKERS: usize = 3;
const DOUBLE_WORKERS: usize = 2;
const BUFFER: usize = 4;
const INPUT_BUFFER: usize = 4;
const WINDOW: usize = 4;

fn square(delays: &Arc<Delays>, counts: &Arc<Counts>, fail_on: Option<u64>) -> Stage<Item, Item> {
    let (delays, counts) = (Arc::clone(delays), Arc::clone(counts));
    Stage::new("square", SQUARE_WORKERS, BUFFER, move |(id, x): Item| {
        counts.started.fetch_add(1, SeqCst);
        counts.in_flight_now();
        let delay = delays.square[id as usize];
        async move {
            sleep(delay).await;
            if Some(id) == fail_on {
                return Err(format!("cannot square item {id} (a scripted failure)"));
            }
            Ok((id, x * x))
        }
    })
}

fn double(delays: &Arc<Delays>) -> Stage<Item, Item> {
    let delays = Arc::clone(delays);
    Stage::new("double", DOUBLE_WORKERS, BUFFER, move |(id, x): Item| {
        let delay = delays.double[id as usize];
        async move {
            sleep(delay).await;
            Ok((id, x * 2))
        }
    })
}

/// Run `pipeline` over items 1..=n and collect its output as it comes.
async fn run(pipeline: Pipeline<Item, Item>, items: u64, counts: &Counts) -> Vec<Item> {
    let (input, mut running) = pipeline.start(INPUT_BUFFER);
    let feeding = async move {
        for id in 1..=items {
            if input.send((id, id)).await.is_err() {
                break;
            }
        }
    };
    let collecting = async {
        let mut out = Vec::new();
        while let Some(item) = running.output.recv().await {
            counts.delivered.fetch_add(1, SeqCst);
            out.push(item);
        }
        out
    };
    tokio::join!(feeding, collecting).1
}

fn show(items: &[Item]) -> String {
    items
        .iter()
        .map(|(id, x)| format!("[{id}]:{x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn in_input_order(items: &[Item]) -> bool {
    items.windows(2).all(|w| w[0].0 < w[1].0)
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

fn main() {
    kit_run::watchdog!(Duration::from_secs(20));
    kit_run::brief_panics();
    let args = Args::parse();
    let n = args.items;
    let delays = Arc::new(Delays::new(args.seed, n));
    let bound = INPUT_BUFFER + SQUARE_WORKERS + BUFFER + DOUBLE_WORKERS + BUFFER;

    println!("Lesson 14: pipelines (seed {}, {n} items)", args.seed);
    println!(
        "square: {SQUARE_WORKERS} workers, buffer {BUFFER}; double: {DOUBLE_WORKERS} workers, \
         buffer {BUFFER}; input buffer {INPUT_BUFFER}"
    );
    println!("each step of each item takes 10 to 90 ms of virtual time, drawn from the seed:");
    let ms = |d: &Duration| format!("{:>3}", d.as_millis());
    let ids: Vec<String> = (1..=n).map(|id| format!("{id:>3}")).collect();
    let row = |ds: &[Duration]| ds[1..].iter().map(ms).collect::<Vec<_>>().join(" ");
    println!("   item:      {}", ids.join(" "));
    println!("   square ms: {}", row(&delays.square));
    println!("   double ms: {}", row(&delays.double));

    kit_run::run_paused!(async {
        println!();
        println!("1. unordered: each stage passes results on as they finish");
        let counts = Arc::new(Counts::default());
        let pipeline = Pipeline::new()
            .then(square(&delays, &counts, None))
            .then(double(&delays));
        let mut out = run(pipeline, n, &counts).await;
        let arrived_in_order = in_input_order(&out);
        out.sort_unstable();
        println!("   sorted by id:       {}", show(&out));
        println!("   came out in input order: {}", yes(arrived_in_order));
        println!(
            "   items in flight at most {bound} (input buffer + workers + buffers): {}",
            yes(counts.most_in_flight.load(SeqCst) <= bound)
        );

        println!();
        println!("2. ordered: each stage keeps its input's order (window {WINDOW})");
        let counts = Arc::new(Counts::default());
        let pipeline = Pipeline::new()
            .then_ordered(square(&delays, &counts, None), WINDOW)
            .then_ordered(double(&delays), WINDOW);
        let out = run(pipeline, n, &counts).await;
        println!("   as it came out:     {}", show(&out));
        println!("   came out in input order: {}", yes(in_input_order(&out)));
        let bound = INPUT_BUFFER + 2 * (WINDOW + BUFFER);
        println!(
            "   items in flight at most {bound} (input buffer + windows + buffers): {}",
            yes(counts.most_in_flight.load(SeqCst) <= bound)
        );

        println!();
        let fail_on = n.div_ceil(2);
        println!("3. an error: square fails on item {fail_on}, and the input stays open");
        let counts = Arc::new(Counts::default());
        let pipeline = Pipeline::new()
            .then(square(&delays, &counts, Some(fail_on)))
            .then(double(&delays));
        let (input, running) = pipeline.start(INPUT_BUFFER);
        let source = async {
            let mut id = 0;
            loop {
                id += 1;
                if input.send((id, id)).await.is_err() {
                    break;
                }
            }
            std::future::pending::<()>().await
        };
        let result = tokio::select! {
            result = running.finish() => result,
            () = source => unreachable!("the source never ends"),
        };
        match &result {
            Ok(items) => println!(
                "   finish: Ok with {} items (expected the error)",
                items.len()
            ),
            Err(error) => println!("   finish: Err({error})"),
        }
        kit_run::settle().await;
        let alive = tokio::runtime::Handle::current()
            .metrics()
            .num_alive_tasks();
        println!("   stage tasks still running: {alive}");
        println!("   the input closed: {}", yes(input.is_closed()));
        let started = counts.started.load(SeqCst);
        sleep(Duration::from_secs(60)).await;
        println!(
            "   squares started in the minute after: {}",
            counts.started.load(SeqCst) - started
        );
    });
}
