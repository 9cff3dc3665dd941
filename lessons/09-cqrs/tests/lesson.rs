//! Lesson 09's tests, in the order of the chapter's exercises.
//!
//! The tests compute what a view must hold with their own small fold of the events
//! (`expect_at`), independent of `SalesView::apply`, and compare only what the chapter
//! asks for: units per product and per category (a product with no units may be absent
//! or 0), totals, statuses, which orders are open, and the position.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::{Duration, Instant};

use kit::Gate;
use lesson_09::commands::{Command, CommandBus, CommandError, Rejection};
use lesson_09::projection::SalesView;
use lesson_09::read_model::{Lagging, Projector, ReadModel};
use lesson_09::store::{Conflict, EventSource, EventStore, Expected, Position, Recorded, Streams};
use lesson_09::{Catalog, Event, Line, OrderId, Status};

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn at(n: u64) -> Position {
    Position(n)
}

// ---------------------------------------------------------------------------------------
// Events, catalogs and the tests' own fold

/// Products `sku-00` … `sku-23`, in six categories: `sku-NN` is in `cat-(NN % 6)`.
/// Any other product is in `other`.
fn category_of(sku: &str) -> String {
    match sku.strip_prefix("sku-").and_then(|n| n.parse::<u32>().ok()) {
        Some(n) => format!("cat-{}", n % 6),
        None => "other".to_string(),
    }
}

/// The catalog the tests use unless they need another.
struct Rule;

impl Catalog for Rule {
    fn category(&self, sku: &str) -> String {
        category_of(sku)
    }
}

fn placed(customer: &str, lines: &[(&str, u32)]) -> Event {
    Event::Placed {
        customer: customer.to_string(),
        lines: lines
            .iter()
            .map(|&(sku, qty)| Line::new(sku, qty))
            .collect(),
    }
}

/// A history: order `i` is placed with `lines` lines; once eight orders are open, each
/// new order is followed by closing the oldest open one (shipped if its number is even,
/// cancelled if odd). `special(i)` may replace line 3 of order `i` by another product.
fn history(
    orders: u32,
    lines: u32,
    special: impl Fn(u32) -> Option<&'static str>,
) -> Vec<(OrderId, Event)> {
    let mut out = Vec::new();
    for i in 0..orders {
        let mut order_lines: Vec<Line> = (0..lines)
            .map(|j| Line::new(&format!("sku-{:02}", (i + j) % 24), 1 + (i + j) % 5))
            .collect();
        if let Some(sku) = special(i) {
            let middle = 3.min(order_lines.len() - 1);
            order_lines[middle] = Line::new(sku, 2);
        }
        out.push((
            OrderId(i),
            Event::Placed {
                customer: format!("customer-{}", i % 7),
                lines: order_lines,
            },
        ));
        if i >= 8 {
            let old = i - 8;
            let event = if old % 2 == 0 {
                Event::Shipped
            } else {
                Event::Cancelled
            };
            out.push((OrderId(old), event));
        }
    }
    out
}

/// The history as committed events: positions 1, 2, 3, … and versions per order.
fn recorded(history: &[(OrderId, Event)]) -> Vec<Recorded> {
    let mut versions: BTreeMap<OrderId, u64> = BTreeMap::new();
    history
        .iter()
        .enumerate()
        .map(|(i, (order, event))| {
            let version = versions.entry(*order).or_default();
            *version += 1;
            Recorded {
                position: Position(i as u64 + 1),
                order: *order,
                version: *version,
                event: event.clone(),
            }
        })
        .collect()
}

/// A store holding the history (its positions are those of `recorded(history)`).
fn store_with(history: &[(OrderId, Event)]) -> Arc<EventStore> {
    let store = Arc::new(EventStore::new());
    for (order, event) in history {
        store
            .append(*order, Expected::Any, vec![event.clone()])
            .expect("an append with Expected::Any is never refused");
    }
    store
}

/// What the chapter says a view holds, in a form two correct views share exactly.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Canon {
    position: Position,
    open_units: u64,
    shipped_units: u64,
    by_sku: BTreeMap<String, u64>,
    by_category: BTreeMap<String, u64>,
    statuses: BTreeMap<OrderId, Status>,
    open: BTreeSet<OrderId>,
}

fn nonzero(map: &BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    map.iter()
        .filter(|(_, n)| **n != 0)
        .map(|(k, n)| (k.clone(), *n))
        .collect()
}

fn canon(view: &SalesView) -> Canon {
    Canon {
        position: view.position,
        open_units: view.open_units,
        shipped_units: view.shipped_units,
        by_sku: nonzero(&view.open_by_sku),
        by_category: nonzero(&view.open_by_category),
        statuses: view.statuses.clone(),
        open: view.open_orders.keys().copied().collect(),
    }
}

/// The tests' own fold of the events, one at a time, with categories from `category` at
/// the time each order was placed.
struct Fold<C> {
    category: C,
    canon: Canon,
    lines: BTreeMap<OrderId, Vec<(String, String, u64)>>,
}

impl<C: Fn(&str) -> String> Fold<C> {
    fn new(category: C) -> Fold<C> {
        Fold {
            category,
            canon: Canon::default(),
            lines: BTreeMap::new(),
        }
    }

    fn push(&mut self, e: &Recorded) {
        let c = &mut self.canon;
        c.position = e.position;
        match &e.event {
            Event::Placed { lines, .. } => {
                let lines: Vec<_> = lines
                    .iter()
                    .map(|l| (l.sku.clone(), (self.category)(&l.sku), u64::from(l.qty)))
                    .collect();
                for (sku, cat, n) in &lines {
                    *c.by_sku.entry(sku.clone()).or_default() += n;
                    *c.by_category.entry(cat.clone()).or_default() += n;
                    c.open_units += n;
                }
                self.lines.insert(e.order, lines);
                c.statuses.insert(e.order, Status::Open);
                c.open.insert(e.order);
            }
            Event::Shipped | Event::Cancelled => {
                let Some(lines) = self.lines.remove(&e.order) else {
                    return;
                };
                let shipped = e.event == Event::Shipped;
                for (sku, cat, n) in &lines {
                    *c.by_sku.get_mut(sku).expect("counted") -= n;
                    *c.by_category.get_mut(cat).expect("counted") -= n;
                    c.open_units -= n;
                    if shipped {
                        c.shipped_units += n;
                    }
                }
                c.open.remove(&e.order);
                let status = if shipped {
                    Status::Shipped
                } else {
                    Status::Cancelled
                };
                c.statuses.insert(e.order, status);
            }
        }
    }

    fn canon(&self) -> Canon {
        Canon {
            by_sku: nonzero(&self.canon.by_sku),
            by_category: nonzero(&self.canon.by_category),
            ..self.canon.clone()
        }
    }
}

/// What the events up to `upto` make.
fn expect_at(events: &[Recorded], upto: Position, category: impl Fn(&str) -> String) -> Canon {
    let mut fold = Fold::new(category);
    for e in events.iter().filter(|e| e.position <= upto) {
        fold.push(e);
    }
    fold.canon()
}

/// What is wrong with a view whose parts disagree, if anything.
fn parts_disagree(view: &SalesView) -> Option<String> {
    let by_sku: u64 = view.open_by_sku.values().sum();
    let by_category: u64 = view.open_by_category.values().sum();
    let by_order: u64 = view.open_orders.values().map(|o| o.units()).sum();
    (by_sku != view.open_units || by_category != view.open_units || by_order != view.open_units)
        .then(|| {
            format!(
                "a view at {} says open_units = {}, but its per-product counts add up to {by_sku}, \
                 its per-category counts to {by_category} and its open orders to {by_order}",
                view.position, view.open_units
            )
        })
}

/// Somewhere the test can hold a thread up: while held, every thread that `pass`es
/// waits there (up to four seconds, so nothing waits forever) until `release`.
///
/// The tests wait for arrivals with a patience of 3 s: longer than the 2 s deadline
/// `.ci/hang-check` sets, so code that never gets there ends in the kit's timeout
/// message, and shorter than the usual 5 s, so a learner gets the test's own message.
#[derive(Default)]
struct Hold {
    state: Mutex<HoldState>,
    changed: Condvar,
}

#[derive(Default)]
struct HoldState {
    holding: bool,
    arrived: usize,
}

impl Hold {
    fn lock(&self) -> MutexGuard<'_, HoldState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn hold(&self) {
        self.lock().holding = true;
    }

    fn release(&self) {
        self.lock().holding = false;
        self.changed.notify_all();
    }

    fn pass(&self) {
        let mut state = self.lock();
        if !state.holding {
            return;
        }
        state.arrived += 1;
        self.changed.notify_all();
        let _ = self
            .changed
            .wait_timeout_while(state, Duration::from_secs(4), |s| s.holding);
    }

    fn wait_for(&self, n: usize, patience: Duration) -> bool {
        let state = self.lock();
        let (state, _) = self
            .changed
            .wait_timeout_while(state, patience, |s| s.arrived < n)
            .unwrap_or_else(|e| e.into_inner());
        state.arrived >= n
    }
}

// ---------------------------------------------------------------------------------------
// 09.1 the command side

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

fn ship(order: u32) -> Command {
    Command::Ship {
        order: OrderId(order),
    }
}

fn cancel(order: u32) -> Command {
    Command::Cancel {
        order: OrderId(order),
    }
}

#[test]
fn ex09_1_commands_are_checked_against_the_order_s_own_events() {
    exercise("09.1").run(|| {
        let store = Arc::new(EventStore::new());
        let bus = CommandBus::new(store.clone());
        let refused =
            |why: Rejection| -> Result<Position, CommandError> { Err(CommandError::Rejected(why)) };
        let steps: Vec<(Command, Result<Position, CommandError>)> = vec![
            (place(1, "alice", &[("apple", 3), ("pear", 2)]), Ok(at(1))),
            (
                place(1, "bob", &[("bread", 1)]),
                refused(Rejection::AlreadyPlaced),
            ),
            // An existing order is AlreadyPlaced whatever the new command's lines: the
            // state is checked first.
            (place(1, "bob", &[]), refused(Rejection::AlreadyPlaced)),
            (
                place(1, "bob", &[("milk", 0)]),
                refused(Rejection::AlreadyPlaced),
            ),
            (place(2, "bob", &[]), refused(Rejection::NoLines)),
            (
                place(2, "bob", &[("bread", 1), ("milk", 0)]),
                refused(Rejection::ZeroQuantity),
            ),
            (ship(9), refused(Rejection::NoSuchOrder)),
            (cancel(9), refused(Rejection::NoSuchOrder)),
            (ship(1), Ok(at(2))),
            (cancel(1), refused(Rejection::AlreadyShipped)),
            (ship(1), refused(Rejection::AlreadyShipped)),
            (place(2, "bob", &[("bread", 1)]), Ok(at(3))),
            (cancel(2), Ok(at(4))),
            (ship(2), refused(Rejection::AlreadyCancelled)),
            (cancel(2), refused(Rejection::AlreadyCancelled)),
        ];
        for (command, want) in steps {
            let got = bus.execute(command.clone());
            assert_eq!(
                got, want,
                "execute({command:?}). When a command fails more than one condition, the first \
                 one listed in `decide`'s doc comment decides the answer: a `Place` for an order \
                 that exists is AlreadyPlaced whatever its lines"
            );
        }
        assert_eq!(
            store.head(),
            at(4),
            "four commands were accepted, so the store holds four events: a refused command \
             appends nothing"
        );
        let events: Vec<(u64, Event)> = store
            .load(OrderId(1))
            .into_iter()
            .map(|r| (r.version, r.event))
            .collect();
        assert_eq!(
            events,
            vec![
                (1, placed("alice", &[("apple", 3), ("pear", 2)])),
                (2, Event::Shipped)
            ],
            "order-1's stream: (version, event)"
        );
    });
}

/// The store, seen by two racing commands: the first two loads (one per command) wait
/// for each other after reading, so both commands decide on the same version before
/// either appends.
/// Later loads (a retry) pass straight through.
struct BothLoadFirst {
    inner: Arc<EventStore>,
    loads: AtomicUsize,
    gate: Gate,
}

impl Streams for BothLoadFirst {
    fn load(&self, order: OrderId) -> Vec<Recorded> {
        let events = self.inner.load(order);
        // Both commands have read the stream before either goes on to append.
        if self.loads.fetch_add(1, Ordering::SeqCst) < 2 {
            self.gate.arrive();
        }
        events
    }

    fn append(
        &self,
        order: OrderId,
        expected: Expected,
        events: Vec<Event>,
    ) -> Result<Position, Conflict> {
        self.inner.append(order, expected, events)
    }
}

/// Run `a` and `b` at once against a store holding `setup`; return both results and the
/// events of `order` afterwards.
fn race(
    setup: &[(OrderId, Event)],
    a: Command,
    b: Command,
) -> (
    Result<Position, CommandError>,
    Result<Position, CommandError>,
    Vec<Event>,
) {
    let inner = store_with(setup);
    let racing = Arc::new(BothLoadFirst {
        inner: inner.clone(),
        loads: AtomicUsize::new(0),
        gate: Gate::new(2, Duration::from_secs(3)),
    });
    let order = a.order();
    let bus = Arc::new(CommandBus::new(racing));
    let other = {
        let bus = bus.clone();
        thread::spawn(move || bus.execute(b))
    };
    let first = bus.execute(a);
    let second = other.join().expect("no panic");
    let events = inner.load(order).into_iter().map(|r| r.event).collect();
    (first, second, events)
}

#[test]
fn ex09_1_two_racing_commands_cannot_both_succeed() {
    exercise("09.1")
        .hangs_if("a command waits for something no other command provides")
        .run(|| {
            let open = [(OrderId(7), placed("alice", &[("apple", 1)]))];
            for round in 0..10 {
                let (shipped, cancelled, events) = race(&open, ship(7), cancel(7));
                match (shipped, cancelled) {
                    (Ok(_), Err(CommandError::Rejected(Rejection::AlreadyShipped))) => {
                        assert_eq!(events.last(), Some(&Event::Shipped), "round {round}")
                    }
                    (Err(CommandError::Rejected(Rejection::AlreadyCancelled)), Ok(_)) => {
                        assert_eq!(events.last(), Some(&Event::Cancelled), "round {round}")
                    }
                    (Ok(_), Ok(_)) => panic!(
                        "round {round}: `ship order-7` and `cancel order-7` both succeeded, and the \
                         order's stream is now {events:?}. Both commands loaded the order while it \
                         was open; the second append must be refused because the stream is no \
                         longer at the version its command loaded: append with \
                         Expected::Exact(version), and on a conflict load again and decide again — \
                         never append the same event again at the new version"
                    ),
                    (Ok(_), Err(CommandError::Rejected(why))) => panic!(
                        "round {round}: `ship order-7` succeeded, then `cancel order-7`, loading the \
                         order again, found it shipped but was refused with {why:?}: an order that \
                         has shipped is AlreadyShipped. The retry worked; look at `decide`"
                    ),
                    (Err(CommandError::Rejected(why)), Ok(_)) => panic!(
                        "round {round}: `cancel order-7` succeeded, then `ship order-7`, loading the \
                         order again, found it cancelled but was refused with {why:?}: an order \
                         that was cancelled is AlreadyCancelled. The retry worked; look at `decide`"
                    ),
                    (a, b) => panic!(
                        "round {round}: ship → {a:?}, cancel → {b:?}; expected one to succeed and the \
                         other, after loading the order again, to be refused (AlreadyShipped or \
                         AlreadyCancelled). A conflict is not a refusal, nor the end: on a conflict \
                         load the order again and decide again"
                    ),
                }
                assert_eq!(events.len(), 2, "round {round}: Placed, then one of Shipped or Cancelled");
            }
            for round in 0..5 {
                let (a, b, events) = race(
                    &[],
                    place(3, "alice", &[("apple", 1)]),
                    place(3, "bob", &[("pear", 2)]),
                );
                let oks = [&a, &b].iter().filter(|r| r.is_ok()).count();
                assert_eq!(
                    oks, 1,
                    "round {round}: two `place order-3` at once gave {a:?} and {b:?}; exactly one \
                     may succeed (the stream holds {events:?})"
                );
                let loser = if a.is_ok() { b } else { a };
                assert_eq!(
                    loser,
                    Err(CommandError::Rejected(Rejection::AlreadyPlaced)),
                    "round {round}: the other, after loading again, is refused"
                );
                assert_eq!(events.len(), 1, "round {round}: one Placed event");
            }
        });
}

/// A store whose appends always find that someone else got there first.
struct AlwaysTaken {
    inner: Arc<EventStore>,
    appends: AtomicUsize,
}

impl Streams for AlwaysTaken {
    fn load(&self, order: OrderId) -> Vec<Recorded> {
        self.inner.load(order)
    }

    fn append(
        &self,
        order: OrderId,
        expected: Expected,
        _events: Vec<Event>,
    ) -> Result<Position, Conflict> {
        let n = self.appends.fetch_add(1, Ordering::SeqCst) as u64;
        let expected = match expected {
            Expected::Exact(v) => v,
            Expected::Any => 0,
        };
        Err(Conflict {
            order,
            expected,
            actual: expected + n + 1,
        })
    }
}

#[test]
fn ex09_1_a_conflict_that_never_clears_is_reported() {
    exercise("09.1")
        .hangs_if("execute retries a conflicting append for ever: give up after CommandBus::MAX_ATTEMPTS attempts")
        .run(|| {
            let store = Arc::new(AlwaysTaken {
                inner: store_with(&[(OrderId(1), placed("alice", &[("apple", 1)]))]),
                appends: AtomicUsize::new(0),
            });
            let bus = CommandBus::new(store.clone());
            let got = bus.execute(ship(1));
            assert_eq!(
                got,
                Err(CommandError::Conflict {
                    attempts: CommandBus::MAX_ATTEMPTS
                }),
                "every append conflicts: execute gives up with the number of attempts"
            );
            assert_eq!(
                store.appends.load(Ordering::SeqCst),
                CommandBus::MAX_ATTEMPTS as usize,
                "appends tried: MAX_ATTEMPTS in all, the first attempt included"
            );
        });
}

// ---------------------------------------------------------------------------------------
// 09.2 the projection

#[test]
fn ex09_2_units_follow_orders_through_their_lives() {
    exercise("09.2").run(|| {
        let events = recorded(&[
            (OrderId(1), placed("alice", &[("sku-00", 3), ("sku-01", 2)])),
            (OrderId(2), placed("bob", &[("sku-06", 4), ("sku-02", 1)])),
            (OrderId(1), Event::Shipped),
            (OrderId(2), Event::Cancelled),
        ]);
        let mut view = SalesView::new();
        let mut step = |n: usize| {
            view.apply(&events[n], &Rule);
            assert_eq!(
                view.position,
                events[n].position,
                "the view's position after event {}",
                n + 1
            );
            view.clone()
        };

        let v = step(0);
        assert_eq!(
            (
                v.open_units_of("sku-00"),
                v.open_units_of("sku-01"),
                v.open_units
            ),
            (3, 2, 5),
            "after order-1 is placed: (sku-00, sku-01, open_units)"
        );
        assert_eq!(
            (v.open_units_in("cat-0"), v.open_units_in("cat-1")),
            (3, 2),
            "categories from the catalog: sku-00 is in cat-0, sku-01 in cat-1"
        );
        assert_eq!(
            v.status(OrderId(1)),
            Some(Status::Open),
            "order-1's status after it is placed"
        );

        let v = step(1);
        assert_eq!(
            (
                v.open_units_of("sku-06"),
                v.open_units_in("cat-0"),
                v.open_units
            ),
            (4, 7, 10),
            "after order-2 (sku-06 is in cat-0 too): (sku-06, cat-0, open_units)"
        );

        let v = step(2);
        assert_eq!(
            (
                v.open_units_of("sku-00"),
                v.open_units_of("sku-01"),
                v.open_units,
                v.shipped_units
            ),
            (0, 0, 5, 5),
            "after order-1 ships: its units leave the open counts and are counted as shipped"
        );
        assert_eq!(v.open_units_in("cat-0"), 4, "cat-0 keeps order-2's 4 units");
        assert_eq!(
            v.status(OrderId(1)),
            Some(Status::Shipped),
            "order-1's status after it ships"
        );
        assert!(
            !v.open_orders.contains_key(&OrderId(1)),
            "order-1 is no longer open"
        );

        let v = step(3);
        assert_eq!(
            (v.open_units, v.shipped_units, v.open_units_in("cat-0")),
            (0, 5, 0),
            "after order-2 is cancelled: nothing open, and a cancelled order ships nothing"
        );
        assert_eq!(
            v.status(OrderId(2)),
            Some(Status::Cancelled),
            "order-2's status after it is cancelled"
        );
        assert_eq!(
            canon(&v),
            expect_at(&events, at(4), category_of),
            "the whole view after the four events"
        );
    });
}

#[test]
fn ex09_2_a_redelivered_event_counts_nothing() {
    exercise("09.2").run(|| {
        let events = recorded(&history(12, 4, |_| None));
        assert!(
            matches!(events[8].event, Event::Placed { .. }),
            "the test's own setup: event 9, the last before the redelivery, places an order"
        );
        let mut view = SalesView::new();
        for e in &events[..9] {
            view.apply(e, &Rule);
        }
        // An at-least-once source hands out events 5..=9 again, then goes on. Event 9, the
        // one at the view's position, places an order: counted again, its units would be
        // open twice.
        for e in &events[4..] {
            view.apply(e, &Rule);
        }
        view.apply(&events[0], &Rule); // a very late duplicate
        let want = expect_at(&events, events.last().unwrap().position, category_of);
        let got = canon(&view);
        assert_eq!(
            (got.open_units, got.shipped_units, got.position),
            (want.open_units, want.shipped_units, want.position),
            "(open_units, shipped_units, position) after events 1..=9, then 5..=end again, then 1 \
             again: an event at or before the view's position is already in it and must count \
             nothing — the event *at* the position too, which is the last one the view folded in \
             (skip when `recorded.position <= self.position`, not `<`)"
        );
        assert_eq!(got, want, "the whole view equals one pass over the events");
    });
}

/// A catalog the test can change while the projection runs.
struct Movable(Mutex<BTreeMap<String, String>>);

impl Catalog for Movable {
    fn category(&self, sku: &str) -> String {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(sku)
            .cloned()
            .unwrap_or_else(|| category_of(sku))
    }
}

#[test]
fn ex09_2_a_product_moved_to_another_category_leaves_the_one_it_was_counted_in() {
    exercise("09.2").run(|| {
        let catalog = Movable(Mutex::new(BTreeMap::new()));
        let events = recorded(&[
            (OrderId(1), placed("alice", &[("sku-00", 3)])),
            (OrderId(2), placed("bob", &[("sku-00", 2)])),
            (OrderId(1), Event::Cancelled),
        ]);
        let mut view = SalesView::new();
        view.apply(&events[0], &catalog);
        catalog
            .0
            .lock()
            .unwrap()
            .insert("sku-00".to_string(), "cat-new".to_string());
        view.apply(&events[1], &catalog);
        let closed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            view.apply(&events[2], &catalog)
        }));
        if let Err(panic) = closed {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            panic!(
                "apply panicked ({why}) when order-1 was cancelled. Order-1's 3 units of sku-00 \
                 were counted in cat-0 when it was placed; the catalog has since moved sku-00 to \
                 cat-new, which holds only order-2's 2 units. Taking 3 from cat-new underflows: \
                 take the units from the category stored with the order's line, not from the \
                 one the catalog gives now"
            );
        }
        assert_eq!(
            (view.open_units_in("cat-0"), view.open_units_in("cat-new")),
            (0, 2),
            "(cat-0, cat-new): order-1's 3 units were counted in cat-0 and must leave cat-0 when it \
             is cancelled, although the catalog has since moved sku-00 to cat-new; order-2's 2 \
             units stay in cat-new. Keep each line's category in the open order"
        );
        assert_eq!(
            parts_disagree(&view),
            None,
            "after order-1 is cancelled, the view's counts must still agree"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 09.3 build, then swap

fn projector(
    source: Arc<dyn EventSource>,
    catalog: Arc<dyn Catalog>,
) -> (Projector, Arc<ReadModel>) {
    let model = Arc::new(ReadModel::new());
    (Projector::new(source, catalog, model.clone()), model)
}

#[test]
fn ex09_3_a_snapshot_is_a_whole_view_at_its_position() {
    exercise("09.3").run(|| {
        let events = recorded(&history(10, 3, |_| None));
        let (mut projector, model) = projector(Arc::new(EventStore::new()), Arc::new(Rule));
        let before = model.snapshot();
        assert_eq!(
            before.position,
            Position::START,
            "a new read model is at the start"
        );
        assert_eq!(canon(&before), Canon::default(), "and empty");

        assert_eq!(
            projector.apply_batch(&events[..5]),
            at(5),
            "apply_batch returns the new position"
        );
        let after = model.snapshot();
        assert_eq!(
            canon(&after),
            expect_at(&events, at(5), category_of),
            "the view at @5"
        );
        assert_eq!(
            canon(&before),
            Canon::default(),
            "a snapshot taken earlier never changes: a reader keeps the view it was given"
        );

        assert_eq!(
            projector.apply_batch(&events[2..8]),
            at(8),
            "a batch that starts with events the view has: those count nothing"
        );
        assert_eq!(
            canon(&model.snapshot()),
            expect_at(&events, at(8), category_of),
            "the view at @8, after a batch of @3..=@8 applied to a view at @5: events @3, @4 and \
             @5 were in the view already and count nothing, @5 (the view's own position) \
             included. If only this fails, look at 09.2's idempotence check"
        );
        assert_eq!(
            projector.apply_batch(&[]),
            at(8),
            "an empty batch changes nothing"
        );
        assert_eq!(
            model.snapshot().position,
            at(8),
            "the published view is still at @8 after an empty batch"
        );
    });
}

/// The catalog of the half-applied test: looking up `marker` waits until readers have
/// taken several snapshots since the lookup began (or until it has waited 2 s, after
/// which it stops waiting and says so). The projector is then in the middle of an event:
/// whatever it has already changed of the published view, readers see.
struct ReadersLookMidEvent {
    snapshots: Arc<AtomicUsize>,
    need: usize,
    stalled: AtomicBool,
}

impl Catalog for ReadersLookMidEvent {
    fn category(&self, sku: &str) -> String {
        if sku == "marker" && !self.stalled.load(Ordering::SeqCst) {
            let seen = self.snapshots.load(Ordering::SeqCst);
            let start = Instant::now();
            while self.snapshots.load(Ordering::SeqCst) < seen + self.need {
                if start.elapsed() > Duration::from_secs(2) {
                    self.stalled.store(true, Ordering::SeqCst);
                    break;
                }
                thread::yield_now();
            }
        }
        category_of(sku)
    }
}

#[test]
fn ex09_3_readers_never_see_a_half_applied_event() {
    const READERS: usize = 4;
    exercise("09.3")
        .hangs_if("snapshot waits for something the projector never releases")
        .run(|| {
            // 360 orders of 12 lines: 712 events. Every 9th order has the marker product
            // in the middle of its lines.
            let events = recorded(&history(360, 12, |i| (i % 9 == 4).then_some("marker")));
            let last = events.last().expect("events").position;
            // (open_units, shipped_units) at every position, by the tests' own fold.
            let mut fold = Fold::new(category_of);
            let mut totals = vec![(0, 0)];
            for e in &events {
                fold.push(e);
                totals.push((fold.canon.open_units, fold.canon.shipped_units));
            }
            let snapshots = Arc::new(AtomicUsize::new(0));
            let catalog = Arc::new(ReadersLookMidEvent {
                snapshots: snapshots.clone(),
                need: 2 * READERS,
                stalled: AtomicBool::new(false),
            });
            let (mut projector, model) = projector(Arc::new(EventStore::new()), catalog.clone());
            let done = Arc::new(AtomicBool::new(false));
            let start = Arc::new(Gate::new(READERS + 1, Duration::from_secs(3)));
            let totals = Arc::new(totals);
            let readers: Vec<_> = (0..READERS)
                .map(|_| {
                    let (model, done, start, snapshots, totals) = (
                        model.clone(),
                        done.clone(),
                        start.clone(),
                        snapshots.clone(),
                        totals.clone(),
                    );
                    thread::spawn(move || -> Option<String> {
                        start.arrive();
                        loop {
                            let finished = done.load(Ordering::SeqCst);
                            let view = model.snapshot();
                            if let Some(problem) = parts_disagree(&view) {
                                return Some(problem);
                            }
                            let want = totals.get(view.position.0 as usize).copied();
                            if want != Some((view.open_units, view.shipped_units)) {
                                return Some(format!(
                                    "a view at {} holds (open_units, shipped_units) = ({}, {}), but \
                                     the events up to {} make {want:?}: its position does not say \
                                     what it contains",
                                    view.position, view.open_units, view.shipped_units, view.position
                                ));
                            }
                            snapshots.fetch_add(1, Ordering::SeqCst);
                            if finished {
                                return None;
                            }
                        }
                    })
                })
                .collect();
            start.arrive();
            for batch in events.chunks(4) {
                projector.apply_batch(batch);
            }
            done.store(true, Ordering::SeqCst);
            let problems: Vec<String> = readers
                .into_iter()
                .filter_map(|r| r.join().expect("no reader panicked"))
                .collect();
            assert!(
                problems.is_empty(),
                "{} of {READERS} readers saw a view that no sequence of whole events makes; the \
                 first: {}.\nReaders must see the view before an event or after it, never during: \
                 build the next view on a copy, then publish it with one swap (the position inside \
                 it), instead of updating the published fields one by one",
                problems.len(),
                problems[0]
            );
            assert!(
                !catalog.stalled.load(Ordering::SeqCst),
                "while the projector was looking up a category, readers could not take a single \
                 snapshot for 2 s: does snapshot wait for the projector's computation?"
            );
            assert_eq!(
                canon(&model.snapshot()),
                expect_at(&events, last, category_of),
                "and the final view is every event, once"
            );
        });
}

/// A catalog whose lookup of `held` the test holds up.
struct Held {
    hold: Arc<Hold>,
}

impl Catalog for Held {
    fn category(&self, sku: &str) -> String {
        if sku == "held" {
            self.hold.pass();
        }
        category_of(sku)
    }
}

#[test]
fn ex09_3_readers_never_wait_for_the_projector() {
    exercise("09.3")
        .hangs_if("a reader waits for the projector to finish computing: is a lock held while the catalog is asked?")
        .run(|| {
            let hold = Arc::new(Hold::default());
            let events = recorded(&[
                (OrderId(1), placed("alice", &[("sku-00", 3)])),
                (OrderId(2), placed("bob", &[("sku-01", 1), ("held", 5), ("sku-02", 1)])),
            ]);
            let (mut projector, model) = projector(
                Arc::new(EventStore::new()),
                Arc::new(Held { hold: hold.clone() }),
            );
            projector.apply_batch(&events[..1]);
            hold.hold();
            let batch = events[1..].to_vec();
            let writer = thread::spawn(move || projector.apply_batch(&batch));
            assert!(
                hold.wait_for(1, Duration::from_secs(3)),
                "apply_batch never asked the catalog for the category of `held`"
            );
            // The projector is now inside a catalog lookup that does not return until the
            // test says so: a slow service. A reader must still get an answer.
            let (answer, has_answer) = mpsc::channel();
            let reader = {
                let model = model.clone();
                thread::spawn(move || {
                    let _ = answer.send(model.snapshot().position);
                })
            };
            let got = has_answer.recv_timeout(Duration::from_secs(3));
            hold.release();
            assert_eq!(
                got,
                Ok(at(1)),
                "while the projector waited on the catalog, a reader's snapshot did not come back \
                 within 3 s (or was not the view before the batch). Compute the next view with no \
                 lock held, then take the lock only for the swap: a lookup can take as long as the \
                 catalog service likes, and every reader would wait for it"
            );
            assert_eq!(writer.join().expect("no panic"), at(2), "the batch then completes");
            reader.join().expect("no panic");
            assert_eq!(
                model.snapshot().open_units_of("held"),
                5,
                "once the lookup returns, the batch is published: 5 units of `held` are open"
            );
        });
}

/// A catalog that fails — panics — on `fragile` while armed: a crash in the middle of a
/// batch.
struct Fragile {
    armed: AtomicBool,
}

impl Catalog for Fragile {
    fn category(&self, sku: &str) -> String {
        if sku == "fragile" && self.armed.load(Ordering::SeqCst) {
            kit::planned_panic!("the catalog service failed while looking up `fragile`");
        }
        category_of(sku)
    }
}

#[test]
fn ex09_3_a_crash_halfway_loses_nothing_and_counts_nothing_twice() {
    exercise("09.3").run(|| {
        // 20 events; event 11 is the placing of order 9, whose line 4 is `fragile`.
        let events = recorded(&history(14, 6, |i| (i == 9).then_some("fragile")));
        assert!(
            matches!(&events[10].event, Event::Placed { lines, .. } if lines.iter().any(|l| l.sku == "fragile")),
            "the test's own setup: event 11 holds the fragile product"
        );
        let catalog = Arc::new(Fragile {
            armed: AtomicBool::new(true),
        });
        let (mut first, model) = projector(Arc::new(EventStore::new()), catalog.clone());
        assert_eq!(
            first.apply_batch(&events[..5]),
            at(5),
            "a first batch of five events, before the catalog fails"
        );

        // The projector crashes in the middle of the next batch, at event 11.
        let batch = events[5..].to_vec();
        let crashed = thread::spawn(move || first.apply_batch(&batch)).join();
        assert!(crashed.is_err(), "the catalog panicked, and so did apply_batch");

        let after_crash = model.snapshot();
        let p = after_crash.position;
        assert!(
            (at(5)..at(11)).contains(&p),
            "after a crash at event 11 the read model says it is at {p}: it can only be where it \
             was (@5) or after a whole event before the crash (@6 to @10). A position past \
             @10 was saved before the view it belongs to"
        );
        assert_eq!(
            canon(&after_crash),
            expect_at(&events, p, category_of),
            "after the crash the read model reports {p}, but its view is not what the events up to \
             {p} make: the checkpoint and the view must be saved together, by one swap, and a \
             half-built view must never be published"
        );

        // A restart: a new projector over the same read model, and a source that hands out
        // the whole batch again (it redelivers from an older offset).
        catalog.armed.store(false, Ordering::SeqCst);
        let mut restarted = Projector::new(Arc::new(EventStore::new()), catalog, model.clone());
        assert_eq!(
            restarted.apply_batch(&events),
            at(20),
            "a restarted projector handed all 20 events again ends at @20"
        );
        assert_eq!(
            canon(&model.snapshot()),
            expect_at(&events, at(20), category_of),
            "after the restart, every event is in the view exactly once"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 09.4 catching up

#[test]
fn ex09_4_catch_up_stops_at_the_position_asked() {
    exercise("09.4")
        .hangs_if("catch_up keeps asking the source although it has nothing more")
        .run(|| {
            let history = history(20, 4, |_| None);
            let events = recorded(&history);
            let store = store_with(&history);
            let head = store.head();
            let (mut projector, model) = projector(store, Arc::new(Rule));
            assert_eq!(
                projector.catch_up(at(12)),
                at(12),
                "catch_up(@12) returns where it got"
            );
            assert_eq!(
                canon(&model.snapshot()),
                expect_at(&events, at(12), category_of),
                "the view at @12, no more: the caller asked for the view at @12"
            );
            assert_eq!(
                projector.catch_up(at(12)),
                at(12),
                "already there: nothing to do"
            );
            assert_eq!(projector.catch_up(at(7)), at(12), "a view never goes back");
            assert_eq!(
                projector.catch_up(head),
                head,
                "catch_up to the end of the log"
            );
            assert_eq!(
                projector.catch_up(head.after(50)),
                head,
                "asked beyond the end of the log, catch_up stops at the last event"
            );
            assert_eq!(
                canon(&model.snapshot()),
                expect_at(&events, head, category_of),
                "the view at the end of the log: every event once"
            );
        });
}

/// A source that hands out at most five events per read, whatever was asked (a broker's
/// fetch size), and counts the reads.
struct Trickle {
    store: Arc<EventStore>,
    reads: Mutex<Vec<Position>>,
}

impl EventSource for Trickle {
    fn read_after(&self, after: Position, max: usize) -> Vec<Recorded> {
        self.reads.lock().unwrap().push(after);
        self.store.read_after(after, max.min(5))
    }
}

#[test]
fn ex09_4_a_source_that_hands_out_a_few_at_a_time() {
    exercise("09.4")
        .hangs_if("catch_up keeps asking the source although it has nothing more")
        .run(|| {
            let history = history(24, 3, |_| None);
            let events = recorded(&history);
            let source = Arc::new(Trickle {
                store: store_with(&history),
                reads: Mutex::new(Vec::new()),
            });
            let (mut projector, model) = projector(source.clone(), Arc::new(Rule));
            assert_eq!(
                projector.catch_up(at(33)),
                at(33),
                "a source may answer with fewer events than asked: keep reading until the \
                 position asked for (or an empty answer)"
            );
            assert_eq!(
                canon(&model.snapshot()),
                expect_at(&events, at(33), category_of),
                "the view at @33, read five events at a time: every event once, none past @33"
            );
            let reads = source.reads.lock().unwrap().clone();
            assert!(
                reads.windows(2).all(|w| w[0] < w[1]),
                "each read starts after the last position applied: {reads:?}"
            );
        });
}

/// A source that delivers at least once: each read hands out again up to three events at
/// or before `after` (the last ones it delivered), then new ones — `max` events in all,
/// the old ones included, as a broker that rewinds its offset does. It always hands out at
/// least one new event when it has one, so a read never answers with old events only.
struct Redelivering {
    store: Arc<EventStore>,
}

impl EventSource for Redelivering {
    fn read_after(&self, after: Position, max: usize) -> Vec<Recorded> {
        let again = after.0.min(3).min(max.saturating_sub(1) as u64);
        self.store.read_after(Position(after.0 - again), max)
    }
}

#[test]
fn ex09_4_an_at_least_once_source_counts_nothing_twice() {
    exercise("09.4")
        .hangs_if("catch_up keeps asking the source although it has nothing more")
        .run(|| {
            let history = history(30, 3, |_| None);
            let events = recorded(&history);
            let store = store_with(&history);
            let head = store.head();
            let (mut projector, model) = projector(Arc::new(Redelivering { store }), Arc::new(Rule));
            for to in [at(9), at(10), at(31), head] {
                assert_eq!(
                    projector.catch_up(to),
                    to,
                    "catch_up({to}) from a source that hands out again the last events it delivered, \
                     within the number asked for: progress is the view's position, not the number of \
                     events received (a count runs ahead of the view and stops short)"
                );
                assert_eq!(
                    canon(&model.snapshot()),
                    expect_at(&events, to, category_of),
                    "the view at {to}: every event once"
                );
            }
        });
}

#[test]
fn ex09_4_a_restarted_projector_goes_on_from_the_read_model() {
    exercise("09.4")
        .hangs_if("catch_up keeps asking the source although it has nothing more")
        .run(|| {
            let history = history(16, 3, |_| None);
            let events = recorded(&history);
            let store = store_with(&history);
            let model = Arc::new(ReadModel::new());
            let mut first = Projector::new(store.clone(), Arc::new(Rule), model.clone());
            assert_eq!(
                first.catch_up(at(10)),
                at(10),
                "the first projector catches up to @10"
            );
            drop(first);
            let source = Arc::new(Trickle {
                store,
                reads: Mutex::new(Vec::new()),
            });
            let mut second = Projector::new(source.clone(), Arc::new(Rule), model.clone());
            assert_eq!(
                second.catch_up(at(20)),
                at(20),
                "a second projector over the read model at @10, reading from a source that hands \
                 out five events at a time, catches up to @20: start from the read model's \
                 position, and keep reading until the position asked for (or an empty answer)"
            );
            let reads = source.reads.lock().unwrap().clone();
            assert_eq!(
                reads.first(),
                Some(&at(10)),
                "a new projector over a read model at @10 first asks for the events after @10, not \
                 from the start of the log: the checkpoint is the read model's position \
                 (reads: {reads:?})"
            );
            assert_eq!(
                canon(&model.snapshot()),
                expect_at(&events, at(20), category_of),
                "the view at @20, after the restart: every event once"
            );
        });
}

// ---------------------------------------------------------------------------------------
// 09.5 waiting for a position (on tokio's paused clock)

fn projector_over(history: &[(OrderId, Event)]) -> (Projector, Arc<ReadModel>) {
    projector(store_with(history), Arc::new(Rule))
}

/// Twelve events: ten orders placed, then two closed.
fn twelve_events() -> Vec<(OrderId, Event)> {
    history(10, 2, |_| None)
}

#[test]
fn ex09_5_a_waiter_wakes_when_its_position_is_published() {
    exercise("09.5")
        .hangs_if("wait_for blocks the runtime thread: await, do not block")
        .run_async(|| async {
            let (mut projector, model) = projector_over(&twelve_events());
            tokio::spawn(async move {
                tokio::time::sleep(ms(250)).await;
                projector.catch_up(at(6));
            });
            let start = tokio::time::Instant::now();
            let view = model
                .wait_for(at(6), Duration::from_secs(1))
                .await
                .expect("the projector reaches @6 after 250 ms, well within the 1 s timeout");
            assert_eq!(view.position, at(6), "the view returned is the one at @6");
            assert_eq!(
                start.elapsed(),
                ms(250),
                "wait_for returned {:?} after it began, by the paused clock; the projector published \
                 @6 at 250 ms. Wake when a view is published (a watch channel): polling \
                 on a timer answers late",
                start.elapsed()
            );
        });
}

#[test]
fn ex09_5_a_position_passed_in_one_step_wakes_the_waiter() {
    exercise("09.5")
        .hangs_if("wait_for blocks the runtime thread: await, do not block")
        .run_async(|| async {
            let (mut projector, model) = projector_over(&twelve_events());
            tokio::spawn(async move {
                tokio::time::sleep(ms(100)).await;
                projector.catch_up(at(10));
            });
            let start = tokio::time::Instant::now();
            let got = model.wait_for(at(4), Duration::from_secs(1)).await;
            assert_eq!(
                got.as_ref().map(|v| v.position),
                Ok(at(10)),
                "the projector went from @0 to @10 in one step, past @4: a waiter for @4 wakes then \
                 (wait until the position is at least the one asked, not equal to it)"
            );
            assert_eq!(
                start.elapsed(),
                ms(100),
                "wait_for returned {:?} after it began, by the paused clock; the projector \
                 published @10 at 100 ms. Wake when a view is published: polling on a timer \
                 answers late",
                start.elapsed()
            );
        });
}

#[test]
fn ex09_5_a_waiter_gives_up_at_its_timeout_and_says_how_far_it_got() {
    exercise("09.5")
        .hangs_if("wait_for blocks the runtime thread: await, do not block")
        .run_async(|| async {
            let (mut projector, model) = projector_over(&twelve_events());
            tokio::spawn(async move {
                tokio::time::sleep(ms(100)).await;
                projector.catch_up(at(3));
                // … and then the projector stalls: it publishes nothing more.
            });
            let start = tokio::time::Instant::now();
            let got = model.wait_for(at(6), Duration::from_secs(1)).await;
            assert_eq!(
                got.map(|v| v.position),
                Err(Lagging {
                    wanted: at(6),
                    reached: at(3)
                }),
                "the read model stopped at @3: a waiter for @6 gets Err(Lagging) with both \
                 positions, never a view short of the position it asked for"
            );
            assert_eq!(
                start.elapsed(),
                Duration::from_secs(1),
                "it gives up when its timeout passes, by tokio's clock"
            );
        });
}

/// The waker the test gives its waiter. When it is woken while the test is publishing a
/// batch, it asks from another thread — as a waiter woken on another worker thread would,
/// at once — which view `snapshot` returns at that moment, and gives that thread a moment
/// to answer before the publisher goes on.
struct WakeSpy {
    real: Waker,
    watch: Arc<SpyWatch>,
}

struct SpyWatch {
    model: Arc<ReadModel>,
    publishing: AtomicBool,
    looks: Mutex<Vec<thread::JoinHandle<Position>>>,
}

impl Wake for WakeSpy {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.watch.publishing.load(Ordering::SeqCst) {
            let (looked, has_looked) = mpsc::channel();
            let model = self.watch.model.clone();
            let look = thread::spawn(move || {
                let position = model.snapshot().position;
                let _ = looked.send(());
                position
            });
            // A publisher that signals while it still holds its lock makes the look wait
            // until it lets go; that is fine, and the test does not wait for it here.
            let _ = has_looked.recv_timeout(Duration::from_millis(100));
            self.watch.looks.lock().unwrap().push(look);
        }
        self.real.wake_by_ref();
    }
}

/// A future polled with a [`WakeSpy`] in place of the runtime's waker.
struct Spied<F> {
    inner: Pin<Box<F>>,
    watch: Arc<SpyWatch>,
}

impl<F: Future> Future for Spied<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let spy = Waker::from(Arc::new(WakeSpy {
            real: cx.waker().clone(),
            watch: self.watch.clone(),
        }));
        self.inner.as_mut().poll(&mut Context::from_waker(&spy))
    }
}

#[test]
fn ex09_5_a_woken_waiter_finds_the_view_it_was_woken_for() {
    exercise("09.5")
        .hangs_if("wait_for blocks the runtime thread: await, do not block")
        .run_async(|| async {
            let events = recorded(&twelve_events());
            let (mut projector, model) = projector(Arc::new(EventStore::new()), Arc::new(Rule));
            let watch = Arc::new(SpyWatch {
                model: model.clone(),
                publishing: AtomicBool::new(false),
                looks: Mutex::new(Vec::new()),
            });
            let waiter = tokio::spawn(Spied {
                inner: Box::pin({
                    let model = model.clone();
                    async move {
                        model
                            .wait_for(at(6), Duration::from_secs(1))
                            .await
                            .map(|view| view.position)
                    }
                }),
                watch: watch.clone(),
            });
            tokio::time::sleep(ms(100)).await; // the waiter is waiting by now
            watch.publishing.store(true, Ordering::SeqCst);
            projector.apply_batch(&events[..6]);
            watch.publishing.store(false, Ordering::SeqCst);
            let got = waiter.await.expect("the waiter does not panic");
            assert_eq!(
                got,
                Ok(at(6)),
                "a waiter for @6, while apply_batch publishes @1..=@6 in one batch"
            );
            let looks: Vec<Position> = std::mem::take(&mut *watch.looks.lock().unwrap())
                .into_iter()
                .map(|look| look.join().expect("snapshot does not panic"))
                .collect();
            if let Some(stale) = looks.iter().find(|p| **p == Position::START) {
                panic!(
                    "the waiter for @6 was woken while apply_batch published @1..=@6, and at that \
                     moment snapshot() still returned the view at {stale}: the waiters were \
                     signalled before the new view was swapped in. Here the waiter ran only after \
                     apply_batch returned, but on a runtime with several threads it runs at once, \
                     reads the old view and returns a view short of the position it waited for. \
                     Swap first, then signal"
                );
            }
        });
}

#[test]
fn ex09_5_a_position_already_reached_returns_at_once() {
    exercise("09.5")
        .hangs_if("wait_for blocks the runtime thread: await, do not block")
        .run_async(|| async {
            let (mut projector, model) = projector_over(&twelve_events());
            projector.catch_up(at(5));
            let start = tokio::time::Instant::now();
            let got = model.wait_for(at(3), Duration::from_secs(1)).await;
            assert_eq!(
                got.map(|v| v.position),
                Ok(at(5)),
                "the read model is at @5 already: waiting for @3 returns that view at once — \
                 look at the current position before waiting for the next publish"
            );
            assert_eq!(start.elapsed(), Duration::ZERO, "without waiting at all");
        });
}

// ---------------------------------------------------------------------------------------
// The lesson program

kit::program_tests!("--readers", "0");
