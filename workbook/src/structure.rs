//! The checks of a lesson's shape that need no build: every fact has one source, and
//! what is derived from it agrees.
//!
//! - The chapter (`book/NN-slug.md`) is the source of the exercises: ids, titles, and
//!   their files (`File: \`…\`` under each heading).
//! - Each exercise file's skeleton is generated from its solution (see [`crate::skeleton`]).
//! - `src/lib.rs` swaps exactly those files for their solutions under `--features solution`.
//! - The lesson number is the directory's, and the package is named after it.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use crate::lessons::Lesson;
use crate::skeleton::rel;

/// Everything wrong with the lesson's shape; empty when it is sound.
pub fn check(root: &Path, lesson: &Lesson) -> Vec<String> {
    let mut problems = Vec::new();
    let dir = lesson.dir(root);
    let n = &lesson.number;

    // The package.
    let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap_or_default();
    if !manifest.contains(&format!("name = \"lesson-{n}\"")) {
        problems.push(format!(
            "{}/Cargo.toml: the package must be named `lesson-{n}`",
            rel(root, &dir)
        ));
    }
    if !manifest.lines().any(|l| l.trim() == "solution = []") {
        problems.push(format!(
            "{}/Cargo.toml: no `solution = []` feature",
            rel(root, &dir)
        ));
    }

    // The chapter, and SUMMARY.md's link to it.
    let chapter = match lesson.chapter(root) {
        Ok(c) => c,
        Err(e) => {
            problems.push(e);
            return problems;
        }
    };
    let page = chapter.file.trim_start_matches("book/").to_string();
    let summary = fs::read_to_string(root.join("book/SUMMARY.md")).unwrap_or_default();
    if !summary.contains(&format!("]({page})")) {
        problems.push(format!("book/SUMMARY.md does not link {page}"));
    }
    if chapter.exercises.is_empty() {
        problems.push(format!(
            "{}: no `## Exercise {n}.k: Title {{#ex-{n}-k}}` headings",
            chapter.file
        ));
    }
    let expected_prefix = format!("{}/src/", rel(root, &dir));
    for ex in &chapter.exercises {
        if !ex.id.starts_with(&format!("{n}.")) {
            problems.push(format!(
                "{}: exercise {} belongs to another lesson",
                chapter.file, ex.id
            ));
        }
        match &ex.file {
            None => problems.push(format!(
                "{}: exercise {} has no `File: \\`{expected_prefix}….rs\\`` line",
                chapter.file, ex.id
            )),
            Some(f) if !f.starts_with(&expected_prefix) || !f.ends_with(".rs") => {
                problems.push(format!(
                    "{}: exercise {}'s file `{f}` is not in {expected_prefix}",
                    chapter.file, ex.id
                ))
            }
            Some(f) if !root.join(f).is_file() => problems.push(format!(
                "{}: exercise {}'s file `{f}` does not exist",
                chapter.file, ex.id
            )),
            Some(_) => {}
        }
    }

    // Skeletons: generated from their solutions, and every todo names a chapter exercise.
    let ids: BTreeSet<&str> = chapter.exercises.iter().map(|e| e.id.as_str()).collect();
    let mut todo_ids = BTreeSet::new();
    for pair in lesson.pairs(root) {
        if !pair.solution.is_file() {
            problems.push(format!(
                "{} has no solution {}",
                rel(root, &pair.skeleton),
                rel(root, &pair.solution)
            ));
            continue;
        }
        match pair.up_to_date(root) {
            Ok(true) => {}
            Ok(false) => problems.push(format!(
                "{} is not what {} makes: run `cargo workbook skeleton {n}` (never edit a skeleton by hand)",
                rel(root, &pair.skeleton),
                rel(root, &pair.solution)
            )),
            Err(e) => problems.push(e),
        }
        let text = fs::read_to_string(&pair.skeleton).unwrap_or_default();
        for id in todo_ids_in(&text) {
            if !ids.contains(id.as_str()) {
                problems.push(format!(
                    "{}: `todo!(\"exercise {id}: …\")` names no exercise of {}",
                    rel(root, &pair.skeleton),
                    chapter.file
                ));
            }
            todo_ids.insert(id);
        }
    }
    for ex in &chapter.exercises {
        if !todo_ids.contains(&ex.id) {
            problems.push(format!(
                "exercise {}: no `todo!(\"exercise {}: …\")` in its skeleton, so the learner has nothing to write",
                ex.id, ex.id
            ));
        }
    }

    // lib.rs swaps exactly the exercise files.
    let lib = fs::read_to_string(dir.join("src/lib.rs")).unwrap_or_default();
    let swapped: BTreeSet<String> = lib
        .split("path = \"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(p, _)| p.to_string()))
        .collect();
    let wanted: BTreeSet<String> = lesson
        .pairs(root)
        .iter()
        .map(|p| {
            format!(
                "../../../solutions/{}/{}",
                lesson.slug,
                p.solution.file_name().unwrap_or_default().to_string_lossy()
            )
        })
        .collect();
    for missing in wanted.difference(&swapped) {
        problems.push(format!(
            "{}/src/lib.rs: no `#[cfg_attr(feature = \"solution\", path = \"{missing}\")]`",
            rel(root, &dir)
        ));
    }
    for extra in swapped.difference(&wanted) {
        problems.push(format!(
            "{}/src/lib.rs swaps in `{extra}`, which is not the solution of a file the chapter names",
            rel(root, &dir)
        ));
    }
    problems
}

/// The ids in every `todo!("exercise NN.k…")` of a file.
fn todo_ids_in(text: &str) -> Vec<String> {
    text.split("todo!(\"exercise ")
        .skip(1)
        .filter_map(|rest| {
            let id: String = rest
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let id = id.trim_end_matches('.').to_string();
            (!id.is_empty()).then_some(id)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn todo_ids_are_found() {
        assert_eq!(
            todo_ids_in("a todo!(\"exercise 01.2: x\") b todo!(\"exercise 01.10\")"),
            ["01.2", "01.10"]
        );
    }
}
