//! The lessons in the workspace, and running their tests.

use std::fs;
use std::path::Path;
use std::process::Command;

/// One lesson crate.
#[derive(Clone, Debug)]
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
}

/// Whether a test name is an exercise test: `exNN_k_…`.
pub fn is_exercise_test(name: &str) -> bool {
    let name = name.rsplit("::").next().unwrap_or(name);
    let Some(rest) = name.strip_prefix("ex") else {
        return false;
    };
    let bytes = rest.as_bytes();
    bytes.len() > 4 && bytes[0].is_ascii_digit() && bytes[1].is_ascii_digit() && bytes[2] == b'_'
}

/// Run `cargo test -p lesson-NN [--features solution]` and collect every test's outcome.
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
    let output = cmd.output().map_err(|e| format!("cannot run cargo: {e}"))?;
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
