//! The harness every lesson's tests share.
//!
//! A lesson's `tests/lesson.rs` holds only that lesson's checks; everything they have in
//! common lives here, once:
//!
//! - [`Lesson`] and [`Exercise`]: run a test body under a deadline, on a plain thread
//!   ([`Exercise::run`]) or on a paused-clock tokio runtime ([`Exercise::run_async`]), and
//!   turn what went wrong into a message that names the exercise and its book section: an
//!   unfinished `todo!("exercise NN.k: …")`, a panic, a deadlock, a busy loop.
//! - [`Program`]: run the lesson binary under a deadline and hand back what it printed,
//!   for [`assert_program_snapshot!`].
//! - [`paused_runtime`] and [`settle`]: virtual time (from `kit-run`, which the lesson
//!   programs use on their own).
//! - [`Gate`] and [`HighWater`]: measure concurrency instead of assuming it.

mod crash;
mod deadline;
mod program;

pub use deadline::Exercise;
#[doc(hidden)]
pub use deadline::plan_panic as __plan_panic;
pub use kit_chapter::{Chapter, ExerciseInfo, Hint};
pub use kit_run::{
    Gate, HighWater, HighWaterGuard, brief_panics, panic_message, paused_runtime, settle,
};
pub use program::Program;
#[doc(hidden)]
pub use program::{
    quiet_insta_hints as __quiet_insta_hints, snapshot_differs as __snapshot_differs,
};

/// Re-exported so lessons use the workspace's pinned insta through the kit.
pub use insta;

use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `kit::planned_panic!("Fragile was told \"boom\"")`: panic on purpose, as part of a test
/// (a handler that fails, a job that explodes), exactly as `panic!` would — same message,
/// same payload type — but printed as "(a planned panic, part of the test: …)" instead of
/// as a failure, so nobody mistakes it for the cause when the test fails for another
/// reason. If the planned panic itself ends the test (the code under test should have
/// caught it), the failure says so.
#[macro_export]
macro_rules! planned_panic {
    ($($arg:tt)*) => {{
        $crate::__plan_panic();
        ::std::panic!($($arg)*)
    }};
}

/// One lesson: its number, its crate, its chapter.
#[derive(Clone, Debug)]
pub struct Lesson {
    number: String,
    manifest_dir: PathBuf,
    chapter: Arc<Chapter>,
}

/// `kit::lesson!()` names the lesson whose test file it is written in.
#[macro_export]
macro_rules! lesson {
    () => {
        $crate::Lesson::new(env!("CARGO_PKG_NAME"), env!("CARGO_MANIFEST_DIR"))
    };
}

impl Lesson {
    /// `package` is `lesson-NN`; `manifest_dir` is the lesson crate's directory.
    pub fn new(package: &str, manifest_dir: &str) -> Lesson {
        let number = package
            .strip_prefix("lesson-")
            .filter(|n| n.len() == 2 && n.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or_else(|| panic!("kit: package `{package}` is not named lesson-NN"))
            .to_string();
        let manifest_dir = PathBuf::from(manifest_dir);
        let root = workspace_root(&manifest_dir);
        let chapter = Chapter::load(&root, &number).unwrap_or_else(|e| panic!("kit: {e}"));
        Lesson {
            number,
            manifest_dir,
            chapter: Arc::new(chapter),
        }
    }

    /// The two-digit lesson number, e.g. `"01"`.
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The chapter this lesson belongs to.
    pub fn chapter(&self) -> &Chapter {
        &self.chapter
    }

    /// The exercise `id` (e.g. `"01.2"`), ready to run a test body under a deadline.
    pub fn exercise(&self, id: &str) -> Exercise {
        Exercise::new(self.chapter.clone(), id)
    }

    /// The lesson binary at `path` (pass `env!("CARGO_BIN_EXE_lesson-NN")`).
    pub fn program(&self, path: &str) -> Program {
        Program::new(self.chapter.clone(), path, &self.manifest_dir)
    }
}

/// The workspace root: the nearest ancestor holding `book.toml`.
pub fn workspace_root(start: &Path) -> PathBuf {
    start
        .ancestors()
        .find(|dir| dir.join("book.toml").is_file())
        .unwrap_or_else(|| panic!("kit: no book.toml above {}", start.display()))
        .to_path_buf()
}
