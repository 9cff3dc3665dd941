//! `workbook`: the companion to the book.
//!
//! Run it as `cargo workbook <command>` (an alias in `.cargo/config.toml` for
//! `cargo run --quiet -p workbook --`).

mod book;
mod checkbook;
mod lessons;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "workbook",
    about = "The companion to the concurrency workbook",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build the book and serve it on 127.0.0.1.
    Book {
        /// The port to serve on.
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Build the book, print the path of its index.html, and exit.
        #[arg(long)]
        no_serve: bool,
    },
    /// For maintainers and CI: every lesson's reference passes every test, and every
    /// exercise test fails on the untouched skeleton.
    Verify {
        /// Only these lessons (two-digit numbers); all by default.
        lessons: Vec<String>,
    },
    /// For maintainers and CI: every `{{#include}}` in the book resolves, and every link
    /// between pages points at a page (and heading) that exists.
    CheckBook,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let root = match find_root() {
        Ok(root) => root,
        Err(e) => {
            eprintln!("workbook: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command {
        Command::Book { port, no_serve } => book::run(&root, port, no_serve),
        Command::Verify { lessons } => verify::run(&root, &lessons),
        Command::CheckBook => checkbook::run(&root),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("workbook: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: the nearest directory at or above the current one with `book.toml`
/// and `lessons/`.
fn find_root() -> Result<PathBuf, String> {
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    cwd.ancestors()
        .find(|d| d.join("book.toml").is_file() && d.join("lessons").is_dir())
        .map(PathBuf::from)
        .ok_or_else(|| {
            "not inside the workbook: run this from the repository's directory (the one with book.toml)"
                .to_string()
        })
}
