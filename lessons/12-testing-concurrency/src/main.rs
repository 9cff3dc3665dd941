//! Lesson 12's program: your checks against every implementation the lesson has, as a
//! table.
//!
//! What it prints is the same on every run: each check's verdict (found a bug, or passed)
//! against each implementation, and a count. Your checks' own messages vary with how you
//! word them and, for some, with the schedule; they are printed only with `--why`.

use std::time::Duration;

use clap::Parser;
use lesson_12::grading;

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

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(30));
    kit_run::brief_panics();

    println!("Lesson 12: your checks against the lesson's implementations");
    println!();
    println!(
        "{:<20} {:<19} {:<22} your check says",
        "check", "implementation", "planted bug"
    );
    let (mut caught, mut bugs, mut passed, mut correct) = (0, 0, 0, 0);
    for exercise in grading::exercises() {
        if args.check.is_some_and(|only| only != exercise.number) {
            continue;
        }
        for (i, s) in exercise.subjects.iter().enumerate() {
            let outcome = s.check();
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
            let check = if i == 0 { exercise.title } else { "" };
            println!(
                "{check:<20} {:<19} {:<22} {verdict}",
                s.name,
                s.bug.map_or("none", |b| b.short)
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
