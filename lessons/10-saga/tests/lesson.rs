//! Lesson 10's tests, in the order of the chapter's exercises.
//!
//! Every saga here runs against the lesson's scripted services in a real SQLite file in a
//! fresh temporary directory, on a virtual clock. The tests never look at the keys you
//! choose, only at what they do: how many keys a service was sent for one step, and what
//! each key left in its ledger. The crash tests stop a saga at every crash point — in this
//! process by unwinding, then in a separate process with SIGKILL — and resume it.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::Duration;

use lesson_10::crash::{self, Crash, Crashed};
use lesson_10::log::{Entry, SagaLog};
use lesson_10::orchestrator::Orchestrator;
use lesson_10::progress::{self, Progress};
use lesson_10::retry::{RetryPolicy, retry};
use lesson_10::services::{Call, Ledger, Op, Reply, Scenario, Script, Service};
use lesson_10::{
    Failure, Jitter, MostJitter, NoJitter, Participant, SeededJitter, Status, StepError,
    VirtualClock,
};
use tempfile::TempDir;

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

const STEPS: [&str; 3] = ["inventory", "payment", "shipping"];

const fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// 100 ms doubling to 2 s: ceilings 100, 200, 400, 800, 1600, 2000, 2000, …
const POLICY: RetryPolicy = RetryPolicy {
    max_attempts: 4,
    first_delay: ms(100),
    max_delay: ms(2000),
};

const UNDO_POLICY: RetryPolicy = RetryPolicy {
    max_attempts: 5,
    first_delay: ms(100),
    max_delay: ms(2000),
};

// ---------------------------------------------------------------------------------------
// The world a saga runs in

/// A SQLite file in a fresh directory, its log and ledger, a virtual clock.
struct World {
    _dir: TempDir,
    path: PathBuf,
    log: SagaLog,
    ledger: Ledger,
    clock: VirtualClock,
}

fn world() -> World {
    // In memory where the system offers it: a SIGKILL loses nothing the kernel has, disk or
    // not, and a disk busy with other work makes every commit's fsync slow.
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("a temporary directory");
    let path = dir.path().join("saga.db");
    World {
        log: SagaLog::open(&path).expect("the saga log opens"),
        ledger: Ledger::open(&path).expect("the ledger opens"),
        path,
        _dir: dir,
        clock: VirtualClock::new(),
    }
}

/// Inventory, payment and shipping, answering as the scripts say.
fn services(path: &Path, scripts: [Script; 3]) -> Vec<Service> {
    STEPS
        .iter()
        .zip(scripts)
        .map(|(name, script)| Service::open(path, name, script).expect("a service opens"))
        .collect()
}

fn orchestrator<'a>(w: &'a World, services: &'a [Service]) -> Orchestrator<'a> {
    Orchestrator {
        log: &w.log,
        steps: services.iter().map(|s| s as &dyn Participant).collect(),
        act_policy: POLICY,
        undo_policy: UNDO_POLICY,
        clock: &w.clock,
        jitter: &NoJitter,
    }
}

/// Run `saga` with these scripts in `w`, and return its final status.
fn run(w: &World, saga: &str, scripts: [Script; 3]) -> Status {
    let services = services(&w.path, scripts);
    orchestrator(w, &services)
        .run(saga)
        .expect("the saga log works")
}

fn entries(w: &World, saga: &str) -> Vec<Entry> {
    w.log.entries(saga).expect("the log reads")
}

fn calls(w: &World) -> Vec<Call> {
    w.ledger.calls().expect("the journal reads")
}

/// The keys `saga`'s log sent to `service` (in `Started` or `Undoing` entries).
fn keys_sent(w: &World, saga: &str, step: usize) -> Vec<String> {
    let mut keys: Vec<String> = entries(w, saga)
        .into_iter()
        .filter_map(|e| match e {
            Entry::Started { step: s, key } | Entry::Undoing { step: s, key } if s == step => {
                Some(key)
            }
            _ => None,
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// What `service`'s ledger holds for the keys `saga` sent it, e.g. `["done"]`.
fn left_at(w: &World, saga: &str, step: usize) -> Vec<String> {
    let service = STEPS[step];
    w.ledger
        .keys(service)
        .expect("the ledger reads")
        .into_iter()
        .filter(|(key, _)| keys_sent(w, saga, step).contains(key))
        .map(|(_, state)| state)
        .collect()
}

/// A log entry without its key and failure details: its kind and step, e.g. `"started 1"`.
fn shape(entry: &Entry) -> String {
    match entry {
        Entry::Begun => "begun".to_string(),
        Entry::Started { step, .. } => format!("started {step}"),
        Entry::Done { step } => format!("done {step}"),
        Entry::Failed { step, .. } => format!("failed {step}"),
        Entry::Undoing { step, .. } => format!("undoing {step}"),
        Entry::Undone { step } => format!("undone {step}"),
        Entry::Stuck { step, .. } => format!("stuck {step}"),
    }
}

fn shapes(entries: &[Entry]) -> Vec<String> {
    entries.iter().map(shape).collect()
}

/// The service calls in words, without keys: `"payment act -> ok"`.
fn said(calls: &[Call]) -> Vec<String> {
    calls
        .iter()
        .map(|c| format!("{} {} -> {}", c.service, c.op, c.reply))
        .collect()
}

// ---------------------------------------------------------------------------------------
// 10.1 retries with backoff

/// Jitter that picks a fixed fraction (in thousandths) of what it may.
struct Fraction(u32);

impl Jitter for Fraction {
    fn pick(&self, upto: Duration) -> Duration {
        upto * self.0 / 1000
    }
}

#[test]
fn ex10_1_the_ceiling_doubles_up_to_max_delay() {
    exercise("10.1").run(|| {
        let ceilings = [100, 200, 400, 800, 1600, 2000, 2000, 2000];
        for (retry, ceiling) in (1..).zip(ceilings) {
            let least = POLICY.delay(retry, &NoJitter);
            let most = POLICY.delay(retry, &MostJitter);
            assert_eq!(
                (least, most),
                (ms(ceiling / 2), ms(ceiling)),
                "RetryPolicy {{ first_delay: 100ms, max_delay: 2s }}.delay({retry}): the ceiling \
                 is 100ms × 2^{} = {}ms capped at 2s, so the wait is half of it plus \
                 jitter.pick(the other half): between {}ms (a jitter that picks 0) and {}ms (a \
                 jitter that picks all it may). (least, most) were",
                retry - 1,
                100 * (1u64 << (retry - 1)),
                ceiling / 2,
                ceiling
            );
        }
        let odd = RetryPolicy {
            max_attempts: 3,
            first_delay: Duration::from_nanos(101),
            max_delay: ms(1000),
        };
        assert_eq!(
            (odd.delay(1, &NoJitter), odd.delay(1, &MostJitter)),
            (Duration::from_nanos(50), Duration::from_nanos(101)),
            "a ceiling of 101ns: half is 50ns, and the random part may add up to the other \
             51ns — ceiling / 2 + jitter.pick(ceiling - ceiling / 2), so that the most it can \
             wait is the ceiling itself. (least, most) were"
        );
        let quarter = POLICY.delay(3, &Fraction(500));
        assert_eq!(
            quarter,
            ms(300),
            "delay(3) with a jitter that picks half of what it may: 200ms + half of 200ms"
        );
    });
}

#[test]
fn ex10_1_a_large_retry_number_waits_max_delay_and_never_overflows() {
    exercise("10.1")
        .hangs_if(
            "the ceiling is doubled in a loop, once per retry, that does not stop at \
             max_delay: delay(u32::MAX) then loops four billion times",
        )
        .run(|| {
            for retry in [20, 31, 32, 33, 64, 1000, u32::MAX] {
                let got =
                    panic::catch_unwind(|| POLICY.delay(retry, &MostJitter)).unwrap_or_else(|_| {
                        panic!(
                            "delay({retry}) panicked (the message above says where): 100ms × \
                         2^{} does not fit in a Duration. Compute the ceiling with checked \
                         arithmetic and take max_delay when it overflows (Hint 1)",
                            u64::from(retry) - 1
                        )
                    });
                assert_eq!(
                    got,
                    ms(2000),
                    "delay({retry}): 100ms × 2^{} is far above max_delay; the ceiling is max_delay",
                    u64::from(retry) - 1
                );
            }
            let huge = RetryPolicy {
                max_attempts: 3,
                first_delay: Duration::from_secs(u64::MAX / 4),
                max_delay: Duration::from_secs(3600),
            };
            assert_eq!(
                huge.delay(3, &MostJitter),
                Duration::from_secs(3600),
                "a first_delay of u64::MAX / 4 seconds, doubled twice, does not fit in a Duration: \
             the ceiling is max_delay (checked_mul, not *)"
            );
            assert_eq!(
                huge.delay(1, &MostJitter),
                Duration::from_secs(3600),
                "max_delay caps the first wait too"
            );
        });
}

#[test]
fn ex10_1_the_jitter_is_seeded_and_stays_between_half_and_all_of_the_ceiling() {
    exercise("10.1").run(|| {
        let waits = |seed: u64| -> Vec<Duration> {
            let jitter = SeededJitter::new(seed);
            (0..40).map(|i| POLICY.delay(1 + i % 6, &jitter)).collect()
        };
        let a = waits(7);
        for (i, wait) in a.iter().enumerate() {
            let retry = 1 + (i as u32) % 6;
            let ceiling = POLICY.delay(retry, &MostJitter);
            assert!(
                ceiling / 2 <= *wait && *wait <= ceiling,
                "delay({retry}) with a seeded jitter was {wait:?}: it must be between half the \
                 ceiling ({:?}) and the ceiling ({ceiling:?})",
                ceiling / 2
            );
        }
        assert_eq!(
            a,
            waits(7),
            "two jitters seeded alike must give the same waits: use the jitter you are given, \
             once per delay, and no other randomness"
        );
        let at_retry_1: Vec<&Duration> = a.iter().step_by(6).collect();
        assert!(
            at_retry_1.windows(2).any(|w| w[0] != w[1]),
            "seven waits before retry 1 with a seeded jitter were all {:?}: the wait must have \
             a random part, jitter.pick(the other half of the ceiling)",
            at_retry_1[0]
        );
        assert_ne!(
            a,
            waits(8),
            "jitters seeded differently gave the same 40 waits"
        );
    });
}

/// An operation that answers from a list, and counts its calls; past the list, it
/// panics — a retry loop that does not stop ends there, not in a hang.
struct Scripted {
    replies: Vec<Result<(), StepError>>,
    calls: usize,
}

impl Scripted {
    fn new(replies: Vec<Result<(), StepError>>) -> Scripted {
        Scripted { replies, calls: 0 }
    }

    fn call(&mut self) -> Result<(), StepError> {
        self.calls += 1;
        match self.replies.get(self.calls - 1) {
            Some(reply) => reply.clone(),
            None => panic!(
                "retry sent the call {} times; the test scripted {} replies. It must stop at \
                 the first Ok, at a permanent error, or after max_attempts sends",
                self.calls,
                self.replies.len()
            ),
        }
    }
}

fn timeout(n: u32) -> Result<(), StepError> {
    Err(StepError::Transient(format!("timeout #{n}")))
}

#[test]
fn ex10_1_retry_waits_on_the_clock_between_attempts_until_ok() {
    exercise("10.1").run(|| {
        let clock = VirtualClock::new();
        let mut op = Scripted::new(vec![timeout(1), timeout(2), Ok(())]);
        let got = retry(&POLICY, &clock, &NoJitter, || op.call());
        assert_eq!(got, Ok(3), "two timeouts then Ok: sent three times");
        assert_eq!(
            clock.sleeps(),
            vec![ms(50), ms(100)],
            "the waits slept on the clock you are given, before retry 1 and retry 2 (with a \
             jitter that picks 0: half of 100ms, half of 200ms). Sleep with clock.sleep, never \
             std::thread::sleep"
        );
        let clock = VirtualClock::new();
        let mut op = Scripted::new(vec![Ok(())]);
        assert_eq!(retry(&POLICY, &clock, &NoJitter, || op.call()), Ok(1));
        assert_eq!(clock.sleeps(), vec![], "Ok at once: no wait");
    });
}

#[test]
fn ex10_1_a_permanent_error_is_not_retried() {
    exercise("10.1").run(|| {
        let clock = VirtualClock::new();
        let mut op = Scripted::new(vec![
            timeout(1),
            Err(StepError::Permanent("card declined".to_string())),
        ]);
        let got = retry(&POLICY, &clock, &NoJitter, || op.call());
        assert_eq!(
            got,
            Err(Failure::Permanent("card declined".to_string())),
            "a timeout, then a permanent error: returned at once as Failure::Permanent"
        );
        assert_eq!(op.calls, 2, "calls made");
        assert_eq!(
            clock.sleeps(),
            vec![ms(50)],
            "one wait, after the timeout, slept on the clock you are given (clock.sleep)"
        );
    });
}

#[test]
fn ex10_1_retry_gives_up_after_max_attempts_without_a_last_wait() {
    exercise("10.1").run(|| {
        let clock = VirtualClock::new();
        let mut op = Scripted::new((1..=4).map(timeout).collect());
        let got = retry(&POLICY, &clock, &NoJitter, || op.call());
        assert_eq!(
            got,
            Err(Failure::GaveUp {
                attempts: 4,
                last: "timeout #4".to_string()
            }),
            "four timeouts with max_attempts 4: gave up after 4 attempts, with the last error"
        );
        assert_eq!(
            clock.sleeps(),
            vec![ms(50), ms(100), ms(200)],
            "three waits between four attempts, and none after the last: nobody uses it"
        );
        for max_attempts in [0, 1] {
            let clock = VirtualClock::new();
            let mut op = Scripted::new(vec![timeout(1)]);
            let policy = RetryPolicy {
                max_attempts,
                ..POLICY
            };
            let got = retry(&policy, &clock, &NoJitter, || op.call());
            assert_eq!(
                (got, clock.sleeps()),
                (
                    Err(Failure::GaveUp {
                        attempts: 1,
                        last: "timeout #1".to_string()
                    }),
                    vec![]
                ),
                "max_attempts {max_attempts}: the call is sent once, never retried"
            );
        }
    });
}

// ---------------------------------------------------------------------------------------
// 10.2 where a saga stands

fn started(step: usize) -> Entry {
    Entry::Started {
        step,
        key: format!("k{step}"),
    }
}
fn done(step: usize) -> Entry {
    Entry::Done { step }
}
fn refused(step: usize) -> Entry {
    Entry::Failed {
        step,
        failure: Failure::Permanent("no".to_string()),
    }
}
fn gave_up(step: usize) -> Entry {
    Entry::Failed {
        step,
        failure: Failure::GaveUp {
            attempts: 4,
            last: "timed out".to_string(),
        },
    }
}
fn undoing(step: usize) -> Entry {
    Entry::Undoing {
        step,
        key: format!("k{step}"),
    }
}
fn undone(step: usize) -> Entry {
    Entry::Undone { step }
}
fn stuck(step: usize) -> Entry {
    Entry::Stuck {
        step,
        failure: Failure::Permanent("account closed".to_string()),
    }
}

fn progress(
    status: Status,
    next_step: Option<usize>,
    to_undo: &[usize],
    stuck: &[usize],
) -> Progress {
    Progress {
        status,
        next_step,
        to_undo: to_undo.to_vec(),
        stuck: stuck.to_vec(),
    }
}

/// The log of a saga that did steps 0, 1, 2 up to `until`, in order.
fn forward_log(until: usize) -> Vec<Entry> {
    let mut log = vec![Entry::Begun];
    for step in 0..until {
        log.push(started(step));
        log.push(done(step));
    }
    log
}

fn check_read(cases: Vec<(Vec<Entry>, Option<Progress>, &str)>) {
    for (log, want, why) in cases {
        let got = progress::read(&log, 3);
        let status_rule = match (&got, &want) {
            (Some(got), Some(want)) if got.status != want.status => {
                "\nThe status: with no Failed entry, Pending until a step is Started, Running \
                 once one is (Done or not), Completed when every step is Done; with a Failed \
                 entry, Compensating while steps are left to undo, then Compensated, or Failed \
                 if an undo is stuck."
            }
            _ => "",
        };
        assert_eq!(
            got,
            want,
            "progress::read of a 3-step saga's log [{}]: {why}{status_rule}",
            log.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}

#[test]
fn ex10_2_going_forward_pending_running_completed() {
    exercise("10.2").run(|| {
        let with = |mut log: Vec<Entry>, more: &[Entry]| {
            log.extend_from_slice(more);
            log
        };
        check_read(vec![
            (vec![], None, "an empty log is a saga never begun"),
            (
                forward_log(0),
                Some(progress(Status::Pending, Some(0), &[], &[])),
                "begun, nothing sent yet",
            ),
            (
                with(forward_log(0), &[started(0)]),
                Some(progress(Status::Running, Some(0), &[], &[])),
                "step 0 was started and has no outcome: it is the one to send (again)",
            ),
            (
                forward_log(1),
                Some(progress(Status::Running, Some(1), &[], &[])),
                "step 0 done: step 1 is next",
            ),
            (
                with(forward_log(2), &[started(2)]),
                Some(progress(Status::Running, Some(2), &[], &[])),
                "steps 0 and 1 done, step 2 started: not Completed until step 2 is done",
            ),
            (
                forward_log(3),
                Some(progress(Status::Completed, None, &[], &[])),
                "every step done",
            ),
        ]);
    });
}

#[test]
fn ex10_2_after_a_failure_undo_what_may_have_taken_effect_last_first() {
    exercise("10.2").run(|| {
        let failed_at = |step: usize, failure: Entry| {
            let mut log = forward_log(step);
            log.push(started(step));
            log.push(failure);
            log
        };
        check_read(vec![
            (
                failed_at(2, refused(2)),
                Some(progress(Status::Compensating, None, &[1, 0], &[])),
                "step 2 was refused (a permanent error: it did nothing, so it is not undone); \
                 steps 1 and 0 are undone, last done first",
            ),
            (
                failed_at(2, gave_up(2)),
                Some(progress(Status::Compensating, None, &[2, 1, 0], &[])),
                "step 2 gave up after timeouts: it may have taken effect (a lost reply), so it \
                 is undone too, first",
            ),
            (
                failed_at(1, refused(1)),
                Some(progress(Status::Compensating, None, &[0], &[])),
                "step 1 refused: only step 0 to undo",
            ),
            (
                failed_at(0, refused(0)),
                Some(progress(Status::Compensated, None, &[], &[])),
                "the first step refused: nothing took effect, nothing to undo — the saga is \
                 Compensated already",
            ),
            (
                failed_at(0, gave_up(0)),
                Some(progress(Status::Compensating, None, &[0], &[])),
                "the first step gave up: it may have taken effect, so it is to undo",
            ),
        ]);
    });
}

#[test]
fn ex10_2_undos_in_flight_done_and_stuck() {
    exercise("10.2").run(|| {
        let compensating = |more: &[Entry]| {
            let mut log = forward_log(2);
            log.push(started(2));
            log.push(refused(2));
            log.extend_from_slice(more);
            log
        };
        check_read(vec![
            (
                compensating(&[undoing(1)]),
                Some(progress(Status::Compensating, None, &[1, 0], &[])),
                "step 1's undo was logged Undoing with no outcome (a crash before the service \
                 heard of it, perhaps): it is still to undo",
            ),
            (
                compensating(&[undoing(1), undone(1)]),
                Some(progress(Status::Compensating, None, &[0], &[])),
                "step 1 undone: step 0 left",
            ),
            (
                compensating(&[undoing(1), undone(1), undoing(0), undone(0)]),
                Some(progress(Status::Compensated, None, &[], &[])),
                "everything that took effect is undone",
            ),
            (
                compensating(&[undoing(1), stuck(1)]),
                Some(progress(Status::Compensating, None, &[0], &[1])),
                "step 1's undo is stuck: it is reported, not retried for ever; step 0 is still \
                 to undo",
            ),
            (
                compensating(&[undoing(1), stuck(1), undoing(0), undone(0)]),
                Some(progress(Status::Failed, None, &[], &[1])),
                "nothing left to undo, but step 1 is stuck: the saga is Failed, not \
                 Compensated — someone must look at it",
            ),
        ]);
    });
}

// ---------------------------------------------------------------------------------------
// 10.3 running the steps

fn ok3() -> [Script; 3] {
    [Script::ok(), Script::ok(), Script::ok()]
}

#[test]
fn ex10_3_a_saga_that_succeeds_sends_each_step_once_in_order() {
    exercise("10.3").run(|| {
        let w = world();
        let status = run(&w, "order-1", ok3());
        assert_eq!(status, Status::Completed, "every service says ok");
        assert_eq!(
            shapes(&entries(&w, "order-1")),
            [
                "begun",
                "started 0",
                "done 0",
                "started 1",
                "done 1",
                "started 2",
                "done 2"
            ],
            "order-1's log: Begun, then Started and Done for each step in order"
        );
        assert_eq!(
            said(&calls(&w)),
            [
                "inventory act -> ok",
                "payment act -> ok",
                "shipping act -> ok"
            ],
            "what the services were asked"
        );
        run(&w, "order-2", ok3());
        let mut all_keys = Vec::new();
        for (step, service) in STEPS.iter().enumerate() {
            for saga in ["order-1", "order-2"] {
                let keys = keys_sent(&w, saga, step);
                assert_eq!(keys.len(), 1, "{saga} sent {service} these keys: {keys:?}");
                all_keys.extend(keys);
            }
        }
        let mut distinct = all_keys.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(
            distinct.len(),
            all_keys.len(),
            "two sagas of three steps sent these keys: {all_keys:?}. A key must differ between \
             steps and between sagas, or one saga's payment is another's"
        );
    });
}

#[test]
fn ex10_3_a_retry_after_a_lost_reply_does_not_charge_twice() {
    exercise("10.3").run(|| {
        let w = world();
        let services = services(
            &w.path,
            [
                Script::ok(),
                Script::ok().acts([Reply::LostReply]),
                Script::ok(),
            ],
        );
        // Payment is watched: the moment it holds a second charge, the test says so, before
        // anything else the second key sets off.
        let payment = ChargedOnce {
            inner: &services[1],
            ledger: &w.ledger,
        };
        let orchestrator = Orchestrator {
            steps: vec![&services[0], &payment, &services[2]],
            ..orchestrator(&w, &services)
        };
        let status = orchestrator.run("order-1").expect("the saga log works");
        assert_eq!(
            status,
            Status::Completed,
            "payment's first reply was lost; then ok"
        );
        assert_eq!(
            said(&calls(&w))[1..3],
            [
                "payment act -> done, reply lost",
                "payment act -> ok (already done)"
            ],
            "payment's requests"
        );
    });
}

/// A service that panics as soon as its ledger holds more than one key.
struct ChargedOnce<'a> {
    inner: &'a Service,
    ledger: &'a Ledger,
}

impl Participant for ChargedOnce<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn act(&self, key: &str) -> Result<(), StepError> {
        let reply = self.inner.act(key);
        let charged = self.ledger.keys(self.name()).expect("the ledger");
        assert!(
            charged.len() <= 1,
            "{}'s first request went through but its reply was lost, so the orchestrator \
             retried — and the service now holds {} charges for one order: {charged:?}. The \
             retry must carry the same idempotency key as the first request: the service then \
             answers from its ledger and charges nothing more",
            self.name(),
            charged.len()
        );
        reply
    }

    fn undo(&self, key: &str) -> Result<(), StepError> {
        self.inner.undo(key)
    }
}

#[test]
fn ex10_3_transient_errors_are_retried_with_backoff_on_the_clock() {
    exercise("10.3").run(|| {
        let w = world();
        let status = run(
            &w,
            "order-1",
            [
                Script::ok().acts([Reply::TimedOut, Reply::TimedOut]),
                Script::ok(),
                Script::ok().acts([Reply::TimedOut]),
            ],
        );
        assert_eq!(
            status,
            Status::Completed,
            "three timeouts, each followed by an ok"
        );
        assert_eq!(
            w.clock.sleeps(),
            vec![ms(50), ms(100), ms(50)],
            "the waits: inventory's two retries, then shipping's one (act_policy from 100ms, a \
             jitter that picks 0). Send each action through retry with the orchestrator's \
             act_policy, clock and jitter"
        );
        assert_eq!(
            shapes(&entries(&w, "order-1")),
            [
                "begun",
                "started 0",
                "done 0",
                "started 1",
                "done 1",
                "started 2",
                "done 2"
            ],
            "retries are inside one step: one Started and one Done each"
        );
    });
}

#[test]
fn ex10_3_every_request_is_logged_before_it_is_sent() {
    exercise("10.3").run(|| {
        // The services audit this on every request (they panic if the key is not logged
        // yet); this test also checks the order in the log itself.
        let w = world();
        run(&w, "order-1", ok3());
        let log = entries(&w, "order-1");
        for (step, service) in STEPS.iter().enumerate() {
            let at = |want: &str| shapes(&log).iter().position(|s| s == want);
            let (s, d) = (at(&format!("started {step}")), at(&format!("done {step}")));
            assert!(
                matches!((s, d), (Some(s), Some(d)) if s < d),
                "{service}: its Started entry must come before its Done: {:?}",
                shapes(&log)
            );
        }
    });
}

// ---------------------------------------------------------------------------------------
// 10.4 compensating

#[test]
fn ex10_4_a_refused_step_is_not_undone_and_the_steps_before_it_are_undone_last_first() {
    exercise("10.4").run(|| {
        let w = world();
        let status = run(
            &w,
            "order-1",
            [
                Script::ok(),
                Script::ok(),
                Script::ok().acts([Reply::Refuse("no carrier")]),
            ],
        );
        assert_eq!(
            said(&calls(&w)),
            [
                "inventory act -> ok",
                "payment act -> ok",
                "shipping act -> refused: no carrier",
                "payment undo -> ok",
                "inventory undo -> ok",
            ],
            "shipping refused (a permanent error: not retried, and it did nothing, so it is \
             not undone); then payment and inventory are undone, in reverse order"
        );
        assert_eq!(status, Status::Compensated, "the final status");
        assert_eq!(
            shapes(&entries(&w, "order-1"))[6..],
            ["failed 2", "undoing 1", "undone 1", "undoing 0", "undone 0"],
            "the log after step 2's Started"
        );
        assert_eq!(
            (left_at(&w, "order-1", 0), left_at(&w, "order-1", 1)),
            (vec!["undone".to_string()], vec!["undone".to_string()]),
            "inventory's and payment's ledgers for order-1: each undo must carry the key its \
             action was sent with"
        );
    });
}

#[test]
fn ex10_4_a_refusal_at_payment_undoes_inventory_only() {
    exercise("10.4").run(|| {
        let w = world();
        let status = run(
            &w,
            "order-2",
            [
                Script::ok(),
                Script::ok().acts([Reply::Refuse("card declined")]),
                Script::ok(),
            ],
        );
        assert_eq!(
            said(&calls(&w)),
            [
                "inventory act -> ok",
                "payment act -> refused: card declined",
                "inventory undo -> ok",
            ],
            "the card is declined: shipping is never asked, payment is not undone, inventory \
             is"
        );
        assert_eq!(status, Status::Compensated, "the final status");
    });
}

#[test]
fn ex10_4_a_step_that_gave_up_may_have_taken_effect_and_is_undone_first() {
    exercise("10.4").run(|| {
        let w = world();
        let status = run(
            &w,
            "order-3",
            [
                Script::ok(),
                Script::ok(),
                Script::ok().acts([
                    Reply::TimedOut,
                    Reply::TimedOut,
                    Reply::TimedOut,
                    Reply::LostReply,
                ]),
            ],
        );
        assert_eq!(
            status,
            Status::Compensated,
            "shipping never answered in 4 attempts: the saga gives up on it and compensates"
        );
        assert_eq!(
            left_at(&w, "order-3", 2),
            ["undone"],
            "shipping's 4th request booked a parcel, but its reply was lost: the orchestrator \
             cannot know, so a step that gave up counts as possibly done and is undone. \
             Shipping's ledger for order-3"
        );
        let undos: Vec<String> = said(&calls(&w))
            .into_iter()
            .filter(|c| c.contains(" undo "))
            .collect();
        assert_eq!(
            undos,
            [
                "shipping undo -> ok",
                "payment undo -> ok",
                "inventory undo -> ok"
            ],
            "the undos, last step first"
        );
    });
}

#[test]
fn ex10_4_a_failing_undo_is_retried_with_the_same_key() {
    exercise("10.4").run(|| {
        let w = world();
        let status = run(
            &w,
            "order-4",
            [
                Script::ok().undos([Reply::LostReply]),
                Script::ok().undos([Reply::TimedOut, Reply::TimedOut]),
                Script::ok().acts([Reply::Refuse("no carrier")]),
            ],
        );
        assert_eq!(
            said(&calls(&w))[3..],
            [
                "payment undo -> timed out",
                "payment undo -> timed out",
                "payment undo -> ok",
                "inventory undo -> undone, reply lost",
                "inventory undo -> ok (already undone)",
            ],
            "the refund timed out twice, then worked; inventory's release lost its reply, and \
             its retry (same key) found it done. Send each undo through retry with \
             undo_policy"
        );
        assert_eq!(status, Status::Compensated, "the final status");
        assert_eq!(
            w.clock.sleeps(),
            vec![ms(50), ms(100), ms(50)],
            "the waits before the undos' retries: two for the refund, one for the release \
             (undo_policy from 100ms, a jitter that picks 0). An undo is retried with backoff \
             on the orchestrator's clock, like an action"
        );
    });
}

#[test]
fn ex10_4_an_undo_that_keeps_failing_is_stuck_reported_and_the_others_still_run() {
    exercise("10.4").run(|| {
        let w = world();
        let status = run(
            &w,
            "order-5",
            [
                Script::ok(),
                Script::ok().undos([Reply::Refuse("account closed")]),
                Script::ok().acts([Reply::Refuse("no carrier")]),
            ],
        );
        assert_eq!(
            status,
            Status::Failed,
            "the refund was refused for good: the saga could not undo everything. Its status \
             is Failed — never Compensated, which would say nothing is left behind"
        );
        let log = entries(&w, "order-5");
        assert!(
            log.contains(&Entry::Stuck {
                step: 1,
                failure: Failure::Permanent("account closed".to_string())
            }),
            "the log must hold Stuck {{ step: 1, failure: Permanent(\"account closed\") }}: a \
             failed undo is reported where someone will find it, never dropped. The log: {:?}",
            shapes(&log)
        );
        assert_eq!(
            left_at(&w, "order-5", 0),
            ["undone"],
            "inventory must still be undone after payment's undo got stuck: go on with the \
             next step"
        );
        assert_eq!(
            left_at(&w, "order-5", 1),
            ["done"],
            "payment is still charged"
        );

        let w = world();
        let status = run(
            &w,
            "order-6",
            [
                Script::ok(),
                Script::ok().undos([Reply::TimedOut; 10]),
                Script::ok().acts([Reply::Refuse("no carrier")]),
            ],
        );
        let undos = calls(&w)
            .iter()
            .filter(|c| c.service == "payment" && c.op == Op::Undo)
            .count();
        assert_eq!(
            (status, undos),
            (Status::Failed, 5),
            "the refund timed out every time: sent undo_policy.max_attempts (5) times, then \
             Stuck, and the saga Failed. (status, refunds sent)"
        );
        assert!(
            entries(&w, "order-6").contains(&Entry::Stuck {
                step: 1,
                failure: Failure::GaveUp {
                    attempts: 5,
                    last: "timed out".to_string()
                }
            }),
            "the log must hold Stuck with the failure retry returned: {:?}",
            shapes(&entries(&w, "order-6"))
        );
    });
}

// ---------------------------------------------------------------------------------------
// 10.5 resuming after a crash

/// The name of a crash-test scenario on the lesson program's command line.
fn arg(scenario: Scenario) -> &'static str {
    match scenario {
        Scenario::Completes => "completes",
        Scenario::Compensates => "compensates",
        Scenario::Stuck => "stuck",
    }
}

/// What the log said before the resume: which steps were done, and whether a step had
/// failed (the saga had turned back).
fn before_resume(log: &[Entry]) -> (Vec<usize>, bool, Vec<usize>) {
    let done = log
        .iter()
        .filter_map(|e| match e {
            Entry::Done { step } => Some(*step),
            _ => None,
        })
        .collect();
    let failed = log.iter().any(|e| matches!(e, Entry::Failed { .. }));
    let undo_ended = log
        .iter()
        .filter_map(|e| match e {
            Entry::Undone { step } | Entry::Stuck { step, .. } => Some(*step),
            _ => None,
        })
        .collect();
    (done, failed, undo_ended)
}

/// Check a saga resumed after a crash: it ended as it would have without one, each step
/// took effect at most once, and the resume sent nothing it should not have.
fn check_resumed(
    w: &World,
    saga: &str,
    scenario: Scenario,
    status: Status,
    log_before: &[Entry],
    calls_before: usize,
    context: &str,
) {
    let (done_before, turned_back, undo_ended) = before_resume(log_before);
    let after = &calls(w)[calls_before..];
    for call in after {
        let step = STEPS.iter().position(|s| *s == call.service).unwrap_or(0);
        if call.op == Op::Act {
            assert!(
                !turned_back,
                "{context}: the log said the saga had failed and was compensating, but the \
                 resume sent {call}. A compensating saga is never resumed forward"
            );
            assert!(
                !done_before.contains(&step),
                "{context}: the log said {} was done, but the resume sent it again. Resume \
                 from the first step that is not logged Done",
                call.service
            );
        } else {
            assert!(
                !undo_ended.contains(&step),
                "{context}: the log said {}'s undo had ended (Undone or Stuck), but the resume \
                 sent {call}. Undo only the steps progress::read still lists in to_undo",
                call.service
            );
        }
    }
    let begun = entries(w, saga)
        .iter()
        .filter(|e| matches!(e, Entry::Begun))
        .count();
    assert_eq!(
        begun, 1,
        "{context}: the log holds {begun} Begun entries after the resume. A saga is begun once; \
         resuming one that was begun goes on from its log"
    );
    for (step, service) in STEPS.iter().enumerate() {
        let keys = keys_sent(w, saga, step);
        assert!(
            keys.len() <= 1,
            "{context}: {service} was sent {} keys for one saga: {keys:?}. After a crash, a \
             step is sent again with the key it was started with",
            keys.len()
        );
    }
    let left: Vec<Vec<String>> = (0..3).map(|step| left_at(w, saga, step)).collect();
    let (want_status, want_left) = match scenario {
        Scenario::Completes => (Status::Completed, ["done", "done", "done"]),
        Scenario::Compensates => (
            Status::Compensated,
            ["undone", "undone", "refused:no carrier for this address"],
        ),
        Scenario::Stuck => (
            Status::Failed,
            ["undone", "done", "refused:no carrier for this address"],
        ),
    };
    let want_left: Vec<Vec<String>> = want_left.iter().map(|s| vec![s.to_string()]).collect();
    assert_eq!(
        (status, left),
        (want_status, want_left),
        "{context}: the resumed saga must end exactly as it does without a crash. (status, \
         what inventory, payment and shipping hold for it)"
    );
    let undos_of_refused = calls(w)
        .iter()
        .filter(|c| c.service == "shipping" && c.op == Op::Undo)
        .count();
    if scenario != Scenario::Completes {
        assert_eq!(
            undos_of_refused, 0,
            "{context}: shipping refused, so it is never undone"
        );
    }
}

/// Run `scenario`'s saga with an unwinding crash at point `k`. `None` if the run ended
/// before point `k`.
fn run_until_crash(w: &World, saga: &str, scenario: Scenario, k: u64) -> Option<Crashed> {
    let services = services(&w.path, scenario.scripts());
    let orchestrator = orchestrator(w, &services);
    crash::arm(k, Crash::Unwind);
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| orchestrator.run(saga)));
    crash::disarm();
    match outcome {
        Ok(result) => {
            result.expect("the saga log works");
            None
        }
        Err(payload) => match payload.downcast::<Crashed>() {
            Ok(crashed) => Some(*crashed),
            Err(other) => panic::resume_unwind(other),
        },
    }
}

fn resume(w: &World, saga: &str, scenario: Scenario) -> Status {
    let services = services(&w.path, scenario.scripts());
    orchestrator(w, &services)
        .resume(saga)
        .expect("the saga log works")
}

#[test]
fn ex10_5_an_ended_saga_is_not_resumed() {
    exercise("10.5").run(|| {
        for scenario in [Scenario::Completes, Scenario::Compensates, Scenario::Stuck] {
            let w = world();
            let status = run(&w, "order-1", scenario.scripts());
            let calls_before = calls(&w).len();
            let again = resume(&w, "order-1", scenario);
            assert_eq!(again, status, "resume of a saga that ended {status:?}");
            assert_eq!(
                said(&calls(&w)[calls_before..]),
                Vec::<String>::new(),
                "resume of a saga that ended {status:?} must send nothing"
            );
        }
        let w = world();
        let status = resume(&w, "order-new", Scenario::Completes);
        assert_eq!(
            (status, shapes(&entries(&w, "order-new")).len()),
            (Status::Completed, 7),
            "resume of a saga that was never begun runs it: (status, log entries)"
        );
    });
}

#[test]
fn ex10_5_a_saga_stopped_at_any_point_resumes_or_compensates_from_its_log() {
    exercise("10.5")
        // Some sixty sagas, each a few dozen commits: slow on a loaded machine, never stuck.
        .patience(Duration::from_secs(15))
        .run(|| {
            for scenario in [Scenario::Completes, Scenario::Compensates, Scenario::Stuck] {
                for k in 1.. {
                    let w = world();
                    let Some(crashed) = run_until_crash(&w, "order-9", scenario, k) else {
                        assert!(
                            k > 5,
                            "the {scenario:?} saga passed only {} crash points",
                            k - 1
                        );
                        break;
                    };
                    let context = format!(
                        "the {scenario:?} saga, stopped at crash point {k}, right after {}",
                        crashed.after
                    );
                    let log_before = entries(&w, "order-9");
                    let calls_before = calls(&w).len();
                    let status = resume(&w, "order-9", scenario);
                    check_resumed(
                        &w,
                        "order-9",
                        scenario,
                        status,
                        &log_before,
                        calls_before,
                        &context,
                    );
                }
            }
        });
}

#[test]
fn ex10_5_a_killed_orchestrator_is_resumed_from_its_log() {
    exercise("10.5")
        // Some sixty sagas, each a few dozen commits: slow on a loaded machine, never stuck.
        .patience(Duration::from_secs(15))
        .hangs_if("the crash test's orchestrator (the lesson program with --crash-test) never ends")
        .run(|| {
            for scenario in [Scenario::Completes, Scenario::Compensates, Scenario::Stuck] {
                // Run the saga here first, so that a panic in your code is reported from
                // this process, where it points at the line.
                run(&world(), "probe", scenario.scripts());
                for k in 1.. {
                    let w = world();
                    let out = Process::new(env!("CARGO_BIN_EXE_lesson-10"))
                        .arg("--crash-test")
                        .arg(&w.path)
                        .args(["--scenario", arg(scenario)])
                        .args(["--kill-at", &k.to_string()])
                        .stdin(Stdio::null())
                        .output()
                        .expect("the lesson program runs");
                    let stderr = String::from_utf8_lossy(&out.stderr);
                    if out.status.success() {
                        assert!(
                            k > 5,
                            "the {scenario:?} saga passed only {} crash points",
                            k - 1
                        );
                        break;
                    }
                    use std::os::unix::process::ExitStatusExt;
                    assert_eq!(
                        out.status.signal(),
                        Some(SIGKILL),
                        "the crash test's orchestrator ({scenario:?}, kill at {k}) ended with \
                         {} instead of being killed. What it said:\n{stderr}",
                        out.status
                    );
                    let context = format!(
                        "the {scenario:?} saga, killed by SIGKILL at {}",
                        stderr.trim().trim_start_matches("crash ")
                    );
                    let log_before = entries(&w, "order-crash");
                    let calls_before = calls(&w).len();
                    let status = resume(&w, "order-crash", scenario);
                    check_resumed(
                        &w,
                        "order-crash",
                        scenario,
                        status,
                        &log_before,
                        calls_before,
                        &context,
                    );
                }
            }
        });
}

/// SIGKILL's number on Linux and macOS.
const SIGKILL: i32 = 9;

kit::program_tests!("--attempts", "0");
