//! Lesson 07's tests, in the order of the chapter's exercises.
//!
//! Two kinds. The stress tests here run with plain `cargo test -p lesson-07`: many threads
//! released together by a barrier, and every item accounted for afterwards (see
//! `src/stress.rs`). They catch what a race makes likely: lost increments, two winners,
//! lost or duplicated items, a slot handed out twice. What only a rare interleaving or a
//! weaker processor shows — a Relaxed store that publishes data — is for the loom models
//! in `mod model` below, which run under `cargo workbook loom 07` and try every
//! interleaving that matters.

#![cfg_attr(loom, allow(dead_code, unused_imports))]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use lesson_07::aba::{Changed, FreeList, Seen};
use lesson_07::atomics::{Counter, Slot};
use lesson_07::queue::Queue;
use lesson_07::stack::Stack;
use lesson_07::stress::{self, Account};

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

/// A value that counts its drops, to catch a value dropped twice or never.
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// A value that records its own drops in `drops[id]`: a value dropped twice (a pop that
/// copied it out and then lost the race) shows as a 2, without corrupting memory the way
/// a `String` dropped twice does.
struct Counted<'a> {
    id: u64,
    drops: &'a [AtomicUsize],
}

impl Drop for Counted<'_> {
    fn drop(&mut self) {
        self.drops[self.id as usize].fetch_add(1, Ordering::Relaxed);
    }
}

/// "n values dropped twice or more, m never", if any value was not dropped exactly once.
fn wrong_drops(drops: &[AtomicUsize]) -> Option<String> {
    let counts: Vec<usize> = drops.iter().map(|d| d.load(Ordering::Relaxed)).collect();
    let twice = counts.iter().filter(|&&c| c > 1).count();
    let never = counts.iter().filter(|&&c| c == 0).count();
    (twice + never > 0).then(|| {
        format!(
            "of {} values, {twice} were dropped more than once and {never} never",
            counts.len()
        )
    })
}

fn clean(run: &Account) -> Account {
    Account {
        pushed: run.pushed,
        popped: run.pushed,
        ..Account::default()
    }
}

/// Round numbers for a stress test: at least 3, then more until half a second has
/// passed, up to `max`. A race shows only when its threads run at the same moment, and on
/// a busy machine that takes more rounds; on an idle one the first rounds usually do.
/// (The time only decides how many chances a wrong answer gets; nothing asserts it.)
fn rounds(max: usize) -> impl Iterator<Item = usize> {
    let started = std::time::Instant::now();
    (0..max).take_while(move |&round| {
        round < 3 || started.elapsed() < std::time::Duration::from_millis(500)
    })
}

const SPINS_FOREVER: &str = "a loop that retries forever: does every retry read the shared pointer again, rather than reuse the value it read before the loop?";

// ---------------------------------------------------------------------------------------
// 07.1 Counter

#[cfg(not(loom))]
#[test]
fn ex07_1_counts_and_takes_on_one_thread() {
    exercise("07.1").run(|| {
        let counter = Counter::new();
        assert_eq!(counter.get(), 0, "a new counter");
        for _ in 0..3 {
            counter.increment();
        }
        assert_eq!(counter.get(), 3, "after three increments");
        assert_eq!(counter.take(), 3, "take() returns the count");
        assert_eq!(counter.get(), 0, "and leaves zero behind");
        assert_eq!(counter.take(), 0, "take() of an empty counter");
    });
}

#[cfg(not(loom))]
#[test]
fn ex07_1_no_increment_is_lost_while_another_thread_takes() {
    exercise("07.1").run(|| {
        for round in rounds(40) {
            let counter = Counter::new();
            let (made, counted) = stress::counter_run(&counter, 4, 50_000);
            assert_eq!(
                counted, made,
                "round {round}: 4 threads made {made} increments while a 5th kept calling take(); the takes and the final get() add up to {counted}. \
                 An increment that reads, adds and writes in separate steps, or a take() that reads and then stores 0, loses the increments that land in between"
            );
        }
    });
}

// ---------------------------------------------------------------------------------------
// 07.2 Slot

#[cfg(not(loom))]
#[test]
fn ex07_2_the_first_publish_wins_and_later_ones_get_their_value_back() {
    exercise("07.2").run(|| {
        let slot = Slot::new();
        assert_eq!(slot.get(), None, "an empty slot");
        assert_eq!(
            slot.publish(String::from("first")),
            Ok(()),
            "the first publish"
        );
        assert_eq!(
            slot.get().map(String::as_str),
            Some("first"),
            "after publishing"
        );
        assert_eq!(
            slot.publish(String::from("second")),
            Err(String::from("second")),
            "a second publish must give its value back"
        );
        assert_eq!(
            slot.get().map(String::as_str),
            Some("first"),
            "the first value stays"
        );
    });
}

#[cfg(not(loom))]
#[test]
fn ex07_2_the_published_value_is_dropped_once() {
    exercise("07.2").run(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let slot = Slot::new();
        assert!(
            slot.publish(Tracked(drops.clone())).is_ok(),
            "the first publish"
        );
        let refused = slot.publish(Tracked(drops.clone()));
        assert!(refused.is_err(), "the second publish must be refused");
        drop(refused);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the refused value, given back and dropped by the caller"
        );
        drop(slot);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            2,
            "dropping the slot drops the published value, once"
        );
        let empty: Slot<Tracked> = Slot::new();
        drop(empty);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            2,
            "an empty slot has nothing to drop"
        );
    });
}

#[cfg(not(loom))]
#[test]
fn ex07_2_racing_publishers_make_exactly_one_winner() {
    exercise("07.2")
        .hangs_if("a reader waits for a value that is never published: does publish() mark the slot ready after writing?")
        .run(|| {
            let rounds = 200;
            for batch in self::rounds(5) {
                let run = stress::slot_run(4, rounds);
                assert_eq!(
                    run.wrong_winners, 0,
                    "batch {batch}: in {} of {rounds} rounds, 4 threads publishing into one new slot did not get exactly one Ok. \
                     Checking that the slot is empty and then marking it taken, in two steps, lets two publishers both see it empty",
                    run.wrong_winners
                );
                assert_eq!(
                    run.torn, 0,
                    "batch {batch}: {} of {} reads after a race to publish saw something other than the winner's whole value \
                     (half of it, or memory nobody had written yet). get() must return Some only once the value is written in full: \
                     claim the slot, write the value, and only then mark it ready",
                    run.torn,
                    4 * rounds
                );
            }
        });
}

// ---------------------------------------------------------------------------------------
// 07.3 Treiber stack

#[cfg(not(loom))]
#[test]
fn ex07_3_is_last_in_first_out() {
    exercise("07.3").run(|| {
        let stack = Stack::new();
        assert!(stack.is_empty(), "a new stack");
        assert_eq!(stack.pop(), None, "pop on an empty stack");
        for i in 1..=3 {
            stack.push(i);
        }
        assert!(!stack.is_empty(), "after three pushes");
        let popped: Vec<_> = std::iter::from_fn(|| stack.pop()).take(4).collect();
        assert_eq!(popped, [3, 2, 1], "push 1, 2, 3 then pop until None");
        stack.push(4);
        assert_eq!(stack.pop(), Some(4), "a push after emptying");
    });
}

#[cfg(not(loom))]
#[test]
fn ex07_3_every_value_is_dropped_once() {
    exercise("07.3").run(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let stack = Stack::new();
        for _ in 0..3 {
            stack.push(Tracked(drops.clone()));
        }
        let popped = stack.pop().expect("a pop from a stack of three");
        assert_eq!(
            drops.load(Ordering::SeqCst),
            0,
            "pop moves the value out: nothing is dropped yet"
        );
        drop(popped);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the popped value, dropped by its new owner"
        );
        drop(stack);
        // Reclamation may free the popped node later, but its value is not in it any more.
        assert_eq!(
            drops.load(Ordering::SeqCst),
            3,
            "dropping the stack drops the two values still in it, once each"
        );
    });
}

#[cfg(not(loom))]
#[test]
fn ex07_3_many_threads_push_and_pop_and_lose_nothing() {
    exercise("07.3").hangs_if(SPINS_FOREVER).run(|| {
        for round in rounds(20) {
            let stack = Stack::new();
            let run = stress::run(2, 2, 20_000, |x| stack.push(x), || stack.pop());
            let run = Account { out_of_order: 0, ..run }; // a stack is not FIFO
            assert_eq!(
                run,
                clean(&run),
                "round {round}: 2 threads pushed, 2 popped at once. Every item must come out exactly once: \
                 a compare-exchange whose failure is not retried loses a push or a pop; a node freed while another thread may still read it corrupts the stack"
            );
        }
    });
}

#[cfg(not(loom))]
#[test]
fn ex07_3_threads_that_push_then_pop_never_find_it_empty() {
    exercise("07.3").hangs_if(SPINS_FOREVER).run(|| {
        for round in rounds(20) {
            let stack = Stack::new();
            let run = stress::pairs(4, 20_000, |x| stack.push(x), || stack.pop());
            let run = Account { out_of_order: 0, ..run };
            assert_eq!(
                run,
                clean(&run),
                "round {round}: 4 threads each pushed an item and then popped one, 20000 times. A pop always followed the same thread's push, \
                 so no pop may find the stack empty (false_empties), and every item must come out once. \
                 A pop that gives up when its compare-exchange fails reports an empty stack; a node freed at once comes back from the allocator as the next push's node while another thread still holds its old address"
            );
        }
    });
}

#[cfg(not(loom))]
#[test]
fn ex07_3_values_that_race_are_dropped_once() {
    exercise("07.3").hangs_if(SPINS_FOREVER).run(|| {
        for round in rounds(20) {
            let (threads, items) = (4, 20_000);
            let drops: Vec<AtomicUsize> = (0..threads * items).map(|_| AtomicUsize::new(0)).collect();
            let stack = Stack::new();
            let run = stress::pairs(
                threads,
                items,
                |x| stack.push(Counted { id: x, drops: &drops }),
                || stack.pop().map(|value| value.id),
            );
            drop(stack);
            let run = Account { out_of_order: 0, ..run };
            assert_eq!(run, clean(&run), "round {round}: 4 threads each pushed a value and then popped one, 20000 times; every value must come out once");
            if let Some(wrong) = wrong_drops(&drops) {
                panic!(
                    "round {round}: 4 threads pushed and popped values that count their drops: {wrong}. \
                     A pop that moves the value out of the node before its compare-exchange succeeds holds a copy when the exchange fails, \
                     and drops it, while the thread that does unlink the node drops the value again (for a String, a double free). \
                     Move the value out only after your exchange has unlinked the node"
                );
            }
        }
    });
}

// ---------------------------------------------------------------------------------------
// 07.4 Michael–Scott queue

#[cfg(not(loom))]
#[test]
fn ex07_4_is_first_in_first_out() {
    exercise("07.4").run(|| {
        let queue = Queue::new();
        assert!(queue.is_empty(), "a new queue");
        assert_eq!(queue.pop(), None, "pop on an empty queue");
        for i in 1..=3 {
            queue.push(i);
        }
        assert!(!queue.is_empty(), "after three pushes");
        let popped: Vec<_> = std::iter::from_fn(|| queue.pop()).take(4).collect();
        assert_eq!(popped, [1, 2, 3], "push 1, 2, 3 then pop until None");
        queue.push(4);
        queue.push(5);
        assert_eq!(queue.pop(), Some(4), "pushes after emptying");
        assert_eq!(queue.pop(), Some(5), "pushes after emptying");
    });
}

#[cfg(not(loom))]
#[test]
fn ex07_4_every_value_is_dropped_once() {
    exercise("07.4").run(|| {
        let drops = Arc::new(AtomicUsize::new(0));
        let queue = Queue::new();
        for _ in 0..3 {
            queue.push(Tracked(drops.clone()));
        }
        let popped = queue.pop().expect("a pop from a queue of three");
        assert_eq!(
            drops.load(Ordering::SeqCst),
            0,
            "pop moves the value out: nothing is dropped yet"
        );
        drop(popped);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the popped value, dropped by its new owner"
        );
        drop(queue);
        assert_eq!(
            drops.load(Ordering::SeqCst),
            3,
            "dropping the queue drops the two values still in it, once each"
        );
    });
}

#[cfg(not(loom))]
#[test]
fn ex07_4_many_threads_keep_each_producers_order() {
    exercise("07.4").hangs_if(SPINS_FOREVER).run(|| {
        for round in rounds(20) {
            let queue = Queue::new();
            let run = stress::run(2, 2, 20_000, |x| queue.push(x), || queue.pop());
            assert_eq!(
                run,
                clean(&run),
                "round {round}: 2 threads pushed, 2 popped at once. Every item must come out exactly once, \
                 and a consumer must get each producer's items in the order they were pushed"
            );
        }
    });
}

#[cfg(not(loom))]
#[test]
fn ex07_4_threads_that_push_then_pop_never_find_it_empty() {
    exercise("07.4").hangs_if(SPINS_FOREVER).run(|| {
        for round in rounds(20) {
            let queue = Queue::new();
            let run = stress::pairs(4, 20_000, |x| queue.push(x), || queue.pop());
            assert_eq!(
                run,
                clean(&run),
                "round {round}: 4 threads each pushed an item and then popped one, 20000 times. A pop always followed the same thread's push, \
                 so no pop may find the queue empty (false_empties); every item must come out once, each producer's in order. \
                 A pop that gives up when its compare-exchange fails reports an empty queue; a sentinel freed at once comes back from the allocator as the next push's node"
            );
        }
    });
}

#[cfg(not(loom))]
#[test]
fn ex07_4_values_that_race_are_dropped_once() {
    exercise("07.4").hangs_if(SPINS_FOREVER).run(|| {
        for round in rounds(20) {
            let (threads, items) = (4, 20_000);
            let drops: Vec<AtomicUsize> = (0..threads * items).map(|_| AtomicUsize::new(0)).collect();
            let queue = Queue::new();
            let run = stress::pairs(
                threads,
                items,
                |x| queue.push(Counted { id: x, drops: &drops }),
                || queue.pop().map(|value| value.id),
            );
            drop(queue);
            assert_eq!(run, clean(&run), "round {round}: 4 threads each pushed a value and then popped one, 20000 times; every value must come out once, each producer's in order");
            if let Some(wrong) = wrong_drops(&drops) {
                panic!(
                    "round {round}: 4 threads pushed and popped values that count their drops: {wrong}. \
                     A pop that reads the value out of the first node before its compare-exchange on the head succeeds holds a copy when the exchange fails, \
                     and drops it, while the thread that does move the head drops the value again (for a String, a double free). \
                     Read the value only after your exchange has moved the head"
                );
            }
        }
    });
}

#[cfg(not(loom))]
#[test]
fn ex07_4_a_stalled_push_blocks_no_one() {
    exercise("07.4")
        .hangs_if("a push that waits for a stalled pusher to move the tail waits for ever: when the tail's node already has a next, move the tail on yourself (help), then try again")
        .run(|| {
            // A pusher linked 1 and was paused for ever before moving the tail.
            let queue = Queue::new();
            queue.push_stalled(1);
            assert!(!queue.is_empty(), "after a push that linked its node but did not move the tail, the value is in the queue");
            // A push now must not wait for the stalled one: it would wait for ever.
            queue.push(2);
            queue.push_stalled(3);
            assert_eq!(queue.pop(), Some(1), "the stalled push's value comes out first: it was linked first");
            assert_eq!(queue.pop(), Some(2), "then the push that came after it");
            assert!(
                queue.tail_is_in_the_queue(),
                "after a stalled push of 3 and two pops, the tail points at a node before the head, which a pop retired: \
                 a pop that finds the tail on the sentinel it is about to unlink must move the tail on first, or the next push dereferences freed memory"
            );
            assert_eq!(queue.pop(), Some(3), "the second stalled push's value comes out last");
            assert!(
                queue.tail_is_in_the_queue(),
                "after popping the last value while the tail lagged behind it, the tail points at a node before the head, which a pop retired: \
                 a pop that finds the tail on the sentinel it is about to unlink must move the tail on first, or the next push dereferences freed memory"
            );
            assert_eq!(queue.pop(), None, "everything was popped");
            queue.push(4);
            assert_eq!(queue.pop(), Some(4), "a push and a pop after all that");
        });
}

// ---------------------------------------------------------------------------------------
// 07.5 ABA

#[cfg(not(loom))]
#[test]
fn ex07_5_hands_out_each_slot_and_takes_it_back() {
    exercise("07.5").run(|| {
        let list = FreeList::new(3);
        let taken: Vec<_> = std::iter::from_fn(|| list.pop()).take(4).collect();
        assert_eq!(taken, [0, 1, 2], "a new list of 3 slots, popped until None");
        list.push(1);
        list.push(2);
        assert_eq!(
            list.pop(),
            Some(2),
            "the last slot given back comes out first"
        );
        assert_eq!(list.pop(), Some(1), "then the one before");
        assert_eq!(list.pop(), None, "then nothing");
        let empty = FreeList::new(0);
        assert_eq!(empty.peek(), None, "peek on a list of no slots");
    });
}

#[cfg(not(loom))]
#[test]
fn ex07_5_a_pop_that_saw_the_list_before_an_aba_change_fails() {
    exercise("07.5").run(|| {
        let list = FreeList::new(3);
        let untouched = list.peek().expect("peek at a full list");
        assert_eq!(untouched.next, 1, "peek at slots 0, 1, 2: the slot under the top");
        assert_eq!(list.try_pop(untouched), Ok(0), "try_pop right after peek, with nothing in between");
        list.push(0);

        // Thread A begins a pop: it sees slot 0 on top, slot 1 under it.
        let seen: Seen = list.peek().expect("peek at a full list");
        // Thread B, meanwhile, takes 0 and 1 and gives 0 back. The top is slot 0 again (A),
        // but with slot 2 under it, and slot 1 is B's.
        assert_eq!(list.pop(), Some(0), "B's first pop");
        assert_eq!(list.pop(), Some(1), "B's second pop");
        list.push(0);
        // A resumes. Its compare-exchange must see that the list changed, although the
        // top slot is the same: otherwise it makes slot 1, which B holds, the new top.
        assert_eq!(
            list.try_pop(seen),
            Err(Changed),
            "A's try_pop after B popped 0 and 1 and pushed 0 back: the top is slot 0 again, but the list changed. \
             A head that holds only the slot number cannot tell: keep a tag beside it that every change increments"
        );
        let rest: Vec<_> = std::iter::from_fn(|| list.pop()).take(3).collect();
        assert_eq!(rest, [0, 2], "the list after all that: slot 1 is still B's");
    });
}

#[cfg(not(loom))]
#[test]
fn ex07_5_no_slot_is_handed_out_twice_under_contention() {
    exercise("07.5")
        .hangs_if("a corrupt list whose slots form a loop, or a pop that never finds a slot: is every slot pushed back?")
        .run(|| {
            for round in 0..3 {
                let run = stress::free_list_run(3, 4, 30_000);
                assert_eq!(
                    (run.double_handouts, run.missing_at_end),
                    (0, 0),
                    "round {round}: 4 threads took and gave back 3 slots {} times: (takes of a slot another thread held, slots missing at the end)",
                    run.takes
                );
            }
        });
}

kit::program_tests!("--items", "0");

// ---------------------------------------------------------------------------------------
// The loom models: `cargo workbook loom 07`. Each runs your code inside `loom::model`,
// which repeats the closure once for every interleaving of its atomic operations that
// matters (up to a bound on preemptions), so a bug that needs a rare interleaving shows
// up every time. Keep models small: two or three threads, a few operations.

#[cfg(loom)]
mod model {
    use super::*;
    use loom::sync::Arc;
    use loom::thread;
    use std::time::Duration;

    /// Run `body` as a loom model, for exercise `id`. The first interleaving that breaks
    /// it fails the test, with the body's own message.
    ///
    /// A panic must not escape the model: loom objects, crossbeam-epoch's thread-local
    /// state among them, would then be dropped outside it and abort the tests. So each
    /// run's panic is caught inside the model and the first message kept; the test fails
    /// with it once the model is done.
    fn check(id: &str, body: impl Fn() + Sync + Send + 'static) {
        exercise(id)
            .patience(Duration::from_secs(300))
            .run(move || {
                silence_panics_here(true);
                let mut builder = loom::model::Builder::new();
                builder.preemption_bound = Some(3);
                builder.check(move || {
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(&body));
                });
                silence_panics_here(false);
                if let Some(first) = FIRST_PANIC.with(|f| f.take()) {
                    let meaning = meaning(&first);
                    panic!("{first}{meaning}\n(loom found an interleaving of the threads in this model that breaks it)");
                }
            });
    }

    /// Loom's own panics point into loom's source: say what they mean here.
    fn meaning(message: &str) -> &'static str {
        if message.contains("Causality violation") {
            "\nThat is a data race: your code read memory (a slot's value, a node's field) that another thread wrote, \
             without a Release store and an Acquire load between the write and the read. \
             Find the store that publishes it and the load that receives it"
        } else {
            ""
        }
    }

    thread_local! {
        static SILENCED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
        static FIRST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
    }

    /// While a model runs on this thread, keep the first panic's message instead of
    /// printing every failing interleaving's.
    fn silence_panics_here(on: bool) {
        static INSTALL: std::sync::Once = std::sync::Once::new();
        INSTALL.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                // `try_with`: a panic in a thread-local destructor comes after these are gone.
                if !SILENCED.try_with(|s| s.get()).unwrap_or(false) {
                    return previous(info);
                }
                let _ = FIRST_PANIC.try_with(|first| {
                    let mut first = first.borrow_mut();
                    if first.is_none() {
                        let message = kit::panic_message(info);
                        let at = info
                            .location()
                            .map(|l| format!(" (at {l})"))
                            .unwrap_or_default();
                        // Printed now as well: some failures (a node freed too early) end
                        // the process before the model returns.
                        eprintln!(
                            "loom: the first interleaving that failed: {message}{at}{}",
                            meaning(&message)
                        );
                        *first = Some(format!("{message}{at}"));
                    }
                });
            }));
        });
        SILENCED.with(|s| s.set(on));
        if on {
            FIRST_PANIC.with(|f| f.take());
        }
    }

    #[test]
    fn ex07_1_model_increments_and_a_take_add_up() {
        check("07.1", || {
            let counter = Arc::new(Counter::new());
            let other = counter.clone();
            let adder = thread::spawn(move || {
                other.increment();
                other.increment();
            });
            counter.increment();
            let taken = counter.take();
            adder.join().unwrap();
            assert_eq!(
                taken + counter.get(),
                3,
                "three increments, one take meanwhile"
            );
        });
    }

    #[test]
    fn ex07_2_model_a_reader_sees_the_whole_value() {
        check("07.2", || {
            let slot = Arc::new(Slot::new());
            let writer = slot.clone();
            let publisher = thread::spawn(move || {
                assert_eq!(writer.publish([7u64, 7, 7]), Ok(()), "the only publish");
            });
            // Loom reports a read of the value that does not happen after its write (a
            // flag stored or loaded with Relaxed) as a data race on the cell.
            if let Some(value) = slot.get() {
                assert_eq!(
                    *value,
                    [7, 7, 7],
                    "a published value, read while publishing"
                );
            }
            publisher.join().unwrap();
            assert_eq!(slot.get(), Some(&[7, 7, 7]), "after the publisher is done");
        });
    }

    #[test]
    fn ex07_2_model_one_of_two_publishers_wins() {
        check("07.2", || {
            let slot = Arc::new(Slot::new());
            let other = slot.clone();
            let a = thread::spawn(move || other.publish(1).is_ok());
            let b = slot.publish(2).is_ok();
            let a = a.join().unwrap();
            assert!(
                a != b,
                "exactly one of two racing publishes wins (a: {a}, b: {b})"
            );
            let expected = if a { 1 } else { 2 };
            assert_eq!(slot.get(), Some(&expected), "the winner's value");
        });
    }

    #[test]
    fn ex07_3_model_two_threads_push_and_pop() {
        check("07.3", || {
            let stack = Arc::new(Stack::new());
            let other = stack.clone();
            let t = thread::spawn(move || {
                other.push(1);
                other.pop()
            });
            stack.push(2);
            let mine = stack.pop();
            let theirs = t.join().unwrap();
            assert!(
                mine.is_some() && theirs.is_some(),
                "each thread pushed before it popped, so neither pop may find the stack empty (got {mine:?} and {theirs:?})"
            );
            let mut got: Vec<_> = [mine, theirs].into_iter().flatten().collect();
            while let Some(v) = stack.pop() {
                got.push(v);
            }
            got.sort();
            assert_eq!(
                got,
                [1, 2],
                "two pushes and two pops, then whatever was left"
            );
        });
    }

    #[test]
    fn ex07_4_model_a_popper_sees_the_pushers_order() {
        check("07.4", || {
            let queue = Arc::new(Queue::new());
            let other = queue.clone();
            let pusher = thread::spawn(move || {
                other.push(1);
                other.push(2);
            });
            let first = queue.pop();
            let second = queue.pop();
            pusher.join().unwrap();
            let mut got: Vec<_> = [first, second].into_iter().flatten().collect();
            while let Some(v) = queue.pop() {
                got.push(v);
            }
            assert_eq!(
                got,
                [1, 2],
                "one pusher's items, popped concurrently and then drained"
            );
        });
    }

    #[test]
    fn ex07_4_model_two_threads_push_and_pop() {
        // Two threads, each a pusher and then a popper: the pushes race for the same
        // `next` and the same tail, and the pops for the same head. (A third thread
        // would make the model too large to finish: crossbeam-epoch's own atomics are
        // in it too.)
        check("07.4", || {
            let queue = Arc::new(Queue::new());
            let other = queue.clone();
            let t = thread::spawn(move || {
                other.push(1);
                other.pop()
            });
            queue.push(2);
            let mine = queue.pop();
            let theirs = t.join().unwrap();
            assert!(
                mine.is_some() && theirs.is_some(),
                "each thread pushed before it popped, so neither pop may find the queue empty (got {mine:?} and {theirs:?})"
            );
            let mut got: Vec<_> = [mine, theirs].into_iter().flatten().collect();
            while let Some(v) = queue.pop() {
                got.push(v);
            }
            got.sort();
            assert_eq!(
                got,
                [1, 2],
                "two pushes and two pops, then whatever was left"
            );
        });
    }

    #[test]
    fn ex07_5_model_no_slot_is_held_twice() {
        // Thread B takes two slots and gives the first back; thread A takes one. Every
        // interleaving includes A's pop paused between its peek and its exchange while
        // B runs: the ABA case.
        check("07.5", || {
            let list = Arc::new(FreeList::new(2));
            let other = list.clone();
            let b = thread::spawn(move || {
                let first = other.pop();
                let second = other.pop();
                if let Some(first) = first {
                    other.push(first);
                }
                second
            });
            let a = list.pop();
            let b = b.join().unwrap();
            let mut all: Vec<u32> = [a, b].into_iter().flatten().collect();
            while let Some(s) = list.pop() {
                all.push(s);
                assert!(
                    all.len() <= 2,
                    "more slots came out than the list has: {all:?} (A took {a:?}, B kept {b:?}). \
                     A slot went back on the list while a thread held it, or a pop followed a stale `next`. \
                     If your head carries a tag, look at the orderings: push writes `next[slot]` and then exchanges the head, \
                     so that exchange must be Release and peek's load of the head Acquire, or a pop may read the `next` from before the push"
                );
            }
            all.sort();
            assert_eq!(
                all,
                [0, 1],
                "every slot is held by one thread or in the list, once (A took {a:?}, B kept {b:?})"
            );
        });
    }
}
