//! Measure concurrency instead of assuming it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// A barrier that gives up.
///
/// Arrivals are grouped in rounds of `n`: the `n`-th arrival of a round releases the
/// round, and every member's [`Gate::arrive`] returns `true`. If a round is not full
/// within `patience`, the gate breaks: every waiter, and every later arrival, gets
/// `false`. A test then knows that `n` things were *not* running at once, and says so,
/// instead of hanging like `std::sync::Barrier` would.
#[derive(Debug)]
pub struct Gate {
    n: usize,
    patience: Duration,
    state: Mutex<GateState>,
    opened: Condvar,
}

#[derive(Debug, Default)]
struct GateState {
    waiting: usize,
    round: u64,
    broken: bool,
    max_waiting: usize,
}

impl Gate {
    /// A gate for rounds of `n` arrivals, each given `patience` to fill.
    pub fn new(n: usize, patience: Duration) -> Gate {
        assert!(n > 0, "a gate needs at least one party");
        Gate {
            n,
            patience,
            state: Mutex::new(GateState::default()),
            opened: Condvar::new(),
        }
    }

    /// Wait for this round to fill. `false` if the gate broke.
    pub fn arrive(&self) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.broken {
            return false;
        }
        state.waiting += 1;
        state.max_waiting = state.max_waiting.max(state.waiting);
        if state.waiting == self.n {
            state.waiting = 0;
            state.round += 1;
            self.opened.notify_all();
            return true;
        }
        let round = state.round;
        let (mut state, timeout) = self
            .opened
            .wait_timeout_while(state, self.patience, |s| s.round == round && !s.broken)
            .unwrap_or_else(|e| e.into_inner());
        if state.round != round {
            return true;
        }
        if timeout.timed_out() {
            state.broken = true;
            self.opened.notify_all();
        }
        false
    }

    /// Whether a round ever failed to fill.
    pub fn is_broken(&self) -> bool {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).broken
    }

    /// The most arrivals that were ever waiting together (at most `n - 1` once released).
    pub fn max_waiting(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .max_waiting
    }
}

/// A gauge of how many things are in some state now, and the most there ever were.
#[derive(Debug, Default)]
pub struct HighWater {
    now: AtomicUsize,
    max: AtomicUsize,
}

impl HighWater {
    /// A gauge at zero.
    pub fn new() -> HighWater {
        HighWater::default()
    }

    /// Count one more until the guard is dropped.
    pub fn enter(&self) -> HighWaterGuard<'_> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.max.fetch_max(now, Ordering::SeqCst);
        HighWaterGuard { gauge: self }
    }

    /// How many are in now.
    pub fn now(&self) -> usize {
        self.now.load(Ordering::SeqCst)
    }

    /// The most that were ever in at once.
    pub fn max(&self) -> usize {
        self.max.load(Ordering::SeqCst)
    }
}

/// Leaves the [`HighWater`] gauge when dropped.
#[derive(Debug)]
pub struct HighWaterGuard<'a> {
    gauge: &'a HighWater,
}

impl Drop for HighWaterGuard<'_> {
    fn drop(&mut self) {
        self.gauge.now.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::thread;

    #[test]
    fn a_full_round_opens_and_a_short_one_breaks() {
        let gate = Arc::new(Gate::new(2, Duration::from_secs(5)));
        let other = {
            let gate = gate.clone();
            thread::spawn(move || gate.arrive())
        };
        assert!(gate.arrive());
        assert!(other.join().unwrap());

        let lonely = Gate::new(2, Duration::from_millis(20));
        assert!(!lonely.arrive());
        assert!(lonely.is_broken());
    }

    #[test]
    fn high_water_remembers_the_peak() {
        let gauge = HighWater::new();
        {
            let _a = gauge.enter();
            let _b = gauge.enter();
            assert_eq!(gauge.now(), 2);
        }
        let _c = gauge.enter();
        assert_eq!((gauge.now(), gauge.max()), (1, 2));
    }
}
