//! Lesson 03: a circuit breaker, with gobreaker's semantics.
//!
//! The types every part shares are defined here; the exercise files add the behaviour.
//! You edit the exercise files only; this file swaps in the reference solution when the
//! crate is built with `--features solution`.

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/03-circuit-breaker/counts.rs"
)]
pub mod counts;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/03-circuit-breaker/machine.rs"
)]
pub mod machine;

#[cfg_attr(
    feature = "solution",
    path = "../../../solutions/03-circuit-breaker/breaker.rs"
)]
pub mod breaker;

use std::fmt;
use std::time::Duration;

/// The breaker's three states.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Calls pass; failures are counted.
    Closed,
    /// A few trial calls pass, to see whether the dependency has recovered.
    HalfOpen,
    /// Calls are rejected without reaching the dependency.
    Open,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Closed => "closed",
            State::HalfOpen => "half-open",
            State::Open => "open",
        })
    }
}

/// What the breaker has seen in the current generation. Methods: `counts.rs`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Calls let through.
    pub requests: u32,
    pub total_successes: u32,
    pub total_failures: u32,
    /// Successes since the last failure.
    pub consecutive_successes: u32,
    /// Failures since the last success.
    pub consecutive_failures: u32,
}

/// Why a call was not let through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejected {
    /// The breaker is open.
    Open,
    /// The breaker is half-open and already has `max_requests` calls in flight or done.
    TooManyRequests,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rejected::Open => "the circuit breaker is open",
            Rejected::TooManyRequests => {
                "the circuit breaker is half-open and has too many requests"
            }
        })
    }
}

impl std::error::Error for Rejected {}

/// A call through the breaker failed: the breaker said no, or the call itself failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BreakerError<E> {
    /// The breaker did not let the call through; the dependency was not called.
    Rejected(Rejected),
    /// The call was made and returned this error.
    Inner(E),
}

/// Decides when a closed breaker opens.
pub type ReadyToTrip = Box<dyn Fn(&Counts) -> bool + Send + Sync>;
/// Called on every change of state: `(name, from, to)`.
pub type OnStateChange = Box<dyn Fn(&str, State, State) + Send + Sync>;

/// How a breaker behaves. `Settings::new(name)` gives gobreaker's defaults.
pub struct Settings {
    /// Passed to `on_state_change`.
    pub name: String,
    /// Calls let through while half-open, and the successes in a row that close it again.
    /// 0 means 1.
    pub max_requests: u32,
    /// How often a closed breaker clears its counts. `Duration::ZERO`: never.
    pub interval: Duration,
    /// How long the breaker stays open before it tries half-open. `Duration::ZERO`: 60 s.
    pub timeout: Duration,
    /// Asked after every failure while closed; `true` opens the breaker.
    pub ready_to_trip: ReadyToTrip,
    /// Called on every change of state.
    pub on_state_change: OnStateChange,
}

impl Settings {
    /// gobreaker's defaults: one trial request, counts never cleared while closed, a 60 s
    /// timeout, and tripping after more than 5 consecutive failures.
    pub fn new(name: &str) -> Settings {
        Settings {
            name: name.to_string(),
            max_requests: 1,
            interval: Duration::ZERO,
            timeout: Duration::from_secs(60),
            ready_to_trip: Box::new(|counts| counts.consecutive_failures > 5),
            on_state_change: Box::new(|_, _, _| {}),
        }
    }

    /// Set `max_requests`.
    pub fn max_requests(mut self, n: u32) -> Settings {
        self.max_requests = n;
        self
    }

    /// Set `interval`.
    pub fn interval(mut self, interval: Duration) -> Settings {
        self.interval = interval;
        self
    }

    /// Set `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Settings {
        self.timeout = timeout;
        self
    }

    /// Set `ready_to_trip`.
    pub fn ready_to_trip(
        mut self,
        f: impl Fn(&Counts) -> bool + Send + Sync + 'static,
    ) -> Settings {
        self.ready_to_trip = Box::new(f);
        self
    }

    /// Set `on_state_change`.
    pub fn on_state_change(
        mut self,
        f: impl Fn(&str, State, State) + Send + Sync + 'static,
    ) -> Settings {
        self.on_state_change = Box::new(f);
        self
    }
}
