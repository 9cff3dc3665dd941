//! Lesson 09's program: commands through the command bus, query answers before and after
//! the projector catches up, reading your own write on tokio's paused clock, concurrent
//! readers while the projector writes, and a crash in the middle of a batch.
//!
//! The projector is stepped by hand ("catch up to @3"), never left running in the
//! background, so every answer printed is the same on every run. Where threads race, only
//! what holds on every schedule is printed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use clap::Parser;
use lesson_09::commands::{Command, CommandBus, CommandError, Rejection};
use lesson_09::projection::SalesView;
use lesson_09::queries::Queries;
use lesson_09::read_model::{Projector, ReadModel};
use lesson_09::store::{EventStore, Position};
use lesson_09::{Catalog, Line, OrderId, StaticCatalog};

/// Lesson 09: CQRS — a command bus, a projector with a checkpoint, a read model many
/// readers share.
#[derive(Parser)]
#[command(name = "lesson-09")]
struct Args {
    /// Reader threads checking the read model while the projector writes (1 to 16).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u8).range(1..=16))]
    readers: u8,
}

fn yes(ok: bool) -> &'static str {
    if ok { "yes" } else { "NO" }
}

fn place(order: u32, customer: &str, lines: &[(&str, u32)]) -> Command {
    Command::Place {
        order: OrderId(order),
        customer: customer.to_string(),
        lines: lines
            .iter()
            .map(|&(sku, qty)| Line::new(sku, qty))
            .collect(),
    }
}

fn describe(command: &Command) -> String {
    match command {
        Command::Place {
            order,
            customer,
            lines,
        } => {
            let lines: Vec<String> = lines
                .iter()
                .map(|l| format!("{} × {}", l.qty, l.sku))
                .collect();
            format!("place {order}: {customer}, {}", lines.join(", "))
        }
        Command::Ship { order } => format!("ship {order}"),
        Command::Cancel { order } => format!("cancel {order}"),
    }
}

fn outcome(result: Result<Position, CommandError>) -> String {
    match result {
        Ok(position) => format!("committed at {position}"),
        Err(e) => e.to_string(),
    }
}

/// The catalog: fruit, bakery, dairy; everything else is `other`.
fn catalog() -> StaticCatalog {
    StaticCatalog::new(&[
        ("apple", "fruit"),
        ("pear", "fruit"),
        ("bread", "bakery"),
        ("milk", "dairy"),
    ])
}

/// Fails once, on the product `fragile`: a crash in the middle of a batch.
struct FailsOnce {
    inner: StaticCatalog,
    armed: AtomicBool,
}

impl Catalog for FailsOnce {
    fn category(&self, sku: &str) -> String {
        if sku == "fragile" && self.armed.swap(false, Ordering::SeqCst) {
            panic!("the catalog service failed (on purpose, to show a crash)");
        }
        self.inner.category(sku)
    }
}

/// A snapshot whose parts agree, at the position its totals belong to.
fn whole(view: &SalesView) -> bool {
    let by_sku: u64 = view.open_by_sku.values().sum();
    let by_category: u64 = view.open_by_category.values().sum();
    let by_order: u64 = view.open_orders.values().map(|o| o.units()).sum();
    by_sku == view.open_units && by_category == view.open_units && by_order == view.open_units
}

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(30));
    kit_run::brief_panics();

    let store = Arc::new(EventStore::new());
    let bus = Arc::new(CommandBus::new(store.clone()));
    let catalog = Arc::new(FailsOnce {
        inner: catalog(),
        armed: AtomicBool::new(false),
    });
    let model = Arc::new(ReadModel::new());
    let mut projector = Projector::new(store.clone(), catalog.clone(), model.clone());
    let queries = Queries::new(model.clone());

    println!(
        "Lesson 09: CQRS — orders, a read model of open units, and the projector between them"
    );
    println!();
    println!(
        "Commands, each checked against its order's own events and appended at the version loaded:"
    );
    for command in [
        place(1, "alice", &[("apple", 3), ("pear", 2)]),
        place(2, "bob", &[("apple", 5), ("bread", 1)]),
        Command::Ship { order: OrderId(1) },
        Command::Cancel { order: OrderId(1) },
        place(2, "carol", &[("milk", 1)]),
        place(3, "carol", &[("milk", 4), ("bread", 2)]),
    ] {
        let line = describe(&command);
        println!("  {line:<44} {}", outcome(bus.execute(command)));
    }
    println!("  ship order-2 and cancel order-2, from two threads at once:");
    let racers: Vec<_> = [
        Command::Ship { order: OrderId(2) },
        Command::Cancel { order: OrderId(2) },
    ]
    .into_iter()
    .map(|command| {
        let bus = bus.clone();
        thread::spawn(move || bus.execute(command))
    })
    .collect();
    let results: Vec<_> = racers
        .into_iter()
        .map(|r| r.join().expect("a command thread panicked"))
        .collect();
    let committed = results.iter().filter(|r| r.is_ok()).count();
    let refused = results
        .iter()
        .filter(|r| {
            matches!(
                r,
                Err(CommandError::Rejected(
                    Rejection::AlreadyShipped | Rejection::AlreadyCancelled
                ))
            )
        })
        .count();
    println!(
        "    one committed at {}, the other refused after loading the order again: {}",
        store.head(),
        yes(committed == 1 && refused == 1)
    );
    println!();

    println!(
        "Queries, before and after the projector catches up (each answer names the position it reflects):"
    );
    let show = |queries: &Queries| {
        let apple = queries.open_units("apple");
        let fruit = queries.open_units_in("fruit");
        let first = queries.status(OrderId(1));
        let third = queries.status(OrderId(3));
        let totals = queries.totals();
        let status =
            |s: Option<lesson_09::Status>| s.map_or("unknown".to_string(), |s| s.to_string());
        println!(
            "  open apple {} ({}), open fruit {} ({}), order-1 {} ({}), order-3 {} ({}), open units {} ({})",
            apple.value,
            apple.position,
            fruit.value,
            fruit.position,
            status(first.value),
            first.position,
            status(third.value),
            third.position,
            totals.value.open_units,
            totals.position
        );
    };
    println!("  before the projector has run:");
    show(&queries);
    println!("  after catch_up(@3):");
    projector.catch_up(Position(3));
    show(&queries);
    println!("  after catch_up(@5), the head of the log:");
    projector.catch_up(store.head());
    show(&queries);
    println!();

    println!("Reading your own write, on tokio's paused clock (the times are exact):");
    let cancelled = bus.execute(Command::Cancel { order: OrderId(3) });
    println!("  {:<44} {}", "cancel order-3", outcome(cancelled));
    let position = cancelled.expect("order-3 is open");
    let lines = kit_run::run_paused!(async {
        let mut lines = Vec::new();
        let start = tokio::time::Instant::now();
        let first = queries
            .status_after(OrderId(3), position, Duration::from_secs(2))
            .await;
        lines.push(format!(
            "  status of order-3 as of {position}, 2 s timeout, projector idle: {} (after {} ms)",
            match first {
                Ok(answer) => format!("{:?}", answer.value),
                Err(lagging) => format!("gave up: {lagging}"),
            },
            start.elapsed().as_millis()
        ));
        let waiter = {
            let queries = queries.clone();
            tokio::spawn(async move {
                let start = tokio::time::Instant::now();
                let answer = queries
                    .status_after(OrderId(3), position, Duration::from_secs(2))
                    .await;
                (answer, start.elapsed())
            })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        projector.catch_up(position);
        let (answer, waited) = waiter.await.expect("the waiter panicked");
        lines.push(format!(
            "  the same, and the projector catches up 300 ms later: {} (after {} ms)",
            match answer {
                Ok(answer) => format!(
                    "order-3 {} as of {}",
                    answer
                        .value
                        .map_or("unknown".to_string(), |s| s.to_string()),
                    answer.position
                ),
                Err(lagging) => format!("gave up: {lagging}"),
            },
            waited.as_millis()
        ));
        (lines, projector)
    });
    let (lines, mut projector) = lines;
    for line in lines {
        println!("{line}");
    }
    println!();

    // Two hundred more orders through the command bus, half of them closed again.
    for i in 0..200u32 {
        let lines: Vec<(String, u32)> = (0..10)
            .map(|j| (format!("sku-{:02}", (i + j) % 24), 1 + (i + j) % 4))
            .collect();
        let lines: Vec<(&str, u32)> = lines.iter().map(|(s, q)| (s.as_str(), *q)).collect();
        bus.execute(place(100 + i, "dana", &lines))
            .expect("a new order");
        if i % 2 == 1 {
            bus.execute(Command::Ship {
                order: OrderId(100 + i - 1),
            })
            .expect("an open order");
        }
    }
    let head = store.head();
    let readers = usize::from(args.readers);
    println!(
        "{readers} readers check every snapshot they take while the projector applies the next {} events, four at a time:",
        head.0 - model.snapshot().position.0
    );
    let done = Arc::new(AtomicBool::new(false));
    let broken = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(kit_run::Gate::new(readers + 1, Duration::from_secs(5)));
    let handles: Vec<_> = (0..readers)
        .map(|_| {
            let (model, done, broken, start) =
                (model.clone(), done.clone(), broken.clone(), start.clone());
            thread::spawn(move || {
                start.arrive();
                loop {
                    let finished = done.load(Ordering::SeqCst);
                    if !whole(&model.snapshot()) {
                        broken.fetch_add(1, Ordering::SeqCst);
                    }
                    if finished {
                        break;
                    }
                }
            })
        })
        .collect();
    start.arrive();
    let mut reached = model.snapshot().position;
    while reached < head {
        reached = projector.catch_up(Position(reached.0 + 4).min(head));
    }
    done.store(true, Ordering::SeqCst);
    for handle in handles {
        handle.join().expect("a reader panicked");
    }
    println!(
        "  every snapshot whole (its parts agree with its totals): {}",
        yes(broken.load(Ordering::SeqCst) == 0)
    );
    let totals = queries.totals();
    println!(
        "  the read model at {}: {} open orders, {} units open",
        totals.position, totals.value.open_orders, totals.value.open_units
    );
    println!();

    println!("A crash: the catalog fails in the middle of a batch, on the product `fragile`.");
    bus.execute(place(900, "erin", &[("milk", 1)]))
        .expect("a new order");
    bus.execute(place(
        901,
        "erin",
        &[("apple", 2), ("fragile", 1), ("pear", 2)],
    ))
    .expect("a new order");
    bus.execute(place(902, "erin", &[("bread", 3)]))
        .expect("a new order");
    let head = store.head();
    let before = model.snapshot().position;
    catalog.armed.store(true, Ordering::SeqCst);
    let crashed = thread::spawn(move || projector.catch_up(head)).join();
    let after = model.snapshot();
    println!(
        "  the projector crashed: {}; the read model is still a whole view, from before the crash: {}",
        yes(crashed.is_err()),
        yes(whole(&after) && after.position >= before && after.position < head)
    );
    let mut restarted = Projector::new(store.clone(), catalog.clone(), model.clone());
    let reached = restarted.catch_up(head);
    let view = model.snapshot();
    println!(
        "  a new projector goes on from there to {}: order-900 {}, order-901 {}, order-902 {}, open milk {}, open apple {}",
        reached,
        view.status(OrderId(900))
            .map_or("unknown".into(), |s| s.to_string()),
        view.status(OrderId(901))
            .map_or("unknown".into(), |s| s.to_string()),
        view.status(OrderId(902))
            .map_or("unknown".into(), |s| s.to_string()),
        view.open_units_of("milk"),
        view.open_units_of("apple"),
    );
}
