//! Lesson 10's program: four orders through the saga, and what each one left behind.
//!
//! Everything it prints is the same on every run: the services answer from scripts, the
//! retries wait on a virtual clock with jitter from a seeded generator, the database lives
//! in a fresh temporary directory, and nothing printed depends on the idempotency keys
//! your code chooses.
//!
//! With `--crash-test DB --scenario NAME --kill-at N` it is instead the crash test's
//! orchestrator: it runs one saga in the file `DB` and sends itself SIGKILL at the `N`-th
//! crash point (see `lesson_10::crash`). The test then resumes the saga and checks what it
//! finds.

use std::path::{Path, PathBuf};
use std::process;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use lesson_10::crash::{self, Crash};
use lesson_10::log::{Entry, SagaLog};
use lesson_10::orchestrator::Orchestrator;
use lesson_10::progress;
use lesson_10::retry::RetryPolicy;
use lesson_10::services::{self, Ledger, Op, Reply, Script, Service};
use lesson_10::{Participant, SeededJitter, VirtualClock};

/// Lesson 10: an order as a saga over inventory, payment and shipping.
#[derive(Parser)]
#[command(name = "lesson-10")]
struct Args {
    /// The seed of the retries' jitter.
    #[arg(long, default_value_t = 10)]
    seed: u64,

    /// How many times an action is sent before giving up (1 to 20).
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=20))]
    attempts: u32,

    /// Be the crash test's orchestrator: run one saga in this file, and crash.
    #[arg(long, value_name = "DB")]
    crash_test: Option<PathBuf>,

    /// With --crash-test: which saga to run.
    #[arg(long, value_enum, default_value_t = Scenario::Completes, requires = "crash_test")]
    scenario: Scenario,

    /// With --crash-test: SIGKILL this process at the N-th crash point (0: never).
    #[arg(long, default_value_t = 0, requires = "crash_test")]
    kill_at: u64,
}

/// The crash test's sagas (see `lesson_10::services::Scenario`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Every step succeeds, after a lost reply at payment and a timeout at shipping.
    Completes,
    /// Shipping refuses; the undos time out or lose a reply once each.
    Compensates,
    /// Shipping refuses, and so does payment's refund: the saga ends Failed.
    Stuck,
}

const STEPS: [&str; 3] = ["inventory", "payment", "shipping"];

fn policies(attempts: u32) -> (RetryPolicy, RetryPolicy) {
    let act = RetryPolicy {
        max_attempts: attempts,
        first_delay: Duration::from_millis(100),
        max_delay: Duration::from_secs(2),
    };
    let undo = RetryPolicy {
        max_attempts: 6,
        first_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(5),
    };
    (act, undo)
}

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(30));
    kit_run::brief_panics();
    match &args.crash_test {
        Some(path) => crash_test(path, args.scenario, args.kill_at, args.attempts),
        None => story(args.seed, args.attempts),
    }
}

fn crash_test(path: &Path, scenario: Scenario, kill_at: u64, attempts: u32) {
    let fail = |what: &str, e: &dyn std::fmt::Display| -> ! {
        eprintln!("crash test: {what}: {e}");
        process::exit(1);
    };
    let log = SagaLog::open(path).unwrap_or_else(|e| fail("cannot open the log", &e));
    let services: Vec<Service> = STEPS
        .iter()
        .zip(match scenario {
            Scenario::Completes => services::Scenario::Completes.scripts(),
            Scenario::Compensates => services::Scenario::Compensates.scripts(),
            Scenario::Stuck => services::Scenario::Stuck.scripts(),
        })
        .map(|(name, script)| {
            Service::open(path, name, script).unwrap_or_else(|e| fail("cannot open", &e))
        })
        .collect();
    let (act_policy, undo_policy) = policies(attempts);
    let clock = VirtualClock::new();
    let jitter = SeededJitter::new(1);
    let orchestrator = Orchestrator {
        log: &log,
        steps: services.iter().map(|s| s as &dyn Participant).collect(),
        act_policy,
        undo_policy,
        clock: &clock,
        jitter: &jitter,
    };
    if kill_at > 0 {
        crash::arm(kill_at, Crash::Kill);
    }
    let status = orchestrator
        .run("order-crash")
        .unwrap_or_else(|e| fail("the saga log failed", &e));
    println!("{status:?}");
}

/// One order of the story: its id, what it shows, and how each service answers.
struct Order {
    id: &'static str,
    title: &'static str,
    scripts: [Script; 3],
}

fn story(seed: u64, attempts: u32) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("saga.db");
    let (act_policy, undo_policy) = policies(attempts);

    println!("Lesson 10: an order as a saga over inventory, payment and shipping");
    println!(
        "actions: up to {} attempts, backoff from {:?} doubling to at most {:?}",
        act_policy.max_attempts, act_policy.first_delay, act_policy.max_delay
    );
    println!(
        "undos:   up to {} attempts, backoff from {:?} doubling to at most {:?}",
        undo_policy.max_attempts, undo_policy.first_delay, undo_policy.max_delay
    );
    println!("jitter seed {seed}; the services answer from scripts; the clock is virtual");

    let orders = [
        Order {
            id: "order-1",
            title: "every step succeeds, after a timeout and a lost reply",
            scripts: [
                Script::ok().acts([Reply::TimedOut]),
                Script::ok(),
                Script::ok().acts([Reply::LostReply]),
            ],
        },
        Order {
            id: "order-2",
            title: "payment declines the card",
            scripts: [
                Script::ok(),
                Script::ok().acts([Reply::Refuse("card declined")]),
                Script::ok(),
            ],
        },
        Order {
            id: "order-3",
            title: "shipping's replies are all lost (the last request booked a parcel); \
                    the refund times out twice",
            scripts: [
                Script::ok(),
                Script::ok().undos([Reply::TimedOut, Reply::TimedOut]),
                Script::ok().acts([
                    Reply::TimedOut,
                    Reply::TimedOut,
                    Reply::TimedOut,
                    Reply::LostReply,
                ]),
            ],
        },
        Order {
            id: "order-4",
            title: "shipping refuses, and the refund is refused too",
            scripts: [
                Script::ok(),
                Script::ok().undos([Reply::Refuse("the card's account is closed")]),
                Script::ok().acts([Reply::Refuse("no carrier for this address")]),
            ],
        },
    ];

    let log = SagaLog::open(&path).expect("the saga log opens");
    let ledger = Ledger::open(&path).expect("the ledger opens");
    let jitter = SeededJitter::new(seed);
    for order in orders {
        // Each order gets its own services (with its own scripts) on the same file.
        let services: Vec<Service> = STEPS
            .iter()
            .zip(order.scripts)
            .map(|(name, script)| Service::open(&path, name, script).expect("a service opens"))
            .collect();
        let clock = VirtualClock::new();
        let orchestrator = Orchestrator {
            log: &log,
            steps: services.iter().map(|s| s as &dyn Participant).collect(),
            act_policy,
            undo_policy,
            clock: &clock,
            jitter: &jitter,
        };
        let calls_before = ledger.calls().expect("the calls").len();
        let status = orchestrator.run(order.id).expect("the saga log works");

        println!();
        println!("{}: {}", order.id, order.title);
        println!("  the saga log, and the status it gives:");
        let entries = log.entries(order.id).expect("the log reads");
        for (i, entry) in entries.iter().enumerate() {
            let status = progress::read(&entries[..=i], STEPS.len())
                .map_or("-".to_string(), |p| format!("{:?}", p.status));
            println!("    {:>2}  {:<58} {status}", i + 1, describe(entry));
        }
        println!("  what the services were asked, in order:");
        for call in &ledger.calls().expect("the calls")[calls_before..] {
            let op = match call.op {
                Op::Act => "act ",
                Op::Undo => "undo",
            };
            println!("    {:<9} {op}  {}", call.service, call.reply);
        }
        let left: Vec<String> = STEPS
            .iter()
            .map(|service| {
                let keys = ledger.keys(service).expect("the ledger");
                let mine: Vec<&str> = keys
                    .iter()
                    .filter(|(key, _)| sent_by(key, &entries))
                    .map(|(_, state)| state.as_str())
                    .collect();
                format!("{service} {}", summary(&mine))
            })
            .collect();
        println!("  status {status:?}; left behind: {}", left.join(", "));
    }
}

/// Whether `key` is one of the keys a saga's log says it sent.
fn sent_by(key: &str, entries: &[Entry]) -> bool {
    entries.iter().any(|entry| match entry {
        Entry::Started { key: k, .. } | Entry::Undoing { key: k, .. } => k == key,
        _ => false,
    })
}

/// What a service's ledger holds for one order, in words.
fn summary(states: &[&str]) -> String {
    match states {
        [] => "untouched".to_string(),
        [state] => state
            .strip_prefix("refused:")
            .map_or_else(|| state.to_string(), |why| format!("refused ({why})")),
        many => format!("{} keys: {}", many.len(), many.join(", ")),
    }
}

/// An entry in words, with step names and without keys (the keys are yours to choose, and
/// the output must not depend on them).
fn describe(entry: &Entry) -> String {
    let name = |step: &usize| STEPS.get(*step).copied().unwrap_or("?");
    match entry {
        Entry::Begun => "begun".to_string(),
        Entry::Started { step, .. } => format!("started {}", name(step)),
        Entry::Done { step } => format!("done {}", name(step)),
        Entry::Failed { step, failure } => format!("failed {}: {failure}", name(step)),
        Entry::Undoing { step, .. } => format!("undoing {}", name(step)),
        Entry::Undone { step } => format!("undone {}", name(step)),
        Entry::Stuck { step, failure } => format!("STUCK {}: {failure}", name(step)),
    }
}
