//! Lesson 12's tests, in the order of the chapter's exercises. They grade your checks.
//!
//! Each exercise has two kinds of test. One runs your check against the correct
//! implementations: it must say `Ok`. The others run it against one implementation with a
//! planted bug each: it must say `Err`. A check that always says `Err` fails the first
//! kind; one that always says `Ok` fails the second. Your check's own words are shown in
//! either case, but never judged: any wording is fine.

use std::sync::Arc;

use lesson_12::bank::{Bank, LockOrderBank, OneLockBank, OrderedBank};
use lesson_12::blocking::{BlockingQueue, LostWakeupQueue, OneCondvarQueue, TwoCondvarQueue};
use lesson_12::checks;
use lesson_12::counter::{AtomicCounter, Counter, LoadStoreCounter, MutexCounter};
use lesson_12::pool::{DetachedPool, JoiningPool, LeakyPool, PillPool, Pool, Tracker};
use lesson_12::queue::{DequeQueue, LifoQueue, OffByOneQueue, RingQueue};

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

/// Your check said `Err` about a correct implementation. Was it one of a kind — or does
/// it say that about everything? `buggy` runs it on a planted bug to tell which.
#[track_caller]
fn must_pass(
    kind: &str,
    what: &str,
    outcome: Result<(), String>,
    buggy: impl FnOnce() -> Result<(), String>,
) {
    let Err(said) = outcome else { return };
    if buggy().is_err() {
        panic!(
            "your check says every {kind} is wrong, including the correct one, {what}: a check \
             that fails everything cannot tell right from wrong, so it finds nothing. (If it \
             passes sometimes, it is flaky: it depends on timing or on other threads of the \
             process, e.g. counting the process's threads, not on the code under test.)\n\
             Your check said about {what}: {said}"
        );
    }
    panic!(
        "your check failed {what}, which is correct (it passes the planted bug, too, so it \
         is looking at the wrong thing).\nYour check said: {said}"
    );
}

/// Your check said `Ok` about an implementation with a planted bug.
#[track_caller]
fn must_catch(what: &str, bug: &str, how: &str, outcome: Result<(), String>) {
    if outcome.is_ok() {
        panic!("your check passed {what}: it found nothing.\nThe bug: {bug}\nWhat finds it: {how}");
    }
}

// ---------------------------------------------------------------------------------------
// 12.1 a loom model

fn atomic() -> Arc<dyn Counter> {
    AtomicCounter::shared()
}
fn mutex() -> Arc<dyn Counter> {
    MutexCounter::shared()
}
fn load_store() -> Arc<dyn Counter> {
    LoadStoreCounter::shared()
}

#[test]
fn ex12_1_passes_the_correct_counters() {
    exercise("12.1").run(|| {
        must_pass(
            "counter",
            "AtomicCounter (one fetch_add per increment)",
            checks::check_counter(atomic),
            || checks::check_counter(load_store),
        );
        must_pass(
            "counter",
            "MutexCounter (the count behind a loom Mutex)",
            checks::check_counter(mutex),
            || checks::check_counter(load_store),
        );
    });
}

#[test]
fn ex12_1_catches_the_load_store_counter() {
    exercise("12.1").run(|| {
        must_catch(
            "the load+store counter",
            "each increment loads the count, then stores it plus one; two threads that both \
             load 0 both store 1",
            "two threads that each increment once, inside loom::model, then an assertion that \
             the count is 2 (without the assertion loom explores every interleaving and checks \
             none; with one thread there is nothing to interleave)",
            checks::check_counter(load_store),
        );
    });
}

// ---------------------------------------------------------------------------------------
// 12.2 a property against a sequential model

#[test]
fn ex12_2_passes_the_correct_queues() {
    exercise("12.2").run(|| {
        must_pass(
            "queue",
            "DequeQueue (a VecDeque behind a lock)",
            checks::check_queue(DequeQueue::boxed),
            || checks::check_queue(OffByOneQueue::boxed),
        );
        must_pass(
            "queue",
            "RingQueue (a ring buffer of exactly `capacity` slots)",
            checks::check_queue(RingQueue::boxed),
            || checks::check_queue(OffByOneQueue::boxed),
        );
    });
}

#[test]
fn ex12_2_catches_the_off_by_one_queue() {
    exercise("12.2").run(|| {
        must_catch(
            "the off-by-one queue",
            "it accepts capacity + 1 items",
            "scenarios that fill the queue and push once more: small capacities (1 to 4, say) \
             and more pushes than that, with each try_push's answer compared with the model's",
            checks::check_queue(OffByOneQueue::boxed),
        );
    });
}

#[test]
fn ex12_2_catches_the_lifo_queue() {
    exercise("12.2").run(|| {
        must_catch(
            "the last-in-first-out queue",
            "try_pop returns the newest item instead of the oldest; lengths and capacity are right",
            "comparing what try_pop returns with what the model's pop_front returns, not only \
             lengths, and pushing distinct values (a counter), so that order is visible",
            checks::check_queue(LifoQueue::boxed),
        );
    });
}

// ---------------------------------------------------------------------------------------
// 12.3 a stress test

const NO_TIMEOUT: &str = "your check did not return within the grading test's 5 s budget \
                          (for all its cases). Most likely it waits with no limit — JoinHandle::join, \
                          Receiver::recv, a Barrier waited on after the work, the implicit join \
                          at the end of thread::scope, or a loop that waits for a count — for \
                          threads that never finish; or its recv_timeout patience is longer \
                          than the budget. Wait with recv_timeout (e.g. 500 ms, well under 5 s) \
                          and return Err when time is up; spawn with thread::spawn (not scope) \
                          and leave the stuck threads behind";

fn two_condvars(capacity: usize) -> Arc<dyn BlockingQueue> {
    TwoCondvarQueue::shared(capacity)
}
fn one_condvar(capacity: usize) -> Arc<dyn BlockingQueue> {
    OneCondvarQueue::shared(capacity)
}
fn lost_wakeup(capacity: usize) -> Arc<dyn BlockingQueue> {
    LostWakeupQueue::shared(capacity)
}

#[test]
fn ex12_3_passes_the_correct_blocking_queues() {
    exercise("12.3")
        .hangs_if("your check waits on something that never comes even with a correct queue: more pops than pushes, or a Barrier sized for more threads than wait on it")
        .run(|| {
            must_pass(
                "blocking queue",
                "TwoCondvarQueue (not_empty and not_full, each waited on in a loop)",
                checks::check_blocking_queue(two_condvars),
                || checks::check_blocking_queue(lost_wakeup),
            );
            must_pass(
                "blocking queue",
                "OneCondvarQueue (one Condvar, notify_all)",
                checks::check_blocking_queue(one_condvar),
                || checks::check_blocking_queue(lost_wakeup),
            );
        });
}

#[test]
fn ex12_3_catches_the_lost_wakeup() {
    exercise("12.3").hangs_if(NO_TIMEOUT).run(|| {
        must_catch(
            "the queue that loses wake-ups",
            "a waiter checks the queue, releases the lock, and only then waits, without \
             checking again: a notify in between is lost and everyone ends up waiting",
            "several producers and consumers through a small queue (capacity 2), started \
             together; a timeout on the wait for their results",
            checks::check_blocking_queue(lost_wakeup),
        );
    });
}

// ---------------------------------------------------------------------------------------
// 12.4 a deadlock caught by a timeout

fn ordered(balances: &[u64]) -> Arc<dyn Bank> {
    OrderedBank::shared(balances)
}
fn one_lock(balances: &[u64]) -> Arc<dyn Bank> {
    OneLockBank::shared(balances)
}
fn lock_order(balances: &[u64]) -> Arc<dyn Bank> {
    LockOrderBank::shared(balances)
}

#[test]
fn ex12_4_passes_the_correct_banks() {
    exercise("12.4")
        .hangs_if("your check waits on something that never comes even with a correct bank: a Barrier sized for more threads than wait on it, a channel whose senders are still alive")
        .run(|| {
            must_pass(
                "bank",
                "OrderedBank (locks taken lowest account first)",
                checks::check_bank(ordered),
                || checks::check_bank(lock_order),
            );
            must_pass(
                "bank",
                "OneLockBank (one lock for every account)",
                checks::check_bank(one_lock),
                || checks::check_bank(lock_order),
            );
        });
}

#[test]
fn ex12_4_catches_the_lock_order_deadlock() {
    exercise("12.4").hangs_if(NO_TIMEOUT).run(|| {
        must_catch(
            "the bank that locks `from` then `to`",
            "a transfer 0→1 holds account 0 and waits for 1 while a transfer 1→0 holds 1 and \
             waits for 0",
            "two threads started together, one transferring 0→1 many times, the other 1→0; \
             a timeout on the wait for both",
            checks::check_bank(lock_order),
        );
    });
}

// ---------------------------------------------------------------------------------------
// 12.5 a leak check

fn joining(workers: usize, tracker: &Tracker) -> Box<dyn Pool> {
    JoiningPool::boxed(workers, tracker)
}
fn pill(workers: usize, tracker: &Tracker) -> Box<dyn Pool> {
    PillPool::boxed(workers, tracker)
}
fn leaky(workers: usize, tracker: &Tracker) -> Box<dyn Pool> {
    LeakyPool::boxed(workers, tracker)
}
fn detached(workers: usize, tracker: &Tracker) -> Box<dyn Pool> {
    DetachedPool::boxed(workers, tracker)
}

#[test]
fn ex12_5_passes_the_joining_pools() {
    exercise("12.5").run(|| {
        must_pass(
            "pool",
            "JoiningPool (closes its channel and joins every worker)",
            checks::check_pool(joining),
            || checks::check_pool(leaky),
        );
        must_pass(
            "pool",
            "PillPool (sends each worker a stop message and joins them)",
            checks::check_pool(pill),
            || checks::check_pool(leaky),
        );
    });
}

#[test]
fn ex12_5_catches_the_leaky_pool() {
    exercise("12.5").run(|| {
        must_catch(
            "the pool whose workers never stop",
            "each worker holds a sender of its own channel, so recv never fails and the \
             workers wait forever after the pool is gone",
            "drop the pool, then, at once, tracker.alive() must be 0",
            checks::check_pool(leaky),
        );
    });
}

#[test]
fn ex12_5_catches_the_detached_pool() {
    exercise("12.5").run(|| {
        must_catch(
            "the pool that does not join its workers",
            "Drop tells the workers to stop but returns without waiting: they are still \
             running (for about 100 ms) when the pool is gone",
            "look at tracker.alive() right after drop returns, with no sleep first: a sleep \
             gives the workers time to finish, and the check passes a pool that leaks",
            checks::check_pool(detached),
        );
    });
}

kit::program_tests!("--check", "6");
