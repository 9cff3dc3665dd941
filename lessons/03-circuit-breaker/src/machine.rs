//! Exercises 03.2 and 03.3: the breaker's state machine.
//!
//! The machine never reads a clock: every method that depends on time takes `now`. The
//! async breaker (03.4) passes `tokio::time::Instant::now()`; the tests pass whatever
//! instant they like, so every transition can be tested to the millisecond.

use tokio::time::Instant;

use crate::{Counts, Rejected, Settings, State};

/// The state machine of one circuit breaker.
pub struct Machine {
    settings: Settings,
    state: State,
    /// Goes up by one at every new generation: every change of state, and every clearing
    /// of the counts while closed. A call's result counts only in the generation it
    /// started in.
    generation: u64,
    counts: Counts,
    /// When the current generation ends: the next clearing while closed, the end of the
    /// timeout while open. `None`: never (half-open, or closed with no interval).
    expiry: Option<Instant>,
}

impl Machine {
    /// A closed breaker, its first generation starting at `now`.
    ///
    /// gobreaker's normalisation: `max_requests` 0 means 1; a `timeout` of zero means 60 s.
    pub fn new(mut settings: Settings, now: Instant) -> Machine {
        if settings.max_requests == 0 {
            settings.max_requests = 1;
        }
        if settings.timeout.is_zero() {
            settings.timeout = std::time::Duration::from_secs(60);
        }
        let expiry = (!settings.interval.is_zero()).then(|| now + settings.interval);
        Machine {
            settings,
            state: State::Closed,
            generation: 0,
            counts: Counts::default(),
            expiry,
        }
    }

    /// The state at `now` (which may move the machine on: an open breaker whose timeout
    /// has passed is half-open).
    pub fn state(&mut self, now: Instant) -> State {
        self.current_state(now).0
    }

    /// The counts of the current generation.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The current generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The counts, for tests and tools that need to arrange a situation.
    pub fn counts_mut(&mut self) -> &mut Counts {
        &mut self.counts
    }

    /// The settings, after normalisation.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    // --- exercise 03.2 -----------------------------------------------------------------

    /// Start a new generation at `now`: the generation goes up by one, the counts are
    /// cleared, and the expiry is set for the current state — closed: `now + interval`
    /// (none if the interval is zero); open: `now + timeout`; half-open: none.
    pub fn to_new_generation(&mut self, now: Instant) {
        let _ = now;
        todo!("exercise 03.2: Machine::to_new_generation")
    }

    /// Move to `state` at `now`. Moving to the state the machine is already in does
    /// nothing. Otherwise: start a new generation, then call `on_state_change(name, from,
    /// to)` — exactly once per change.
    pub fn set_state(&mut self, state: State, now: Instant) {
        let _ = (state, now);
        todo!("exercise 03.2: Machine::set_state")
    }

    /// Bring the machine up to date at `now`, and return its state and generation.
    ///
    /// - Closed, and the expiry is *before* `now`: a new generation (the counts are
    ///   cleared; the state stays closed, so no state change is reported).
    /// - Open, and the expiry is *before* `now`: move to half-open.
    ///
    /// "Before" is strict: at exactly the expiry, nothing changes yet.
    pub fn current_state(&mut self, now: Instant) -> (State, u64) {
        let _ = (now, self.state, self.expiry);
        todo!("exercise 03.2: Machine::current_state")
    }

    // --- exercise 03.3 -----------------------------------------------------------------

    /// May a call start at `now`? If so, count the request and return the generation it
    /// belongs to.
    ///
    /// - Open: `Err(Rejected::Open)`.
    /// - Half-open with `max_requests` requests already let through in this generation:
    ///   `Err(Rejected::TooManyRequests)`.
    /// - Otherwise count the request (`on_request`) and return `Ok(generation)`.
    ///
    /// A rejected call changes no count.
    pub fn before_request(&mut self, now: Instant) -> Result<u64, Rejected> {
        let _ = now;
        todo!("exercise 03.3: Machine::before_request")
    }

    /// A call that started in `generation` has finished at `now`, successfully or not.
    ///
    /// If the machine is in another generation by now, the result is about a world that
    /// has moved on: ignore it. Otherwise:
    /// - closed: count it; after a failure, ask `ready_to_trip(&counts)` — true opens
    ///   the breaker;
    /// - half-open: a failure opens the breaker; a success is counted, and
    ///   `max_requests` consecutive successes close it.
    pub fn after_request(&mut self, generation: u64, success: bool, now: Instant) {
        let _ = (generation, success, now);
        todo!("exercise 03.3: Machine::after_request")
    }
}
