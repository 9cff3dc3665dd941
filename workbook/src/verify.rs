//! `workbook verify`: every lesson proven both ways.
//!
//! 1. The reference solution (`--features solution`) passes every test.
//! 2. The untouched skeleton compiles, and every exercise test fails on it: a test that
//!    passes on the skeleton tests nothing.
//! 3. Every exercise the chapter lists has at least one test, and no test is ignored.
//! 4. The lesson's shape: one source for each fact ([`crate::structure`]), skeletons
//!    generated from their solutions.
//! 5. Every mutant (a classic wrong answer, [`crate::mutants`]) is caught by the tests it
//!    names, and the lesson has at least five.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

use crate::Error;
use crate::lessons::{self, Outcome};
use crate::{mutants, structure};

/// What to prove.
#[derive(Clone, Copy, Debug)]
pub struct Scope {
    /// Only the checks that need no build (structure, skeletons, mutant files parse).
    pub structure_only: bool,
    /// Skip building and testing the mutants.
    pub no_mutants: bool,
}

pub fn run(root: &Path, only: &[String], scope: Scope) -> Result<ExitCode, Error> {
    let mut chosen = Vec::new();
    for n in only {
        chosen.push(crate::learner::find_lesson(root, n)?);
    }
    if chosen.is_empty() {
        chosen = lessons::discover(root)?;
    }

    let mut rows = Vec::new();
    let mut problems = Vec::new();
    for lesson in &chosen {
        let mut lesson_problems = structure::check(root, lesson);
        let mutants = match mutants::load(root, lesson) {
            Ok(m) => m,
            Err(e) => {
                lesson_problems.push(e);
                Vec::new()
            }
        };
        if scope.structure_only {
            rows.push([
                lesson.slug.clone(),
                "-".into(),
                "not run".into(),
                "not run".into(),
                format!("{} (not run)", mutants.len()),
                if lesson_problems.is_empty() {
                    "sound".into()
                } else {
                    "NOT SOUND".into()
                },
            ]);
            for p in lesson_problems {
                problems.push(format!("lesson {}: {p}", lesson.number));
            }
            continue;
        }
        let reference = lessons::run_tests(root, lesson, true)?;
        let skeleton = lessons::run_tests(root, lesson, false)?;
        let chapter_ids: Vec<String> = lesson
            .chapter(root)
            .map(|c| c.exercises.iter().map(|e| e.id.clone()).collect())
            .unwrap_or_default();

        // The reference.
        let ref_failed: Vec<_> = reference
            .tests
            .iter()
            .filter(|(_, o)| *o != Outcome::Passed)
            .map(|(n, o)| format!("{n} ({o:?})"))
            .collect();
        let ref_cell = if !reference.compiled {
            lesson_problems.push("the reference does not compile".to_string());
            "does not compile".to_string()
        } else if reference.tests.is_empty() {
            lesson_problems.push("the reference ran no test".to_string());
            "no tests".to_string()
        } else if ref_failed.is_empty() {
            format!("pass ({} tests)", reference.tests.len())
        } else {
            lesson_problems.push(format!("the reference fails: {}", ref_failed.join(", ")));
            format!("FAIL ({} of {})", ref_failed.len(), reference.tests.len())
        };
        // The loom models, on the reference.
        let ref_cell = if lessons::has_models(root, lesson) && reference.compiled {
            let run = lessons::run_command(
                lessons::loom_command(root, &root.join("target").join("loom"), lesson, true, &[]),
                &format!("the loom models of lesson {}", lesson.number),
            )?;
            let failed: Vec<_> = run
                .tests
                .iter()
                .filter(|(_, o)| *o != Outcome::Passed)
                .map(|(n, o)| format!("{n} ({o:?})"))
                .collect();
            if !run.compiled {
                lesson_problems.push("the loom models do not compile".to_string());
                eprintln!("{}", tail(&run.log, 40));
            } else if run.tests.is_empty() {
                lesson_problems.push("no loom model ran".to_string());
            } else if !failed.is_empty() {
                lesson_problems.push(format!(
                    "loom models fail on the reference: {}",
                    failed.join(", ")
                ));
            }
            format!("{ref_cell}, {} loom models", run.tests.len())
        } else {
            ref_cell
        };
        // The skeleton.
        let ex_tests: Vec<_> = skeleton.exercise_tests().collect();
        let passing: Vec<_> = ex_tests
            .iter()
            .filter(|(_, o)| *o != Outcome::Failed)
            .map(|(n, _)| n.clone())
            .collect();
        let skel_cell = if !skeleton.compiled {
            lesson_problems.push("the skeleton does not compile".to_string());
            "does not compile".to_string()
        } else if ex_tests.is_empty() {
            lesson_problems.push("no exercise tests (exNN_k_…) ran".to_string());
            "no exercise tests".to_string()
        } else if passing.is_empty() {
            format!(
                "{} of {} exercise tests fail",
                ex_tests.len(),
                ex_tests.len()
            )
        } else {
            lesson_problems.push(format!(
                "exercise tests that do not fail on the skeleton: {}",
                passing.join(", ")
            ));
            format!(
                "{} of {} fail",
                ex_tests.len() - passing.len(),
                ex_tests.len()
            )
        };
        // The chapter's exercises against the tests.
        let tested: BTreeSet<String> = reference
            .exercise_tests()
            .filter_map(|(n, _)| lessons::exercise_of(n))
            .collect();
        let untested: Vec<_> = chapter_ids
            .iter()
            .filter(|id| !tested.contains(*id))
            .cloned()
            .collect();
        if chapter_ids.is_empty() {
            lesson_problems.push("its chapter lists no `## Exercise NN.k: …` headings".to_string());
        }
        if !untested.is_empty() {
            lesson_problems.push(format!("exercises with no test: {}", untested.join(", ")));
        }
        if reference
            .tests
            .iter()
            .chain(skeleton.tests.iter())
            .any(|(_, o)| *o == Outcome::Ignored)
        {
            lesson_problems.push("an ignored test proves nothing".to_string());
        }

        // The mutants.
        let mutant_cell = if scope.no_mutants {
            format!("{} (not run)", mutants.len())
        } else if !reference.compiled {
            "not run".to_string()
        } else {
            let verdicts = mutants::run(root, lesson, &mutants)?;
            let caught = verdicts.iter().filter(|v| v.problem.is_none()).count();
            for v in &verdicts {
                if let Some(p) = &v.problem {
                    lesson_problems.push(format!(
                        "mutant `{}` ({}): {p}",
                        v.mutant.name, v.mutant.about
                    ));
                }
            }
            format!("{caught} of {} caught", verdicts.len())
        };
        if mutants.len() < mutants::MIN_PER_LESSON {
            lesson_problems.push(format!(
                "{} mutants in solutions/{}/mutants/; every lesson needs at least {}",
                mutants.len(),
                lesson.slug,
                mutants::MIN_PER_LESSON
            ));
        }

        rows.push([
            lesson.slug.clone(),
            chapter_ids.len().to_string(),
            ref_cell,
            skel_cell,
            mutant_cell,
            if lesson_problems.is_empty() {
                "proven".into()
            } else {
                "NOT PROVEN".into()
            },
        ]);
        for p in lesson_problems {
            problems.push(format!("lesson {}: {p}", lesson.number));
        }
        if !reference.compiled || !skeleton.compiled {
            let which = if !reference.compiled {
                &reference
            } else {
                &skeleton
            };
            eprintln!("{}", tail(&which.log, 40));
        }
    }

    print_table(
        &[
            "lesson",
            "exercises",
            "reference",
            "skeleton",
            "mutants",
            "verdict",
        ],
        &rows,
    );
    if problems.is_empty() {
        if scope.structure_only {
            println!(
                "\nall {} lessons sound (structure only: nothing was built)",
                chosen.len()
            );
        } else {
            println!("\nall {} lessons proven", chosen.len());
        }
        Ok(ExitCode::SUCCESS)
    } else {
        println!();
        for p in &problems {
            println!("- {p}");
        }
        Ok(ExitCode::FAILURE)
    }
}

fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Print rows under a header, columns padded to their widest cell.
pub fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    line(
        widths
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .iter()
            .map(String::as_str)
            .collect(),
    );
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}
