//! The lessons in the workspace, and running their tests.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use kit_chapter::report::{self, Record};

use crate::skeleton::Pair;
use crate::spinner::Spinner;

/// One lesson crate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lesson {
    /// `"01"`.
    pub number: String,
    /// `"01-actors"`.
    pub slug: String,
}

impl Lesson {
    /// `lesson-01`.
    pub fn package(&self) -> String {
        format!("lesson-{}", self.number)
    }

    /// `<root>/lessons/01-actors`.
    pub fn dir(&self, root: &Path) -> PathBuf {
        root.join("lessons").join(&self.slug)
    }

    /// The chapter that goes with this lesson.
    pub fn chapter(&self, root: &Path) -> Result<kit_chapter::Chapter, String> {
        kit_chapter::Chapter::load(root, &self.number)
    }

    /// The files the learner edits: those the chapter names on its `File: \`…\`` lines,
    /// in the chapter's order, each once. The chapter is their one source; `verify` checks
    /// that `src/lib.rs` and `solutions/` agree with it.
    pub fn exercise_files(&self, root: &Path) -> Vec<PathBuf> {
        let Ok(chapter) = self.chapter(root) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = Vec::new();
        for file in chapter.exercises.iter().filter_map(|e| e.file.as_deref()) {
            let path = root.join(file);
            if !files.contains(&path) {
                files.push(path);
            }
        }
        files
    }

    /// `<root>/solutions/01-actors`.
    pub fn solution_dir(&self, root: &Path) -> PathBuf {
        root.join("solutions").join(&self.slug)
    }

    /// Each exercise file with the solution file it is generated from.
    pub fn pairs(&self, root: &Path) -> Vec<Pair> {
        self.exercise_files(root)
            .into_iter()
            .map(|skeleton| Pair {
                solution: self
                    .solution_dir(root)
                    .join(skeleton.file_name().unwrap_or_default()),
                skeleton,
            })
            .collect()
    }
}

/// Every `lessons/NN-slug` directory, in order.
pub fn discover(root: &Path) -> Result<Vec<Lesson>, String> {
    let dir = root.join("lessons");
    let entries = fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    let mut lessons: Vec<Lesson> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .filter_map(|e| {
            let slug = e.file_name().to_string_lossy().into_owned();
            let number = slug.get(..2)?.to_string();
            let valid =
                number.bytes().all(|b| b.is_ascii_digit()) && slug.as_bytes().get(2) == Some(&b'-');
            valid.then_some(Lesson { number, slug })
        })
        .collect();
    lessons.sort_by(|a, b| a.slug.cmp(&b.slug));
    Ok(lessons)
}

/// What one `cargo test` run of a lesson said.
#[derive(Clone, Debug, Default)]
pub struct TestRun {
    /// Whether every target compiled.
    pub compiled: bool,
    /// Each test's name and whether it passed, in the order printed.
    pub tests: Vec<(String, Outcome)>,
    /// Everything cargo and the tests printed, for when something needs explaining.
    pub log: String,
    /// What the kit reported of each test it failed (see `kit_chapter::report`).
    pub reports: Vec<Record>,
    /// How a test binary died, if one did (`signal: 11, SIGSEGV: invalid memory
    /// reference`): the tests it was running have no outcome.
    pub crashed: Option<String>,
}

impl TestRun {
    /// Whether nothing has run yet, or everything that ran compiled.
    pub fn compiled_or_empty(&self) -> bool {
        self.compiled || (self.tests.is_empty() && self.log.is_empty())
    }

    /// Add another run's results to these (one lesson tested by two builds).
    pub fn absorb(&mut self, other: TestRun) {
        let first = self.tests.is_empty() && self.log.is_empty();
        self.compiled = other.compiled && (first || self.compiled);
        self.tests.extend(other.tests);
        self.log.push_str(&other.log);
        self.reports.extend(other.reports);
        self.crashed = self.crashed.take().or(other.crashed);
    }
}

/// One test's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    Ignored,
}

/// The compiler's first error, as far as the learner needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    /// The compiler's text.
    pub text: String,
    /// When the error is reported in a file the learner does not edit but one of its
    /// notes points into an exercise file: that place, `file:line:col`.
    pub cause: Option<String>,
}

impl TestRun {
    /// The exercise tests (`exNN_k_…`).
    pub fn exercise_tests(&self) -> impl Iterator<Item = &(String, Outcome)> {
        self.tests.iter().filter(|(name, _)| is_exercise_test(name))
    }

    /// What a failed test printed: the block under `---- NAME stdout ----`.
    pub fn failure_message(&self, test: &str) -> Option<String> {
        let header = format!("---- {test} stdout ----");
        let start = self.log.find(&header)? + header.len();
        let rest = &self.log[start..];
        let end = [rest.find("\n---- "), rest.find("\nfailures:\n")]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(rest.len());
        Some(rest[..end].trim().to_string())
    }

    /// What the kit reported of a failed test, if the test ran under the kit.
    pub fn report_of(&self, test: &str) -> Option<&Record> {
        self.reports.iter().find(|r| r.test == test)
    }

    /// The compiler's first error, if the lesson did not compile.
    pub fn compile_error(&self) -> Option<String> {
        self.compile_error_in(&[]).map(|e| e.text)
    }

    /// The compiler's first error, if the lesson did not compile, for a learner who edits
    /// `exercise_files` (paths relative to the workspace root).
    ///
    /// An error caused by the learner's code is sometimes reported in a file they do not
    /// edit (a `MutexGuard` held across an `.await` in an exercise file makes the future
    /// not `Send` where `main.rs` spawns it); the note that points into the exercise file
    /// then comes further down. This shows the error's first lines and that note.
    pub fn compile_error_in(&self, exercise_files: &[String]) -> Option<CompileError> {
        if self.compiled {
            return None;
        }
        let lines: Vec<&str> = self.log.lines().collect();
        let blocks = error_blocks(&lines);
        let (start, end) = *blocks.first()?;
        let is_exercise = |location: &str| {
            let file = location.split(':').next().unwrap_or(location);
            exercise_files.iter().any(|f| same_file(file, f))
        };
        let capped = |start: usize, end: usize| {
            lines[start..end.min(start + 40)]
                .join("\n")
                .trim_end()
                .to_string()
        };
        let primary = locations(&lines[start..end]).next();
        if exercise_files.is_empty() || primary.is_none_or(|(_, l)| is_exercise(l)) {
            return Some(CompileError {
                text: capped(start, end),
                cause: None,
            });
        }
        // The first error points elsewhere: find the note in it that points into an
        // exercise file.
        if let Some((at, location)) = locations(&lines[start..end]).find(|(_, l)| is_exercise(l)) {
            let at = start + at;
            // The note's heading is the line above its `-->` (`note: required because …`).
            let from = if at > start && !lines[at - 1].starts_with(' ') {
                at - 1
            } else {
                at
            };
            let until = (at + 1..end)
                .find(|&i| lines[i].is_empty() || lines[i].starts_with(|c: char| c.is_alphabetic()))
                .unwrap_or(end);
            let head_end = (start + 1..end)
                .find(|&i| lines[i].trim_start().starts_with("-->"))
                .map(|i| i + 1)
                .unwrap_or(start + 1);
            let mut text = lines[start..head_end].join("\n");
            text.push_str(
                "\n\n(That is a file you do not edit. The cause is in your code, where the \
                 compiler's note points:)\n\n",
            );
            text.push_str(lines[from..until.min(from + 30)].join("\n").trim_end());
            // The commonest case in these lessons, which the compiler explains only at the
            // spawn: a value that is not `Send` held across an `.await`.
            if lines[start].contains("cannot be sent between threads safely")
                && lines[from].contains("async")
                && let Some(what) = lines[start].split('`').nth(1)
            {
                text.push_str(&format!(
                    "\n\n(A `{what}` is alive across an `.await` in that function, so its \
                     future cannot move between threads: end the value's scope, or `drop` it, \
                     before the `.await`.)"
                ));
            }
            return Some(CompileError {
                text,
                cause: Some(location.to_string()),
            });
        }
        // Or a later error that is in an exercise file.
        if let Some(&(s, e)) = blocks.iter().find(|(s, e)| {
            locations(&lines[*s..*e])
                .next()
                .is_some_and(|(_, l)| is_exercise(l))
        }) {
            let mut text = capped(s, e);
            text.push_str(
                "\n\n(The compiler's first error is in a file you do not edit; this one is in \
                 yours, and fixing it may fix the other.)",
            );
            return Some(CompileError { text, cause: None });
        }
        Some(CompileError {
            text: capped(start, end),
            cause: None,
        })
    }
}

/// Each compiler error in a log: its first line and the line after its last.
fn error_blocks(lines: &[&str]) -> Vec<(usize, usize)> {
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("error[") || l.starts_with("error:"))
        .map(|(i, _)| i)
        .collect();
    starts
        .iter()
        .map(|&start| {
            let end = lines[start + 1..]
                .iter()
                .position(|l| {
                    l.starts_with("error")
                        || l.starts_with("warning:")
                        || l.starts_with("For more information")
                })
                .map(|i| start + 1 + i)
                .unwrap_or(lines.len());
            (start, end)
        })
        .collect()
}

/// The source locations an error names (`--> file:line:col`, `::: file:line:col`), with
/// the index of their line.
fn locations<'a>(lines: &'a [&'a str]) -> impl Iterator<Item = (usize, &'a str)> + 'a {
    lines.iter().enumerate().filter_map(|(i, l)| {
        let l = l.trim_start();
        let location = l.strip_prefix("--> ").or_else(|| l.strip_prefix("::: "))?;
        Some((i, location.trim()))
    })
}

/// Whether two paths name the same file, one perhaps relative to a directory the other
/// includes (`src/a.rs` and `lessons/01-x/src/a.rs`).
pub fn same_file(a: &str, b: &str) -> bool {
    let (a, b) = (a.replace('\\', "/"), b.replace('\\', "/"));
    let suffix = |long: &str, short: &str| {
        long == short
            || long
                .strip_suffix(short)
                .is_some_and(|rest| rest.ends_with('/'))
    };
    suffix(&a, &b) || suffix(&b, &a)
}

/// Whether a test name is an exercise test: `exNN_k_…`.
pub fn is_exercise_test(name: &str) -> bool {
    exercise_of(name).is_some()
}

/// `ex01_2_ask_replies` → `"01.2"`.
pub fn exercise_of(test: &str) -> Option<String> {
    let name = test.rsplit("::").next().unwrap_or(test);
    let rest = name.strip_prefix("ex")?;
    let mut parts = rest.splitn(3, '_');
    let lesson = parts.next()?;
    let k = parts.next()?;
    parts.next()?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (lesson.len() == 2 && digits(lesson) && digits(k)).then(|| format!("{lesson}.{k}"))
}

/// Run `cargo test -p lesson-NN [--features solution]` and collect every test's outcome,
/// showing what cargo is doing while it runs.
pub fn run_tests(root: &Path, lesson: &Lesson, solution: bool) -> Result<TestRun, String> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root).args([
        "test",
        "--color",
        "never",
        "--no-fail-fast",
        "-p",
        &lesson.package(),
    ]);
    if solution {
        cmd.args(["--features", "solution"]);
    }
    let what = if solution {
        "the reference solution of"
    } else {
        "the tests of"
    };
    run_command_as(
        cmd,
        &format!("compiling lesson {}", lesson.number),
        &format!("running {what} lesson {}", lesson.number),
    )
}

/// `signal: 11, SIGSEGV: invalid memory reference` from cargo's "process didn't exit
/// successfully: `…` (signal: …)".
fn crash_of(log: &str) -> Option<String> {
    log.lines()
        .filter(|l| l.contains("process didn't exit successfully"))
        .find_map(|l| {
            let start = l.rfind("(signal: ")?;
            Some(l[start + 1..].trim_end_matches(')').to_string())
        })
}

/// The flags of a loom build: `src/sync.rs` switches to loom's atomics, and
/// crossbeam-epoch to its loom build.
pub const LOOM_RUSTFLAGS: &str = "--cfg loom --cfg crossbeam_loom";

/// The test-name prefix of a loom model: the models live in `mod model` of
/// `tests/lesson.rs`, compiled only with `--cfg loom`.
pub const MODEL_PREFIX: &str = "model::";

/// Whether the lesson has loom models.
pub fn has_models(root: &Path, lesson: &Lesson) -> bool {
    fs::read_to_string(lesson.dir(root).join("tests/lesson.rs"))
        .is_ok_and(|text| text.contains("#[cfg(loom)]\nmod model"))
}

/// `cargo test` of a lesson's loom models (all, or the `exact` ones), in release mode
/// and in a build directory of its own: the loom flags change every crate's build.
pub fn loom_command(
    dir: &Path,
    target: &Path,
    lesson: &Lesson,
    solution: bool,
    exact: &[String],
) -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(dir)
        .env("RUSTFLAGS", LOOM_RUSTFLAGS)
        .env("CARGO_TARGET_DIR", target)
        .args([
            "test",
            "--color",
            "never",
            "--release",
            "--no-fail-fast",
            "-p",
            &lesson.package(),
            "--test",
            "lesson",
        ]);
    if solution {
        cmd.args(["--features", "solution"]);
    }
    cmd.arg("--");
    if exact.is_empty() {
        cmd.arg(MODEL_PREFIX);
    } else {
        cmd.arg("--exact").args(exact);
    }
    cmd
}

/// Run a `cargo test` command, with a spinner saying `what`, and collect every test's
/// outcome.
pub fn run_command(cmd: Command, what: &str) -> Result<TestRun, String> {
    run_command_as(cmd, &format!("compiling for {what}"), what)
}

/// A `cargo test` run whose stderr is read as it comes: its progress moves the spinner
/// ("compiling lesson 01: 45/152 tokio") and the rest goes into the log.
fn run_command_as(mut cmd: Command, compiling: &str, running: &str) -> Result<TestRun, String> {
    static RUNS: AtomicUsize = AtomicUsize::new(0);
    let report_path = std::env::temp_dir().join(format!(
        "workbook-kit-report-{}-{}.tsv",
        std::process::id(),
        RUNS.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = fs::remove_file(&report_path);
    cmd.env("RUST_BACKTRACE", "0")
        .env(report::ENV, &report_path)
        // insta's "Run `cargo insta test`" hint is not for learners.
        .env("INSTA_CARGO_INSTA", "1")
        // cargo's progress bar, even into a pipe: it says how far a build is.
        .env("CARGO_TERM_PROGRESS_WHEN", "always")
        .env("CARGO_TERM_PROGRESS_WIDTH", "100")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let spinner = Spinner::start(running);
    let mut child = cmd.spawn().map_err(|e| format!("cannot run cargo: {e}"))?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let mut progress = BuildProgress::new(compiling, running);
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let mut buf = [0u8; 8192];
    loop {
        match stderr.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => progress.feed(&buf[..n], &spinner),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        }
    }
    progress.finish(&spinner);
    let _ = child.wait();
    let stdout = reader.join().unwrap_or_default();
    drop(spinner);
    let reports = fs::read_to_string(&report_path)
        .map(|text| report::parse(&text))
        .unwrap_or_default();
    let _ = fs::remove_file(&report_path);

    let log = format!("{}{}", progress.log, String::from_utf8_lossy(&stdout));
    let crashed = crash_of(&log);
    let mut run = TestRun {
        compiled: (log.contains("test result:") || crashed.is_some())
            && !log.contains("could not compile"),
        crashed,
        tests: Vec::new(),
        log,
        reports,
    };
    for line in run.log.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        let Some((name, result)) = rest.split_once(" ... ") else {
            continue;
        };
        let outcome = match result.trim() {
            "ok" => Outcome::Passed,
            "FAILED" => Outcome::Failed,
            r if r.starts_with("ignored") => Outcome::Ignored,
            _ => continue,
        };
        run.tests.push((name.trim().to_string(), outcome));
    }
    Ok(run)
}

/// Where [`BuildProgress`] shows what cargo is doing: the spinner, or a test's recorder.
trait Show {
    /// Show `message` (and `note`) until the next one.
    fn set(&self, message: &str, note: &str);
    /// Like `set`; also print it when there is no terminal to spin on.
    fn say(&self, message: &str, note: &str);
}

impl Show for Spinner {
    fn set(&self, message: &str, note: &str) {
        Spinner::set(self, message, note);
    }
    fn say(&self, message: &str, note: &str) {
        Spinner::say(self, message, note);
    }
}

/// Follows cargo's stderr: keeps its messages for the log, and turns its progress into
/// the spinner's message.
struct BuildProgress {
    compiling: String,
    running: String,
    /// Bytes of a line not yet ended.
    pending: Vec<u8>,
    log: String,
    phase: Phase,
    /// `(done, to do)` from cargo's progress bar, counting only what this build compiles:
    /// cargo counts the units already fresh as done from the start.
    steps: Option<(usize, usize)>,
    /// The units done when the first bar was drawn: those that were fresh.
    fresh: Option<usize>,
    /// The crate cargo compiles now.
    current: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Starting,
    Compiling { said: bool },
    Running,
}

/// A build of more steps than this is a first build (or one after a toolchain update),
/// which takes about a minute.
const LONG_BUILD: usize = 40;

impl BuildProgress {
    fn new(compiling: &str, running: &str) -> BuildProgress {
        BuildProgress {
            compiling: compiling.to_string(),
            running: running.to_string(),
            pending: Vec::new(),
            log: String::new(),
            phase: Phase::Starting,
            steps: None,
            fresh: None,
            current: String::new(),
        }
    }

    fn feed(&mut self, bytes: &[u8], spinner: &dyn Show) {
        for &b in bytes {
            if b == b'\n' || b == b'\r' {
                let segment = String::from_utf8_lossy(&self.pending).into_owned();
                self.pending.clear();
                self.segment(&segment, b == b'\n', spinner);
            } else {
                self.pending.push(b);
            }
        }
    }

    fn finish(&mut self, spinner: &dyn Show) {
        if !self.pending.is_empty() {
            let segment = String::from_utf8_lossy(&self.pending).into_owned();
            self.pending.clear();
            self.segment(&segment, true, spinner);
        }
        if let Phase::Compiling { said: false } = self.phase {
            spinner.say(&self.compiling, self.note());
        }
    }

    /// One line of cargo's stderr (or one redraw of its progress bar).
    fn segment(&mut self, segment: &str, newline: bool, spinner: &dyn Show) {
        let trimmed = segment.trim();
        if let Some(bar) = trimmed.strip_prefix("Building [") {
            // `Building [=====>     ] 45/152: tokio, insta…`
            if let Some((_, counts)) = bar.split_once("] ") {
                let (numbers, names) = counts.split_once(": ").unwrap_or((counts, ""));
                if let Some((done, total)) = numbers.split_once('/')
                    && let (Ok(done), Ok(total)) =
                        (done.trim().parse::<usize>(), total.trim().parse::<usize>())
                {
                    let fresh = *self.fresh.get_or_insert(done);
                    self.steps = Some((done.saturating_sub(fresh), total.saturating_sub(fresh)));
                }
                if let Some(name) = names.split(", ").next().filter(|n| !n.is_empty()) {
                    self.current = name.trim_end_matches('…').to_string();
                }
            }
            self.compiling(spinner);
            return;
        }
        if trimmed.is_empty() && !newline {
            return;
        }
        self.log.push_str(segment.trim_end());
        self.log.push('\n');
        if let Some(krate) = trimmed.strip_prefix("Compiling ") {
            self.current = krate.split(' ').next().unwrap_or(krate).to_string();
            self.compiling(spinner);
        } else if trimmed.starts_with("Running ") || trimmed.starts_with("Finished ") {
            if self.phase != Phase::Running {
                if let Phase::Compiling { said: false } = self.phase {
                    spinner.say(&self.compiling, self.note());
                }
                self.phase = Phase::Running;
                spinner.say(&self.running, "");
            }
        } else if trimmed.starts_with("Blocking waiting for file lock") {
            spinner.set(
                "waiting for another cargo command",
                "it holds the build directory",
            );
        } else if trimmed.starts_with("Downloading") || trimmed.starts_with("Downloaded") {
            spinner.set("downloading crates", "");
        }
    }

    fn compiling(&mut self, spinner: &dyn Show) {
        match self.phase {
            Phase::Starting => self.phase = Phase::Compiling { said: false },
            Phase::Compiling { .. } => {}
            // A second build in the same run (cargo builds targets as it needs them).
            Phase::Running => return,
        }
        // Without a terminal, say it once, as soon as cargo's bar says how big the build is.
        if let (Phase::Compiling { said: false }, Some(_)) = (self.phase, self.steps) {
            spinner.say(&self.compiling, self.note());
            self.phase = Phase::Compiling { said: true };
        }
        let mut message = self.compiling.clone();
        if let Some((done, total)) = self.steps {
            message.push_str(&format!(": {done}/{total}"));
        }
        if !self.current.is_empty() {
            message.push_str(&format!(" {}", self.current));
        }
        spinner.set(&message, self.note());
    }

    /// What to add while compiling: a long build is a first one.
    fn note(&self) -> &'static str {
        match self.steps {
            Some((_, total)) if total > LONG_BUILD => "the first time takes about a minute",
            _ => "",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_names_map_to_exercises() {
        assert_eq!(exercise_of("ex01_2_ask_replies").as_deref(), Some("01.2"));
        assert_eq!(exercise_of("ex00_10_x").as_deref(), Some("00.10"));
        assert_eq!(exercise_of("program_output_matches_the_reference"), None);
        assert_eq!(exercise_of("ex01_2"), None);
    }

    #[test]
    fn failure_blocks_and_compile_errors_are_found() {
        let run = TestRun {
            compiled: true,
            tests: vec![],
            log: "---- ex01_1_a stdout ----\nfirst\nline\n\n---- ex01_2_b stdout ----\nsecond\n\nfailures:\n    ex01_1_a\n".into(),
            reports: vec![],
            crashed: None,
        };
        assert_eq!(
            run.failure_message("ex01_1_a").as_deref(),
            Some("first\nline")
        );
        assert_eq!(run.failure_message("ex01_2_b").as_deref(), Some("second"));
        let broken = TestRun {
            compiled: false,
            tests: vec![],
            log: "   Compiling x\nerror[E0308]: mismatched types\n --> src/a.rs:1:1\n\nerror: could not compile `x`\n".into(),
            reports: vec![],
            crashed: None,
        };
        assert_eq!(
            broken.compile_error().as_deref(),
            Some("error[E0308]: mismatched types\n --> src/a.rs:1:1")
        );
    }

    /// rustc's error for a `MutexGuard` held across an `.await` in an exercise file,
    /// reported where `main.rs` spawns the future.
    const NOT_SEND: &str = "   Compiling lesson-03 v0.1.0 (/w/lessons/03-circuit-breaker)
error[E0277]: `std::sync::MutexGuard<'_, Machine>` cannot be sent between threads safely
   --> lessons/03-circuit-breaker/src/main.rs:62:22
    |
 62 |           callers.push(tokio::spawn(async move {
    |                        ^            ---------- within this `{async block}`
    |
    = help: within `{async block}`, the trait `Send` is not implemented for `MutexGuard<'_, Machine>`
note: required because it's used within this `async` fn body
   --> lessons/03-circuit-breaker/src/breaker.rs:64:5
    |
 64 | /     {
...   |
100 | |     }
    | |_____^
note: required because it's used within this `async` block
   --> lessons/03-circuit-breaker/src/main.rs:62:35
    |
 62 |         callers.push(tokio::spawn(async move {
    |                                   ^^^^^^^^^^

For more information about this error, try `rustc --explain E0277`.
error: could not compile `lesson-03` (bin \"lesson-03\") due to 1 previous error
";

    #[test]
    fn an_error_reported_outside_the_exercise_files_shows_the_note_inside_them() {
        let run = TestRun {
            compiled: false,
            log: NOT_SEND.into(),
            ..TestRun::default()
        };
        let files = ["lessons/03-circuit-breaker/src/breaker.rs".to_string()];
        let error = run.compile_error_in(&files).unwrap();
        assert_eq!(
            error.cause.as_deref(),
            Some("lessons/03-circuit-breaker/src/breaker.rs:64:5")
        );
        let text = &error.text;
        assert!(
            text.starts_with("error[E0277]: `std::sync::MutexGuard"),
            "{text}"
        );
        assert!(
            text.contains("--> lessons/03-circuit-breaker/src/main.rs:62:22"),
            "{text}"
        );
        assert!(text.contains("That is a file you do not edit"), "{text}");
        assert!(
            text.contains("note: required because it's used within this `async` fn body\n   --> lessons/03-circuit-breaker/src/breaker.rs:64:5"),
            "{text}"
        );
        assert!(text.contains("100 | |     }"), "the whole note: {text}");
        assert!(!text.contains("async` block"), "not the next note: {text}");
        assert!(text.contains("alive across an `.await`"), "{text}");

        // The same error with the learner's file first, or no exercise files known: as is.
        let plain = run.compile_error_in(&[]).unwrap();
        assert_eq!(plain.cause, None);
        assert!(!plain.text.contains("do not edit"));
        let main = ["lessons/03-circuit-breaker/src/main.rs".to_string()];
        assert_eq!(run.compile_error_in(&main).unwrap(), plain);
    }

    #[test]
    fn a_later_error_in_an_exercise_file_is_shown_when_the_first_names_none() {
        let run = TestRun {
            compiled: false,
            log: "error[E0425]: cannot find value `x`\n --> src/main.rs:3:5\n\nerror[E0308]: mismatched types\n --> src/one.rs:2:5\n  |\n2 |     1u8\n\nerror: could not compile `l`\n".into(),
            ..TestRun::default()
        };
        let error = run
            .compile_error_in(&["lessons/98-first/src/one.rs".to_string()])
            .unwrap();
        assert!(error.text.starts_with("error[E0308]"), "{}", error.text);
        assert!(
            error.text.contains("in a file you do not edit"),
            "{}",
            error.text
        );
    }

    #[test]
    fn paths_match_relative_to_either_root() {
        assert!(same_file("src/a.rs", "lessons/01-x/src/a.rs"));
        assert!(same_file("lessons/01-x/src/a.rs", "lessons/01-x/src/a.rs"));
        assert!(!same_file("src/ba.rs", "lessons/01-x/src/a.rs"));
        assert!(!same_file("lessons/02-y/src/a.rs", "lessons/01-x/src/a.rs"));
    }

    /// Records what a build would show.
    #[derive(Default)]
    struct Recorder {
        set: std::cell::RefCell<Vec<String>>,
        said: std::cell::RefCell<Vec<String>>,
    }

    impl Show for Recorder {
        fn set(&self, message: &str, note: &str) {
            self.set.borrow_mut().push(format!("{message} | {note}"));
        }
        fn say(&self, message: &str, note: &str) {
            self.set(message, note);
            self.said.borrow_mut().push(format!("{message} | {note}"));
        }
    }

    #[test]
    fn cargo_progress_moves_the_spinner_and_stays_out_of_the_log() {
        let shown = Recorder::default();
        let mut progress =
            BuildProgress::new("compiling lesson 01", "running the tests of lesson 01");
        // Cargo's stderr with a forced progress bar, cut at awkward places.
        let stderr = "   Compiling proc-macro2 v1.0.0\n    Building [>   ] 10/110: proc-ma\u{2026}\r    Building [=>  ] 30/110: tokio\r   Compiling tok";
        progress.feed(stderr.as_bytes(), &shown);
        progress.feed(b"io v1.54.1\n    Building [==> ] 110/110: lesson(test)\r    Finished `test` profile\n     Running tests/lesson.rs (target/x)\nerror: x\n", &shown);
        progress.finish(&shown);
        let said = shown.said.borrow().clone();
        assert_eq!(
            said,
            [
                "compiling lesson 01 | the first time takes about a minute",
                "running the tests of lesson 01 | ",
            ]
        );
        let set = shown.set.borrow().clone();
        assert!(
            set.contains(
                &"compiling lesson 01: 20/100 tokio | the first time takes about a minute"
                    .to_string()
            ),
            "{set:#?}"
        );
        assert!(!progress.log.contains("Building"), "{}", progress.log);
        assert!(
            progress.log.contains("   Compiling tokio v1.54.1\n"),
            "{}",
            progress.log
        );
        assert!(progress.log.ends_with("error: x\n"), "{}", progress.log);

        // A warm run: nothing to compile, nothing said about compiling.
        let shown = Recorder::default();
        let mut progress = BuildProgress::new("compiling lesson 01", "running lesson 01");
        progress.feed(b"    Finished `test` profile\n     Running x\n", &shown);
        progress.finish(&shown);
        assert_eq!(*shown.said.borrow(), ["running lesson 01 | "]);

        // A small build is not called a first one; one that fails is still announced.
        let shown = Recorder::default();
        let mut progress = BuildProgress::new("compiling lesson 01", "running lesson 01");
        progress.feed(
            b"   Compiling lesson-01 v0.1.0\nerror[E0308]: mismatched types\n",
            &shown,
        );
        progress.finish(&shown);
        assert_eq!(*shown.said.borrow(), ["compiling lesson 01 | "]);
    }
}
