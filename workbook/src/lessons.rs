//! The lessons in the workspace, and running their tests.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

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
}

/// One test's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    Ignored,
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

    /// The compiler's first error, if the lesson did not compile.
    pub fn compile_error(&self) -> Option<String> {
        if self.compiled {
            return None;
        }
        let lines: Vec<&str> = self.log.lines().collect();
        let start = lines
            .iter()
            .position(|l| l.starts_with("error[") || l.starts_with("error:"))?;
        let end = lines[start + 1..]
            .iter()
            .position(|l| l.starts_with("error") || l.starts_with("warning:"))
            .map(|i| start + 1 + i)
            .unwrap_or(lines.len());
        Some(
            lines[start..end.min(start + 40)]
                .join("\n")
                .trim_end()
                .to_string(),
        )
    }
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
/// with a spinner while it runs.
pub fn run_tests(root: &Path, lesson: &Lesson, solution: bool) -> Result<TestRun, String> {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root).env("RUST_BACKTRACE", "0").args([
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
    run_command(cmd, &format!("running {what} lesson {}", lesson.number))
}

/// Run a `cargo test` command, with a spinner saying `what`, and collect every test's
/// outcome.
pub fn run_command(mut cmd: Command, what: &str) -> Result<TestRun, String> {
    cmd.env("RUST_BACKTRACE", "0");
    let output = {
        let _spinner = Spinner::start(what);
        cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?
    };
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    let mut run = TestRun {
        compiled: log.contains("test result:") && !log.contains("could not compile"),
        tests: Vec::new(),
        log,
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
        };
        assert_eq!(
            broken.compile_error().as_deref(),
            Some("error[E0308]: mismatched types\n --> src/a.rs:1:1")
        );
    }
}
