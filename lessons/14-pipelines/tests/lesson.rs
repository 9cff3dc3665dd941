//! Lesson 14's tests, in the order of the chapter's exercises.
//!
//! Every stage function here counts its calls (`Calls`): how many started, and how many
//! run at this moment. Those counts are what the tests measure — items in flight, workers
//! at work, work done after an error — so they hold for any correct solution, whatever
//! channels and tasks it uses inside.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use kit::{HighWater, settle};
use lesson_14::{Pipeline, Stage, StageError, Tasks};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::mpsc;
use tokio::time::sleep;

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// What the tests know about one stage's function: calls started, and calls running now.
#[derive(Default)]
struct Calls {
    started: AtomicUsize,
    running: HighWater,
}

impl Calls {
    fn new() -> Arc<Calls> {
        Arc::new(Calls::default())
    }

    fn started(&self) -> usize {
        self.started.load(SeqCst)
    }
}

/// A stage whose function, for item `x`, waits `work(x).0` of virtual time and then
/// returns `work(x).1`, counting its calls in `calls`.
fn stage<F>(
    name: &str,
    workers: usize,
    buffer: usize,
    calls: &Arc<Calls>,
    work: F,
) -> Stage<u64, u64>
where
    F: Fn(u64) -> (Duration, Result<u64, String>) + Send + Sync + 'static,
{
    let calls = Arc::clone(calls);
    Stage::new(name, workers, buffer, move |x| {
        calls.started.fetch_add(1, SeqCst);
        let (delay, result) = work(x);
        let calls = Arc::clone(&calls);
        async move {
            let _running = calls.running.enter();
            sleep(delay).await;
            result
        }
    })
}

/// Receive until the channel ends.
async fn drain<T>(mut output: mpsc::Receiver<T>) -> Vec<T> {
    let mut items = Vec::new();
    while let Some(item) = output.recv().await {
        items.push(item);
    }
    items
}

/// Send `items`, then drop the sender: the input closes.
async fn feed(input: mpsc::Sender<u64>, items: impl IntoIterator<Item = u64>) {
    for item in items {
        input
            .send(item)
            .await
            .expect("the input was closed while the test was still sending: the stage dropped its input early");
    }
}

/// Send as many items as the input accepts, for a while, with nobody reading the output.
/// Returns how many were accepted.
async fn fill(input: &mpsc::Sender<u64>, rounds: usize) -> u64 {
    let mut sent = 0;
    for _ in 0..rounds {
        while sent < 1000 && input.try_send(sent).is_ok() {
            sent += 1;
        }
        sleep(ms(50)).await;
    }
    sent
}

const OUTPUT_NEVER_ENDS: &str = "the output never ends: some `Sender` of a channel is still alive after \
     the workers are done — kept by `spawn` or `start` after cloning it (a field, a variable that \
     lives on, a clone moved into a task that never ends) — so `recv` never returns `None`";

// ---------------------------------------------------------------------------------------
// 14.1 A stage

#[test]
fn ex14_1_every_item_comes_out_once_and_the_output_ends() {
    exercise("14.1")
        .hangs_if(OUTPUT_NEVER_ENDS)
        .hangs_if("a worker does not return when the input's `recv` gives `None`")
        .run_async(|| async {
            let calls = Calls::new();
            let square = stage("square", 3, 4, &calls, |x| (ms(x % 7 * 10), Ok(x * x)));
            let mut tasks = Tasks::new();
            let (input, rx) = mpsc::channel(8);
            let output = square.spawn(rx, &mut tasks);
            let ((), mut got) = tokio::join!(feed(input, 1..=20), drain(output));
            got.sort_unstable();
            let want: Vec<u64> = (1..=20).map(|x| x * x).collect();
            assert_eq!(
                got, want,
                "every item should come out once, squared (sorted here: a stage may reorder)"
            );
            assert_eq!(calls.started(), 20, "the function should run once per item");
        });
}

#[test]
fn ex14_1_workers_run_at_once() {
    exercise("14.1")
        .hangs_if(OUTPUT_NEVER_ENDS)
        .run_async(|| async {
            let calls = Calls::new();
            let slow = stage("slow", 3, 2, &calls, |x| (ms(100), Ok(x)));
            let mut tasks = Tasks::new();
            let (input, rx) = mpsc::channel(4);
            let output = slow.spawn(rx, &mut tasks);
            let ((), got) = tokio::join!(feed(input, 0..12), drain(output));
            assert_eq!(got.len(), 12, "every item should come out");
            assert_eq!(
                calls.running.max(),
                3,
                "a stage of 3 workers should work on 3 items at once, no more and no fewer \
                 (fewer: is the input's lock held while the function runs? \
                 `let mut rx = input.lock().await;` lives until the end of its block)"
            );
        });
}

#[test]
fn ex14_1_in_flight_is_bounded_by_workers_and_buffer() {
    exercise("14.1")
        .hangs_if(OUTPUT_NEVER_ENDS)
        .run_async(|| async {
            let calls = Calls::new();
            let (workers, buffer) = (2, 3);
            let quick = stage("quick", workers, buffer, &calls, |x| (ms(10), Ok(x)));
            let mut tasks = Tasks::new();
            let (input, rx) = mpsc::channel(1);
            let output = quick.spawn(rx, &mut tasks);
            // Nobody reads the output for a while.
            let sent = fill(&input, 20).await;
            assert!(
                calls.started() <= workers + buffer,
                "with nobody reading its output, the stage's function started on {} items; at \
                 most workers + buffer = {} may be between its input and its output. Is the \
                 output channel unbounded, or larger than `buffer`?",
                calls.started(),
                workers + buffer
            );
            // The input holds one item; everything else the test sent, the stage took.
            let taken = sent.saturating_sub(1);
            assert!(
                taken as usize <= workers + buffer,
                "with nobody reading its output, the stage took {taken} items from its input \
                 ({sent} sent, at most 1 still in the input's 1-slot buffer); at most \
                 workers + buffer = {} may be between its input and its output. An item \
                 parked anywhere else — a dispatcher's hand, a per-worker queue — counts too.",
                workers + buffer
            );
            drop(input);
            let got = drain(output).await;
            assert_eq!(
                got.len() as u64,
                sent,
                "once the output is read, every item accepted should come out"
            );
        });
}

#[test]
fn ex14_1_a_failing_function_ends_its_worker_with_the_error() {
    exercise("14.1")
        .hangs_if(OUTPUT_NEVER_ENDS)
        .run_async(|| async {
            let calls = Calls::new();
            let parse = stage("parse", 2, 2, &calls, |x| {
                let result = if x == 3 {
                    Err(format!("bad item {x}"))
                } else {
                    Ok(x)
                };
                (ms(10), result)
            });
            let mut tasks = Tasks::new();
            let (input, rx) = mpsc::channel(8);
            let output = parse.spawn(rx, &mut tasks);
            let ((), got) = tokio::join!(feed(input, 1..=6), drain(output));
            assert!(
                !got.contains(&3),
                "the failed item must not come out as a value"
            );
            let mut errors = Vec::new();
            while let Some(joined) = tasks.join_next().await {
                if let Err(error) = joined.expect("a worker task panicked") {
                    errors.push(error);
                }
            }
            assert_eq!(
                errors,
                vec![StageError {
                    stage: "parse".into(),
                    message: "bad item 3".into()
                }],
                "the worker whose function failed should end with that error (from `Stage::call`, \
                 which adds the stage's name); every other task should end with Ok(())"
            );
        });
}

// ---------------------------------------------------------------------------------------
// 14.2 Composing stages

fn square_then_double(
    square_calls: &Arc<Calls>,
    double_calls: &Arc<Calls>,
    delay: u64,
) -> Pipeline<u64, u64> {
    Pipeline::new()
        .then(stage("square", 3, 4, square_calls, move |x| {
            (ms(x % 5 * delay), Ok(x * x))
        }))
        .then(stage("double", 2, 4, double_calls, move |x| {
            (ms(x % 3 * delay), Ok(x * 2))
        }))
}

#[test]
fn ex14_2_square_then_double() {
    exercise("14.2")
        .hangs_if(OUTPUT_NEVER_ENDS)
        .run_async(|| async {
            let (squares, doubles) = (Calls::new(), Calls::new());
            let (input, mut running) = square_then_double(&squares, &doubles, 10).start(4);
            let feeding = feed(input, 1..=10);
            let collecting = async {
                let mut got = Vec::new();
                while let Some(item) = running.output.recv().await {
                    got.push(item);
                }
                got
            };
            let ((), mut got) = tokio::join!(feeding, collecting);
            got.sort_unstable();
            let want: Vec<u64> = (1..=10).map(|x| 2 * x * x).collect();
            assert_eq!(
                got, want,
                "square then double: each x should come out as 2·x² (sorted here). \
                 x² + ... or 4·x² means the stages are not wired in order"
            );
            assert_eq!((squares.started(), doubles.started()), (10, 10));
        });
}

#[test]
fn ex14_2_closing_the_input_drains_every_stage() {
    exercise("14.2")
        .hangs_if(OUTPUT_NEVER_ENDS)
        .run_async(|| async {
            let (squares, doubles) = (Calls::new(), Calls::new());
            let (input, mut running) = square_then_double(&squares, &doubles, 200).start(16);
            for x in 1..=12 {
                input.send(x).await.expect("the input should be open");
            }
            // Closed at once, with every item still waiting or in work.
            drop(input);
            let mut got = 0;
            while let Some(_item) = running.output.recv().await {
                got += 1;
            }
            assert_eq!(
                got, 12,
                "closing the input should let every stage finish what it holds: 12 items in, 12 out. \
                 (Fewer out? Dropping a JoinSet aborts its tasks: keep it in Running until \
                 the run ends)"
            );
        });
}

#[test]
fn ex14_2_in_flight_is_bounded_by_workers_and_buffers() {
    exercise("14.2")
        .hangs_if(OUTPUT_NEVER_ENDS)
        .run_async(|| async {
            let (a, b) = (Calls::new(), Calls::new());
            let pipeline = Pipeline::new()
                .then(stage("a", 2, 1, &a, |x| (ms(10), Ok(x))))
                .then(stage("b", 3, 2, &b, |x| (ms(10), Ok(x))));
            let input_buffer = 2;
            let bound = input_buffer + (2 + 1) + (3 + 2);
            let (input, running) = pipeline.start(input_buffer);
            // Nobody reads the output.
            let sent = fill(&input, 20).await;
            assert!(
                sent as usize <= bound,
                "with nobody reading the output, the pipeline accepted {sent} items; input buffer \
                 + each stage's workers + buffer = {bound} is the most it may hold"
            );
            drop(input);
            let got = drain(running.output).await;
            assert_eq!(
                got.len() as u64,
                sent,
                "every accepted item should come out"
            );
        });
}

// ---------------------------------------------------------------------------------------
// 14.3 An ordered fan-in

#[test]
fn ex14_3_output_keeps_input_order() {
    exercise("14.3")
        .hangs_if(OUTPUT_NEVER_ENDS)
        .hangs_if(
            "the reorder buffer waits for an item that never comes: are sequence numbers given \
             in the order items leave the input, starting at the number the fan-in expects first?",
        )
        .run_async(|| async {
            for seed in [14, 15, 16] {
                let calls = Calls::new();
                let mut rng = StdRng::seed_from_u64(seed);
                let delays: Vec<u64> = (0..50).map(|_| rng.random_range(0..100)).collect();
                let delays = Arc::new(delays);
                let jittery = stage("jittery", 4, 2, &calls, move |x| {
                    (ms(delays[x as usize]), Ok(x * 10))
                });
                let mut tasks = Tasks::new();
                let (input, rx) = mpsc::channel(2);
                let output = jittery.spawn_ordered(rx, 6, &mut tasks);
                let ((), got) = tokio::join!(feed(input, 0..50), drain(output));
                let want: Vec<u64> = (0..50).map(|x| x * 10).collect();
                if got != want {
                    let at = got.iter().zip(&want).position(|(g, w)| g != w);
                    panic!(
                        "seed {seed}: the output should keep the input's order.\n  \
                         expected: {want:?}\n  got:      {got:?}\n  first difference at \
                         position {at:?} (items that finish early must wait for earlier ones)"
                    );
                }
            }
        });
}

#[test]
fn ex14_3_a_slow_first_item_blocks_intake() {
    exercise("14.3")
        .hangs_if(OUTPUT_NEVER_ENDS)
        .hangs_if(
            "the reorder buffer refuses finished results once it is full, while the missing item \
             waits to be accepted by it: a deadlock. Bound the intake (take an item only when \
             there is room for its result) instead of refusing results",
        )
        .run_async(|| async {
            let calls = Calls::new();
            let (workers, buffer, window) = (3, 2, 5);
            // Item 0 takes 10 s; every other item 1 ms.
            let head_slow = stage("head-slow", workers, buffer, &calls, |x| {
                (if x == 0 { ms(10_000) } else { ms(1) }, Ok(x))
            });
            let mut tasks = Tasks::new();
            let (input, rx) = mpsc::channel(1);
            let mut output = head_slow.spawn_ordered(rx, window, &mut tasks);
            let delivered = AtomicUsize::new(0);
            let most_ahead = AtomicUsize::new(0);
            let watch = || {
                let ahead = calls.started() - delivered.load(SeqCst);
                most_ahead.fetch_max(ahead, SeqCst);
            };
            let accepted = AtomicUsize::new(0);
            let feeding = async {
                for x in 0..100 {
                    input
                        .send(x)
                        .await
                        .expect("the input was closed while the test was still sending");
                    accepted.fetch_add(1, SeqCst);
                }
                drop(input);
            };
            // Halfway through item 0's 10 s: nothing can be delivered yet.
            let accepted_while_slow = async {
                sleep(ms(5_000)).await;
                accepted.load(SeqCst)
            };
            let watching = async {
                for _ in 0..200 {
                    watch();
                    sleep(ms(100)).await;
                }
            };
            let collecting = async {
                let mut got = Vec::new();
                while let Some(item) = output.recv().await {
                    watch();
                    delivered.fetch_add(1, SeqCst);
                    got.push(item);
                }
                got
            };
            let ((), early, (), got) =
                tokio::join!(feeding, accepted_while_slow, watching, collecting);
            assert_eq!(
                got,
                (0..100).collect::<Vec<u64>>(),
                "every item should come out, in input order"
            );
            assert!(
                early <= window + 1,
                "5 s into item 0's 10 s (nothing could be delivered yet), the input had accepted \
                 {early} items: the stage took {} (one more sits in the input's 1-slot buffer); \
                 with window = {window}, at most {window} may be taken in before item 0 is \
                 delivered. Is the permit taken *before* an item is received, and are there \
                 exactly `window` permits?",
                early - 1
            );
            let most = most_ahead.load(SeqCst);
            assert!(
                most <= window + buffer,
                "while item 0 was slow, {most} items were taken in and not yet delivered; at most \
                 window + buffer = {} may be. The reorder buffer grows without limit behind a slow \
                 item: take a new item only while fewer than `window` are between intake and \
                 output",
                window + buffer
            );
        });
}

#[test]
fn ex14_3_uses_every_worker() {
    exercise("14.3")
        .hangs_if(OUTPUT_NEVER_ENDS)
        .run_async(|| async {
            let calls = Calls::new();
            let even = stage("even", 4, 2, &calls, |x| (ms(100), Ok(x)));
            let mut tasks = Tasks::new();
            let (input, rx) = mpsc::channel(4);
            let output = even.spawn_ordered(rx, 8, &mut tasks);
            let ((), got) = tokio::join!(feed(input, 0..16), drain(output));
            assert_eq!(got, (0..16).collect::<Vec<u64>>(), "in input order");
            assert_eq!(
                calls.running.max(),
                4,
                "4 workers and a window of 8: 4 items should be worked on at once, no more and \
                 no fewer (fewer: is a lock held while the function runs, or is the window \
                 counted from intake to the end of the *work* instead of to the output?)"
            );
        });
}

// ---------------------------------------------------------------------------------------
// 14.4 The first error stops everything

fn failing_pipeline(
    squares: &Arc<Calls>,
    checks: &Arc<Calls>,
    doubles: &Arc<Calls>,
) -> Pipeline<u64, u64> {
    Pipeline::new()
        .then(stage("square", 2, 2, squares, |x| (ms(10), Ok(x * x))))
        .then(stage("check", 2, 2, checks, |x| {
            // 25 = 5² fails soon; 81 = 9² would fail much later.
            match x {
                25 => (ms(10), Err("cannot check 25".to_string())),
                81 => (ms(5_000), Err("cannot check 81".to_string())),
                _ => (ms(10), Ok(x)),
            }
        }))
        .then(stage("double", 1, 1, doubles, |x| (ms(1_000), Ok(x * 2))))
}

const ERROR_IGNORED: &str = "`finish` waits for the output to end before it looks at the tasks (Go's \
     `for r := range out` then `g.Wait()`): the failed stage's other workers go on taking items \
     while the input is open, so the output never ends";

const NOT_STOPPED: &str = "on the first error, the other tasks are awaited instead of aborted \
     (`join_next` until empty, without `abort_all` or a cancellation they obey)";

#[test]
fn ex14_4_a_clean_run_returns_every_item() {
    exercise("14.4")
        .hangs_if(OUTPUT_NEVER_ENDS)
        .hangs_if(
            "finish waits for the stage tasks before it reads the output: the last stage's \
             workers wait for room in an output buffer that nobody reads, so they never end. \
             Read the output while you watch the tasks (select! on both)",
        )
        .run_async(|| async {
            let (squares, doubles) = (Calls::new(), Calls::new());
            let (input, running) = square_then_double(&squares, &doubles, 10).start(4);
            let ((), result) = tokio::join!(feed(input, 1..=10), running.finish());
            let mut got = result.expect("no stage failed: finish should return Ok");
            got.sort_unstable();
            let want: Vec<u64> = (1..=10).map(|x| 2 * x * x).collect();
            assert_eq!(got, want, "finish should return every output item");
        });
}

#[test]
fn ex14_4_the_first_error_is_returned() {
    exercise("14.4")
        .hangs_if(OUTPUT_NEVER_ENDS)
        .hangs_if(NOT_STOPPED)
        .run_async(|| async {
            let (squares, checks, doubles) = (Calls::new(), Calls::new(), Calls::new());
            let (input, running) = failing_pipeline(&squares, &checks, &doubles).start(2);
            let ((), result) = tokio::join!(feed_until_closed(input, 1..=12), running.finish());
            assert_eq!(
                result,
                Err(StageError {
                    stage: "check".into(),
                    message: "cannot check 25".into()
                }),
                "stage check fails on item 5 first (and on 9 later): finish should return that \
                 first error, not Ok and not a later one"
            );
        });
}

/// Like `feed`, but a closed input just ends the feeding: a pipeline that stopped on an
/// error may close its input.
async fn feed_until_closed(input: mpsc::Sender<u64>, items: impl IntoIterator<Item = u64>) {
    for item in items {
        if input.send(item).await.is_err() {
            return;
        }
    }
}

/// Runs the failing pipeline with an input that stays open, and returns what `finish` did.
async fn fail_while_open(
    squares: &Arc<Calls>,
    checks: &Arc<Calls>,
    doubles: &Arc<Calls>,
) -> (mpsc::Sender<u64>, Result<Vec<u64>, StageError>) {
    let (input, running) = failing_pipeline(squares, checks, doubles).start(2);
    let source = async {
        // Items 1 to 8 only: 9 (81 in stage check) would fail the other worker of check
        // too, and with no worker left that stage's output would end by itself.
        for x in 1..=8 {
            if input.send(x).await.is_err() {
                break;
            }
        }
        // The source stays open: only the error can end this run.
        std::future::pending::<()>().await;
    };
    let result = tokio::select! {
        result = running.finish() => result,
        () = source => unreachable!(),
    };
    (input, result)
}

#[test]
fn ex14_4_an_error_ends_a_pipeline_whose_input_is_still_open() {
    exercise("14.4")
        .hangs_if(ERROR_IGNORED)
        .hangs_if(NOT_STOPPED)
        .run_async(|| async {
            let (squares, checks, doubles) = (Calls::new(), Calls::new(), Calls::new());
            let (_input, result) = fail_while_open(&squares, &checks, &doubles).await;
            assert_eq!(
                result.as_ref().map_err(|e| e.message.as_str()),
                Err("cannot check 25"),
                "the run should end with the first error"
            );
        });
}

#[test]
fn ex14_4_no_stage_task_outlives_the_error() {
    exercise("14.4")
        .hangs_if(ERROR_IGNORED)
        .hangs_if(NOT_STOPPED)
        .run_async(|| async {
            let (squares, checks, doubles) = (Calls::new(), Calls::new(), Calls::new());
            let (input, result) = fail_while_open(&squares, &checks, &doubles).await;
            assert!(result.is_err(), "the run should end with the first error");
            settle().await;
            let started = (squares.started(), checks.started(), doubles.started());
            let alive = tokio::runtime::Handle::current()
                .metrics()
                .num_alive_tasks();
            assert_eq!(
                alive, 0,
                "{alive} task(s) of the pipeline still run after `finish` returned its error: \
                 every stage must be stopped (abort the JoinSet — `shutdown`, `abort_all`, or \
                 drop it — or cancel a token every worker obeys) before `finish` returns"
            );
            assert!(
                input.is_closed(),
                "the first stage still holds the pipeline's input after the error: its workers \
                 were not stopped"
            );
            sleep(Duration::from_secs(60)).await;
            assert_eq!(
                (squares.started(), checks.started(), doubles.started()),
                started,
                "stages went on calling their functions after `finish` returned"
            );
            assert_eq!(
                (
                    squares.running.now(),
                    checks.running.now(),
                    doubles.running.now()
                ),
                (0, 0, 0),
                "a stage function was still running after `finish` returned"
            );
        });
}

#[test]
fn ex14_4_a_panicking_stage_ends_the_run_too() {
    exercise("14.4")
        .hangs_if(
            "a task that panicked is not treated as an error: `join_next` gives \
             `Some(Err(JoinError))` for it, and the run must end on it like on a `StageError`",
        )
        .hangs_if(ERROR_IGNORED)
        .run_async(|| async {
            let fragile = Stage::new("fragile", 2, 2, |x: u64| async move {
                sleep(ms(10)).await;
                if x == 3 {
                    kit::planned_panic!("fragile exploded on item 3 (a planned panic)");
                }
                Ok(x)
            });
            let doubles = Calls::new();
            let pipeline =
                Pipeline::new()
                    .then(fragile)
                    .then(stage("double", 1, 1, &doubles, |x| (ms(10), Ok(x * 2))));
            let (input, running) = pipeline.start(2);
            let source = async {
                for x in 1..=6 {
                    if input.send(x).await.is_err() {
                        break;
                    }
                }
                std::future::pending::<()>().await;
            };
            let result = tokio::select! {
                result = running.finish() => result,
                () = source => unreachable!(),
            };
            assert!(
                result.is_err(),
                "a stage task panicked: finish should return an error, got {result:?}"
            );
            settle().await;
            let alive = tokio::runtime::Handle::current()
                .metrics()
                .num_alive_tasks();
            assert_eq!(
                alive, 0,
                "{alive} task(s) of the pipeline still run after `finish` returned"
            );
        });
}

// ---------------------------------------------------------------------------------------
// The lesson program

kit::program_tests!("--seed", "x");
