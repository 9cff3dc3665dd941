//! The runner's own tests, on a tiny workbook made for each test in a temporary directory:
//! two lessons (98 and 99) whose tests need nothing but std, so a fixture compiles in
//! about a second and the real lessons' build directory is never touched.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use assert_cmd::Command;

/// A fixture workbook, deleted on drop.
struct Fixture {
    root: PathBuf,
}

const SKELETON_98: &str = "/// Exercise 98.1: add two numbers.\npub fn add(a: u32, b: u32) -> u32 {\n    let _ = (a, b);\n    todo!(\"exercise 98.1: add\")\n}\n";
const SOLVED_98: &str =
    "/// Exercise 98.1: add two numbers.\npub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n";
/// The solution of 98.1, which its skeleton is generated from (`//@` markers).
const SOLUTION_98: &str = "/// Exercise 98.1: add two numbers.\npub fn add(a: u32, b: u32) -> u32 {\n    //@ solution\n    a + b\n    //@ skeleton\n    // let _ = (a, b);\n    // todo!(\"exercise 98.1: add\")\n    //@ end\n}\n";
const SOLUTION_99: &str = "pub fn double(x: u32) -> u32 {\n    //@ solution\n    x * 2\n    //@ skeleton\n    // let _ = x;\n    // todo!(\"exercise 99.1: double\")\n    //@ end\n}\n";
/// A module of lesson 98 that is not an exercise: reset must leave it alone.
const HELPER_98: &str = "pub fn helper() -> u32 {\n    1\n}\n";
const SKELETON_97: &str = "pub fn triple(x: u32) -> u32 {\n    let _ = x;\n    todo!(\"exercise 97.1: triple\")\n}\n\n\
pub fn shielded(f: impl FnOnce() + std::panic::UnwindSafe) -> Result<(), String> {\n    let _ = f;\n    todo!(\"exercise 97.2: shielded\")\n}\n";
const SOLUTION_97: &str = "pub fn triple(x: u32) -> u32 {\n    //@ solution\n    x * 3\n    //@ skeleton\n    // let _ = x;\n    // todo!(\"exercise 97.1: triple\")\n    //@ end\n}\n\n\
pub fn shielded(f: impl FnOnce() + std::panic::UnwindSafe) -> Result<(), String> {\n    //@ solution\n    std::panic::catch_unwind(f).map_err(|p| p.downcast_ref::<&str>().unwrap_or(&\"?\").to_string())\n    //@ skeleton\n    // let _ = f;\n    // todo!(\"exercise 97.2: shielded\")\n    //@ end\n}\n";
const SKELETON_99: &str =
    "pub fn double(x: u32) -> u32 {\n    let _ = x;\n    todo!(\"exercise 99.1: double\")\n}\n";

impl Fixture {
    fn new(name: &str) -> Fixture {
        let root =
            std::env::temp_dir().join(format!("workbook-runner-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let write = |path: &str, text: &str| {
            let path = root.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        };
        write("book.toml", "[book]\ntitle = \"Fixture\"\nsrc = \"book\"\n");
        write(
            "Cargo.toml",
            "[workspace]\nresolver = \"3\"\nmembers = [\"lessons/98-first\", \"lessons/99-second\"]\n",
        );
        write(
            "book/SUMMARY.md",
            "# Summary\n\n- [98. First](98-first.md)\n- [99. Second](99-second.md)\n- [100. Third]()\n",
        );
        write(
            "book/98-first.md",
            "# First\n\n## Exercise 98.1: Adding {#ex-98-1}\n\nFile: `lessons/98-first/src/one.rs`.\n\n\
             ```admonish tip collapsible=true title=\"Hint 1\"\nUse the plus sign.\n```\n\n\
             ```admonish tip collapsible=true title=\"Hint 2\"\nWrite `a + b`.\n```\n\n## Pitfalls\n\n\
             ```admonish tip title=\"Not a hint\"\nx\n```\n",
        );
        write(
            "book/99-second.md",
            "# Second\n\n## Exercise 99.1: Doubling {#ex-99-1}\n\nFile: `lessons/99-second/src/two.rs`.\n",
        );
        for (dir, package, module, skeleton, solution, test) in [
            (
                "lessons/98-first",
                "lesson-98",
                "one",
                SKELETON_98,
                SOLUTION_98,
                "#[test]\nfn ex98_1_adds() {\n    assert_eq!(lesson_98::one::add(2, 2), 4, \"2 + 2\");\n}\n#[test]\nfn program_output_matches_the_reference() {}\n",
            ),
            (
                "lessons/99-second",
                "lesson-99",
                "two",
                SKELETON_99,
                SOLUTION_99,
                "#[test]\nfn ex99_1_doubles() {\n    assert_eq!(lesson_99::two::double(2), 4);\n}\n",
            ),
        ] {
            write(
                &format!("{dir}/Cargo.toml"),
                &format!(
                    "[package]\nname = \"{package}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[features]\nsolution = []\n\n[lib]\ndoctest = false\n"
                ),
            );
            let slug = dir.trim_start_matches("lessons/");
            write(
                &format!("{dir}/src/lib.rs"),
                &format!(
                    "#[cfg_attr(feature = \"solution\", path = \"../../../solutions/{slug}/{module}.rs\")]\npub mod {module};\npub mod helper;\n"
                ),
            );
            write(&format!("{dir}/src/{module}.rs"), skeleton);
            write(&format!("{dir}/src/helper.rs"), HELPER_98);
            write(&format!("solutions/{slug}/{module}.rs"), solution);
            write(&format!("{dir}/tests/lesson.rs"), test);
        }
        write("NOTES.txt", "the learner's own notes\n");
        Fixture { root }
    }

    /// `workbook` run inside the fixture.
    fn workbook(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_workbook"));
        cmd.current_dir(&self.root)
            .env_remove("CARGO_TARGET_DIR")
            .timeout(Duration::from_secs(120));
        cmd
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn solve_98(&self) {
        fs::write(self.path("lessons/98-first/src/one.rs"), SOLVED_98).unwrap();
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// Add lesson 97, whose tests run under the real kit (`lessons/kit`), as every real
    /// lesson's do. Its dependencies build once into a directory the runner's tests
    /// share, so only the first run pays for tokio and insta.
    fn add_kit_lesson(&self) {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let kit = repo.join("lessons").join("kit");
        fs::copy(repo.join("Cargo.lock"), self.path("Cargo.lock")).unwrap();
        self.write(
            "Cargo.toml",
            "[workspace]\nresolver = \"3\"\nmembers = [\"lessons/97-kit\", \"lessons/98-first\", \"lessons/99-second\"]\n\n\
             [profile.dev]\ndebug = \"line-tables-only\"\n\n[profile.dev.package.\"*\"]\ndebug = false\n",
        );
        self.write(
            "book/SUMMARY.md",
            "# Summary\n\n- [97. Kit](97-kit.md)\n- [98. First](98-first.md)\n- [99. Second](99-second.md)\n",
        );
        self.write(
            "book/97-kit.md",
            "# Kit\n\n## Exercise 97.1: Tripling {#ex-97-1}\n\nFile: `lessons/97-kit/src/three.rs`.\n\n\
             ## Exercise 97.2: A shield {#ex-97-2}\n\nFile: `lessons/97-kit/src/three.rs`.\n",
        );
        self.write(
            "lessons/97-kit/Cargo.toml",
            &format!(
                "[package]\nname = \"lesson-97\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n\
                 [features]\nsolution = []\n\n[lib]\ndoctest = false\n\n\
                 [dev-dependencies]\nkit = {{ path = {:?} }}\n",
                kit.display().to_string()
            ),
        );
        self.write(
            "lessons/97-kit/src/lib.rs",
            "#[cfg_attr(feature = \"solution\", path = \"../../../solutions/97-kit/three.rs\")]\npub mod three;\n",
        );
        self.write("lessons/97-kit/src/three.rs", SKELETON_97);
        self.write("solutions/97-kit/three.rs", SOLUTION_97);
        self.write(
            "lessons/97-kit/tests/lesson.rs",
            "fn exercise(id: &str) -> kit::Exercise {\n    kit::lesson!().exercise(id)\n}\n\n\
             #[test]\nfn ex97_1_triples() {\n    exercise(\"97.1\").run(|| assert_eq!(lesson_97::three::triple(2), 6, \"triple(2)\"));\n}\n\n\
             #[test]\nfn ex97_2_a_panic_becomes_an_error() {\n    exercise(\"97.2\").run(|| {\n        \
             let r = lesson_97::three::shielded(|| kit::planned_panic!(\"the job exploded\"));\n        \
             assert_eq!(r, Err(\"the job exploded\".to_string()));\n    });\n}\n",
        );
    }

    /// `workbook` run in a fixture with the kit lesson: its builds go to the shared
    /// directory.
    fn workbook_with_kit(&self) -> Command {
        let mut cmd = self.workbook();
        cmd.env("CARGO_TARGET_DIR", kit_target())
            .timeout(Duration::from_secs(600));
        cmd
    }

    fn git(&self, args: &[&str]) {
        let status = StdCommand::new("git")
            .current_dir(&self.root)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
            .stdout(Stdio::null())
            .status()
            .expect("git runs");
        assert!(status.success(), "git {args:?}");
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

/// The build directory of the fixtures with the kit lesson, shared between tests and runs.
fn kit_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("kit-fixture-target")
}

fn stdout_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn next_points_a_new_learner_at_the_first_exercise() {
    let f = Fixture::new("next");
    for args in [&[][..], &["next"][..]] {
        let out = f.workbook().args(args).output().unwrap();
        let text = stdout_of(&out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "an unfinished lesson exits 1:\n{text}"
        );
        for want in [
            "Lesson 98 · First — 0 of 1 exercises pass",
            // Not started (its test reaches the todo!): the book's badge says the same.
            "· 98.1 Adding   ← next",
            "Exercise 98.1: Adding",
            "edit:  lessons/98-first/src/one.rs",
            "read:  book/98-first.md#ex-98-1",
            "http://127.0.0.1:3000/98-first.html#ex-98-1",
            "hints: `cargo workbook hint 98.1` (2 of them)",
            "The first failing test, ex98_1_adds, says:",
            "not yet implemented: exercise 98.1: add",
        ] {
            assert!(
                !text.contains("tests/lesson.rs"),
                "the test file's panic location is noise:\n{text}"
            );
            assert!(
                !text.contains("tests/lesson.rs"),
                "the test file's panic location is noise:\n{text}"
            );
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
        assert!(
            stderr_of(&out).contains("running the tests of lesson 98"),
            "progress is shown while cargo runs"
        );
    }
    let first = f.workbook().args(["check", "99"]).output().unwrap();
    assert!(
        stderr_of(&first).contains("compiling lesson 99…"),
        "a build is announced, even without a terminal:\n{}",
        stderr_of(&first)
    );
}

#[test]
fn a_finished_lesson_is_congratulated_and_next_moves_on() {
    let f = Fixture::new("done");
    f.solve_98();
    let out = f.workbook().args(["check", "98"]).output().unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("Lesson 98 is done: every test passes. Well done!"),
        "{text}"
    );
    assert!(
        text.contains("Next: 99. Second — book/99-second.md, http://127.0.0.1:3000/99-second.html"),
        "{text}"
    );

    let out = f.workbook().arg("next").output().unwrap();
    let text = stdout_of(&out);
    assert!(text.contains("Lesson 98 · First — done ✓"), "{text}");
    assert!(
        text.contains("Exercise 99.1: Doubling"),
        "next goes on to lesson 99:\n{text}"
    );
    assert!(
        !stderr_of(&out).contains("lesson 98"),
        "a lesson known to be done (and unchanged) is not run again"
    );
}

#[test]
fn a_lesson_that_does_not_compile_shows_the_compiler_error() {
    let f = Fixture::new("broken");
    fs::write(
        f.path("lessons/98-first/src/one.rs"),
        "pub fn add(a: u32, b: u32) -> u32 { a + }\n",
    )
    .unwrap();
    let out = f.workbook().args(["check", "98"]).output().unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text.contains("Lesson 98 does not compile. The compiler says:"),
        "{text}"
    );
    assert!(text.contains("error"), "{text}");
    assert!(text.contains("one.rs"), "the error names the file:\n{text}");
}

#[test]
fn status_answers_from_the_cache_and_refresh_recomputes() {
    let f = Fixture::new("status");
    let out = f.workbook().arg("status").output().unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text.contains("98      First    [░░░░░░░░░░░░░░░░░░░░] not started"),
        "{text}"
    );
    assert!(text.contains("0 of 2 exercises in 2 lessons"), "{text}");
    assert!(
        stderr_of(&out).is_empty(),
        "status runs no tests: {}",
        stderr_of(&out)
    );

    f.solve_98();
    f.workbook().args(["check", "98"]).output().unwrap();
    let started = Instant::now();
    let text = stdout_of(&f.workbook().arg("status").output().unwrap());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "status should be instant"
    );
    assert!(
        text.contains("98      First    [████████████████████] done"),
        "{text}"
    );
    assert!(
        text.contains("99      Second   [░░░░░░░░░░░░░░░░░░░░] not started"),
        "{text}"
    );
    assert!(text.contains("1 of 2 exercises in 2 lessons"), "{text}");

    // A change after the check is flagged until the next check.
    fs::write(f.path("lessons/98-first/src/one.rs"), SKELETON_98).unwrap();
    let text = stdout_of(&f.workbook().arg("status").output().unwrap());
    assert!(
        text.contains("done (changed since the last check)"),
        "{text}"
    );
    let out = f.workbook().args(["status", "--refresh"]).output().unwrap();
    let text = stdout_of(&out);
    assert!(
        text.contains("98      First    [░░░░░░░░░░░░░░░░░░░░] not started"),
        "{text}"
    );
    assert!(
        stderr_of(&out).contains("running the tests of lesson 99"),
        "refresh runs every lesson"
    );
}

#[test]
fn hints_come_one_at_a_time() {
    let f = Fixture::new("hint");
    let out = f
        .workbook()
        .args(["hint", "98.1"])
        .write_stdin("\n")
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text.contains("Hint 1 of 2 · exercise 98.1: Adding"),
        "{text}"
    );
    assert!(text.contains("Use the plus sign."), "{text}");
    assert!(
        text.contains("Hint 2 of 2"),
        "Enter shows the next hint:\n{text}"
    );
    assert!(text.contains("Write `a + b`."), "{text}");
    assert!(text.contains("That was the last hint."), "{text}");
    assert!(
        !text.contains("Not a hint"),
        "tips outside the exercise are not hints:\n{text}"
    );

    // Output piped into a reader that stops early (`| head`) is not an error.
    let mut child = StdCommand::new(env!("CARGO_BIN_EXE_workbook"))
        .current_dir(&f.root)
        .args(["hint", "98.1"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "a closed stdout ends the runner quietly:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    for stdin in ["q\n", ""] {
        let text = stdout_of(
            &f.workbook()
                .args(["hint", "98.1"])
                .write_stdin(stdin)
                .output()
                .unwrap(),
        );
        assert!(text.contains("Use the plus sign."), "{text}");
        assert!(
            !text.contains("Write `a + b`."),
            "q (or the end of input) stops after one hint:\n{text}"
        );
    }
}

#[test]
fn reset_restores_only_the_exercise_files_and_asks_first() {
    let f = Fixture::new("reset");
    f.git(&["init", "-q"]);
    f.git(&["add", "-A"]);
    f.git(&["commit", "-q", "-m", "skeleton"]);
    f.solve_98();
    // Half-done work, committed: reset must still find the skeleton.
    f.git(&["commit", "-q", "-am", "my work"]);
    fs::write(f.path("NOTES.txt"), "changed notes\n").unwrap();
    // A module that is not an exercise, changed: reset is not about it.
    fs::write(
        f.path("lessons/98-first/src/helper.rs"),
        "pub fn helper() -> u32 {\n    2\n}\n",
    )
    .unwrap();

    let out = f
        .workbook()
        .args(["reset", "98"])
        .write_stdin("n\n")
        .output()
        .unwrap();
    assert!(
        stdout_of(&out).contains("lessons/98-first/src/one.rs"),
        "it lists what it would reset"
    );
    assert!(stdout_of(&out).contains("Nothing was changed."));
    assert_eq!(
        fs::read_to_string(f.path("lessons/98-first/src/one.rs")).unwrap(),
        SOLVED_98
    );

    let out = f
        .workbook()
        .args(["reset", "98"])
        .write_stdin("y\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout_of(&out).contains("Restored 1 files."),
        "{}",
        stdout_of(&out)
    );
    assert_eq!(
        fs::read_to_string(f.path("lessons/98-first/src/one.rs")).unwrap(),
        SKELETON_98
    );
    assert_eq!(
        fs::read_to_string(f.path("NOTES.txt")).unwrap(),
        "changed notes\n",
        "reset touches nothing but exercise files"
    );
    assert!(
        fs::read_to_string(f.path("lessons/98-first/src/helper.rs"))
            .unwrap()
            .contains("    2\n"),
        "a module that is not an exercise is not reset"
    );

    f.solve_98();
    let out = f
        .workbook()
        .args(["reset", "98", "--yes"])
        .output()
        .unwrap();
    assert!(stdout_of(&out).contains("Restored 1 files."));
    assert_eq!(
        fs::read_to_string(f.path("lessons/98-first/src/one.rs")).unwrap(),
        SKELETON_98
    );
    let out = f
        .workbook()
        .args(["reset", "98", "--yes"])
        .output()
        .unwrap();
    assert!(stdout_of(&out).contains("already the skeleton"));
}

#[test]
fn bad_input_gets_one_line_naming_the_problem_and_exit_2() {
    let f = Fixture::new("bad");
    let cases: [(&[&str], &str); 8] = [
        (
            &["check", "7"],
            "workbook: there is no lesson 07; the lessons are 98, 99",
        ),
        (
            &["check", "abc"],
            "workbook: `abc` is not a lesson number; the lessons are 98, 99",
        ),
        (
            &["reset", "123", "--yes"],
            "workbook: `123` is not a lesson number; the lessons are 98, 99",
        ),
        (
            &["watch", "5"],
            "workbook: there is no lesson 05; the lessons are 98, 99",
        ),
        (
            &["hint", "98"],
            "workbook: `98` is not an exercise number; write it as NN.k — lesson 98 has 98.1",
        ),
        (
            &["hint", "98.0"],
            "workbook: lesson 98 has no exercise 98.0; its exercises are 98.1",
        ),
        (
            &["hint", "98.x"],
            "workbook: `98.x` is not an exercise number; write it as NN.k, for example 01.2",
        ),
        (
            &["hint", "98.9"],
            "workbook: lesson 98 has no exercise 98.9; its exercises are 98.1",
        ),
    ];
    for (args, want) in cases {
        let out = f.workbook().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr_of(&out).trim_end(), want, "{args:?}");
        assert!(stdout_of(&out).is_empty(), "{args:?}");
    }

    let outside = std::env::temp_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_workbook"))
        .current_dir(&outside)
        .arg("status")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("is not inside the workbook: run this from the repository's directory"),
        "{err}"
    );

    let out = f.workbook().arg("frobnicate").output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown command is a usage error"
    );
}

#[test]
fn watch_rechecks_when_a_file_is_saved_and_stops_on_ctrl_c() {
    let f = Fixture::new("watch");
    let mut child = StdCommand::new(env!("CARGO_BIN_EXE_workbook"))
        .current_dir(&f.root)
        .args(["watch", "98"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let mut wait_for = |want: &str| {
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
                let hit = line.contains(want);
                seen.push(line);
                if hit {
                    return;
                }
            }
        }
        panic!(
            "watch never printed {want:?}; it printed:\n{}",
            seen.join("\n")
        );
    };
    wait_for("Exercise 98.1: Adding");
    wait_for("Watching lesson 98's exercise files (one.rs)");
    thread::sleep(Duration::from_millis(300));
    f.solve_98();
    wait_for("a file changed; checking lesson 98 again");
    wait_for("Lesson 98 is done");
    wait_for("Watching lesson 98");

    let killed = StdCommand::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    wait_for("Stopped watching.");
    let status = child.wait().unwrap();
    assert!(
        status.success(),
        "Ctrl-C ends watch cleanly, with exit code 0: {status:?}"
    );
}

/// The fixture's paths exist as the tests expect (guards the fixture itself).
#[test]
fn the_fixture_is_a_workbook() {
    let f = Fixture::new("self");
    assert!(Path::new(&f.path("book.toml")).is_file());
    assert!(f.path("lessons/98-first/src/one.rs").is_file());
}

#[test]
fn new_scaffolds_a_lesson_that_passes_the_structural_checks() {
    let f = Fixture::new("new");
    let out = f
        .workbook()
        .args(["new", "97", "tiny-thing"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let summary = fs::read_to_string(f.path("book/SUMMARY.md")).unwrap();
    assert!(summary.contains("](97-tiny-thing.md)"), "{summary}");
    let out = f
        .workbook()
        .args(["verify", "--structure", "97", "98", "99"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout_of(&out),
        stderr_of(&out)
    );

    // A skeleton edited by hand has drifted from its solution: the check says so.
    let skeleton = f.path("lessons/97-tiny-thing/src/tiny_thing.rs");
    let text = fs::read_to_string(&skeleton).unwrap();
    fs::write(&skeleton, text.replace("Twice", "Two times")).unwrap();
    let out = f
        .workbook()
        .args(["verify", "--structure", "97"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout_of(&out).contains("is not what solutions/97-tiny-thing/tiny_thing.rs makes"),
        "{}",
        stdout_of(&out)
    );
    let out = f.workbook().args(["skeleton", "97"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        fs::read_to_string(&skeleton).unwrap(),
        text,
        "`skeleton` writes it again"
    );

    let out = f.workbook().args(["new", "98", "again"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an existing lesson number is refused"
    );
}

#[test]
fn next_goes_to_the_lesson_being_worked_on() {
    let f = Fixture::new("current");
    // A learner who started on lesson 99 (a wrong answer so far), never running the
    // runner: `next` goes there, not to the untouched lesson 98.
    f.write(
        "lessons/99-second/src/two.rs",
        "pub fn double(x: u32) -> u32 {\n    x * 3\n}\n",
    );
    let out = f.workbook().arg("next").output().unwrap();
    let text = stdout_of(&out);
    assert!(text.contains("Exercise 99.1: Doubling"), "{text}");
    assert!(
        !stderr_of(&out).contains("lesson 98"),
        "lesson 98 is not run:\n{}",
        stderr_of(&out)
    );

    // `check 98` makes 98 current; saving a file of 99 afterwards moves back to 99.
    f.workbook().args(["check", "98"]).output().unwrap();
    let text = stdout_of(&f.workbook().output().unwrap());
    assert!(text.contains("Exercise 98.1: Adding"), "{text}");
    thread::sleep(Duration::from_millis(50));
    f.write(
        "lessons/99-second/src/two.rs",
        "pub fn double(x: u32) -> u32 {\n    x * 4\n}\n",
    );
    let text = stdout_of(&f.workbook().output().unwrap());
    assert!(text.contains("Exercise 99.1: Doubling"), "{text}");
}

#[test]
fn next_nn_jumps_ahead_and_the_next_lesson_after_a_done_one_is_next() {
    let f = Fixture::new("jump");
    let out = f.workbook().args(["next", "99"]).output().unwrap();
    assert!(
        stdout_of(&out).contains("Exercise 99.1: Doubling"),
        "{}",
        stdout_of(&out)
    );
    // 99 stays current although 98 is not done.
    let out = f.workbook().arg("next").output().unwrap();
    assert!(stdout_of(&out).contains("Exercise 99.1: Doubling"));
    assert!(
        !stderr_of(&out).contains("lesson 98"),
        "{}",
        stderr_of(&out)
    );

    // Finishing the last lesson: `next` says it is done, then goes back to the open one.
    f.write(
        "lessons/99-second/src/two.rs",
        "pub fn double(x: u32) -> u32 {\n    x * 2\n}\n",
    );
    let out = f.workbook().args(["check", "99"]).output().unwrap();
    let text = stdout_of(&out);
    assert!(text.contains("Lesson 99 is done"), "{text}");
    assert!(
        text.contains("Next in the book: 100. Third, which is not written yet."),
        "{text}"
    );
    let text = stdout_of(&f.workbook().arg("next").output().unwrap());
    assert!(text.contains("Lesson 99 · Second — done ✓"), "{text}");
    assert!(text.contains("Exercise 98.1: Adding"), "{text}");
    assert!(
        text.find("Lesson 99 · Second — done").unwrap() < text.find("Exercise 98.1").unwrap(),
        "{text}"
    );

    // `next 7`: no such lesson.
    let out = f.workbook().args(["next", "7"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_compile_error_caused_in_an_exercise_file_points_there() {
    let f = Fixture::new("not-send");
    // The learner's async fn holds a std `MutexGuard` across an `.await`; the error is
    // reported in main.rs, which needs its future to be `Send`.
    f.write(
        "lessons/98-first/src/one.rs",
        &format!(
            "{SOLVED_98}\npub async fn held(m: &std::sync::Mutex<u32>) -> u32 {{\n    let guard = m.lock().unwrap();\n    std::future::ready(()).await;\n    *guard\n}}\n"
        ),
    );
    f.write(
        "lessons/98-first/src/main.rs",
        "fn spawn<F: std::future::Future + Send>(_f: F) {}\n\nfn main() {\n    let m = std::sync::Mutex::new(0);\n    spawn(async { lesson_98::one::held(&m).await });\n}\n",
    );
    let out = f.workbook().args(["check", "98"]).output().unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("lessons/98-first/src/main.rs:5"), "{text}");
    assert!(text.contains("That is a file you do not edit"), "{text}");
    assert!(
        text.contains("edit:  lessons/98-first/src/one.rs:"),
        "the runner points into the exercise file:\n{text}"
    );
}

#[test]
fn messages_name_the_address_the_book_is_served_at() {
    let f = Fixture::new("port");
    f.write(
        "book.toml",
        "[book]\ntitle = \"Fixture\"\nsrc = \"book\"\n\n[build]\nbuild-dir = \"target/book\"\n\n[workbook.admonish]\nassets_version = \"3.1.0\"\non_failure = \"bail\"\n",
    );
    let port = {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut book = StdCommand::new(env!("CARGO_BIN_EXE_workbook"))
        .current_dir(&f.root)
        .args(["book", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(book.stdout.take().unwrap()).lines();
    let served = lines
        .find_map(|l| l.ok().filter(|l| l.contains("The book is at")))
        .unwrap_or_default();
    let _ = book.kill();
    let _ = book.wait();
    assert!(served.contains(&port.to_string()), "{served}");

    let out = f.workbook().args(["check", "98"]).output().unwrap();
    let text = format!("{}{}", stdout_of(&out), stderr_of(&out));
    let want = format!("http://127.0.0.1:{port}/98-first.html#ex-98-1");
    assert!(text.contains(&want), "missing {want} in:\n{text}");

    // A server that cannot start (its port is taken) leaves the record alone.
    let taken = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let taken_port = taken.local_addr().unwrap().port().to_string();
    let out = f
        .workbook()
        .args(["book", "--port", &taken_port])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let text = stdout_of(&f.workbook().args(["check", "98"]).output().unwrap());
    assert!(text.contains(&want), "{text}");
}

#[test]
fn the_kit_reports_each_failure_to_the_runner() {
    let f = Fixture::new("kit");
    f.add_kit_lesson();
    f.write(".workbook/book-url", "http://127.0.0.1:4321\n");
    let three = "lessons/97-kit/src/three.rs";
    let check = || {
        let out = f
            .workbook_with_kit()
            .args(["check", "97"])
            .output()
            .unwrap();
        let text = stdout_of(&out);
        assert_eq!(out.status.code(), Some(1), "{text}{}", stderr_of(&out));
        text
    };

    // Not done: the kit names the exercise and the todo's place.
    let text = check();
    for want in [
        "The first failing test, ex97_1_triples, says:",
        "exercise 97.1 is not done yet: triple",
        "edit: lessons/97-kit/src/three.rs:3:5",
        "http://127.0.0.1:4321/97-kit.html#ex-97-1",
    ] {
        assert!(text.contains(want), "missing {want:?} in:\n{text}");
    }
    assert!(
        !text.contains("read: chapter"),
        "the kit's own wording is not shown:\n{text}"
    );

    // A wrong answer: the test's assertion, and nothing else.
    let skeleton = SKELETON_97.replace("let _ = x;\n    todo!(\"exercise 97.1: triple\")", "x * 2");
    f.write(three, &skeleton);
    let text = check();
    assert!(
        text.contains("assertion `left == right` failed: triple(2)\n    left: 4\n   right: 6"),
        "{text}"
    );
    assert!(!text.contains("The test also printed"), "{text}");
    // Begun and failing is ✗, as the book's badge says; not started is ·.
    assert!(text.contains("✗ 97.1 Tripling   ← next"), "{text}");
    assert!(text.contains("· 97.2 "), "{text}");

    // A panic in the learner's code: where to edit.
    f.write(three, &skeleton.replace("x * 2", "[1, 2][x as usize]"));
    let text = check();
    assert!(
        text.contains("your code panicked: index out of bounds"),
        "{text}"
    );
    assert!(
        text.contains("edit: lessons/97-kit/src/three.rs:2:5"),
        "{text}"
    );

    // 97.1 done; 97.2 lets the test's planned panic through.
    let escaping = skeleton.replace("x * 2", "x * 3").replace(
        "let _ = f;\n    todo!(\"exercise 97.2: shielded\")",
        "f();\n    Ok(())",
    );
    f.write(three, &escaping);
    let text = check();
    assert!(text.contains("✓ 97.1 Tripling"), "{text}");
    assert!(
        text.contains("the test's planned panic (the job exploded) was not caught"),
        "{text}"
    );

    // The same run without the runner: nothing is reported, the planned panic is labelled
    // and the book's address is the recorded one.
    let out = StdCommand::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .current_dir(&f.root)
        .env("CARGO_TARGET_DIR", kit_target())
        .env_remove("KIT_REPORT")
        .args(["test", "-q", "-p", "lesson-97"])
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert!(
        text.contains("(a planned panic, part of the test: the job exploded)"),
        "{text}"
    );
    assert!(
        text.contains("then open http://127.0.0.1:4321/97-kit.html#ex-97-2"),
        "{text}"
    );
}
