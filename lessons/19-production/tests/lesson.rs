//! Lesson 19's tests, in the order of the chapter's exercises.
//!
//! Two kinds:
//!
//! - Tests of your functions in this process. The ones about time run on a paused clock
//!   (`kit`), so "the drain deadline passed" happens at an exact virtual instant.
//! - Tests of the lesson program as a real service (`--config FILE`): the test starts it
//!   on 127.0.0.1, reads its JSON logs line by line, sends it HTTP requests and a real
//!   SIGTERM. Whatever happens, the service is killed when the test ends (a guard sends
//!   SIGKILL; on Linux the kernel also does when the test's thread goes away, and the
//!   program's own watchdog ends it after a minute).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use lesson_19::client::get_blocking as get;
use lesson_19::config::{Config, ConfigError, Problem};
use lesson_19::health::Health;
use lesson_19::metrics::Metrics;
use lesson_19::shutdown::{Report, Shutdown, graceful_shutdown};
use lesson_19::work::{Outcome, batcher, do_work};
use serde_json::Value;
use tokio::time::{Instant, sleep};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ---------------------------------------------------------------------------------------
// The configurations the tests use

/// A valid config; `{port}`-style holes are filled by [`config_with`].
const GOOD: &str = "\
server:
  address: 127.0.0.1
  port: 0
shutdown:
  unready_delay_ms: 100
  drain_deadline_ms: 2000
analytics:
  batch_size: 3
  flush_every_ms: 50
work:
  max_ms: 60000
log:
  level: info
";

/// [`GOOD`] with `key: value` replaced for each pair (the key's first occurrence).
fn config_with(changes: &[(&str, &str)]) -> String {
    let mut lines: Vec<String> = GOOD.lines().map(str::to_string).collect();
    for (key, value) in changes {
        let line = lines
            .iter_mut()
            .find(|l| l.trim_start().starts_with(&format!("{key}:")))
            .unwrap_or_else(|| panic!("test bug: no key {key}"));
        let indent = line.len() - line.trim_start().len();
        *line = format!("{}{key}: {value}", " ".repeat(indent));
    }
    lines.join("\n") + "\n"
}

fn problems_of(yaml: &str) -> Vec<Problem> {
    match Config::from_yaml(yaml) {
        Err(ConfigError::Invalid(problems)) => problems,
        other => panic!("expected ConfigError::Invalid for this config:\n{yaml}\ngot {other:?}"),
    }
}

fn problem(field: &str, rule: &str) -> Problem {
    Problem {
        field: field.to_string(),
        rule: rule.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// 19.1 Configuration

#[test]
fn ex19_1_a_valid_config_parses_into_its_values() {
    exercise("19.1").run(|| {
        let config = Config::from_yaml(GOOD)
            .unwrap_or_else(|e| panic!("a valid config was refused: {e:?}\n{GOOD}"));
        assert_eq!(config.server.address, "127.0.0.1");
        assert_eq!(config.server.port, 0);
        assert_eq!(config.shutdown.unready_delay_ms, 100);
        assert_eq!(config.shutdown.drain_deadline_ms, 2000);
        assert_eq!(config.analytics.batch_size, 3);
        assert_eq!(config.analytics.flush_every_ms, 50);
        assert_eq!(config.work.max_ms, 60000);
        assert_eq!(config.log.level, "info");
        assert_eq!(config.problems(), vec![], "a valid config has no problems");
        // The edges of each rule are allowed.
        for (key, value) in [
            ("address", "\"::1\""),
            ("port", "65535"),
            ("unready_delay_ms", "10000"),
            ("unready_delay_ms", "0"),
            ("drain_deadline_ms", "1"),
            ("drain_deadline_ms", "60000"),
            ("batch_size", "1"),
            ("batch_size", "10000"),
            ("flush_every_ms", "1"),
            ("max_ms", "1"),
            ("level", "trace"),
            ("level", "error"),
        ] {
            let yaml = config_with(&[(key, value)]);
            if let Err(e) = Config::from_yaml(&yaml) {
                panic!("{key}: {value} is allowed, but the config was refused: {e:?}");
            }
        }
    });
}

#[test]
fn ex19_1_each_bad_value_gets_one_message_naming_its_field_and_rule() {
    exercise("19.1").run(|| {
        let cases = [
            (
                "address",
                "10.0.0.1",
                "server.address",
                "must be a loopback IP address, such as 127.0.0.1",
            ),
            (
                "address",
                "localhost",
                "server.address",
                "must be a loopback IP address, such as 127.0.0.1",
            ),
            ("port", "65536", "server.port", "must be at most 65535"),
            (
                "unready_delay_ms",
                "10001",
                "shutdown.unready_delay_ms",
                "must be at most 10000",
            ),
            (
                "drain_deadline_ms",
                "0",
                "shutdown.drain_deadline_ms",
                "must be between 1 and 60000",
            ),
            (
                "drain_deadline_ms",
                "60001",
                "shutdown.drain_deadline_ms",
                "must be between 1 and 60000",
            ),
            (
                "batch_size",
                "0",
                "analytics.batch_size",
                "must be between 1 and 10000",
            ),
            (
                "batch_size",
                "10001",
                "analytics.batch_size",
                "must be between 1 and 10000",
            ),
            (
                "flush_every_ms",
                "0",
                "analytics.flush_every_ms",
                "must be at least 1",
            ),
            ("max_ms", "0", "work.max_ms", "must be at least 1"),
            (
                "level",
                "loud",
                "log.level",
                "must be one of trace, debug, info, warn, error",
            ),
            (
                "level",
                "INFO",
                "log.level",
                "must be one of trace, debug, info, warn, error",
            ),
        ];
        for (key, value, field, rule) in cases {
            let got = problems_of(&config_with(&[(key, value)]));
            assert_eq!(
                got,
                vec![problem(field, rule)],
                "with {key}: {value} (and everything else valid), want exactly one problem"
            );
            assert_eq!(
                got[0].to_string(),
                format!("{field}: {rule}"),
                "how a problem prints"
            );
        }
    });
}

#[test]
fn ex19_1_every_bad_value_is_reported_not_just_the_first() {
    exercise("19.1").run(|| {
        let yaml = config_with(&[
            ("address", "0.0.0.0"),
            ("port", "80800"),
            ("unready_delay_ms", "20000"),
            ("drain_deadline_ms", "0"),
            ("batch_size", "0"),
            ("flush_every_ms", "0"),
            ("max_ms", "0"),
            ("level", "loud"),
        ]);
        let got = problems_of(&yaml);
        let fields: Vec<&str> = got.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "server.address",
                "server.port",
                "shutdown.unready_delay_ms",
                "shutdown.drain_deadline_ms",
                "analytics.batch_size",
                "analytics.flush_every_ms",
                "work.max_ms",
                "log.level"
            ],
            "a config with eight bad values must get eight messages, in the table's order \
             (a validator that stops at the first makes the operator restart once per mistake)"
        );
    });
}

#[test]
fn ex19_1_a_config_that_does_not_parse_names_the_line_and_never_panics() {
    exercise("19.1").run(|| {
        let cases = [
            ("a number where a word is", config_with(&[("port", "eighty")]), 3),
            ("a misspelled key", GOOD.replace("drain_deadline_ms", "drain_deadline"), 6),
            ("broken YAML", GOOD.replace("  batch_size: 3", "  batch_size: 3: 4"), 8),
        ];
        for (what, yaml, want) in cases {
            match Config::from_yaml(&yaml) {
                Err(ConfigError::Parse { line, message }) => {
                    assert_eq!(
                        line,
                        Some(want),
                        "{what}: the error must name line {want}; the message was: {message}\n{yaml}"
                    );
                    assert!(!message.is_empty(), "{what}: keep the YAML library's message");
                }
                other => panic!("{what}: expected ConfigError::Parse, got {other:?}\n{yaml}"),
            }
        }
        match Config::from_yaml("server: [") {
            Err(ConfigError::Parse { .. }) => {}
            other => panic!("a truncated file: expected ConfigError::Parse, got {other:?}"),
        }
    });
}

#[test]
fn ex19_1_the_service_exits_2_with_every_message_for_a_bad_config() {
    exercise("19.1").patience(Duration::from_secs(15)).run(|| {
        let yaml = config_with(&[("port", "80800"), ("level", "loud")]);
        let (code, stderr) = run_to_exit(&yaml);
        assert_eq!(
            code,
            Some(2),
            "a refused config ends the program with exit code 2. stderr:\n{stderr}"
        );
        for line in [
            "server.port: must be at most 65535",
            "log.level: must be one of trace, debug, info, warn, error",
        ] {
            assert!(stderr.contains(line), "stderr must say `{line}`:\n{stderr}");
        }
        let (code, stderr) = run_to_exit(&config_with(&[("port", "eighty")]));
        assert_eq!(
            code,
            Some(2),
            "an unparsable config: exit code 2. stderr:\n{stderr}"
        );
        assert!(stderr.contains("line 3"), "and the line, 3:\n{stderr}");
    });
}

// ---------------------------------------------------------------------------------------
// 19.2 Health and readiness

#[test]
fn ex19_2_live_from_the_start_ready_only_between_set_ready_and_shutdown() {
    exercise("19.2").run(|| {
        let health = Health::new();
        let probe = health.clone();
        assert_eq!(health.healthz().0, 200, "a new service is live");
        assert!(
            !health.is_ready(),
            "a new service is not ready: nothing listens yet"
        );
        assert_eq!(
            health.readyz(),
            (503, "not ready"),
            "readyz before set_ready"
        );
        health.set_ready();
        assert!(
            probe.is_ready(),
            "a clone shares the state: ready after set_ready"
        );
        assert_eq!(probe.readyz(), (200, "ready"), "readyz after set_ready");
        assert_eq!(probe.healthz(), (200, "live"));
        health.set_not_ready();
        assert!(!probe.is_ready(), "not ready once shutdown has begun");
        assert_eq!(
            probe.readyz(),
            (503, "not ready"),
            "readyz during the shutdown"
        );
        assert_eq!(
            probe.healthz(),
            (200, "live"),
            "a draining service is still live: an orchestrator that saw it dead would \
             restart it and kill the requests it is finishing"
        );
    });
}

#[test]
fn ex19_2_the_running_service_answers_healthz_and_readyz() {
    exercise("19.2")
        .patience(Duration::from_secs(15))
        .hangs_if("the service never logs its `listening` line")
        .run(|| {
            let service = Service::start(GOOD);
            assert_eq!(service.get("/healthz").0, 200, "GET /healthz");
            assert_eq!(service.get("/readyz").0, 200, "GET /readyz once started");
        });
}

// ---------------------------------------------------------------------------------------
// 19.3 Metrics

/// The text format's samples: `name{labels}` → value. Comment lines are skipped.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

fn sample(text: &str, series: &str) -> f64 {
    samples(text)
        .get(series)
        .copied()
        .unwrap_or_else(|| panic!("/metrics has no sample `{series}`. It says:\n{text}"))
}

#[test]
fn ex19_3_requests_are_counted_by_status() {
    exercise("19.3").run_async(|| async {
        let metrics = Metrics::new();
        for status in [200, 200, 503, 400, 200] {
            metrics.start().finish(status);
        }
        let text = metrics.encode();
        for (status, want) in [("200", 3.0), ("503", 1.0), ("400", 1.0)] {
            assert_eq!(
                sample(
                    &text,
                    &format!("lesson_requests_total{{status=\"{status}\"}}")
                ),
                want,
                "requests finished with {status}: five finished, with 200, 200, 503, 400, 200 \
                 (one count per `finish`, under its status). /metrics says:\n{text}"
            );
        }
        assert_eq!(
            sample(&text, "lesson_requests_in_flight"),
            0.0,
            "all finished"
        );
        assert!(
            text.contains("# TYPE lesson_requests counter"),
            "a counter:\n{text}"
        );
        assert!(
            text.contains("# TYPE lesson_requests_in_flight gauge"),
            "a gauge:\n{text}"
        );
        metrics.flushed(5);
        metrics.flushed(2);
        assert_eq!(
            sample(&metrics.encode(), "lesson_events_flushed_total"),
            7.0,
            "flushed(5) then flushed(2): 7 events were flushed. `flushed(n)` adds n \
             (`inc_by(n)`), not one per batch"
        );
        assert!(
            text.trim_end().ends_with("# EOF"),
            "the encoder's text ends with # EOF"
        );
    });
}

#[test]
fn ex19_3_a_request_leaves_the_in_flight_gauge_however_it_ends() {
    exercise("19.3").run_async(|| async {
        let metrics = Metrics::new();
        let a = metrics.start();
        let b = metrics.start();
        let c = metrics.start();
        assert_eq!(
            sample(&metrics.encode(), "lesson_requests_in_flight"),
            3.0,
            "three requests started (`start`) and not yet finished are in flight"
        );
        a.finish(200);
        assert_eq!(
            sample(&metrics.encode(), "lesson_requests_in_flight"),
            2.0,
            "one of three finished: two are in flight"
        );
        // A cancelled request: its future (and the guard in it) is dropped unfinished.
        drop(b);
        let text = metrics.encode();
        assert_eq!(
            sample(&text, "lesson_requests_in_flight"),
            1.0,
            "a request dropped without `finish` (cancelled, client gone) is no longer in flight"
        );
        assert!(
            !samples(&text)
                .keys()
                .any(|k| k.starts_with("lesson_requests_total{") && !k.contains("\"200\"")),
            "a dropped request is not counted under any status:\n{text}"
        );
        c.finish(503);
        assert_eq!(
            sample(&metrics.encode(), "lesson_requests_in_flight"),
            0.0,
            "all three ended (two finished, one dropped): none in flight"
        );
    });
}

#[test]
fn ex19_3_durations_go_into_the_histogram_in_seconds() {
    exercise("19.3").run_async(|| async {
        let metrics = Metrics::new();
        let quick = metrics.start();
        sleep(ms(5)).await;
        quick.finish(200);
        let slow = metrics.start();
        sleep(ms(250)).await;
        slow.finish(200);
        let text = metrics.encode();
        let bucket = |le: &str| {
            sample(
                &text,
                &format!("lesson_request_duration_seconds_bucket{{le=\"{le}\"}}"),
            )
        };
        assert_eq!(
            sample(&text, "lesson_request_duration_seconds_count"),
            2.0,
            "two requests finished: two durations recorded"
        );
        let sum = sample(&text, "lesson_request_duration_seconds_sum");
        assert!(
            (sum - 0.255).abs() < 1e-6,
            "the sum of 5 ms and 250 ms (tokio's clock) is 0.255 seconds, not {sum}"
        );
        assert_eq!(bucket("0.01"), 1.0, "5 ms is within 0.01 s");
        assert_eq!(bucket("0.1"), 1.0, "250 ms is not within 0.1 s");
        assert_eq!(bucket("1.0"), 2.0, "both are within 1 s");
        assert_eq!(bucket("+Inf"), 2.0, "both are within +Inf");
    });
}

#[test]
fn ex19_3_the_service_serves_metrics_a_scraper_can_parse() {
    exercise("19.3")
        .patience(Duration::from_secs(15))
        .hangs_if("the service never logs its `listening` line")
        .run(|| {
            let service = Service::start(GOOD);
            assert_eq!(service.get("/work?ms=1").0, 200, "GET /work?ms=1");
            assert_eq!(service.get("/work?ms=2").0, 200, "GET /work?ms=2");
            assert_eq!(
                service.get("/work?ms=99999999").0,
                400,
                "GET /work?ms=99999999 (more than work.max_ms)"
            );
            for value in 1..=3 {
                assert_eq!(
                    service.get(&format!("/ingest?value={value}")).0,
                    202,
                    "GET /ingest?value={value}"
                );
            }
            // The batch of 3 is written by the batcher's task: poll until it shows.
            let mut text = String::new();
            let give_up = std::time::Instant::now() + Duration::from_secs(10);
            while std::time::Instant::now() < give_up {
                text = service.get("/metrics").1;
                if samples(&text).get("lesson_events_flushed_total") == Some(&3.0) {
                    break;
                }
                std::thread::sleep(ms(10));
            }
            let after = "after two requests of /work answered 200 and one 400, and three events \
                         ingested (a full batch with batch_size 3)";
            for (series, want) in [
                ("lesson_requests_total{status=\"200\"}", 2.0),
                ("lesson_requests_total{status=\"400\"}", 1.0),
                ("lesson_requests_in_flight", 0.0),
                ("lesson_request_duration_seconds_count", 3.0),
                ("lesson_events_flushed_total", 3.0),
            ] {
                assert_eq!(
                    sample(&text, series),
                    want,
                    "{series} {after}. /metrics says:\n{text}"
                );
            }
        });
}

// ---------------------------------------------------------------------------------------
// 19.4 Work that stops when asked

#[test]
fn ex19_4_work_runs_its_time_or_stops_at_once_when_cancelled() {
    exercise("19.4")
        .hangs_if("do_work never returns, or spins instead of awaiting")
        .run_async(|| async {
            let token = CancellationToken::new();
            let start = Instant::now();
            assert_eq!(do_work(ms(300), &token).await, Outcome::Done);
            assert_eq!(
                start.elapsed(),
                ms(300),
                "uncancelled work takes its whole time"
            );

            let start = Instant::now();
            let canceller = {
                let token = token.clone();
                tokio::spawn(async move {
                    sleep(ms(40)).await;
                    token.cancel();
                })
            };
            assert_eq!(
                do_work(ms(10_000), &token).await,
                Outcome::Cancelled,
                "work cancelled after 40 ms of 10 s"
            );
            assert_eq!(
                start.elapsed(),
                ms(40),
                "cancelled work stops when the token is cancelled, not when its time is up"
            );
            canceller.await.expect("the canceller");

            // Already cancelled: Cancelled every time, even for 0 ms of work. Asked 64 times,
            // because a `select!` without `biased;` picks at random between two ready
            // branches, and would answer Done about half the time.
            let start = Instant::now();
            for attempt in 1..=64 {
                assert_eq!(
                    do_work(ms(0), &token).await,
                    Outcome::Cancelled,
                    "with the token already cancelled, even 0 ms of work must be Cancelled, every \
                     time (attempt {attempt} of 64 said Done). With 0 ms both the sleep and the \
                     token are ready at once, and a `select!` without `biased;` picks one at \
                     random: put `biased;` first, the token's branch before the sleep"
                );
            }
            assert_eq!(
                start.elapsed(),
                ms(0),
                "already-cancelled work returns at once"
            );
        });
}

type Written = Arc<Mutex<Vec<(Duration, Vec<u64>)>>>;

/// A batcher on its own task; `write` records each batch with its (virtual) time.
fn start_batcher(
    batch_size: usize,
    flush_every: Duration,
) -> (
    tokio::sync::mpsc::Sender<u64>,
    CancellationToken,
    Written,
    tokio::task::JoinHandle<()>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel(100);
    let stop = CancellationToken::new();
    let written: Written = Arc::default();
    let start = Instant::now();
    let log = written.clone();
    let task = tokio::spawn(batcher(
        rx,
        batch_size,
        flush_every,
        stop.clone(),
        move |b| {
            log.lock().unwrap().push((start.elapsed(), b));
        },
    ));
    (tx, stop, written, task)
}

fn batches(written: &Written) -> Vec<Vec<u64>> {
    written
        .lock()
        .unwrap()
        .iter()
        .map(|(_, b)| b.clone())
        .collect()
}

#[test]
fn ex19_4_a_full_batch_is_written_at_once_a_partial_one_on_time() {
    exercise("19.4")
        .hangs_if("the batcher spins (checks the token without awaiting) instead of waiting")
        .run_async(|| async {
            let (tx, stop, written, task) = start_batcher(3, ms(100));
            // Sent before the batcher's first poll: it finds them all waiting.
            for v in [1, 2, 3, 4, 5] {
                tx.send(v).await.unwrap();
            }
            kit::settle().await;
            assert_eq!(
                batches(&written),
                vec![vec![1, 2, 3]],
                "a full batch of 3 is written at once; [4, 5] wait for the timer (an \
                 `interval`'s first tick completes at once: it must not flush them)"
            );
            sleep(ms(150)).await;
            let got = written.lock().unwrap().clone();
            assert_eq!(
                got.iter().map(|(_, b)| b.clone()).collect::<Vec<_>>(),
                vec![vec![1, 2, 3], vec![4, 5]],
                "a partial batch is written within flush_every"
            );
            assert!(
                got[1].0 > ms(0) && got[1].0 <= ms(100),
                "the partial batch [4, 5] (sent at 0 ms) was written at {:?}: want after a \
                 wait, and within flush_every (100 ms)",
                got[1].0
            );
            // Idle for a long while: nothing is written, no empty batches.
            sleep(ms(1000)).await;
            assert_eq!(
                batches(&written).len(),
                2,
                "an empty batch is never written"
            );
            stop.cancel();
            tokio::time::timeout(ms(10), task)
                .await
                .expect("the batcher returns once `stop` is cancelled")
                .expect("the batcher's task");
        });
}

#[test]
fn ex19_4_on_stop_every_accepted_event_is_written_then_it_returns() {
    exercise("19.4")
        .hangs_if("the batcher spins (checks the token without awaiting) instead of waiting")
        .hangs_if("the batcher waits for more events after `stop` is cancelled")
        .run_async(|| async {
            let (tx, stop, written, task) = start_batcher(4, ms(10_000));
            for v in 1..=6 {
                tx.send(v).await.unwrap();
            }
            kit::settle().await;
            // Now two more, still in the channel when `stop` comes.
            tx.send(7).await.unwrap();
            tx.send(8).await.unwrap();
            tx.send(9).await.unwrap();
            stop.cancel();
            let start = Instant::now();
            tokio::time::timeout(ms(10), task)
                .await
                .expect("the batcher returns at once when `stop` is cancelled (it must not wait for the timer)")
                .expect("the batcher's task");
            assert_eq!(start.elapsed(), ms(0), "at once");
            let all: Vec<u64> = batches(&written).concat();
            assert_eq!(
                all,
                (1..=9).collect::<Vec<_>>(),
                "every accepted event is written, in order: the partial batch and what was \
                 still in the channel. Batches: {:?}",
                batches(&written)
            );
            assert!(
                batches(&written).iter().all(|b| !b.is_empty() && b.len() <= 4),
                "batches of 1 to batch_size events: {:?}",
                batches(&written)
            );
            assert!(
                tx.send(10).await.is_err(),
                "after the batcher returns, nobody can queue an event it would never write"
            );
        });
}

#[test]
fn ex19_4_after_stop_an_event_is_refused_or_written_never_lost() {
    exercise("19.4")
        .hangs_if("the batcher waits for more events after `stop` is cancelled")
        .run_async(|| async {
            let (tx, rx) = tokio::sync::mpsc::channel(100);
            let stop = CancellationToken::new();
            let written: Arc<Mutex<Vec<u64>>> = Arc::default();
            let accepted: Arc<Mutex<Vec<u64>>> = Arc::default();
            // Another request handler, sending while the batcher writes after `stop`.
            let (late, stopped) = (tx.clone(), stop.clone());
            let (log, took) = (written.clone(), accepted.clone());
            let mut next = 100;
            let task = tokio::spawn(batcher(rx, 4, ms(10_000), stop.clone(), move |b| {
                log.lock().unwrap().extend(b);
                if stopped.is_cancelled() && next < 104 {
                    if late.try_send(next).is_ok() {
                        took.lock().unwrap().push(next);
                    }
                    next += 1;
                }
            }));
            for v in 1..=6 {
                tx.send(v).await.unwrap();
            }
            kit::settle().await;
            for v in 7..=9 {
                tx.send(v).await.unwrap();
            }
            stop.cancel();
            tokio::time::timeout(ms(10), task)
                .await
                .expect("the batcher returns at once when `stop` is cancelled")
                .expect("the batcher's task");
            let written = written.lock().unwrap().clone();
            let lost: Vec<u64> = accepted
                .lock()
                .unwrap()
                .iter()
                .filter(|e| !written.contains(e))
                .copied()
                .collect();
            assert!(
                lost.is_empty(),
                "the events {lost:?} were accepted (`try_send` said Ok, the service would have \
                 answered 202) while the batcher wrote its last batches after `stop`, but were \
                 never written. Written: {written:?}. Close the channel (`events.close()`) \
                 before the final drain, so that late senders are refused; a drain with \
                 `try_recv` on an open channel stops at the first empty moment"
            );
        });
}

#[test]
fn ex19_4_events_are_not_lost_when_the_timer_fires_mid_batch() {
    exercise("19.4")
        .hangs_if("the batcher spins (checks the token without awaiting) instead of waiting")
        .run_async(|| async {
            // A batch of 5 fills slowly: one event every 30 ms, flushes every 100 ms.
            let (tx, stop, written, task) = start_batcher(5, ms(100));
            for v in 1..=12 {
                tx.send(v).await.unwrap();
                sleep(ms(30)).await;
            }
            drop(tx);
            tokio::time::timeout(ms(10), task)
                .await
                .expect("the batcher returns once every sender is gone")
                .expect("the batcher's task");
            assert!(!stop.is_cancelled());
            assert_eq!(
                batches(&written).concat(),
                (1..=12).collect::<Vec<_>>(),
                "every event, once, in order. Batches: {:?}. An event taken by a future that \
                 `select!` dropped (when the timer won) is lost",
                batches(&written)
            );
            // Event v was sent at 30 × (v − 1) ms. Every batch is written at most
            // flush_every (100 ms) after its first event arrived.
            let all = written.lock().unwrap().clone();
            for (at, batch) in &all {
                let first_at = ms(30 * (batch[0] - 1));
                assert!(
                    *at <= first_at + ms(100),
                    "the batch {batch:?} was written at {at:?}, but its first event came at \
                     {first_at:?}: a batch must be written at most flush_every (100 ms) after \
                     its first event. All batches (time, events): {all:?}. A timer that starts \
                     again on every event (`reset()` on each event, or a fresh \
                     `sleep(flush_every)` in the `select!` on every turn of the loop, like Go's \
                     `time.After`) never fires while events come faster than flush_every"
                );
            }
        });
}

// ---------------------------------------------------------------------------------------
// 19.5 Graceful shutdown — on the paused clock

/// Captured JSON log lines, for a subscriber made by [`capture`].
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    /// The `fields` of each JSON event.
    fn events(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).expect("a JSON log line");
                v["fields"].clone()
            })
            .collect()
    }

    /// The `event` field of each event that has one.
    fn names(&self) -> Vec<String> {
        self.events()
            .iter()
            .filter_map(|f| f["event"].as_str().map(str::to_string))
            .collect()
    }
}

/// A JSON subscriber that writes into a buffer, for this thread.
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .without_time()
        .with_writer(move || writer.clone())
        .finish();
    (captured, tracing::subscriber::set_default(subscriber))
}

fn parts(unready: u64, deadline: u64) -> Shutdown {
    let health = Health::new();
    health.set_ready();
    let abort = CancellationToken::new();
    Shutdown {
        health,
        unready_delay: ms(unready),
        drain_deadline: ms(deadline),
        stop: abort.child_token(),
        abort,
        tracker: TaskTracker::new(),
    }
}

/// When `token` was cancelled (virtual time since `start`), and whether the service was
/// ready then.
fn watch(
    token: &CancellationToken,
    health: &Health,
    start: Instant,
) -> tokio::task::JoinHandle<(Duration, bool)> {
    let (token, health) = (token.clone(), health.clone());
    tokio::spawn(async move {
        token.cancelled().await;
        (start.elapsed(), health.is_ready())
    })
}

#[test]
fn ex19_5_not_ready_then_stop_accepting_then_drain_in_time() {
    exercise("19.5")
        .hangs_if("the tracker is never closed (TaskTracker::wait returns only once it is closed and empty)")
        .run_async(|| async {
            let (log, _guard) = capture();
            let s = parts(100, 1000);
            let start = Instant::now();
            let stopped = watch(&s.stop, &s.health, start);
            for work in [200, 500] {
                let abort = s.abort.clone();
                s.tracker.spawn(async move { do_work_plain(ms(work), &abort).await });
            }
            kit::settle().await;
            let start = Instant::now();
            let report = {
                let shared = s.clone();
                let task = tokio::spawn(async move { graceful_shutdown(&shared).await });
                kit::settle().await;
                assert!(
                    !s.health.is_ready(),
                    "readiness is false as soon as the shutdown begins"
                );
                task.await.expect("graceful_shutdown")
            };
            let (stop_at, ready_at_stop) = stopped.await.unwrap();
            assert!(!ready_at_stop, "readiness was still true when the listener closed");
            assert_eq!(
                stop_at,
                ms(101),
                "stop is cancelled after unready_delay (100 ms): the balancer gets that long \
                 to notice before connections are refused"
            );
            assert_eq!(
                report,
                Report {
                    drained_in_time: true,
                    cancelled: 0,
                    abandoned: 0
                },
                "work of 200 and 500 ms drains within a deadline of 1000 ms"
            );
            assert_eq!(report.exit_code(), 0, "a clean drain exits with 0");
            assert_eq!(
                start.elapsed(),
                ms(499),
                "graceful_shutdown returns as soon as the last task ends (500 ms after it \
                 started), not at the deadline"
            );
            assert!(!s.abort.is_cancelled(), "nothing was cancelled in a clean drain");
            assert_eq!(
                log.names(),
                ["not_ready", "stop_accepting", "drained"],
                "the events logged, in order"
            );
        });
}

/// Work that ends after `d`, or when `abort` is cancelled (independent of your do_work).
async fn do_work_plain(d: Duration, abort: &CancellationToken) {
    tokio::select! {
        _ = abort.cancelled() => {}
        _ = sleep(d) => {}
    }
}

#[test]
fn ex19_5_work_past_the_deadline_is_cancelled_and_reported() {
    exercise("19.5")
        .hangs_if("the drain waits without a deadline")
        .run_async(|| async {
            let (log, _guard) = capture();
            let s = parts(50, 1000);
            let start = Instant::now();
            let aborted = watch(&s.abort, &s.health, start);
            let ended: Arc<AtomicUsize> = Arc::default();
            for work in [300, 5000, 60_000] {
                let (abort, ended) = (s.abort.clone(), ended.clone());
                s.tracker.spawn(async move {
                    do_work_plain(ms(work), &abort).await;
                    ended.fetch_add(1, SeqCst);
                });
            }
            let report = graceful_shutdown(&s).await;
            let (abort_at, _) = aborted.await.unwrap();
            assert_eq!(
                abort_at,
                ms(1050),
                "abort is cancelled when the drain deadline (1000 ms after the listener \
                 closed at 50 ms) passes"
            );
            assert_eq!(
                report,
                Report {
                    drained_in_time: false,
                    cancelled: 2,
                    abandoned: 0
                },
                "two tasks (5 s and 60 s of work) were still running at the deadline, were \
                 cancelled and ended"
            );
            assert_eq!(ended.load(SeqCst), 3, "every task ended");
            assert_eq!(
                start.elapsed(),
                ms(1050),
                "it returns once the cancelled work ends"
            );
            assert_eq!(
                report.exit_code(),
                0,
                "cancelled and ended: the shutdown worked"
            );
            assert_eq!(
                log.names(),
                ["not_ready", "stop_accepting", "deadline_passed"],
                "the events logged, in order"
            );
            let deadline = log
                .events()
                .into_iter()
                .find(|f| f["event"] == "deadline_passed")
                .unwrap();
            assert_eq!(
                deadline["cancelled"], 2,
                "the deadline_passed event says how many were cancelled: {deadline}"
            );
        });
}

#[test]
fn ex19_5_work_that_ignores_cancellation_is_abandoned_not_waited_for() {
    exercise("19.5")
        .hangs_if("a wait without a deadline: after cancelling, wait at most drain_deadline again")
        .run_async(|| async {
            let (log, _guard) = capture();
            let s = parts(0, 500);
            s.tracker.spawn(std::future::pending::<()>());
            s.tracker.spawn(sleep(ms(100)));
            let start = Instant::now();
            let report = graceful_shutdown(&s).await;
            assert_eq!(
                report,
                Report {
                    drained_in_time: false,
                    cancelled: 1,
                    abandoned: 1
                }
            );
            assert_eq!(
                start.elapsed(),
                ms(1000),
                "the drain deadline (500 ms), then once more after cancelling"
            );
            assert_eq!(
                report.exit_code(),
                1,
                "abandoned tasks: the exit code says something was left behind"
            );
            assert_eq!(
                log.names(),
                [
                    "not_ready",
                    "stop_accepting",
                    "deadline_passed",
                    "abandoned"
                ]
            );
            let abandoned = log
                .events()
                .into_iter()
                .find(|f| f["event"] == "abandoned")
                .unwrap();
            assert_eq!(
                abandoned["tasks"], 1,
                "how many were abandoned: {abandoned}"
            );
        });
}

// ---------------------------------------------------------------------------------------
// 19.5 Graceful shutdown — the real service and a real SIGTERM

#[test]
fn ex19_5_sigterm_drains_in_flight_requests_and_exits_0() {
    exercise("19.5")
        .patience(Duration::from_secs(15))
        .hangs_if("the service does not end after SIGTERM (a drain without a deadline, a tracker never closed)")
        .hangs_if("19.4's do_work never returns (it must wait on the sleep and the token together)")
        .run(|| {
            // A long unready window (1 s), so that a client polling /readyz sees its 503
            // even on a busy machine; the work outlasts it, so it is still in flight when
            // the listener closes.
            let yaml = config_with(&[("unready_delay_ms", "1000"), ("drain_deadline_ms", "5000")]);
            let mut service = Service::start(&yaml);
            let addr = service.addr;
            let requests: Vec<_> = [1500, 1700]
                .into_iter()
                .map(|n| std::thread::spawn(move || get(addr, &format!("/work?ms={n}"))))
                .collect();
            // The service logs each start: then both are in flight, server-side.
            service.wait_for("work_started");
            service.wait_for("work_started");
            service.sigterm();
            // While unready: still serving, /readyz says 503; then connections are refused.
            // (A connection that was waiting in the listener's queue when it closed is
            // reset instead: both count as "closed".)
            let mut seen: Vec<String> = Vec::new();
            let give_up = std::time::Instant::now() + Duration::from_secs(10);
            while std::time::Instant::now() < give_up {
                let (answer, refused) = match get(addr, "/readyz") {
                    Ok((code, _)) => (code.to_string(), false),
                    Err(e) => (
                        "closed".to_string(),
                        e.kind() == std::io::ErrorKind::ConnectionRefused,
                    ),
                };
                if seen.last() != Some(&answer) {
                    seen.push(answer);
                }
                if refused {
                    break;
                }
                std::thread::sleep(ms(5));
            }
            let after_ready: Vec<&str> = seen
                .iter()
                .map(String::as_str)
                .skip_while(|a| *a == "200")
                .collect();
            assert!(
                after_ready == ["503", "closed"],
                "after SIGTERM, /readyz must answer 503 (still serving, not ready) for \
                 unready_delay (1 s), and then new connections are refused. What /readyz \
                 answered, polled every 5 ms from the signal on (repeats shown once; \
                 `closed` = connection refused or reset): {seen:?}; want [\"200\" (only until \
                 the signal is handled), \"503\", \"closed\"]"
            );
            for (request, n) in requests.into_iter().zip([1500, 1700]) {
                let got = request.join().expect("the request thread");
                assert_eq!(
                    got.as_ref().map(|(code, body)| (*code, body.as_str())).ok(),
                    Some((200, "done")),
                    "/work?ms={n} was in flight at SIGTERM and must finish with 200 done: \
                     {got:?}. (No HTTP answer: its handler panicked — 19.4's do_work? \
                     503 cancelled: the drain cancelled it before its time.) The service's \
                     stderr:\n{}",
                    service.stderr()
                );
            }
            let code = service.wait_exit();
            assert_eq!(code, Some(0), "a clean drain exits with 0. stderr:\n{}", service.stderr());
            let names: Vec<String> = service
                .events
                .iter()
                .filter_map(|e| e["event"].as_str().map(str::to_string))
                .filter(|e| ["signal", "not_ready", "stop_accepting", "drained", "deadline_passed", "exit"].contains(&e.as_str()))
                .collect();
            assert_eq!(
                names,
                ["signal", "not_ready", "stop_accepting", "drained", "exit"],
                "the shutdown sequence in the service's JSON log"
            );
        });
}

#[test]
fn ex19_5_sigterm_cancels_work_that_outlives_the_deadline_and_exits_0() {
    exercise("19.5")
        .patience(Duration::from_secs(15))
        .hangs_if("the service does not end after SIGTERM (a drain without a deadline)")
        .hangs_if("19.4's do_work ignores `abort`, or looks at it only once: the 60 s request runs to its end")
        .run(|| {
            let yaml = config_with(&[("unready_delay_ms", "0"), ("drain_deadline_ms", "300")]);
            let mut service = Service::start(&yaml);
            let addr = service.addr;
            let long = std::thread::spawn(move || get(addr, "/work?ms=60000"));
            service.wait_for("work_started");
            service.sigterm();
            let deadline = service.wait_for("deadline_passed");
            assert_eq!(deadline["cancelled"], 1, "one request was cancelled: {deadline}");
            let got = long.join().expect("the request thread");
            assert_eq!(
                got.as_ref().map(|(code, _)| *code).ok(),
                Some(503),
                "the request still running at the deadline is cancelled (503): {got:?}. If \
                 `abort` was cancelled (deadline_passed was logged), this is 19.4's do_work: \
                 it must return Cancelled as soon as its token is cancelled. The service's \
                 stderr:\n{}",
                service.stderr()
            );
            let code = service.wait_exit();
            assert_eq!(
                code,
                Some(0),
                "cancelled work that ended is a shutdown that worked: exit 0. stderr:\n{}",
                service.stderr()
            );
        });
}

// ---------------------------------------------------------------------------------------
// The service as a child process

/// A unique file for a config.
fn config_file(yaml: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "lesson-19-{}-{}.yaml",
        std::process::id(),
        N.fetch_add(1, SeqCst)
    ));
    std::fs::write(&path, yaml).expect("write the config file");
    path
}

fn command(yaml: &str) -> (Command, PathBuf) {
    let path = config_file(yaml);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lesson-19"));
    cmd.arg("--config").arg(&path).stdin(Stdio::null());
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: prctl is async-signal-safe; it only asks the kernel to SIGKILL the child
        // when the thread that started it ends (the test's thread, or the whole test
        // binary when a timed-out test's thread is abandoned).
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
    }
    (cmd, path)
}

/// Run the program with `yaml` until it exits (at most 10 s): its exit code and stderr.
fn run_to_exit(yaml: &str) -> (Option<i32>, String) {
    let (mut cmd, path) = command(yaml);
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the lesson program");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .ok();
    let code = child.wait().ok().and_then(|s| s.code());
    let _ = std::fs::remove_file(path);
    (code, stderr)
}

/// The lesson program serving; SIGKILLed when dropped.
struct Service {
    child: Child,
    addr: SocketAddr,
    lines: mpsc::Receiver<String>,
    /// The `fields` of every JSON event read so far.
    events: Vec<Value>,
    stderr: Arc<Mutex<String>>,
    /// The thread that copies the service's stderr into `stderr`; it ends with the service.
    stderr_reader: Option<std::thread::JoinHandle<()>>,
    config: PathBuf,
}

impl Service {
    fn start(yaml: &str) -> Service {
        let (mut cmd, config) = command(yaml);
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the lesson program");
        let (tx, lines) = mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr: Arc<Mutex<String>> = Arc::default();
        let pipe = BufReader::new(child.stderr.take().unwrap());
        let sink = stderr.clone();
        // Line by line, so that a handler's panic can be shown while the service runs.
        let stderr_reader = std::thread::spawn(move || {
            for line in pipe.lines().map_while(Result::ok) {
                let mut text = sink.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });
        let mut service = Service {
            child,
            addr: "127.0.0.1:1".parse().unwrap(),
            lines,
            events: Vec::new(),
            stderr,
            stderr_reader: Some(stderr_reader),
            config,
        };
        let listening = service.wait_for("listening");
        service.addr = listening["addr"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("the `listening` event has no addr field: {listening}"));
        assert!(
            service.addr.ip().is_loopback(),
            "the service must listen on 127.0.0.1, not {}",
            service.addr
        );
        service
    }

    /// Read log lines until an event named `name`; return its fields.
    #[track_caller]
    fn wait_for(&mut self, name: &str) -> Value {
        loop {
            match self.lines.recv() {
                Ok(line) => {
                    let Ok(json) = serde_json::from_str::<Value>(&line) else {
                        panic!("the service wrote a line that is not JSON: {line}");
                    };
                    let fields = json["fields"].clone();
                    self.events.push(fields.clone());
                    if fields["event"] == name {
                        return fields;
                    }
                }
                Err(_) => {
                    let _ = self.child.wait();
                    // Its stderr is complete once the reader has seen the pipe's end.
                    if let Some(reader) = self.stderr_reader.take() {
                        let _ = reader.join();
                    }
                    let stderr = self.stderr();
                    let cause = if stderr.contains("not yet implemented: exercise") {
                        "it met an unfinished exercise (below)"
                    } else if stderr.contains("panicked at") {
                        "it panicked: the `panicked at` line below says in which file"
                    } else {
                        "see its stderr below"
                    };
                    panic!(
                        "the service ended before logging the event `{name}`: {cause}. Its \
                         stderr:\n{stderr}"
                    );
                }
            }
        }
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// `GET path`: the status and the body; a request that gets no answer fails the test
    /// with the service's stderr, where a handler's panic shows.
    #[track_caller]
    fn get(&self, path: &str) -> (u16, String) {
        match get(self.addr, path) {
            Ok(answer) => answer,
            Err(e) => {
                // A handler that panics closes the connection without an answer; its
                // panic reaches the service's stderr (and the reader) a moment later.
                let give_up = std::time::Instant::now() + Duration::from_secs(2);
                while !self.stderr().contains("panicked at") && std::time::Instant::now() < give_up
                {
                    std::thread::sleep(ms(10));
                }
                panic!(
                    "GET {path} got no HTTP answer ({e}): the handler most likely panicked \
                     (/work runs 19.4's do_work, /ingest feeds 19.4's batcher, /metrics runs \
                     19.3's encode, /healthz and /readyz 19.2). The service's stderr:\n{}",
                    self.stderr()
                );
            }
        }
    }

    fn sigterm(&self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGTERM);
        }
    }

    /// Wait for the program to exit (its log read to the end); its exit code.
    fn wait_exit(&mut self) -> Option<i32> {
        while let Ok(line) = self.lines.recv() {
            if let Ok(json) = serde_json::from_str::<Value>(&line) {
                self.events.push(json["fields"].clone());
            }
        }
        self.child.wait().ok().and_then(|s| s.code())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.config);
    }
}

kit::program_tests!("--config", "no-such-file.yaml");
