//! Virtual time, and a deadline for the lesson programs themselves.

use std::thread;
use std::time::Duration;

/// A current-thread tokio runtime whose clock starts paused.
///
/// Time moves only when every task is waiting: then the clock jumps straight to the next
/// timer. Every timestamp a lesson prints is therefore exact and the same on every run,
/// and a test that sleeps for an hour of virtual time takes microseconds. Only
/// `tokio::time` is virtual: `std::time::Instant` and `std::thread::sleep` are not.
pub fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("kit: cannot build the paused tokio runtime")
}

/// Run a lesson program's async part on a [`paused_runtime`], with a deadline in virtual
/// time. `package` is the lesson's package name; [`crate::run_paused!`] passes it.
///
/// If every task ends up waiting for something that never comes, the paused clock jumps
/// to the deadline at once, and the program stops with a message (exit code 124) instead
/// of waiting for the [`watchdog`].
pub fn run_paused<F: std::future::Future>(package: &str, future: F) -> F::Output {
    let lesson = lesson_number(package);
    paused_runtime().block_on(async {
        match tokio::time::timeout(Duration::from_secs(3600), future).await {
            Ok(output) => output,
            Err(_) => {
                eprintln!(
                    "lesson {lesson}: the program is stuck: every task is waiting and nothing can \
                     wake any of them (the paused clock jumped an hour ahead).\n\
                     Likely causes: a deadlock, or a `Pending` returned with no wake-up arranged.\n\
                     Run `cargo test -p lesson-{lesson}` to see which exercise is stuck."
                );
                std::process::exit(124);
            }
        }
    })
}

/// `lesson-06` → `06`: the lesson number, from the package name (anything else as it is).
pub fn lesson_number(package: &str) -> &str {
    package.strip_prefix("lesson-").unwrap_or(package)
}

/// Let every other task on the paused runtime run until it waits on something.
///
/// Implemented as a 1 ms virtual sleep: the paused clock only moves once no task can make
/// progress, so by the time the sleep ends, everything else has settled. It moves the
/// virtual clock forward by 1 ms.
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

/// End this process with a clear message if it is still running after `limit` of real time.
/// `package` is the lesson's package name; [`crate::watchdog!`] passes it.
///
/// Every lesson program calls this first, so a learner's deadlock or busy loop ends in a
/// message instead of a terminal that never comes back.
///
/// `KIT_DEADLINE_SECS`, when set (CI's hang check sets it low), replaces `limit` with
/// twice its value.
pub fn watchdog(package: &str, limit: Duration) {
    let lesson = lesson_number(package).to_string();
    let limit = std::env::var("KIT_DEADLINE_SECS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .map(|s| Duration::from_secs(2 * s))
        .unwrap_or(limit);
    thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || {
            thread::sleep(limit);
            eprintln!(
                "lesson {lesson}: the program did not finish within {secs} s and was stopped.\n\
                 Likely causes: a deadlock (a task or thread waiting for something that never comes), \
                 a busy loop that never reaches an `.await`, or a blocking call inside async code.\n\
                 Run `cargo test -p lesson-{lesson}` to see which exercise is stuck.",
                secs = limit.as_secs()
            );
            std::process::exit(124);
        })
        .expect("kit: cannot start the watchdog thread");
}

/// Print panics as two lines — where, and the message — without a backtrace, even when
/// `RUST_BACKTRACE` is set.
///
/// For lesson programs in which panics are part of the scenario (a supervisor restarting
/// an actor, a worker pool surviving a job): the learner should see that a panic happened,
/// not fifty frames of runtime internals. The format is the standard one, so an
/// unfinished exercise's `todo!` is still recognised by the tests.
pub fn brief_panics() {
    std::panic::set_hook(Box::new(print_brief));
}

/// A panic's message, whatever its payload type.
pub fn panic_message(info: &std::panic::PanicHookInfo<'_>) -> String {
    info.payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(a panic without a message)".to_string())
}

/// Print a panic as the standard hook does, minus the backtrace.
pub fn print_brief(info: &std::panic::PanicHookInfo<'_>) {
    let location = info
        .location()
        .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
        .unwrap_or_default();
    let name = thread::current().name().unwrap_or("<unnamed>").to_string();
    eprintln!(
        "thread '{name}' panicked at {location}:\n{}",
        panic_message(info)
    );
}
