//! `workbook`: the companion to the book.
//!
//! Run it as `cargo workbook <command>` (an alias in `.cargo/config.toml` for
//! `cargo run -p workbook --`). With no command it runs `next`.

mod bench;
mod book;
mod browser;
mod checkbook;
mod learner;
mod lessons;
mod live;
mod mutants;
mod progress;
mod scaffold;
mod skeleton;
mod spinner;
mod structure;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "workbook",
    version,
    about = "The companion to the concurrency workbook: your progress, the next exercise, hints, the book.",
    after_help = "With no command, `workbook` runs `next`."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the current lesson's tests and show its next exercise; once it is done, go on
    /// to the next lesson that is not.
    Next {
        /// Jump to this lesson (e.g. 07): it becomes the current lesson.
        lesson: Option<String>,
    },
    /// Run one lesson's tests and show its first failing exercise; it becomes the current
    /// lesson.
    Check {
        /// The lesson number, e.g. 01.
        lesson: String,
    },
    /// Every lesson's progress, from the last test runs.
    Status {
        /// Run every lesson's tests again first.
        #[arg(long)]
        refresh: bool,
    },
    /// Show an exercise's hints, one at a time.
    Hint {
        /// The exercise, e.g. 01.3.
        exercise: String,
    },
    /// Check the current lesson again each time one of its exercise files is saved.
    Watch {
        /// The lesson number; by default the current lesson.
        lesson: Option<String>,
    },
    /// Model-check a lesson's exercises with loom (lessons that have loom models, like 07):
    /// every interleaving that matters, not just the ones a stress test happens to hit.
    Loom {
        /// The lesson number, e.g. 07.
        lesson: String,
        /// Check the reference solution instead of your code.
        #[arg(long)]
        solution: bool,
    },
    /// Put a lesson's exercise files back to the skeleton (asks first).
    Reset {
        /// The lesson number, e.g. 01.
        lesson: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Build the book and serve it on 127.0.0.1, with your progress on its pages and a
    /// "Check my code" button in each chapter.
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
        /// Only the checks that need no build: each lesson's shape, its skeletons against
        /// its solutions, its mutant files.
        #[arg(long)]
        structure: bool,
        /// Do not build and test the mutants.
        #[arg(long)]
        no_mutants: bool,
    },
    /// For maintainers: write each lesson's skeletons from its solutions (the `//@`
    /// markers); with --check, only say which differ.
    Skeleton {
        /// Only these lessons (two-digit numbers); all by default.
        lessons: Vec<String>,
        /// Change nothing; exit 1 if a skeleton differs from what its solution makes.
        #[arg(long)]
        check: bool,
    },
    /// For maintainers: start lesson NN: its crate, a solution file, a chapter, a draft
    /// mutant, and its line in SUMMARY.md.
    New {
        /// The two-digit lesson number, e.g. 07.
        number: String,
        /// The slug, e.g. lock-free (the crate is lessons/NN-slug).
        slug: String,
    },
    /// For maintainers: run a lesson's benchmarks (the reference) and draw the chapter's
    /// charts from that one run; --write puts them in the chapter.
    Bench {
        /// The lesson number, e.g. 05.
        lesson: String,
        /// Replace the charts in the chapter (between its `<!-- bench-chart -->` markers).
        #[arg(long)]
        write: bool,
        /// Draw from a saved `cargo bench` output instead of running the benchmarks.
        #[arg(long)]
        from: Option<PathBuf>,
    },
    /// For maintainers and CI: every `{{#include}}` in the book resolves, and every link
    /// between pages points at a page (and heading) that exists.
    CheckBook,
    /// For maintainers and CI: load the built book in headless Chromium and check that it
    /// works (styled admonitions, hints that open, search, no console errors).
    BrowserCheck {
        /// The Chromium binary.
        #[arg(long, default_value = "chromium")]
        chromium: PathBuf,
    },
}

/// Why a command stopped.
#[derive(Debug)]
pub enum Error {
    /// The command line named something that does not exist (exit code 2).
    Usage(String),
    /// Something went wrong while doing the work (exit code 1).
    Failed(String),
}

impl From<String> for Error {
    fn from(message: String) -> Error {
        Error::Failed(message)
    }
}

fn main() -> ExitCode {
    // Output piped into `head` closes the pipe early; `println!` then panics. That is the
    // reader's choice, not an error: end quietly.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if message.contains("failed printing to stdout") {
            std::process::exit(0);
        }
        default_hook(info);
    }));
    let cli = Cli::parse();
    let root = match find_root() {
        Ok(root) => root,
        Err(e) => {
            eprintln!("workbook: {e}");
            return ExitCode::from(2);
        }
    };
    let result = match cli.command.unwrap_or(Command::Next { lesson: None }) {
        Command::Next { lesson } => learner::next(&root, lesson.as_deref()),
        Command::Check { lesson } => learner::check(&root, &lesson),
        Command::Status { refresh } => learner::status(&root, refresh),
        Command::Hint { exercise } => learner::hint(&root, &exercise),
        Command::Watch { lesson } => learner::watch(&root, lesson.as_deref()),
        Command::Loom { lesson, solution } => learner::loom(&root, &lesson, solution),
        Command::Reset { lesson, yes } => learner::reset(&root, &lesson, yes),
        Command::Book { port, no_serve } => serve_book(&root, port, no_serve),
        Command::Verify {
            lessons,
            structure,
            no_mutants,
        } => verify::run(
            &root,
            &lessons,
            verify::Scope {
                structure_only: structure,
                no_mutants,
            },
        ),
        Command::Skeleton { lessons, check } => scaffold::skeletons(&root, &lessons, check),
        Command::New { number, slug } => scaffold::new(&root, &number, &slug),
        Command::Bench {
            lesson,
            write,
            from,
        } => bench::run(&root, &lesson, write, from.as_deref()),
        Command::CheckBook => checkbook::run(&root).map_err(Error::from),
        Command::BrowserCheck { chromium } => browser::run(&root, &chromium).map_err(Error::from),
    };
    match result {
        Ok(code) => code,
        Err(Error::Usage(e)) => {
            eprintln!("workbook: {e}");
            ExitCode::from(2)
        }
        Err(Error::Failed(e)) => {
            eprintln!("workbook: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `workbook book`, recording the address it serves at so that the runner's and the
/// tests' messages name it (`kit_chapter::book_url`). A server that cannot start leaves
/// the previous record as it was.
fn serve_book(root: &std::path::Path, port: u16, no_serve: bool) -> Result<ExitCode, Error> {
    let record = root.join(kit_chapter::BOOK_URL_FILE);
    let previous = std::fs::read_to_string(&record).ok();
    // Port 0 lets the OS choose; only the server knows which port it got.
    let recording = !no_serve && port != 0;
    if recording {
        if let Some(dir) = record.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::write(&record, format!("http://127.0.0.1:{port}\n"));
    }
    let result = book::run(root, port, no_serve).map_err(Error::from);
    if result.is_err() && recording {
        let _ = match previous {
            Some(text) => std::fs::write(&record, text),
            None => std::fs::remove_file(&record),
        };
    }
    result
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
            format!(
                "{} is not inside the workbook: run this from the repository's directory (the one with book.toml and lessons/)",
                cwd.display()
            )
        })
}
