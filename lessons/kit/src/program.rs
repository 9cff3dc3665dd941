//! Run a lesson's program and hand back what it printed.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use kit_chapter::Chapter;
use kit_chapter::report::Kind;

use crate::deadline::report;

/// The program gets this long before the test gives up on it. The program's own
/// `kit_run::watchdog!` normally stops it first, with a clearer message.
const PROGRAM_DEADLINE: Duration = Duration::from_secs(30);

/// A lesson binary, with arguments, to run under a deadline.
#[derive(Clone, Debug)]
pub struct Program {
    chapter: Arc<Chapter>,
    path: PathBuf,
    dir: PathBuf,
    args: Vec<String>,
}

impl Program {
    pub(crate) fn new(chapter: Arc<Chapter>, path: &str, dir: &Path) -> Program {
        Program {
            chapter,
            path: PathBuf::from(path),
            dir: dir.to_path_buf(),
            args: Vec::new(),
        }
    }

    /// Add a command-line argument.
    pub fn arg(mut self, arg: &str) -> Program {
        self.args.push(arg.to_string());
        self
    }

    /// Run the program; return its exit code, stdout and stderr, whatever they are.
    pub fn run_raw(&self) -> (Option<i32>, String, String) {
        let output = assert_cmd::Command::new(&self.path)
            .args(&self.args)
            .current_dir(&self.dir)
            .timeout(PROGRAM_DEADLINE)
            .output()
            .unwrap_or_else(|e| panic!("kit: cannot run {}: {e}", self.path.display()));
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    /// Run the program to completion and return what it printed on stdout.
    ///
    /// Fails the test, in the learner's terms, if the program stops at an unfinished
    /// exercise, panics, times out or exits with an error.
    #[track_caller]
    pub fn stdout(&self) -> String {
        let (code, stdout, stderr) = self.run_raw();
        if code == Some(0) {
            return stdout;
        }
        let shown = |s: &str| {
            let lines: Vec<&str> = s.lines().collect();
            let tail = &lines[lines.len().saturating_sub(20)..];
            tail.join("\n")
        };
        if let Some((id, what)) = crate::deadline::parse_todo(&stderr) {
            let where_ = match self.chapter.exercise(&id) {
                Some(info) => self.chapter.where_to_read(info),
                None => format!("read: {}", self.chapter.file),
            };
            // The panic message's line before it says where: "panicked at src/x.rs:12:5:".
            let at = crate::deadline::todo_location_in(&stderr);
            let text = format!(
                "the lesson program stopped at exercise {id}, which is not done yet: {what}"
            );
            report(Kind::NotDone, None, Some(&id), at.as_deref(), &text);
            let edit = at.map(|at| format!("edit: {at}\n")).unwrap_or_default();
            panic!("{text}\n{edit}{where_}");
        }
        let (kind, text) = match code {
            Some(124) => (
                Kind::Timeout,
                format!(
                    "the lesson program timed out and stopped itself:\n{}",
                    shown(&stderr)
                ),
            ),
            None => (
                Kind::Timeout,
                format!(
                    "the lesson program was still running after {} s and was killed: a deadlock or a busy loop.\n\
                     --- what it printed ---\n{}",
                    PROGRAM_DEADLINE.as_secs(),
                    shown(&stdout)
                ),
            ),
            Some(code) => (
                Kind::Program,
                format!(
                    "the lesson program failed with exit code {code}.\n--- stderr ---\n{}\n--- stdout ---\n{}",
                    shown(&stderr),
                    shown(&stdout)
                ),
            ),
        };
        report(kind, None, None, None, &text);
        panic!("{text}");
    }
}

/// The snapshot comparison failed: tell the runner, then fail the test.
#[doc(hidden)]
#[track_caller]
pub fn snapshot_differs() -> ! {
    let text = "the lesson program's output differs from the reference solution's: the diff above \
                shows `-` for what the reference printed and `+` for what yours printed.\n\
                Change your code, not the snapshot (never run `cargo insta accept` here).";
    report(Kind::Snapshot, None, None, None, text);
    panic!("{text}");
}

/// insta ends a failed comparison with "Run `cargo insta test` to run all snapshots.",
/// unless `INSTA_CARGO_INSTA=1`; a learner must never be pointed at cargo-insta, so the
/// kit sets it before the first comparison (the runner and `.cargo/config.toml` may
/// already have).
#[doc(hidden)]
pub fn quiet_insta_hints() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("INSTA_CARGO_INSTA").is_none() {
            // SAFETY: in a test binary the environment is read through `std::env` (libtest,
            // insta, tokio, the kit), whose calls std serialises with `set_var`, as it does
            // its own libc calls that read it (getaddrinfo); nothing calls libc's getenv
            // directly. `.cargo/config.toml` can set the variable and make this a no-op.
            unsafe { std::env::set_var("INSTA_CARGO_INSTA", "1") };
        }
    });
}

/// Compare the lesson program's output with the snapshot recorded from the reference
/// solution, in `tests/snapshots/` of the calling lesson.
///
/// The snapshot's header tells the learner never to accept a new version; the workspace
/// sets `INSTA_UPDATE=no`, so a learner's run never writes one either.
#[macro_export]
macro_rules! assert_program_snapshot {
    ($name:expr, $output:expr) => {{
        let mut settings = $crate::insta::Settings::clone_current();
        settings.set_prepend_module_to_snapshot(false);
        settings.set_omit_expression(true);
        settings.set_description(
            "Recorded from the reference solution. Never accept a new version of this file: \
             change your code until the program prints this.",
        );
        let output = $output;
        $crate::__quiet_insta_hints();
        let compared = ::std::panic::catch_unwind(::std::panic::AssertUnwindSafe(|| {
            settings.bind(|| {
                $crate::insta::assert_snapshot!($name, output);
            })
        }));
        if compared.is_err() {
            $crate::__snapshot_differs();
        }
    }};
}

/// The two program tests every lesson has, for the lesson's binary (named like its
/// package, `lesson-NN`): `program_output_matches_the_reference` (the snapshot) and
/// `program_rejects_a_bad_argument` (`$flag $bad` must exit with code 2 and name `$flag`).
///
/// `kit::program_tests!("--workers", "0");`
#[macro_export]
macro_rules! program_tests {
    ($flag:literal, $bad:literal) => {
        #[test]
        fn program_output_matches_the_reference() {
            let lesson = $crate::lesson!();
            let out = lesson
                .program(env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME"))))
                .stdout();
            $crate::assert_program_snapshot!("program", out);
        }

        #[test]
        fn program_rejects_a_bad_argument() {
            let lesson = $crate::lesson!();
            let (code, _, stderr) = lesson
                .program(env!(concat!("CARGO_BIN_EXE_", env!("CARGO_PKG_NAME"))))
                .arg($flag)
                .arg($bad)
                .run_raw();
            assert_eq!(code, Some(2), "a bad argument exits with code 2");
            assert!(stderr.contains($flag), "and names the argument:\n{stderr}");
        }
    };
}
