//! What your checks are graded against: for each exercise, the implementations its check
//! runs on, each either correct or with one planted bug, described. Not an exercise. The
//! program prints the whole table; the lesson's tests run one row each.

use std::sync::Arc;

use crate::bank::{Bank, LockOrderBank, OneLockAtATimeBank, OneLockBank, OrderedBank};
use crate::blocking::{
    BlockingQueue, LostWakeupQueue, OneCondvarQueue, OneConsumerQueue, OneProducerQueue,
    TwoCondvarQueue,
};
use crate::checks;
use crate::counter::{AtomicCounter, Counter, LoadStoreCounter, MutexCounter};
use crate::pool::{DetachedPool, JoiningPool, LeakyPool, Neighbourly, PillPool, Pool, Tracker};
use crate::queue::{DequeQueue, LifoQueue, OffByOneQueue, RingQueue, WrongRefusalQueue};

/// A bug planted in an implementation.
#[derive(Clone, Copy, Debug)]
pub struct Bug {
    /// In a few words, for the program's table.
    pub short: &'static str,
    /// What goes wrong, for a test that finds the check missed it.
    pub what: &'static str,
    /// What kind of check finds it.
    pub found_by: &'static str,
}

/// One implementation a check runs on.
#[derive(Clone, Copy, Debug)]
pub struct Subject {
    /// Its type's name.
    pub name: &'static str,
    /// What it is, in a few words.
    pub about: &'static str,
    /// `None` if it is correct.
    pub bug: Option<Bug>,
    check: fn() -> Result<(), String>,
}

impl Subject {
    /// Run the exercise's check (yours, or the reference with `--features solution`) on it.
    pub fn check(&self) -> Result<(), String> {
        (self.check)()
    }
}

/// One exercise: its check and what it runs on, the correct implementations first.
#[derive(Clone, Debug)]
pub struct Exercise {
    /// 1 to 5, for 12.1 to 12.5.
    pub number: u8,
    /// "12.3 stress test".
    pub title: &'static str,
    /// What the structure is called in messages: "blocking queue".
    pub kind: &'static str,
    pub subjects: Vec<Subject>,
}

impl Exercise {
    /// The first implementation with a planted bug.
    pub fn first_bug(&self) -> Subject {
        *self
            .subjects
            .iter()
            .find(|s| s.bug.is_some())
            .expect("every exercise plants a bug")
    }
}

const fn correct(
    name: &'static str,
    about: &'static str,
    check: fn() -> Result<(), String>,
) -> Subject {
    Subject {
        name,
        about,
        bug: None,
        check,
    }
}

const fn planted(
    name: &'static str,
    about: &'static str,
    bug: Bug,
    check: fn() -> Result<(), String>,
) -> Subject {
    Subject {
        name,
        about,
        bug: Some(bug),
        check,
    }
}

fn atomic() -> Arc<dyn Counter> {
    AtomicCounter::shared()
}
fn mutex() -> Arc<dyn Counter> {
    MutexCounter::shared()
}
fn load_store() -> Arc<dyn Counter> {
    LoadStoreCounter::shared()
}

fn two_condvars(capacity: usize) -> Arc<dyn BlockingQueue> {
    TwoCondvarQueue::shared(capacity)
}
fn one_condvar(capacity: usize) -> Arc<dyn BlockingQueue> {
    OneCondvarQueue::shared(capacity)
}
fn lost_wakeup(capacity: usize) -> Arc<dyn BlockingQueue> {
    LostWakeupQueue::shared(capacity)
}
fn one_producer(capacity: usize) -> Arc<dyn BlockingQueue> {
    OneProducerQueue::shared(capacity)
}
fn one_consumer(capacity: usize) -> Arc<dyn BlockingQueue> {
    OneConsumerQueue::shared(capacity)
}

fn ordered(balances: &[u64]) -> Arc<dyn Bank> {
    OrderedBank::shared(balances)
}
fn one_lock(balances: &[u64]) -> Arc<dyn Bank> {
    OneLockBank::shared(balances)
}
fn lock_order(balances: &[u64]) -> Arc<dyn Bank> {
    LockOrderBank::shared(balances)
}
fn one_lock_at_a_time(balances: &[u64]) -> Arc<dyn Bank> {
    OneLockAtATimeBank::shared(balances)
}

/// The correct pools are graded with other threads of the process starting while the
/// check runs (see [`Neighbourly`]).
fn joining(workers: usize, tracker: &Tracker) -> Box<dyn Pool> {
    Neighbourly::boxed(JoiningPool::boxed(workers, tracker))
}
fn pill(workers: usize, tracker: &Tracker) -> Box<dyn Pool> {
    Neighbourly::boxed(PillPool::boxed(workers, tracker))
}
fn leaky(workers: usize, tracker: &Tracker) -> Box<dyn Pool> {
    LeakyPool::boxed(workers, tracker)
}
fn detached(workers: usize, tracker: &Tracker) -> Box<dyn Pool> {
    DetachedPool::boxed(workers, tracker)
}

/// The five exercises, in the chapter's order.
pub fn exercises() -> Vec<Exercise> {
    vec![
        Exercise {
            number: 1,
            title: "12.1 loom model",
            kind: "counter",
            subjects: vec![
                correct("AtomicCounter", "one fetch_add per increment", || {
                    checks::check_counter(atomic)
                }),
                correct("MutexCounter", "the count behind a loom Mutex", || {
                    checks::check_counter(mutex)
                }),
                planted(
                    "LoadStoreCounter",
                    "load, then store the count plus one",
                    Bug {
                        short: "lost update",
                        what: "each increment loads the count, then stores it plus one; two \
                               threads that both load 0 both store 1",
                        found_by: "two threads that each increment once, inside loom::model, \
                                   then an assertion that the count is 2 (without the assertion \
                                   loom explores every interleaving and checks none; with one \
                                   thread there is nothing to interleave)",
                    },
                    || checks::check_counter(load_store),
                ),
            ],
        },
        Exercise {
            number: 2,
            title: "12.2 property",
            kind: "queue",
            subjects: vec![
                correct("DequeQueue", "a VecDeque behind a lock", || {
                    checks::check_queue(DequeQueue::boxed)
                }),
                correct(
                    "RingQueue",
                    "a ring buffer of exactly `capacity` slots",
                    || checks::check_queue(RingQueue::boxed),
                ),
                planted(
                    "OffByOneQueue",
                    "refuses a push only beyond capacity + 1",
                    Bug {
                        short: "holds capacity + 1",
                        what: "it accepts capacity + 1 items",
                        found_by: "scenarios that fill the queue and push once more: small \
                                   capacities (1 to 4, say) and more pushes than that, with each \
                                   try_push's answer compared with the model's",
                    },
                    || checks::check_queue(OffByOneQueue::boxed),
                ),
                planted(
                    "LifoQueue",
                    "pops from the back",
                    Bug {
                        short: "pops the newest",
                        what: "try_pop returns the newest item instead of the oldest; lengths \
                               and capacity are right",
                        found_by: "comparing what try_pop returns with what the model's \
                                   pop_front returns, not only lengths, and pushing distinct \
                                   values (a counter), so that order is visible",
                    },
                    || checks::check_queue(LifoQueue::boxed),
                ),
                planted(
                    "WrongRefusalQueue",
                    "refuses with the front item",
                    Bug {
                        short: "hands back wrong item",
                        what: "a refused try_push returns Err(the oldest item) instead of \
                               Err(the item refused); what it accepts, refuses and pops is right",
                        found_by: "comparing try_push's whole Result with the model's — \
                                   Err(item) for the item pushed — not only is_ok()",
                    },
                    || checks::check_queue(WrongRefusalQueue::boxed),
                ),
            ],
        },
        Exercise {
            number: 3,
            title: "12.3 stress test",
            kind: "blocking queue",
            subjects: vec![
                correct(
                    "TwoCondvarQueue",
                    "not_empty and not_full, each waited on in a loop",
                    || checks::check_blocking_queue(two_condvars),
                ),
                correct("OneCondvarQueue", "one Condvar, notify_all", || {
                    checks::check_blocking_queue(one_condvar)
                }),
                planted(
                    "LostWakeupQueue",
                    "looks, unlocks, then waits",
                    Bug {
                        short: "lost wake-up",
                        what: "a waiter checks the queue, releases the lock, and only then \
                               waits, without checking again: a notify in between is lost and \
                               everyone ends up waiting",
                        found_by: "several producers and consumers through a small queue \
                                   (capacity 2), started together; a timeout on the wait for \
                                   their results",
                    },
                    || checks::check_blocking_queue(lost_wakeup),
                ),
                planted(
                    "OneProducerQueue",
                    "push reads the tail, unlocks, writes it",
                    Bug {
                        short: "two pushes collide",
                        what: "it is right for one producer only: two pushes at once write the \
                               same slot, an item is lost, and the consumers wait for it",
                        found_by: "two or more producers pushing at the same time; a timeout on \
                                   the wait for the items",
                    },
                    || checks::check_blocking_queue(one_producer),
                ),
                planted(
                    "OneConsumerQueue",
                    "pop reads the head, unlocks, writes it",
                    Bug {
                        short: "two pops collide",
                        what: "it is right for one consumer only: two pops at once return the \
                               same item, and another item is never popped — the number of \
                               items popped is right, and nothing hangs",
                        found_by: "two or more consumers popping at the same time, and a check \
                                   that every item pushed (distinct items) was popped exactly \
                                   once, not only that as many arrived",
                    },
                    || checks::check_blocking_queue(one_consumer),
                ),
            ],
        },
        Exercise {
            number: 4,
            title: "12.4 deadlock check",
            kind: "bank",
            subjects: vec![
                correct("OrderedBank", "locks taken lowest account first", || {
                    checks::check_bank(ordered)
                }),
                correct("OneLockBank", "one lock for every account", || {
                    checks::check_bank(one_lock)
                }),
                planted(
                    "LockOrderBank",
                    "locks `from`, then `to`",
                    Bug {
                        short: "lock-order deadlock",
                        what: "a transfer 0→1 holds account 0 and waits for 1 while a transfer \
                               1→0 holds 1 and waits for 0",
                        found_by: "two threads started together, one transferring 0→1 many \
                                   times, the other 1→0; a timeout on the wait for both",
                    },
                    || checks::check_bank(lock_order),
                ),
                planted(
                    "OneLockAtATimeBank",
                    "never holds two locks",
                    Bug {
                        short: "money appears",
                        what: "it cannot deadlock, but a transfer reads the target's balance, \
                               debits the source, then writes the target: a transfer the other \
                               way in between has its debit overwritten",
                        found_by: "once both threads have finished, the balances: each \
                                   direction moved the same amount, so every account must hold \
                                   what it started with",
                    },
                    || checks::check_bank(one_lock_at_a_time),
                ),
            ],
        },
        Exercise {
            number: 5,
            title: "12.5 leak check",
            kind: "pool",
            subjects: vec![
                correct(
                    "JoiningPool",
                    "closes its channel and joins every worker; other threads of the process \
                     start while your check runs, as other tests' threads do",
                    || checks::check_pool(joining),
                ),
                correct(
                    "PillPool",
                    "sends each worker a stop message and joins them; other threads of the \
                     process start while your check runs",
                    || checks::check_pool(pill),
                ),
                planted(
                    "LeakyPool",
                    "workers hold their own sender",
                    Bug {
                        short: "workers never stop",
                        what: "each worker holds a sender of its own channel, so recv never \
                               fails and the workers wait forever after the pool is gone",
                        found_by: "drop the pool, then, at once, tracker.alive() must be 0",
                    },
                    || checks::check_pool(leaky),
                ),
                planted(
                    "DetachedPool",
                    "Drop does not join",
                    Bug {
                        short: "workers not joined",
                        what: "Drop tells the workers to stop but returns without waiting: \
                               they are still running (for about 100 ms) when the pool is gone",
                        found_by: "look at tracker.alive() right after drop returns, with no \
                                   sleep first: a sleep gives the workers time to finish, and \
                                   the check passes a pool that leaks",
                    },
                    || checks::check_pool(detached),
                ),
            ],
        },
    ]
}

/// The implementation called `name`.
pub fn subject(name: &str) -> Subject {
    exercises()
        .into_iter()
        .flat_map(|e| e.subjects)
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("the lesson has no implementation called {name}"))
}

/// The exercise whose check runs on `name`.
pub fn exercise_of(name: &str) -> Exercise {
    exercises()
        .into_iter()
        .find(|e| e.subjects.iter().any(|s| s.name == name))
        .unwrap_or_else(|| panic!("the lesson has no implementation called {name}"))
}
