//! Lesson 20's tests, in the order of the chapter's exercises.
//!
//! Most tests run the platform in this process, on a free port of 127.0.0.1, with the
//! store in a fresh SQLite file (in /dev/shm where there is one), and talk to it over
//! HTTP with reqwest. The store's [`Faults`] make it misbehave on purpose: panic before or
//! after a commit, or hold a key's commits until the test releases them — the test's way
//! of knowing, not guessing, that a request is in flight. The crash tests run the lesson
//! program as a server (`--serve FILE`) and kill it: SIGKILL mid-load, then a restart on
//! the same file; SIGTERM mid-load, then a clean exit.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lesson_20::limiter::ManualClock;
use lesson_20::metrics::Metrics;
use lesson_20::projection;
use lesson_20::read_model::{ReadModel, View};
use lesson_20::server::{Platform, QueryAnswer};
use lesson_20::store::{Committed, EventLog, Faults, NewEvent};
use lesson_20::streams::StreamRouter;
use lesson_20::{Ack, Config, IngestError};
use serde_json::json;
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

/// A runtime with two workers: the platform's tasks and the test's clients run at once.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A fresh directory for a SQLite file: in memory where the system has /dev/shm (a
/// SIGKILL loses nothing the kernel holds, and a busy disk slows every commit).
fn tmpdir() -> TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir() {
        tempfile::tempdir_in(shm)
    } else {
        tempfile::tempdir()
    }
    .expect("a temporary directory")
}

fn ev(id: &str, ts_ms: i64, value: i64) -> NewEvent {
    NewEvent {
        id: id.to_string(),
        ts_ms,
        value,
    }
}

fn evs(prefix: &str, n: usize) -> Vec<NewEvent> {
    (0..n)
        .map(|i| ev(&format!("{prefix}-{i}"), i as i64 * 10, i as i64))
        .collect()
}

/// Every stored event id.
fn stored_ids(store: &EventLog) -> BTreeSet<String> {
    store
        .read_all_blocking()
        .expect("the store reads")
        .into_iter()
        .map(|e| e.id)
        .collect()
}

/// A store and a router on it, with these faults.
fn router(dir: &TempDir, faults: Arc<Faults>) -> (Arc<EventLog>, Arc<Metrics>, Arc<StreamRouter>) {
    let store = Arc::new(
        EventLog::open_with_faults(&dir.path().join("events.db"), faults).expect("the store opens"),
    );
    let metrics = Arc::new(Metrics::new());
    let router = Arc::new(StreamRouter::new(
        Arc::clone(&store),
        Arc::clone(&metrics),
        16,
    ));
    (store, metrics, router)
}

/// `fut`, or a failure that says what did not happen in `secs` seconds.
async fn within<F: std::future::Future>(secs: u64, what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(secs), fut).await {
        Ok(out) => out,
        Err(_) => panic!("{what}: still waiting after {secs} s"),
    }
}

// ---------------------------------------------------------------------------------------
// 20.1 an actor per stream

#[test]
fn ex20_1_batches_of_one_key_are_handled_one_at_a_time_by_one_actor() {
    exercise("20.1")
        .hangs_if("submit waits for a reply that the actor never sends")
        .run(|| {
            runtime().block_on(async {
                let dir = tmpdir();
                let faults = Faults::none();
                let (store, _, router) = router(&dir, Arc::clone(&faults));
                // Hold key "k": the first batch stops just before its commit. A second
                // batch of "k" must wait in the actor's mailbox, not start on its own.
                faults.hold("k");
                let first = tokio::spawn({
                    let router = Arc::clone(&router);
                    async move { router.submit("k", evs("first", 3)).await }
                });
                within(
                    5,
                    "the first batch of \"k\" to reach the store's commit",
                    faults.arrived(1),
                )
                .await;
                let second = tokio::spawn({
                    let router = Arc::clone(&router);
                    async move { router.submit("k", evs("second", 2)).await }
                });
                // The other keys are not held up by "k".
                let other = within(
                    5,
                    "a batch of key \"other\" while \"k\" is held",
                    router.submit("other", evs("other", 2)),
                )
                .await;
                assert!(
                    other.is_ok(),
                    "a batch of another key while \"k\" was held: {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
                assert_eq!(
                    faults.reached_commit(),
                    2,
                    "while the first batch of \"k\" was being committed, a second batch of \
                     \"k\" reached the store too: two writers of one key. Every batch of a key \
                     goes through the key's one actor, which takes them one at a time"
                );
                faults.release();
                let first = within(5, "the first batch's answer", first)
                    .await
                    .expect("no panic");
                let second = within(5, "the second batch's answer", second)
                    .await
                    .expect("no panic");
                assert_eq!(
                    first,
                    Ok(Ack {
                        stored: 3,
                        duplicates: 0,
                        position: first.as_ref().map_or(0, |a| a.position)
                    }),
                    "the first batch of \"k\""
                );
                assert!(
                    matches!(
                        second,
                        Ok(Ack {
                            stored: 2,
                            duplicates: 0,
                            ..
                        })
                    ),
                    "the second batch of \"k\", after the first: {second:?}"
                );
                let all = store.read_all_blocking().expect("the store reads");
                let k: Vec<(u64, &str)> = all
                    .iter()
                    .filter(|e| e.key == "k")
                    .map(|e| (e.seq, e.id.as_str()))
                    .collect();
                assert_eq!(
                    k,
                    vec![
                        (1, "first-0"),
                        (2, "first-1"),
                        (3, "first-2"),
                        (4, "second-0"),
                        (5, "second-1")
                    ],
                    "the events of \"k\" in the store, in order"
                );
            })
        });
}

#[test]
fn ex20_1_many_clients_at_once_every_batch_is_acknowledged_in_order() {
    exercise("20.1")
        .hangs_if("submit waits for a reply that the actor never sends")
        .run(|| {
            runtime().block_on(async {
                let dir = tmpdir();
                let (store, metrics, router) = router(&dir, Faults::none());
                let mut tasks = tokio::task::JoinSet::new();
                for t in 0..6 {
                    let router = Arc::clone(&router);
                    tasks.spawn(async move {
                        let mut acks = Vec::new();
                        for b in 0..12 {
                            let key = format!("key-{}", (t + b) % 3);
                            let events = evs(&format!("t{t}-b{b}"), 4);
                            acks.push((key.clone(), router.submit(&key, events).await));
                        }
                        acks
                    });
                }
                let mut failures = Vec::new();
                while let Some(acks) = within(10, "the clients' batches", tasks.join_next()).await {
                    for (key, ack) in acks.expect("a client task ran") {
                        match ack {
                            Ok(Ack {
                                stored: 4,
                                duplicates: 0,
                                ..
                            }) => {}
                            other => failures.push(format!("{key}: {other:?}")),
                        }
                    }
                }
                assert!(
                    failures.is_empty(),
                    "6 clients, 12 batches each, over 3 keys at once: every batch must be \
                     acknowledged with stored 4. A Conflict means two writers appended to one \
                     key (an actor per request, or two actors for a key). Failures: {failures:#?}"
                );
                let all = store.read_all_blocking().expect("the store reads");
                assert_eq!(all.len(), 6 * 12 * 4, "events stored");
                let mut per_key: BTreeMap<&str, Vec<&Committed>> = BTreeMap::new();
                for e in &all {
                    per_key.entry(&e.key).or_default().push(e);
                }
                for (key, events) in per_key {
                    // A client's batches of one key: in the order it sent them.
                    for t in 0..6 {
                        let seqs: Vec<u64> = events
                            .iter()
                            .filter(|e| e.id.starts_with(&format!("t{t}-")))
                            .map(|e| e.seq)
                            .collect();
                        assert!(
                            seqs.windows(2).all(|w| w[0] < w[1]),
                            "client {t}'s events of {key} are out of order: {seqs:?}"
                        );
                    }
                }
                assert_eq!(metrics.actor_restarts.get(), 0, "restarts without a panic");
            })
        });
}

#[test]
fn ex20_1_a_panicking_actor_is_restarted_and_never_acknowledges_what_it_did_not_commit() {
    exercise("20.1")
        .hangs_if(
            "the actor's task died with the panic, and submit waits for a reply forever: catch \
             the panic (FutureExt::catch_unwind) and answer ActorCrashed",
        )
        .run(|| {
            runtime().block_on(async {
                let dir = tmpdir();
                let faults = Faults::none();
                let (store, metrics, router) = router(&dir, Arc::clone(&faults));

                faults.panic_before_commit("p-1");
                let got = within(
                    5,
                    "the answer to a batch whose commit panics",
                    router.submit("k", evs("p", 3)),
                )
                .await;
                assert_eq!(
                    got,
                    Err(IngestError::ActorCrashed),
                    "the store panicked before committing the batch (a planted fault): the \
                     answer is Err(ActorCrashed), never an Ack"
                );
                assert!(!stored_ids(&store).contains("p-1"), "p-1 was not committed");
                let got = within(
                    5,
                    "the next batch of the same key",
                    router.submit("k", evs("q", 2)),
                )
                .await;
                assert!(
                    matches!(got, Ok(Ack { stored: 2, .. })),
                    "the next batch of the key whose actor panicked: {got:?}. The supervisor \
                     restarts the actor on the same mailbox"
                );

                faults.panic_after_commit("r-0");
                let got = within(
                    5,
                    "the answer to a batch that panics after its commit",
                    router.submit("k", evs("r", 2)),
                )
                .await;
                assert_eq!(
                    got,
                    Err(IngestError::ActorCrashed),
                    "the store committed the batch and then panicked: nobody told the actor it \
                     was committed, so the answer is ActorCrashed, not an Ack"
                );
                let resend = within(5, "the resend", router.submit("k", evs("r", 2))).await;
                assert!(
                    matches!(
                        resend,
                        Ok(Ack {
                            stored: 0,
                            duplicates: 2,
                            ..
                        })
                    ),
                    "the client resends the batch it got no Ack for (same ids): {resend:?}"
                );
                let next = within(
                    5,
                    "a new batch after the restart",
                    router.submit("k", evs("s", 1)),
                )
                .await;
                assert!(
                    matches!(next, Ok(Ack { stored: 1, .. })),
                    "a new batch after a panic that followed a commit: {next:?}. A Conflict \
                     here means the restarted actor kept the old actor's version: after a panic, \
                     throw the state away and read the version from the store again"
                );
                assert_eq!(
                    metrics.actor_restarts.get(),
                    2,
                    "metrics.actor_restarts after two panics"
                );

                // Batches waiting in the mailbox survive the restart.
                faults.hold("m");
                let router2 = Arc::clone(&router);
                let a = tokio::spawn(async move { router2.submit("m", evs("ma", 1)).await });
                within(
                    5,
                    "the first batch of \"m\" at the commit",
                    faults.arrived(1),
                )
                .await;
                faults.panic_before_commit("mb-0");
                let mut queued = Vec::new();
                for name in ["mb", "mc"] {
                    let router = Arc::clone(&router);
                    queued.push(tokio::spawn(async move {
                        router.submit("m", evs(name, 1)).await
                    }));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                faults.release();
                let a = within(5, "batch ma", a).await.expect("no panic");
                let mc = within(5, "batch mc", queued.pop().expect("mc"))
                    .await
                    .expect("no panic");
                let mb = within(5, "batch mb", queued.pop().expect("mb"))
                    .await
                    .expect("no panic");
                assert!(a.is_ok(), "batch ma: {a:?}");
                assert_eq!(
                    mb,
                    Err(IngestError::ActorCrashed),
                    "batch mb (its commit panics)"
                );
                assert!(
                    matches!(mc, Ok(Ack { stored: 1, .. })),
                    "batch mc was waiting in the mailbox when the actor panicked on mb: it is \
                     handled by the restarted actor, not lost. Got {mc:?}"
                );
            })
        });
}

#[test]
fn ex20_1_close_refuses_new_batches_and_wait_drains_the_actors() {
    exercise("20.1")
        .hangs_if("wait never returns: the actors' mailboxes are never closed (drop the senders)")
        .run(|| {
            runtime().block_on(async {
                let dir = tmpdir();
                let faults = Faults::none();
                let (store, _, router) = router(&dir, Arc::clone(&faults));
                let warm = within(5, "a first batch", router.submit("other", evs("o", 1))).await;
                assert!(warm.is_ok(), "a first batch of \"other\": {warm:?}");
                faults.hold("h");
                let router2 = Arc::clone(&router);
                let held = tokio::spawn(async move { router2.submit("h", evs("held", 2)).await });
                within(5, "the batch of \"h\" at the commit", faults.arrived(1)).await;
                router.close();
                for key in ["h", "other", "new-key"] {
                    let got = within(
                        5,
                        "a batch after close",
                        router.submit(key, evs(&format!("late-{key}"), 1)),
                    )
                    .await;
                    assert_eq!(
                        got,
                        Err(IngestError::ShuttingDown),
                        "a batch for {key:?} after close(): refused at once"
                    );
                }
                let router3 = Arc::clone(&router);
                let mut waiting = tokio::spawn(async move { router3.wait().await });
                let early = tokio::time::timeout(Duration::from_millis(300), &mut waiting).await;
                assert!(
                    early.is_err(),
                    "wait() returned while a batch was still being committed: it must wait for \
                     every actor to finish the batches it was given"
                );
                faults.release();
                let held = within(5, "the held batch", held).await.expect("no panic");
                assert!(
                    matches!(held, Ok(Ack { stored: 2, .. })),
                    "the batch in progress when close() was called is still committed and \
                     acknowledged: {held:?}"
                );
                within(5, "wait() after the last batch", waiting)
                    .await
                    .expect("no panic");
                let ids = stored_ids(&store);
                assert!(ids.contains("held-1"), "the held batch is in the store");
                assert!(
                    !ids.iter().any(|id| id.starts_with("late-")),
                    "nothing after close is stored: {ids:?}"
                );
            })
        });
}

#[test]
fn ex20_1_close_still_commits_the_batches_queued_behind_the_one_in_progress() {
    exercise("20.1")
        .hangs_if("wait never returns: the actors' mailboxes are never closed (drop the senders)")
        .run(|| {
            runtime().block_on(async {
                let dir = tmpdir();
                let faults = Faults::none();
                let (store, _, router) = router(&dir, Arc::clone(&faults));
                faults.hold("h");
                let router2 = Arc::clone(&router);
                let held = tokio::spawn(async move { router2.submit("h", evs("held", 2)).await });
                within(5, "the batch of \"h\" at the commit", faults.arrived(1)).await;
                let router3 = Arc::clone(&router);
                let queued =
                    tokio::spawn(async move { router3.submit("h", evs("queued", 3)).await });
                // Time for the second batch to reach the mailbox of "h", behind the held one (generous:
                // a correct solution that is slow to get there would fail, so no tight margin).
                tokio::time::sleep(Duration::from_millis(500)).await;
                router.close();
                faults.release();
                let held = within(5, "the held batch's answer", held)
                    .await
                    .expect("no panic");
                assert!(
                    matches!(held, Ok(Ack { stored: 2, .. })),
                    "the batch being committed when close() was called: {held:?}"
                );
                let queued = within(5, "the queued batch's answer", queued)
                    .await
                    .expect("no panic");
                assert!(
                    matches!(queued, Ok(Ack { stored: 3, .. })),
                    "a second batch of \"h\" was waiting in the key's mailbox, behind the batch \
                     being committed, when close() was called. It had been accepted, so it is \
                     still committed and acknowledged; it got {queued:?}. close() refuses only \
                     *new* batches: stopping the actors with a CancellationToken (select! on \
                     cancelled()) throws away what is queued. Drop the router's senders instead: \
                     each actor's recv loop then ends once its mailbox is empty"
                );
                within(5, "wait() after the queued batch", router.wait()).await;
                assert!(
                    stored_ids(&store).contains("queued-2"),
                    "the queued batch is in the store"
                );
            })
        });
}

#[test]
fn ex20_1_a_full_mailbox_holds_up_only_its_own_key_and_makes_its_senders_wait() {
    exercise("20.1")
        .hangs_if("submit waits for a reply that the actor never sends")
        .run(|| {
            runtime().block_on(async {
                let dir = tmpdir();
                let faults = Faults::none();
                let store = Arc::new(
                    EventLog::open_with_faults(&dir.path().join("events.db"), Arc::clone(&faults))
                        .expect("the store opens"),
                );
                // Mailboxes of 2 batches.
                let router = Arc::new(StreamRouter::new(
                    Arc::clone(&store),
                    Arc::new(Metrics::new()),
                    2,
                ));
                faults.hold("full");
                let submit = |prefix: String| {
                    let router = Arc::clone(&router);
                    tokio::spawn(async move { router.submit("full", evs(&prefix, 1)).await })
                };
                let mut batches = vec![submit("f0".to_string())];
                within(
                    5,
                    "the first batch of \"full\" at the commit",
                    faults.arrived(1),
                )
                .await;
                // Two fill the mailbox of "full"; two more wait to get in.
                for i in 1..=4 {
                    batches.push(submit(format!("f{i}")));
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
                let other = tokio::time::timeout(
                    Duration::from_secs(5),
                    router.submit("other", evs("other", 1)),
                )
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "a batch of key \"other\" got no answer in 5 s while the mailbox of key \
                         \"full\" was full: one key's full mailbox holds up every key. Do not hold \
                         a lock across send().await: clone the key's sender under the lock, drop \
                         the lock, then send"
                    )
                });
                assert!(other.is_ok(), "a batch of \"other\": {other:?}");
                // A client that gives up while waiting for room leaves nothing behind.
                let gave_up = tokio::time::timeout(
                    Duration::from_millis(200),
                    router.submit("full", evs("gave-up", 1)),
                )
                .await;
                assert!(
                    gave_up.is_err(),
                    "a batch of \"full\" was answered ({gave_up:?}) while the key's commits were \
                     held and its mailbox full"
                );
                faults.release();
                for (i, batch) in batches.into_iter().enumerate() {
                    let got = within(5, "the batches of \"full\"", batch)
                        .await
                        .expect("no panic");
                    assert!(
                        matches!(got, Ok(Ack { stored: 1, .. })),
                        "batch f{i} of \"full\": {got:?}"
                    );
                }
                // Every batch any actor was given is handled before wait() returns.
                router.close();
                within(5, "wait() after close()", router.wait()).await;
                assert!(
                    !stored_ids(&store).contains("gave-up-0"),
                    "the mailbox of \"full\" (2 batches) was full and 2 more batches were waiting \
                     to get in; a client gave up on one more, yet it was stored: it had been \
                     queued at once. The mailbox must be bounded (mpsc::channel(mailbox)): a full \
                     one makes submit wait — backpressure — instead of piling up work without \
                     limit (an unbounded or huge channel)"
                );
            })
        });
}

// ---------------------------------------------------------------------------------------
// 20.2 the ingest handler

struct Running {
    _dir: TempDir,
    platform: Platform,
    faults: Arc<Faults>,
    clock: Arc<ManualClock>,
    http: reqwest::Client,
}

async fn start(config: Config) -> Running {
    let dir = tmpdir();
    let faults = Faults::none();
    let clock = Arc::new(ManualClock::new());
    let platform = Platform::start(
        &dir.path().join("events.db"),
        config,
        Arc::clone(&clock) as _,
        Arc::clone(&faults),
    )
    .await
    .expect("the platform starts");
    Running {
        _dir: dir,
        platform,
        faults,
        clock,
        http: reqwest::Client::new(),
    }
}

/// An HTTP answer: status, Retry-After, body.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: String,
}

async fn post_to(
    http: &reqwest::Client,
    url: &str,
    api_key: &str,
    body: String,
) -> Result<Answer, reqwest::Error> {
    let response = http
        .post(format!("{url}/events"))
        .header("x-api-key", api_key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = response.text().await?;
    Ok(Answer {
        status,
        retry_after,
        body,
    })
}

impl Running {
    async fn post(&self, api_key: &str, body: serde_json::Value) -> Answer {
        within(
            5,
            "an answer to POST /events",
            post_to(&self.http, &self.platform.url(), api_key, body.to_string()),
        )
        .await
        .expect("the platform answers POST /events")
    }

    async fn post_raw(&self, body: &str) -> Answer {
        within(
            5,
            "an answer to POST /events",
            post_to(&self.http, &self.platform.url(), "tester", body.to_string()),
        )
        .await
        .expect("the platform answers POST /events")
    }

    async fn query(&self, q: &str) -> QueryAnswer {
        query_at(&self.http, &self.platform.url(), q).await
    }
}

async fn query_at(http: &reqwest::Client, url: &str, q: &str) -> QueryAnswer {
    let text = within(5, "an answer to GET /query", async {
        http.get(format!("{url}/query?{q}"))
            .send()
            .await?
            .text()
            .await
    })
    .await
    .expect("the platform answers GET /query");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET /query?{q}: {e}: {text}"))
}

fn batch(key: &str, prefix: &str, n: usize) -> serde_json::Value {
    json!({
        "key": key,
        "events": (0..n).map(|i| json!({"id": format!("{prefix}-{i}"), "ts_ms": 1000 + i * 10, "value": i + 1})).collect::<Vec<_>>(),
    })
}

fn ack_of(answer: &Answer) -> Ack {
    serde_json::from_str(&answer.body).unwrap_or_else(|e| {
        panic!(
            "a 200 to POST /events has the Ack as JSON ({{\"stored\":…,\"duplicates\":…,\"position\":…}}): {e}; the body was {:?}",
            answer.body
        )
    })
}

#[test]
fn ex20_2_a_valid_batch_is_acknowledged_with_what_was_stored() {
    exercise("20.2").run(|| {
        runtime().block_on(async {
            let p = start(Config::default()).await;
            let a = p.post("c", batch("sensor", "e", 3)).await;
            assert_eq!(a.status, 200, "a valid batch of 3 events: {a:?}");
            let ack = ack_of(&a);
            let stored = p.platform.app.store.read_all_blocking().expect("reads");
            assert_eq!(stored.len(), 3, "events in the store after the 200");
            let last = stored.iter().map(|e| e.position).max().unwrap_or(0);
            assert_eq!(
                (ack.stored, ack.duplicates),
                (3, 0),
                "the Ack of a new batch of 3"
            );
            assert!(
                ack.position >= last,
                "Ack.position {} is before the batch's last event ({last})",
                ack.position
            );
            let again = p.post("c", batch("sensor", "e", 3)).await;
            assert_eq!(again.status, 200, "the same batch again: {again:?}");
            let ack = ack_of(&again);
            assert_eq!(
                (ack.stored, ack.duplicates),
                (0, 3),
                "a resend of the same ids"
            );
            assert_eq!(
                p.platform
                    .app
                    .store
                    .read_all_blocking()
                    .expect("reads")
                    .len(),
                3,
                "events in the store after the resend"
            );
            let full = p.post("c", batch("sensor", "full", 100)).await;
            assert_eq!(
                full.status, 200,
                "a batch of exactly max_batch (100) events is allowed; only more than 100 is                  refused: {full:?}"
            );
        })
    });
}

#[test]
fn ex20_2_bad_input_gets_a_4xx_naming_the_problem_and_stores_nothing() {
    exercise("20.2").run(|| {
        runtime().block_on(async {
            let p = start(Config::default()).await;
            let oversized = batch("sensor", "big", 101).to_string();
            let cases: Vec<(&str, String, &str)> = vec![
                ("malformed JSON", r#"{"key": "sensor", "events": [{"id": "a""#.to_string(), ""),
                ("not JSON at all", "key=sensor".to_string(), ""),
                (
                    "an unknown field in the batch",
                    r#"{"key": "sensor", "colour": "red", "events": [{"id": "a", "ts_ms": 1, "value": 1}]}"#.to_string(),
                    "colour",
                ),
                (
                    "an unknown field in an event",
                    r#"{"key": "sensor", "events": [{"id": "a", "ts_ms": 1, "value": 1, "unit": "C"}]}"#.to_string(),
                    "unit",
                ),
                (
                    "an event without its value",
                    r#"{"key": "sensor", "events": [{"id": "a", "ts_ms": 1}]}"#.to_string(),
                    "value",
                ),
                (
                    "a value that is not a number",
                    r#"{"key": "sensor", "events": [{"id": "a", "ts_ms": 1, "value": "high"}]}"#.to_string(),
                    "",
                ),
                ("101 events, over the limit of 100", oversized, "100"),
                (
                    "an empty key",
                    r#"{"key": "", "events": [{"id": "a", "ts_ms": 1, "value": 1}]}"#.to_string(),
                    "key",
                ),
                ("no events", r#"{"key": "sensor", "events": []}"#.to_string(), "events"),
                (
                    "an event with an empty id",
                    r#"{"key": "sensor", "events": [{"id": "ok", "ts_ms": 1, "value": 1}, {"id": "", "ts_ms": 1, "value": 1}]}"#.to_string(),
                    "id",
                ),
            ];
            for (what, body, named) in cases {
                let a = p.post_raw(&body).await;
                assert!(
                    (400..500).contains(&a.status),
                    "{what}: the answer must be a 4xx, it was {} {:?}",
                    a.status,
                    a.body
                );
                assert!(
                    !a.body.trim().is_empty() && a.body.contains(named),
                    "{what}: the message must name the problem{}; it was {:?}",
                    if named.is_empty() { String::new() } else { format!(" (mention {named:?})") },
                    a.body
                );
            }
            let ids = stored_ids(&p.platform.app.store);
            assert!(
                ids.is_empty(),
                "bad batches are refused whole, before anything of them reaches the store; the \
                 store holds {ids:?}"
            );
        })
    });
}

#[test]
fn ex20_2_a_client_over_its_limit_gets_429_with_retry_after() {
    exercise("20.2").run(|| {
        runtime().block_on(async {
            let p = start(Config {
                rate_burst: 3,
                rate_every: Duration::from_millis(2500),
                ..Config::default()
            })
            .await;
            for i in 0..3 {
                let a = p.post("alice", batch("s", &format!("a{i}"), 1)).await;
                assert_eq!(
                    a.status,
                    200,
                    "alice's request {} of a burst of 3: {a:?}",
                    i + 1
                );
            }
            let a = p.post("alice", batch("s", "a3", 1)).await;
            assert_eq!(
                a.status, 429,
                "alice's 4th request with a burst of 3 and a clock that stands still: {a:?}"
            );
            assert_eq!(
                a.retry_after.as_deref(),
                Some("3"),
                "the 429's Retry-After header: the limiter says 2.5 s, and the header takes \
                 whole seconds, rounded up (RateLimited::retry_after_secs)"
            );
            let bad = within(
                5,
                "an answer to POST /events",
                post_to(&p.http, &p.platform.url(), "alice", "{not json".to_string()),
            )
            .await
            .expect("the platform answers POST /events");
            assert_eq!(
                bad.status, 429,
                "alice, over her limit, sends a malformed body: still 429, not a 400 — check the                  limit first, before parsing the body (a client over its limit must not make the                  server parse it): {bad:?}"
            );
            let b = p.post("bob", batch("s", "b0", 1)).await;
            assert_eq!(b.status, 200, "bob has his own limit: {b:?}");
            assert!(
                !stored_ids(&p.platform.app.store).contains("a3-0"),
                "a refused batch is not stored"
            );
            p.clock.advance(Duration::from_millis(2500));
            let a = p.post("alice", batch("s", "a4", 1)).await;
            assert_eq!(a.status, 200, "alice, 2.5 s later: one more request: {a:?}");
        })
    });
}

#[test]
fn ex20_2_the_200_is_sent_only_after_the_commit() {
    exercise("20.2").run(|| {
        runtime().block_on(async {
            let p = start(Config::default()).await;
            p.faults.hold("slow");
            let http = p.http.clone();
            let url = p.platform.url();
            let mut answer = tokio::spawn(async move {
                post_to(&http, &url, "c", batch("slow", "s", 2).to_string()).await
            });
            within(
                5,
                "the batch to reach the store's commit",
                p.faults.arrived(1),
            )
            .await;
            let early = tokio::time::timeout(Duration::from_millis(300), &mut answer).await;
            if let Ok(done) = early {
                let what = match done {
                    Ok(Ok(a)) => format!("{} {:?}", a.status, a.body),
                    Ok(Err(e)) => format!("with an error: {e}"),
                    Err(e) => format!("(the client task panicked: {e})"),
                };
                panic!(
                    "POST /events was answered {what} while its batch was not yet committed: \
                     answer only after the actor reports the commit"
                );
            }
            p.faults.release();
            let a = within(5, "the answer after the commit", answer)
                .await
                .expect("no panic")
                .expect("an answer");
            assert_eq!(a.status, 200, "after the commit: {a:?}");
        })
    });
}

#[test]
fn ex20_2_a_batch_whose_actor_crashed_is_answered_with_a_5xx() {
    exercise("20.2").run(|| {
        runtime().block_on(async {
            let p = start(Config::default()).await;
            p.faults.panic_before_commit("x-0");
            let a = p.post("c", batch("s", "x", 2)).await;
            assert!(
                (500..600).contains(&a.status),
                "the actor panicked before the commit: a 5xx, not {a:?}"
            );
            p.faults.panic_after_commit("y-0");
            let a = p.post("c", batch("s", "y", 2)).await;
            assert!(
                (500..600).contains(&a.status),
                "the actor panicked after the commit, before it could answer: still a 5xx (the \
                 client resends), not {a:?}"
            );
            let a = p.post("c", batch("s", "y", 2)).await;
            assert_eq!(a.status, 200, "the resend: {a:?}");
            assert_eq!(
                ack_of(&a).duplicates,
                2,
                "the resend's events were already stored"
            );
        })
    });
}

#[test]
fn ex20_2_a_batch_refused_because_of_the_shutdown_is_a_503() {
    exercise("20.2").run(|| {
        runtime().block_on(async {
            let p = start(Config::default()).await;
            let app = p.platform.app.clone();
            app.streams.close();
            let mut headers = axum::http::HeaderMap::new();
            headers.insert("x-api-key", axum::http::HeaderValue::from_static("c"));
            let body = axum::body::Bytes::from(batch("s", "late", 2).to_string());
            let response = within(
                5,
                "the ingest handler's answer after the actors were closed",
                lesson_20::ingest::ingest(axum::extract::State(app), headers, body),
            )
            .await;
            assert_eq!(
                response.status().as_u16(),
                503,
                "a valid batch after streams.close(): submit answers Err(ShuttingDown), which is \
                 503 Service Unavailable (come back later), not 500 (a bug in the server)"
            );
        })
    });
}

// ---------------------------------------------------------------------------------------
// 20.3 the projection

fn committed(position: u64, key: &str, ts_ms: i64, value: i64) -> Committed {
    Committed {
        position,
        key: key.to_string(),
        seq: position,
        id: format!("id-{position}"),
        ts_ms,
        value,
    }
}

#[test]
fn ex20_3_apply_folds_each_event_in_once() {
    exercise("20.3").run(|| {
        let mut view = View::default();
        let e1 = committed(1, "a", 1500, 10);
        let e2 = committed(2, "a", 2500, 5);
        let e3 = committed(3, "b", 2600, 1);
        for e in [&e1, &e2, &e1, &e2, &e3, &e3, &e1] {
            projection::apply(&mut view, e);
        }
        let a = &view.keys["a"];
        assert_eq!(
            (view.position, a.count, a.sum),
            (3, 2, 15),
            "events 1, 2, 1, 2, 3, 3, 1 (redelivered): (position, count, sum) of key a. An \
             event at or before the view's position is already in it"
        );
        assert_eq!(view.keys["b"].count, 1, "key b's count");
        let mut fresh = View::default();
        for e in [&e1, &e2, &e3] {
            projection::apply(&mut fresh, e);
        }
        assert_eq!(
            view, fresh,
            "a view with redeliveries equals the view without them"
        );
    });
}

/// A store holding `n` events of keys k0..k3, appended directly.
/// A projector started on `store`, once its read model has reached `head`: the model, the
/// stop token and the projector's task.
async fn caught_up_projector(
    store: &Arc<EventLog>,
    head: u64,
) -> (
    Arc<ReadModel>,
    CancellationToken,
    tokio::task::JoinHandle<()>,
) {
    let model = Arc::new(ReadModel::new());
    let stop = CancellationToken::new();
    let projector = tokio::spawn(projection::run(
        Arc::clone(store),
        Arc::clone(&model),
        stop.clone(),
    ));
    let reached = model.wait_for(head, Duration::from_secs(5)).await;
    assert!(
        reached.is_ok(),
        "a running projector catches up: {reached:?}"
    );
    (model, stop, projector)
}

async fn filled_store(dir: &TempDir, n: usize) -> Arc<EventLog> {
    let store = Arc::new(EventLog::open(&dir.path().join("events.db")).expect("the store opens"));
    let mut versions = [0u64; 4];
    for chunk in 0..n.div_ceil(50) {
        let k = chunk % 4;
        let events: Vec<NewEvent> = (chunk * 50..((chunk + 1) * 50).min(n))
            .map(|i| ev(&format!("f{i}"), (i as i64 * 97) % 5000, (i % 13) as i64))
            .collect();
        let appended = store
            .append(&format!("k{k}"), versions[k], events)
            .await
            .expect("the store appends");
        versions[k] = appended.version;
    }
    store
}

/// What the events of the store make, computed here.
fn expected_view(store: &EventLog) -> View {
    let mut view = View::default();
    for e in store.read_all_blocking().expect("reads") {
        view.record(&e);
    }
    view
}

#[test]
fn ex20_3_the_projector_catches_up_from_the_store_then_follows_it() {
    exercise("20.3")
        .hangs_if("the projector never returns after stop is cancelled")
        .run(|| {
            runtime().block_on(async {
                let dir = tmpdir();
                let store = filled_store(&dir, 700).await;
                // Stop is cancelled before the projector starts: it must still catch up
                // with everything the store holds, then return.
                let model = Arc::new(ReadModel::new());
                let stop = CancellationToken::new();
                stop.cancel();
                within(
                    5,
                    "the projector to return after catching up (stop was cancelled before it started)",
                    projection::run(Arc::clone(&store), Arc::clone(&model), stop),
                )
                .await;
                assert_eq!(
                    model.position(),
                    700,
                    "the read model's position after a catch-up from a store of 700 events (read \
                     {} at a time, until a read comes back empty)",
                    projection::READ_BATCH
                );
                assert!(
                    *model.read() == expected_view(&store),
                    "the read model after the catch-up is not what the store's events make"
                );

                // Running: it follows new commits.
                let (model, stop, projector) = caught_up_projector(&store, 700).await;
                for round in 0..3 {
                    let appended = store
                        .append("k9", round * 5, evs(&format!("late{round}"), 5))
                        .await
                        .expect("appends");
                    let reached = model.wait_for(appended.head, Duration::from_secs(5)).await;
                    assert!(
                        reached.is_ok(),
                        "5 events committed while the projector runs: the read model must reach \
                         their position {} (wait on store.subscribe()): {reached:?}",
                        appended.head
                    );
                }
                stop.cancel();
                within(5, "the projector to return after stop", projector).await.expect("no panic");
                assert!(*model.read() == expected_view(&store), "the view after following");
            })
        });
}

#[test]
fn ex20_3_stop_right_after_a_commit_still_folds_the_commit_in() {
    exercise("20.3")
        .hangs_if("the projector never returns after stop is cancelled")
        .run(|| {
            // One thread: between the commit and stop.cancel() the projector cannot run, so
            // it finds the head moved and stop cancelled at the same time.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a tokio runtime");
            runtime.block_on(async {
                let dir = tmpdir();
                let store = filled_store(&dir, 60).await;
                let (model, stop, projector) = caught_up_projector(&store, 60).await;
                // Its last (empty) read, then it waits for the head.
                tokio::time::sleep(Duration::from_millis(100)).await;
                let appended = store
                    .append("k9", 0, evs("last", 5))
                    .await
                    .expect("appends");
                stop.cancel(); // no .await between the commit and the cancel
                within(5, "the projector to return after stop", projector)
                    .await
                    .expect("no panic");
                assert_eq!(
                    model.position(),
                    appended.head,
                    "a batch was committed and stop was cancelled right after it — what the \
                     shutdown does. When stop is cancelled the projector catches up once more \
                     before it returns; `stop.cancelled() => return` in the select! skips that \
                     last catch-up, and the read model ends behind the store"
                );
            })
        });
}

#[test]
fn ex20_3_an_idle_projector_waits_for_the_head_instead_of_polling() {
    exercise("20.3")
        .hangs_if("the projector never returns after stop is cancelled")
        .run(|| {
            runtime().block_on(async {
                let dir = tmpdir();
                let store = filled_store(&dir, 60).await;
                let (model, stop, projector) = caught_up_projector(&store, 60).await;
                // Its last (empty) read.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let before = store.read_after_calls();
                tokio::time::sleep(Duration::from_millis(300)).await;
                let idle_reads = store.read_after_calls() - before;
                assert!(
                    idle_reads <= 1,
                    "nothing was committed for 0.3 s, yet the projector read the store \
                     {idle_reads} times: it polls (a sleep or a yield in a loop). Sleep until \
                     the head moves: store.subscribe(), and head.changed() in a select! with \
                     stop.cancelled()"
                );
                let appended = store
                    .append("k9", 0, evs("after-idle", 3))
                    .await
                    .expect("appends");
                let reached = model.wait_for(appended.head, Duration::from_secs(5)).await;
                assert!(
                    reached.is_ok(),
                    "a commit after a quiet while wakes the projector: {reached:?}"
                );
                stop.cancel();
                within(5, "the projector to return after stop", projector)
                    .await
                    .expect("no panic");
            })
        });
}

#[test]
fn ex20_3_a_read_is_folded_in_with_one_update() {
    exercise("20.3")
        .hangs_if("the projector never returns after stop is cancelled")
        .run(|| {
            runtime().block_on(async {
                let dir = tmpdir();
                let store = filled_store(&dir, 700).await;
                let model = Arc::new(ReadModel::new());
                let stop = CancellationToken::new();
                stop.cancel();
                within(
                    5,
                    "the projector to return after catching up",
                    projection::run(Arc::clone(&store), Arc::clone(&model), stop),
                )
                .await;
                let reads = 700usize.div_ceil(projection::READ_BATCH);
                assert!(
                    model.updates() <= reads + 1,
                    "catching up with 700 events, {} at a time ({reads} reads), took {} calls of \
                     model.update: a query between two of them sees half a read. Fold each read \
                     in with one model.update(|view| for event in &events {{ apply(view, event) }})",
                    projection::READ_BATCH,
                    model.updates()
                );
                assert_eq!(model.position(), 700, "the read model's position");
            })
        });
}

/// A key's count, sum, and (count, sum) per window start.
type Figures = (u64, i64, BTreeMap<i64, (u64, i64)>);

/// What the scripted load sends: client `c`, batch `b`.
fn load_batch(c: usize, b: usize) -> (String, Vec<(String, i64, i64)>) {
    let key = format!("s{}", (c + 2 * b) % 3);
    let events = (0..10)
        .map(|e| {
            let n = (c * 100 + b) * 10 + e;
            (
                format!("L{c}-{b}-{e}"),
                5000 + ((n * 389) % 4000) as i64,
                (n % 17) as i64 - 3,
            )
        })
        .collect();
    (key, events)
}

fn load_body(key: &str, events: &[(String, i64, i64)]) -> String {
    json!({
        "key": key,
        "events": events.iter().map(|(id, ts, v)| json!({"id": id, "ts_ms": ts, "value": v})).collect::<Vec<_>>(),
    })
    .to_string()
}

#[test]
fn ex20_3_a_scripted_load_then_queries_with_exact_answers() {
    exercise("20.3").patience(Duration::from_secs(20)).run(|| {
        runtime().block_on(async {
            let p = start(Config::default()).await;
            let (clients, batches) = (5, 16);
            let mut tasks = tokio::task::JoinSet::new();
            for c in 0..clients {
                let http = p.http.clone();
                let url = p.platform.url();
                tasks.spawn(async move {
                    let mut last = 0;
                    for b in 0..batches {
                        let (key, events) = load_batch(c, b);
                        let a = post_to(
                            &http,
                            &url,
                            &format!("client-{c}"),
                            load_body(&key, &events),
                        )
                        .await
                        .expect("the platform answers");
                        assert_eq!(a.status, 200, "client {c} batch {b}: {a:?}");
                        last = last.max(ack_of(&a).position);
                    }
                    last
                });
            }
            let mut last = 0;
            while let Some(l) = within(15, "the scripted load", tasks.join_next()).await {
                last = last.max(l.expect("a client ran"));
            }
            // The expected answers, from what was sent.
            let mut want: BTreeMap<String, Figures> = BTreeMap::new();
            for c in 0..clients {
                for b in 0..batches {
                    let (key, events) = load_batch(c, b);
                    let k = want.entry(key).or_default();
                    for (_, ts, v) in events {
                        k.0 += 1;
                        k.1 += v;
                        let w = k.2.entry(ts.div_euclid(1000) * 1000).or_default();
                        w.0 += 1;
                        w.1 += v;
                    }
                }
            }
            assert_eq!(
                last,
                (clients * batches * 10) as u64,
                "the last acknowledged position"
            );
            for (key, (count, sum, windows)) in want {
                let q = p.query(&format!("key={key}&at_least={last}")).await;
                let got_windows: BTreeMap<i64, (u64, i64)> = q
                    .windows
                    .iter()
                    .map(|w| (w.start_ms, (w.count, w.sum)))
                    .collect();
                assert_eq!(
                    (q.count, q.sum, &got_windows),
                    (count, sum, &windows),
                    "key {key} after the load: (count, sum, per-second windows). Each \
                     acknowledged event is counted exactly once"
                );
                assert_eq!(q.position, last, "the read model's position");
            }
        })
    });
}

// --- the crash tests: the lesson program as a server ------------------------------------

/// The lesson program serving `--serve db`; killed (SIGKILL) and reaped when dropped, so
/// a failing or timed-out test leaves no server behind. (If this process dies first, the
/// server's stdin closes and it exits on its own.)
struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(db: &Path, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lesson-20"))
            .arg("--serve")
            .arg(db)
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the lesson program starts");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        reader
            .read_line(&mut line)
            .expect("the server's first line");
        let Some(url) = line
            .trim()
            .strip_prefix("listening on ")
            .map(str::to_string)
        else {
            let _ = child.kill();
            let status = child.wait();
            panic!(
                "the lesson program (--serve) did not start: it printed {line:?} and ended with \
                 {status:?} (its stderr is above)"
            );
        };
        child.stdout = Some(reader.into_inner());
        Server { child, url }
    }

    fn signal(&self, signal: i32) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("a pid");
        // SAFETY: kill(2) with the pid of our own child, which we have not reaped yet.
        unsafe {
            libc::kill(pid, signal);
        }
    }

    /// Wait for the server to end, at most `secs` seconds; its exit status and the rest of
    /// what it printed.
    fn wait(&mut self, secs: u64) -> (std::process::ExitStatus, String) {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                let mut rest = String::new();
                if let Some(mut out) = self.child.stdout.take() {
                    let _ = std::io::Read::read_to_string(&mut out, &mut rest);
                }
                return (status, rest);
            }
            assert!(
                Instant::now() < until,
                "the server did not exit within {secs} s of the signal"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Run the platform in this process once, so that an unfinished exercise or a panic in
/// your code is reported here, where it points at the line, not in the server's stderr.
async fn probe(shutdown: bool) {
    let p = start(Config::default()).await;
    let a = p.post("probe", batch("probe", "probe", 2)).await;
    assert_eq!(a.status, 200, "a first batch (in this process): {a:?}");
    let q = p
        .query(&format!("key=probe&at_least={}", ack_of(&a).position))
        .await;
    assert_eq!(q.count, 2, "the first batch's query (in this process)");
    if shutdown {
        let report = within(
            5,
            "Platform::shutdown (in this process)",
            p.platform.shutdown(),
        )
        .await;
        assert_eq!(
            report.model_position, report.store_head,
            "shutdown report (in this process)"
        );
    }
}

/// One batch a crash-test client sent, and how it was answered.
#[derive(Debug, Clone)]
struct Sent {
    key: String,
    events: Vec<(String, i64, i64)>,
    /// Some(position) for a 200.
    acked: Option<u64>,
    /// Sent after the signal.
    after_signal: bool,
    /// The 200 came back after the signal.
    acked_after_signal: bool,
}

/// Clients that post numbered batches until `stop` or until the server stops answering.
async fn crash_load(
    url: String,
    clients: usize,
    signalled: Arc<std::sync::atomic::AtomicBool>,
    acks: Arc<std::sync::atomic::AtomicUsize>,
) -> Vec<Sent> {
    use std::sync::atomic::Ordering::SeqCst;
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let url = url.clone();
        let signalled = Arc::clone(&signalled);
        let acks = Arc::clone(&acks);
        tasks.spawn(async move {
            let http = reqwest::Client::builder()
                .timeout(Duration::from_secs(8))
                .build()
                .expect("a client");
            let mut sent = Vec::new();
            for b in 0..400 {
                let key = format!("k{}", (c + b) % 4);
                let events: Vec<(String, i64, i64)> = (0..5)
                    .map(|e| {
                        (
                            format!("C{c}-{b}-{e}"),
                            (b * 5 + e) as i64 * 100,
                            (c + e) as i64,
                        )
                    })
                    .collect();
                let after_signal = signalled.load(SeqCst);
                let answer = post_to(&http, &url, &format!("c{c}"), load_body(&key, &events)).await;
                let acked = match &answer {
                    Ok(a) if a.status == 200 => Some(ack_of(a).position),
                    _ => None,
                };
                if acked.is_some() {
                    acks.fetch_add(1, SeqCst);
                }
                let failed = answer.is_err();
                sent.push(Sent {
                    key,
                    events,
                    acked,
                    after_signal,
                    acked_after_signal: acked.is_some() && signalled.load(SeqCst),
                });
                if failed {
                    break; // the server is gone (or going)
                }
            }
            sent
        });
    }
    let mut all = Vec::new();
    while let Some(sent) = tasks.join_next().await {
        all.extend(sent.expect("a client task ran"));
    }
    all
}

async fn wait_for_acks(acks: &std::sync::atomic::AtomicUsize, n: usize) {
    within(10, "acknowledged batches before the signal", async {
        while acks.load(std::sync::atomic::Ordering::SeqCst) < n {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
}

fn db_path(dir: &TempDir) -> PathBuf {
    dir.path().join("events.db")
}

#[test]
fn ex20_3_kill_9_during_load_loses_no_acknowledged_event_and_counts_none_twice() {
    exercise("20.3")
        .patience(Duration::from_secs(30))
        .hangs_if("the restarted server's read model never catches up with the store")
        .run(|| {
            runtime().block_on(async {
                probe(false).await;
                let dir = tmpdir();
                let db = db_path(&dir);
                let server = Server::start(&db, &[]);
                let signalled = Arc::new(std::sync::atomic::AtomicBool::new(false));
                let acks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                let load = tokio::spawn(crash_load(server.url.clone(), 4, Arc::clone(&signalled), Arc::clone(&acks)));
                wait_for_acks(&acks, 40).await;
                signalled.store(true, std::sync::atomic::Ordering::SeqCst);
                server.signal(libc::SIGKILL);
                let sent = within(15, "the clients to see the server gone", load).await.expect("no panic");
                drop(server);

                // Every acknowledged event is in the store.
                let store = EventLog::open(&db).expect("the store reopens");
                let ids = stored_ids(&store);
                let acked: Vec<&Sent> = sent.iter().filter(|s| s.acked.is_some()).collect();
                assert!(acked.len() >= 40, "acknowledged batches before the kill: {}", acked.len());
                for s in &acked {
                    for (id, _, _) in &s.events {
                        assert!(ids.contains(id), "event {id} was acknowledged (200) before the SIGKILL, but is not in the store after it");
                    }
                }
                let head = store.head();
                drop(store);

                // Restart on the same file: the read model catches up with the store.
                let server = Server::start(&db, &[]);
                let http = reqwest::Client::new();
                let mut stored_per_key: BTreeMap<String, u64> = BTreeMap::new();
                for e in EventLog::open(&db).expect("reads").read_all_blocking().expect("reads") {
                    *stored_per_key.entry(e.key).or_default() += 1;
                }
                for (key, n) in &stored_per_key {
                    let q = query_at(&http, &server.url, &format!("key={key}&at_least={head}")).await;
                    assert_eq!(
                        q.count, *n,
                        "after the restart, key {key}: the read model (rebuilt from the store, \
                         from position 0) counts what the store holds"
                    );
                }

                // The clients resend every batch they sent (acknowledged or not): nothing is
                // stored twice, and the read model counts each event once.
                let mut last = head;
                for s in &sent {
                    let a = within(5, "a resend", post_to(&http, &server.url, "resend", load_body(&s.key, &s.events)))
                        .await
                        .expect("the restarted server answers");
                    assert_eq!(a.status, 200, "a resend after the restart: {a:?}");
                    last = last.max(ack_of(&a).position);
                }
                let mut want: BTreeMap<&str, (u64, i64)> = BTreeMap::new();
                let mut distinct = BTreeSet::new();
                for s in &sent {
                    for (id, _, v) in &s.events {
                        if distinct.insert(id.clone()) {
                            let w = want.entry(&s.key).or_default();
                            w.0 += 1;
                            w.1 += v;
                        }
                    }
                }
                for (key, (count, sum)) in want {
                    let q = query_at(&http, &server.url, &format!("key={key}&at_least={last}")).await;
                    assert_eq!(
                        (q.count, q.sum),
                        (count, sum),
                        "key {key} after the kill, the restart and the resends: (count, sum) of \
                         the distinct events sent — each exactly once"
                    );
                }
                let store = EventLog::open(&db).expect("reads");
                assert_eq!(
                    store.read_all_blocking().expect("reads").len(),
                    distinct.len(),
                    "events in the store: one per distinct id sent"
                );
                drop(server);
            })
        });
}

// ---------------------------------------------------------------------------------------
// 20.4 the shutdown order

/// Why a 20.4 test may time out.
const HANGS_20_4: &str = "a step waits for a part that is only stopped by a later step — or \
                          StreamRouter::wait() never returns because close() keeps the actors' \
                          senders (20.1: close must drop them, so that each actor's recv loop ends)";

#[test]
fn ex20_4_shutdown_waits_for_a_request_whose_body_is_still_arriving() {
    exercise("20.4").hangs_if(HANGS_20_4).run(|| {
        runtime().block_on(async {
            use std::io::{Read, Write};
            let p = start(Config::default()).await;
            let body = batch("upload", "u", 4).to_string();
            let (first_half, rest) = body.split_at(body.len() / 2);
            let rest = rest.to_string();
            // A slow upload: the headers and half the body now, the rest later.
            let mut conn = std::net::TcpStream::connect(p.platform.addr).expect("connects");
            conn.set_read_timeout(Some(Duration::from_secs(10)))
                .expect("a read timeout");
            write!(
                conn,
                "POST /events HTTP/1.1\r\nhost: {}\r\nx-api-key: c\r\ncontent-type: \
                 application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{first_half}",
                p.platform.addr,
                body.len()
            )
            .expect("writes");
            let metrics = Arc::clone(&p.platform.app.metrics);
            within(
                5,
                "the server to start on the request (its headers are in, not all its body)",
                async {
                    while metrics.in_flight.get() < 1 {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                },
            )
            .await;
            let addr = p.platform.addr;
            let model = Arc::clone(&p.platform.app.model);
            let shutdown = tokio::spawn(p.platform.shutdown());
            within(
                5,
                "new connections to be refused after shutdown began",
                async {
                    while tokio::net::TcpStream::connect(addr).await.is_ok() {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                },
            )
            .await;
            assert!(
                !shutdown.is_finished(),
                "shutdown returned while a request was still arriving (its headers were in, half \
                 its body was not): await the server task (parts.server) — it ends only when \
                 every request in flight is answered — before closing the actors. Aborting the \
                 server task, or not awaiting it, leaves such a request to find the actors gone"
            );
            let answer = within(
                10,
                "the answer to the request that was arriving",
                tokio::task::spawn_blocking(move || {
                    conn.write_all(rest.as_bytes())?;
                    let mut text = String::new();
                    conn.read_to_string(&mut text)?;
                    Ok::<_, std::io::Error>(text)
                }),
            )
            .await
            .expect("no panic")
            .expect("the server answers the request");
            let status_line = answer.lines().next().unwrap_or("").to_string();
            assert!(
                status_line.starts_with("HTTP/1.1 200"),
                "the request whose body was still arriving when shutdown began was answered \
                 {status_line:?}: a 503 means the actors were closed before the server had \
                 answered its requests (await parts.server before streams.close())"
            );
            let report = within(5, "shutdown to return", shutdown)
                .await
                .expect("no panic");
            assert_eq!(report.store_head, 4, "the store's head after shutdown");
            assert_eq!(
                (report.model_position, model.position()),
                (4, 4),
                "the read model after shutdown"
            );
        })
    });
}

#[test]
fn ex20_4_shutdown_answers_the_request_in_flight_refuses_new_ones_and_catches_up() {
    exercise("20.4").hangs_if(HANGS_20_4).run(|| {
        runtime().block_on(async {
            let p = start(Config::default()).await;
            let warm = p.post("c", batch("early", "w", 3)).await;
            assert_eq!(warm.status, 200, "a first batch: {warm:?}");
            p.faults.hold("late");
            let http = p.http.clone();
            let url = p.platform.url();
            let in_flight = tokio::spawn(async move {
                post_to(&http, &url, "c", batch("late", "l", 4).to_string()).await
            });
            within(
                5,
                "the in-flight batch to reach the commit",
                p.faults.arrived(1),
            )
            .await;
            let addr = p.platform.addr;
            let model = Arc::clone(&p.platform.app.model);
            let store = Arc::clone(&p.platform.app.store);
            let faults = Arc::clone(&p.faults);
            let shutdown = tokio::spawn(p.platform.shutdown());
            // The listener must close while the request is still in flight.
            let refused = within(
                5,
                "new connections to be refused after shutdown began",
                async {
                    loop {
                        match tokio::net::TcpStream::connect(addr).await {
                            Err(_) => break,
                            Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                        }
                    }
                },
            )
            .await;
            let () = refused;
            assert!(
                !shutdown.is_finished(),
                "shutdown returned while a request was in flight"
            );
            faults.release();
            let answer = within(5, "the in-flight request's answer", in_flight)
                .await
                .expect("no panic")
                .expect("the request in flight when shutdown began gets its answer");
            assert_eq!(
                answer.status, 200,
                "the request in flight when shutdown began: {answer:?}"
            );
            let report = within(5, "shutdown to return", shutdown)
                .await
                .expect("no panic");
            assert_eq!(
                report.store_head, 7,
                "the store's head after shutdown: 3 events, then the 4 in flight"
            );
            assert_eq!(store.head(), 7, "the store's head");
            assert_eq!(
                report.model_position, report.store_head,
                "after shutdown the read model has every committed event: stop the \
                     projector only after the requests are drained (the server task awaited)"
            );
            assert_eq!(
                model.read().keys.get("late").map(|k| k.count),
                Some(4),
                "the in-flight batch in the read model"
            );
        })
    });
}

#[test]
fn ex20_4_sigterm_during_load_finishes_in_flight_requests_and_exits_0() {
    exercise("20.4")
        .patience(Duration::from_secs(30))
        .hangs_if(HANGS_20_4)
        .run(|| {
            runtime().block_on(async {
                probe(true).await;
                let dir = tmpdir();
                let db = db_path(&dir);
                // Every commit takes 150 ms: at the signal, some requests are in flight.
                let mut server = Server::start(&db, &["--slow-commit-ms", "150"]);
                let signalled = Arc::new(std::sync::atomic::AtomicBool::new(false));
                let acks = Arc::new(std::sync::atomic::AtomicUsize::new(0));
                let load = tokio::spawn(crash_load(server.url.clone(), 4, Arc::clone(&signalled), Arc::clone(&acks)));
                wait_for_acks(&acks, 8).await;
                signalled.store(true, std::sync::atomic::Ordering::SeqCst);
                server.signal(libc::SIGTERM);
                let sent = within(20, "the clients to see the server stop", load).await.expect("no panic");
                let (status, said) = tokio::task::block_in_place(|| server.wait(10));
                assert!(
                    status.success(),
                    "after SIGTERM the server must shut down in order and exit 0; it ended with {status}"
                );
                assert!(
                    sent.iter().any(|s| s.acked_after_signal && !s.after_signal),
                    "no request that was in flight at the SIGTERM was answered 200 after it: \
                     in-flight requests must finish"
                );
                assert!(
                    said.contains("stopped: store head"),
                    "the server's last line: {said:?}"
                );
                let store = EventLog::open(&db).expect("the store opens");
                let ids = stored_ids(&store);
                let acked: BTreeSet<String> = sent
                    .iter()
                    .filter(|s| s.acked.is_some())
                    .flat_map(|s| s.events.iter().map(|e| e.0.clone()))
                    .collect();
                let unanswered: Vec<&String> = ids.difference(&acked).collect();
                let lost: Vec<&String> = acked.difference(&ids).collect();
                assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");
                assert!(
                    unanswered.is_empty(),
                    "stored, but the client never got its 200 (the server stopped before \
                     answering): {unanswered:?}"
                );
            })
        });
}

kit::program_tests!("--clients", "0");
