//! Exercise 00.3: fan out over a channel; close it by dropping the senders.
//!
//! A fixed number of workers take jobs from one channel and send results on another.
//! Go closes a channel with `close(ch)`. Rust has no `close` on the sending side: a
//! receiver sees the end of the channel when the **last** `Sender` is dropped.

//@ solution
use std::thread;

use crossbeam_channel::bounded;

/// Run `work` on every job using exactly `workers` threads; return `(index, result)`
/// pairs sorted by index.
//@ skeleton
// /// Run `work` on every job using exactly `workers` threads, and return
// /// `(job index, result)` pairs sorted by job index.
// ///
// /// - Put the jobs, with their index, on a bounded `crossbeam_channel` channel.
// /// - Start `workers` threads (scoped threads are fine). Each takes jobs from the channel
// ///   until it is empty and closed, and sends `(index, work(job))` on a results channel.
// /// - Collect results until the results channel ends. It ends only when every `Sender`
// ///   of it has been dropped — including the one you created it with.
// ///
// /// Panics if `workers` is 0.
//@ end
pub fn fan_out<J, R, F>(jobs: Vec<J>, workers: usize, work: F) -> Vec<(usize, R)>
where
    J: Send,
    R: Send,
    F: Fn(J) -> R + Sync,
{
    //@ solution
    assert!(workers > 0, "fan_out needs at least one worker");

    // Bounded: if the workers fall behind, the feeder waits instead of queueing every
    // job in memory. `workers` slots keep each worker one job ahead.
    let (job_tx, job_rx) = bounded::<(usize, J)>(workers);
    let (result_tx, result_rx) = bounded::<(usize, R)>(workers);

    thread::scope(|scope| {
        let work = &work;
        for _ in 0..workers {
            // crossbeam receivers are cloneable (multi-consumer); each worker gets one.
            let job_rx = job_rx.clone();
            let result_tx = result_tx.clone();
            scope.spawn(move || {
                // `recv` fails once the channel is empty *and* every job sender is gone.
                for (index, job) in job_rx {
                    if result_tx.send((index, work(job))).is_err() {
                        break; // the collector is gone; nobody wants the result
                    }
                }
                // `result_tx` is dropped here: one fewer sender on the results channel.
            });
        }
        // The workers hold their own clones. Drop ours, or the results channel can never
        // end: the collector below would wait forever for a sender that is us.
        drop(result_tx);
        drop(job_rx);

        // Feed the jobs from a thread of its own: with bounded channels, feeding and
        // collecting on one thread could deadlock (feeder blocked on a full job channel,
        // workers blocked on a full results channel nobody reads).
        scope.spawn(move || {
            for job in jobs.into_iter().enumerate() {
                if job_tx.send(job).is_err() {
                    break;
                }
            }
            // `job_tx` dropped: the Go `close(jobs)`. Workers drain what is left and stop.
        });

        let mut results: Vec<(usize, R)> = result_rx.iter().collect();
        results.sort_by_key(|(index, _)| *index);
        results
    })
    //@ skeleton
    // let _ = (jobs, workers, work);
    // todo!("exercise 00.3: fan_out")
    //@ end
}
