//! Exercises 05.3, 05.4 and 05.5: three ways to count requests in a window of time.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::{NotUntil, RateLimiter};

/// Exercise 05.3. At most `limit` requests per window; windows are consecutive
/// `window`-long slices of time starting at `origin` (the limiter's creation), and each
/// starts with a fresh count.
pub struct FixedWindow {
    limit: u32,
    window: Duration,
    origin: Instant,
    /// (index of the current window, requests allowed in it)
    state: Mutex<(u64, u32)>,
}

impl FixedWindow {
    /// Windows start at `origin`.
    pub fn new(limit: u32, window: Duration, origin: Instant) -> FixedWindow {
        assert!(
            limit > 0 && !window.is_zero(),
            "a window needs a limit and a length"
        );
        FixedWindow {
            limit,
            window,
            origin,
            state: Mutex::new((0, 0)),
        }
    }
}

impl RateLimiter for FixedWindow {
    /// The window of `now` is `(now - origin) / window` (whole windows). A new window
    /// starts at a count of 0. Allow while the count is below `limit`; refuse until the
    /// next window starts.
    fn check_at(&self, now: Instant) -> Result<Instant, NotUntil> {
        //@ solution
        let index = window_index(now, self.origin, self.window);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.0 != index {
            *state = (index, 0);
        }
        if state.1 >= self.limit {
            // Nothing helps until the next window: that is why a fixed window lets up to
            // twice the limit through around a boundary (the end of one, the start of
            // the next), and why it is cheap.
            return Err(NotUntil(window_start(self.origin, self.window, index + 1)));
        }
        state.1 += 1;
        Ok(now)
        //@ skeleton
        // let _ = (now, self.limit, self.window, self.origin, &self.state);
        // todo!("exercise 05.3: FixedWindow::check_at")
        //@ end
    }
}

/// Exercise 05.4. At most `limit` requests in any `window`: the log of allowed requests
/// is kept, and a request counts as long as it is less than `window` old.
pub struct SlidingLog {
    limit: u32,
    window: Duration,
    log: Mutex<VecDeque<Instant>>,
}

impl SlidingLog {
    /// An empty log.
    pub fn new(limit: u32, window: Duration) -> SlidingLog {
        assert!(
            limit > 0 && !window.is_zero(),
            "a window needs a limit and a length"
        );
        SlidingLog {
            limit,
            window,
            log: Mutex::new(VecDeque::new()),
        }
    }
}

impl RateLimiter for SlidingLog {
    /// Forget the entries `t` with `t + window <= now` (they are `window` old or more).
    /// Allow if fewer than `limit` remain (and log `now`); otherwise refuse until the
    /// oldest entry is `window` old.
    fn check_at(&self, now: Instant) -> Result<Instant, NotUntil> {
        //@ solution
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        // `t + window <= now`, not `t <= now - window`: subtracting from an `Instant` can
        // underflow near the start of the clock, adding cannot.
        while log.front().is_some_and(|&t| t + self.window <= now) {
            log.pop_front();
        }
        if log.len() >= self.limit as usize {
            let oldest = *log.front().expect("a full log has entries");
            return Err(NotUntil(oldest + self.window));
        }
        // Exact, and it costs one entry per allowed request in the window: the memory
        // the counter below trades for an estimate.
        log.push_back(now);
        Ok(now)
        //@ skeleton
        // let _ = (now, self.limit, self.window, &self.log);
        // todo!("exercise 05.4: SlidingLog::check_at")
        //@ end
    }
}

/// Exercise 05.5. The sliding-window *counter*: two counts — the previous fixed window's
/// and the current one's — blended into an estimate of the last `window`.
pub struct SlidingWindowCounter {
    limit: u32,
    window: Duration,
    origin: Instant,
    /// (index of the current window, count in the previous window, count in this one)
    state: Mutex<(u64, u32, u32)>,
}

impl SlidingWindowCounter {
    /// Windows start at `origin`.
    pub fn new(limit: u32, window: Duration, origin: Instant) -> SlidingWindowCounter {
        assert!(
            limit > 0 && !window.is_zero(),
            "a window needs a limit and a length"
        );
        SlidingWindowCounter {
            limit,
            window,
            origin,
            state: Mutex::new((0, 0, 0)),
        }
    }
}

impl RateLimiter for SlidingWindowCounter {
    /// Move to the window of `now`: one window on, the current count becomes the
    /// previous one; two or more on, both are 0. With `elapsed` the time since the current
    /// window started, the estimate of the last `window` is
    /// `previous × (window − elapsed) / window + current`. Allow if the estimate plus this
    /// request stays within `limit` — compute it in whole nanoseconds (`u128`), not in
    /// floating point:
    /// `previous × (window − elapsed) + (current + 1) × window <= limit × window`.
    /// When refusing, name when to retry. Within this window the previous window's
    /// weight fades, and one more request fits once
    /// `elapsed >= window − (limit − current − 1) × window / previous` (the division
    /// rounded down, in whole nanoseconds). If `previous > 0` and that comes before the
    /// next window, name the window's start plus that: the exact instant. Otherwise name
    /// the start of the next window, where the counts shift (and a retry may still be
    /// refused there: a lower bound, not a promise).
    fn check_at(&self, now: Instant) -> Result<Instant, NotUntil> {
        //@ solution
        let index = window_index(now, self.origin, self.window);
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (current_index, previous, current) = *state;
        *state = match index - current_index {
            0 => (index, previous, current),
            1 => (index, current, 0),
            _ => (index, 0, 0),
        };
        let (_, previous, current) = *state;
        let window = self.window.as_nanos();
        let elapsed = now
            .duration_since(window_start(self.origin, self.window, index))
            .as_nanos();
        // The estimate, multiplied through by `window` so it stays in integers: no
        // rounding, and the same answer on every machine.
        let weighted = u128::from(previous) * (window - elapsed) + u128::from(current + 1) * window;
        if weighted > u128::from(self.limit) * window {
            return Err(NotUntil(
                window_start(self.origin, self.window, index + 1).min(
                    retry_within_window(now, previous, current, self.limit, window, elapsed)
                        .unwrap_or(window_start(self.origin, self.window, index + 1)),
                ),
            ));
        }
        state.2 += 1;
        Ok(now)
        //@ skeleton
        // let _ = (now, self.limit, self.window, self.origin, &self.state);
        // todo!("exercise 05.5: SlidingWindowCounter::check_at")
        //@ end
    }
}
//@ solution

/// Which `window`-long slice after `origin` holds `now`.
fn window_index(now: Instant, origin: Instant, window: Duration) -> u64 {
    (now.duration_since(origin).as_nanos() / window.as_nanos()) as u64
}

/// When window `index` starts.
fn window_start(origin: Instant, window: Duration, index: u64) -> Instant {
    origin + Duration::from_nanos((window.as_nanos() * u128::from(index)) as u64)
}

/// Within the current window, the first instant at which the previous window's weight has
/// faded enough for one more request; `None` if it cannot within this window.
fn retry_within_window(
    now: Instant,
    previous: u32,
    current: u32,
    limit: u32,
    window: u128,
    elapsed: u128,
) -> Option<Instant> {
    // previous × (window − e) + (current + 1) × window <= limit × window
    let room = u128::from(limit).checked_sub(u128::from(current + 1))? * window;
    if previous == 0 {
        return None;
    }
    // window − e <= room / previous  ⇒  e >= window − room / previous
    let needed = window.saturating_sub(room / u128::from(previous));
    (needed > elapsed && needed < window)
        .then(|| now + Duration::from_nanos((needed - elapsed) as u64))
}
//@ end
