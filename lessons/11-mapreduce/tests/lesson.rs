//! Lesson 11's tests, in the order of the chapter's exercises.
//!
//! From 11.2 on, the tests use their own word count (`Count`, and `Probe` around it),
//! not the learner's `WordCount`, so a test of the pool fails only because of the pool.
//! The pool's tests follow MIT 6.824 lab 1: the output equals a sequential run; map
//! tasks overlap and so do reduce tasks (measured with `kit::Gate`, a barrier that two
//! tasks must pass together, which gives up after `PATIENCE` instead of hanging); one map
//! run per split when nothing fails; a task that fails or stalls is run again and counted
//! once; the job ends when the last task commits. Stalls are scripted (a map that blocks
//! until released), never real sleeps, and no test asserts how long anything took.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::{Duration, Instant};

use kit::Gate;
use lesson_11::jobs::{InvertedIndex, WordCount};
use lesson_11::pool::{Config, run};
use lesson_11::shuffle::{fnv1a, map_task, partition, reduce_task};
use lesson_11::tasks::{Next, Tasks};
use lesson_11::{Failed, Job, Output, Split, corpus, par, sequential, split_lines, words};

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

const PATIENCE: Duration = Duration::from_secs(2);

/// Long enough that no healthy task is ever taken for a straggler.
const NEVER: Duration = Duration::from_secs(60);

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn split(id: usize, text: &str) -> Split {
    Split {
        id,
        text: text.to_string(),
    }
}

/// The tests' own count of the words of `splits`: a plain loop over `words`.
fn plain_count(splits: &[Split]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for s in splits {
        for w in words(&s.text) {
            *counts.entry(w).or_insert(0) += 1;
        }
    }
    counts
}

/// What differs between two word counts, briefly: keys missing, keys extra, counts wrong
/// (a few of each), instead of two maps of thousands of entries.
fn count_diff(got: &BTreeMap<String, u64>, want: &BTreeMap<String, u64>) -> String {
    fn few<'a>(keys: impl Iterator<Item = &'a String>) -> String {
        let keys: Vec<&String> = keys.collect();
        let shown: Vec<String> = keys.iter().take(5).map(|k| format!("{k:?}")).collect();
        let more = if keys.len() > 5 { ", …" } else { "" };
        format!("{} ({}{more})", keys.len(), shown.join(", "))
    }
    let missing = few(want.keys().filter(|k| !got.contains_key(*k)));
    let extra = few(got.keys().filter(|k| !want.contains_key(*k)));
    let wrong: Vec<String> = want
        .iter()
        .filter_map(|(k, w)| match got.get(k) {
            Some(g) if g != w => Some(format!("{k:?}: {g} instead of {w}")),
            _ => None,
        })
        .collect();
    let shown = wrong.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    format!(
        "keys missing: {missing}; keys extra: {extra}; counts wrong: {} ({shown})",
        wrong.len()
    )
}

/// Two word counts must be equal; if not, say `what` and how they differ.
fn assert_counts(got: &BTreeMap<String, u64>, want: &BTreeMap<String, u64>, what: &str) {
    assert!(got == want, "{what}. {}", count_diff(got, want));
}

fn small_corpus(seed: u64, words: usize, n: usize) -> Arc<Vec<Split>> {
    Arc::new(split_lines(&corpus(seed, words, 400), n))
}

/// The tests' own FNV-1a, written from its definition.
fn fnv(key: &str) -> u64 {
    key.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A word count that is the tests' own, independent of exercise 11.1.
struct Count;

impl Job for Count {
    type Value = u64;
    fn map(&self, split: &Split, emit: &mut dyn FnMut(&str, u64)) -> Result<(), Failed> {
        for w in words(&split.text) {
            emit(&w, 1);
        }
        Ok(())
    }
    fn merge(&self, acc: &mut u64, other: u64) {
        *acc += other;
    }
}

/// What one map call of a `Probe` does before counting.
#[derive(Default)]
struct Script {
    /// This split's first attempt emits half its words, then fails.
    fails_first: Option<usize>,
    /// This split's first attempt blocks until `release` is called, then counts.
    stalls_first: Option<usize>,
    /// The stalled attempt is released as soon as the split's second attempt starts.
    release_on_rerun: bool,
    /// This split's map blocks until every other split's map has finished.
    last_to_finish: Option<usize>,
    /// The first two map calls must pass this gate together.
    map_gate: Option<Gate>,
    /// The first two reduce tasks must pass this gate together.
    reduce_gate: Option<Gate>,
}

/// `Count`, with counters and a script of trouble.
struct Probe {
    script: Script,
    splits: usize,
    /// Map attempts started, per split.
    map_runs: Vec<AtomicU32>,
    /// Map calls started, in all.
    map_calls: AtomicUsize,
    /// Map calls that finished without error, in all.
    maps_finished: (Mutex<usize>, Condvar),
    /// Reduce tasks started, per partition.
    reduce_runs: Vec<AtomicU32>,
    reduce_calls: AtomicUsize,
    released: (Mutex<bool>, Condvar),
    /// Told when the stalled attempt finishes.
    late: Mutex<Option<mpsc::Sender<()>>>,
}

impl Probe {
    fn new(splits: usize, reducers: usize, script: Script) -> Arc<Probe> {
        Arc::new(Probe {
            script,
            splits,
            map_runs: (0..splits).map(|_| AtomicU32::new(0)).collect(),
            map_calls: AtomicUsize::new(0),
            maps_finished: (Mutex::new(0), Condvar::new()),
            reduce_runs: (0..reducers).map(|_| AtomicU32::new(0)).collect(),
            reduce_calls: AtomicUsize::new(0),
            released: (Mutex::new(false), Condvar::new()),
            late: Mutex::new(None),
        })
    }

    fn release(&self) {
        *self.released.0.lock().unwrap() = true;
        self.released.1.notify_all();
    }

    fn map_runs(&self) -> Vec<u32> {
        self.map_runs
            .iter()
            .map(|a| a.load(Ordering::SeqCst))
            .collect()
    }

    fn reduce_runs(&self) -> Vec<u32> {
        self.reduce_runs
            .iter()
            .map(|a| a.load(Ordering::SeqCst))
            .collect()
    }
}

impl Job for Probe {
    type Value = u64;

    fn map(&self, split: &Split, emit: &mut dyn FnMut(&str, u64)) -> Result<(), Failed> {
        let attempt = self.map_runs[split.id].fetch_add(1, Ordering::SeqCst) + 1;
        let call = self.map_calls.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.script.map_gate
            && call < 2
        {
            gate.arrive();
        }
        if self.script.fails_first == Some(split.id) && attempt == 1 {
            let ws: Vec<String> = words(&split.text).collect();
            for w in &ws[..ws.len() / 2] {
                emit(w, 1);
            }
            return Err(Failed("planned: the first attempt fails halfway".into()));
        }
        if self.script.stalls_first == Some(split.id) {
            if attempt == 1 {
                let (lock, cv) = &self.released;
                let mut released = lock.lock().unwrap();
                while !*released {
                    released = cv.wait(released).unwrap();
                }
            } else if self.script.release_on_rerun {
                self.release();
            }
        }
        if self.script.last_to_finish == Some(split.id) {
            let (lock, cv) = &self.maps_finished;
            let mut done = lock.lock().unwrap();
            while *done < self.splits - 1 {
                done = cv.wait(done).unwrap();
            }
        }
        let result = Count.map(split, emit);
        if self.script.stalls_first == Some(split.id)
            && attempt == 1
            && let Some(tx) = self.late.lock().unwrap().take()
        {
            let _ = tx.send(());
        }
        *self.maps_finished.0.lock().unwrap() += 1;
        self.maps_finished.1.notify_all();
        result
    }

    fn merge(&self, acc: &mut u64, other: u64) {
        *acc += other;
    }

    fn before_reduce(&self, partition: usize) -> Result<(), Failed> {
        self.reduce_runs[partition].fetch_add(1, Ordering::SeqCst);
        let call = self.reduce_calls.fetch_add(1, Ordering::SeqCst);
        if let Some(gate) = &self.script.reduce_gate
            && call < 2
        {
            gate.arrive();
        }
        Ok(())
    }
}

fn config(workers: usize, reducers: usize, stall_after: Duration) -> Config {
    Config {
        workers,
        reducers,
        stall_after,
    }
}

fn collect_pairs<J: Job>(job: &J, s: &Split) -> Vec<(String, J::Value)> {
    let mut pairs = Vec::new();
    job.map(s, &mut |k, v| pairs.push((k.to_string(), v)))
        .expect("this map does not fail");
    pairs
}

// ---------------------------------------------------------------------------------------
// 11.1 Two jobs

#[test]
fn ex11_1_word_count_map_emits_every_word() {
    exercise("11.1").run(|| {
        let s = split(0, "The cat, the HAT. Don't stop the cat!");
        let mut sums: BTreeMap<String, u64> = BTreeMap::new();
        for (k, v) in collect_pairs(&WordCount, &s) {
            *sums.entry(k).or_insert(0) += v;
        }
        let expected = plain_count(std::slice::from_ref(&s));
        assert_eq!(
            sums, expected,
            "WordCount::map on {:?}: the values emitted for each word must add up to how \
             often `words` finds it",
            s.text
        );
    });
}

#[test]
fn ex11_1_word_count_merge_adds_partial_counts() {
    exercise("11.1").run(|| {
        let mut acc = 3;
        WordCount.merge(&mut acc, 4);
        assert_eq!(
            acc, 7,
            "merge(3, 4): both are partial counts (a combiner already added some 1s up), \
             so the merged count is 7. Counting the values instead of adding them is right \
             only when nothing was combined"
        );
        let mut acc = 0;
        WordCount.merge(&mut acc, 2000);
        assert_eq!(acc, 2000, "merge(0, 2000)");
    });
}

#[test]
fn ex11_1_inverted_index_maps_words_to_their_split() {
    exercise("11.1").run(|| {
        let s = split(7, "Go gophers go; Rust crabs.");
        let pairs = collect_pairs(&InvertedIndex, &s);
        let keys: BTreeSet<String> = pairs.iter().map(|(k, _)| k.clone()).collect();
        let expected: BTreeSet<String> = words(&s.text).collect();
        assert_eq!(
            keys, expected,
            "InvertedIndex::map must emit every word of the split"
        );
        for (k, v) in &pairs {
            assert_eq!(
                v,
                &BTreeSet::from([7]),
                "InvertedIndex::map emitted {v:?} for {k:?}: the value is the set holding \
                 the split's id (7)"
            );
        }
    });
}

#[test]
fn ex11_1_inverted_index_merge_is_a_union() {
    exercise("11.1").run(|| {
        let mut acc = BTreeSet::from([1, 3]);
        InvertedIndex.merge(&mut acc, BTreeSet::from([3, 5]));
        assert_eq!(acc, BTreeSet::from([1, 3, 5]), "merge({{1, 3}}, {{3, 5}})");
        let mut acc = BTreeSet::new();
        InvertedIndex.merge(&mut acc, BTreeSet::from([2]));
        assert_eq!(acc, BTreeSet::from([2]), "merge({{}}, {{2}})");
        let mut acc = BTreeSet::from([1]);
        InvertedIndex.merge(&mut acc, BTreeSet::from([2, 3]));
        assert_eq!(
            acc,
            BTreeSet::from([1, 2, 3]),
            "merge({{1}}, {{2, 3}}): every id of `other` joins `acc`, not just one of them \
             (a set from a map task has one id, but the reduce merges sets of many)"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 11.2 The shuffle

#[test]
fn ex11_2_fnv1a_is_the_64_bit_fnv_1a_hash() {
    exercise("11.2").run(|| {
        assert_eq!(
            fnv1a(""),
            0xcbf2_9ce4_8422_2325,
            "fnv1a(\"\") is the offset basis"
        );
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c, "fnv1a(\"a\")");
        for w in ["the", "of", "mapreduce", "zerzerzer", "Don't"] {
            assert_eq!(fnv1a(w), fnv(w), "fnv1a({w:?})");
        }
    });
}

#[test]
fn ex11_2_partition_is_the_hash_modulo_r() {
    exercise("11.2").run(|| {
        for r in [1, 2, 3, 7, 10] {
            for rank in 0..200 {
                let w = lesson_11::vocabulary_word(rank);
                let p = partition(&w, r);
                assert_eq!(
                    p,
                    (fnv(&w) % r as u64) as usize,
                    "partition({w:?}, {r}) must be fnv1a(key) % R, the same in every \
                     process and every run — not a hash seeded per process or per map"
                );
            }
        }
    });
}

#[test]
fn ex11_2_map_task_combines_and_partitions() {
    exercise("11.2").run(|| {
        let s = small_corpus(1, 3000, 1)[0].clone();
        let r = 4;
        let buckets = map_task(&Count, &s, r).expect("Count never fails");
        assert_eq!(buckets.len(), r, "map_task(…, R = {r}) returns R buckets");
        let mut seen = BTreeMap::new();
        for (p, bucket) in buckets.iter().enumerate() {
            for (k, &v) in bucket {
                assert_eq!(
                    partition(k, r),
                    p,
                    "map_task put {k:?} in bucket {p}, but partition({k:?}, {r}) is {}: \
                     each key goes in bucket partition(key, R) — the same function the \
                     reducers use, not a hasher of its own",
                    partition(k, r)
                );
                seen.insert(k.clone(), v);
            }
        }
        let want = plain_count(std::slice::from_ref(&s));
        assert!(
            seen == want,
            "each key once, with its values combined: the buckets together must hold \
             the split's word count. {}",
            count_diff(&seen, &want)
        );
    });
}

/// A job that emits some pairs and then fails.
struct HalfThenFail;

impl Job for HalfThenFail {
    type Value = u64;
    fn map(&self, _: &Split, emit: &mut dyn FnMut(&str, u64)) -> Result<(), Failed> {
        emit("partial", 1);
        emit("output", 1);
        Err(Failed("planned".into()))
    }
    fn merge(&self, acc: &mut u64, other: u64) {
        *acc += other;
    }
}

#[test]
fn ex11_2_a_failed_map_task_returns_its_error() {
    exercise("11.2").run(|| {
        let got = map_task(&HalfThenFail, &split(0, "x"), 3);
        assert_eq!(
            got,
            Err(Failed("planned".into())),
            "a map that fails must make map_task return that same error, unchanged (`?` \
             does it), and its partial output goes nowhere"
        );
    });
}

#[test]
fn ex11_2_reduce_merges_a_partition_of_every_map_task() {
    exercise("11.2").run(|| {
        let splits = small_corpus(2, 4000, 5);
        let r = 3;
        let outputs: Vec<Vec<Output<u64>>> = splits
            .iter()
            .map(|s| map_task(&Count, s, r).expect("Count never fails"))
            .collect();
        let mut all = BTreeMap::new();
        for p in 0..r {
            let bucket_p: Vec<Output<u64>> = outputs.iter().map(|o| o[p].clone()).collect();
            let part = reduce_task(&Count, &bucket_p);
            for (k, v) in part {
                assert!(
                    all.insert(k.clone(), v).is_none(),
                    "{k:?} came out of two reduce tasks"
                );
            }
        }
        assert_counts(
            &all,
            &plain_count(&splits),
            "map_task on every split, then reduce_task on each partition, must give the \
             word count",
        );
    });
}

// ---------------------------------------------------------------------------------------
// 11.3 The book of tasks

fn run_of(next: Next) -> (usize, u32) {
    match next {
        Next::Run { task, attempt } => (task, attempt),
        other => panic!("expected a task to run, got {other:?}"),
    }
}

#[test]
fn ex11_3_hands_out_each_task_once_then_waits() {
    exercise("11.3").run(|| {
        let t0 = Instant::now();
        let mut tasks: Tasks<&str> = Tasks::new(3, secs(10));
        let mut got: Vec<(usize, u32)> = (0..3).map(|_| run_of(tasks.next(t0))).collect();
        got.sort();
        assert_eq!(
            got,
            vec![(0, 1), (1, 1), (2, 1)],
            "three calls of next() on three idle tasks hand out each task once, attempt 1"
        );
        assert_eq!(
            tasks.next(t0 + secs(1)),
            Next::Wait,
            "every task is running and none is late: next() says Wait"
        );
        assert!(!tasks.is_done(), "nothing is committed yet");
    });
}

#[test]
fn ex11_3_done_only_when_every_task_is_committed() {
    exercise("11.3").run(|| {
        let t0 = Instant::now();
        let mut tasks: Tasks<&str> = Tasks::new(3, secs(10));
        let handed: Vec<(usize, u32)> = (0..3).map(|_| run_of(tasks.next(t0))).collect();
        let (last, last_attempt) = handed[2];
        for &(task, attempt) in &handed[..2] {
            assert!(
                tasks.commit(task, attempt, ["a", "b", "c"][task]),
                "a first commit is kept"
            );
        }
        assert_eq!(
            tasks.next(t0 + secs(1)),
            Next::Wait,
            "two of three tasks committed, the third still running: the phase is not \
             over (Wait, not Done) — ending it now loses the third task's output"
        );
        assert!(!tasks.is_done(), "is_done() with one task still running");
        assert!(
            tasks.take_outputs().is_none(),
            "take_outputs() before every task is committed"
        );
        assert!(tasks.commit(last, last_attempt, ["a", "b", "c"][last]));
        assert!(tasks.is_done(), "every task committed: is_done()");
        assert_eq!(tasks.next(t0 + secs(2)), Next::Done);
        assert_eq!(
            tasks.take_outputs(),
            Some(vec!["a", "b", "c"]),
            "the outputs, by task id"
        );
    });
}

#[test]
fn ex11_3_a_failed_task_is_handed_out_again() {
    exercise("11.3").run(|| {
        let t0 = Instant::now();
        let mut tasks: Tasks<u32> = Tasks::new(2, secs(10));
        let (a, _) = run_of(tasks.next(t0));
        let (b, _) = run_of(tasks.next(t0));
        tasks.failed(a, 1);
        assert_eq!(
            tasks.next(t0 + secs(1)),
            Next::Run {
                task: a,
                attempt: 2
            },
            "task {a} failed: next() hands it out again, as attempt 2"
        );
        assert!(tasks.commit(b, 1, 20));
        assert!(tasks.commit(a, 2, 10));
        assert_eq!(
            tasks.take_outputs(),
            Some(if a == 0 { vec![10, 20] } else { vec![20, 10] })
        );
    });
}

#[test]
fn ex11_3_a_stalled_task_is_handed_out_again_after_stall_after() {
    exercise("11.3").run(|| {
        let t0 = Instant::now();
        let mut tasks: Tasks<u32> = Tasks::new(1, secs(10));
        assert_eq!(run_of(tasks.next(t0)), (0, 1));
        assert_eq!(
            tasks.next(t0 + secs(9)),
            Next::Wait,
            "9 s after it was handed out, with stall_after = 10 s, the task is not late yet"
        );
        assert_eq!(
            tasks.next(t0 + secs(10)),
            Next::Run {
                task: 0,
                attempt: 2
            },
            "10 s after it was handed out the task counts as stalled: run it again"
        );
        assert_eq!(
            tasks.next(t0 + secs(11)),
            Next::Wait,
            "attempt 2 started at 10 s, so at 11 s it is not late"
        );
    });
}

#[test]
fn ex11_3_the_first_commit_wins_and_a_late_one_changes_nothing() {
    exercise("11.3").run(|| {
        let t0 = Instant::now();
        let mut tasks: Tasks<&str> = Tasks::new(2, secs(10));
        let (a, first_attempt) = run_of(tasks.next(t0));
        let (b, b_attempt) = run_of(tasks.next(t0 + secs(5)));
        assert_eq!(
            tasks.next(t0 + secs(10)),
            Next::Run {
                task: a,
                attempt: 2
            },
            "task {a}, handed out at 0 s, is late at 10 s (task {b}, handed out at 5 s, \
             is not): run task {a} again as attempt 2"
        );
        assert!(
            tasks.commit(a, 2, "rerun"),
            "the re-run's commit is the first: kept"
        );
        assert!(
            !tasks.commit(a, first_attempt, "late"),
            "the stalled first attempt finished after its re-run committed: its commit \
             must be refused (false)"
        );
        assert!(
            !tasks.is_done(),
            "task {a} committed (once, though two attempts finished) and task {b} is \
             still running: the phase is not over. Counting commits instead of committed \
             tasks ends it early"
        );
        assert_eq!(tasks.next(t0 + secs(11)), Next::Wait);
        assert!(tasks.commit(b, b_attempt, "other"));
        let expected = if a == 0 {
            vec!["rerun", "other"]
        } else {
            vec!["other", "rerun"]
        };
        assert_eq!(
            tasks.take_outputs(),
            Some(expected),
            "one output per task, the first committed: a late duplicate is neither \
             added nor swapped in"
        );
    });
}

#[test]
fn ex11_3_an_idle_task_goes_before_a_straggler() {
    exercise("11.3").run(|| {
        let t0 = Instant::now();
        let mut tasks: Tasks<u32> = Tasks::new(2, secs(10));
        let (a, _) = run_of(tasks.next(t0));
        let (b, _) = run_of(tasks.next(t0));
        tasks.failed(b, 1);
        assert_eq!(
            tasks.next(t0 + secs(10)),
            Next::Run {
                task: b,
                attempt: 2
            },
            "at 10 s task {b} is idle (its attempt failed) and task {a} is late: next() \
             hands out the idle task first — nobody is doing it, while the straggler may \
             still finish. Look for idle tasks before late ones"
        );
    });
}

#[test]
fn ex11_3_a_stale_failure_changes_nothing() {
    exercise("11.3").run(|| {
        let t0 = Instant::now();
        let mut tasks: Tasks<&str> = Tasks::new(1, secs(10));
        assert_eq!(run_of(tasks.next(t0)), (0, 1));
        assert_eq!(
            run_of(tasks.next(t0 + secs(10))),
            (0, 2),
            "late at 10 s: attempt 2"
        );
        tasks.failed(0, 1);
        assert_eq!(
            tasks.next(t0 + secs(11)),
            Next::Wait,
            "attempt 1 (the straggler) failed while attempt 2 runs: the task is still \
             being run, so next() says Wait. failed(task, attempt) makes a task idle only \
             when `attempt` is its latest attempt and it is running"
        );
        assert!(
            tasks.commit(0, 2, "rerun"),
            "attempt 2's commit is the first: kept"
        );
        tasks.failed(0, 1);
        assert!(
            tasks.is_done(),
            "failed(0, 1) after task 0 committed must change nothing: a committed task \
             stays committed"
        );
        assert_eq!(
            tasks.next(t0 + secs(12)),
            Next::Done,
            "failed(0, 1) after task 0 committed must change nothing: next() says Done, \
             it does not hand the committed task out again"
        );
    });
}

#[test]
fn ex11_3_a_commit_after_take_outputs_is_refused() {
    exercise("11.3").run(|| {
        let t0 = Instant::now();
        let mut tasks: Tasks<&str> = Tasks::new(1, secs(10));
        assert_eq!(run_of(tasks.next(t0)), (0, 1));
        assert_eq!(
            run_of(tasks.next(t0 + secs(10))),
            (0, 2),
            "late at 10 s: attempt 2"
        );
        assert!(
            tasks.commit(0, 2, "rerun"),
            "attempt 2's commit is the first: kept"
        );
        assert_eq!(
            tasks.take_outputs(),
            Some(vec!["rerun"]),
            "the kept output of task 0"
        );
        assert!(
            !tasks.commit(0, 1, "late"),
            "the straggler (attempt 1) committed after take_outputs(): task 0 is \
             committed, so this commit is refused (false). Decide by the task's state, \
             not by whether its output slot is empty — take_outputs() empties it"
        );
        assert!(tasks.is_done(), "a refused commit changes nothing");
    });
}

// ---------------------------------------------------------------------------------------
// 11.4 The pool

#[test]
fn ex11_4_word_count_equals_a_sequential_run() {
    exercise("11.4")
        .hangs_if("the coordinator waits for a phase that never ends: does every worker report commit or failed, and notify?")
        .run(|| {
            let splits = small_corpus(3, 6000, 7);
            let got = run(Arc::new(Count), splits.clone(), config(2, 3, NEVER));
            assert_counts(
                &got,
                &sequential(&Count, &splits),
                "7 splits, 3 reducers, 2 workers: the pool's word count differs from the \
                 sequential run",
            );
        });
}

#[test]
fn ex11_4_inverted_index_equals_a_sequential_run() {
    exercise("11.4").run(|| {
        let splits = small_corpus(4, 3000, 5);
        let got = run(Arc::new(InvertedIndex), splits.clone(), config(3, 2, NEVER));
        assert_eq!(
            got,
            sequential(&InvertedIndex, &splits),
            "the pool's inverted index"
        );
    });
}

#[test]
fn ex11_4_one_run_per_task_when_nothing_fails() {
    exercise("11.4").run(|| {
        let splits = small_corpus(5, 4000, 8);
        let probe = Probe::new(splits.len(), 5, Script::default());
        let got = run(probe.clone(), splits.clone(), config(2, 5, NEVER));
        assert_eq!(
            probe.map_runs(),
            vec![1; splits.len()],
            "map runs per split, with nothing failing or stalling: each split is mapped \
             exactly once"
        );
        assert_eq!(
            probe.reduce_runs(),
            vec![1; 5],
            "reduce runs per partition: R = 5 reduce tasks, each run once, with 2 \
             workers (a 0 is a partition never reduced: one reduce task per partition, \
             not per worker)"
        );
        let want = plain_count(&splits);
        assert!(
            got == want,
            "8 splits, 5 reducers, 2 workers: the pool's word count differs from a plain \
             count. {}",
            count_diff(&got, &want)
        );
    });
}

#[test]
fn ex11_4_map_tasks_run_at_the_same_time() {
    exercise("11.4")
        .hangs_if("the pool runs one task at a time and a test task waits for a second one")
        .run(|| {
            let splits = small_corpus(6, 2000, 4);
            let probe = Probe::new(
                splits.len(),
                2,
                Script {
                    map_gate: Some(Gate::new(2, PATIENCE)),
                    ..Script::default()
                },
            );
            run(probe.clone(), splits.clone(), config(2, 2, NEVER));
            assert!(
                !probe.script.map_gate.as_ref().unwrap().is_broken(),
                "with 2 workers, the first two map tasks never ran at the same time (a gate \
                 that both had to pass waited {PATIENCE:?} for the second). Is a lock held \
                 while a task runs, or is there only one worker?"
            );
        });
}

#[test]
fn ex11_4_reduce_tasks_run_at_the_same_time() {
    exercise("11.4")
        .hangs_if("the pool runs one task at a time and a test task waits for a second one")
        .run(|| {
            let splits = small_corpus(7, 2000, 3);
            let probe = Probe::new(
                splits.len(),
                4,
                Script {
                    reduce_gate: Some(Gate::new(2, PATIENCE)),
                    ..Script::default()
                },
            );
            let got = run(probe.clone(), splits.clone(), config(2, 4, NEVER));
            assert_eq!(
                probe.reduce_runs(),
                vec![1; 4],
                "reduce runs per partition: R = 4 reduce tasks, each run once, with 2 \
                 workers (a 0 is a partition never reduced: one reduce task per \
                 partition, not per worker)"
            );
            let want = plain_count(&splits);
            assert!(
                got == want,
                "3 splits, 4 reducers, 2 workers: the pool's word count differs from a \
                 plain count. {}",
                count_diff(&got, &want)
            );
            assert!(
                !probe.script.reduce_gate.as_ref().unwrap().is_broken(),
                "with 2 workers and 4 reduce tasks, the first two reduce tasks never ran at \
                 the same time (a gate both had to pass waited {PATIENCE:?}). Do the reduce \
                 tasks run on the pool too, without a lock held?"
            );
        });
}

#[test]
fn ex11_4_a_failed_map_task_is_run_again_and_counted_once() {
    exercise("11.4")
        .hangs_if("a failed task is never handed out again, so its phase never ends")
        .run(|| {
            let splits = small_corpus(8, 4000, 6);
            let probe = Probe::new(
                splits.len(),
                3,
                Script {
                    fails_first: Some(2),
                    ..Script::default()
                },
            );
            let got = run(probe.clone(), splits.clone(), config(2, 3, NEVER));
            assert_counts(
                &got,
                &plain_count(&splits),
                "map task 2 emitted half its words, then failed; it ran again. The output \
                 must count its words once: nothing of the failed attempt may reach it",
            );
            assert_eq!(
                probe.map_runs()[2],
                2,
                "map task 2 runs twice (it failed once)"
            );
        });
}

#[test]
fn ex11_4_a_stalled_map_task_is_run_again_and_its_late_output_dropped() {
    exercise("11.4")
        .hangs_if("a stalled task is never handed out again: do idle workers wake up (wait_timeout) to look for stragglers?")
        .run(|| {
            let splits = small_corpus(9, 4000, 6);
            let probe = Probe::new(
                splits.len(),
                3,
                Script {
                    stalls_first: Some(4),
                    release_on_rerun: true,
                    ..Script::default()
                },
            );
            let (tx, rx) = mpsc::channel();
            *probe.late.lock().unwrap() = Some(tx);
            let got = run(probe.clone(), splits.clone(), config(2, 3, Duration::from_millis(50)));
            assert_counts(
                &got,
                &plain_count(&splits),
                "map task 4 stalled, ran again, and its first attempt finished late too: \
                 its words must be counted once",
            );
            assert_eq!(probe.map_runs()[4], 2, "map task 4 runs twice (it stalled once)");
            rx.recv_timeout(PATIENCE)
                .expect("the stalled attempt was released when its re-run started");
        });
}

#[test]
fn ex11_4_the_job_does_not_wait_for_a_straggler() {
    exercise("11.4")
        .hangs_if("idle workers never wake to see the task is late (a Condvar wait with no timeout), or run waits for the stalled first attempt of a task whose re-run already committed (a thread scope, or joining every worker, waits for it)")
        .run(|| {
            let splits = small_corpus(10, 3000, 4);
            let probe = Probe::new(
                splits.len(),
                2,
                Script {
                    stalls_first: Some(1),
                    ..Script::default()
                },
            );
            // Three workers: one is stuck in the straggler for good.
            let got = run(probe.clone(), splits.clone(), config(3, 2, Duration::from_millis(50)));
            assert_counts(
                &got,
                &plain_count(&splits),
                "map task 1 stalled for good and ran again: the output counts its words once",
            );
            probe.release(); // only now does the straggler go on, and its commit is refused
        });
}

#[test]
fn ex11_4_the_job_ends_when_the_last_task_commits() {
    exercise("11.4")
        .hangs_if("a lock is held while a task runs (the last task waits for the others to finish, and they wait for the lock), or the coordinator waits for something that never comes")
        .run(|| {
            let splits = small_corpus(11, 3000, 5);
            let probe = Probe::new(
                splits.len(),
                2,
                Script {
                    last_to_finish: Some(3),
                    ..Script::default()
                },
            );
            let got = run(probe.clone(), splits.clone(), config(2, 2, NEVER));
            assert_counts(
                &got,
                &plain_count(&splits),
                "map task 3 finished last, after every other map task: the reduce phase \
                 must wait for its commit",
            );
        });
}

#[test]
fn ex11_4_property_the_pool_equals_a_sequential_run() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config as PropConfig, RngAlgorithm, TestRng, TestRunner};

    exercise("11.4").run(|| {
        // Random corpora: lines of words from a small vocabulary (so keys repeat), with
        // punctuation and capitals for the tokenizer; random numbers of splits, workers
        // and reducers. Seeded, so a failure is the same on every run.
        let word = (0usize..60, 0u8..4).prop_map(|(rank, style)| {
            let w = lesson_11::vocabulary_word(rank);
            match style {
                0 => w.to_uppercase(),
                1 => format!("{w},"),
                _ => w,
            }
        });
        let line = proptest::collection::vec(word, 0..10).prop_map(|ws| ws.join(" "));
        let text = proptest::collection::vec(line, 0..40).prop_map(|ls| ls.join("\n"));
        let strategy = (text, 1usize..6, 1usize..4, 1usize..5);
        let mut runner = TestRunner::new_with_rng(
            PropConfig {
                cases: 24,
                failure_persistence: None,
                ..PropConfig::default()
            },
            TestRng::deterministic_rng(RngAlgorithm::ChaCha),
        );
        let outcome = runner.run(&strategy, |(text, n, workers, reducers)| {
            let splits = Arc::new(split_lines(&text, n));
            let got = run(
                Arc::new(Count),
                splits.clone(),
                config(workers, reducers, NEVER),
            );
            let total: u64 = got.values().sum();
            prop_assert_eq!(
                total,
                words(&text).count() as u64,
                "the total of all counts must be the number of words in the text (not of lines)"
            );
            prop_assert_eq!(got, sequential(&Count, &splits));
            Ok(())
        });
        if let Err(e) = outcome {
            panic!("for a random corpus the pool's result differs from a sequential run: {e}");
        }
    });
}

// ---------------------------------------------------------------------------------------
// 11.5 With rayon

fn two_threads() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("a rayon pool of two threads")
}

#[test]
fn ex11_5_rayon_equals_a_sequential_run() {
    exercise("11.5").run(|| {
        let splits = small_corpus(12, 8000, 16);
        let pool = two_threads();
        let got = pool.install(|| par::run_rayon(&Count, &splits));
        assert_counts(
            &got,
            &sequential(&Count, &splits),
            "run_rayon's word count over 16 splits differs from the sequential run (is \
             fold's identity an empty map? it runs once per piece rayon cuts off)",
        );
        let index = pool.install(|| par::run_rayon(&InvertedIndex, &splits));
        assert_eq!(
            index,
            sequential(&InvertedIndex, &splits),
            "run_rayon's inverted index differs from the sequential run (the word count \
             above was right, so look at InvertedIndex::merge from 11.1: the union of both \
             sets)"
        );
    });
}

#[test]
fn ex11_5_rayon_maps_splits_in_parallel() {
    exercise("11.5")
        .hangs_if("run_rayon maps one split at a time and a test map waits for a second one")
        .run(|| {
            let splits = small_corpus(13, 4000, 8);
            let probe = Probe::new(
                splits.len(),
                1,
                Script {
                    map_gate: Some(Gate::new(2, PATIENCE)),
                    ..Script::default()
                },
            );
            let got = two_threads().install(|| par::run_rayon(&*probe, &splits));
            assert_counts(
                &got,
                &plain_count(&splits),
                "run_rayon's word count over 8 splits differs from a plain count",
            );
            assert!(
                !probe.script.map_gate.as_ref().unwrap().is_broken(),
                "on a rayon pool of two threads, two splits were never mapped at the same \
                 time. Is the work done under one shared lock, or with iter() instead of \
                 par_iter()?"
            );
        });
}

/// Each split emits ("x", 1) twice; the first two map calls must meet at a gate (so they
/// run on two threads, into two accumulators). Records the largest `other` a merge saw.
struct Tally {
    gate: Gate,
    calls: AtomicUsize,
    largest_other: AtomicU32,
}

impl Job for Tally {
    type Value = u64;
    fn map(&self, _: &Split, emit: &mut dyn FnMut(&str, u64)) -> Result<(), Failed> {
        if self.calls.fetch_add(1, Ordering::SeqCst) < 2 {
            self.gate.arrive();
        }
        emit("x", 1);
        emit("x", 1);
        Ok(())
    }
    fn merge(&self, acc: &mut u64, other: u64) {
        self.largest_other
            .fetch_max(u32::try_from(other).unwrap_or(u32::MAX), Ordering::SeqCst);
        *acc += other;
    }
}

#[test]
fn ex11_5_rayon_merges_partial_maps() {
    exercise("11.5")
        .hangs_if("run_rayon maps one split at a time and a test map waits for a second one")
        .run(|| {
            let splits = vec![split(0, "a"), split(1, "b")];
            let job = Tally {
                gate: Gate::new(2, PATIENCE),
                calls: AtomicUsize::new(0),
                largest_other: AtomicU32::new(0),
            };
            let got = two_threads().install(|| par::run_rayon(&job, &splits));
            assert!(
                !job.gate.is_broken(),
                "on a rayon pool of two threads, the two splits were never mapped at the \
                 same time. Is the work done under one shared lock, or with iter() \
                 instead of par_iter()?"
            );
            assert_eq!(
                got,
                BTreeMap::from([("x".to_string(), 4)]),
                "two splits, each emitting (\"x\", 1) twice"
            );
            assert!(
                job.largest_other.load(Ordering::SeqCst) >= 2,
                "two splits mapped on two threads, each emitting (\"x\", 1) twice, yet \
                 Job::merge never merged a partial count (2) into another: every pair went \
                 one at a time into one shared map. A lock taken per emit serialises the \
                 threads on every pair; fold each split into an accumulator of its own \
                 (`fold`), then merge the accumulators (`reduce`)"
            );
        });
}

kit::program_tests!("--workers", "0");
