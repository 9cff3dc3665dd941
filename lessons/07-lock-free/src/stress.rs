//! Not an exercise: many threads on one structure at once, and an account of what came
//! out. The program prints these accounts and the tests check them.
//!
//! Every item is a number that says who made it and when: producer `p`'s `k`-th item is
//! `p * items + k`. So after the run, the items each consumer got say everything: which
//! items came out twice, which never did, and whether one producer's items came out of
//! a FIFO queue in the order they went in.

use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, ScopedJoinHandle};

/// Wait for a thread, and if it panicked, go on with its panic: the test then reports
/// what the thread hit (an unfinished exercise, an assertion), not "a thread panicked".
fn join<T>(handle: ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// What a run of producers and consumers did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Account {
    /// Items pushed, all producers together.
    pub pushed: usize,
    /// Items popped, summed over the consumers.
    pub popped: usize,
    /// Pops of an item that had already been popped.
    pub duplicates: usize,
    /// Items pushed and never popped (nor left in the structure).
    pub lost: usize,
    /// Items a consumer got before an item the same producer had pushed earlier. For a
    /// FIFO queue this must be 0; for a stack it is usually not.
    pub out_of_order: usize,
    /// Items that were never pushed: a pop that made up a value.
    pub invented: usize,
    /// Pops that said "empty" although items were certainly in the structure (only
    /// [`pairs`] can tell).
    pub false_empties: usize,
}

/// `producers` threads each push `items` numbers while `consumers` threads pop until the
/// producers are done and the structure is empty. All start together at a barrier.
/// `pop` returning `None` after the producers finished ends a consumer. Finally the
/// structure is drained on this thread, so items left in it are not counted lost.
pub fn run<Push, Pop>(
    producers: usize,
    consumers: usize,
    items: usize,
    push: Push,
    pop: Pop,
) -> Account
where
    Push: Fn(u64) + Sync,
    Pop: Fn() -> Option<u64> + Sync,
{
    let barrier = Barrier::new(producers + consumers);
    let finished = AtomicBool::new(false);
    let got: Vec<Vec<u64>> = thread::scope(|s| {
        let (push, pop, barrier, finished) = (&push, &pop, &barrier, &finished);
        let producing: Vec<_> = (0..producers)
            .map(|p| {
                s.spawn(move || {
                    barrier.wait();
                    for k in 0..items {
                        push((p * items + k) as u64);
                    }
                })
            })
            .collect();
        let consuming: Vec<_> = (0..consumers)
            .map(|_| {
                s.spawn(move || {
                    barrier.wait();
                    let mut got = Vec::new();
                    loop {
                        // Read the flag before popping: `None` after the producers were
                        // done means the structure really was empty.
                        let done = finished.load(Ordering::Acquire);
                        match pop() {
                            Some(item) => got.push(item),
                            None if done => return got,
                            None => thread::yield_now(),
                        }
                    }
                })
            })
            .collect();
        for producer in producing {
            join(producer);
        }
        finished.store(true, Ordering::Release);
        consuming.into_iter().map(join).collect()
    });
    let mut rest = Vec::new();
    while let Some(item) = pop() {
        rest.push(item);
        if rest.len() > producers * items {
            break; // a pop that never runs dry: counted as invented below
        }
    }
    account(producers, items, &got, &rest)
}

/// The account of a run: each consumer's items in the order it popped them, and what was
/// left in the structure.
pub fn account(producers: usize, items: usize, got: &[Vec<u64>], rest: &[u64]) -> Account {
    let total = producers * items;
    let mut seen = vec![0u32; total];
    let mut account = Account {
        pushed: total,
        popped: got.iter().map(Vec::len).sum(),
        ..Account::default()
    };
    for consumer in got {
        // The last item this consumer got from each producer.
        let mut last: Vec<Option<usize>> = vec![None; producers];
        for &item in consumer {
            let Some(count) = usize::try_from(item).ok().and_then(|i| seen.get_mut(i)) else {
                account.invented += 1;
                continue;
            };
            *count += 1;
            let (p, k) = (item as usize / items, item as usize % items);
            if last[p].is_some_and(|before| before > k) {
                account.out_of_order += 1;
            }
            last[p] = Some(k);
        }
    }
    for &item in rest {
        match usize::try_from(item).ok().and_then(|i| seen.get_mut(i)) {
            Some(count) => *count += 1,
            None => account.invented += 1,
        }
    }
    for &count in &seen {
        match count {
            0 => account.lost += 1,
            n => account.duplicates += n as usize - 1,
        }
    }
    account
}

/// `threads` threads each push an item and then pop one, `items` times, all on one
/// structure. A thread's pop always follows its own push, so at every moment at least as
/// many items have been pushed as pops have begun: no pop may find the structure empty.
/// Then threads push and pop their own *and each other's* nodes, and a node one thread
/// frees is the memory the allocator hands to its next push — which is what exposes a
/// node freed too early.
pub fn pairs<Push, Pop>(threads: usize, items: usize, push: Push, pop: Pop) -> Account
where
    Push: Fn(u64) + Sync,
    Pop: Fn() -> Option<u64> + Sync,
{
    let barrier = Barrier::new(threads);
    let results: Vec<(Vec<u64>, usize)> = thread::scope(|s| {
        let (push, pop, barrier) = (&push, &pop, &barrier);
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                s.spawn(move || {
                    barrier.wait();
                    let mut got = Vec::with_capacity(items);
                    let mut empties = 0;
                    for k in 0..items {
                        push((t * items + k) as u64);
                        match pop() {
                            Some(item) => got.push(item),
                            None => empties += 1,
                        }
                    }
                    (got, empties)
                })
            })
            .collect();
        handles.into_iter().map(join).collect()
    });
    let mut rest = Vec::new();
    while let Some(item) = pop() {
        rest.push(item);
        if rest.len() > threads * items {
            break;
        }
    }
    let got: Vec<Vec<u64>> = results.iter().map(|(got, _)| got.clone()).collect();
    let mut account = account(threads, items, &got, &rest);
    account.false_empties = results.iter().map(|(_, e)| e).sum();
    account
}

/// `threads` threads each increment `counter` `items` times while one more thread keeps
/// taking the count. Returns (increments made, increments counted by the takes and
/// what was left).
pub fn counter_run(
    counter: &crate::atomics::Counter,
    threads: usize,
    items: usize,
) -> (usize, usize) {
    let barrier = Barrier::new(threads + 1);
    let finished = AtomicBool::new(false);
    let taken = thread::scope(|s| {
        let (barrier, finished) = (&barrier, &finished);
        let taker = s.spawn(move || {
            barrier.wait();
            let mut taken = 0;
            // No pause between takes: the more often a take runs while others count,
            // the surer a take in two steps loses an increment.
            while !finished.load(Ordering::Acquire) {
                taken += counter.take();
            }
            taken
        });
        let counting: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    barrier.wait();
                    for _ in 0..items {
                        counter.increment();
                    }
                })
            })
            .collect();
        for t in counting {
            join(t);
        }
        finished.store(true, Ordering::Release);
        join(taker)
    });
    (threads * items, taken + counter.get())
}

/// Wait, spinning, until `n` threads have arrived: unlike a `Barrier`, whose waiters are
/// woken one after another, spinning threads leave within nanoseconds of each other, so
/// a race between their first steps really happens.
fn spin_start(arrived: &AtomicUsize, n: usize) {
    arrived.fetch_add(1, Ordering::AcqRel);
    let mut spins = 0u32;
    while arrived.load(Ordering::Acquire) < n {
        std::hint::spin_loop();
        spins += 1;
        if spins.is_multiple_of(64) {
            thread::yield_now(); // more threads than cores: let the others arrive
        }
    }
}

/// What `slot_run` saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SlotAccount {
    /// Rounds in which exactly one publisher was told `Ok`.
    pub one_winner: usize,
    /// Rounds with another number of winners.
    pub wrong_winners: usize,
    /// Reads that returned something other than the winner's whole value: half of it,
    /// another publisher's, or memory nobody wrote.
    pub torn: usize,
}

/// How many words a published value has: large enough that writing it takes a while, so
/// that a reader let in too early catches the write half done.
const SLOT_WORDS: usize = 32;

/// `rounds` rounds in which `threads` threads race to publish a value into a new slot,
/// then read it back. Thread `t`'s value in round `r` is the number `r * threads + t + 1`
/// repeated: never 0 (the memory of a new slot may be zeros) and never an earlier round's
/// (a new slot may lie where the last one did). Every thread, winner or not, must read the
/// winner's value whole.
pub fn slot_run(threads: usize, rounds: usize) -> SlotAccount {
    let mut account = SlotAccount::default();
    for round in 0..rounds {
        let slot = crate::atomics::Slot::<[u64; SLOT_WORDS]>::new();
        let arrived = AtomicUsize::new(0);
        let value = |t: usize| (round * threads + t + 1) as u64;
        let outcomes: Vec<(bool, [u64; SLOT_WORDS])> = thread::scope(|s| {
            let (slot, arrived) = (&slot, &arrived);
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    s.spawn(move || {
                        spin_start(arrived, threads);
                        let won = slot.publish([value(t); SLOT_WORDS]).is_ok();
                        // Read until a value is there (it is at once for the winner).
                        loop {
                            if let Some(read) = slot.get() {
                                return (won, *read);
                            }
                            thread::yield_now();
                        }
                    })
                })
                .collect();
            handles.into_iter().map(join).collect()
        });
        let winners: Vec<usize> = (0..threads).filter(|&t| outcomes[t].0).collect();
        if winners.len() == 1 {
            account.one_winner += 1;
            let expected = [value(winners[0]); SLOT_WORDS];
            account.torn += outcomes
                .iter()
                .filter(|(_, read)| *read != expected)
                .count();
        } else {
            account.wrong_winners += 1;
        }
    }
    account
}

/// What `free_list_run` saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FreeListAccount {
    /// Slots taken, all threads together.
    pub takes: usize,
    /// Takes of a slot another thread held at that moment.
    pub double_handouts: usize,
    /// Slots not in the list at the end (it should hold every slot again).
    pub missing_at_end: usize,
}

/// `threads` threads each take a slot from `list` (which holds `slots` slots), hold it
/// briefly, and give it back, `rounds` times.
pub fn free_list_run(slots: u32, threads: usize, rounds: usize) -> FreeListAccount {
    let list = crate::aba::FreeList::new(slots);
    let held: Vec<AtomicBool> = (0..slots).map(|_| AtomicBool::new(false)).collect();
    let barrier = Barrier::new(threads);
    let doubles: usize = thread::scope(|s| {
        let (list, held, barrier) = (&list, &held, &barrier);
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(move || {
                    barrier.wait();
                    let mut doubles = 0;
                    for _ in 0..rounds {
                        let slot = loop {
                            match list.pop() {
                                Some(slot) => break slot,
                                None => thread::yield_now(),
                            }
                        };
                        let Some(flag) = held.get(slot as usize) else {
                            panic!("pop returned slot {slot}, but the list has slots 0..{slots}");
                        };
                        if flag.swap(true, Ordering::AcqRel) {
                            doubles += 1;
                        }
                        std::hint::spin_loop();
                        flag.store(false, Ordering::Release);
                        list.push(slot);
                    }
                    doubles
                })
            })
            .collect();
        handles.into_iter().map(join).sum()
    });
    let mut left = vec![false; slots as usize];
    while let Some(slot) = list.pop() {
        match left.get_mut(slot as usize) {
            Some(seen) if !*seen => *seen = true,
            _ => break, // a slot twice in the list: the list is corrupt, stop reading it
        }
    }
    FreeListAccount {
        takes: threads * rounds,
        double_handouts: doubles,
        missing_at_end: left.iter().filter(|seen| !**seen).count(),
    }
}
