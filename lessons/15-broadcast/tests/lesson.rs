//! Lesson 15's tests, in the order of the chapter's exercises.
//!
//! The async tests run on a paused clock (`kit`): a publisher that waits for a subscriber
//! that never reads, or a receiver that nobody wakes, leaves every task waiting; the
//! virtual clock then jumps to the test's `timeout` at once, and the test fails with a
//! message that says what waited, instead of hanging.

use std::cell::Cell;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lesson_15::hub::{Broadcaster, Delivery, Policy, SubscriberId, Subscription};
use lesson_15::lagging::{self, RecvError};
use lesson_15::ring::{Read, Ring};
use tokio::time::timeout;

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

/// How long (virtual) a test lets one call take before calling it stuck.
const PATIENCE: Duration = Duration::from_secs(1);

// ---------------------------------------------------------------------------------------
// 15.1 The broadcaster

const PUBLISH_WAITS: &str = "`publish` waited for a subscriber that never reads: offer each buffer the message \
     with `try_send` (it never waits) and apply the policy when it is full, instead of `send(..).await`";

/// Everything buffered for `sub` now, without waiting.
fn drain(sub: &mut Subscription<u32>) -> Vec<u32> {
    let mut got = Vec::new();
    while let Some(m) = sub.try_recv() {
        got.push(m);
    }
    got
}

/// Publish, but fail with a clear message if `publish` waits.
async fn publish(hub: &Broadcaster<u32>, m: u32) -> Delivery {
    match timeout(PATIENCE, hub.publish(m)).await {
        Ok(delivery) => delivery,
        Err(_) => panic!(
            "publish({m}) had not returned after {PATIENCE:?}: it waits for a slow subscriber. \
             A publisher must never wait for a subscriber: use try_send and the policy"
        ),
    }
}

/// Read to the end, but fail with a clear message if the subscription does not end.
async fn read_to_end(sub: &mut Subscription<u32>, why: &str) -> Vec<u32> {
    let mut got = Vec::new();
    loop {
        match timeout(PATIENCE, sub.recv()).await {
            Ok(Some(m)) => got.push(m),
            Ok(None) => return got,
            Err(_) => panic!(
                "subscriber {} received {got:?} and then waited for ever: {why}",
                sub.id()
            ),
        }
    }
}

fn sorted(mut ids: Vec<SubscriberId>) -> Vec<SubscriberId> {
    ids.sort();
    ids
}

#[test]
fn ex15_1_fast_subscribers_receive_everything_in_order() {
    exercise("15.1").hangs_if(PUBLISH_WAITS).run_async(|| async {
        let hub = Broadcaster::new(4, Policy::DropNewest);
        let mut a = hub.subscribe();
        let mut b = hub.subscribe();
        assert_ne!(a.id(), b.id(), "two subscribers got the same id");
        assert_eq!(hub.subscriber_count(), 2);
        let (mut got_a, mut got_b) = (Vec::new(), Vec::new());
        for m in 1..=20 {
            let delivery = publish(&hub, m).await;
            assert_eq!(
                sorted(delivery.delivered.clone()),
                sorted(vec![a.id(), b.id()]),
                "message {m} went to both subscribers (they read every message at once): {delivery:?}"
            );
            assert!(
                delivery.dropped.is_empty() && delivery.disconnected.is_empty(),
                "nobody's buffer was full at message {m}: {delivery:?}"
            );
            got_a.extend(drain(&mut a));
            got_b.extend(drain(&mut b));
        }
        let all: Vec<u32> = (1..=20).collect();
        assert_eq!(got_a, all, "a fast subscriber receives every message, in order");
        assert_eq!(got_b, all, "a fast subscriber receives every message, in order");
    });
}

#[test]
fn ex15_1_a_subscriber_sees_only_messages_published_after_it_subscribed() {
    exercise("15.1")
        .hangs_if(PUBLISH_WAITS)
        .run_async(|| async {
            let hub = Broadcaster::new(8, Policy::DropNewest);
            let mut early = hub.subscribe();
            publish(&hub, 1).await;
            publish(&hub, 2).await;
            let mut late = hub.subscribe();
            publish(&hub, 3).await;
            publish(&hub, 4).await;
            assert_eq!(drain(&mut early), vec![1, 2, 3, 4]);
            assert_eq!(
                drain(&mut late),
                vec![3, 4],
                "a subscriber that joined after messages 1 and 2 receives 3 and 4 only"
            );
            let third = hub.subscribe();
            let ids = [early.id(), late.id(), third.id()];
            assert!(
                ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2],
                "every subscriber needs an id of its own: {ids:?}"
            );
            // An id is never given twice, even after someone left: a count of the
            // subscribers now is not a fresh id.
            assert!(hub.unsubscribe(late.id()));
            let fourth = hub.subscribe();
            assert!(
                !ids.contains(&fourth.id()),
                "after {} left, a new subscriber got the id {}, which was given before ({ids:?}): \
                 number subscribers by how many ever subscribed, not by how many there are now",
                ids[1],
                fourth.id()
            );
        });
}

/// The Go original's bug: `Send` returns at the first full subscriber, so every subscriber
/// after it (in a map's random order) misses the message.
#[test]
fn ex15_1_every_subscriber_is_offered_every_message() {
    exercise("15.1").hangs_if(PUBLISH_WAITS).run_async(|| async {
        for policy in [Policy::DropNewest, Policy::Disconnect] {
            let hub = Broadcaster::new(2, policy);
            // Slow (never read) and fast subscribers, interleaved: whatever order
            // `publish` visits them in, some fast one comes after a full one.
            let mut subs: Vec<(bool, Subscription<u32>)> = (0..8)
                .map(|i| (i % 2 == 1, hub.subscribe()))
                .collect();
            let mut got: Vec<Vec<u32>> = vec![Vec::new(); subs.len()];
            for m in 1..=6 {
                let delivery = publish(&hub, m).await;
                let fast_ids: Vec<SubscriberId> =
                    subs.iter().filter(|(fast, _)| *fast).map(|(_, s)| s.id()).collect();
                for id in &fast_ids {
                    assert!(
                        delivery.delivered.contains(id),
                        "{policy:?}: message {m} was not delivered to {id}, whose buffer had room \
                         (other subscribers' buffers were full). Offer every message to every \
                         subscriber: a full buffer must not end the walk. {delivery:?}"
                    );
                }
                for ((fast, sub), got) in subs.iter_mut().zip(got.iter_mut()) {
                    if *fast {
                        got.extend(drain(sub));
                    }
                }
            }
            for ((fast, _), got) in subs.iter().zip(&got) {
                if *fast {
                    assert_eq!(got, &(1..=6).collect::<Vec<u32>>(), "{policy:?}");
                }
            }
            // The slow ones hold exactly what fitted before their buffers filled.
            for (_, sub) in subs.iter_mut().filter(|(fast, _)| !*fast) {
                assert_eq!(
                    drain(sub),
                    vec![1, 2],
                    "{policy:?}: a buffer of 2 that is never read holds messages 1 and 2"
                );
            }
        }
    });
}

#[test]
fn ex15_1_a_subscriber_that_never_reads_never_blocks_the_publisher() {
    exercise("15.1")
        .hangs_if(PUBLISH_WAITS)
        .run_async(|| async {
            for policy in [Policy::DropNewest, Policy::Disconnect] {
                let hub = Broadcaster::new(2, policy);
                let _stuck = hub.subscribe();
                let mut fast = hub.subscribe();
                let mut got = Vec::new();
                for m in 1..=100 {
                    publish(&hub, m).await;
                    got.extend(drain(&mut fast));
                }
                assert_eq!(
                    got,
                    (1..=100).collect::<Vec<u32>>(),
                    "{policy:?}: a subscriber that reads every message at once should receive \
                     all 100, though another subscriber never reads. Does publish stop at the \
                     full subscriber (the Go original's early return) instead of offering the \
                     message to every subscriber?"
                );
            }
        });
}

#[test]
fn ex15_1_drop_newest_skips_the_full_subscriber_and_keeps_it() {
    exercise("15.1")
        .hangs_if(PUBLISH_WAITS)
        .run_async(|| async {
            let hub = Broadcaster::new(3, Policy::DropNewest);
            let mut slow = hub.subscribe();
            let mut fast = hub.subscribe();
            let mut dropped_at = Vec::new();
            for m in 1..=7 {
                let delivery = publish(&hub, m).await;
                assert!(
                    delivery.disconnected.is_empty(),
                    "DropNewest disconnects nobody"
                );
                if delivery.dropped.contains(&slow.id()) {
                    dropped_at.push(m);
                }
                assert!(!delivery.dropped.contains(&fast.id()));
                drain(&mut fast);
            }
            assert_eq!(
                dropped_at,
                vec![4, 5, 6, 7],
                "a buffer of 3 that is not read takes 1, 2, 3; messages 4 to 7 are dropped for it"
            );
            assert_eq!(
                hub.subscriber_count(),
                2,
                "DropNewest keeps the slow subscriber"
            );
            assert_eq!(
                drain(&mut slow),
                vec![1, 2, 3],
                "it keeps the oldest, drops the newest"
            );
            // Now that it has read, it has room again.
            let delivery = publish(&hub, 8).await;
            assert!(
                delivery.delivered.contains(&slow.id()),
                "after the slow subscriber read its buffer, message 8 fits: {delivery:?}"
            );
            assert_eq!(drain(&mut slow), vec![8]);
        });
}

#[test]
fn ex15_1_disconnect_ends_the_full_subscriber_after_its_buffer() {
    exercise("15.1").hangs_if(PUBLISH_WAITS).run_async(|| async {
        let hub = Broadcaster::new(3, Policy::Disconnect);
        let mut slow = hub.subscribe();
        let mut fast = hub.subscribe();
        let mut cut_at = Vec::new();
        for m in 1..=7 {
            let delivery = publish(&hub, m).await;
            assert!(delivery.dropped.is_empty(), "Disconnect drops for nobody: {delivery:?}");
            if delivery.disconnected.contains(&slow.id()) {
                cut_at.push(m);
            }
            if m > 4 {
                assert!(
                    !delivery.delivered.contains(&slow.id()),
                    "message {m} was delivered to a subscriber disconnected at message 4"
                );
            }
            drain(&mut fast);
        }
        assert_eq!(
            cut_at,
            vec![4],
            "the slow subscriber is disconnected once, at the first message its full buffer cannot take"
        );
        assert_eq!(hub.subscriber_count(), 1, "a disconnected subscriber is removed");
        let got = read_to_end(
            &mut slow,
            "a disconnected subscriber reads what its buffer holds, and then its recv returns None \
             (drop its sender)",
        )
        .await;
        assert_eq!(got, vec![1, 2, 3]);
    });
}

#[test]
fn ex15_1_unsubscribe_ends_the_subscription_after_its_buffer() {
    exercise("15.1")
        .hangs_if(PUBLISH_WAITS)
        .run_async(|| async {
            let hub = Broadcaster::new(4, Policy::DropNewest);
            let mut leaving = hub.subscribe();
            let mut staying = hub.subscribe();
            publish(&hub, 1).await;
            publish(&hub, 2).await;
            assert!(
                hub.unsubscribe(leaving.id()),
                "unsubscribe of a subscriber returns true"
            );
            assert!(
                !hub.unsubscribe(leaving.id()),
                "a second unsubscribe returns false"
            );
            assert_eq!(hub.subscriber_count(), 1);
            let delivery = publish(&hub, 3).await;
            assert_eq!(delivery.delivered, vec![staying.id()], "{delivery:?}");
            let got = read_to_end(
                &mut leaving,
                "after unsubscribe, recv yields what was buffered and then None",
            )
            .await;
            assert_eq!(got, vec![1, 2]);
            assert_eq!(drain(&mut staying), vec![1, 2, 3]);
        });
}

#[test]
fn ex15_1_a_subscriber_that_leaves_mid_stream_costs_no_one_else_a_message() {
    exercise("15.1")
        .hangs_if(PUBLISH_WAITS)
        .run_async(|| async {
            let hub = Broadcaster::new(4, Policy::DropNewest);
            let mut subs: Vec<Option<Subscription<u32>>> =
                (0..6).map(|_| Some(hub.subscribe())).collect();
            let mut got: Vec<Vec<u32>> = vec![Vec::new(); subs.len()];
            for m in 1..=12 {
                // Two subscribers leave by dropping their subscription, between messages.
                if m == 4 {
                    subs[1] = None;
                }
                if m == 8 {
                    subs[3] = None;
                }
                let delivery = publish(&hub, m).await;
                assert!(
                    delivery.dropped.is_empty() && delivery.disconnected.is_empty(),
                    "message {m}: a subscriber that left by dropping its subscription is \
                     removed, and listed nowhere (not as dropped, not as disconnected): \
                     {delivery:?}"
                );
                let expected: Vec<SubscriberId> =
                    subs.iter().flatten().map(Subscription::id).collect();
                assert_eq!(
                    sorted(delivery.delivered.clone()),
                    sorted(expected),
                    "message {m}: delivered to exactly the subscribers still there"
                );
                for (sub, got) in subs.iter_mut().zip(got.iter_mut()) {
                    if let Some(sub) = sub {
                        got.extend(drain(sub));
                    }
                }
            }
            assert_eq!(
                hub.subscriber_count(),
                4,
                "two subscriptions were dropped: they are gone"
            );
            for (i, got) in got.iter().enumerate() {
                let expected: Vec<u32> = match i {
                    1 => (1..=3).collect(),
                    3 => (1..=7).collect(),
                    _ => (1..=12).collect(),
                };
                assert_eq!(
                    got, &expected,
                    "subscriber {i} (others left while messages went out)"
                );
            }
        });
}

#[test]
fn ex15_1_subscribe_and_unsubscribe_while_publishing() {
    exercise("15.1")
        .hangs_if(PUBLISH_WAITS)
        .run_async(|| async {
            let hub = Broadcaster::new(64, Policy::DropNewest);
            // `started`: the last message whose publish began; `published`: the last whose
            // publish returned. They differ only while a publish is in progress.
            let started = Cell::new(0u32);
            let published = Cell::new(0u32);
            let publisher = async {
                for m in 1..=60 {
                    started.set(m);
                    publish(&hub, m).await;
                    published.set(m);
                    tokio::task::yield_now().await;
                }
            };
            // Subscribers come and go while the publisher runs; each must receive, in order and
            // without a gap, the messages published while it was subscribed (a message being
            // published at the moment it joins or leaves may go either way).
            let churn = async {
                let mut finished = Vec::new();
                for round in 0..10u32 {
                    let first = (published.get() + 1, started.get() + 1);
                    let sub = hub.subscribe();
                    for _ in 0..(round % 3 + 2) {
                        tokio::task::yield_now().await;
                    }
                    assert!(hub.unsubscribe(sub.id()), "{} was subscribed", sub.id());
                    let last = (published.get(), started.get());
                    finished.push((first, last, sub));
                    tokio::task::yield_now().await;
                }
                finished
            };
            let ((), finished) = tokio::join!(publisher, churn);
            for ((first_lo, first_hi), (last_lo, last_hi), mut sub) in finished {
                let got = read_to_end(&mut sub, "it was unsubscribed").await;
                let fits = |from: u32, to: u32| got == (from..=to).collect::<Vec<u32>>();
                let ok =
                    (first_lo..=first_hi).any(|from| (last_lo..=last_hi).any(|to| fits(from, to)));
                assert!(
                    ok,
                    "{} was subscribed while messages {first_lo}..={last_lo} were published, and \
                 received {got:?}: it should receive each of them once, in order, and nothing \
                 from before it subscribed or after it left",
                    sub.id()
                );
            }
        });
}

// ---------------------------------------------------------------------------------------
// 15.2 The ring

fn ring_of(capacity: usize, pushed: u64) -> Ring<String> {
    let mut ring = Ring::new(capacity);
    for n in 0..pushed {
        ring.push(format!("m{n}"));
    }
    ring
}

fn value(n: u64) -> Read<String> {
    Read::Value(format!("m{n}"))
}

#[test]
fn ex15_2_a_ring_numbers_messages_and_reads_them_back() {
    exercise("15.2").run(|| {
        let ring = ring_of(4, 0);
        assert_eq!(
            (ring.oldest_seq(), ring.next_seq()),
            (0, 0),
            "an empty ring"
        );
        assert_eq!(ring.read(0), Read::Empty, "nothing at 0 in an empty ring");
        let ring = ring_of(4, 3);
        assert_eq!(ring.next_seq(), 3, "three pushes: the next gets number 3");
        assert_eq!(ring.oldest_seq(), 0, "nothing overwritten yet");
        for n in 0..3 {
            assert_eq!(ring.read(n), value(n), "read({n})");
        }
        assert_eq!(ring.read(3), Read::Empty, "read(3): not pushed yet");
    });
}

#[test]
fn ex15_2_a_full_ring_overwrites_the_oldest() {
    exercise("15.2").run(|| {
        for capacity in 1..=5usize {
            let ring = ring_of(capacity, 10);
            let cap = capacity as u64;
            assert_eq!(ring.next_seq(), 10, "capacity {capacity}: ten pushes");
            assert_eq!(
                ring.oldest_seq(),
                10 - cap,
                "capacity {capacity}, ten pushes: the last {capacity} are kept, the oldest overwritten"
            );
            for n in 10 - cap..10 {
                assert_eq!(
                    ring.read(n),
                    value(n),
                    "capacity {capacity}: message {n} is among the last {capacity}; a full ring \
                     overwrites the oldest and always takes the newest"
                );
            }
            assert_eq!(ring.read(10), Read::Empty);
        }
    });
}

#[test]
fn ex15_2_a_lagging_cursor_learns_exactly_how_many_it_missed() {
    exercise("15.2").run(|| {
        for capacity in 1..=5usize {
            for pushed in 0..=12u64 {
                let ring = ring_of(capacity, pushed);
                let oldest = pushed.saturating_sub(capacity as u64);
                for cursor in 0..oldest {
                    let read = ring.read(cursor);
                    assert_eq!(
                        read,
                        Read::Lagged {
                            missed: oldest - cursor,
                            resume_at: oldest
                        },
                        "capacity {capacity}, {pushed} pushed, cursor {cursor}: messages {cursor}..{oldest} \
                         were overwritten ({} of them), and the oldest kept is {oldest}",
                        oldest - cursor
                    );
                }
            }
        }
    });
}

#[test]
fn ex15_2_after_a_lag_reading_resumes_at_the_oldest_kept() {
    exercise("15.2").run(|| {
        let ring = ring_of(4, 10);
        let Read::Lagged { missed, resume_at } = ring.read(2) else {
            panic!("cursor 2 in a ring of 4 after 10 pushes: messages 2..6 were overwritten, so this is a lag");
        };
        assert_eq!(
            missed, 4,
            "cursor 2, ring of 4 after 10 pushes (it keeps 6 to 9): messages 2, 3, 4 and 5 were \
             lost to it"
        );
        assert_eq!(
            ring.read(resume_at),
            value(6),
            "after a lag, go on from the oldest message kept (6), not the newest: 6, 7, 8 and 9 \
             are all still there to be read"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 15.3 The lag-and-skip channel

const NOBODY_WAKES: &str = "a receiver waited and nothing woke it: `send` (and dropping the Sender) must wake the \
     receivers waiting in `recv` (`Notify::notify_waiters`), and `recv` must register for the wake-up \
     before it looks at the ring. Or recv loops without waiting: after a Lagged it must move its \
     cursor to the oldest message kept, or it reports the same lag for ever";

async fn recv(rx: &mut lagging::Receiver<u32>) -> Result<u32, RecvError> {
    match timeout(PATIENCE, rx.recv()).await {
        Ok(r) => r,
        Err(_) => {
            panic!("recv waited for ever though there was something to return: {NOBODY_WAKES}")
        }
    }
}

#[test]
fn ex15_3_a_receiver_sees_only_messages_sent_after_it_subscribed() {
    exercise("15.3").hangs_if(NOBODY_WAKES).run_async(|| async {
        let tx = lagging::Sender::new(8);
        let mut early = tx.subscribe();
        for m in 1..=3 {
            tx.send(m);
        }
        let mut late = tx.subscribe();
        tx.send(4);
        assert_eq!(
            recv(&mut late).await,
            Ok(4),
            "a receiver that subscribed after messages 1, 2 and 3 first receives 4"
        );
        for m in 1..=4 {
            assert_eq!(recv(&mut early).await, Ok(m));
        }
        drop(tx);
        assert_eq!(recv(&mut late).await, Err(RecvError::Closed));
    });
}

#[test]
fn ex15_3_a_waiting_receiver_is_woken_by_send() {
    exercise("15.3").hangs_if(NOBODY_WAKES).run_async(|| async {
        let tx = lagging::Sender::new(4);
        let mut rx = tx.subscribe();
        let got: Arc<Mutex<Vec<u32>>> = Arc::default();
        let reader = {
            let got = Arc::clone(&got);
            tokio::spawn(async move {
                while let Ok(m) = rx.recv().await {
                    got.lock().unwrap().push(m);
                }
            })
        };
        for m in 1..=30 {
            // The reader is waiting in recv when each message is sent.
            kit::settle().await;
            tx.send(m);
            kit::settle().await;
            assert_eq!(
                got.lock().unwrap().last(),
                Some(&m),
                "message {m} was sent while the receiver waited in recv, and it did not receive it: \
                 {NOBODY_WAKES}"
            );
        }
        drop(tx);
        timeout(PATIENCE, reader)
            .await
            .expect("the reader did not see the channel close")
            .expect("the reader panicked");
        assert_eq!(
            *got.lock().unwrap(),
            (1..=30).collect::<Vec<u32>>(),
            "a receiver that keeps up receives every message, in order"
        );
    });
}

#[test]
fn ex15_3_a_send_wakes_every_waiting_receiver() {
    exercise("15.3").hangs_if(NOBODY_WAKES).run_async(|| async {
        let tx = lagging::Sender::new(4);
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let mut rx = tx.subscribe();
                tokio::spawn(async move { rx.recv().await })
            })
            .collect();
        kit::settle().await; // all three wait in recv
        tx.send(7);
        for (i, waiter) in waiters.into_iter().enumerate() {
            match timeout(PATIENCE, waiter).await {
                Ok(r) => assert_eq!(r.expect("a waiter panicked"), Ok(7), "receiver {i}"),
                Err(_) => panic!(
                    "three receivers waited in recv and one message was sent; receiver {i} \
                     was never woken. Wake every waiting receiver (`Notify::notify_waiters`), \
                     not one of them (`notify_one`)"
                ),
            }
        }
        // The same when the sender drops: every waiting receiver is woken with Closed.
        let waiters: Vec<_> = (0..3)
            .map(|_| {
                let mut rx = tx.subscribe();
                tokio::spawn(async move { rx.recv().await })
            })
            .collect();
        kit::settle().await;
        drop(tx);
        for (i, waiter) in waiters.into_iter().enumerate() {
            match timeout(PATIENCE, waiter).await {
                Ok(r) => assert_eq!(
                    r.expect("a waiter panicked"),
                    Err(RecvError::Closed),
                    "receiver {i}, waiting when the Sender was dropped"
                ),
                Err(_) => panic!(
                    "three receivers waited in recv when the Sender was dropped; receiver {i} \
                     was never woken. Dropping the Sender must wake every waiting receiver \
                     (`notify_waiters`, not `notify_one`)"
                ),
            }
        }
    });
}

#[test]
fn ex15_3_a_lagging_receiver_learns_what_it_missed_and_continues_from_the_oldest_kept() {
    exercise("15.3").hangs_if(NOBODY_WAKES).run_async(|| async {
        let tx = lagging::Sender::new(4);
        let mut slow = tx.subscribe();
        let mut fast = tx.subscribe();
        for m in 1..=10 {
            tx.send(m);
            assert_eq!(recv(&mut fast).await, Ok(m), "the fast receiver is never affected");
        }
        assert_eq!(
            recv(&mut slow).await,
            Err(RecvError::Lagged(6)),
            "ten sent into a ring of 4: messages 1 to 6 were overwritten before the slow receiver read any"
        );
        for m in 7..=10 {
            assert_eq!(
                recv(&mut slow).await,
                Ok(m),
                "after Lagged, recv continues with the oldest message kept (7), then 8, 9, 10"
            );
        }
        // A second lag, in the middle of a stream: it reads 11, falls behind by 6 more.
        for m in 11..=21 {
            tx.send(m);
        }
        assert_eq!(recv(&mut slow).await, Err(RecvError::Lagged(7)), "11 to 17 overwritten");
        assert_eq!(
            recv(&mut slow).await,
            Ok(18),
            "after Lagged(7), recv continues with the oldest message kept, 18"
        );
        drop(tx);
        for m in 19..=21 {
            assert_eq!(
                recv(&mut slow).await,
                Ok(m),
                "the Sender was dropped after message 21: what is left (19, 20, 21) is still read \
                 before Closed"
            );
        }
        assert_eq!(recv(&mut slow).await, Err(RecvError::Closed));
    });
}

#[test]
fn ex15_3_the_lag_count_is_exact() {
    exercise("15.3").hangs_if(NOBODY_WAKES).run_async(|| async {
        for capacity in 1..=5usize {
            for read_first in 0..=3u32 {
                for more in 0..=9u32 {
                    let tx = lagging::Sender::new(capacity);
                    let mut rx = tx.subscribe();
                    for m in 1..=read_first {
                        tx.send(m);
                        assert_eq!(recv(&mut rx).await, Ok(m));
                    }
                    for m in read_first + 1..=read_first + more {
                        tx.send(m);
                    }
                    drop(tx);
                    let mut got = Vec::new();
                    let mut missed = 0;
                    loop {
                        match recv(&mut rx).await {
                            Ok(m) => got.push(m),
                            Err(RecvError::Lagged(n)) => missed += n,
                            Err(RecvError::Closed) => break,
                        }
                    }
                    let kept = more.min(capacity as u32);
                    let expected: Vec<u32> = (read_first + more - kept + 1..=read_first + more).collect();
                    assert_eq!(
                        (missed, &got),
                        (u64::from(more - kept), &expected),
                        "capacity {capacity}: read {read_first}, then {more} more were sent before it read again: \
                         it should miss {} and receive {expected:?}",
                        more - kept
                    );
                }
            }
        }
    });
}

#[test]
fn ex15_3_the_sender_never_waits_for_a_slow_receiver() {
    exercise("15.3")
        .hangs_if("`send` waited for a receiver that never reads: a full ring overwrites its oldest message instead")
        .run_async(|| async {
            let tx = lagging::Sender::new(2);
            let mut never_reads = tx.subscribe();
            for m in 1..=10_000 {
                tx.send(m);
            }
            assert_eq!(
                recv(&mut never_reads).await,
                Err(RecvError::Lagged(9_998)),
                "10,000 sent into a ring of 2 while the receiver read nothing: it missed 9,998"
            );
            assert_eq!(
                recv(&mut never_reads).await,
                Ok(9_999),
                "after the lag, the oldest message kept: 9,999"
            );
        });
}

#[test]
fn ex15_3_closing_ends_every_receiver_after_what_is_left() {
    exercise("15.3").hangs_if(NOBODY_WAKES).run_async(|| async {
        let tx = lagging::Sender::new(4);
        let mut waiting = tx.subscribe();
        let mut behind = tx.subscribe();
        tx.send(1);
        assert_eq!(recv(&mut waiting).await, Ok(1));
        let waiter = tokio::spawn(async move { waiting.recv().await });
        kit::settle().await;
        tx.send(2);
        drop(tx);
        match timeout(PATIENCE, waiter).await {
            Ok(r) => assert_eq!(r.expect("the waiter panicked"), Ok(2)),
            Err(_) => panic!("a waiting receiver never got message 2: {NOBODY_WAKES}"),
        }
        assert_eq!(
            recv(&mut behind).await,
            Ok(1),
            "what was sent before the close is still read"
        );
        assert_eq!(recv(&mut behind).await, Ok(2));
        assert_eq!(
            recv(&mut behind).await,
            Err(RecvError::Closed),
            "after the sender is dropped and everything is read: Closed"
        );
        // A receiver already waiting when the sender drops is woken with Closed.
        let tx = lagging::Sender::<u32>::new(4);
        let mut rx = tx.subscribe();
        let waiter = tokio::spawn(async move { rx.recv().await });
        kit::settle().await;
        drop(tx);
        match timeout(PATIENCE, waiter).await {
            Ok(r) => assert_eq!(r.expect("the waiter panicked"), Err(RecvError::Closed)),
            Err(_) => panic!(
                "a receiver waiting when the Sender was dropped never returned: dropping the \
                 Sender must mark the channel closed (a flag recv looks at once the ring has \
                 nothing more for it) and wake the waiting receivers"
            ),
        }
    });
}

kit::program_tests!("--messages", "0");
