//! Lesson 07's program: many threads on each structure at once, and counts that hold on
//! every run — never an interleaving, which changes from run to run.

use std::time::Duration;

use clap::Parser;
use lesson_07::queue::Queue;
use lesson_07::stack::Stack;
use lesson_07::stress;

/// Lesson 07: lock-free programming.
#[derive(Parser)]
#[command(name = "lesson-07")]
struct Args {
    /// Items per thread.
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    items: u32,
}

const THREADS: usize = 4;

fn main() {
    let args = Args::parse();
    let items = args.items as usize;
    kit_run::watchdog!(Duration::from_secs(30));
    kit_run::brief_panics();
    println!("Lesson 07: lock-free programming, {THREADS} threads, {items} items each");
    println!();

    let counter = lesson_07::atomics::Counter::new();
    let (made, counted) = stress::counter_run(&counter, THREADS, items);
    println!(
        "counter    {THREADS} threads incremented, 1 took the count meanwhile: made {made}, counted {counted}, lost {}",
        made - counted.min(made)
    );

    let rounds = 200;
    let slot = stress::slot_run(THREADS, rounds);
    println!(
        "slot       {rounds} rounds of {THREADS} racing publishers: one winner in {}, another number in {}, torn reads {}",
        slot.one_winner, slot.wrong_winners, slot.torn
    );

    let stack = Stack::new();
    let run = stress::run(2, 2, items, |x| stack.push(x), || stack.pop());
    print_account("stack", &run, false);

    let queue = Queue::new();
    let run = stress::run(2, 2, items, |x| queue.push(x), || queue.pop());
    print_account("queue", &run, true);

    let slots = 3;
    let free = stress::free_list_run(slots, THREADS, items);
    println!(
        "free list  {THREADS} threads took one of {slots} slots and gave it back: {} takes, a slot held twice {}, missing at the end {}",
        free.takes, free.double_handouts, free.missing_at_end
    );
}

fn print_account(name: &str, run: &stress::Account, fifo: bool) {
    print!(
        "{name:<10} 2 producers, 2 consumers: pushed {}, popped {}, duplicates {}, lost {}, invented {}",
        run.pushed, run.popped, run.duplicates, run.lost, run.invented
    );
    if fifo {
        print!(", out of each producer's order {}", run.out_of_order);
    }
    println!();
}
