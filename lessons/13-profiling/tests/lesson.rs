//! Lesson 13's tests, in the order of the chapter's exercises. They check only what is the
//! same on every run — where the counters sit in memory, which shard each worker takes,
//! how many buffers the pool keeps — never how fast anything is: speed is for the
//! benchmarks (`cargo workbook bench 13`), on a quiet machine. The pool's allocation count
//! is checked by dhat's heap profiler, in a process of its own (see `Counted` below).

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeSet;
use std::process::Command;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::thread;

use lesson_13::padding::HotPair;
use lesson_13::pool::BufferPool;
use lesson_13::sharded::ShardedCounter;

fn exercise(id: &str) -> kit::Exercise {
    kit::lesson!().exercise(id)
}

/// The cache line crossbeam's `CachePadded` assumes on this target (128 on x86_64).
fn line() -> usize {
    std::mem::align_of::<crossbeam_utils::CachePadded<u8>>()
}

fn addr(counter: &AtomicU64) -> usize {
    counter as *const AtomicU64 as usize
}

// ---------------------------------------------------------------------------------------
// 13.1 false sharing

#[test]
fn ex13_1_counters_sit_on_different_cache_lines() {
    exercise("13.1").run(|| {
        let line = line();
        // Many pairs, side by side in one Vec: two bare AtomicU64s sometimes straddle a
        // line boundary by luck, never in every one of them.
        // Then many pairs each in an allocation of its own: a type padded with bytes but
        // not aligned starts wherever the allocator puts it, 16-byte aligned, which is the
        // start of a line only now and then.
        let pairs: Vec<HotPair> = (0..32).map(|_| HotPair::new()).collect();
        let boxed: Vec<Box<HotPair>> = (0..32).map(|_| Box::new(HotPair::new())).collect();
        for (i, pair) in pairs.iter().chain(boxed.iter().map(|b| &**b)).enumerate() {
            let (r, e) = (addr(pair.requests()), addr(pair.errors()));
            assert!(
                r != e,
                "pair {i}: `requests()` and `errors()` return the same counter (both at \
                 {r:#x}): each must return its own"
            );
            assert!(
                r / line != e / line,
                "pair {i}: `requests` (at {r:#x}) and `errors` (at {e:#x}) are on the same \
                 {line}-byte cache line, so the two threads that bump them fight over that \
                 line (false sharing). Wrap each counter in crossbeam_utils::CachePadded. \
                 (Why {line} when the line is 64 bytes: x86_64 cores fetch lines in \
                 pairs, so two counters 64 bytes apart still contend; CachePadded uses 128.)"
            );
            for (name, a) in [("requests", r), ("errors", e)] {
                assert!(
                    a.is_multiple_of(line),
                    "pair {i}: `{name}` is at {a:#x}, not at the start of a {line}-byte line, \
                     so whatever sits before it in memory (the previous pair's counter) \
                     shares its line. Padding bytes alone do not align: wrap each counter in \
                     CachePadded, which aligns it to the line and pads it to a whole one."
                );
            }
        }
    });
}

#[test]
fn ex13_1_counters_count() {
    exercise("13.1").run(|| {
        let pair = HotPair::new();
        thread::scope(|s| {
            s.spawn(|| (0..10_000).for_each(|_| pair.add_request()));
            s.spawn(|| (0..7_000).for_each(|_| pair.add_error()));
        });
        assert_eq!(
            (pair.requests().load(Relaxed), pair.errors().load(Relaxed)),
            (10_000, 7_000),
            "(requests, errors) after 10,000 add_request and 7,000 add_error from two threads: \
             does `requests()` return the request counter and `errors()` the error counter, \
             both starting at 0?"
        );
    });
}

// ---------------------------------------------------------------------------------------
// 13.2 sharded counter

#[test]
fn ex13_2_workers_get_distinct_shards() {
    exercise("13.2").run(|| {
        for shards in [1, 2, 4, 7] {
            let counter = ShardedCounter::new(shards);
            assert_eq!(
                counter.shards(),
                shards,
                "ShardedCounter::new({shards}).shards() must be {shards}: exactly the shards \
                 asked for (no rounding up to a power of two)"
            );
            let chosen: Vec<usize> = (0..shards).map(|w| counter.shard_of(w)).collect();
            for (w, &s) in chosen.iter().enumerate() {
                assert!(
                    s < shards,
                    "with {shards} shards, shard_of({w}) is {s}: there is no such shard"
                );
            }
            let distinct: BTreeSet<usize> = chosen.iter().copied().collect();
            assert_eq!(
                distinct.len(),
                shards,
                "with {shards} shards, shard_of gives workers 0..{shards} the shards \
                 {chosen:?}: two workers share a shard, so they contend on it as if it were \
                 one counter. Give each of them its own."
            );
            // A pool may have more workers than the counter has shards.
            for w in shards..4 * shards + 3 {
                let s = counter.shard_of(w);
                assert!(
                    s < shards,
                    "with {shards} shards, shard_of({w}) is {s}: worker {w} (more workers than \
                     shards happen) must get one of the shards 0..{shards}, which it shares \
                     with a worker below {shards}"
                );
            }
        }
    });
}

#[test]
fn ex13_2_each_worker_adds_to_its_own_shard() {
    exercise("13.2").run(|| {
        let workers = 4;
        let counter = ShardedCounter::new(workers);
        thread::scope(|s| {
            for w in 0..workers {
                let counter = &counter;
                s.spawn(move || (0..1_000 * (w as u64 + 1)).for_each(|_| counter.add(w, 1)));
            }
        });
        for w in 0..workers {
            let shard = counter.shard_of(w);
            let hits = counter.shard(shard).load(Relaxed);
            assert_eq!(
                hits,
                1_000 * (w as u64 + 1),
                "worker {w} added 1 {} times, but shard {shard}, which shard_of({w}) names, \
                 holds {hits}: add must add to shard(shard_of(worker)), and only there (and \
                 shard_of must give each of these workers its own shard)",
                1_000 * (w + 1)
            );
        }
    });
}

#[test]
fn ex13_2_sum_counts_every_shard() {
    exercise("13.2").run(|| {
        // 9 workers on 6 shards, worker w adding w + 1 each time: every shard holds a
        // different amount, and three shards are shared.
        let (workers, shards) = (9, 6);
        let counter = ShardedCounter::new(shards);
        thread::scope(|s| {
            for w in 0..workers {
                let counter = &counter;
                s.spawn(move || (0..1_000).for_each(|_| counter.add(w, w as u64 + 1)));
            }
        });
        let per_shard: Vec<u64> = (0..shards)
            .map(|i| counter.shard(i).load(Relaxed))
            .collect();
        let expected: u64 = (1..=workers as u64).map(|n| 1_000 * n).sum();
        assert_eq!(
            per_shard.iter().sum::<u64>(),
            expected,
            "9 workers on 6 shards, worker w adding w + 1, 1,000 times each: the shards hold \
             {per_shard:?}, which is not every addition once. Does add() use shard_of(worker) \
             for workers beyond the number of shards too?"
        );
        assert_eq!(
            counter.sum(),
            expected,
            "the shards hold {per_shard:?} (worker w added w + 1, 1,000 times): sum() must add \
             up every shard"
        );
    });
}

#[test]
fn ex13_2_shards_sit_on_different_cache_lines() {
    exercise("13.2").run(|| {
        let line = line();
        let counter = ShardedCounter::new(8);
        let lines: Vec<usize> = (0..8).map(|i| addr(counter.shard(i)) / line).collect();
        let distinct: BTreeSet<usize> = lines.iter().copied().collect();
        assert_eq!(
            distinct.len(),
            8,
            "the 8 shards sit on {} distinct {line}-byte lines: neighbouring shards share a \
             line, so their workers fight over it (false sharing) and sharding buys little. \
             Store each shard in a CachePadded.",
            distinct.len()
        );
        // Counters of several sizes, alive together, so that their shards sit in
        // allocations that start at many different addresses.
        let counters: Vec<ShardedCounter> = (1..=16).map(ShardedCounter::new).collect();
        for c in std::iter::once(&counter).chain(&counters) {
            for i in 0..c.shards() {
                let a = addr(c.shard(i));
                assert!(
                    a.is_multiple_of(line),
                    "shard {i} of a {}-shard counter is at {a:#x}, not at the start of a \
                     {line}-byte line, so whatever sits before it in memory shares its line. \
                     Padding bytes alone do not align: store each shard in a CachePadded.",
                    c.shards()
                );
            }
        }
    });
}

// ---------------------------------------------------------------------------------------
// 13.3 buffer pool

const LOCK_TWICE: &str = "a Mutex locked again by the thread that holds it (std's Mutex is \
                          not reentrant: calling self.idle() inside put() while the guard is \
                          alive waits forever), or a blocking recv() on an empty channel";

/// The allocator of this test binary: the system's, until the allocation-count test (in a
/// child process of its own) switches to dhat's. dhat's profiler is one per process and
/// counts every thread's allocations, so the count runs alone in a child: the other tests
/// of this binary, running at the same time, would add theirs. Both allocators end in the
/// system's, so a block allocated before the switch is freed correctly after it.
struct Counted;

static DHAT_ON: AtomicBool = AtomicBool::new(false);

unsafe impl GlobalAlloc for Counted {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe {
            if DHAT_ON.load(Relaxed) {
                dhat::Alloc.alloc(layout)
            } else {
                System.alloc(layout)
            }
        }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe {
            if DHAT_ON.load(Relaxed) {
                dhat::Alloc.dealloc(ptr, layout)
            } else {
                System.dealloc(ptr, layout)
            }
        }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        unsafe {
            if DHAT_ON.load(Relaxed) {
                dhat::Alloc.realloc(ptr, layout, new_size)
            } else {
                System.realloc(ptr, layout, new_size)
            }
        }
    }
}

#[global_allocator]
static ALLOC: Counted = Counted;

const CHILD: &str = "LESSON_13_DHAT_CHILD";
const REQUESTS: u64 = 1_000;

/// In the child: 1,000 requests under dhat; prints `allocations: N`.
fn count_allocations() {
    DHAT_ON.store(true, Relaxed);
    let _profiler = dhat::Profiler::builder().testing().build();
    let pool = BufferPool::new(8, 4096);
    let before = dhat::HeapStats::get();
    for i in 0..REQUESTS {
        let mut buffer = pool.get();
        // Byte by byte, as a parser would: a buffer without room grows by doubling.
        for j in 0..3000u64 {
            buffer.push((i ^ j) as u8);
        }
        std::hint::black_box(&buffer);
        pool.put(buffer);
    }
    let after = dhat::HeapStats::get();
    println!("allocations: {}", after.total_blocks - before.total_blocks);
}

#[test]
fn ex13_3_pooled_requests_allocate_a_handful_of_times() {
    if std::env::var_os(CHILD).is_some() {
        count_allocations();
        return;
    }
    exercise("13.3").hangs_if(LOCK_TWICE).run(|| {
        // Here first, so that an unfinished exercise or a panic shows in this process.
        let pool = BufferPool::new(8, 4096);
        pool.put(pool.get());
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "ex13_3_pooled_requests_allocate_a_handful_of_times",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD, "1")
            .output()
            .expect("running the allocation count in a child process");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let Some(allocations) = stdout
            .lines()
            .find_map(|l| l.split("allocations: ").nth(1))
            .and_then(|n| n.trim().parse::<u64>().ok())
        else {
            panic!(
                "the allocation count (1,000 requests under dhat, in a child process) did not \
                 finish:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        assert!(
            allocations <= 8,
            "{REQUESTS} requests one after another (get, write 3,000 bytes, put) made \
             {allocations} heap allocations (dhat's count); a pool that works makes a handful: \
             the first buffer, perhaps the idle list. {}",
            if allocations >= REQUESTS {
                "One (or more) per request: does put() keep the buffer, and get() hand it \
                 out again?"
            } else {
                "Does put() clear the buffer (a buffer that keeps its bytes grows past \
                 4 × capacity and is dropped), and does get() make a new buffer with room for \
                 `capacity` bytes, so that a request that writes 3,000 of 4,096 bytes never \
                 has to grow it?"
            }
        );
    });
}

#[test]
fn ex13_3_pool_hands_out_empty_buffers() {
    exercise("13.3").hangs_if(LOCK_TWICE).run(|| {
        let pool = BufferPool::new(4, 64);
        let mut buffer = pool.get();
        assert!(
            buffer.is_empty(),
            "a new pool's get() returned {} bytes",
            buffer.len()
        );
        assert!(
            buffer.capacity() >= 64,
            "BufferPool::new(4, 64).get() has room for {} bytes, not 64",
            buffer.capacity()
        );
        buffer.extend_from_slice(b"secret of the last request");
        pool.put(buffer);
        let again = pool.get();
        assert!(
            again.is_empty(),
            "get() after put() returned {:?}: the last request's bytes. Empty the buffer \
             (Vec::clear keeps its memory) before the next request gets it — the Go \
             snippet's missing buf.Reset()",
            String::from_utf8_lossy(&again)
        );
    });
}

#[test]
fn ex13_3_pool_keeps_at_most_max_idle() {
    exercise("13.3").hangs_if(LOCK_TWICE).run(|| {
        let pool = BufferPool::new(3, 64);
        let held: Vec<Vec<u8>> = (0..10).map(|_| pool.get()).collect();
        for buffer in held {
            pool.put(buffer);
        }
        assert_eq!(
            pool.idle(),
            3,
            "10 buffers given back to BufferPool::new(3, 64): it must keep 3 and drop the \
             rest, or after a burst it holds the burst's memory forever"
        );
        let _ = pool.get();
        assert_eq!(pool.idle(), 2, "idle() after one more get()");
    });
}

#[test]
fn ex13_3_pool_drops_oversized_buffers() {
    exercise("13.3").hangs_if(LOCK_TWICE).run(|| {
        let pool = BufferPool::new(4, 64);
        let mut big = pool.get();
        big.resize(64 * 64, 0);
        // Counted from here: a pool may start with idle buffers of its own.
        let idle = pool.idle();
        pool.put(big);
        assert_eq!(
            pool.idle(),
            idle,
            "a buffer that grew to 4096 bytes (the pool's buffers are 64) was kept (idle went \
             from {idle} to {}): one huge request would pin that memory for as long as the \
             pool lives. Drop buffers whose capacity is above 4 × capacity.",
            pool.idle()
        );
        // Go's habit: buf.Reset() before Put. Emptied, it is still 4 KiB of memory.
        let mut big = Vec::with_capacity(64 * 64);
        big.extend_from_slice(&[1; 100]);
        big.clear();
        pool.put(big);
        assert_eq!(
            pool.idle(),
            idle,
            "an empty buffer with room for 4096 bytes was kept: it is empty, but its memory \
             is what a pool pins. Decide by capacity(), not len()."
        );
        if idle < 4 {
            pool.put(Vec::with_capacity(64));
            assert_eq!(
                pool.idle(),
                idle + 1,
                "a 64-byte buffer given back to a pool with {idle} of 4 idle must be kept"
            );
        }
    });
}

#[test]
fn ex13_3_pool_is_shared_by_threads() {
    exercise("13.3").hangs_if(LOCK_TWICE).run(|| {
        let pool = BufferPool::new(4, 256);
        thread::scope(|s| {
            for t in 0..4u8 {
                let pool = &pool;
                s.spawn(move || {
                    for _ in 0..2_000 {
                        let mut buffer = pool.get();
                        assert!(buffer.is_empty(), "get() returned a buffer holding bytes");
                        buffer.extend_from_slice(&[t; 100]);
                        pool.put(buffer);
                    }
                });
            }
        });
        assert!(
            (1..=4).contains(&pool.idle()),
            "after 4 threads each took and gave back one buffer at a time, {} are idle (1 to \
             4 expected)",
            pool.idle()
        );
    });
}

kit::program_tests!("--workers", "0");
