//! Lesson 12's tests, in the order of the chapter's exercises. They grade your checks.
//!
//! Each exercise has two kinds of test. One runs your check against the correct
//! implementations: it must say `Ok`. The others run it against one implementation with a
//! planted bug each: it must say `Err`. A check that always says `Err` fails the first
//! kind; one that always says `Ok` fails the second. Your check's own words are shown in
//! either case, but never judged: any wording is fine. What each implementation is, and
//! each planted bug, is in `src/grading.rs`; `cargo run -p lesson-12` prints the table.

use lesson_12::grading;

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

/// Your check must say `Ok` about each of these correct implementations. If it says
/// `Err`, was it about this one only — or does it say that about everything? Running it
/// on the exercise's first planted bug tells which.
#[track_caller]
fn must_pass(names: &[&str]) {
    for name in names {
        let subject = grading::subject(name);
        assert!(
            subject.bug.is_none(),
            "{name} is not a correct implementation"
        );
        let Err(said) = subject.check() else { continue };
        let exercise = grading::exercise_of(name);
        let what = format!("{name} ({})", subject.about);
        if exercise.first_bug().check().is_err() {
            panic!(
                "your check says every {kind} is wrong, including the correct one, {what}: a \
                 check that fails everything cannot tell right from wrong, so it finds \
                 nothing. (If it passes sometimes, it is flaky: it depends on timing or on \
                 other threads of the process, e.g. counting the process's threads, not on the \
                 code under test.)\nYour check said about {name}: {said}",
                kind = exercise.kind
            );
        }
        panic!(
            "your check failed {what}, which is correct (it passes the planted bug of {bug}, \
             too, so it is looking at the wrong thing).\nYour check said: {said}",
            bug = exercise.first_bug().name
        );
    }
}

/// Your check must say `Err` about this implementation with a planted bug.
#[track_caller]
fn must_catch(name: &str) {
    let subject = grading::subject(name);
    let bug = subject.bug.expect("an implementation with a planted bug");
    if subject.check().is_ok() {
        panic!(
            "your check passed {name} ({}): it found nothing.\nThe bug: {}\nWhat finds it: {}",
            subject.about, bug.what, bug.found_by
        );
    }
}

const NO_TIMEOUT: &str = "your check did not return within the grading test's 5 s budget \
                          (for all its cases). Most likely it waits with no limit — JoinHandle::join, \
                          Receiver::recv, a Barrier waited on after the work, the implicit join \
                          at the end of thread::scope, or a loop that waits for a count — for \
                          threads that never finish; or its recv_timeout patience is longer \
                          than the budget. Wait with recv_timeout (e.g. 500 ms, well under 5 s) \
                          and return Err when time is up; spawn with thread::spawn (not scope) \
                          and leave the stuck threads behind";

// ---------------------------------------------------------------------------------------
// 12.1 a loom model

#[test]
fn ex12_1_passes_the_correct_counters() {
    exercise("12.1").run(|| must_pass(&["AtomicCounter", "MutexCounter"]));
}

#[test]
fn ex12_1_catches_the_load_store_counter() {
    exercise("12.1").run(|| must_catch("LoadStoreCounter"));
}

// ---------------------------------------------------------------------------------------
// 12.2 a property against a sequential model

#[test]
fn ex12_2_passes_the_correct_queues() {
    exercise("12.2").run(|| must_pass(&["DequeQueue", "RingQueue"]));
}

#[test]
fn ex12_2_catches_the_off_by_one_queue() {
    exercise("12.2").run(|| must_catch("OffByOneQueue"));
}

#[test]
fn ex12_2_catches_the_lifo_queue() {
    exercise("12.2").run(|| must_catch("LifoQueue"));
}

#[test]
fn ex12_2_catches_the_wrong_refusal() {
    exercise("12.2").run(|| must_catch("WrongRefusalQueue"));
}

// ---------------------------------------------------------------------------------------
// 12.3 a stress test

#[test]
fn ex12_3_passes_the_correct_blocking_queues() {
    exercise("12.3")
        .hangs_if("your check waits on something that never comes even with a correct queue: more pops than pushes, or a Barrier sized for more threads than wait on it")
        .run(|| must_pass(&["TwoCondvarQueue", "OneCondvarQueue"]));
}

#[test]
fn ex12_3_catches_the_lost_wakeup() {
    exercise("12.3")
        .hangs_if(NO_TIMEOUT)
        .run(|| must_catch("LostWakeupQueue"));
}

#[test]
fn ex12_3_catches_two_producers_colliding() {
    exercise("12.3")
        .hangs_if(NO_TIMEOUT)
        .run(|| must_catch("OneProducerQueue"));
}

#[test]
fn ex12_3_catches_two_consumers_colliding() {
    exercise("12.3")
        .hangs_if(NO_TIMEOUT)
        .run(|| must_catch("OneConsumerQueue"));
}

// ---------------------------------------------------------------------------------------
// 12.4 a deadlock caught by a timeout

#[test]
fn ex12_4_passes_the_correct_banks() {
    exercise("12.4")
        .hangs_if("your check waits on something that never comes even with a correct bank: a Barrier sized for more threads than wait on it, a channel whose senders are still alive")
        .run(|| must_pass(&["OrderedBank", "OneLockBank"]));
}

#[test]
fn ex12_4_catches_the_lock_order_deadlock() {
    exercise("12.4")
        .hangs_if(NO_TIMEOUT)
        .run(|| must_catch("LockOrderBank"));
}

#[test]
fn ex12_4_catches_the_bank_that_makes_money() {
    exercise("12.4")
        .hangs_if(NO_TIMEOUT)
        .run(|| must_catch("OneLockAtATimeBank"));
}

// ---------------------------------------------------------------------------------------
// 12.5 a leak check

#[test]
fn ex12_5_passes_the_joining_pools() {
    exercise("12.5").run(|| must_pass(&["JoiningPool", "PillPool"]));
}

#[test]
fn ex12_5_catches_the_leaky_pool() {
    exercise("12.5").run(|| must_catch("LeakyPool"));
}

#[test]
fn ex12_5_catches_the_detached_pool() {
    exercise("12.5").run(|| must_catch("DetachedPool"));
}

kit::program_tests!("--check", "6");
