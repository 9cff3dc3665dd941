//! Lesson 12's program: your checks against every implementation the lesson has, as a
//! table.
//!
//! What it prints is the same on every run: each check's verdict (found a bug, or passed)
//! against each implementation, and a count. Your checks' own messages vary with how you
//! word them and, for some, with the schedule; they are printed only with `--why`.

use std::time::Duration;

use clap::Parser;
use lesson_12::bank::{Bank, LockOrderBank, OneLockBank, OrderedBank};
use lesson_12::blocking::{BlockingQueue, LostWakeupQueue, OneCondvarQueue, TwoCondvarQueue};
use lesson_12::checks;
use lesson_12::counter::{AtomicCounter, Counter, LoadStoreCounter, MutexCounter};
use lesson_12::pool::{DetachedPool, JoiningPool, LeakyPool, PillPool, Pool, Tracker};
use lesson_12::queue::{DequeQueue, LifoQueue, OffByOneQueue, RingQueue};
use std::sync::Arc;

/// Lesson 12: your checks, graded against correct and buggy implementations.
#[derive(Parser)]
#[command(name = "lesson-12")]
struct Args {
    /// Run only this exercise's check (1 to 5: 12.1 to 12.5).
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=5))]
    check: Option<u8>,

    /// Also print what each check said (the wording is yours, and may vary between runs).
    #[arg(long)]
    why: bool,
}

/// The implementations one check is run against, made fresh for the run.
type Subjects = fn() -> Vec<Subject>;

/// One implementation a check is run against.
struct Subject {
    name: &'static str,
    /// `None` if it is correct; otherwise its planted bug, in a few words.
    bug: Option<&'static str>,
    run: Box<dyn Fn() -> Result<(), String>>,
}

fn subject(
    name: &'static str,
    bug: Option<&'static str>,
    run: impl Fn() -> Result<(), String> + 'static,
) -> Subject {
    Subject {
        name,
        bug,
        run: Box::new(run),
    }
}

fn counters() -> Vec<Subject> {
    fn atomic() -> Arc<dyn Counter> {
        AtomicCounter::shared()
    }
    fn mutex() -> Arc<dyn Counter> {
        MutexCounter::shared()
    }
    fn load_store() -> Arc<dyn Counter> {
        LoadStoreCounter::shared()
    }
    vec![
        subject("AtomicCounter", None, || checks::check_counter(atomic)),
        subject("MutexCounter", None, || checks::check_counter(mutex)),
        subject("LoadStoreCounter", Some("lost update"), || {
            checks::check_counter(load_store)
        }),
    ]
}

fn queues() -> Vec<Subject> {
    vec![
        subject("DequeQueue", None, || {
            checks::check_queue(DequeQueue::boxed)
        }),
        subject("RingQueue", None, || checks::check_queue(RingQueue::boxed)),
        subject("OffByOneQueue", Some("holds capacity + 1"), || {
            checks::check_queue(OffByOneQueue::boxed)
        }),
        subject("LifoQueue", Some("pops the newest"), || {
            checks::check_queue(LifoQueue::boxed)
        }),
    ]
}

fn blocking_queues() -> Vec<Subject> {
    fn two(capacity: usize) -> Arc<dyn BlockingQueue> {
        TwoCondvarQueue::shared(capacity)
    }
    fn one(capacity: usize) -> Arc<dyn BlockingQueue> {
        OneCondvarQueue::shared(capacity)
    }
    fn lost(capacity: usize) -> Arc<dyn BlockingQueue> {
        LostWakeupQueue::shared(capacity)
    }
    vec![
        subject("TwoCondvarQueue", None, || {
            checks::check_blocking_queue(two)
        }),
        subject("OneCondvarQueue", None, || {
            checks::check_blocking_queue(one)
        }),
        subject("LostWakeupQueue", Some("lost wake-up"), || {
            checks::check_blocking_queue(lost)
        }),
    ]
}

fn banks() -> Vec<Subject> {
    fn ordered(balances: &[u64]) -> Arc<dyn Bank> {
        OrderedBank::shared(balances)
    }
    fn one_lock(balances: &[u64]) -> Arc<dyn Bank> {
        OneLockBank::shared(balances)
    }
    fn lock_order(balances: &[u64]) -> Arc<dyn Bank> {
        LockOrderBank::shared(balances)
    }
    vec![
        subject("OrderedBank", None, || checks::check_bank(ordered)),
        subject("OneLockBank", None, || checks::check_bank(one_lock)),
        subject("LockOrderBank", Some("lock-order deadlock"), || {
            checks::check_bank(lock_order)
        }),
    ]
}

fn pools() -> Vec<Subject> {
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
    vec![
        subject("JoiningPool", None, || checks::check_pool(joining)),
        subject("PillPool", None, || checks::check_pool(pill)),
        subject("LeakyPool", Some("workers never stop"), || {
            checks::check_pool(leaky)
        }),
        subject("DetachedPool", Some("workers not joined"), || {
            checks::check_pool(detached)
        }),
    ]
}

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(30));
    kit_run::brief_panics();

    let exercises: [(u8, &str, Subjects); 5] = [
        (1, "12.1 loom model", counters),
        (2, "12.2 property", queues),
        (3, "12.3 stress test", blocking_queues),
        (4, "12.4 deadlock check", banks),
        (5, "12.5 leak check", pools),
    ];

    println!("Lesson 12: your checks against the lesson's implementations");
    println!();
    println!(
        "{:<20} {:<17} {:<20} your check says",
        "check", "implementation", "planted bug"
    );
    let (mut caught, mut bugs, mut passed, mut correct) = (0, 0, 0, 0);
    for (number, title, subjects) in exercises {
        if args.check.is_some_and(|only| only != number) {
            continue;
        }
        for (i, s) in subjects().into_iter().enumerate() {
            let outcome = (s.run)();
            let verdict = match (&outcome, s.bug) {
                (Err(_), Some(_)) => "found a bug",
                (Ok(()), Some(_)) => "passed        <- missed the bug",
                (Ok(()), None) => "passed",
                (Err(_), None) => "found a bug   <- but this one is correct",
            };
            match s.bug {
                Some(_) => {
                    bugs += 1;
                    caught += usize::from(outcome.is_err());
                }
                None => {
                    correct += 1;
                    passed += usize::from(outcome.is_ok());
                }
            }
            let check = if i == 0 { title } else { "" };
            println!(
                "{check:<20} {:<17} {:<20} {verdict}",
                s.name,
                s.bug.unwrap_or("none")
            );
            if args.why {
                match &outcome {
                    Ok(()) => println!("{:>20}   said: Ok", ""),
                    Err(why) => {
                        let why = why.replace('\n', &format!("\n{:27}", ""));
                        println!("{:>20}   said: {why}", "");
                    }
                }
            }
        }
    }
    println!();
    println!("planted bugs found: {caught} of {bugs}");
    println!("correct implementations passed: {passed} of {correct}");
}
