//! Exercises 12.1–12.5: checks that find bugs in concurrent code.
//!
//! Each check takes a way to make an implementation (a `fn` the lesson passes in, so the
//! same check runs against every implementation) and answers:
//!
//! - `Ok(())`: I tried, and found nothing wrong;
//! - `Err("found a bug: …")`, `Err("stuck: …")`, `Err("deadlock: …")`: what went wrong,
//!   in words a colleague reading a CI log would understand.
//!
//! A check must never panic and never hang, whatever the implementation does: it is a
//! test, and a test that hangs tells nobody anything. The lesson's tests run your checks
//! against correct implementations (they must pass) and against implementations with a
//! planted bug (they must find it).

use crate::bank::MakeBank;
use crate::blocking::MakeBlockingQueue;
use crate::counter::MakeCounter;
use crate::pool::MakePool;
use crate::queue::MakeQueue;
//@ solution
use std::collections::VecDeque;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

use crate::catch_panic;
use crate::pool::Tracker;
//@ skeleton
// // What the reference uses; uncomment what you need:
// // use std::collections::VecDeque;
// // use std::sync::mpsc::{self, RecvTimeoutError};
// // use std::sync::{Arc, Barrier};
// // use std::thread;
// // use std::time::Duration;
// // use proptest::prelude::*;
// // use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
// // use crate::catch_panic;
// // use crate::pool::Tracker;
//@ end

/// Exercise 12.1: a loom model that finds a lost update.
///
/// In a `loom::model`, make a counter with `new()`, increment it from two threads (a
/// `loom::thread::spawn`ed one and the model's own), join, and assert that it reads 2.
/// loom runs the closure once per interleaving of the counter's atomic operations and
/// panics at the first one that breaks the assertion; catch that panic (with
/// [`crate::catch_panic`]) and return it as `Err("found a bug: …")`.
pub fn check_counter(new: MakeCounter) -> Result<(), String> {
    //@ solution
    let explored = catch_panic(|| {
        loom::model(move || {
            // Made inside the model: loom's types belong to one run of it.
            let counter = new();
            let other = counter.clone();
            let helper = loom::thread::spawn(move || other.increment());
            counter.increment();
            helper.join().expect("the other thread finished");
            // Without this assertion the model explores every interleaving and checks
            // none of them.
            let total = counter.get();
            assert_eq!(
                total, 2,
                "two threads incremented once each, and the counter reads {total}"
            );
        });
    });
    explored.map_err(|why| format!("found a bug: {why}"))
    //@ skeleton
    // let _ = new;
    // todo!("exercise 12.1: check_counter")
    //@ end
}
//@ solution

/// One step of a property's scenario.
#[derive(Clone, Debug)]
enum Op {
    Push(u32),
    Pop,
    Len,
}

/// Capacities from 1 to 4, and up to 40 operations, more pushes than pops: most scenarios
/// fill the queue and push at least once more. A property whose scenarios never fill the
/// queue cannot find a bug in what happens when it is full.
fn scenarios() -> impl Strategy<Value = (usize, Vec<Op>)> {
    let op = prop_oneof![
        3 => any::<u32>().prop_map(Op::Push),
        2 => Just(Op::Pop),
        1 => Just(Op::Len),
    ];
    (1usize..=4, proptest::collection::vec(op, 0..40))
}
//@ end

/// Exercise 12.2: a property against a sequential model.
///
/// Generate scenarios — a capacity and a list of operations — with proptest, run each on a
/// fresh queue from `new(capacity)` and on a model (a `VecDeque` you bound by hand), and
/// require every answer to match. Run the property with a `TestRunner` (seeded, so every
/// run tries the same scenarios) and turn its failure, which carries proptest's shrunk
/// minimal scenario, into `Err("found a bug: …")`.
pub fn check_queue(new: MakeQueue) -> Result<(), String> {
    //@ solution
    let config = Config {
        cases: 256,
        // No `proptest-regressions/` files: a check is run by the lesson, not by hand.
        failure_persistence: None,
        ..Config::default()
    };
    // A fixed seed: the same scenarios on every run, so the lesson's grading never
    // depends on luck. Proptest's usual random seed suits a test suite run every day.
    let rng = TestRng::deterministic_rng(RngAlgorithm::ChaCha);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let outcome = runner.run(&scenarios(), |(capacity, ops)| {
        let queue = new(capacity);
        let mut model = VecDeque::new();
        for (step, op) in ops.into_iter().enumerate() {
            match op {
                Op::Push(item) => {
                    let expected = if model.len() < capacity {
                        model.push_back(item);
                        Ok(())
                    } else {
                        Err(item)
                    };
                    prop_assert_eq!(
                        queue.try_push(item),
                        expected,
                        "step {}: try_push({}) with {} of {} held",
                        step,
                        item,
                        model.len(),
                        capacity
                    );
                }
                Op::Pop => {
                    prop_assert_eq!(
                        queue.try_pop(),
                        model.pop_front(),
                        "step {}: try_pop() must return the oldest item",
                        step
                    );
                }
                Op::Len => {
                    prop_assert_eq!(queue.len(), model.len(), "step {}: len()", step);
                }
            }
        }
        Ok(())
    });
    outcome.map_err(|failure| format!("found a bug: {failure}"))
    //@ skeleton
    // let _ = new;
    // todo!("exercise 12.2: check_queue")
    //@ end
}
//@ solution

/// How long a check waits for the next sign of progress before it calls the threads
/// stuck. Far longer than any step takes on a working structure, even on a busy machine;
/// short enough that a stuck run is reported in well under a second.
const PATIENCE: Duration = Duration::from_millis(500);
//@ end

/// Exercise 12.3: a stress test that ends even when the queue loses a wake-up.
///
/// Make a small queue (`new(2)`), start producers and consumers together behind a
/// `Barrier`, have the producers push distinct items and the consumers report each item
/// they pop on a channel, and check that every item arrives exactly once. Wait for the
/// reports with `recv_timeout`, never `recv` or `join`: if nothing arrives for a while,
/// return `Err("stuck: …")`. The stuck threads are left behind; they end with the
/// process.
pub fn check_blocking_queue(new: MakeBlockingQueue) -> Result<(), String> {
    //@ solution
    const PRODUCERS: usize = 2;
    const CONSUMERS: usize = 2;
    const PER_PRODUCER: usize = 200;
    const ITEMS: usize = PRODUCERS * PER_PRODUCER;

    // Capacity 2: producers find it full and consumers find it empty, over and over, so
    // both kinds of waiting happen hundreds of times.
    let queue = new(2);
    // Everyone starts at once: threads started one by one would mostly run one by one.
    let start = Arc::new(Barrier::new(PRODUCERS + CONSUMERS));
    let (report, reports) = mpsc::channel();
    for p in 0..PRODUCERS {
        let (queue, start) = (queue.clone(), start.clone());
        thread::spawn(move || {
            start.wait();
            for i in 0..PER_PRODUCER {
                queue.push(u32::try_from(p * PER_PRODUCER + i).expect("a small number"));
            }
        });
    }
    for _ in 0..CONSUMERS {
        let (queue, start, report) = (queue.clone(), start.clone(), report.clone());
        thread::spawn(move || {
            start.wait();
            for _ in 0..ITEMS / CONSUMERS {
                if report.send(queue.pop()).is_err() {
                    return; // the check gave up on us
                }
            }
        });
    }
    drop(report);

    let mut seen = vec![0u32; ITEMS];
    for received in 0..ITEMS {
        match reports.recv_timeout(PATIENCE) {
            Ok(item) => match seen.get_mut(item as usize) {
                Some(count) => *count += 1,
                None => return Err(format!("found a bug: popped {item}, which nobody pushed")),
            },
            Err(RecvTimeoutError::Timeout) => {
                return Err(format!(
                    "stuck: {received} of {ITEMS} items popped, then nothing for {PATIENCE:?}: \
                     the producers and consumers are all waiting (a lost wake-up?)"
                ));
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(format!(
                    "found a bug: the consumers stopped after {received} of {ITEMS} items"
                ));
            }
        }
    }
    if let Some((item, &times)) = seen.iter().enumerate().find(|&(_, &n)| n != 1) {
        return Err(format!("found a bug: item {item} was popped {times} times"));
    }
    Ok(())
    //@ skeleton
    // let _ = new;
    // todo!("exercise 12.3: check_blocking_queue")
    //@ end
}

/// Exercise 12.4: a deadlock caught by a timeout.
///
/// Make a bank with two accounts (`new(&[1000, 1000])`), and from two threads, started
/// together, make many small transfers in opposite directions: one from 0 to 1, one from 1
/// to 0. Wait for both with a timeout; if they do not finish, return
/// `Err("deadlock: …")`. If they do, check that no money appeared or vanished.
pub fn check_bank(new: MakeBank) -> Result<(), String> {
    //@ solution
    const TRANSFERS: u64 = 100;
    let bank = new(&[1000, 1000]);
    let start = Arc::new(Barrier::new(2));
    let (finished, finishes) = mpsc::channel();
    for (from, to) in [(0, 1), (1, 0)] {
        let (bank, start, finished) = (bank.clone(), start.clone(), finished.clone());
        thread::spawn(move || {
            start.wait();
            for _ in 0..TRANSFERS {
                bank.transfer(from, to, 1);
            }
            let _ = finished.send(());
        });
    }
    drop(finished);
    for done in 0..2 {
        // Never `join`: a deadlocked thread never returns, and neither would the check.
        if finishes.recv_timeout(PATIENCE).is_err() {
            return Err(format!(
                "deadlock: {done} of 2 threads finished {TRANSFERS} transfers between accounts 0 \
                 and 1 (one each way) within {PATIENCE:?}; the others wait for a lock the \
                 other holds"
            ));
        }
    }
    // Each direction moved 100, so both accounts are back where they started.
    let balances = (bank.balance(0), bank.balance(1));
    if balances != (1000, 1000) {
        return Err(format!(
            "found a bug: after {TRANSFERS} transfers of 1 each way, the balances are {balances:?}, \
             not (1000, 1000)"
        ));
    }
    Ok(())
    //@ skeleton
    // let _ = new;
    // todo!("exercise 12.4: check_bank")
    //@ end
}

/// Exercise 12.5: a leak check without sleeps or thread counts.
///
/// Make a pool with a [`crate::pool::Tracker`] (`new(4, &tracker)`), give it a few jobs and
/// wait until they have run, then drop the pool. The moment `drop` returns, every worker
/// must be gone: if `tracker.alive()` is not 0, return `Err("found a bug: …")`.
pub fn check_pool(new: MakePool) -> Result<(), String> {
    //@ solution
    const WORKERS: usize = 4;
    let tracker = Tracker::new();
    let pool = new(WORKERS, &tracker);
    let (ran, runs) = mpsc::channel();
    for job in 0..2 * WORKERS {
        let ran = ran.clone();
        pool.submit(Box::new(move || {
            let _ = ran.send(job);
        }));
    }
    drop(ran);
    for done in 0..2 * WORKERS {
        if runs.recv_timeout(PATIENCE).is_err() {
            return Err(format!(
                "stuck: {done} of {} jobs ran within {PATIENCE:?}",
                2 * WORKERS
            ));
        }
    }
    drop(pool);
    // No sleep before looking: a pool must have stopped its workers by the time `drop`
    // returns. A sleep here would let a pool that merely *told* its workers to stop pass
    // on a quiet machine and fail on a busy one.
    match tracker.alive() {
        0 => Ok(()),
        alive => Err(format!(
            "found a bug: {alive} of {WORKERS} workers still running after the pool was dropped"
        )),
    }
    //@ skeleton
    // let _ = new;
    // todo!("exercise 12.5: check_pool")
    //@ end
}
