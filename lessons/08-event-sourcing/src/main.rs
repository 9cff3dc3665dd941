//! Lesson 08's program: drives the learner's code and prints what holds on every run.

use std::time::Duration;

use clap::Parser;

/// Lesson 08: Event sourcing.
#[derive(Parser)]
#[command(name = "lesson-08")]
struct Args {
    /// How many items (1 to 100).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    items: u32,
}

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(20));
    kit_run::brief_panics();
    println!("Lesson 08: Event sourcing");
    println!("answer for {}: {}", args.items, lesson_08::event_sourcing::answer(args.items));
}
