//! Lesson 18's program: the outcome log of a resilient client talking to a scripted flaky
//! service, in virtual time; then the same scripts through the layers in two orders, to
//! show what the order changes.
//!
//! Everything runs on a paused clock in one thread, and the jitter is seeded: every `t=`
//! is virtual and exact, and the output is the same on every run.

use std::time::Duration;

use clap::Parser;
use lesson_18::breaker::{BreakerState, CircuitBreakerLayer};
use lesson_18::client::{Client, ClientConfig, ClientError};
use lesson_18::flaky::{Flaky, Req, Step};
use lesson_18::limit::ConcurrencyLimitLayer;
use lesson_18::retry::{RetryLayer, RetryPolicy};
use lesson_18::timeout::TimeoutLayer;
use tokio::time::{Instant, sleep};
use tower::{BoxError, Service, ServiceBuilder, ServiceExt};

/// Lesson 18: a resilient client as tower layers.
#[derive(Parser)]
#[command(name = "lesson-18")]
struct Args {
    /// How many of the scripted requests to send (1 to 8).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=8))]
    requests: u32,
}

const SEED: u64 = 18;

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(20));
    kit_run::brief_panics();
    kit_run::run_paused!(run(args.requests as usize));
}

async fn run(requests: usize) {
    println!("Lesson 18: a resilient client as tower layers");
    println!();
    outcome_log(requests).await;
    println!();
    orders().await;
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn step_text(step: Step, timeout: Duration) -> String {
    match step {
        Step::Ok => "answers ok".into(),
        Step::Fail => "fails".into(),
        Step::Slow(n) if ms(n) > timeout => format!(
            "would answer after {n}ms; the timeout cuts it off at {}ms",
            timeout.as_millis()
        ),
        Step::Slow(n) => format!("answers after {n}ms"),
        Step::Reject => "refuses".into(),
    }
}

fn state_text(s: BreakerState) -> &'static str {
    match s {
        BreakerState::Closed => "closed",
        BreakerState::Open => "open",
        BreakerState::HalfOpen => "half-open",
    }
}

async fn outcome_log(requests: usize) {
    let config = ClientConfig {
        limit: 2,
        timeout: ms(100),
        retry: RetryPolicy {
            max_attempts: 3,
            base: ms(20),
            cap: ms(200),
            budget: 10,
            seed: SEED,
        },
        breaker_threshold: 4,
        breaker_cooldown: ms(1000),
    };
    println!("1. The outcome log of one client and a scripted flaky service");
    println!(
        "   stack, outermost first: limit {} → retry ({} attempts, pauses 20ms·2^(n-1) capped at 200ms, \
         jittered with seed {SEED}, budget {}) → breaker (opens after {} failures in a row, \
         cooldown {}ms) → timeout {}ms per attempt → service",
        config.limit,
        config.retry.max_attempts,
        config.retry.budget,
        config.breaker_threshold,
        config.breaker_cooldown.as_millis(),
        config.timeout.as_millis()
    );
    let flaky = Flaky::new([
        Step::Ok,
        Step::Fail,
        Step::Ok,
        Step::Slow(300),
        Step::Ok,
        Step::Fail,
        Step::Fail,
        Step::Fail,
        Step::Fail,
        Step::Slow(50),
        Step::Ok,
    ]);
    // (request, pause before it)
    let plan = [
        (Req::read(1), 0),
        (Req::read(2), 50),
        (Req::read(3), 50),
        (Req::write(4), 50),
        (Req::read(5), 50),
        (Req::read(6), 50),
        (Req::read(7), 1000),
        (Req::read(8), 50),
    ];
    let start = Instant::now();
    let client = Client::new(flaky.clone(), &config);
    // (t, kind, text): at one instant, a request is sent (0), the breaker turns half-open
    // for it (1), its call is made (2), the breaker reacts to the answer (3), and the
    // request's outcome comes back (4). Sorting by both gives that order on every run.
    let mut log: Vec<(u64, u8, String)> = Vec::new();
    for (req, pause) in plan.into_iter().take(requests) {
        sleep(ms(pause)).await;
        let what = if req.idempotent { "read" } else { "write" };
        log.push((
            start.elapsed().as_millis() as u64,
            0,
            format!("request {} ({what}) sent", req.id),
        ));
        let outcome = client.send(req).await;
        let attempts = flaky.calls().iter().filter(|c| c.id == req.id).count();
        let text = match outcome {
            Ok(_) => format!("request {} ok after {attempts} call(s)", req.id),
            Err(ClientError::GaveUp { attempts }) => format!(
                "request {} gave up after {} attempts: {}",
                req.id,
                attempts.len(),
                attempts.join("; ")
            ),
            Err(ClientError::Rejected { by }) => {
                format!("request {} rejected by the {by} (no call)", req.id)
            }
            Err(ClientError::TimedOut) => format!("request {} timed out", req.id),
            Err(ClientError::Failed(e)) => format!("request {} failed, not retried: {e}", req.id),
        };
        log.push((start.elapsed().as_millis() as u64, 4, text));
    }
    for call in flaky.calls() {
        log.push((
            call.at_ms,
            2,
            format!(
                "   call for request {}: {}",
                call.id,
                step_text(call.step, config.timeout)
            ),
        ));
    }
    for t in client.breaker().transitions() {
        log.push((
            (t.at - start).as_millis() as u64,
            if t.to == BreakerState::HalfOpen { 1 } else { 3 },
            format!("   breaker → {}", state_text(t.to)),
        ));
    }
    log.sort_by_key(|(t, kind, _)| (*t, *kind));
    for (t, _, text) in log {
        println!("   t={t:>4}ms  {text}");
    }
    println!(
        "   calls to the service: {}, most in flight at once: {}",
        flaky.call_count(),
        flaky.max_in_flight()
    );
}

async fn send<S>(svc: &mut S, req: Req) -> Result<u32, BoxError>
where
    S: Service<Req, Response = u32, Error = BoxError>,
{
    svc.ready().await?.call(req).await
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base: ms(10),
        cap: ms(100),
        budget: 100,
        seed: SEED,
    }
}

fn outcome(r: &Result<u32, BoxError>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

async fn orders() {
    println!("2. Order matters: the same script through two orders (outermost first)");

    println!("   script: the first call answers after 500ms, the next at once; timeout 100ms");
    for (name, timeout_inside) in [("retry → timeout", true), ("timeout → retry", false)] {
        let flaky = Flaky::new([Step::Slow(500), Step::Ok]);
        let start = Instant::now();
        let r = if timeout_inside {
            let mut s = ServiceBuilder::new()
                .layer(RetryLayer::new(policy()))
                .layer(TimeoutLayer::new(ms(100)))
                .service(flaky.clone());
            send(&mut s, Req::read(1)).await
        } else {
            let mut s = ServiceBuilder::new()
                .layer(TimeoutLayer::new(ms(100)))
                .layer(RetryLayer::new(policy()))
                .service(flaky.clone());
            send(&mut s, Req::read(1)).await
        };
        println!(
            "   {name:<26} {:<10} calls {}  took {}ms",
            outcome(&r),
            flaky.call_count(),
            start.elapsed().as_millis()
        );
    }

    println!("   script: every call fails; 2 requests; retry 3 attempts, breaker opens after 3");
    for (name, retry_outside) in [("retry → breaker", true), ("breaker → retry", false)] {
        let flaky = Flaky::new(vec![Step::Fail; 20]);
        let breaker = CircuitBreakerLayer::new(3, ms(60_000));
        let mut last = Ok(0);
        if retry_outside {
            let mut s = ServiceBuilder::new()
                .layer(RetryLayer::new(policy()))
                .layer(breaker.clone())
                .service(flaky.clone());
            for id in 1..=2 {
                last = send(&mut s, Req::read(id)).await;
            }
        } else {
            let mut s = ServiceBuilder::new()
                .layer(breaker.clone())
                .layer(RetryLayer::new(policy()))
                .service(flaky.clone());
            for id in 1..=2 {
                last = send(&mut s, Req::read(id)).await;
            }
        }
        let last = match &last {
            Err(e) if e.is::<lesson_18::errors::Rejected>() => "rejected".to_string(),
            Err(e) if e.is::<lesson_18::errors::GaveUp>() => "gave up".to_string(),
            other => outcome(other),
        };
        println!(
            "   {name:<26} calls {:<2} breaker {:<7} request 2: {last}",
            flaky.call_count(),
            state_text(breaker.state()),
        );
    }

    println!("   script: 20 callers at once, each call 1000ms; limit 2, buffer 5");
    for (name, buffer_outside) in [("limit → buffer", false), ("buffer → limit", true)] {
        let flaky = Flaky::new(vec![Step::Slow(1000); 20]);
        let (admitted, in_flight) = if buffer_outside {
            let s = ServiceBuilder::new()
                .buffer(5)
                .layer(ConcurrencyLimitLayer::new(2))
                .service(flaky.clone());
            admitted_at_once(s, &flaky).await
        } else {
            let s = ServiceBuilder::new()
                .layer(ConcurrencyLimitLayer::new(2))
                .buffer(5)
                .service(flaky.clone());
            admitted_at_once(s, &flaky).await
        };
        println!(
            "   {name:<26} admitted at once {admitted:<2} most in flight at the service {in_flight}"
        );
    }
}

/// How many of 20 callers are admitted at once (their `poll_ready` is Ready at t=0).
async fn admitted_at_once<S>(svc: S, flaky: &Flaky) -> (usize, usize)
where
    S: Service<Req, Response = u32, Error = BoxError> + Clone + Send + 'static,
    S::Future: Send,
{
    let start = Instant::now();
    let mut tasks = Vec::new();
    for id in 0..20 {
        let mut s = svc.clone();
        tasks.push(tokio::spawn(async move {
            s.ready().await.expect("ready");
            let at = start.elapsed();
            let _ = s.call(Req::read(id)).await;
            at
        }));
    }
    let mut at_once = 0;
    for task in tasks {
        if task.await.expect("a caller panicked") == Duration::ZERO {
            at_once += 1;
        }
    }
    (at_once, flaky.max_in_flight())
}
