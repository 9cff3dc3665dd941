//! Lesson 15's program: one publisher, a fast subscriber, a slow one, one that joins late
//! and one that leaves early — through the broadcaster of 15.1 with each policy, then
//! through the lag-and-skip channel of 15.2–15.3.
//!
//! Everything runs on a paused clock, in one thread: every `t=` is virtual and exact, and
//! the output is the same on every run.

use std::time::Duration;

use clap::Parser;
use lesson_15::hub::{Broadcaster, Policy, SubscriberId, Subscription};
use lesson_15::lagging::{self, RecvError};
use tokio::time::{Instant, sleep};

/// Lesson 15: broadcast with slow subscribers.
#[derive(Parser)]
#[command(name = "lesson-15")]
struct Args {
    /// How many messages the publisher sends (1 to 50).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=50))]
    messages: u64,
    /// Each buffer's capacity, and the ring's, in messages (1 to 8).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(1..=8))]
    capacity: u8,
}

fn main() {
    let args = Args::parse();
    kit_run::watchdog!(Duration::from_secs(20));
    kit_run::brief_panics();
    kit_run::run_paused!(run(args.messages, usize::from(args.capacity)));
}

async fn run(messages: u64, capacity: usize) {
    println!("Lesson 15: broadcast");
    println!();
    for policy in [Policy::DropNewest, Policy::Disconnect] {
        hub(policy, messages, capacity).await;
        println!();
    }
    lag_and_skip(messages, capacity).await;
}

/// The same scene through the broadcaster of 15.1: `fast` reads after every message,
/// `slow` never reads until the end, `late` subscribes halfway, `leaver` unsubscribes
/// after the first third.
async fn hub(policy: Policy, messages: u64, capacity: usize) {
    println!("Broadcaster, a buffer of {capacity} per subscriber, policy {policy:?}:");
    let hub = Broadcaster::new(capacity, policy);
    let mut fast = Named::new("fast", hub.subscribe());
    let mut slow = Named::new("slow", hub.subscribe());
    let mut leaver = Named::new("leaver", hub.subscribe());
    let mut late: Option<Named> = None;
    let mut slow_missed = Vec::new();
    let mut slow_cut_at = None;
    for m in 1..=messages {
        if m == messages / 2 + 1 {
            late = Some(Named::new("late", hub.subscribe()));
        }
        let delivery = hub.publish(m).await;
        if delivery.dropped.contains(&slow.id) {
            slow_missed.push(m);
        }
        if delivery.disconnected.contains(&slow.id) {
            slow_cut_at = Some(m);
        }
        // Every subscriber that reads promptly reads now.
        fast.drain();
        leaver.drain();
        if let Some(late) = late.as_mut() {
            late.drain();
        }
        if m == messages.div_ceil(3) {
            hub.unsubscribe(leaver.id);
        }
    }
    // The end of the run: the publisher is done. Everyone reads what is left.
    drop(hub);
    for sub in [
        Some(&mut fast),
        Some(&mut slow),
        Some(&mut leaver),
        late.as_mut(),
    ]
    .into_iter()
    .flatten()
    {
        sub.read_to_end().await;
        println!("  {sub}");
    }
    match policy {
        Policy::DropNewest => println!(
            "  slow's buffer was full for {}: dropped for slow only",
            list(&slow_missed)
        ),
        Policy::Disconnect => match slow_cut_at {
            Some(m) => println!(
                "  slow was disconnected at message {m}: it read its buffer, then its subscription ended"
            ),
            None => println!("  slow was never disconnected"),
        },
    }
}

/// A subscription with a name and what it received.
struct Named {
    name: &'static str,
    id: SubscriberId,
    subscription: Subscription<u64>,
    received: Vec<u64>,
}

impl Named {
    fn new(name: &'static str, subscription: Subscription<u64>) -> Named {
        Named {
            name,
            id: subscription.id(),
            subscription,
            received: Vec::new(),
        }
    }

    fn drain(&mut self) {
        while let Some(m) = self.subscription.try_recv() {
            self.received.push(m);
        }
    }

    async fn read_to_end(&mut self) {
        while let Some(m) = self.subscription.recv().await {
            self.received.push(m);
        }
    }
}

impl std::fmt::Display for Named {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:<7}({}) received {}",
            self.name,
            self.id,
            list(&self.received)
        )
    }
}

/// The lag-and-skip channel: the publisher sends one message every 10 ms; `fast` waits in
/// `recv`; `slow` starts reading only after the publisher is done; `late` subscribes
/// halfway.
async fn lag_and_skip(messages: u64, capacity: usize) {
    println!("Lag-and-skip channel, a ring of {capacity}:");
    let start = Instant::now();
    let tx = lagging::Sender::new(capacity);

    // Each reader reports what it received when its channel closes.
    let reader = |name: &'static str, mut rx: lagging::Receiver<u64>, wait: Duration| {
        tokio::spawn(async move {
            sleep(wait).await;
            let mut got = Vec::new();
            loop {
                match rx.recv().await {
                    Ok(m) => got.push(m.to_string()),
                    Err(RecvError::Lagged(n)) => got.push(format!("(lagged: missed {n})")),
                    Err(RecvError::Closed) => break,
                }
            }
            let ms = start.elapsed().as_millis();
            format!("  {name:<5} received {}, closed at t={ms}ms", got.join(" "))
        })
    };
    let fast = reader("fast", tx.subscribe(), Duration::ZERO);
    let slow = reader(
        "slow",
        tx.subscribe(),
        Duration::from_millis(10 * messages + 5),
    );
    let mut late = None;
    for m in 1..=messages {
        sleep(Duration::from_millis(10)).await;
        if m == messages / 2 + 1 {
            late = Some(reader("late", tx.subscribe(), Duration::ZERO));
        }
        tx.send(m);
    }
    let ms = start.elapsed().as_millis();
    println!("  the publisher sent {messages} messages by t={ms}ms without waiting for anyone");
    sleep(Duration::from_millis(20)).await;
    drop(tx);
    for task in [Some(fast), Some(slow), late].into_iter().flatten() {
        println!("{}", task.await.expect("a reader task panicked"));
    }
}

fn list(values: &[u64]) -> String {
    if values.is_empty() {
        return "nothing".to_string();
    }
    values
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}
