//! Exercise 00.3: fan out over a channel; close it by dropping the senders.
//!
//! A fixed number of workers take jobs from one channel and send results on another.
//! Go closes a channel with `close(ch)`. Rust has no `close` on the sending side: a
//! receiver sees the end of the channel when the **last** `Sender` is dropped.

/// Run `work` on every job using exactly `workers` threads, and return
/// `(job index, result)` pairs sorted by job index.
///
/// - Put the jobs, with their index, on a bounded `crossbeam_channel` channel.
/// - Start `workers` threads (scoped threads are fine). Each takes jobs from the channel
///   until it is empty and closed, and sends `(index, work(job))` on a results channel.
/// - Collect results until the results channel ends. It ends only when every `Sender`
///   of it has been dropped — including the one you created it with.
///
/// Panics if `workers` is 0.
pub fn fan_out<J, R, F>(jobs: Vec<J>, workers: usize, work: F) -> Vec<(usize, R)>
where
    J: Send,
    R: Send,
    F: Fn(J) -> R + Sync,
{
    let _ = (jobs, workers, work);
    todo!("exercise 00.3: fan_out")
}
