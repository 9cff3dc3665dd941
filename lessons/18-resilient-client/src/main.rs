//! Lesson 18's program: drives the learner's code and prints what holds on every run.

use std::time::Duration;

use clap::Parser;

/// Lesson 18: Resilient client.
#[derive(Parser)]
#[command(name = "lesson-18")]
struct Args {
    /// How many items (1 to 100).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    items: u32,
}

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(20));
    kit_run::brief_panics();
    println!("Lesson 18: Resilient client");
    println!(
        "answer for {}: {}",
        args.items,
        lesson_18::resilient_client::answer(args.items)
    );
}
