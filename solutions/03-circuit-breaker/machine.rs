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
        //@ solution
        self.generation += 1;
        self.counts.clear();
        self.expiry = match self.state {
            State::Closed => {
                (!self.settings.interval.is_zero()).then(|| now + self.settings.interval)
            }
            State::Open => Some(now + self.settings.timeout),
            // Half-open ends by a result (enough successes, or one failure), not by time.
            State::HalfOpen => None,
        };
        //@ skeleton
        // let _ = now;
        // todo!("exercise 03.2: Machine::to_new_generation")
        //@ end
    }

    /// Move to `state` at `now`. Moving to the state the machine is already in does
    /// nothing. Otherwise: start a new generation, then call `on_state_change(name, from,
    /// to)` — exactly once per change.
    pub fn set_state(&mut self, state: State, now: Instant) {
        //@ solution
        if self.state == state {
            return;
        }
        let from = self.state;
        self.state = state;
        // The new generation takes its expiry from the *new* state, so it comes after the
        // assignment above.
        self.to_new_generation(now);
        // Called while the caller (03.4) holds the breaker's lock: it must be quick, and
        // must not call back into the breaker. gobreaker has the same rule.
        (self.settings.on_state_change)(&self.settings.name, from, state);
        //@ skeleton
        // let _ = (state, now);
        // todo!("exercise 03.2: Machine::set_state")
        //@ end
    }

    /// Bring the machine up to date at `now`, and return its state and generation.
    //@ solution
    //@ skeleton
    // ///
    // /// - Closed, and the expiry is *before* `now`: a new generation (the counts are
    // ///   cleared; the state stays closed, so no state change is reported).
    // /// - Open, and the expiry is *before* `now`: move to half-open.
    // ///
    // /// "Before" is strict: at exactly the expiry, nothing changes yet.
    //@ end
    pub fn current_state(&mut self, now: Instant) -> (State, u64) {
        //@ solution
        // Time moves the machine only here, lazily: there is no timer task. A breaker
        // nobody calls stays "open" in memory long after its timeout, and that is fine —
        // the first caller to look sees it half-open.
        let expired = self.expiry.is_some_and(|expiry| expiry < now); // strict, as gobreaker's `Before`
        match self.state {
            State::Closed if expired => self.to_new_generation(now),
            State::Open if expired => self.set_state(State::HalfOpen, now),
            _ => {}
        }
        (self.state, self.generation)
        //@ skeleton
        // let _ = (now, self.state, self.expiry);
        // todo!("exercise 03.2: Machine::current_state")
        //@ end
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
        //@ solution
        let (state, generation) = self.current_state(now);
        match state {
            State::Open => return Err(Rejected::Open),
            // Counted at the start, not at the end: trial calls still in flight count, so
            // a burst of callers cannot all slip through while the first is running.
            State::HalfOpen if self.counts.requests >= self.settings.max_requests => {
                return Err(Rejected::TooManyRequests);
            }
            _ => {}
        }
        self.counts.on_request();
        Ok(generation)
        //@ skeleton
        // let _ = now;
        // todo!("exercise 03.3: Machine::before_request")
        //@ end
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
        //@ solution
        let (state, current) = self.current_state(now);
        // A result from an older generation is about a world that has moved on: counts
        // that were cleared, or a state the breaker has left. Counting it would, say, let
        // a slow failure from before a recovery reopen the breaker.
        if generation != current {
            return;
        }
        match (state, success) {
            (State::Closed, true) => self.counts.on_success(),
            (State::Closed, false) => {
                self.counts.on_failure();
                if (self.settings.ready_to_trip)(&self.counts) {
                    self.set_state(State::Open, now);
                }
            }
            (State::HalfOpen, true) => {
                self.counts.on_success();
                if self.counts.consecutive_successes >= self.settings.max_requests {
                    self.set_state(State::Closed, now);
                }
            }
            // One failed trial is enough: the dependency has not recovered.
            (State::HalfOpen, false) => self.set_state(State::Open, now),
            // Unreachable in practice (no call starts while open, and a generation that
            // started half-open or closed is over once open), but harmless.
            (State::Open, _) => {}
        }
        //@ skeleton
        // let _ = (generation, success, now);
        // todo!("exercise 03.3: Machine::after_request")
        //@ end
    }
}
