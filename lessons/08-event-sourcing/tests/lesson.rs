//! Lesson 08's tests, in the order of the chapter's exercises.
//!
//! Every store here is a real SQLite file in a fresh temporary directory. Where a test
//! needs two writers, they are two connections to the same file (two `EventStore`s), as
//! two processes would be; the crash test runs the lesson program as a separate process
//! and kills it.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use lesson_08::codec::{self, encode_all, encode_v1};
use lesson_08::order::{
    Cancellation, Command, Line, Order, OrderError, OrderEvent, Shipment, Status,
};
use lesson_08::repository::{RepoError, Repository};
use lesson_08::schema;
use lesson_08::store::{AppendError, EventStore, NewEvent};
use lesson_08::upcast::OrderEventV1;
use lesson_08::{Cents, Env, ScriptedEnv, ShipmentId, Timestamp, Version};
use tempfile::TempDir;

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

/// A fresh directory, and the path of a database file in it (not created yet).
fn temp_db() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("events.db");
    (dir, path)
}

fn open(path: &Path) -> EventStore {
    EventStore::open(path).expect("the store opens")
}

fn place(customer: &str) -> Command {
    Command::Place {
        customer: customer.to_string(),
    }
}

fn add(sku: &str, quantity: u32, cents: u64) -> Command {
    Command::AddItem {
        sku: sku.to_string(),
        quantity,
        unit_price: Cents(cents),
    }
}

fn remove(sku: &str, quantity: u32) -> Command {
    Command::RemoveItem {
        sku: sku.to_string(),
        quantity,
    }
}

fn ship(carrier: &str) -> Command {
    Command::Ship {
        carrier: carrier.to_string(),
    }
}

fn cancel(reason: &str) -> Command {
    Command::Cancel {
        reason: reason.to_string(),
    }
}

/// A raw event for the store tests: kind `kind`, data `{"n": n}`.
fn raw(kind: &str, n: u64) -> NewEvent {
    NewEvent {
        kind: kind.to_string(),
        schema_version: 1,
        data: format!("{{\"n\":{n}}}"),
    }
}

/// `(version, kind, data)` of every event of `stream`, read on a connection of its own.
fn stored(path: &Path, stream: &str) -> Vec<(Version, String, String)> {
    open(path)
        .read_all(stream)
        .expect("the stream reads")
        .into_iter()
        .map(|r| (r.version, r.kind, r.data))
        .collect()
}

/// The first append of a test: `events` at version 0 of `stream`, which must succeed and be
/// committed (seen by another connection).
fn first_append(store: &mut EventStore, path: &Path, stream: &str, events: &[NewEvent]) {
    let v = store
        .append(stream, 0, events)
        .unwrap_or_else(|e| panic!("the first append, at version 0 of {stream:?}, failed: {e}"));
    let seen = stored(path, stream).len();
    assert_eq!(
        seen,
        events.len(),
        "append returned Ok({v}), but another connection sees {seen} event(s) in the stream: \
         Ok must mean committed. Call tx.commit() before returning (a rusqlite Transaction \
         dropped without commit() rolls back)"
    );
}

/// Every event of order `id`, decoded.
fn events_of(store: &EventStore, id: &str) -> Vec<OrderEvent> {
    store
        .read_all(id)
        .expect("the stream reads")
        .iter()
        .map(|r| codec::decode(r).expect("a readable event"))
        .collect()
}

/// Ten commands, each recording one event. The events at versions 3, 6 and 9 are
/// `ItemAdded`: applying one of them twice, or skipping one, changes a quantity.
fn ten_commands() -> Vec<Command> {
    vec![
        place("ada"),        // 1
        add("tea", 2, 450),  // 2
        add("pot", 1, 1999), // 3
        add("tea", 1, 475),  // 4
        remove("tea", 2),    // 5
        add("cup", 3, 225),  // 6
        add("cup", 1, 225),  // 7
        add("jam", 2, 310),  // 8
        add("tea", 4, 480),  // 9
        Command::Confirm,    // 10
    ]
}

/// What is wrong with the snapshots of order `id`, if anything: each must hold exactly the
/// state its events 1..=s add up to.
fn snapshots_are_off(repo: &Repository, id: &str) -> Option<String> {
    let events = events_of(repo.store(), id);
    let versions = repo
        .store()
        .snapshot_versions(id)
        .expect("the snapshot versions read");
    for s in versions {
        let (_, state) = repo
            .store()
            .latest_snapshot(id, Some(s))
            .expect("the snapshot reads")
            .expect("the snapshot is there");
        let state = codec::order_from_json(&state).expect("a readable snapshot");
        let n = events.len();
        if s as usize > n {
            return Some(format!(
                "there is a snapshot at version {s}, but the stream holds {n} events: save a \
                 snapshot only after append returned Ok, labelled with the version it returned"
            ));
        }
        let expected = Order::replay(&events[..s as usize]);
        if state == expected {
            continue;
        }
        let why = if state == Order::replay(&events[..s as usize - 1]) {
            format!(
                "it holds the state before event {s}. In execute, apply the events handle \
                 decided to the loaded order, then save it"
            )
        } else {
            "execute saves the loaded order with the events it just appended applied, \
             labelled with the version append returned"
                .to_string()
        };
        return Some(format!(
            "the snapshot labelled version {s} must hold the state after events 1..={s}, \
             exactly; it holds status {:?} and lines {:?}, where the events say {:?} and {:?}: \
             {why}",
            state.status, state.lines, expected.status, expected.lines
        ));
    }
    None
}

/// What is wrong with `repo.load(id)`, if anything: it must be the replay of every stored
/// event, at the number of events.
fn load_is_off(repo: &Repository, id: &str) -> Option<String> {
    let events = events_of(repo.store(), id);
    let n = events.len() as Version;
    let full = Order::replay(&events);
    let snapshots = repo
        .store()
        .snapshot_versions(id)
        .expect("the snapshot versions read");
    match repo.load(id) {
        Ok((order, v)) if (&order, v) == (&full, n) => None,
        Ok((order, v)) => Some(format!(
            "load returns the order at version {v} with status {:?} and lines {:?}, but the \
             stream's {n} events replayed from the start give version {n}, status {:?} and \
             lines {:?} (snapshots at {snapshots:?}). load starts from the latest snapshot s \
             (none: Order::default() at 0) and applies the events after it: read(id, s, None) \
             returns s+1 onwards. Not s again — the snapshot holds it — and without skipping \
             s+1",
            order.status, order.lines, full.status, full.lines
        )),
        Err(e) => Some(format!("load failed: {e}")),
    }
}

/// Run `commands` on order `id`, the clock moving a minute before each; every one must
/// succeed. After each, the snapshots and `load` must agree with the stored events.
fn run_all(repo: &mut Repository, id: &str, env: &ScriptedEnv, commands: &[Command]) {
    for (i, command) in commands.iter().enumerate() {
        env.advance(60_000);
        let result = repo.execute(id, command, env);
        if let Some(why) = snapshots_are_off(repo, id).or_else(|| load_is_off(repo, id)) {
            panic!(
                "after command {} ({command:?}) on {id}, which returned {result:?}: {why}",
                i + 1
            );
        }
        if let Err(e) = result {
            panic!("command {} ({command:?}) on {id} failed: {e}", i + 1);
        }
    }
}

// ---------------------------------------------------------------------------------------
// 08.1 the aggregate

#[test]
fn ex08_1_handle_decides_the_events_and_apply_remembers_them() {
    exercise("08.1").run(|| {
        let env = ScriptedEnv::at(Timestamp(1_000));
        let mut order = Order::default();
        let mut step = |command: Command, expected: OrderEvent| {
            let events = order
                .handle(&command, &env)
                .unwrap_or_else(|e| panic!("{command:?} on {:?} was refused: {e}", order.status));
            assert_eq!(events, vec![expected], "the events {command:?} records");
            for event in &events {
                order.apply(event);
            }
            env.advance(1_000);
            order.clone()
        };
        let placed = step(
            place("ada"),
            OrderEvent::Placed {
                customer: "ada".into(),
                at: Timestamp(1_000),
            },
        );
        assert_eq!(
            (placed.status, placed.customer.as_str(), placed.placed_at),
            (Status::Open, "ada", Some(Timestamp(1_000))),
            "(status, customer, placed_at) after Placed"
        );
        step(
            add("tea", 2, 450),
            OrderEvent::ItemAdded {
                sku: "tea".into(),
                quantity: 2,
                unit_price: Cents(450),
            },
        );
        let repriced = step(
            add("tea", 1, 475),
            OrderEvent::ItemAdded {
                sku: "tea".into(),
                quantity: 1,
                unit_price: Cents(475),
            },
        );
        assert_eq!(
            repriced.lines.get("tea"),
            Some(&Line {
                quantity: 3,
                unit_price: Cents(475)
            }),
            "a second ItemAdded of the same SKU adds to its quantity, and its price becomes the line's"
        );
        step(
            add("pot", 1, 1999),
            OrderEvent::ItemAdded {
                sku: "pot".into(),
                quantity: 1,
                unit_price: Cents(1999),
            },
        );
        let removed = step(
            remove("tea", 3),
            OrderEvent::ItemRemoved {
                sku: "tea".into(),
                quantity: 3,
            },
        );
        assert!(
            !removed.lines.contains_key("tea"),
            "a line whose quantity drops to 0 is gone: {:?}",
            removed.lines
        );
        assert_eq!(
            removed.total(),
            Cents(1999),
            "total() after the tea is removed: only the pot is left"
        );
        let confirmed = step(
            Command::Confirm,
            OrderEvent::Confirmed {
                at: Timestamp(6_000),
            },
        );
        assert_eq!(
            (confirmed.status, confirmed.confirmed_at),
            (Status::Confirmed, Some(Timestamp(6_000))),
            "(status, confirmed_at) after applying Confirmed {{ at: 6000 }}: apply must set both \
             from the event"
        );
        let shipped = step(
            ship("parcel-co"),
            OrderEvent::Shipped {
                shipment: ShipmentId(1),
                carrier: "parcel-co".into(),
                at: Timestamp(7_000),
            },
        );
        assert_eq!(
            env.ids_handed_out(),
            1,
            "Ship asks the Env for exactly one new shipment id"
        );
        assert_eq!(
            (shipped.status, shipped.shipment),
            (
                Status::Shipped,
                Some(Shipment {
                    id: ShipmentId(1),
                    carrier: "parcel-co".into(),
                    at: Timestamp(7_000)
                })
            ),
            "(status, shipment) after applying Shipped: apply must set both from the event"
        );

        // Cancelling, from Open and from Confirmed.
        for before in [placed, confirmed] {
            let events = before
                .handle(&cancel("changed my mind"), &env)
                .unwrap_or_else(|e| panic!("Cancel while {:?} was refused: {e}", before.status));
            let at = env.now();
            assert_eq!(
                events,
                vec![OrderEvent::Cancelled {
                    reason: "changed my mind".into(),
                    at
                }],
                "the events Cancel records while {:?}",
                before.status
            );
            let mut after = before.clone();
            after.apply(&events[0]);
            assert_eq!(
                (after.status, after.cancellation),
                (
                    Status::Cancelled,
                    Some(Cancellation {
                        reason: "changed my mind".into(),
                        at
                    })
                ),
                "(status, cancellation) after applying Cancelled to an order {:?}",
                before.status
            );
        }
    });
}

#[test]
fn ex08_1_handle_refuses_what_the_rules_forbid() {
    exercise("08.1").run(|| {
        let env = ScriptedEnv::at(Timestamp(5_000));
        let fold = |events: &[OrderEvent]| Order::replay(events);
        let placed = OrderEvent::Placed {
            customer: "ada".into(),
            at: Timestamp(1),
        };
        let tea = OrderEvent::ItemAdded {
            sku: "tea".into(),
            quantity: 2,
            unit_price: Cents(450),
        };
        let confirmed = OrderEvent::Confirmed { at: Timestamp(2) };
        let shipped = OrderEvent::Shipped {
            shipment: ShipmentId(9),
            carrier: "post".into(),
            at: Timestamp(3),
        };
        let cancelled = OrderEvent::Cancelled {
            reason: "r".into(),
            at: Timestamp(3),
        };
        let new = fold(&[]);
        let empty = fold(std::slice::from_ref(&placed));
        let open = fold(&[placed.clone(), tea.clone()]);
        let confirmed_order = fold(&[placed.clone(), tea.clone(), confirmed.clone()]);
        let shipped_order = fold(&[placed.clone(), tea.clone(), confirmed.clone(), shipped]);
        let cancelled_order = fold(&[placed, tea, cancelled]);
        let wrong = |status| OrderError::WrongStatus { status };
        let cases: Vec<(&str, &Order, Command, OrderError)> = vec![
            (
                "AddItem before Place",
                &new,
                add("tea", 1, 1),
                wrong(Status::NotPlaced),
            ),
            (
                "Confirm before Place",
                &new,
                Command::Confirm,
                wrong(Status::NotPlaced),
            ),
            (
                "Cancel before Place",
                &new,
                cancel("x"),
                wrong(Status::NotPlaced),
            ),
            ("Place twice", &open, place("bob"), wrong(Status::Open)),
            (
                "AddItem of 0",
                &open,
                add("tea", 0, 450),
                OrderError::ZeroQuantity,
            ),
            (
                "RemoveItem of 0",
                &open,
                remove("tea", 0),
                OrderError::ZeroQuantity,
            ),
            (
                "RemoveItem of more than ordered",
                &open,
                remove("tea", 3),
                OrderError::NotEnough {
                    sku: "tea".into(),
                    ordered: 2,
                    removing: 3,
                },
            ),
            (
                "RemoveItem of an SKU not in the order",
                &open,
                remove("cup", 1),
                OrderError::NotEnough {
                    sku: "cup".into(),
                    ordered: 0,
                    removing: 1,
                },
            ),
            (
                "Confirm of an empty order",
                &empty,
                Command::Confirm,
                OrderError::Empty,
            ),
            (
                "Ship before Confirm",
                &open,
                ship("post"),
                wrong(Status::Open),
            ),
            (
                "Confirm twice",
                &confirmed_order,
                Command::Confirm,
                wrong(Status::Confirmed),
            ),
            (
                "AddItem after Confirm (status first)",
                &confirmed_order,
                add("tea", 0, 1),
                wrong(Status::Confirmed),
            ),
            (
                "Ship twice",
                &shipped_order,
                ship("post"),
                wrong(Status::Shipped),
            ),
            (
                "Cancel after Ship",
                &shipped_order,
                cancel("x"),
                wrong(Status::Shipped),
            ),
            (
                "Cancel twice",
                &cancelled_order,
                cancel("x"),
                wrong(Status::Cancelled),
            ),
            (
                "Ship a cancelled order",
                &cancelled_order,
                ship("post"),
                wrong(Status::Cancelled),
            ),
        ];
        for (what, order, command, expected) in cases {
            match order.handle(&command, &env) {
                Err(e) => assert_eq!(e, expected, "{what}: the wrong error"),
                Ok(events) => {
                    panic!("{what}: expected {expected:?}, but handle recorded {events:?}")
                }
            }
        }
        assert_eq!(
            env.ids_handed_out(),
            0,
            "a refused Ship must not use up a shipment id"
        );
    });
}

#[test]
fn ex08_1_replaying_the_same_events_always_gives_the_same_order() {
    exercise("08.1").run(|| {
        // Events written long ago, by someone else: the times and the id in them are not
        // today's, and the id is not 1.
        let history = vec![
            OrderEvent::Placed {
                customer: "grace".into(),
                at: Timestamp(1_000),
            },
            OrderEvent::ItemAdded {
                sku: "mug".into(),
                quantity: 2,
                unit_price: Cents(435),
            },
            OrderEvent::ItemAdded {
                sku: "jam".into(),
                quantity: 3,
                unit_price: Cents(29),
            },
            OrderEvent::ItemRemoved {
                sku: "jam".into(),
                quantity: 1,
            },
            OrderEvent::Confirmed {
                at: Timestamp(2_000),
            },
            OrderEvent::Shipped {
                shipment: ShipmentId(41),
                carrier: "post".into(),
                at: Timestamp(3_000),
            },
        ];
        let expected = Order {
            status: Status::Shipped,
            customer: "grace".into(),
            placed_at: Some(Timestamp(1_000)),
            lines: [
                (
                    "jam".to_string(),
                    Line {
                        quantity: 2,
                        unit_price: Cents(29),
                    },
                ),
                (
                    "mug".to_string(),
                    Line {
                        quantity: 2,
                        unit_price: Cents(435),
                    },
                ),
            ]
            .into(),
            confirmed_at: Some(Timestamp(2_000)),
            shipment: Some(Shipment {
                id: ShipmentId(41),
                carrier: "post".into(),
                at: Timestamp(3_000),
            }),
            cancellation: None,
        };
        let first = Order::replay(&history);
        // Some time passes between two replays, as it does between a write and a read.
        thread::sleep(Duration::from_millis(5));
        let second = Order::replay(&history);
        assert_eq!(
            first, second,
            "two replays of the same events gave two different orders: does apply read a clock, \
             make an id or count something outside the order? Everything apply needs must come \
             from the event"
        );
        assert_eq!(
            first, expected,
            "the order must be exactly what the events say: every time and id comes from the \
             event, not from a clock or a generator in apply"
        );
        let cancelled = Order::replay(&[
            history[0].clone(),
            OrderEvent::Cancelled {
                reason: "out of jam".into(),
                at: Timestamp(1_500),
            },
        ]);
        assert_eq!(
            cancelled.cancellation,
            Some(Cancellation {
                reason: "out of jam".into(),
                at: Timestamp(1_500)
            }),
            "the cancellation's time is the event's"
        );
    });
}

#[test]
fn ex08_1_apply_never_refuses_an_event() {
    exercise("08.1").run(|| {
        // Histories written by an older version of the shop, whose rules were not today's:
        // staff could correct a line by more than it held, add to a confirmed order, and
        // cancel a shipped one (a return). Today's handle would refuse each of these
        // commands; the events are in the file all the same, and apply must take them.
        let placed = OrderEvent::Placed {
            customer: "grace".into(),
            at: Timestamp(1_000),
        };
        let tea = OrderEvent::ItemAdded {
            sku: "tea".into(),
            quantity: 2,
            unit_price: Cents(450),
        };
        let pot = OrderEvent::ItemAdded {
            sku: "pot".into(),
            quantity: 1,
            unit_price: Cents(1999),
        };
        let confirmed = OrderEvent::Confirmed {
            at: Timestamp(2_000),
        };
        let shipped = OrderEvent::Shipped {
            shipment: ShipmentId(41),
            carrier: "post".into(),
            at: Timestamp(3_000),
        };
        let cancelled = OrderEvent::Cancelled {
            reason: "returned".into(),
            at: Timestamp(4_000),
        };
        let rule = "apply never checks a rule and never skips an event: the event is a fact, \
                    decided (under the rules of its day) when it was recorded. The rules belong \
                    in handle";

        let over = Order::replay(&[
            placed.clone(),
            tea.clone(),
            pot.clone(),
            OrderEvent::ItemRemoved {
                sku: "tea".into(),
                quantity: 5,
            },
        ]);
        assert_eq!(
            over.lines.keys().collect::<Vec<_>>(),
            ["pot"],
            "an ItemRemoved of 5 tea from a line of 2 leaves no tea: the line is gone (a line \
             with none left is removed; saturating_sub, not a refusal). {rule}"
        );

        let unknown = Order::replay(&[
            placed.clone(),
            pot.clone(),
            OrderEvent::ItemRemoved {
                sku: "cup".into(),
                quantity: 1,
            },
        ]);
        assert_eq!(
            unknown.lines.keys().collect::<Vec<_>>(),
            ["pot"],
            "an ItemRemoved of an SKU the order does not hold changes nothing. {rule}"
        );

        let added_late =
            Order::replay(&[placed.clone(), tea.clone(), confirmed.clone(), pot.clone()]);
        assert_eq!(
            (added_late.status, added_late.lines.len()),
            (Status::Confirmed, 2),
            "(status, number of lines) after an ItemAdded that came after Confirmed: the pot \
             is added all the same. {rule}"
        );

        let returned = Order::replay(&[placed, tea, confirmed, shipped, cancelled]);
        assert_eq!(
            (returned.status, returned.cancellation),
            (
                Status::Cancelled,
                Some(Cancellation {
                    reason: "returned".into(),
                    at: Timestamp(4_000)
                })
            ),
            "(status, cancellation) after Cancelled came after Shipped: the order is \
             cancelled. {rule}"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 08.2 the event store

#[test]
fn ex08_2_appended_events_read_back_in_order() {
    exercise("08.2").run(|| {
        let (_dir, path) = temp_db();
        let mut store = open(&path);
        assert_eq!(
            store.version("a").expect("version"),
            0,
            "a new stream is at 0"
        );
        let first = store.append("a", 0, &[raw("One", 1), raw("Two", 2)]);
        assert_eq!(
            first.ok(),
            Some(2),
            "two events appended at 0: the stream is at 2"
        );
        let seen = stored(&path, "a").len();
        assert_eq!(
            seen, 2,
            "append returned Ok(2), but another connection sees {seen} event(s) in the stream: \
             Ok must mean committed. Call tx.commit() before returning (a rusqlite Transaction \
             dropped without commit() rolls back)"
        );
        let second = store.append("a", 2, &[raw("Three", 3), raw("Four", 4), raw("Five", 5)]);
        assert_eq!(second.ok(), Some(5), "three more at 2: the stream is at 5");
        let other = store.append("b", 0, &[raw("Other", 1)]);
        assert_eq!(
            other.ok(),
            Some(1),
            "another stream has versions of its own, from 1"
        );
        let nothing = store.append("a", 5, &[]);
        assert_eq!(
            nothing.ok(),
            Some(5),
            "appending no events at the right version changes nothing and returns it"
        );
        // Read on a new connection: only what was committed is there.
        let expected: Vec<(Version, String, String)> = ["One", "Two", "Three", "Four", "Five"]
            .iter()
            .zip(1..)
            .map(|(kind, v)| (v, kind.to_string(), format!("{{\"n\":{v}}}")))
            .collect();
        assert_eq!(
            stored(&path, "a"),
            expected,
            "(version, kind, data) of stream a, read on another connection: are the events \
             committed? (a rusqlite Transaction dropped without commit() rolls back)"
        );
        assert_eq!(stored(&path, "b").len(), 1);
    });
}

#[test]
fn ex08_2_an_append_at_another_version_is_a_conflict() {
    exercise("08.2").run(|| {
        let (_dir, path) = temp_db();
        let mut store = open(&path);
        first_append(&mut store, &path, "a", &[raw("One", 1), raw("Two", 2)]);
        for expected in [0, 1, 3, 7] {
            match store.append("a", expected, &[raw("Late", 99)]) {
                Err(AppendError::Conflict {
                    expected: e,
                    actual,
                }) => assert_eq!(
                    (e, actual),
                    (expected, 2),
                    "Conflict {{ expected, actual }}: what the caller expected, and where the \
                     stream is"
                ),
                other => panic!(
                    "an append expecting version {expected} of a stream at 2 must be \
                     Err(AppendError::Conflict {{ expected: {expected}, actual: 2 }}), got {other:?}"
                ),
            }
        }
        match store.append("a", 1, &[]) {
            Err(AppendError::Conflict {
                expected: 1,
                actual: 2,
            }) => {}
            other => panic!(
                "an append of no events expecting version 1 of a stream at 2 must be \
                 Err(AppendError::Conflict {{ expected: 1, actual: 2 }}), got {other:?}. With \
                 nothing to write the version is still checked: the caller decided (to do \
                 nothing) on version 1, which is gone"
            ),
        }
        assert_eq!(stored(&path, "a").len(), 2, "a conflicting append writes nothing");
        assert_eq!(
            store.append("a", 2, &[raw("Three", 3)]).ok(),
            Some(3),
            "and the store still takes an append at the right version"
        );
    });
}

#[test]
fn ex08_2_a_failed_append_writes_nothing() {
    exercise("08.2").run(|| {
        let (_dir, path) = temp_db();
        let mut store = open(&path);
        first_append(&mut store, &path, "a", &[raw("One", 1), raw("Two", 2)]);
        // The table refuses a row whose data is not JSON: the second of these three inserts
        // fails, after the first has been made.
        let broken = NewEvent {
            kind: "Broken".into(),
            schema_version: 1,
            data: "{not json".into(),
        };
        match store.append("a", 2, &[raw("Three", 3), broken, raw("Five", 5)]) {
            Err(AppendError::Store(_)) => {}
            other => panic!(
                "an append whose second insert fails (its data is not JSON) must return \
                 Err(AppendError::Store(_)), got {other:?}: return the insert's error, never \
                 skip it"
            ),
        }
        let after = stored(&path, "a");
        let kept: Vec<&str> = after[2.min(after.len())..]
            .iter()
            .map(|(_, kind, _)| kind.as_str())
            .collect();
        assert!(
            kept.is_empty(),
            "after a failed append of three events (Three, Broken, Five) the stream must be as \
             it was, at 2, but events of the failed append are in the file: {kept:?}. All or \
             nothing: make the inserts one transaction, and when an insert fails return its \
             error without committing (the `?` on insert.execute does; the Transaction \
             dropped on the way out rolls back). Committing after an error, or inserting \
             outside the transaction, keeps what was inserted"
        );
        assert_eq!(
            store.append("a", 2, &[raw("Three", 3)]).ok(),
            Some(3),
            "after a failed append the store takes the next one (no transaction left open)"
        );
        assert_eq!(stored(&path, "a").len(), 3);
    });
}

#[test]
fn ex08_2_a_lock_never_released_ends_the_append_with_an_error() {
    exercise("08.2")
        .hangs_if(
            "append retries on SQLITE_BUSY (\"database is locked\") without end: another \
             connection that holds the write lock longer than the busy timeout must end the \
             append with Err(AppendError::Store(_))",
        )
        .run(|| {
            let (_dir, path) = temp_db();
            let mut store = open(&path);
            first_append(&mut store, &path, "a", &[raw("One", 1)]);
            // A third connection takes the write lock and keeps it until the append returns:
            // longer than the busy timeout (schema::BUSY_TIMEOUT, 3 s).
            let blocker = schema::open(&path).expect("a third connection");
            blocker
                .execute_batch("BEGIN IMMEDIATE")
                .expect("the write lock");
            let result = store.append("a", 1, &[raw("Two", 2)]);
            blocker
                .execute_batch("ROLLBACK")
                .expect("the write lock released");
            match result {
                Err(AppendError::Store(_)) => {}
                other => panic!(
                    "an append while another connection held the write lock for longer than the \
                     busy timeout must give up with Err(AppendError::Store(_)) (\"database is \
                     locked\"), got {other:?}"
                ),
            }
            assert_eq!(
                stored(&path, "a").len(),
                1,
                "an append that gave up on the lock writes nothing"
            );
        });
}

/// What each racer appended: A two events, B one, so the winner shows in the version.
fn racer_events(racer: usize, round: usize) -> Vec<NewEvent> {
    let kind = ["A", "B"][racer];
    (0..2 - racer)
        .map(|i| raw(kind, (round * 10 + i) as u64))
        .collect()
}

#[test]
fn ex08_2_two_appends_at_the_same_version_exactly_one_wins() {
    exercise("08.2")
        .hangs_if("an append waits for a lock its own connection holds, or a transaction is never finished")
        .run(|| {
            const ROUNDS: usize = 6;
            let (_dir, path) = temp_db();
            drop(open(&path)); // create the file and its tables
            let mut version: Version = 0;
            for round in 0..ROUNDS {
                // Two writers, each with its own connection to the file, as two processes
                // would have.
                let stores = [open(&path), open(&path)];
                // In every other round a third connection holds the file's write lock while
                // the two start: an append that reads the version before it has the lock
                // reads it now, and the race is certain, not left to the scheduler.
                let held = round % 2 == 0;
                let blocker = held.then(|| {
                    let conn = schema::open(&path).expect("a third connection");
                    conn.execute_batch("BEGIN IMMEDIATE").expect("the write lock");
                    conn
                });
                let start = Arc::new(Barrier::new(3));
                let racers: Vec<_> = stores
                    .into_iter()
                    .enumerate()
                    .map(|(racer, mut store)| {
                        let start = Arc::clone(&start);
                        thread::spawn(move || {
                            start.wait(); // both at once
                            store.append("race", version, &racer_events(racer, round))
                        })
                    })
                    .collect();
                start.wait();
                if let Some(conn) = blocker {
                    thread::sleep(Duration::from_millis(40));
                    conn.execute_batch("ROLLBACK").expect("the write lock released");
                }
                let results: Vec<Result<Version, AppendError>> = racers
                    .into_iter()
                    .map(|r| r.join().expect("an appending thread panicked"))
                    .collect();
                let winners: Vec<usize> = (0..2).filter(|&i| results[i].is_ok()).collect();
                let in_file = stored(&path, "race").len() as Version;
                let context = format!(
                    "round {round} ({}): both appended at version {version}; A (two events) got \
                     {:?}, B (one event) got {:?}",
                    if held {
                        "a third connection held the write lock as they started"
                    } else {
                        "a plain race"
                    },
                    results[0],
                    results[1]
                );
                assert!(
                    winners.len() == 1,
                    "{context}. Exactly one of two appends at the same expected version must \
                     succeed.{}",
                    if winners.is_empty() {
                        " \"database is locked\" (SQLITE_BUSY) means an append asked for the write \
                         lock only after reading, while another connection held it: begin the \
                         transaction with BEGIN IMMEDIATE, so that it waits for the lock (the busy \
                         timeout) before it reads the version"
                    } else if in_file == version {
                        " Both returned Ok, but neither's events are in the file (another \
                         connection sees the stream still at its old version): Ok must mean \
                         committed. Call tx.commit() before returning (a rusqlite Transaction \
                         dropped without commit() rolls back)"
                    } else {
                        " Both succeeded: the version must be checked inside the same write \
                         transaction as the inserts"
                    }
                );
                let (winner, loser) = (winners[0], 1 - winners[0]);
                let won = version + (2 - winner) as Version;
                assert_eq!(results[winner].as_ref().ok(), Some(&won), "{context}");
                match &results[loser] {
                    Err(AppendError::Conflict { expected, actual })
                        if (*expected, *actual) == (version, won) => {}
                    Err(AppendError::Conflict { .. }) => panic!(
                        "{context}. The loser's Conflict must say expected {version}, actual {won}"
                    ),
                    _ => panic!(
                        "{context}. The loser must get Err(AppendError::Conflict {{ expected: \
                         {version}, actual: {won} }}), not an SQLite error: read the version \
                         and insert in one write transaction, begun with BEGIN IMMEDIATE (a \
                         plain BEGIN takes the write lock only at the first insert, after \
                         both have read the same version)"
                    ),
                }
                let rows = stored(&path, "race");
                let tail: Vec<&str> = rows[version as usize..]
                    .iter()
                    .map(|(_, kind, _)| kind.as_str())
                    .collect();
                assert_eq!(
                    tail,
                    vec![["A", "B"][winner]; 2 - winner],
                    "{context}. Only the winner's events are stored after version {version}"
                );
                version = won;
            }
        });
}

/// Kills the child process when dropped, so that a failing test leaves no writer behind.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A small seeded generator, so the kill points are the same on every run.
fn kill_points(seed: u64) -> Vec<usize> {
    const CHOICES: [usize; 8] = [1, 2, 3, 4, 5, 7, 8, 10];
    let mut x = seed;
    (0..8)
        .map(|_| {
            // xorshift64
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            CHOICES[(x % CHOICES.len() as u64) as usize]
        })
        .collect()
}

#[test]
fn ex08_2_a_crash_loses_no_acknowledged_event() {
    exercise("08.2")
        .hangs_if("the writer (the lesson program with --writer) never acknowledges an append")
        .run(|| {
            const SEED: u64 = 0x0008_5eed;
            let points = kill_points(SEED);
            let (_dir, path) = temp_db();
            // The writer appends with your EventStore::append; try it here first, so that a
            // panic in it is reported from this process, where it points at your code.
            open(&path)
                .append("probe", 0, &[raw("Probe", 1)])
                .expect("an append to an empty stream");
            let mut acknowledged: Version = 0;
            for (round, &k) in points.iter().enumerate() {
                let context = format!(
                    "crash {n} of {total} (seed {SEED:#x}, kill points {points:?}): the writer was \
                     killed after it acknowledged {k} more event(s)",
                    n = round + 1,
                    total = points.len()
                );
                let child = Process::new(env!("CARGO_BIN_EXE_lesson-08"))
                    .arg("--writer")
                    .arg(&path)
                    .args(["--events", "100000"])
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("the lesson program starts");
                let mut child = KillOnDrop(child);
                let mut lines = BufReader::new(child.0.stdout.take().expect("stdout")).lines();
                let mut seen = 0;
                while seen < k {
                    match lines.next() {
                        Some(Ok(line)) => {
                            let v: Version = line.trim().parse().unwrap_or_else(|_| {
                                panic!("{context}: it printed {line:?}, not a version")
                            });
                            assert_eq!(
                                v,
                                acknowledged + 1,
                                "{context}: it acknowledged versions out of order"
                            );
                            acknowledged = v;
                            seen += 1;
                        }
                        _ => {
                            let _ = child.0.wait();
                            let mut stderr = String::new();
                            if let Some(mut e) = child.0.stderr.take() {
                                let _ = e.read_to_string(&mut stderr);
                            }
                            panic!(
                                "{context}, but it stopped after {seen}. What it said:\n{stderr}"
                            );
                        }
                    }
                }
                // std's Child::kill sends SIGKILL on Unix: no destructor, no flush, no
                // rollback runs in the writer. Whatever is in the file now is what a crash
                // leaves.
                child.0.kill().expect("the writer is killed");
                child.0.wait().expect("the writer is gone");
                drop(child);

                let rows = stored(&path, "writer");
                let n = rows.len() as Version;
                let versions_ok = rows.iter().zip(1..).all(|((v, _, _), i)| *v == i);
                assert!(versions_ok, "{context}: the versions have gaps: {rows:?}");
                assert!(
                    n >= acknowledged,
                    "{context}: the writer had acknowledged version {acknowledged}, but after the \
                     crash the file holds only {n} events. An append must not return Ok before \
                     its transaction has committed"
                );
                assert!(
                    n.is_multiple_of(3),
                    "{context}: the file holds {n} events, but the writer appends three at a time: \
                     an append was cut in half by the crash. Make it one transaction"
                );
                for (v, _, data) in &rows {
                    assert_eq!(
                        data,
                        &format!("{{\"n\":{v}}}"),
                        "{context}: event {v}'s data"
                    );
                }
                // The next writer carries on from whatever the crash left.
                acknowledged = n;
            }
        });
}

// ---------------------------------------------------------------------------------------
// 08.3 commands end to end, and snapshots

#[test]
fn ex08_3_execute_appends_what_handle_decides() {
    exercise("08.3").run(|| {
        let (_dir, path) = temp_db();
        let mut repo = Repository::open(&path, 100).expect("a repository");
        let env = ScriptedEnv::at(Timestamp(0));
        let id = "order-1";
        assert_eq!(
            repo.load(id).expect("load"),
            (Order::default(), 0),
            "an order with no events loads as Order::default() at version 0"
        );
        let commands = [place("ada"), add("tea", 2, 450), add("pot", 1, 1999)];
        for (i, command) in commands.iter().enumerate() {
            env.advance(1_000);
            match repo.execute(id, command, &env) {
                Ok(v) => assert_eq!(v, i as Version + 1, "execute returns the new version"),
                Err(e) => {
                    let why = load_is_off(&repo, id).unwrap_or_default();
                    panic!("{command:?} failed: {e}. {why}")
                }
            }
        }
        match repo.execute(id, &remove("cup", 1), &env) {
            Err(RepoError::Rejected(OrderError::NotEnough { .. })) => {}
            other => panic!("a refused command must be Err(RepoError::Rejected(_)), got {other:?}"),
        }
        let events = events_of(repo.store(), id);
        assert_eq!(
            events,
            vec![
                OrderEvent::Placed {
                    customer: "ada".into(),
                    at: Timestamp(1_000)
                },
                OrderEvent::ItemAdded {
                    sku: "tea".into(),
                    quantity: 2,
                    unit_price: Cents(450)
                },
                OrderEvent::ItemAdded {
                    sku: "pot".into(),
                    quantity: 1,
                    unit_price: Cents(1999)
                },
            ],
            "the stored events: what handle decided, nothing for the refused command"
        );
        let other = Repository::open(&path, 100).expect("a second repository");
        assert_eq!(
            other.load(id).expect("load"),
            (Order::replay(&events), 3),
            "loaded on another connection: the state the events add up to, at version 3"
        );
    });
}

#[test]
fn ex08_3_snapshot_plus_tail_equals_full_replay() {
    exercise("08.3").run(|| {
        let (_dir, path) = temp_db();
        let mut repo = Repository::open(&path, 3).expect("a repository");
        let env = ScriptedEnv::at(Timestamp(0));
        let id = "order-1";
        for (i, command) in ten_commands().iter().enumerate() {
            env.advance(60_000);
            if let Err(e) = repo.execute(id, command, &env) {
                let why = load_is_off(&repo, id).unwrap_or_default();
                panic!("command {} ({command:?}) failed: {e}. {why}", i + 1);
            }
            let version = i as Version + 1;
            let events = events_of(repo.store(), id);
            let full = Order::replay(&events);
            let snapshots = repo.store().snapshot_versions(id).expect("snapshots");
            if let Some(why) = snapshots_are_off(&repo, id) {
                panic!("after {version} events: {why}");
            }
            // Loaded by this repository, and by a fresh one on its own connection.
            let fresh = Repository::open(&path, 3).expect("another repository");
            for (who, loaded) in [("this", repo.load(id)), ("a fresh", fresh.load(id))] {
                let (order, v) = loaded.unwrap_or_else(|e| panic!("load failed: {e}"));
                assert_eq!(
                    v, version,
                    "after {version} events (snapshots at {snapshots:?}), {who} repository \
                     loads the order at version {v}: the version load returns is the last \
                     event's it applied, or the snapshot's when none come after it"
                );
                assert_eq!(
                    order, full,
                    "after {version} events (snapshots at {snapshots:?}), {who} repository's \
                     load differs from replaying every event from the start. The snapshot at \
                     version s already holds event s: replay the events after it, s+1 onwards — \
                     not s again, and without skipping s+1"
                );
            }
        }
    });
}

#[test]
fn ex08_3_a_snapshot_is_saved_every_n_events() {
    exercise("08.3").run(|| {
        for (every, expected) in [(3, vec![3, 6, 9]), (4, vec![4, 8]), (11, vec![])] {
            let (_dir, path) = temp_db();
            let mut repo = Repository::open(&path, every).expect("a repository");
            let env = ScriptedEnv::at(Timestamp(0));
            run_all(&mut repo, "o", &env, &ten_commands());
            let versions = repo.store().snapshot_versions("o").expect("snapshots");
            assert_eq!(
                versions, expected,
                "snapshot versions after 10 events with a snapshot every {every}"
            );
            let events = events_of(repo.store(), "o");
            for v in versions {
                let (at, state) = repo
                    .store()
                    .latest_snapshot("o", Some(v))
                    .expect("the snapshot reads")
                    .expect("the snapshot is there");
                let state = codec::order_from_json(&state).expect("a readable snapshot");
                assert_eq!(
                    at, v,
                    "latest_snapshot(\"o\", Some({v})) with a snapshot at {v}"
                );
                assert_eq!(
                    state,
                    Order::replay(&events[..v as usize]),
                    "the snapshot labelled version {v} must hold the state after events 1..={v}, \
                     exactly"
                );
            }
        }
    });
}

#[test]
fn ex08_3_load_starts_from_the_latest_snapshot() {
    exercise("08.3").run(|| {
        let (_dir, path) = temp_db();
        let mut repo = Repository::open(&path, 3).expect("a repository");
        let env = ScriptedEnv::at(Timestamp(0));
        run_all(&mut repo, "o", &env, &ten_commands());
        let (before, _) = repo.load("o").expect("load");
        // Take away the events the latest snapshot (at 9) holds: load must not need them.
        let conn = schema::open(&path).expect("a connection");
        conn.execute("DELETE FROM events WHERE stream = 'o' AND version <= 9", [])
            .expect("delete");
        match repo.load("o") {
            Ok((order, v)) => {
                assert_eq!(v, 10, "the version after the snapshot at 9 and event 10");
                assert_eq!(
                    order, before,
                    "the same order, from the snapshot and one event"
                );
            }
            Err(e) => panic!(
                "with events 1..=9 gone, load failed ({e}): it should not read them — the \
                 snapshot at 9 holds them"
            ),
        }
    });
}

/// An `Env` whose clock, the first time `handle` reads it, stops until the test says go:
/// the test can act between a repository's load and its append.
struct HeldEnv {
    reached: mpsc::Sender<()>,
    go: mpsc::Receiver<()>,
    held: std::cell::Cell<bool>,
}

impl Env for HeldEnv {
    fn now(&self) -> Timestamp {
        if !self.held.replace(true) {
            let _ = self.reached.send(());
            let _ = self.go.recv_timeout(Duration::from_secs(3));
        }
        Timestamp(999_000)
    }

    fn next_shipment_id(&self) -> ShipmentId {
        ShipmentId(77)
    }
}

/// The stale decision: order "o" is placed, has tea and is confirmed (version 3). A second
/// writer, on its own connection, loads it to cancel it, and its `handle` stops at the
/// clock; meanwhile the first writer ships the order (version 4); then the second goes on.
/// Returns the first writer's repository and what the second's `execute` returned.
fn stale_cancel(path: &Path, snapshot_every: Version) -> (Repository, Result<Version, RepoError>) {
    let mut repo = Repository::open(path, snapshot_every).expect("a repository");
    let env = ScriptedEnv::at(Timestamp(0));
    run_all(
        &mut repo,
        "o",
        &env,
        &[place("ada"), add("tea", 1, 450), Command::Confirm],
    );
    let (reached_tx, reached) = mpsc::channel();
    let (go, go_rx) = mpsc::channel();
    let canceller = {
        let path = path.to_path_buf();
        thread::spawn(move || {
            let mut repo = Repository::open(&path, snapshot_every).expect("a second repository");
            let env = HeldEnv {
                reached: reached_tx,
                go: go_rx,
                held: std::cell::Cell::new(false),
            };
            repo.execute("o", &cancel("changed my mind"), &env)
        })
    };
    reached
        .recv_timeout(Duration::from_secs(3))
        .expect("the canceller's handle asks the Env for the time");
    // Meanwhile the first writer ships the order: version 4.
    env.advance(1_000);
    let shipped = repo.execute("o", &ship("post"), &env);
    assert_eq!(
        shipped.ok(),
        Some(4),
        "the first writer ships the order at version 3: execute must return Ok(4)"
    );
    go.send(()).expect("the canceller is waiting");
    let cancelled = canceller.join().expect("the canceller panicked");
    (repo, cancelled)
}

#[test]
fn ex08_3_a_decision_on_a_stale_state_is_a_conflict() {
    exercise("08.3").run(|| {
        let (_dir, path) = temp_db();
        let (repo, cancelled) = stale_cancel(&path, 100);
        match cancelled {
            Err(RepoError::Conflict {
                expected: 3,
                actual: 4,
            }) => {}
            Err(RepoError::Rejected(OrderError::WrongStatus {
                status: Status::Shipped,
            })) => panic!(
                "the canceller decided on the order at version 3; it was shipped (version 4) \
                 before it appended. Its execute must return Err(RepoError::Conflict {{ \
                 expected: 3, actual: 4 }}), got Rejected(WrongStatus {{ Shipped }}): execute \
                 retried after the conflict. Return the Conflict instead — whether to decide \
                 again on the new state is the caller's choice, and a retry loop inside \
                 execute never ends while other writers keep winning"
            ),
            other => panic!(
                "the canceller decided on the order at version 3; it was shipped (version 4) \
                 before it appended. Its execute must return Err(RepoError::Conflict {{ expected: \
                 3, actual: 4 }}), got {other:?}. Append at the version the order was loaded at, \
                 not at the stream's version read again"
            ),
        }
        let kinds: Vec<&str> = events_of(repo.store(), "o")
            .iter()
            .map(OrderEvent::kind)
            .collect::<Vec<_>>();
        assert_eq!(
            kinds,
            ["Placed", "ItemAdded", "Confirmed", "Shipped"],
            "a shipped order is never cancelled behind its back"
        );
    });
}

#[test]
fn ex08_3_a_conflicting_execute_leaves_no_snapshot() {
    exercise("08.3").run(|| {
        // A snapshot after every event: the winner saves one at 4, and a loser that saved
        // its own would overwrite it.
        let (_dir, path) = temp_db();
        let (repo, cancelled) = stale_cancel(&path, 1);
        if let Some(why) = snapshots_are_off(&repo, "o") {
            panic!(
                "two writers decided on version 3: the first shipped the order (version 4), the \
                 second's cancel then got {cancelled:?}. Afterwards {why}. A snapshot is saved \
                 only after append has returned Ok: the refused writer's state — a cancel that \
                 was never recorded — must never reach the snapshots"
            );
        }
        let fresh = Repository::open(&path, 1).expect("another repository");
        let (order, v) = fresh.load("o").expect("load");
        assert_eq!(
            (order.status, v),
            (Status::Shipped, 4),
            "(status, version) of the order loaded after the conflict: its events say Shipped, \
             at 4"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 08.4 the state as of a version

/// Which state of the history `order` is, for a `state_at(…, v)` that returned it: a
/// direction for the learner.
fn which_state(order: &Order, events: &[OrderEvent], v: usize) -> String {
    let n = events.len();
    match (0..=n).find(|&k| &Order::replay(&events[..k]) == order) {
        Some(k) if k == n && v < n => format!(
            "it is the state after all {n} events, events {}..={n} included: read the events \
             after the snapshot only up to {v} (read's up_to), and take the latest snapshot at \
             or before {v}",
            v + 1
        ),
        Some(k) if k > v => format!(
            "it is the state at version {k}, a snapshot later than {v}: take the latest snapshot \
             at or before {v} (latest_snapshot's at_most)"
        ),
        Some(k) => format!(
            "it is the state at version {k}: apply every event after the snapshot up to and \
             including {v}"
        ),
        None => "it is not the state at any version: apply each event once, from the \
                 snapshot's version + 1 up to and including the version asked for"
            .to_string(),
    }
}

#[test]
fn ex08_4_the_state_at_each_version_is_the_replay_up_to_it() {
    exercise("08.4").run(|| {
        let (_dir, path) = temp_db();
        let mut repo = Repository::open(&path, 3).expect("a repository");
        let env = ScriptedEnv::at(Timestamp(0));
        run_all(&mut repo, "o", &env, &ten_commands());
        let events = events_of(repo.store(), "o");
        for v in 0..=10 {
            let expected = Order::replay(&events[..v]);
            let order = match repo.state_at("o", v as Version) {
                Ok(order) => order,
                Err(e) => panic!("state_at(\"o\", {v}) failed: {e}"),
            };
            if order == expected {
                continue;
            }
            let why = which_state(&order, &events, v);
            panic!(
                "state_at(\"o\", {v}), snapshots at 3, 6, 9: the state must be events 1..={v} \
                 replayed, nothing after; {why}. Got {order:?}"
            );
        }
    });
}

#[test]
fn ex08_4_a_version_not_reached_is_an_error() {
    exercise("08.4").run(|| {
        let (_dir, path) = temp_db();
        let mut repo = Repository::open(&path, 3).expect("a repository");
        let env = ScriptedEnv::at(Timestamp(0));
        run_all(&mut repo, "o", &env, &ten_commands()[..4]);
        for (id, requested, current) in [("o", 5, 4), ("o", 100, 4), ("nobody", 1, 0)] {
            match repo.state_at(id, requested) {
                Err(RepoError::NoSuchVersion {
                    requested: r,
                    current: c,
                }) => assert_eq!((r, c), (requested, current), "NoSuchVersion {{ requested, current }}"),
                other => panic!(
                    "state_at({id:?}, {requested}) of an order at version {current} must be \
                     Err(RepoError::NoSuchVersion {{ requested: {requested}, current: {current} }}), \
                     got {other:?}"
                ),
            }
        }
        assert_eq!(
            repo.state_at("nobody", 0).ok(),
            Some(Order::default()),
            "version 0 of any order is Order::default()"
        );
    });
}

#[test]
fn ex08_4_the_state_at_a_version_starts_from_a_snapshot() {
    exercise("08.4").run(|| {
        let (_dir, path) = temp_db();
        let mut repo = Repository::open(&path, 3).expect("a repository");
        let env = ScriptedEnv::at(Timestamp(0));
        run_all(&mut repo, "o", &env, &ten_commands());
        let events = events_of(repo.store(), "o");
        // The snapshot at 6 holds events 1..=6: the states at 6, 7 and 8 must not need them.
        let conn = schema::open(&path).expect("a connection");
        conn.execute("DELETE FROM events WHERE stream = 'o' AND version <= 6", [])
            .expect("delete");
        for v in [6, 7, 8] {
            match repo.state_at("o", v) {
                Ok(order) if order == Order::replay(&events[..v as usize]) => {}
                Ok(order) => {
                    let k = (0..=events.len()).find(|&k| Order::replay(&events[..k]) == order);
                    let why = match k {
                        Some(k) if k > v as usize => which_state(&order, &events, v as usize),
                        _ => format!(
                            "start from the latest snapshot at or before {v} (here, 6) and read \
                             only the events after it: a replay from event 1 that ignores the \
                             snapshots finds none of events 1..=6"
                        ),
                    };
                    panic!(
                        "state_at(\"o\", {v}) after the test deleted events 1..=6 (the snapshot \
                         at 6 holds them): {why}. Got {order:?}"
                    )
                }
                Err(e) => panic!(
                    "with events 1..=6 gone, state_at(\"o\", {v}) failed ({e}): start from the \
                     latest snapshot at or before {v} (here, 6) and read only the events after it"
                ),
            }
        }
    });
}

// ---------------------------------------------------------------------------------------
// 08.5 the upcaster

/// An order's history as the shop's first version wrote it, and the same facts in today's
/// shape.
fn old_and_new_history() -> (Vec<OrderEventV1>, Vec<OrderEvent>) {
    let old = vec![
        OrderEventV1::Placed {
            customer: "grace".into(),
            at_secs: 1_700,
        },
        OrderEventV1::ItemAdded {
            sku: "mug".into(),
            qty: 2,
            price: 4.35,
        },
        OrderEventV1::ItemAdded {
            sku: "jam".into(),
            qty: 3,
            price: 0.29,
        },
        OrderEventV1::ItemAdded {
            sku: "pot".into(),
            qty: 1,
            price: 19.99,
        },
        OrderEventV1::ItemRemoved {
            sku: "jam".into(),
            qty: 1,
        },
        OrderEventV1::Confirmed { at_secs: 1_760 },
        OrderEventV1::Shipped {
            shipment: 7,
            carrier: "post".into(),
            at_secs: 1_820,
        },
    ];
    let new = vec![
        OrderEvent::Placed {
            customer: "grace".into(),
            at: Timestamp(1_700_000),
        },
        OrderEvent::ItemAdded {
            sku: "mug".into(),
            quantity: 2,
            unit_price: Cents(435),
        },
        OrderEvent::ItemAdded {
            sku: "jam".into(),
            quantity: 3,
            unit_price: Cents(29),
        },
        OrderEvent::ItemAdded {
            sku: "pot".into(),
            quantity: 1,
            unit_price: Cents(1999),
        },
        OrderEvent::ItemRemoved {
            sku: "jam".into(),
            quantity: 1,
        },
        OrderEvent::Confirmed {
            at: Timestamp(1_760_000),
        },
        OrderEvent::Shipped {
            shipment: ShipmentId(7),
            carrier: "post".into(),
            at: Timestamp(1_820_000),
        },
    ];
    (old, new)
}

#[test]
fn ex08_5_each_v1_event_becomes_the_same_fact_in_v2() {
    exercise("08.5").run(|| {
        let (old, new) = old_and_new_history();
        let mut cases: Vec<(OrderEventV1, OrderEvent)> = old.into_iter().zip(new).collect();
        cases.extend([
            (
                OrderEventV1::Cancelled {
                    reason: "out of jam".into(),
                    at_secs: 90,
                },
                OrderEvent::Cancelled {
                    reason: "out of jam".into(),
                    at: Timestamp(90_000),
                },
            ),
            (
                OrderEventV1::ItemAdded {
                    sku: "fig".into(),
                    qty: 12,
                    price: 1.15,
                },
                OrderEvent::ItemAdded {
                    sku: "fig".into(),
                    quantity: 12,
                    unit_price: Cents(115),
                },
            ),
            (
                OrderEventV1::ItemAdded {
                    sku: "free".into(),
                    qty: 1,
                    price: 0.0,
                },
                OrderEvent::ItemAdded {
                    sku: "free".into(),
                    quantity: 1,
                    unit_price: Cents(0),
                },
            ),
        ]);
        for (v1, expected) in cases {
            let upcast = OrderEvent::from(v1.clone());
            assert_eq!(
                upcast, expected,
                "{v1:?} upcast: every field carried over, in v2's units (milliseconds; whole \
                 cents, rounded — a float of dollars times 100 is not always a whole number)"
            );
        }
    });
}

#[test]
fn ex08_5_every_price_up_to_999_99_becomes_its_cents() {
    exercise("08.5").run(|| {
        // Every price from $0.00 to $999.99, as v1 stored it: the f64 nearest to the decimal
        // (c / 100.0 is exactly the float "1.10" parses to).
        let wrong: Vec<(f64, u64, u64)> = (0..100_000u64)
            .filter_map(|c| {
                let price = c as f64 / 100.0;
                let upcast = OrderEvent::from(OrderEventV1::ItemAdded {
                    sku: "x".into(),
                    qty: 1,
                    price,
                });
                match upcast {
                    OrderEvent::ItemAdded { unit_price, .. } if unit_price == Cents(c) => None,
                    OrderEvent::ItemAdded { unit_price, .. } => Some((price, c, unit_price.0)),
                    other => panic!("an ItemAdded of ${price} upcast to {other:?}"),
                }
            })
            .collect();
        if !wrong.is_empty() {
            let examples: Vec<String> = wrong
                .iter()
                .take(5)
                .map(|(price, c, got)| format!("${price} became {got} cents, not {c}"))
                .collect();
            panic!(
                "{} of the 100000 prices from $0.00 to $999.99 become the wrong number of cents: \
                 {}. A float of dollars times 100 lands a hair above or below the whole number \
                 (1.10 * 100.0 is 110.00000000000001, 4.35 * 100.0 is 434.99999999999994): round \
                 to the nearest cent, neither truncate nor round up",
                wrong.len(),
                examples.join("; ")
            );
        }
    });
}

#[test]
fn ex08_5_an_upcast_history_gives_the_same_order_as_native_v2() {
    exercise("08.5").run(|| {
        let (_dir, path) = temp_db();
        let mut repo = Repository::open(&path, 3).expect("a repository");
        let (old, new) = old_and_new_history();
        let old_rows: Vec<NewEvent> = old.iter().map(encode_v1).collect();
        repo.store_mut()
            .append("old", 0, &old_rows)
            .expect("the old history is written");
        repo.store_mut()
            .append("new", 0, &encode_all(&new))
            .expect("the same history in v2 is written");
        let load = |id: &str| {
            repo.load(id)
                .unwrap_or_else(|e| panic!("loading order {id:?} failed: {e}"))
        };
        let (from_v1, v) = load("old");
        assert_eq!(v, 7);
        assert_eq!(
            from_v1,
            load("new").0,
            "the order written in schema 1 and read through the upcaster must equal the same \
             order written in schema 2"
        );
        assert_eq!(from_v1.total(), Cents(2 * 435 + 2 * 29 + 1999));
    });
}

#[test]
fn ex08_5_an_old_order_carries_on_with_new_events() {
    exercise("08.5").run(|| {
        let (_dir, path) = temp_db();
        let mut repo = Repository::open(&path, 3).expect("a repository");
        let (old, new) = old_and_new_history();
        // The first four events were written by the old shop; today's code carries on.
        let old_rows: Vec<NewEvent> = old[..4].iter().map(encode_v1).collect();
        repo.store_mut()
            .append("o", 0, &old_rows)
            .expect("the old events are written");
        let env = ScriptedEnv::at(Timestamp(1_760_000));
        for command in [remove("jam", 1), Command::Confirm] {
            repo.execute("o", &command, &env)
                .unwrap_or_else(|e| panic!("{command:?} on an order begun in v1 failed: {e}"));
        }
        let (order, v) = repo.load("o").expect("load");
        assert_eq!(v, 6);
        assert_eq!(
            order,
            Order::replay(&new[..6]),
            "four v1 events, then two v2 events: the same order as six v2 events"
        );
    });
}

// ---------------------------------------------------------------------------------------
// The lesson program

kit::program_tests!("--snapshot-every", "0");
