//! Reads of the read model while a writer applies events: the swap-based read model
//! against one `Mutex` around the view.
//!
//! `cargo bench -p lesson-09 --features solution`
//!
//! Three read models hold the same `SalesView`:
//! - `swap_rwlock`: the reference `ReadModel` — `RwLock<Arc<SalesView>>`; readers clone
//!   the `Arc`, the projector builds the next view on a copy and swaps it in;
//! - `swap_arc_swap`: the same design with `arc_swap::ArcSwap` instead of the lock;
//! - `one_mutex`: one `Mutex<SalesView>`; readers lock it to read, the writer locks it and
//!   applies each batch in place (a half-applied event is never visible, since the lock is
//!   held for the whole batch; readers wait for it instead).
//!
//! In the `reads_*` groups a writer thread applies a batch of 16 events (8 lines each),
//! sleeps 200 µs and starts again, for as long as the benchmark runs, while each of 1, 2
//! or 4 reader threads answers queries, each from one snapshot: 200,000 lookups (two map
//! lookups, a few tens of nanoseconds each) or 5,000 scans (a walk over every line of
//! every open order, about a microsecond). In `reads_lookup_slow_catalog`, the writer's
//! catalog takes 100 µs to answer for one product of each batch. Each sample is several
//! milliseconds long, so the threads of a sample run at the same time. divan reports the
//! time per reader thread; read throughput is threads × queries / time. In `write`, one
//! thread applies batches with no readers, to show what the copy costs the writer. The
//! chapter quotes the ratios of the medians from one run.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use arc_swap::ArcSwap;
use divan::{Bencher, black_box};
use lesson_09::projection::SalesView;
use lesson_09::read_model::{Projector, ReadModel};
use lesson_09::store::{EventStore, Position, Recorded};
use lesson_09::{Catalog, Event, Line, OrderId};

fn main() {
    divan::main();
}

const BATCH: u64 = 16;

/// `sku-NN` is in `cat-(NN % 6)`; anything else in `cat-0`.
struct Rule;

impl Catalog for Rule {
    fn category(&self, sku: &str) -> String {
        let n: u32 = sku.get(4..).and_then(|n| n.parse().ok()).unwrap_or(0);
        format!("cat-{}", n % 6)
    }
}

/// The same, but looking up the product `slow` (one line in each batch) takes 100 µs: a
/// catalog service having a bad moment.
struct SlowOnce;

impl Catalog for SlowOnce {
    fn category(&self, sku: &str) -> String {
        if sku == "slow" {
            thread::sleep(Duration::from_micros(100));
        }
        Rule.category(sku)
    }
}

/// Event `position` of an endless history: order `i % 1024` is placed with 8 lines, and
/// the order placed 64 orders earlier is shipped, so about 64 orders are open at a time
/// and the view stays the same size however long the benchmark runs.
fn event(position: u64) -> Recorded {
    let i = (position - 1) / 2;
    let (order, event) = if position % 2 == 1 {
        let mut lines: Vec<Line> = (0..8)
            .map(|j| {
                Line::new(
                    &format!("sku-{:02}", (i + j) % 24),
                    1 + ((i + j) % 5) as u32,
                )
            })
            .collect();
        if position % BATCH == 1 {
            lines.push(Line::new("slow", 1)); // the first event of every batch
        }
        (
            i % 1024,
            Event::Placed {
                customer: format!("customer-{}", i % 16),
                lines,
            },
        )
    } else {
        (i.wrapping_sub(64) % 1024, Event::Shipped)
    };
    Recorded {
        position: Position(position),
        order: OrderId(order as u32),
        version: 1,
        event,
    }
}

fn batch(after: u64) -> Vec<Recorded> {
    (after + 1..=after + BATCH).map(event).collect()
}

/// A read model as the benchmark drives it.
trait Model: Send + Sync + 'static {
    /// Apply `events` and publish the result.
    fn write(&mut self, events: &[Recorded]);
    /// A reader's handle.
    fn reader(&self) -> Arc<dyn Read>;
}

trait Read: Send + Sync {
    /// Answer `query` from one snapshot of the view.
    fn read(&self, query: &dyn Fn(&SalesView) -> u64) -> u64;
}

struct Swap {
    projector: Projector,
}

impl Read for ReadModel {
    fn read(&self, query: &dyn Fn(&SalesView) -> u64) -> u64 {
        query(&self.snapshot())
    }
}

impl Model for Swap {
    fn write(&mut self, events: &[Recorded]) {
        self.projector.apply_batch(events);
    }
    fn reader(&self) -> Arc<dyn Read> {
        self.projector.model().clone()
    }
}

struct ArcSwapped(Arc<ArcSwap<SalesView>>, Arc<dyn Catalog>);

impl Read for ArcSwap<SalesView> {
    fn read(&self, query: &dyn Fn(&SalesView) -> u64) -> u64 {
        query(&self.load())
    }
}

impl Model for ArcSwapped {
    fn write(&mut self, events: &[Recorded]) {
        let mut next = SalesView::clone(&self.0.load());
        for e in events {
            next.apply(e, &*self.1);
        }
        self.0.store(Arc::new(next));
    }
    fn reader(&self) -> Arc<dyn Read> {
        self.0.clone()
    }
}

struct OneMutex(Arc<Mutex<SalesView>>, Arc<dyn Catalog>);

impl Read for Mutex<SalesView> {
    fn read(&self, query: &dyn Fn(&SalesView) -> u64) -> u64 {
        query(&self.lock().unwrap())
    }
}

impl Model for OneMutex {
    fn write(&mut self, events: &[Recorded]) {
        let mut view = self.0.lock().unwrap();
        for e in events {
            view.apply(e, &*self.1);
        }
    }
    fn reader(&self) -> Arc<dyn Read> {
        self.0.clone()
    }
}

fn swap(catalog: Arc<dyn Catalog>) -> Swap {
    let model = Arc::new(ReadModel::new());
    Swap {
        projector: Projector::new(Arc::new(EventStore::new()), catalog, model),
    }
}

fn arc_swapped(catalog: Arc<dyn Catalog>) -> ArcSwapped {
    ArcSwapped(Arc::new(ArcSwap::from_pointee(SalesView::new())), catalog)
}

fn one_mutex(catalog: Arc<dyn Catalog>) -> OneMutex {
    OneMutex(Arc::new(Mutex::new(SalesView::new())), catalog)
}

/// A model warmed up with 2,048 events, so its view has its steady size.
fn warmed<M: Model>(mut model: M) -> M {
    for b in 0..128 {
        model.write(&batch(b * BATCH));
    }
    model
}

/// A writer applying a batch, then sleeping 200 µs, until dropped.
struct Writer {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Writer {
    fn start<M: Model>(mut model: M) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let handle = {
            let stop = stop.clone();
            thread::spawn(move || {
                let mut after = 128 * BATCH;
                while !stop.load(Ordering::Relaxed) {
                    model.write(&batch(after));
                    after += BATCH;
                    thread::sleep(Duration::from_micros(200));
                }
            })
        };
        Writer {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A lookup: units of one product and of one category (two map lookups, ~40 ns).
fn lookup(k: usize) -> impl Fn(&SalesView) -> u64 {
    let sku = ["sku-03", "sku-11", "sku-17", "sku-22"][k % 4];
    move |view| view.open_units_of(sku) + view.open_units_in("cat-5")
}

/// A scan: the open units in one category, added up line by line over every open order
/// (about 64 orders of 8 lines: roughly a microsecond), the kind of query a dashboard
/// asks of a view that has no total for it.
fn scan(k: usize) -> impl Fn(&SalesView) -> u64 {
    let category = ["cat-1", "cat-3", "cat-5", "cat-0"][k % 4];
    move |view| {
        view.open_orders
            .values()
            .flat_map(|o| &o.lines)
            .filter(|l| l.category == category)
            .map(|l| u64::from(l.qty))
            .sum()
    }
}

fn read_while_writing<M: Model, Q: Fn(&SalesView) -> u64>(
    bencher: Bencher,
    model: M,
    reads: usize,
    query: fn(usize) -> Q,
) {
    let model = warmed(model);
    let reader = model.reader();
    let _writer = Writer::start(model);
    bencher.bench(|| {
        for k in 0..reads {
            black_box(reader.read(&query(black_box(k))));
        }
    });
}

/// 200,000 lookups per reader thread, while a writer applies batches of 16 events.
mod reads_lookup {
    use super::*;

    #[divan::bench(threads = [1, 2, 4], sample_count = 30, sample_size = 1)]
    fn swap_rwlock(bencher: Bencher) {
        read_while_writing(bencher, swap(Arc::new(Rule)), 200_000, lookup);
    }

    #[divan::bench(threads = [1, 2, 4], sample_count = 30, sample_size = 1)]
    fn swap_arc_swap(bencher: Bencher) {
        read_while_writing(bencher, arc_swapped(Arc::new(Rule)), 200_000, lookup);
    }

    #[divan::bench(threads = [1, 2, 4], sample_count = 30, sample_size = 1)]
    fn one_mutex(bencher: Bencher) {
        read_while_writing(bencher, super::one_mutex(Arc::new(Rule)), 200_000, lookup);
    }
}

/// 5,000 scans per reader thread, while a writer applies batches of 16 events.
mod reads_scan {
    use super::*;

    #[divan::bench(threads = [1, 2, 4], sample_count = 30, sample_size = 1)]
    fn swap_rwlock(bencher: Bencher) {
        read_while_writing(bencher, swap(Arc::new(Rule)), 5_000, scan);
    }

    #[divan::bench(threads = [1, 2, 4], sample_count = 30, sample_size = 1)]
    fn swap_arc_swap(bencher: Bencher) {
        read_while_writing(bencher, arc_swapped(Arc::new(Rule)), 5_000, scan);
    }

    #[divan::bench(threads = [1, 2, 4], sample_count = 30, sample_size = 1)]
    fn one_mutex(bencher: Bencher) {
        read_while_writing(bencher, super::one_mutex(Arc::new(Rule)), 5_000, scan);
    }
}

/// 200,000 lookups per reader thread, while the writer's catalog takes 100 µs for one
/// product in every batch.
mod reads_lookup_slow_catalog {
    use super::*;

    #[divan::bench(threads = [1, 2, 4], sample_count = 30, sample_size = 1)]
    fn swap_rwlock(bencher: Bencher) {
        read_while_writing(bencher, swap(Arc::new(SlowOnce)), 200_000, lookup);
    }

    #[divan::bench(threads = [1, 2, 4], sample_count = 30, sample_size = 1)]
    fn swap_arc_swap(bencher: Bencher) {
        read_while_writing(bencher, arc_swapped(Arc::new(SlowOnce)), 200_000, lookup);
    }

    #[divan::bench(threads = [1, 2, 4], sample_count = 30, sample_size = 1)]
    fn one_mutex(bencher: Bencher) {
        read_while_writing(
            bencher,
            super::one_mutex(Arc::new(SlowOnce)),
            200_000,
            lookup,
        );
    }
}

/// One batch of 16 events applied and published, no readers: what the copy costs.
mod write {
    use super::*;

    fn bench_writes<M: Model>(bencher: Bencher, model: M) {
        let mut model = warmed(model);
        let next = std::cell::Cell::new(128 * BATCH);
        bencher
            .with_inputs(|| {
                let after = next.get();
                next.set(after + BATCH);
                batch(after)
            })
            .bench_local_refs(|events| model.write(events));
    }

    #[divan::bench(sample_count = 40)]
    fn swap_rwlock(bencher: Bencher) {
        bench_writes(bencher, swap(Arc::new(Rule)));
    }

    #[divan::bench(sample_count = 40)]
    fn swap_arc_swap(bencher: Bencher) {
        bench_writes(bencher, arc_swapped(Arc::new(Rule)));
    }

    #[divan::bench(sample_count = 40)]
    fn one_mutex(bencher: Bencher) {
        bench_writes(bencher, super::one_mutex(Arc::new(Rule)));
    }
}
