//! Run a test body under a deadline, and explain what went wrong in the learner's terms.
//!
//! Every body runs on a thread of its own. The test thread waits on a channel with a
//! real-time limit, so nothing the body does can make the test hang: not a deadlock, not a
//! blocking call, not a busy loop inside an `async fn` that never reaches an `.await`.
//! When the limit passes, the body's thread is abandoned (it ends with the test process)
//! and the test fails with a message that says it timed out, names the exercise and lists
//! the likely causes.
//!
//! Async bodies also get a limit in *virtual* time: the runtime's clock is paused, so when
//! every task is waiting on something that will never happen, tokio jumps the clock to the
//! next timer — our virtual deadline — at once. A deadlock is reported in milliseconds of
//! real time, not after the real-time limit.

use std::any::Any;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, Once};
use std::thread;
use std::time::Duration;

use kit_chapter::report::{Kind, Record};
use kit_chapter::{Chapter, ExerciseInfo};

/// How long a test body may take in real time, unless `KIT_DEADLINE_SECS` says otherwise.
const REAL_DEADLINE: Duration = Duration::from_secs(5);

/// How far the paused clock may move before an async body counts as stuck.
const VIRTUAL_DEADLINE: Duration = Duration::from_secs(3600);

/// The payload of the panic raised when the virtual deadline passes.
const VIRTUAL_TIMEOUT: &str = "kit: virtual deadline passed";

/// Names of harness threads start with this, so the panic hook can tell them apart.
const THREAD_PREFIX: &str = "kit:";

/// One exercise's test, ready to run a body under a deadline.
#[derive(Clone, Debug)]
pub struct Exercise {
    chapter: Arc<Chapter>,
    info: ExerciseInfo,
    causes: Vec<String>,
    deadline: Duration,
}

impl Exercise {
    pub(crate) fn new(chapter: Arc<Chapter>, id: &str) -> Exercise {
        let info = chapter.exercise(id).cloned().unwrap_or_else(|| {
            panic!(
                "kit: {} has no heading `## Exercise {id}: …`; every exercise a test names needs one",
                chapter.file
            )
        });
        check_test_name(id);
        let deadline = std::env::var("KIT_DEADLINE_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .map(Duration::from_secs)
            .unwrap_or(REAL_DEADLINE);
        Exercise {
            chapter,
            info,
            causes: Vec::new(),
            deadline,
        }
    }

    /// A likely cause to list if this test times out, in the learner's terms.
    pub fn hangs_if(mut self, cause: &str) -> Exercise {
        self.causes.push(cause.to_string());
        self
    }

    /// A longer real-time limit than the default, for a body that is slow on purpose
    /// (a loom model explores thousands of interleavings). `KIT_DEADLINE_SECS` still
    /// shortens it, so the hang check stays quick.
    pub fn patience(mut self, limit: Duration) -> Exercise {
        if std::env::var_os("KIT_DEADLINE_SECS").is_none() {
            self.deadline = limit;
        }
        self
    }

    /// The exercise's id, e.g. `"01.2"`.
    pub fn id(&self) -> &str {
        &self.info.id
    }

    /// Run `body` on its own thread; fail the test if it panics or outlives the deadline.
    #[track_caller]
    pub fn run<R, F>(&self, body: F) -> R
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.run_on_thread(body, false)
    }

    #[track_caller]
    fn run_on_thread<R, F>(&self, body: F, is_async: bool) -> R
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        install_panic_hook();
        let thread_name = harness_thread_name(&self.info.id);
        let id = self.info.id.clone();
        let (tx, rx) = mpsc::channel();
        thread::Builder::new()
            .name(thread_name.clone())
            .spawn(move || {
                let _running = crate::crash::running(&id);
                let outcome = panic::catch_unwind(AssertUnwindSafe(body));
                let _ = tx.send(outcome);
            })
            .expect("kit: cannot spawn the test thread");

        match rx.recv_timeout(self.deadline) {
            Ok(Ok(value)) => value,
            Ok(Err(payload)) => self.fail_after_panic(&thread_name, payload),
            Err(RecvTimeoutError::Timeout) => self.fail_after_timeout(&thread_name, is_async),
            Err(RecvTimeoutError::Disconnected) => {
                panic!(
                    "kit: the test thread for exercise {} vanished",
                    self.info.id
                )
            }
        }
    }

    /// Run the future made by `make` on a current-thread tokio runtime whose clock starts
    /// paused, under both a virtual and a real-time deadline.
    #[track_caller]
    pub fn run_async<F, Fut>(&self, make: F) -> Fut::Output
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future + 'static,
        Fut::Output: Send + 'static,
    {
        self.run_on_thread(
            move || {
                let runtime = kit_run::paused_runtime();
                let output = runtime.block_on(async move {
                    match tokio::time::timeout(VIRTUAL_DEADLINE, make()).await {
                        Ok(output) => output,
                        Err(_) => panic::panic_any(VIRTUAL_TIMEOUT),
                    }
                });
                // Tasks the body left behind are dropped here; a learner's task that ignores
                // cancellation cannot delay the result, which the caller already has.
                output
            },
            true,
        )
    }

    #[track_caller]
    fn fail_after_panic(&self, thread_name: &str, payload: Box<dyn Any + Send>) -> ! {
        let message = payload_text(payload.as_ref());
        if let Some(not_done) = self.not_done(Some(&message), thread_name) {
            self.fail_not_done(not_done);
        }
        let where_ = self.chapter.where_to_read(&self.info);
        if message == VIRTUAL_TIMEOUT {
            let text = format!(
                "exercise {id} timed out: every task was waiting and nothing could wake any of them \
                 (the paused clock ran {hours} hour ahead in virtual time — no real time passed — \
                 and the test still had not finished).\n\
                 Likely causes:\n{causes}  - a deadlock: a task waits on a channel, lock or reply that only it (or another waiting task) could provide",
                id = self.info.id,
                hours = VIRTUAL_DEADLINE.as_secs() / 3600,
                causes = self.causes_list(),
            );
            self.report(Kind::Timeout, None, &text);
            panic!("{text}\n{where_}");
        }
        let last = last_panic(thread_name);
        let at = last.as_ref().map(|p| p.location.clone());
        if let Some(p) = last.as_ref().filter(|p| p.planned && p.message == message) {
            // The test's own planned panic ended the body: the code under test let it through.
            let text = format!(
                "exercise {id} failed: the test's planned panic ({what}) was not caught — it \
                 ended the test instead of being handled by the code under test",
                id = self.info.id,
                what = p.message,
            );
            self.report(Kind::Panic, at.as_deref(), &text);
            panic!("{text}.\n{where_}");
        }
        // A panic in the test file is one of the test's checks; anywhere else, the code
        // under test panicked.
        let kind = if at.as_deref().is_some_and(in_test_file) {
            Kind::Assertion
        } else {
            Kind::Panic
        };
        self.report(kind, at.as_deref(), &message);
        // The panic hook has already printed the message and where it came from, just
        // above; say which exercise it belongs to without printing it all again.
        let at = at.map(|l| format!(" ({l})")).unwrap_or_default();
        panic!(
            "exercise {id} failed: the panic above says what went wrong{at}.\n{where_}",
            id = self.info.id,
        );
    }

    #[track_caller]
    fn fail_after_timeout(&self, thread_name: &str, is_async: bool) -> ! {
        if let Some(not_done) = self.not_done(None, thread_name) {
            self.fail_not_done(not_done);
        }
        let general = if is_async {
            "  - a busy loop: async code that never reaches an `.await`, or a loop that polls \
             something that is always ready\n  \
             - a blocking call (std::thread::sleep, a std lock or channel) inside async code"
        } else {
            "  - a deadlock: threads waiting for each other, or for a channel whose senders are all \
             still alive\n  \
             - a loop that never ends"
        };
        let text = format!(
            "exercise {id} timed out: the test did not finish within {secs} s of real time.\n\
             Likely causes:\n{causes}{general}",
            id = self.info.id,
            secs = self.deadline.as_secs(),
            causes = self.causes_list(),
        );
        self.report(Kind::Timeout, None, &text);
        panic!("{text}\n{}", self.chapter.where_to_read(&self.info));
    }

    /// Tell the runner about this test's failure (see [`kit_chapter::report`]).
    fn report(&self, kind: Kind, at: Option<&str>, message: &str) {
        report(kind, Some(&self.info.id), None, at, message);
    }

    #[track_caller]
    fn fail_not_done(&self, not_done: NotDone) -> ! {
        let NotDone { id, what, location } = not_done;
        let blocked = if id == self.info.id {
            String::new()
        } else {
            format!(" (this test of exercise {} needs it)", self.info.id)
        };
        let text = format!("exercise {id} is not done yet: {what}{blocked}");
        report(
            Kind::NotDone,
            Some(&self.info.id),
            Some(&id),
            location.as_deref(),
            &text,
        );
        let edit = match location {
            Some(l) => format!("edit: {l}\n"),
            None => String::new(),
        };
        let where_ = match self.chapter.exercise(&id) {
            Some(info) => self.chapter.where_to_read(info),
            None => format!("read: {}", self.chapter.file),
        };
        panic!("{text}\n{edit}{where_}");
    }

    fn causes_list(&self) -> String {
        self.causes.iter().map(|c| format!("  - {c}\n")).collect()
    }

    /// If the body hit an unfinished `todo!("exercise NN.k: …")`: which one, and where.
    ///
    /// The body's own panic comes first; then a todo that panicked on the body's thread
    /// (a task on the paused runtime); then one from any other thread (a thread the
    /// learner's code or the test spawned), of this test's exercise if there is one, else
    /// of any, since a test for a later exercise usually fails because an earlier one is
    /// not done.
    fn not_done(&self, own: Option<&str>, thread_name: &str) -> Option<NotDone> {
        let recorded = recorded_todos();
        let location_of = |message: &str| {
            recorded
                .iter()
                .find(|(_, m, _)| m == message)
                .map(|(_, _, l)| l.clone())
        };
        let ((id, what), location) = own
            .and_then(|m| parse_todo(m).map(|t| (t, location_of(m))))
            .or_else(|| {
                recorded
                    .iter()
                    .find(|(t, _, _)| t.as_deref() == Some(thread_name))
                    .and_then(|(_, m, l)| parse_todo(m).map(|t| (t, Some(l.clone()))))
            })
            .or_else(|| {
                // Tests run at once, so another test's threads may have recorded theirs
                // too: prefer a todo of this test's own exercise.
                let others: Vec<_> = recorded
                    .iter()
                    .filter(|(t, _, _)| !t.as_deref().unwrap_or("").starts_with(THREAD_PREFIX))
                    .filter_map(|(_, m, l)| parse_todo(m).map(|t| (t, Some(l.clone()))))
                    .collect();
                let own = others.iter().position(|((id, _), _)| *id == self.info.id);
                others.into_iter().nth(own.unwrap_or(0))
            })?;
        // A todo! quoted from another process's output (the lesson program's stderr, in a
        // test's panic message) was recorded where the *test* panicked: the place to edit
        // is where the program's todo! panicked, which its output says.
        let location = location
            .filter(|l| !l.is_empty() && !in_test_file(l))
            .or_else(|| own.and_then(todo_location_in));
        Some(NotDone { id, what, location })
    }
}

/// An unfinished exercise a test ran into.
struct NotDone {
    /// `"01.1"`.
    id: String,
    /// The `todo!`'s text after the id, e.g. `"Addr::ask"`.
    what: String,
    /// Where the `todo!` is, `file:line:col`.
    location: Option<String>,
}

/// Append a record of this test's failure to the runner's report, if it asked for one.
/// The test is the current thread's: libtest names each test's thread after the test.
pub(crate) fn report(
    kind: Kind,
    exercise: Option<&str>,
    needs: Option<&str>,
    at: Option<&str>,
    message: &str,
) {
    let Some(test) = thread::current().name().map(str::to_string) else {
        return;
    };
    Record {
        test,
        exercise: exercise.map(str::to_string),
        kind,
        needs: needs.map(str::to_string),
        at: at.map(str::to_string),
        message: message.to_string(),
    }
    .append();
}

/// Where a `todo!` panicked, in text another process printed with std's panic hook: the
/// `panicked at FILE:LINE:COL:` line before its `not yet implemented` line.
pub(crate) fn todo_location_in(text: &str) -> Option<String> {
    text.lines()
        .take_while(|l| !l.contains("not yet implemented"))
        .filter_map(|l| {
            l.split_once("panicked at ")
                .map(|(_, at)| at.trim_end_matches(':').to_string())
        })
        .last()
        .filter(|at| !in_test_file(at))
}

/// Whether a `file:line:col` is in a crate's `tests/` directory.
fn in_test_file(location: &str) -> bool {
    let file = location.split(':').next().unwrap_or(location);
    std::path::Path::new(file)
        .components()
        .any(|c| c.as_os_str() == "tests")
}

/// `not yet implemented: exercise 01.2: Addr::ask` → ("01.2", "Addr::ask").
pub(crate) fn parse_todo(message: &str) -> Option<(String, String)> {
    let re = regex_lite::Regex::new(r"not yet implemented: exercise (\d{2}\.\d+):?\s*(.*)")
        .expect("valid regex");
    let caps = re.captures(message)?;
    Some((caps[1].to_string(), caps[2].trim().to_string()))
}

fn payload_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic with a non-text payload)".to_string()
    }
}

/// The harness thread's name: the prefix plus the test's own thread name, so that
/// two tests running at once never share one.
fn harness_thread_name(id: &str) -> String {
    let test = thread::current().name().unwrap_or("test").to_string();
    format!("{THREAD_PREFIX}{id}:{test}")
}

/// Test names start `exNN_k_`; a test that runs another exercise's body is a maintainer
/// mistake that would send learners to the wrong section.
fn check_test_name(id: &str) {
    let Some(name) = thread::current().name().map(str::to_string) else {
        return;
    };
    let name = name.rsplit("::").next().unwrap_or(&name).to_string();
    if let Some(rest) = name.strip_prefix("ex") {
        let expected = id.replace('.', "_") + "_";
        assert!(
            rest.starts_with(&expected),
            "kit: test `{name}` runs exercise {id}; its name should start with `ex{expected}`"
        );
    }
}

/// Unfinished-exercise panics seen so far: (thread name, message, "file:line").
type Recorded = Vec<(Option<String>, String, String)>;

static TODOS: Mutex<Recorded> = Mutex::new(Vec::new());

/// The last panic on a harness thread.
#[derive(Clone, Debug)]
struct LastPanic {
    /// `file:line:col`.
    location: String,
    message: String,
    /// Raised by [`crate::planned_panic!`].
    planned: bool,
}

/// The last panic on each harness thread.
static LAST_PANIC: Mutex<std::collections::BTreeMap<String, LastPanic>> =
    Mutex::new(std::collections::BTreeMap::new());

fn last_panic(thread_name: &str) -> Option<LastPanic> {
    LAST_PANIC
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(thread_name)
        .cloned()
}

thread_local! {
    /// Set by [`crate::planned_panic!`] just before it panics; the panic hook clears it.
    static PLANNED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Mark the next panic on this thread as planned by the test. Use [`crate::planned_panic!`].
#[doc(hidden)]
pub fn plan_panic() {
    PLANNED.with(|p| p.set(true));
}

fn recorded_todos() -> Recorded {
    TODOS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Remember every unfinished-exercise panic and the thread it happened on, and print
/// panics briefly.
///
/// A `todo!` on a harness thread is not printed at all: the harness reports it, with its
/// location, as "exercise NN.k is not done yet". A panic the test planned
/// ([`crate::planned_panic!`]) is printed as one line that says so, so that nobody
/// mistakes it for the failure. Every other panic is printed in two lines — where, and
/// the message — without a backtrace even when `RUST_BACKTRACE` is set: the frames would
/// be tokio's and the harness's, not the learner's. `KIT_BACKTRACE=1` brings back the
/// standard hook, for maintainers.
fn install_panic_hook() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        let standard = std::env::var_os("KIT_BACKTRACE").is_some_and(|v| v != "0");
        panic::set_hook(Box::new(move |info| {
            // `try_with`: a panic in a thread-local destructor comes after PLANNED is gone.
            let planned = PLANNED.try_with(|p| p.replace(false)).unwrap_or(false);
            let message = kit_run::panic_message(info);
            if message == VIRTUAL_TIMEOUT {
                return; // the harness explains this one itself
            }
            let location = info
                .location()
                .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
                .unwrap_or_default();
            let thread = thread::current().name().map(str::to_string);
            if let Some(name) = thread.as_deref().filter(|n| n.starts_with(THREAD_PREFIX)) {
                LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).insert(
                    name.to_string(),
                    LastPanic {
                        location: location.clone(),
                        message: message.clone(),
                        planned,
                    },
                );
            }
            if parse_todo(&message).is_some() {
                TODOS
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((thread, message, location));
                // The harness reports it as "exercise NN.k is not done yet", with its
                // location; eight threads each printing the same todo! is noise.
                return;
            }
            if planned && !standard {
                eprintln!("(a planned panic, part of the test: {message})");
            } else if standard {
                previous(info);
            } else {
                kit_run::print_brief(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_todo_in_another_process_is_located_from_its_output() {
        let stderr = "the service ended before logging `listening`. Its stderr:\n\
                      thread 'main' panicked at lessons/19-production/src/config.rs:139:9:\n\
                      not yet implemented: exercise 19.1: Config::from_yaml\n";
        assert_eq!(
            todo_location_in(stderr).as_deref(),
            Some("lessons/19-production/src/config.rs:139:9")
        );
        assert_eq!(
            todo_location_in("not yet implemented: exercise 19.1: x"),
            None
        );
        let in_tests = "thread 'main' panicked at lessons/19-production/tests/lesson.rs:9:1:\n\
                        not yet implemented: exercise 19.1: x";
        assert_eq!(todo_location_in(in_tests), None);
    }

    #[test]
    fn todo_messages_parse() {
        assert_eq!(
            parse_todo("not yet implemented: exercise 01.2: Addr::ask"),
            Some(("01.2".into(), "Addr::ask".into()))
        );
        assert_eq!(parse_todo("assertion failed"), None);
    }
}
