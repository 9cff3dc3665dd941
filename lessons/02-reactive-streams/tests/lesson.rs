//! Lesson 02's tests, in the order of the chapter's exercises.
//!
//! Every test runs on a paused clock (`kit`): a stream that returns `Pending` without
//! arranging a wake-up leaves every task waiting, and the test fails at once with a
//! timeout message instead of hanging.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::stream::{self, BoxStream};
use futures::{Stream, StreamExt};
use kit::settle;
use lesson_02::Reactive;
use lesson_02::chunks::Chunks;
use lesson_02::filter::Filter;
use lesson_02::map::Map;
use lesson_02::publisher::publish;
use lesson_02::throttle::Throttle;
use tokio::time::{Instant, sleep, sleep_until};

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ---------------------------------------------------------------------------------------
// Streams the tests use.

/// Passes `inner` on, but answers every other poll with `Pending` — after waking the task,
/// as a well-behaved stream must. An operator that mistakes `Pending` for the end, or
/// loses items across it, fails against this.
struct Stutter<S> {
    inner: S,
    pause: bool,
}

fn stutter<S>(inner: S) -> Stutter<S> {
    Stutter { inner, pause: true }
}

impl<S: Stream + Unpin> Stream for Stutter<S> {
    type Item = S::Item;
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<S::Item>> {
        let this = self.get_mut();
        this.pause = !this.pause;
        if !this.pause {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        Pin::new(&mut this.inner).poll_next(cx)
    }
}

/// Yields `items`, then `None` once — and panics if it is polled after that.
struct EndsOnce {
    items: std::vec::IntoIter<u32>,
    ended: bool,
}

impl Stream for EndsOnce {
    type Item = u32;
    fn poll_next(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<u32>> {
        let this = self.get_mut();
        assert!(
            !this.ended,
            "this stream was polled again after it returned None"
        );
        let next = this.items.next();
        this.ended = next.is_none();
        Poll::Ready(next)
    }
}

/// A stream that yields each `(ms, item)` at that virtual time after its creation.
fn timed(script: &[(u64, u32)]) -> BoxStream<'static, u32> {
    let start = Instant::now();
    let script: Vec<(u64, u32)> = script.to_vec();
    stream::iter(script)
        .then(move |(at, item)| async move {
            sleep_until(start + ms(at)).await;
            item
        })
        .boxed()
}

/// Every item with the virtual time (ms since `start`) it came out at.
async fn with_times<S: Stream + Unpin>(mut s: S, start: Instant) -> Vec<(u64, S::Item)> {
    let mut out = Vec::new();
    while let Some(item) = s.next().await {
        out.push((start.elapsed().as_millis() as u64, item));
    }
    out
}

// ---------------------------------------------------------------------------------------
// 02.1 Map

#[test]
fn ex02_1_map_applies_f_to_every_item() {
    exercise("02.1").run_async(|| async {
        let got: Vec<u32> = Map::new(stream::iter(1..=5u32), |x| x * 10).collect().await;
        assert_eq!(got, vec![10, 20, 30, 40, 50]);
        let words: Vec<usize> = stream::iter(["a", "bb", "ccc"])
            .mapped(str::len)
            .collect()
            .await;
        assert_eq!(words, vec![1, 2, 3]);
    });
}

#[test]
fn ex02_1_map_passes_pending_on() {
    exercise("02.1").run_async(|| async {
        let got: Vec<u32> = Map::new(stutter(stream::iter(1..=4u32)), |x| x * 2)
            .collect()
            .await;
        assert_eq!(
            got,
            vec![2, 4, 6, 8],
            "the inner stream answered `Pending` between items: that is \"not yet\", not the end"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 02.2 Filter

const FILTER_STALLS: &str = "Filter returned `Pending` after rejecting an item, but nothing will wake \
     the task (the inner stream had returned `Ready`): poll the inner stream again instead, in a loop";

#[test]
fn ex02_2_filter_keeps_what_passes() {
    exercise("02.2")
        .hangs_if(FILTER_STALLS)
        .run_async(|| async {
            let got: Vec<u32> = Filter::new(stream::iter(1..=10), |x: &u32| x.is_multiple_of(2))
                .collect()
                .await;
            assert_eq!(got, vec![2, 4, 6, 8, 10]);
        });
}

#[test]
fn ex02_2_a_long_run_of_rejected_items_does_not_stall() {
    exercise("02.2")
        .hangs_if(FILTER_STALLS)
        .run_async(|| async {
            let got: Vec<u32> = stream::iter(1..=1000)
                .filtered(|x| *x > 995)
                .collect()
                .await;
            assert_eq!(got, vec![996, 997, 998, 999, 1000]);
        });
}

#[test]
fn ex02_2_filter_passes_pending_on() {
    exercise("02.2")
        .hangs_if(FILTER_STALLS)
        .run_async(|| async {
            let got: Vec<u32> = Filter::new(stutter(stream::iter(1..=6)), |x: &u32| *x != 3)
                .collect()
                .await;
            assert_eq!(got, vec![1, 2, 4, 5, 6]);
        });
}

// ---------------------------------------------------------------------------------------
// 02.3 Chunks

#[test]
fn ex02_3_items_come_in_chunks_and_the_last_may_be_short() {
    exercise("02.3").run_async(|| async {
        let got: Vec<Vec<u32>> = Chunks::new(stream::iter(1..=7), 3).collect().await;
        assert_eq!(got, vec![vec![1, 2, 3], vec![4, 5, 6], vec![7]]);
        let even: Vec<Vec<u32>> = stream::iter(1..=6).chunked(3).collect().await;
        assert_eq!(
            even,
            vec![vec![1, 2, 3], vec![4, 5, 6]],
            "no empty chunk at the end"
        );
        let none: Vec<Vec<u32>> = stream::iter(Vec::<u32>::new()).chunked(3).collect().await;
        assert!(none.is_empty(), "an empty stream has no chunks");
    });
}

#[test]
fn ex02_3_the_inner_stream_is_never_polled_after_its_end() {
    exercise("02.3").run_async(|| async {
        let inner = EndsOnce {
            items: vec![1, 2, 3].into_iter(),
            ended: false,
        };
        let mut chunks = Chunks::new(inner, 2);
        assert_eq!(chunks.next().await, Some(vec![1, 2]));
        assert_eq!(chunks.next().await, Some(vec![3]));
        assert_eq!(chunks.next().await, None);
        assert_eq!(
            chunks.next().await,
            None,
            "after the end, Chunks keeps answering None without polling the inner stream"
        );
    });
}

#[test]
fn ex02_3_a_chunk_waits_until_it_is_full() {
    exercise("02.3").run_async(|| async {
        let start = Instant::now();
        let stuttered: Vec<Vec<u32>> = stutter(stream::iter(1..=5)).chunked(2).collect().await;
        assert_eq!(
            stuttered,
            vec![vec![1, 2], vec![3, 4], vec![5]],
            "`Pending` is not the end of a chunk"
        );
        let got = with_times(
            timed(&[(0, 1), (10, 2), (20, 3), (30, 4)]).chunked(3),
            start,
        )
        .await;
        assert_eq!(
            got,
            vec![(20, vec![1, 2, 3]), (30, vec![4])],
            "the first chunk is full at t=20ms; the stream ends at t=30ms with a short chunk"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 02.4 Throttle (virtual time)

const THROTTLE_STALLS: &str = "Throttle returned `Pending` while an item waited, but nothing will wake \
     the task: poll a `tokio::time::Sleep` (it registers the waker with tokio's timer) rather than \
     comparing `Instant::now()` with a deadline";

#[test]
fn ex02_4_a_burst_is_spread_out() {
    exercise("02.4").hangs_if(THROTTLE_STALLS).run_async(|| async {
        let start = Instant::now();
        let got = with_times(Throttle::new(stream::iter(1..=5), ms(100)), start).await;
        assert_eq!(
            got.len(),
            5,
            "every item comes out, later if need be: a throttle delays items, it never drops them"
        );
        assert_eq!(
            got,
            vec![(0, 1), (100, 2), (200, 3), (300, 4), (400, 5)],
            "five items ready at once, at most one per 100ms: the first at once, then one every 100ms"
        );
    });
}

#[test]
fn ex02_4_items_slower_than_the_period_are_not_delayed() {
    exercise("02.4")
        .hangs_if(THROTTLE_STALLS)
        .run_async(|| async {
            let start = Instant::now();
            let source = timed(&[(0, 1), (250, 2), (260, 3), (600, 4)]);
            let got = with_times(source.throttled(ms(100)), start).await;
            assert_eq!(
                got,
                vec![(0, 1), (250, 2), (350, 3), (600, 4)],
                "an item waits only until `period` has passed since the previous one went out"
            );
        });
}

// ---------------------------------------------------------------------------------------
// 02.5 the publisher (virtual time)

const PRODUCER_NEVER_WAITS: &str = "the producer never waits: is the channel bounded \
     (`mpsc::channel(buffer)`), and does the producer stop when `reserve` (or `send`) fails \
     because the subscriber is gone, and after it has sent an error?";

/// A source that counts the items it made, forever.
fn counting_source(
    made: &Arc<AtomicU64>,
) -> impl FnMut() -> Option<Result<u64, String>> + Send + 'static {
    let made = Arc::clone(made);
    move || Some(Ok(made.fetch_add(1, Ordering::SeqCst) + 1))
}

#[test]
fn ex02_5_items_arrive_in_order_then_the_end() {
    exercise("02.5")
        .hangs_if(PRODUCER_NEVER_WAITS)
        .run_async(|| async {
            let mut next = 0;
            let source = move || {
                next += 1;
                (next <= 5).then_some(Ok::<u32, String>(next))
            };
            let got: Vec<Result<u32, String>> = publish(2, source).collect().await;
            assert_eq!(got, (1..=5).map(Ok).collect::<Vec<_>>());
        });
}

#[test]
fn ex02_5_an_error_ends_the_stream() {
    exercise("02.5")
        .hangs_if(PRODUCER_NEVER_WAITS)
        .run_async(|| async {
            let calls = Arc::new(AtomicU64::new(0));
            let counter = Arc::clone(&calls);
            let source = move || {
                let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
                Some(if n == 3 {
                    Err("sensor offline".to_string())
                } else {
                    Ok(n)
                })
            };
            // `take` bounds the test if the stream does not end after the error.
            let got: Vec<Result<u64, String>> = publish(8, source).take(10).collect().await;
            assert_eq!(
                got,
                vec![Ok(1), Ok(2), Err("sensor offline".to_string())],
                "the error reaches the subscriber, and the stream ends after it: the producer \
                 sends the error, then stops"
            );
            settle().await;
            assert_eq!(
                calls.load(Ordering::SeqCst),
                3,
                "after an error the producer stops: the source should not be asked for more"
            );
        });
}

#[test]
fn ex02_5_a_slow_subscriber_holds_the_producer_back() {
    exercise("02.5").hangs_if(PRODUCER_NEVER_WAITS).run_async(|| async {
        // A buffer of 1 is where an extra item in the producer's hands shows most: it
        // doubles what is outstanding.
        for buffer in [1u64, 2, 3, 4, 7] {
            let made = Arc::new(AtomicU64::new(0));
            let mut items = publish(buffer as usize, counting_source(&made));
            let mut ahead_each_time = Vec::new();
            for consumed in 1..=20u64 {
                let item = items.next().await.expect("an endless source");
                assert_eq!(item, Ok(consumed), "items in order (buffer of {buffer})");
                // A slow subscriber: 10ms per item. Meanwhile the producer runs ahead —
                // by how much?
                sleep(ms(10)).await;
                ahead_each_time.push(made.load(Ordering::SeqCst) - consumed);
            }
            let most_ahead = ahead_each_time.iter().copied().max().unwrap_or(0);
            assert!(
                most_ahead <= buffer,
                "with a buffer of {buffer}, {most_ahead} items were made that the subscriber had \
                 not taken: the channel's capacity must be `buffer`, and the producer must wait \
                 for room (`reserve().await`) before it asks the source for an item — an item \
                 made first and then held in `send(item).await` is one too many"
            );
            assert!(
                ahead_each_time.iter().all(|&ahead| ahead == buffer),
                "with a buffer of {buffer}, the items made but not yet taken, after each item the \
                 slow subscriber took, were {ahead_each_time:?}: the producer should keep the \
                 buffer full, exactly {buffer} ahead, while the subscriber is slow"
            );
        }
    });
}

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);
impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn ex02_5_dropping_the_subscription_stops_the_producer() {
    exercise("02.5")
        .hangs_if(PRODUCER_NEVER_WAITS)
        .run_async(|| async {
            let made = Arc::new(AtomicU64::new(0));
            let dropped = Arc::new(AtomicBool::new(false));
            let flag = DropFlag(Arc::clone(&dropped));
            let mut count = counting_source(&made);
            let source = move || {
                let _owned_by_the_source = &flag;
                count()
            };
            let mut items = publish(2, source);
            for _ in 0..3 {
                let item = items.next().await.expect("an endless source");
                assert!(item.is_ok());
            }
            drop(items);
            settle().await;
            assert!(
                dropped.load(Ordering::SeqCst),
                "the subscriber is gone but the producer still holds its source: stop when \
             `reserve` fails, and the task (and the source with it) is dropped"
            );
            let made = made.load(Ordering::SeqCst);
            assert!(
                made <= 5,
                "{made} items made for a subscriber that took 3 with a buffer of 2: is the channel's \
             capacity `buffer`, and does the producer wait for room before asking the source?"
            );
        });
}

// ---------------------------------------------------------------------------------------
// The lesson program

kit::program_tests!("--buffer", "0");
