//! Lesson 16's program: a timeline of permits in virtual time (a large request at the head
//! of the line, a smaller one that may not overtake it, a waiter that gives up), the
//! difference between `let _ =` and `let _permit =`, and the generator: the first Fibonacci
//! numbers, the end of the sequence, and proof that a producer stops when nobody reads.
//!
//! Everything runs on a paused clock, in one thread: every `t=` is virtual and exact, and
//! the output is the same on every run.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use futures::StreamExt;
use lesson_16::generator::{Generator, fibonacci};
use lesson_16::semaphore::Semaphore;
use tokio::time::{Instant, sleep, timeout};

/// Lesson 16: semaphores and generators.
#[derive(Parser)]
#[command(name = "lesson-16")]
struct Args {
    /// How many Fibonacci numbers to take (1 to 94; the 95th does not fit in a u64).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=94))]
    fib: u64,
}

const PERMITS: usize = 3;
const BUFFER: usize = 4;

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(20));
    kit_run::brief_panics();
    kit_run::run_paused!(run(args.fib as usize));
}

async fn run(fib: usize) {
    println!("Lesson 16: semaphores and generators");
    println!();
    timeline().await;
    println!();
    let_underscore().await;
    println!();
    fibonacci_numbers(fib).await;
    println!();
    producer_stops(fib).await;
}

/// One job of the timeline: when it asks, how many permits, how long it holds them, and
/// how long it is willing to wait.
struct Job {
    name: &'static str,
    at_ms: u64,
    wants: usize,
    holds_ms: u64,
    gives_up_after_ms: Option<u64>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum What {
    // At one instant, what is released comes first, then what is asked, then what is
    // granted: an order that holds for every correct semaphore, whatever order the tasks
    // happen to log in.
    Released,
    GaveUp,
    Asked,
    Granted,
}

type Log = Arc<Mutex<Vec<(u64, What, &'static str, usize)>>>;

async fn timeline() {
    println!("1. A permits timeline: a semaphore of {PERMITS} permits");
    let jobs = [
        Job {
            name: "A",
            at_ms: 0,
            wants: 2,
            holds_ms: 100,
            gives_up_after_ms: None,
        },
        Job {
            name: "B",
            at_ms: 10,
            wants: 1,
            holds_ms: 50,
            gives_up_after_ms: None,
        },
        Job {
            name: "C",
            at_ms: 20,
            wants: 3,
            holds_ms: 50,
            gives_up_after_ms: None,
        },
        Job {
            name: "D",
            at_ms: 30,
            wants: 1,
            holds_ms: 20,
            gives_up_after_ms: None,
        },
        Job {
            name: "E",
            at_ms: 40,
            wants: 1,
            holds_ms: 20,
            gives_up_after_ms: Some(40),
        },
        Job {
            name: "F",
            at_ms: 50,
            wants: 2,
            holds_ms: 30,
            gives_up_after_ms: None,
        },
    ];
    let sem = Arc::new(Semaphore::new(PERMITS));
    let log: Log = Arc::default();
    let start = Instant::now();
    let mut tasks = Vec::new();
    for job in jobs {
        let (sem, log) = (Arc::clone(&sem), Arc::clone(&log));
        tasks.push(tokio::spawn(async move {
            let note = |what, n| {
                let t = start.elapsed().as_millis() as u64;
                log.lock().unwrap().push((t, what, job.name, n));
            };
            sleep(Duration::from_millis(job.at_ms)).await;
            note(What::Asked, job.wants);
            let permit = match job.gives_up_after_ms {
                None => sem.acquire_many(job.wants).await,
                Some(ms) => {
                    match timeout(Duration::from_millis(ms), sem.acquire_many(job.wants)).await {
                        Ok(permit) => permit,
                        Err(_) => {
                            note(What::GaveUp, job.wants);
                            return;
                        }
                    }
                }
            };
            let _permit = permit.expect("nobody closes this semaphore");
            note(What::Granted, job.wants);
            sleep(Duration::from_millis(job.holds_ms)).await;
            note(What::Released, job.wants);
        }));
    }
    for task in tasks {
        task.await.expect("a job panicked");
    }
    let mut log = log.lock().unwrap().clone();
    log.sort();
    let mut free = PERMITS;
    for (t, what, name, n) in log {
        let text = match what {
            What::Asked => format!("{name} asks for {n}"),
            What::Granted => {
                free -= n;
                format!("{name} gets {n}")
            }
            What::Released => {
                free += n;
                format!("{name} gives back {n}")
            }
            What::GaveUp => format!("{name} gives up waiting (its future is dropped)"),
        };
        println!("   t={t:>3}ms  {text:<46} free {free}");
    }
    println!(
        "   D asked for 1 at t=30ms and 1 was free from t=60ms, but C (3) was ahead of it: first come, first served"
    );
    println!(
        "   after the run: {} of {PERMITS} permits free (E's give-up lost none)",
        sem.available_permits()
    );
}

/// Three jobs of 100 ms on one permit, written two ways.
async fn let_underscore() {
    println!("2. Three 100 ms jobs on a semaphore of 1 permit");
    for binding in [
        "let _ = sem.acquire().await",
        "let _permit = sem.acquire().await",
    ] {
        let sem = Arc::new(Semaphore::new(1));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let sem = Arc::clone(&sem);
            tasks.push(tokio::spawn(async move {
                if binding.starts_with("let _ =") {
                    // The permit is dropped at the end of this statement: it guards nothing.
                    let _ = sem.acquire().await;
                    sleep(Duration::from_millis(100)).await;
                } else {
                    let _permit = sem.acquire().await;
                    sleep(Duration::from_millis(100)).await;
                }
                start.elapsed().as_millis()
            }));
        }
        let mut done = Vec::new();
        for task in tasks {
            done.push(task.await.expect("a job panicked"));
        }
        done.sort_unstable();
        let done: Vec<String> = done.iter().map(|ms| format!("{ms}ms")).collect();
        println!("   {binding:<36} jobs done at t= {}", done.join(", "));
    }
    println!("   `let _ =` drops the permit at once: all three ran together on one permit");
}

async fn fibonacci_numbers(n: usize) {
    println!("3. Fibonacci from a generator (buffer {BUFFER})");
    let first: Vec<String> = fibonacci(BUFFER)
        .take(n)
        .map(|x| x.to_string())
        .collect()
        .await;
    println!("   the first {n}: {}", first.join(" "));
    let all: Vec<u64> = fibonacci(BUFFER).collect().await;
    match all.last() {
        Some(last) => println!(
            "   the whole sequence: {} numbers, the last {last}; then it ended (the next would overflow a u64)",
            all.len()
        ),
        None => println!("   the whole sequence: empty"),
    }
}

/// Sets its flag when the producer's future is dropped, whether it returned or was
/// aborted.
struct Ended(Arc<AtomicBool>);

impl Drop for Ended {
    fn drop(&mut self) {
        self.0.store(true, SeqCst);
    }
}

async fn producer_stops(n: usize) {
    println!(
        "4. A producer of 1, 2, 3, … behind a buffer of {BUFFER}, and a consumer that takes {n}"
    );
    let sent = Arc::new(AtomicUsize::new(0));
    let ended = Arc::new(AtomicBool::new(false));
    let (s, e) = (Arc::clone(&sent), Arc::clone(&ended));
    let generator = Generator::new(BUFFER, move |y| async move {
        let _ended = Ended(e);
        for i in 1..=1_000_000u64 {
            if y.send(i).await.is_err() {
                return;
            }
            s.fetch_add(1, SeqCst);
        }
    });
    sleep(Duration::from_secs(1)).await;
    println!(
        "   sent before the first poll (after 1 s): {}",
        sent.load(SeqCst)
    );
    let taken: Vec<u64> = generator.take(n).collect().await;
    println!(
        "   the consumer took {} and dropped the generator",
        taken.len()
    );
    kit_run::settle().await;
    let sent_now = sent.load(SeqCst);
    println!(
        "   sent at most {n} taken + {BUFFER} buffered: {}",
        yes(sent_now <= n + BUFFER)
    );
    println!(
        "   the producer stopped at once: {}",
        yes(ended.load(SeqCst))
    );
    sleep(Duration::from_secs(60)).await;
    println!(
        "   sent in the virtual minute after: {}",
        sent.load(SeqCst) - sent_now
    );
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}
