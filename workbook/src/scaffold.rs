//! For maintainers: `workbook skeleton` (write skeletons from solutions) and `workbook new`
//! (start a lesson that already passes `verify --structure`).

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use crate::Error;
use crate::lessons;
use crate::skeleton::rel;

/// `workbook skeleton [NN…] [--check]`.
pub fn skeletons(root: &Path, only: &[String], check: bool) -> Result<ExitCode, Error> {
    let mut chosen = Vec::new();
    for n in only {
        chosen.push(crate::learner::find_lesson(root, n)?);
    }
    if chosen.is_empty() {
        chosen = lessons::discover(root)?;
    }
    let mut differ = 0;
    for lesson in &chosen {
        for pair in lesson.pairs(root) {
            let generated = pair.generated(root)?;
            let current = fs::read_to_string(&pair.skeleton).unwrap_or_default();
            if current == generated {
                continue;
            }
            differ += 1;
            if check {
                println!(
                    "{} differs from what {} makes",
                    rel(root, &pair.skeleton),
                    rel(root, &pair.solution)
                );
            } else {
                fs::write(&pair.skeleton, generated).map_err(|e| {
                    Error::Failed(format!("cannot write {}: {e}", pair.skeleton.display()))
                })?;
                println!("wrote {}", rel(root, &pair.skeleton));
            }
        }
    }
    if differ == 0 {
        println!("every skeleton is what its solution makes");
    }
    Ok(if check && differ > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// `workbook new NN slug`.
pub fn new(root: &Path, number: &str, slug: &str) -> Result<ExitCode, Error> {
    if number.len() != 2 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::Usage(format!(
            "`{number}` is not a two-digit lesson number"
        )));
    }
    let slug_ok = !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if !slug_ok {
        return Err(Error::Usage(format!(
            "`{slug}` is not a slug: lower-case letters, digits and dashes, like `lock-free`"
        )));
    }
    if let Some(existing) = lessons::discover(root)?
        .into_iter()
        .find(|l| l.number == number)
    {
        return Err(Error::Usage(format!(
            "lesson {number} exists already: lessons/{}",
            existing.slug
        )));
    }
    let dir = format!("{number}-{slug}");
    let module = slug.replace('-', "_");
    let title = {
        let words = slug.replace('-', " ");
        let mut chars = words.chars();
        chars
            .next()
            .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
            .unwrap_or_default()
    };
    let n: u32 = number.parse().unwrap_or(0);
    let files = [
        (
            format!("lessons/{dir}/Cargo.toml"),
            format!(
                r#"[package]
name = "lesson-{number}"
description = "Chapter {n}: {title}."
version.workspace = true
edition.workspace = true
rust-version.workspace = true
publish.workspace = true
license.workspace = true

[features]
# Build the reference solution instead of the skeleton (see src/lib.rs).
solution = []

[lib]
doctest = false
# No unit tests live in the lib: not building an empty test harness for it keeps the
# learner's edit -> test loop short.
test = false

[[bin]]
name = "lesson-{number}"
path = "src/main.rs"
test = false

[dependencies]
kit-run.workspace = true
clap.workspace = true

[dev-dependencies]
kit.workspace = true
"#
            ),
        ),
        (
            format!("lessons/{dir}/src/lib.rs"),
            format!(
                r#"//! Lesson {number}: {title}.
//!
//! You edit the exercise files only; this file swaps in the reference solution when the
//! crate is built with `--features solution`.

#[cfg_attr(feature = "solution", path = "../../../solutions/{dir}/{module}.rs")]
pub mod {module};
"#
            ),
        ),
        (
            format!("lessons/{dir}/src/main.rs"),
            format!(
                r#"//! Lesson {number}'s program: drives the learner's code and prints what holds on every run.

use std::time::Duration;

use clap::Parser;

/// Lesson {number}: {title}.
#[derive(Parser)]
#[command(name = "lesson-{number}")]
struct Args {{
    /// How many items (1 to 100).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=100))]
    items: u32,
}}

fn main() {{
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(20));
    kit_run::brief_panics();
    println!("Lesson {number}: {title}");
    println!("answer for {{}}: {{}}", args.items, lesson_{number}::{module}::answer(args.items));
}}
"#
            ),
        ),
        (
            format!("lessons/{dir}/tests/lesson.rs"),
            format!(
                r#"//! Lesson {number}'s tests, in the order of the chapter's exercises.

#[test]
fn ex{number}_1_answers_twice_the_input() {{
    kit::lesson!().exercise("{number}.1").run(|| {{
        assert_eq!(lesson_{number}::{module}::answer(21), 42, "answer(21)");
    }});
}}

kit::program_tests!("--items", "0");
"#
            ),
        ),
        (
            format!("solutions/{dir}/{module}.rs"),
            format!(
                r#"//! Exercise {number}.1: a first answer.

/// Twice `x`.
pub fn answer(x: u32) -> u32 {{
    //@ solution
    x * 2
    //@ skeleton
    // let _ = x;
    // todo!("exercise {number}.1: answer")
    //@ end
}}
"#
            ),
        ),
        (
            format!("solutions/{dir}/mutants/off-by-one.mutant"),
            format!(
                r#"# A draft: replace it with the pattern's classic mistakes, at least five, each caught
# by the exercise test that names it (see CONTRIBUTING.md, "Mutants").
file: {module}.rs
caught-by: ex{number}_1_answers_twice_the_input
--- find
    x * 2
--- replace
    x * 2 + 1
"#
            ),
        ),
        (
            format!("book/{dir}.md"),
            format!(
                r#"# {title}

What the learner will be able to do after this chapter.

## Exercise {number}.1: A first answer {{#ex-{number}-1}}

File: `lessons/{dir}/src/{module}.rs`.

The task.

```admonish tip collapsible=true title="Hint 1"
A hint.
```

## Running the tests

`cargo test -p lesson-{number}`, or `cargo workbook check {number}`.

## Pitfalls

## In production
"#
            ),
        ),
    ];
    for (path, _) in &files {
        if root.join(path).exists() {
            return Err(Error::Usage(format!("{path} exists already")));
        }
    }
    for (path, text) in &files {
        let full = root.join(path);
        if let Some(parent) = full.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| Error::Failed(format!("cannot create {}: {e}", parent.display())))?;
        }
        fs::write(&full, text).map_err(|e| Error::Failed(format!("cannot write {path}: {e}")))?;
        println!("wrote {path}");
    }
    // The skeleton, from the solution.
    let solution = &files[4].1;
    let skeleton = crate::skeleton::generate("solution", solution).map_err(Error::Failed)?;
    let skeleton_path = format!("lessons/{dir}/src/{module}.rs");
    fs::write(root.join(&skeleton_path), skeleton)
        .map_err(|e| Error::Failed(format!("cannot write {skeleton_path}: {e}")))?;
    println!("wrote {skeleton_path} (generated from its solution)");
    // SUMMARY.md: fill in the draft entry `[N. Title]()` if there is one.
    let summary_path = root.join("book/SUMMARY.md");
    let summary = fs::read_to_string(&summary_path).unwrap_or_default();
    let draft = format!("- [{n}. ");
    let mut done = false;
    let updated: Vec<String> = summary
        .lines()
        .map(|l| {
            if !done && l.starts_with(&draft) && l.ends_with("]()") {
                done = true;
                format!("{}({dir}.md)", l.trim_end_matches("()"))
            } else {
                l.to_string()
            }
        })
        .collect();
    let mut text = updated.join("\n") + "\n";
    if !done {
        text.push_str(&format!("- [{n}. {title}]({dir}.md)\n"));
    }
    fs::write(&summary_path, text)
        .map_err(|e| Error::Failed(format!("cannot write book/SUMMARY.md: {e}")))?;
    println!("linked book/{dir}.md from book/SUMMARY.md");
    // The templates are formatted for a short name; a long one makes rustfmt wrap lines.
    let formatted =
        std::process::Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .current_dir(root)
            .args(["fmt", "-p", &format!("lesson-{number}")])
            .status();
    if !formatted.is_ok_and(|s| s.success()) {
        println!("(`cargo fmt -p lesson-{number}` did not run: format the new files yourself)");
    }
    println!(
        "\nNext: `cargo workbook verify --structure {number}`; write the lesson; record its snapshot \
         from the reference (INSTA_UPDATE=always cargo test -p lesson-{number} --features solution); \
         then `cargo workbook verify {number}`. See CONTRIBUTING.md."
    );
    Ok(ExitCode::SUCCESS)
}
