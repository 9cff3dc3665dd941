//! Lesson 17's program: drives the learner's code and prints what holds on every run.

use std::time::Duration;

use clap::Parser;

/// Lesson 17: Load patterns.
#[derive(Parser)]
#[command(name = "lesson-17")]
struct Args {
    /// How many items (1 to 100).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    items: u32,
}

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(20));
    kit_run::brief_panics();
    println!("Lesson 17: Load patterns");
    println!(
        "answer for {}: {}",
        args.items,
        lesson_17::load_patterns::answer(args.items)
    );
}
