//! Lesson 08's program: an order's life in an event store in a SQLite file.
//!
//! Everything it prints is the same on every run: the clock and the shipment ids come
//! from a [`ScriptedEnv`] the program moves itself, the database lives in a fresh
//! temporary directory, and the conflict is staged in a fixed order (two writers load the
//! same version; one appends, then the other).
//!
//! With `--writer DB --events N` it is instead the crash test's writer: it appends `N`
//! events to the file `DB`, three per append, and prints each event's version once its
//! append has committed. The test kills it mid-run and checks that every version it
//! printed is still in the file.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process;
use std::time::Duration;

use clap::Parser;
use lesson_08::codec::{self, encode_all, encode_v1};
use lesson_08::order::{Command, Order, OrderEvent};
use lesson_08::repository::{RepoError, Repository};
use lesson_08::store::{EventStore, NewEvent};
use lesson_08::upcast::OrderEventV1;
use lesson_08::{Cents, ScriptedEnv, ShipmentId, Timestamp, Version};

/// Lesson 08: event sourcing, with a SQLite file as the event store.
#[derive(Parser)]
#[command(name = "lesson-08")]
struct Args {
    /// Snapshot an order every N events (1 to 100).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=100))]
    snapshot_every: u64,

    /// Be the crash test's writer: append events to the store in this file, printing each
    /// one's version after its append commits.
    #[arg(long, value_name = "DB")]
    writer: Option<PathBuf>,

    /// With --writer: how many events to append, three per append.
    #[arg(long, default_value_t = 30, requires = "writer",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    events: u64,
}

/// The writer's stream, and how many events it appends at once.
const WRITER_STREAM: &str = "writer";
const WRITER_BATCH: u64 = 3;

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(30));
    kit_run::brief_panics();
    match &args.writer {
        Some(path) => writer(path, args.events),
        None => story(args.snapshot_every),
    }
}

/// The crash test's writer. Event `v` of its stream holds `{"n": v}`, so the test can
/// check every row it finds, not only count them.
fn writer(path: &Path, events: u64) {
    let fail = |what: &str, e: &dyn std::fmt::Display| -> ! {
        eprintln!("writer: {what}: {e}");
        process::exit(1);
    };
    let mut store = EventStore::open(path).unwrap_or_else(|e| fail("cannot open the store", &e));
    let mut version = store
        .version(WRITER_STREAM)
        .unwrap_or_else(|e| fail("cannot read the version", &e));
    let mut out = io::stdout().lock();
    let end = version + events;
    while version < end {
        let batch: Vec<NewEvent> = (version + 1..=end.min(version + WRITER_BATCH))
            .map(|v| NewEvent {
                kind: "Counted".to_string(),
                schema_version: 1,
                data: format!("{{\"n\":{v}}}"),
            })
            .collect();
        let new_version = store
            .append(WRITER_STREAM, version, &batch)
            .unwrap_or_else(|e| fail("append failed", &e));
        // Acknowledge only now, after the commit: a version printed is a promise that the
        // event survives whatever happens to this process next.
        for v in version + 1..=new_version {
            if writeln!(out, "{v}").and_then(|()| out.flush()).is_err() {
                return; // nobody is listening any more
            }
        }
        version = new_version;
    }
}

fn yes(ok: bool) -> &'static str {
    if ok { "yes" } else { "NO" }
}

fn describe(command: &Command) -> String {
    match command {
        Command::Place { customer } => format!("Place for {customer}"),
        Command::AddItem {
            sku,
            quantity,
            unit_price,
        } => format!("AddItem {quantity} × {sku} at {unit_price}"),
        Command::RemoveItem { sku, quantity } => format!("RemoveItem {quantity} × {sku}"),
        Command::Confirm => "Confirm".to_string(),
        Command::Ship { carrier } => format!("Ship with {carrier}"),
        Command::Cancel { reason } => format!("Cancel ({reason})"),
    }
}

fn print_state(order: &Order) {
    println!("    status {:?}, customer {}", order.status, order.customer);
    let times = [
        order.placed_at.map(|t| format!("placed {t}")),
        order.confirmed_at.map(|t| format!("confirmed {t}")),
        order
            .shipment
            .as_ref()
            .map(|s| format!("shipped {} as {} with {}", s.at, s.id, s.carrier)),
        order
            .cancellation
            .as_ref()
            .map(|c| format!("cancelled {} ({})", c.at, c.reason)),
    ];
    let times: Vec<String> = times.into_iter().flatten().collect();
    if !times.is_empty() {
        println!("    {}", times.join(", "));
    }
    for (sku, line) in &order.lines {
        println!(
            "    {:>3} × {sku:<6} at {:>6}",
            line.quantity, line.unit_price
        );
    }
    println!("    total {}", order.total());
}

fn story(snapshot_every: Version) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("events.db");
    let mut repo = Repository::open(&path, snapshot_every).expect("the store opens");
    let env = ScriptedEnv::at(Timestamp(0));
    let id = "order-1001";

    println!("Lesson 08: an order kept as events in a SQLite file");
    println!("a snapshot every {snapshot_every} events; times and ids from a scripted clock");
    println!();
    println!("Commands for {id}, each decided on the state loaded from the file:");
    let commands = [
        Command::Place {
            customer: "ada".to_string(),
        },
        Command::AddItem {
            sku: "tea".to_string(),
            quantity: 2,
            unit_price: Cents(450),
        },
        Command::AddItem {
            sku: "pot".to_string(),
            quantity: 1,
            unit_price: Cents(1999),
        },
        Command::RemoveItem {
            sku: "tea".to_string(),
            quantity: 1,
        },
        Command::AddItem {
            sku: "cup".to_string(),
            quantity: 3,
            unit_price: Cents(225),
        },
        Command::RemoveItem {
            sku: "cup".to_string(),
            quantity: 5,
        },
        Command::AddItem {
            sku: "tea".to_string(),
            quantity: 1,
            unit_price: Cents(475),
        },
        Command::Confirm,
        Command::Confirm,
    ];
    for command in &commands {
        env.advance(60_000);
        let what = describe(command);
        match repo.execute(id, command, &env) {
            Ok(v) => {
                let snapshot = repo.store().snapshot_versions(id).expect("snapshots");
                let note = if snapshot.contains(&v) {
                    "  (snapshot)"
                } else {
                    ""
                };
                println!("  {what:<28} -> v{v}{note}");
            }
            Err(e) => println!("  {what:<28} -> {e}"),
        }
    }
    println!();

    println!("The history, as stored (version, kind, data):");
    let history = repo.store().read_all(id).expect("the history");
    for record in &history {
        println!(
            "  {:>2}  {:<12} {}",
            record.version, record.kind, record.data
        );
    }
    println!();

    let (order, version) = repo.load(id).expect("the order loads");
    let snapshots = repo.store().snapshot_versions(id).expect("snapshots");
    let events: Vec<_> = history
        .iter()
        .map(|r| codec::decode(r).expect("readable"))
        .collect();
    let snapshot = snapshots.last().copied().unwrap_or(0);
    println!(
        "The state at v{version}: the snapshot at v{snapshot}, then {} event(s) after it:",
        version - snapshot
    );
    print_state(&order);
    println!(
        "  the same as replaying all {} events from the start: {}",
        events.len(),
        yes(order == Order::replay(&events))
    );
    println!();

    println!("Two writers load {id} at v{version}; the first ships it, then the second cancels:");
    let mut second = Repository::open(&path, snapshot_every).expect("a second connection");
    let (seen_by_second, second_version) = second.load(id).expect("the order loads");
    env.advance(60_000);
    let shipped = repo
        .execute(
            id,
            &Command::Ship {
                carrier: "parcel-co".to_string(),
            },
            &env,
        )
        .expect("the first writer ships");
    println!("  first:  Ship with parcel-co, decided at v{version} -> v{shipped}");
    env.advance(60_000);
    let cancel = seen_by_second
        .handle(
            &Command::Cancel {
                reason: "changed my mind".to_string(),
            },
            &env,
        )
        .expect("a confirmed order can be cancelled");
    match second
        .store_mut()
        .append(id, second_version, &encode_all(&cancel))
    {
        Ok(v) => {
            println!("  second: Cancel, decided at v{second_version} -> v{v} (a lost update!)")
        }
        Err(e) => println!("  second: Cancel, decided at v{second_version} -> {e}"),
    }
    let (now, _) = repo.load(id).expect("the order loads");
    println!(
        "  the order is {:?}, shipment {}",
        now.status,
        now.shipment
            .as_ref()
            .map_or("none".to_string(), |s| s.id.to_string())
    );
    match second.execute(
        id,
        &Command::Cancel {
            reason: "changed my mind".to_string(),
        },
        &env,
    ) {
        Ok(v) => println!("  the second writer loads again and retries: v{v}"),
        Err(e) => println!("  the second writer loads again and retries: {e}"),
    }
    println!();

    let earlier = 4;
    println!("The state at v{earlier}, before the cups, the price change and the confirmation:");
    match repo.state_at(id, earlier) {
        Ok(order) => print_state(&order),
        Err(e) => println!("  {e}"),
    }
    match repo.state_at(id, 99) {
        Ok(_) => println!("  and at v99: a state (it should not exist)"),
        Err(e) => println!("  and at v99: {e}"),
    }
    println!();

    let old_id = "order-0042";
    println!(
        "{old_id}, written by the shop's first version (schema 1), read through the upcaster:"
    );
    let v1_history = [
        OrderEventV1::Placed {
            customer: "grace".to_string(),
            at_secs: 1_700,
        },
        OrderEventV1::ItemAdded {
            sku: "mug".to_string(),
            qty: 2,
            price: 4.35,
        },
        OrderEventV1::ItemAdded {
            sku: "jam".to_string(),
            qty: 3,
            price: 0.29,
        },
        OrderEventV1::ItemRemoved {
            sku: "jam".to_string(),
            qty: 1,
        },
        OrderEventV1::Confirmed { at_secs: 1_760 },
        OrderEventV1::Shipped {
            shipment: 7,
            carrier: "post".to_string(),
            at_secs: 1_820,
        },
    ];
    let rows: Vec<NewEvent> = v1_history.iter().map(encode_v1).collect();
    repo.store_mut()
        .append(old_id, 0, &rows)
        .expect("the old history is written");
    for record in repo.store().read_all(old_id).expect("the old history") {
        println!(
            "  {:>2}  {:<12} {}",
            record.version, record.kind, record.data
        );
    }
    // The same order as today's shop would have written it: schema 2, the same facts.
    let v2_history = [
        OrderEvent::Placed {
            customer: "grace".to_string(),
            at: Timestamp(1_700_000),
        },
        OrderEvent::ItemAdded {
            sku: "mug".to_string(),
            quantity: 2,
            unit_price: Cents(435),
        },
        OrderEvent::ItemAdded {
            sku: "jam".to_string(),
            quantity: 3,
            unit_price: Cents(29),
        },
        OrderEvent::ItemRemoved {
            sku: "jam".to_string(),
            quantity: 1,
        },
        OrderEvent::Confirmed {
            at: Timestamp(1_760_000),
        },
        OrderEvent::Shipped {
            shipment: ShipmentId(7),
            carrier: "post".to_string(),
            at: Timestamp(1_820_000),
        },
    ];
    match repo.load(old_id) {
        Ok((old, v)) => {
            println!("  loaded at v{v}:");
            print_state(&old);
            println!(
                "  the same as the order written in schema 2: {}",
                yes(old == Order::replay(&v2_history))
            );
        }
        Err(RepoError::Codec(e)) => println!("  cannot read it: {e}"),
        Err(e) => println!("  cannot load it: {e}"),
    }
}
