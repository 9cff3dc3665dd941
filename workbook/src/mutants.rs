//! Mutants: the pattern's classic wrong answers, kept in the repo and proven wrong.
//!
//! A mutant is the reference solution with one classic bug, written as a small edit:
//! `solutions/NN-slug/mutants/NAME.mutant`, in this form:
//!
//! ```text
//! # A shutdown flag set only after the actors have stopped: an actor spawned during
//! # the drain is still running after `shutdown` returns.
//! file: system.rs
//! caught-by: ex01_5_spawn_during_shutdown_is_refused
//! --- find
//!         self.closed.store(true, Ordering::SeqCst);
//!         let actors = self.drain();
//! --- replace
//!         let actors = self.drain();
//!         self.closed.store(true, Ordering::SeqCst);
//! ```
//!
//! The `#` lines say what the bug is. `file` is a solution file of the lesson. `caught-by`
//! names one or more exercise tests (comma-separated) that must each fail on the mutant.
//! Then one or more `--- find` / `--- replace` pairs: the find text must occur exactly
//! once in the file (in the solution as annotated, `//@` markers and all).
//!
//! `verify` builds each mutant in a scratch copy of the lesson (`target/mutants/ws-NN/`,
//! with its own build directory `target/mutants/target`, so the real lessons' builds are never touched, even by an
//! interrupted run), runs the tests it names, and fails when a mutant does not compile,
//! or when any test it names passes or does not exist.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::lessons::{self, Lesson, Outcome};
use crate::skeleton::rel;

/// At least this many mutants per lesson.
pub const MIN_PER_LESSON: usize = 5;

/// One mutant, parsed.
#[derive(Clone, Debug)]
pub struct Mutant {
    /// The file's stem: `connect-under-lock`.
    pub name: String,
    /// Where it is, for messages.
    pub path: PathBuf,
    /// What the bug is (the `#` lines).
    pub about: String,
    /// The solution file's name: `pool.rs`.
    pub file: String,
    /// The tests that must fail.
    pub caught_by: Vec<String>,
    /// The edits: (find, replace).
    pub edits: Vec<(String, String)>,
}

impl Mutant {
    pub fn parse(path: &Path, text: &str) -> Result<Mutant, String> {
        let name = path
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let where_ = path.display().to_string();
        let mut about = Vec::new();
        let mut file = None;
        let mut caught_by = Vec::new();
        let mut edits: Vec<(String, String)> = Vec::new();
        // Which block the lines go to: None (the header), Some(true) find, Some(false) replace.
        let mut block: Option<bool> = None;
        let mut find = Vec::new();
        let mut replace = Vec::new();
        let flush =
            |find: &mut Vec<&str>, replace: &mut Vec<&str>, edits: &mut Vec<(String, String)>| {
                if !find.is_empty() {
                    edits.push((find.join("\n") + "\n", replace.join("\n") + "\n"));
                }
                find.clear();
                replace.clear();
            };
        for line in text.lines() {
            match line {
                "--- find" => {
                    if block == Some(true) {
                        return Err(format!("{where_}: `--- find` twice without `--- replace`"));
                    }
                    flush(&mut find, &mut replace, &mut edits);
                    block = Some(true);
                    continue;
                }
                "--- replace" => {
                    if block != Some(true) || find.is_empty() {
                        return Err(format!(
                            "{where_}: `--- replace` must follow a non-empty `--- find`"
                        ));
                    }
                    block = Some(false);
                    continue;
                }
                _ => {}
            }
            match block {
                Some(true) => find.push(line),
                Some(false) => replace.push(line),
                None => {
                    if let Some(c) = line.strip_prefix('#') {
                        about.push(c.trim().to_string());
                    } else if let Some(f) = line.strip_prefix("file:") {
                        file = Some(f.trim().to_string());
                    } else if let Some(t) = line.strip_prefix("caught-by:") {
                        caught_by.extend(
                            t.split(',')
                                .map(|s| s.trim().to_string())
                                .filter(|s| !s.is_empty()),
                        );
                    } else if !line.trim().is_empty() {
                        return Err(format!("{where_}: unexpected line {line:?}"));
                    }
                }
            }
        }
        if block == Some(true) {
            return Err(format!(
                "{where_}: the last `--- find` has no `--- replace`"
            ));
        }
        flush(&mut find, &mut replace, &mut edits);
        let file = file.ok_or_else(|| format!("{where_}: no `file:` line"))?;
        if caught_by.is_empty() {
            return Err(format!("{where_}: no `caught-by:` test"));
        }
        if let Some(t) = caught_by.iter().find(|t| !lessons::is_exercise_test(t)) {
            return Err(format!(
                "{where_}: `{t}` is not an exercise test (exNN_k_…); a classic mistake must be caught by the test of the exercise it belongs to"
            ));
        }
        if edits.is_empty() {
            return Err(format!("{where_}: no `--- find` / `--- replace` edit"));
        }
        if about.iter().all(|a| a.is_empty()) {
            return Err(format!("{where_}: say what the bug is on `#` lines"));
        }
        Ok(Mutant {
            name,
            path: path.to_path_buf(),
            about: about.join(" ").trim().to_string(),
            file,
            caught_by,
            edits,
        })
    }

    /// The solution text with this mutant's edits applied.
    pub fn apply(&self, original: &str) -> Result<String, String> {
        let mut text = original.to_string();
        for (find, replace) in &self.edits {
            match text.matches(find.as_str()).count() {
                1 => text = text.replacen(find.as_str(), replace, 1),
                0 => {
                    return Err(format!(
                        "{}: its `--- find` text is not in {} (was the solution changed? update the mutant)",
                        self.path.display(),
                        self.file
                    ));
                }
                k => {
                    return Err(format!(
                        "{}: its `--- find` text occurs {k} times in {}; make it unique",
                        self.path.display(),
                        self.file
                    ));
                }
            }
        }
        Ok(text)
    }
}

/// Every mutant of a lesson, sorted by name.
pub fn load(root: &Path, lesson: &Lesson) -> Result<Vec<Mutant>, String> {
    let dir = lesson.solution_dir(root).join("mutants");
    let Ok(entries) = fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "mutant"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text =
                fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            Mutant::parse(&PathBuf::from(rel(root, p)), &text)
        })
        .collect()
}

/// What became of one mutant.
pub struct Verdict {
    pub mutant: Mutant,
    /// `None` when it was caught by every test it names; else why not.
    pub problem: Option<String>,
}

/// Build and test every mutant of `lesson` in a scratch workspace under `target/mutants/`.
pub fn run(root: &Path, lesson: &Lesson, mutants: &[Mutant]) -> Result<Vec<Verdict>, String> {
    // A workspace per lesson, so two lessons' mutants can be verified at once; one build
    // directory for all of them, so the registry crates are built once.
    let scratch = root.join("target").join("mutants");
    let ws = scratch.join(format!("ws-{}", lesson.number));
    prepare(root, &ws, lesson)?;
    let solution_dir = ws.join("solutions").join(&lesson.slug);
    let mut verdicts = Vec::new();
    for mutant in mutants {
        // Every mutant starts from the pristine reference.
        sync_dir(&lesson.solution_dir(root), &solution_dir)?;
        let target = solution_dir.join(&mutant.file);
        let problem = match fs::read_to_string(&target)
            .map_err(|e| {
                format!(
                    "{}: no solution file {}: {e}",
                    mutant.path.display(),
                    mutant.file
                )
            })
            .and_then(|original| mutant.apply(&original))
        {
            Err(e) => Some(e),
            Ok(mutated) => {
                fs::write(&target, mutated)
                    .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
                // Exercise tests in a normal build, loom models in a loom build.
                let (models, tests): (Vec<String>, Vec<String>) = mutant
                    .caught_by
                    .iter()
                    .cloned()
                    .partition(|t| t.starts_with(lessons::MODEL_PREFIX));
                let mut run = lessons::TestRun::default();
                if !tests.is_empty() {
                    let mut cmd =
                        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
                    cmd.current_dir(&ws)
                        .env("CARGO_TARGET_DIR", scratch.join("target"))
                        .args([
                            "test",
                            "--color",
                            "never",
                            "--no-fail-fast",
                            "-p",
                            &lesson.package(),
                            "--features",
                            "solution",
                            "--test",
                            "lesson",
                            "--",
                            "--exact",
                        ])
                        .args(&tests);
                    run.absorb(lessons::run_command(
                        cmd,
                        &format!("mutant {} of lesson {}", mutant.name, lesson.number),
                    )?);
                }
                if !models.is_empty() && run.compiled_or_empty() {
                    let cmd = lessons::loom_command(
                        &ws,
                        &scratch.join("loom-target"),
                        lesson,
                        true,
                        &models,
                    );
                    run.absorb(lessons::run_command(
                        cmd,
                        &format!(
                            "mutant {} of lesson {} under loom",
                            mutant.name, lesson.number
                        ),
                    )?);
                }
                judge(mutant, &run)
            }
        };
        verdicts.push(Verdict {
            mutant: mutant.clone(),
            problem,
        });
    }
    // Leave the scratch copy pristine too.
    sync_dir(&lesson.solution_dir(root), &solution_dir)?;
    Ok(verdicts)
}

fn judge(mutant: &Mutant, run: &lessons::TestRun) -> Option<String> {
    if !run.compiled {
        let error = run.compile_error().unwrap_or_default();
        return Some(format!(
            "does not compile (a mutant must be a wrong answer a learner could run):\n{error}"
        ));
    }
    let mut escaped = Vec::new();
    for name in &mutant.caught_by {
        match run.tests.iter().find(|(t, _)| t == name) {
            Some((_, Outcome::Failed)) => {}
            Some(_) => escaped.push(format!("{name} passed")),
            // A test binary that died (a use after free, say) took the test with it.
            None if run.crashed.is_some() => {}
            None => escaped.push(format!("{name} does not exist")),
        }
    }
    (!escaped.is_empty()).then(|| format!("escaped: {}", escaped.join(", ")))
}

/// The scratch workspace: the lesson, the support crates, the book, and a root manifest
/// whose members are just those.
fn prepare(root: &Path, ws: &Path, lesson: &Lesson) -> Result<(), String> {
    fs::create_dir_all(ws).map_err(|e| format!("cannot create {}: {e}", ws.display()))?;
    let manifest = fs::read_to_string(root.join("Cargo.toml"))
        .map_err(|e| format!("cannot read Cargo.toml: {e}"))?;
    let members: String = manifest
        .lines()
        .map(|l| {
            if l.trim_start().starts_with("members") {
                "members = [\"lessons/*\"]".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    sync_file(&ws.join("Cargo.toml"), members.as_bytes())?;
    for file in ["Cargo.lock", "book.toml", ".cargo/config.toml"] {
        if let Ok(bytes) = fs::read(root.join(file)) {
            sync_file(&ws.join(file), &bytes)?;
        }
    }
    let lessons_dir = ws.join("lessons");
    for entry in fs::read_dir(root.join("lessons"))
        .map_err(|e| e.to_string())?
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_support = !name.starts_with(|c: char| c.is_ascii_digit());
        if (is_support || name == lesson.slug) && entry.path().is_dir() {
            sync_dir(&entry.path(), &lessons_dir.join(&name))?;
        }
    }
    sync_dir(&root.join("book"), &ws.join("book"))?;
    Ok(())
}

/// Make `to` a copy of `from`, writing only files whose contents differ (so cargo's
/// fingerprints, which look at modification times, see only real changes).
fn sync_dir(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let mut wanted = Vec::new();
    for entry in fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))? {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let (src, dst) = (entry.path(), to.join(&name));
        if src.is_dir() {
            sync_dir(&src, &dst)?;
        } else {
            let bytes =
                fs::read(&src).map_err(|e| format!("cannot read {}: {e}", src.display()))?;
            sync_file(&dst, &bytes)?;
        }
        wanted.push(name);
    }
    for entry in fs::read_dir(to).map_err(|e| e.to_string())?.flatten() {
        if !wanted.contains(&entry.file_name()) {
            let p = entry.path();
            let _ = if p.is_dir() {
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            };
        }
    }
    Ok(())
}

fn sync_file(path: &Path, bytes: &[u8]) -> Result<(), String> {
    if fs::read(path).ok().as_deref() == Some(bytes) {
        return Ok(());
    }
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# Takes the lock first.\n# Deadlocks while a worker is idle.\nfile: pool.rs\ncaught-by: ex04_4_a, ex04_4_b\n--- find\n    a();\n    b();\n--- replace\n    b();\n    a();\n--- find\nx\n--- replace\n";

    #[test]
    fn a_mutant_parses_and_applies() {
        let m = Mutant::parse(Path::new("m/lock-first.mutant"), TEXT).unwrap();
        assert_eq!(m.name, "lock-first");
        assert_eq!(
            m.about,
            "Takes the lock first. Deadlocks while a worker is idle."
        );
        assert_eq!(m.caught_by, ["ex04_4_a", "ex04_4_b"]);
        assert_eq!(m.edits.len(), 2);
        let applied = m.apply("fn f() {\n    a();\n    b();\n}\nx\n").unwrap();
        assert_eq!(applied, "fn f() {\n    b();\n    a();\n}\n\n");
        assert!(
            m.apply("    a();\n    b();\n")
                .unwrap_err()
                .contains("not in pool.rs")
        );
        assert!(
            m.apply("    a();\n    b();\n    a();\n    b();\nx\n")
                .unwrap_err()
                .contains("2 times")
        );
    }

    #[test]
    fn malformed_mutants_are_refused() {
        let p = Path::new("m.mutant");
        assert!(Mutant::parse(p, "# x\nfile: a.rs\n--- find\na\n--- replace\nb\n").is_err());
        assert!(
            Mutant::parse(
                p,
                "# x\nfile: a.rs\ncaught-by: program_output\n--- find\na\n--- replace\nb\n"
            )
            .is_err()
        );
        assert!(Mutant::parse(p, "# x\nfile: a.rs\ncaught-by: ex01_1_a\n--- find\na\n").is_err());
        assert!(
            Mutant::parse(
                p,
                "file: a.rs\ncaught-by: ex01_1_a\n--- find\na\n--- replace\nb\n"
            )
            .is_err()
        );
    }
}
