//! Lesson 01's tests, in the order of the chapter's exercises.
//!
//! Async tests run on a paused clock (`kit`): when every task is waiting for something
//! that will never come, the test fails at once with a timeout message instead of hanging.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use std::time::Duration;

use kit::{Gate, settle};
use lesson_01::actor::{Actor, Addr, Gone, spawn};
use lesson_01::ask::{Counter, CounterMsg, Reply};
use lesson_01::supervisor::{Exit, RestartPolicy, Stats, supervise};
use lesson_01::system::{ActorMetrics, SpawnError, Status, System};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

fn restarts(max_restarts: u32) -> RestartPolicy {
    RestartPolicy { max_restarts }
}

// ---------------------------------------------------------------------------------------
// Actors the tests use.

/// Remembers every number it is told.
#[derive(Default)]
struct Recorder {
    seen: Vec<u32>,
}

impl Actor for Recorder {
    type Msg = u32;
    async fn handle(&mut self, n: u32) {
        self.seen.push(n);
    }
}

/// Panics when told 0.
struct Bomb;

impl Actor for Bomb {
    type Msg = u32;
    async fn handle(&mut self, n: u32) {
        if n == 0 {
            kit::planned_panic!("Bomb was told 0; the code under test should survive it");
        }
    }
}

/// Drops every request without replying.
struct Mute;

impl Actor for Mute {
    type Msg = Reply<u32>;
    async fn handle(&mut self, reply: Reply<u32>) {
        drop(reply);
    }
}

/// Replies with the number it was sent, or panics if it was 0.
struct Echo;

impl Actor for Echo {
    type Msg = (u32, Reply<u32>);
    async fn handle(&mut self, (n, reply): (u32, Reply<u32>)) {
        if n == 0 {
            kit::planned_panic!("Echo was sent 0; the code under test should survive it");
        }
        let _ = reply.send(n);
    }
}

const ACTOR_NEVER_STOPS: &str = "the actor never stops: its task should end when every `Addr` is dropped \
     (`recv()` returns `None`) — does something still hold a Sender, perhaps the actor itself?";

// ---------------------------------------------------------------------------------------
// 01.1 an actor with a bounded mailbox

/// `tell` failed although the actor runs: the Go habit of a non-blocking send.
const TELL_GONE_WHILE_RUNNING: &str = "`tell` returned Err(Gone) while the actor is running. \
     Gone is only for an actor that has stopped; a full mailbox should make `tell` wait for \
     room (`send(msg).await`), not fail (`try_send`)";

#[test]
fn ex01_1_messages_arrive_in_order_and_the_actor_stops_with_its_handles() {
    exercise("01.1")
        .hangs_if(ACTOR_NEVER_STOPS)
        .run_async(|| async {
            let (addr, task) = spawn(Recorder::default(), 4);
            let other = addr.clone();
            for n in 1..=10 {
                if addr.tell(n).await.is_err() {
                    panic!("{TELL_GONE_WHILE_RUNNING}");
                }
            }
            other
                .tell(11)
                .await
                .expect("a clone sends to the same mailbox");
            drop(addr);
            drop(other);
            let actor = task.await.expect("the actor's task should end normally");
            assert_eq!(
                actor.seen,
                (1..=11).collect::<Vec<_>>(),
                "every message, once, in the order it was told"
            );
        });
}

#[test]
fn ex01_1_the_mailbox_is_bounded() {
    exercise("01.1")
        .hangs_if(ACTOR_NEVER_STOPS)
        .run_async(|| async {
            let (addr, task) = spawn(Recorder::default(), 2);
            // Nothing has yielded since the spawn, so the actor's task has not run yet, and
            // `now_or_never` polls each `tell` exactly once.
            assert_eq!(
                addr.tell(1).now_or_never(),
                Some(Ok(())),
                "a mailbox of 2 has room for one message"
            );
            assert_eq!(
                addr.tell(2).now_or_never(),
                Some(Ok(())),
                "a mailbox of 2 has room for two messages"
            );
            match addr.tell(3).now_or_never() {
                None => {} // waiting for room: right
                Some(Ok(())) => panic!(
                    "the mailbox is not bounded: a third `tell` into a mailbox of 2 went through \
                 while the actor had not run yet (use `mpsc::channel(capacity)`)"
                ),
                Some(Err(Gone)) => panic!(
                    "`tell` into a full mailbox returned Err(Gone): it should wait for room \
                 (`send(msg).await`), not fail (`try_send`)"
                ),
            }
            // A full mailbox makes `tell` wait until the actor has made room.
            if addr.tell(3).await.is_err() {
                panic!("{TELL_GONE_WHILE_RUNNING}");
            }
            drop(addr);
            assert_eq!(task.await.expect("no panic").seen, vec![1, 2, 3]);
        });
}

#[test]
fn ex01_1_telling_a_stopped_actor_is_gone() {
    exercise("01.1").run_async(|| async {
        let (addr, task) = spawn(Bomb, 4);
        addr.tell(0).await.expect("the mailbox accepts the message");
        assert!(task.await.is_err(), "Bomb panics on 0, which ends its task");
        assert_eq!(
            addr.tell(1).await,
            Err(Gone),
            "the actor's task has ended, so its mailbox is closed: `tell` should return Err(Gone)"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 01.2 request and reply

const ASK_WAITS_FOREVER: &str = "`ask` waits for a reply that will never come: when the actor drops the \
     reply sender, awaiting the oneshot receiver returns an error — turn it into Err(Gone)";

#[test]
fn ex01_2_ask_gets_the_reply() {
    exercise("01.2")
        .hangs_if(ASK_WAITS_FOREVER)
        .run_async(|| async {
            let (counter, _task) = spawn(Counter::default(), 8);
            counter.tell(CounterMsg::Add(2)).await.expect("running");
            counter.tell(CounterMsg::Add(3)).await.expect("running");
            assert_eq!(counter.ask(CounterMsg::Get).await, Ok(5));
            counter.tell(CounterMsg::Add(10)).await.expect("running");
            assert_eq!(counter.ask(CounterMsg::Get).await, Ok(15));
        });
}

#[test]
fn ex01_2_no_reply_means_gone() {
    exercise("01.2")
        .hangs_if(ASK_WAITS_FOREVER)
        .run_async(|| async {
            let (mute, _task) = spawn(Mute, 4);
            let answer = AssertUnwindSafe(mute.ask(|reply| reply))
            .catch_unwind()
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "`ask` panicked when no reply came: the oneshot receiver returns an error when \
                     the actor drops the reply sender — turn that into Err(Gone)"
                )
            });
            assert_eq!(answer, Err(Gone), "Mute drops the request without replying");

            let (echo, _task) = spawn(Echo, 4);
            assert_eq!(echo.ask(|reply| (7, reply)).await, Ok(7));
            assert_eq!(
                echo.ask(|reply| (0, reply)).await,
                Err(Gone),
                "Echo panicked while holding the request"
            );
            assert_eq!(
                echo.ask(|reply| (8, reply)).await,
                Err(Gone),
                "Echo has stopped"
            );
        });
}

#[test]
fn ex01_2_a_caller_that_stops_waiting_does_not_crash_the_counter() {
    exercise("01.2")
        .hangs_if(ASK_WAITS_FOREVER)
        .run_async(|| async {
            let (counter, _task) = spawn(Counter::default(), 8);
            counter.tell(CounterMsg::Add(1)).await.expect("running");
            // Send a `Get`, then stop waiting for the answer (the future is dropped), as a
            // caller with a timeout would.
            assert!(counter.ask(CounterMsg::Get).now_or_never().is_none());
            assert_eq!(
                counter.ask(CounterMsg::Get).await,
                Ok(1),
                "the counter stopped after a caller gave up waiting: the error from `reply.send` \
             only means nobody is listening — ignore it"
            );
        });
}

// ---------------------------------------------------------------------------------------
// 01.3 supervision

/// Logs `incarnation:message`, and panics on "boom".
struct Fragile {
    incarnation: u32,
    log: Arc<Mutex<Vec<String>>>,
}

impl Actor for Fragile {
    type Msg = &'static str;
    async fn handle(&mut self, msg: &'static str) {
        if msg == "boom" {
            kit::planned_panic!("Fragile was told \"boom\"; the supervisor should catch it");
        }
        self.log
            .lock()
            .unwrap()
            .push(format!("{}:{msg}", self.incarnation));
    }
}

/// Supervise a `Fragile` whose mailbox already holds `msgs`.
///
/// With `stop_first`, the stop token is cancelled before the supervisor starts and the
/// mailbox's sender is kept; otherwise the sender is dropped once the messages are in.
/// Returns the exit, the log, the stats and the sender (if kept).
async fn supervised(
    msgs: &[&'static str],
    policy: RestartPolicy,
    stop_first: bool,
) -> (
    Exit,
    Vec<String>,
    Arc<Stats>,
    Option<mpsc::Sender<&'static str>>,
) {
    let (tx, rx) = mpsc::channel(16);
    for &m in msgs {
        tx.send(m).await.expect("the mailbox has room");
    }
    let log = Arc::new(Mutex::new(Vec::new()));
    let factory = {
        let log = Arc::clone(&log);
        let mut incarnation = 0;
        move || {
            incarnation += 1;
            Fragile {
                incarnation,
                log: Arc::clone(&log),
            }
        }
    };
    let stop = CancellationToken::new();
    let kept = if stop_first {
        stop.cancel();
        Some(tx)
    } else {
        drop(tx);
        None
    };
    let stats = Arc::new(Stats::default());
    let exit = AssertUnwindSafe(supervise(factory, rx, policy, stop, Arc::clone(&stats)))
        .catch_unwind()
        .await
        .unwrap_or_else(|_| {
            panic!(
                "a panic from the actor's handler escaped `supervise`: every call to `handle` — \
                 in the main loop and in the drain after a stop — must go through `catch_unwind`"
            )
        });
    let log = log.lock().unwrap().clone();
    (exit, log, stats, kept)
}

fn counts(stats: &Stats) -> (u64, u64, u64) {
    (stats.handled(), stats.panics(), stats.restarts())
}

#[test]
fn ex01_3_a_panic_restarts_the_actor_fresh_on_the_same_mailbox() {
    exercise("01.3")
        .hangs_if(
            "the supervisor does not return when every sender is gone (`recv()` returned `None`)",
        )
        .run_async(|| async {
            let (exit, log, stats, _) =
                supervised(&["a", "boom", "b", "c"], restarts(3), false).await;
            assert_eq!(
                log,
                vec!["1:a", "2:b", "2:c"],
                "after the panic on \"boom\", a fresh actor (incarnation 2) should handle the rest \
                 of the same mailbox"
            );
            assert_eq!(
                exit,
                Exit::Stopped,
                "every sender was dropped: the actor stops normally"
            );
            assert_eq!(counts(&stats), (3, 1, 1), "(handled, panics, restarts)");
        });
}

#[test]
fn ex01_3_the_supervisor_gives_up_after_max_restarts() {
    exercise("01.3").run_async(|| async {
        let (exit, log, stats, _) =
            supervised(&["boom", "boom", "x", "boom", "y"], restarts(2), false).await;
        assert_eq!(
            counts(&stats),
            (1, 3, 2),
            "(handled, panics, restarts): max_restarts = 2 allows two restarts — after the first \
             and the second panic — and the third panic ends it"
        );
        assert_eq!(exit, Exit::GaveUp, "the third panic ends it: Exit::GaveUp");
        assert_eq!(
            log,
            vec!["3:x"],
            "only incarnation 3 handles a message (\"x\"); \"y\" comes after the third panic"
        );

        let (exit, log, stats, _) = supervised(&["boom", "x"], restarts(0), false).await;
        assert_eq!(
            exit,
            Exit::GaveUp,
            "max_restarts = 0: give up at the first panic"
        );
        assert!(log.is_empty());
        assert_eq!(counts(&stats), (0, 1, 0), "(handled, panics, restarts)");
    });
}

#[test]
fn ex01_3_a_stop_drains_the_mailbox_first() {
    exercise("01.3")
        .hangs_if(
            "the stop was requested but the supervisor keeps waiting for new messages: close the \
             mailbox (`mailbox.close()`) and drain it — `recv()` then returns `None` once it is empty",
        )
        .run_async(|| async {
            let (exit, log, stats, tx) = supervised(&["a", "b", "boom", "c"], restarts(1), true).await;
            assert_eq!(
                exit,
                Exit::Stopped,
                "with max_restarts = 1, the one panic during the drain is followed by a restart, \
                 and the drain goes on"
            );
            assert_eq!(
                log,
                vec!["1:a", "1:b", "2:c"],
                "a stop must not lose the messages already in the mailbox, and after the panic a \
                 fresh actor (incarnation 2) handles the rest"
            );
            assert_eq!(counts(&stats), (3, 1, 1), "(handled, panics, restarts)");
            let tx = tx.expect("kept");
            assert!(
                tx.try_send("late").is_err(),
                "after a stop the mailbox should be closed to new messages"
            );
        });
}

// ---------------------------------------------------------------------------------------
// 01.4 the system: registry and metrics

fn metrics_row(
    name: &str,
    status: Status,
    handled: u64,
    panics: u64,
    restarts: u64,
) -> ActorMetrics {
    ActorMetrics {
        name: name.to_string(),
        status,
        handled,
        panics,
        restarts,
    }
}

#[test]
fn ex01_4_spawn_registers_and_lookup_finds() {
    exercise("01.4").run_async(|| async {
        let system = System::new();
        let counter = system
            .spawn("counter", 8, restarts(0), Counter::default)
            .expect("a fresh name");
        counter.tell(CounterMsg::Add(2)).await.expect("running");

        let found = system
            .lookup::<CounterMsg>("counter")
            .expect("lookup should find the actor registered as \"counter\"");
        found.tell(CounterMsg::Add(3)).await.expect("running");
        assert_eq!(
            found.ask(CounterMsg::Get).await,
            Ok(5),
            "lookup returns the same actor"
        );

        assert!(
            system.lookup::<CounterMsg>("nobody").is_none(),
            "no actor has that name"
        );
        assert!(
            system.lookup::<u32>("counter").is_none(),
            "\"counter\" takes CounterMsg, not u32: lookup with the wrong type finds nothing"
        );
        assert_eq!(
            system
                .spawn("counter", 8, restarts(0), Counter::default)
                .err(),
            Some(SpawnError::NameTaken("counter".into()))
        );
    });
}

#[test]
fn ex01_4_metrics_count_messages_panics_and_restarts() {
    exercise("01.4").run_async(|| async {
        let system = System::new();
        let steady = system
            .spawn("steady", 8, restarts(0), Recorder::default)
            .expect("fresh");
        let flaky = system
            .spawn("flaky", 8, restarts(1), || Bomb)
            .expect("fresh");
        for n in 1..=3 {
            steady.tell(n).await.expect("running");
        }
        for n in [0, 5, 0] {
            flaky.tell(n).await.expect("the mailbox accepts it");
        }
        settle().await;
        assert_eq!(
            system.metrics().actors,
            vec![
                metrics_row("steady", Status::Running, 3, 0, 0),
                metrics_row("flaky", Status::GaveUp, 1, 2, 1),
            ],
            "metrics per actor, in the order they were started; flaky (max_restarts = 1) \
             handled 5, panicked twice, was restarted once and gave up"
        );
        assert_eq!(
            flaky.tell(1).await,
            Err(Gone),
            "an actor that gave up accepts nothing"
        );
    });
}

#[test]
fn ex01_4_a_panicking_actor_does_not_take_the_others_down() {
    exercise("01.4").run_async(|| async {
        let system = System::new();
        let a = system
            .spawn("a", 8, restarts(0), Counter::default)
            .expect("fresh");
        let b = system.spawn("b", 8, restarts(0), || Bomb).expect("fresh");
        let c = system
            .spawn("c", 8, restarts(0), Counter::default)
            .expect("fresh");
        a.tell(CounterMsg::Add(1)).await.expect("running");
        b.tell(0).await.expect("the mailbox accepts it");
        c.tell(CounterMsg::Add(2)).await.expect("running");
        settle().await;

        assert_eq!(a.ask(CounterMsg::Get).await, Ok(1), "actor a died with b");
        assert_eq!(c.ask(CounterMsg::Get).await, Ok(2), "actor c died with b");
        let statuses: Vec<_> = system
            .metrics()
            .actors
            .iter()
            .map(|m| (m.name.clone(), m.status))
            .collect();
        assert_eq!(
            statuses,
            vec![
                ("a".to_string(), Status::Running),
                ("b".to_string(), Status::GaveUp),
                ("c".to_string(), Status::Running)
            ],
            "b should show as GaveUp: `spawn` runs the actor under `supervise`, and when \
             `supervise` returns, the task records how it ended with `stats.record_exit(exit)`"
        );
        assert!(
            system.lookup::<CounterMsg>("a").is_some(),
            "the registry still works"
        );
        assert!(
            system.spawn("d", 8, restarts(0), Counter::default).is_ok(),
            "the system still starts actors"
        );
    });
}

#[test]
fn ex01_4_one_name_one_actor_even_when_spawns_race() {
    exercise("01.4").run_async(|| async {
        const RACERS: usize = 3;
        const SYSTEMS: usize = 1500;
        const NAMES: usize = 8;
        // Many small systems, so that a registry stays short and the race is about the
        // check and the insert, not about scanning a long list.
        let systems: Vec<System> = (0..SYSTEMS).map(|_| System::new()).collect();
        // Plain threads calling `spawn` at the same time; `enter` lets them start tasks on
        // this test's runtime. Each racer tries every name of every system, in the same
        // order. One that finds a name taken is refused at once, and so catches up with
        // the one ahead: the racers keep arriving at the same name together.
        let runtime = tokio::runtime::Handle::current();
        let gate = Gate::new(RACERS, Duration::from_secs(2));
        let won: Vec<Vec<(usize, usize)>> = std::thread::scope(|s| {
            let racers: Vec<_> = (0..RACERS)
                .map(|_| {
                    s.spawn(|| {
                        let _entered = runtime.enter();
                        gate.arrive();
                        let mut won = Vec::new();
                        for (round, system) in systems.iter().enumerate() {
                            for name in 0..NAMES {
                                let name_str = format!("racer-{name}");
                                if system
                                    .spawn(&name_str, 1, restarts(0), Counter::default)
                                    .is_ok()
                                {
                                    won.push((round, name));
                                }
                            }
                        }
                        won
                    })
                })
                .collect();
            racers
                .into_iter()
                .map(|r| r.join().expect("spawn should not panic"))
                .collect()
        });
        let mut winners = vec![[0usize; NAMES]; SYSTEMS];
        for &(round, name) in won.iter().flatten() {
            winners[round][name] += 1;
        }
        for (round, names) in winners.iter().enumerate() {
            for (name, &w) in names.iter().enumerate() {
                assert!(
                    w <= 1,
                    "{w} of {RACERS} simultaneous spawns of \"racer-{name}\" (system {round}) \
                     succeeded: check the name and insert the entry under one lock, or two spawns \
                     can both see the name as free"
                );
                assert_eq!(
                    w, 1,
                    "no spawn of \"racer-{name}\" (system {round}) succeeded: the first spawn of \
                     a free name should"
                );
            }
        }
    });
}

/// Starts a `Counter` child each time it is asked to, through the system.
struct Parent {
    system: System,
    children: u32,
}

impl Actor for Parent {
    type Msg = Reply<Result<Addr<CounterMsg>, SpawnError>>;
    async fn handle(&mut self, reply: Self::Msg) {
        self.children += 1;
        let name = format!("child-{}", self.children);
        let _ = reply.send(self.system.spawn(&name, 4, restarts(0), Counter::default));
    }
}

#[test]
fn ex01_4_an_actor_can_start_children() {
    exercise("01.4").run_async(|| async {
        let system = System::new();
        let handle = system.clone();
        let parent = system
            .spawn("parent", 4, restarts(0), move || Parent {
                system: handle.clone(),
                children: 0,
            })
            .expect("fresh");
        let first = parent
            .ask(|r| r)
            .await
            .expect("parent replies")
            .expect("child-1 starts");
        first.tell(CounterMsg::Add(4)).await.expect("running");
        parent
            .ask(|r| r)
            .await
            .expect("parent replies")
            .expect("child-2 starts");

        let child = system
            .lookup::<CounterMsg>("child-1")
            .expect("children are registered too");
        assert_eq!(child.ask(CounterMsg::Get).await, Ok(4));
        let names: Vec<_> = system
            .metrics()
            .actors
            .into_iter()
            .map(|m| m.name)
            .collect();
        assert_eq!(names, vec!["parent", "child-1", "child-2"]);
    });
}

// ---------------------------------------------------------------------------------------
// 01.5 graceful shutdown

const DRAIN_NEVER_ENDS: &str = "an actor never finishes stopping: does `supervise` (01.3) close \
     the mailbox when its stop token is cancelled? Without `close`, the drain waits for new \
     messages from senders that are still alive";

/// Passes every number on to another actor.
struct Relay {
    to: Addr<u32>,
}

impl Actor for Relay {
    type Msg = u32;
    async fn handle(&mut self, n: u32) {
        let _ = self.to.tell(n).await;
    }
}

/// Appends every number to a shared log.
struct Sink {
    log: Arc<Mutex<Vec<u32>>>,
}

impl Actor for Sink {
    type Msg = u32;
    async fn handle(&mut self, n: u32) {
        self.log.lock().unwrap().push(n);
    }
}

#[test]
fn ex01_5_shutdown_drains_every_mailbox_producers_first() {
    exercise("01.5").hangs_if(DRAIN_NEVER_ENDS).run_async(|| async {
        let system = System::new();
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink_log = Arc::clone(&log);
        let sink = system
            .spawn("sink", 4, restarts(0), move || Sink {
                log: Arc::clone(&sink_log),
            })
            .expect("fresh");
        let relay = system
            .spawn("relay", 16, restarts(0), move || Relay { to: sink.clone() })
            .expect("fresh");
        for n in 1..=10 {
            // Queued without yielding: when shutdown begins, nothing has been handled yet.
            assert_eq!(
                relay.tell(n).now_or_never(),
                Some(Ok(())),
                "the relay's mailbox has room"
            );
        }

        let metrics = system.shutdown().await;
        assert_eq!(
            *log.lock().unwrap(),
            (1..=10).collect::<Vec<_>>(),
            "messages were lost in the shutdown: each actor must drain its mailbox, and the relay \
             (started last) must stop before the sink it feeds"
        );
        assert_eq!(
            metrics.actors,
            vec![
                metrics_row("sink", Status::Stopped, 10, 0, 0),
                metrics_row("relay", Status::Stopped, 10, 0, 0),
            ]
        );
    });
}

#[test]
fn ex01_5_after_shutdown_nothing_gets_in() {
    exercise("01.5")
        .hangs_if(DRAIN_NEVER_ENDS)
        .run_async(|| async {
            let system = System::new();
            let counter = system
                .spawn("counter", 4, restarts(0), Counter::default)
                .expect("fresh");
            let metrics = system.shutdown().await;
            assert_eq!(metrics.running(), 0, "every actor has stopped");
            assert_eq!(counter.tell(CounterMsg::Add(1)).await, Err(Gone));
            assert_eq!(
                system.spawn("late", 4, restarts(0), Counter::default).err(),
                Some(SpawnError::ShuttingDown),
                "once shutdown has begun, `spawn` refuses with SpawnError::ShuttingDown"
            );
        });
}

/// Tries to start a child for every message it handles, and keeps what `spawn` answered.
struct Starter {
    system: System,
    answers: Arc<Mutex<Vec<Result<(), SpawnError>>>>,
}

impl Actor for Starter {
    type Msg = ();
    async fn handle(&mut self, (): ()) {
        let name = format!("child-{}", self.answers.lock().unwrap().len() + 1);
        let answer = self
            .system
            .spawn(&name, 4, restarts(0), Counter::default)
            .map(|_| ());
        self.answers.lock().unwrap().push(answer);
    }
}

#[test]
fn ex01_5_an_actor_draining_during_shutdown_cannot_start_a_child() {
    exercise("01.5").hangs_if(DRAIN_NEVER_ENDS).run_async(|| async {
        let system = System::new();
        let answers = Arc::new(Mutex::new(Vec::new()));
        let (handle, kept) = (system.clone(), Arc::clone(&answers));
        let starter = system
            .spawn("starter", 4, restarts(0), move || Starter {
                system: handle.clone(),
                answers: Arc::clone(&kept),
            })
            .expect("fresh");
        // Queued without yielding: the starter handles it only once shutdown has begun,
        // while it drains its mailbox.
        assert_eq!(starter.tell(()).now_or_never(), Some(Ok(())));

        let metrics = system.shutdown().await;
        assert_eq!(
            *answers.lock().unwrap(),
            vec![Err(SpawnError::ShuttingDown)],
            "while `shutdown` drained it, an actor asked `spawn` for a child and was not refused: \
             that child is not among the actors `shutdown` stops, so it runs on after `shutdown` \
             returns — mark the system as shutting down before you stop the first actor"
        );
        let statuses: Vec<_> = metrics
            .actors
            .iter()
            .map(|m| (m.name.as_str(), m.status))
            .collect();
        assert_eq!(
            statuses,
            vec![("starter", Status::Stopped)],
            "after `shutdown` returns, every actor has stopped and no new one was started"
        );
    });
}

/// Reads the system's metrics for every message it handles.
struct Monitor {
    system: System,
    seen: Arc<AtomicUsize>,
}

impl Actor for Monitor {
    type Msg = ();
    async fn handle(&mut self, (): ()) {
        let actors = self.system.metrics().actors.len();
        self.seen.fetch_add(actors.min(1), Ordering::SeqCst);
    }
}

#[test]
fn ex01_5_shutdown_does_not_hold_the_registry_lock_while_waiting() {
    exercise("01.5")
        .hangs_if(DRAIN_NEVER_ENDS)
        .hangs_if(
            "shutdown holds the registry lock while it waits for an actor, and the actor, draining \
             its mailbox, waits for that same lock: take what you need out of the registry, let the \
             guard go, then `.await`",
        )
        .run_async(|| async {
            let system = System::new();
            let seen = Arc::new(AtomicUsize::new(0));
            let (handle, count) = (system.clone(), Arc::clone(&seen));
            let monitor = system
                .spawn("monitor", 4, restarts(0), move || Monitor {
                    system: handle.clone(),
                    seen: Arc::clone(&count),
                })
                .expect("fresh");
            for _ in 0..3 {
                assert_eq!(monitor.tell(()).now_or_never(), Some(Ok(())));
            }
            let metrics = system.shutdown().await;
            assert_eq!(seen.load(Ordering::SeqCst), 3, "the monitor handled its 3 messages");
            assert_eq!(metrics.handled(), 3);
        });
}

// ---------------------------------------------------------------------------------------
// The lesson program

kit::program_tests!("--max-restarts", "many");
