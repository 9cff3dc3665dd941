//! The learner's commands: `status`, `next`, `check`, `hint`, `watch` and `reset`.

use std::fs;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, SystemTime};

use kit_chapter::report::{Kind, Record};
use kit_chapter::{Chapter, ExerciseInfo};

use crate::Error;
use crate::lessons::{self, Lesson, Outcome, TestRun};
use crate::progress::{self, Entry, Progress};

// ---------------------------------------------------------------------------------------
// Arguments

/// The lesson named by `arg` ("1", "01").
pub fn find_lesson(root: &Path, arg: &str) -> Result<Lesson, Error> {
    let all = lessons::discover(root)?;
    let valid = || {
        let numbers: Vec<&str> = all.iter().map(|l| l.number.as_str()).collect();
        numbers.join(", ")
    };
    let digits = !arg.is_empty() && arg.len() <= 2 && arg.bytes().all(|b| b.is_ascii_digit());
    if !digits {
        return Err(Error::Usage(format!(
            "`{arg}` is not a lesson number; the lessons are {}",
            valid()
        )));
    }
    let number = format!("{:0>2}", arg);
    all.iter()
        .find(|l| l.number == number)
        .cloned()
        .ok_or_else(|| {
            Error::Usage(format!(
                "there is no lesson {number}; the lessons are {}",
                valid()
            ))
        })
}

/// The exercise named by `arg` ("01.3", "1.3"): its lesson, chapter and heading.
pub fn find_exercise(root: &Path, arg: &str) -> Result<(Lesson, Chapter, ExerciseInfo), Error> {
    let malformed = || {
        Error::Usage(format!(
            "`{arg}` is not an exercise number; write it as NN.k, for example 01.2"
        ))
    };
    let Some((n, k)) = arg.split_once('.') else {
        // A bare lesson number: name that lesson's exercises.
        if let Ok(lesson) = find_lesson(root, arg)
            && let Ok(chapter) = lesson.chapter(root)
        {
            let ids: Vec<&str> = chapter.exercises.iter().map(|e| e.id.as_str()).collect();
            return Err(Error::Usage(format!(
                "`{arg}` is not an exercise number; write it as NN.k — lesson {} has {}",
                lesson.number,
                ids.join(", ")
            )));
        }
        return Err(malformed());
    };
    let number_ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !number_ok(n) || !number_ok(k) || n.len() > 2 {
        return Err(malformed());
    }
    let lesson = find_lesson(root, n)?;
    let chapter = lesson.chapter(root)?;
    let k: u32 = k.parse().map_err(|_| malformed())?;
    let id = format!("{}.{k}", lesson.number);
    let info = chapter.exercise(&id).cloned().ok_or_else(|| {
        let ids: Vec<&str> = chapter.exercises.iter().map(|e| e.id.as_str()).collect();
        Error::Usage(format!(
            "lesson {} has no exercise {id}; its exercises are {}",
            lesson.number,
            ids.join(", ")
        ))
    })?;
    Ok((lesson, chapter, info))
}

// ---------------------------------------------------------------------------------------
// Checking a lesson

/// One exercise and how its tests went.
struct ExerciseStatus {
    info: ExerciseInfo,
    tests: usize,
    failed: Vec<String>,
}

impl ExerciseStatus {
    fn passed(&self) -> bool {
        self.tests > 0 && self.failed.is_empty()
    }
}

/// A lesson after a test run.
struct Checked {
    lesson: Lesson,
    chapter: Chapter,
    run: TestRun,
    exercises: Vec<ExerciseStatus>,
}

impl Checked {
    fn done(&self) -> bool {
        self.run.compiled
            && !self.run.tests.is_empty()
            && self.run.tests.iter().all(|(_, o)| *o == Outcome::Passed)
            && self.exercises.iter().all(ExerciseStatus::passed)
    }

    fn passed(&self) -> Vec<String> {
        self.exercises
            .iter()
            .filter(|e| e.passed())
            .map(|e| e.info.id.clone())
            .collect()
    }

    /// Exercises with a failing test that did not stop at a `todo!`: begun, not finished.
    fn tried(&self) -> Vec<String> {
        self.exercises
            .iter()
            .filter(|e| {
                e.failed.iter().any(|test| match self.run.report_of(test) {
                    Some(record) => record.kind != Kind::NotDone,
                    // A plain test, without the kit: its output says if it met a todo!.
                    None => !self
                        .run
                        .failure_message(test)
                        .is_some_and(|m| m.contains("not yet implemented: exercise")),
                })
            })
            .map(|e| e.info.id.clone())
            .collect()
    }
}

/// Run a lesson's tests, record the result in the progress cache, and return it.
fn check_lesson(root: &Path, lesson: &Lesson, progress: &mut Progress) -> Result<Checked, Error> {
    let chapter = lesson.chapter(root)?;
    let fingerprint = progress::fingerprint(root, lesson);
    let run = lessons::run_tests(root, lesson, false)?;
    let exercises = chapter
        .exercises
        .iter()
        .map(|info| {
            let mine: Vec<&(String, Outcome)> = run
                .tests
                .iter()
                .filter(|(name, _)| lessons::exercise_of(name).as_deref() == Some(info.id.as_str()))
                .collect();
            ExerciseStatus {
                info: info.clone(),
                tests: mine.len(),
                failed: mine
                    .iter()
                    .filter(|(_, o)| *o != Outcome::Passed)
                    .map(|(n, _)| n.clone())
                    .collect(),
            }
        })
        .collect();
    let checked = Checked {
        lesson: lesson.clone(),
        chapter,
        run,
        exercises,
    };
    // A lesson that does not compile has no results: keep the last ones it had, so that
    // a typo does not look like lost work (the entry says it does not compile).
    let (passed, tried) = match progress.get(&lesson.number) {
        Some(before) if !checked.run.compiled => (before.passed.clone(), before.tried.clone()),
        _ => (checked.passed(), checked.tried()),
    };
    progress.record(
        &lesson.number,
        Entry {
            fingerprint,
            passed,
            tried,
            total: checked.exercises.len(),
            done: checked.done(),
            compiled: checked.run.compiled,
        },
    );
    Ok(checked)
}

/// What a failed test printed, for a test the kit did not report on (a plain `#[test]`):
/// without where the *test* panicked (the learner does not edit tests) and the backtrace
/// note. These are std's formats, not the kit's.
fn trim_message(message: &str) -> Vec<&str> {
    message
        .lines()
        .filter(|l| {
            let l = l.trim_start();
            !(l.starts_with("note: run with `RUST_BACKTRACE")
                || (l.starts_with("thread '") && l.contains("/tests/"))
                || l.contains("cargo insta"))
        })
        .collect()
}

/// What else a failed test printed besides the failure the kit reported: the learner's
/// own output, panics of other threads. Left out: the test thread's final panic (the
/// kit's message, which the record holds), the panic the record describes, the
/// backtrace note and insta's hints. Panics are found by the standard hook's first line,
/// `thread 'NAME' panicked at FILE:LINE:COL:`, which the kit's brief hook keeps.
fn other_output<'a>(block: &'a str, record: &Record) -> Vec<&'a str> {
    let lines: Vec<&str> = block.lines().collect();
    let panic_of = |name: &str, l: &str| l.starts_with(&format!("thread '{name}' panicked at "));
    let is_panic_line = |l: &str| l.starts_with("thread '") && l.contains("' panicked at ");
    // The test thread's first panic starts the failure the record describes (the kit's
    // message; for a snapshot, insta's panic before it): it ends what is worth showing.
    let end = lines
        .iter()
        .position(|l| panic_of(&record.test, l))
        .unwrap_or(lines.len());
    let mut keep: Vec<bool> = vec![true; end];
    // The panic the record describes, printed on the harness thread (`kit:ID:TEST`).
    if matches!(record.kind, Kind::Panic | Kind::Assertion)
        && let Some(start) = lines[..end].iter().rposition(|l| {
            l.starts_with("thread 'kit:") && l.contains(&format!(":{}' panicked at ", record.test))
        })
    {
        let stop = (start + 1..end)
            .find(|&i| is_panic_line(lines[i]) || lines[i].starts_with("(a planned panic"))
            .unwrap_or(end);
        keep[start..stop].iter_mut().for_each(|k| *k = false);
    }
    lines[..end]
        .iter()
        .zip(keep)
        .filter(|(l, k)| {
            *k && !l.trim_start().starts_with("note: run with `RUST_BACKTRACE")
                && !l.contains("cargo insta")
        })
        .map(|(l, _)| *l)
        .skip_while(|l| l.trim().is_empty())
        .collect()
}

/// At most this many lines of what a test also printed.
const OTHER_OUTPUT_LINES: usize = 30;

/// Print why `test` failed: the kit's report when there is one, else what it printed.
/// `heading` introduces it ("The first failing test, NAME, says:").
fn explain_failure(
    run: &TestRun,
    test: &str,
    heading: &str,
    lesson: &Lesson,
    exercise_files: &[String],
) {
    let block = run.failure_message(test).unwrap_or_default();
    println!("\n{heading}\n");
    let Some(record) = run.report_of(test) else {
        for line in trim_message(&block) {
            println!("  {line}");
        }
        return;
    };
    let in_exercise = |at: &str| {
        let file = at.split(':').next().unwrap_or(at);
        exercise_files.iter().any(|f| lessons::same_file(file, f))
    };
    // An unfinished exercise explains everything else a test printed (a `todo!` caught
    // and turned into another panic, say): show only that.
    let others = other_output(&block, record);
    let others = (record.kind != Kind::NotDone && !others.iter().all(|l| l.trim().is_empty()))
        .then_some(others);
    if record.kind == Kind::Snapshot
        && let Some(diff) = &others
    {
        // insta's diff first: the kit's message refers to it as "above".
        for line in diff {
            println!("  {line}");
        }
        println!();
    }
    let mut message = record.message.clone();
    if record.kind == Kind::Panic {
        let whose = match &record.at {
            Some(at) if in_exercise(at) => "your code",
            _ => "the code under test",
        };
        let sep = if message.contains('\n') { "\n" } else { " " };
        message = format!("{whose} panicked:{sep}{message}");
    }
    for line in message.lines() {
        println!("  {line}");
    }
    match (&record.at, record.kind) {
        (Some(at), _) if in_exercise(at) => println!("  edit: {at}"),
        (Some(at), Kind::Panic | Kind::NotDone) => println!("  at:   {at}"),
        _ => {}
    }
    if record.kind != Kind::Snapshot
        && let Some(others) = others
    {
        println!("\nThe test also printed:\n");
        for line in others.iter().take(OTHER_OUTPUT_LINES) {
            println!("  {line}");
        }
        if others.len() > OTHER_OUTPUT_LINES {
            println!(
                "  … and {} more lines (`cargo test -p {} -- {test}` shows them all)",
                others.len() - OTHER_OUTPUT_LINES,
                lesson.package()
            );
        }
    }
}

fn bar(done: usize, total: usize, width: usize) -> String {
    let filled = (done * width).checked_div(total).unwrap_or(0);
    format!("[{}{}]", "█".repeat(filled), "░".repeat(width - filled))
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Print what a check found; the exit code says whether the lesson is done.
fn report(root: &Path, checked: &Checked) -> ExitCode {
    let Checked {
        lesson,
        chapter,
        run,
        exercises,
    } = checked;
    let passed = exercises.iter().filter(|e| e.passed()).count();
    println!(
        "Lesson {} · {} — {passed} of {} exercises pass  {}",
        lesson.number,
        chapter.title,
        exercises.len(),
        bar(passed, exercises.len(), 20)
    );

    let exercise_files: Vec<String> = lesson
        .exercise_files(root)
        .iter()
        .map(|f| relative(root, f))
        .collect();
    if let Some(error) = run.compile_error_in(&exercise_files) {
        println!(
            "\nLesson {} does not compile. The compiler says:\n",
            lesson.number
        );
        for line in error.text.lines() {
            println!("  {line}");
        }
        if let Some(cause) = &error.cause {
            println!("\n  edit:  {cause}");
        }
        println!(
            "\nFix it, then run `cargo workbook check {}` again (`cargo test -p {}` shows every error).",
            lesson.number,
            lesson.package()
        );
        return ExitCode::FAILURE;
    }

    let first_failing = exercises.iter().position(|e| !e.passed());
    // The same marks as the badges in the book: passes, begun but failing, not started.
    let tried = checked.tried();
    println!();
    for (i, e) in exercises.iter().enumerate() {
        let mark = if e.passed() {
            "✓"
        } else if tried.contains(&e.info.id) {
            "✗"
        } else {
            "·"
        };
        let next = if Some(i) == first_failing {
            "   ← next"
        } else {
            ""
        };
        println!("  {mark} {} {}{next}", e.info.id, e.info.title);
    }

    if let Some(i) = first_failing {
        let e = &exercises[i];
        println!("\nExercise {}: {}", e.info.id, e.info.title);
        if let Some(file) = &e.info.file {
            println!("  edit:  {file}");
        }
        println!("  read:  {}#{}", chapter.file, e.info.anchor);
        println!(
            "         {}/{}#{}   (`cargo workbook book` serves the book)",
            chapter.book_url,
            chapter.html_page(),
            e.info.anchor
        );
        if !e.info.hints.is_empty() {
            println!(
                "  hints: `cargo workbook hint {}` ({} of them)",
                e.info.id,
                e.info.hints.len()
            );
        }
        let mut failed = e.failed.clone();
        failed.sort();
        match failed.first() {
            Some(test) => explain_failure(
                run,
                test,
                &format!("The first failing test, {test}, says:"),
                lesson,
                &exercise_files,
            ),
            None if e.tests == 0 => println!("\n(no test ran for this exercise)"),
            None => {}
        }
        return ExitCode::FAILURE;
    }

    if !checked.done() {
        // Every exercise passes, but something else (the program's output) does not.
        let failing: Vec<&String> = run
            .tests
            .iter()
            .filter(|(_, o)| *o != Outcome::Passed)
            .map(|(n, _)| n)
            .collect();
        println!("\nEvery exercise passes, but not every test.");
        for test in failing {
            explain_failure(run, test, &format!("{test} says:"), lesson, &exercise_files);
        }
        return ExitCode::FAILURE;
    }

    if lessons::has_models(root, lesson) {
        // The stress tests cannot see what only a weak memory order or a rare
        // interleaving shows; the loom models can, but take minutes to build.
        println!(
            "\nLesson {n}: every test passes. One step is left: `cargo workbook loom {n}` \
             model-checks your code with loom, which finds what the tests cannot see \
             (a Relaxed store that publishes data, a node freed too early). The lesson is \
             done when every model passes too.",
            n = lesson.number
        );
    } else {
        println!(
            "\nLesson {} is done: every test passes. Well done!",
            lesson.number
        );
    }
    println!(
        "Run `cargo run -p {}` to see your code at work, and read the reference in solutions/{}/.",
        lesson.package(),
        lesson.slug
    );
    match next_chapter(root, lesson) {
        Some((title, Some(page))) => println!(
            "Next: {title} — book/{page}, {}/{}; then `cargo workbook next`.",
            chapter.book_url,
            page.trim_end_matches(".md").to_string() + ".html"
        ),
        Some((title, None)) => println!("Next in the book: {title}, which is not written yet."),
        None => println!("That was the last chapter."),
    }
    ExitCode::SUCCESS
}

/// The chapter after this lesson's in `book/SUMMARY.md`: its title, and its page unless
/// it is still a draft.
fn next_chapter(root: &Path, lesson: &Lesson) -> Option<(String, Option<String>)> {
    let summary = fs::read_to_string(root.join("book").join("SUMMARY.md")).ok()?;
    let mut entries = summary.lines().filter_map(|line| {
        let rest = line.trim_start().strip_prefix("- [")?;
        let (title, rest) = rest.split_once("](")?;
        let link = rest.strip_suffix(')')?;
        Some((title.to_string(), link.to_string()))
    });
    let page = format!("{}.md", lesson.slug);
    entries.find(|(_, link)| *link == page)?;
    let (title, link) = entries.next()?;
    Some((title, (!link.is_empty()).then_some(link)))
}

// ---------------------------------------------------------------------------------------
// Commands

/// `workbook check NN`: run lesson NN's tests; NN becomes the current lesson.
pub fn check(root: &Path, arg: &str) -> Result<ExitCode, Error> {
    let lesson = find_lesson(root, arg)?;
    let mut progress = Progress::load(root);
    progress.set_current(&lesson.number);
    let checked = check_lesson(root, &lesson, &mut progress)?;
    Ok(report(root, &checked))
}

/// `workbook` and `workbook next [NN]`: check the current lesson (NN, if given, becomes
/// it); once it is done, move on to the next lesson that is not done after it.
pub fn next(root: &Path, arg: Option<&str>) -> Result<ExitCode, Error> {
    let all = lessons::discover(root)?;
    let mut progress = Progress::load(root);
    let start = match arg {
        Some(arg) => find_lesson(root, arg)?,
        None => current_lesson(root, &all, &progress)
            .ok_or_else(|| Error::Failed("there are no lessons".into()))?,
    };
    let first = all.iter().position(|l| *l == start).unwrap_or(0);
    // The current lesson, the ones after it, then the ones before it that are still open.
    for lesson in all[first..].iter().chain(&all[..first]) {
        let fresh = progress
            .get(&lesson.number)
            .is_some_and(|e| e.done && e.fingerprint == progress::fingerprint(root, lesson));
        if fresh {
            let title = lesson.chapter(root).map(|c| c.title).unwrap_or_default();
            println!("Lesson {} · {title} — done ✓", lesson.number);
            continue;
        }
        let checked = check_lesson(root, lesson, &mut progress)?;
        if !checked.done() {
            progress.set_current(&lesson.number);
            return Ok(report(root, &checked));
        }
        println!(
            "Lesson {} · {} — done ✓",
            lesson.number, checked.chapter.title
        );
    }
    println!(
        "Every lesson in this workbook is done ({} of {}). Well done!",
        all.len(),
        all.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `workbook status`: every lesson's state, from the cache unless `refresh`.
pub fn status(root: &Path, refresh: bool) -> Result<ExitCode, Error> {
    let all = lessons::discover(root)?;
    let mut progress = Progress::load(root);
    if refresh {
        for lesson in &all {
            check_lesson(root, lesson, &mut progress)?;
        }
    }
    let (mut passed_total, mut exercises_total) = (0, 0);
    let mut rows = Vec::new();
    for lesson in &all {
        let chapter = lesson.chapter(root)?;
        let total = chapter.exercises.len();
        let (state, passed) = match progress.get(&lesson.number) {
            None => ("not started".to_string(), 0),
            Some(e) => {
                let passed = e.passed.len().min(total);
                let mut state = if e.done {
                    "done".to_string()
                } else if !e.compiled {
                    format!(
                        "does not compile ({passed} of {total} passed at the last check that did)"
                    )
                } else if passed == 0 {
                    "not started".to_string()
                } else {
                    format!("{passed} of {total} exercises pass")
                };
                if e.fingerprint != progress::fingerprint(root, lesson) {
                    state.push_str(" (changed since the last check)");
                }
                (state, if e.done { total } else { passed })
            }
        };
        passed_total += passed;
        exercises_total += total;
        rows.push([
            lesson.number.clone(),
            chapter.title.clone(),
            format!("{} {state}", bar(passed, total, 20)),
        ]);
    }
    crate::verify::print_table(&["lesson", "chapter", "progress"], &rows);
    println!(
        "\n{} {passed_total} of {exercises_total} exercises in {} lessons",
        bar(passed_total, exercises_total, 20),
        all.len()
    );
    if !refresh {
        println!(
            "(from the last test runs; `cargo workbook status --refresh` runs every lesson's tests again)"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `workbook hint NN.k`: the exercise's hints, one at a time.
pub fn hint(root: &Path, arg: &str) -> Result<ExitCode, Error> {
    let (lesson, _chapter, info) = find_exercise(root, arg)?;
    if info.hints.is_empty() {
        println!("Exercise {} has no hints.", info.id);
        return Ok(ExitCode::SUCCESS);
    }
    let count = info.hints.len();
    let stdin = std::io::stdin();
    for (i, hint) in info.hints.iter().enumerate() {
        println!(
            "{} of {count} · exercise {}: {}\n",
            hint.title, info.id, info.title
        );
        for line in hint.body.lines() {
            println!("  {line}");
        }
        if i + 1 == count {
            println!(
                "\nThat was the last hint. The reference solution is in solutions/{}/ — best read \
                 after your tests pass.",
                lesson.slug
            );
            break;
        }
        print!("\n[Enter] next hint, q to stop: ");
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        match stdin.lock().read_line(&mut answer) {
            Ok(0) | Err(_) => {
                println!();
                break;
            }
            Ok(_) if answer.trim().eq_ignore_ascii_case("q") => break,
            Ok(_) => println!(),
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `workbook watch [NN]`: check the lesson again whenever one of its exercise files is saved.
pub fn watch(root: &Path, arg: Option<&str>) -> Result<ExitCode, Error> {
    let lesson = match arg {
        Some(arg) => find_lesson(root, arg)?,
        None => current_lesson(root, &lessons::discover(root)?, &Progress::load(root))
            .ok_or_else(|| Error::Failed("there are no lessons".into()))?,
    };
    Progress::load(root).set_current(&lesson.number);
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = Arc::clone(&stop);
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))
            .map_err(|e| Error::Failed(format!("cannot catch Ctrl-C: {e}")))?;
    }
    let files = lesson.exercise_files(root);
    let mut progress = Progress::load(root);
    let banner = || {
        println!(
            "\nWatching lesson {}'s exercise files ({}); save one to check again. Ctrl-C stops.",
            lesson.number,
            files
                .iter()
                .map(|f| f
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let checked = check_lesson(root, &lesson, &mut progress)?;
    if !stop.load(Ordering::SeqCst) {
        report(root, &checked);
        banner();
    }
    let mut seen = modified_times(&files);
    while !stop.load(Ordering::SeqCst) {
        thread::sleep(Duration::from_millis(200));
        let now = modified_times(&files);
        if now == seen {
            continue;
        }
        // Debounce: editors often write a file in several steps; wait until it is quiet.
        let mut quiet = now;
        loop {
            thread::sleep(Duration::from_millis(300));
            let again = modified_times(&files);
            if again == quiet || stop.load(Ordering::SeqCst) {
                break;
            }
            quiet = again;
        }
        seen = quiet;
        if stop.load(Ordering::SeqCst) {
            break;
        }
        println!(
            "\n— a file changed; checking lesson {} again —\n",
            lesson.number
        );
        let checked = check_lesson(root, &lesson, &mut progress)?;
        if stop.load(Ordering::SeqCst) {
            break;
        }
        report(root, &checked);
        banner();
    }
    println!("\nStopped watching.");
    Ok(ExitCode::SUCCESS)
}

fn modified_times(files: &[PathBuf]) -> Vec<Option<SystemTime>> {
    files
        .iter()
        .map(|f| fs::metadata(f).and_then(|m| m.modified()).ok())
        .collect()
}

/// The lesson the learner is working on.
///
/// That is the lesson whose exercise files they saved last, if that was after the
/// current lesson was recorded (by `check`, `next`, `watch` or `reset`); else the
/// recorded one; else, for a new learner, the first lesson not known to be done. Only
/// files that differ from their skeleton count as saved by the learner: a `git pull`
/// that updates an untouched skeleton moves nobody.
fn current_lesson(root: &Path, all: &[Lesson], progress: &Progress) -> Option<Lesson> {
    let recorded = progress
        .current()
        .and_then(|(n, since)| all.iter().find(|l| l.number == n).map(|l| (l, since)));
    let since = recorded.map(|(_, since)| since);
    let edited = all
        .iter()
        .filter_map(|lesson| {
            let newest = lesson
                .pairs(root)
                .into_iter()
                .filter_map(|pair| {
                    let modified = fs::metadata(&pair.skeleton)
                        .and_then(|m| m.modified())
                        .ok()?;
                    if since.is_some_and(|since| modified <= since) {
                        return None;
                    }
                    let mine = fs::read_to_string(&pair.skeleton).ok()?;
                    (pair.generated(root).ok()? != mine).then_some(modified)
                })
                .max()?;
            Some((newest, lesson))
        })
        .max_by_key(|(newest, _)| *newest)
        .map(|(_, lesson)| lesson);
    edited
        .or(recorded.map(|(l, _)| l))
        .or_else(|| {
            all.iter()
                .find(|l| !progress.get(&l.number).is_some_and(|e| e.done))
        })
        .or(all.last())
        .cloned()
}

/// `workbook reset NN`: put a lesson's exercise files back to the skeleton.
pub fn reset(root: &Path, arg: &str, yes: bool) -> Result<ExitCode, Error> {
    let lesson = find_lesson(root, arg)?;
    // Starting a lesson over is working on it.
    Progress::load(root).set_current(&lesson.number);
    let mut restore = Vec::new();
    let pairs = lesson.pairs(root);
    if pairs.is_empty() {
        return Err(Error::Failed(format!(
            "lesson {}'s chapter names no exercise file (`File: …` lines)",
            lesson.number
        )));
    }
    for pair in pairs {
        let skeleton = pair.generated(root)?;
        let file = pair.skeleton;
        let current = fs::read_to_string(&file).unwrap_or_default();
        if current != skeleton {
            restore.push((file, skeleton));
        }
    }
    if restore.is_empty() {
        println!(
            "Lesson {}'s exercise files are already the skeleton; nothing to do.",
            lesson.number
        );
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "This puts back the skeleton of lesson {} in:",
        lesson.number
    );
    for (file, _) in &restore {
        println!("  {}", relative(root, file));
    }
    println!("Your changes to these files will be lost. No other file is touched.");
    if !yes {
        print!("Reset them? [y/N] ");
        let _ = std::io::stdout().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            println!("Nothing was changed.");
            return Ok(ExitCode::SUCCESS);
        }
    }
    for (file, skeleton) in &restore {
        fs::write(file, skeleton)
            .map_err(|e| Error::Failed(format!("cannot write {}: {e}", relative(root, file))))?;
    }
    println!("Restored {} files.", restore.len());
    Ok(ExitCode::SUCCESS)
}

/// `workbook loom NN`: model-check the learner's code (or the reference) with loom.
pub fn loom(root: &Path, number: &str, solution: bool) -> Result<ExitCode, Error> {
    let lesson = find_lesson(root, number)?;
    if !lessons::has_models(root, &lesson) {
        return Err(Error::Usage(format!(
            "lesson {} has no loom models (a `#[cfg(loom)] mod model` in its tests)",
            lesson.number
        )));
    }
    let whose = if solution {
        "the reference solution"
    } else {
        "your code"
    };
    println!(
        "Model-checking {whose} in lesson {} with loom. The first build takes several \
         minutes (everything is rebuilt with `{}`, in target/loom); then each model runs \
         your code once for every interleaving that matters, which takes seconds to a \
         minute each.",
        lesson.number,
        lessons::LOOM_RUSTFLAGS
    );
    let target = root.join("target").join("loom");
    // The models' names; this also builds them.
    let mut list = lessons::loom_command(root, &target, &lesson, solution, &[]);
    list.args(["--list", "--format", "terse"]);
    let output = list
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| Error::Failed(format!("cannot run cargo: {e}")))?;
    if !output.status.success() {
        println!("The models do not build: the compiler's message is above.");
        return Ok(ExitCode::FAILURE);
    }
    let models: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_string)
        .collect();
    // One process per model: a model that aborts the process (loom reports a data race
    // by a panic that cannot unwind) takes no other model with it. `--nocapture`, so what
    // loom printed is not lost with the process.
    let mut failed = Vec::new();
    for model in &models {
        println!("\n— {model}");
        let mut cmd = lessons::loom_command(
            root,
            &target,
            &lesson,
            solution,
            std::slice::from_ref(model),
        );
        cmd.args(["--nocapture", "--quiet"]);
        let status = cmd
            .status()
            .map_err(|e| Error::Failed(format!("cannot run cargo: {e}")))?;
        if !status.success() {
            failed.push(model.as_str());
        }
    }
    if models.is_empty() {
        println!("No model ran.");
        Ok(ExitCode::FAILURE)
    } else if failed.is_empty() {
        println!(
            "\nEvery model passed ({}): no interleaving loom tried breaks your code.",
            models.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "\n{} of {} models failed: {}. Under each one's name above is what loom \
             found: an interleaving that breaks it. Read the chapter's section on that \
             exercise, then run this again.",
            failed.len(),
            models.len(),
            failed.join(", ")
        );
        Ok(ExitCode::FAILURE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: Kind) -> Record {
        Record {
            test: "ex01_3_restarts".into(),
            exercise: Some("01.3".into()),
            kind,
            needs: None,
            at: Some("lessons/01-actors/tests/lesson.rs:298:13".into()),
            message: "a panic escaped".into(),
        }
    }

    const BLOCK: &str = "my own debug line
(a planned panic, part of the test: Fragile was told \"boom\")
thread '<unnamed>' panicked at lessons/01-actors/src/system.rs:10:5:
index out of bounds
thread 'kit:01.3:ex01_3_restarts' panicked at lessons/01-actors/tests/lesson.rs:298:13:
a panic escaped
  left: 1
 right: 2
thread 'ex01_3_restarts' panicked at lessons/01-actors/tests/lesson.rs:317:10:
exercise 01.3 failed: the panic above says what went wrong.
read: chapter 1
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace";

    #[test]
    fn what_else_a_test_printed_leaves_out_the_reported_failure() {
        assert_eq!(
            other_output(BLOCK, &record(Kind::Assertion)),
            [
                "my own debug line",
                "(a planned panic, part of the test: Fragile was told \"boom\")",
                "thread '<unnamed>' panicked at lessons/01-actors/src/system.rs:10:5:",
                "index out of bounds",
            ]
        );
        // A timeout's record describes no panic: the harness thread's panic is news.
        let timeout = other_output(BLOCK, &record(Kind::Timeout));
        assert_eq!(timeout.len(), 8, "{timeout:#?}");
        assert_eq!(timeout[7], " right: 2");
    }

    #[test]
    fn test_output_without_a_report_loses_only_the_test_file_location() {
        let block = "thread 'ex98_1_adds' panicked at lessons/98-first/tests/lesson.rs:3:5:\nassertion failed\nStopped on the first failure. Run `cargo insta test` to run all snapshots.\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace";
        assert_eq!(trim_message(block), ["assertion failed"]);
    }
}
