//! Exercise 05.7: waiting for a permit, and a limiter per key.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::{NotUntil, RateLimiter};

/// Wait until `limiter` allows a request, then return.
///
/// Ask with `check_at(Instant::now())`. Refused with `NotUntil(t)`: sleep until `t`
/// (`tokio::time::sleep_until`) and ask again. Allowed with `Ok(at)`: sleep until `at`
/// (the leaky bucket's turn), then return.
///
/// Cancellable: dropping the future while it sleeps after a refusal must cost nothing —
/// nothing was counted. Never spin: always sleep until the instant the limiter named.
pub async fn acquire(limiter: &(impl RateLimiter + ?Sized)) {
    let _ = limiter;
    todo!("exercise 05.7: acquire")
}

/// One limiter per key (a user, an IP address), made on first use. A key unused for
/// `idle` is forgotten, so the map cannot grow without bound.
pub struct Keyed<K, L> {
    idle: Duration,
    make: Box<dyn Fn(Instant) -> L + Send + Sync>,
    /// Each key's limiter and when it was last used.
    limiters: Mutex<HashMap<K, (L, Instant)>>,
}

impl<K: Hash + Eq + Clone + Send, L: RateLimiter> Keyed<K, L> {
    /// `make(now)` makes the limiter of a new key.
    pub fn new(idle: Duration, make: impl Fn(Instant) -> L + Send + Sync + 'static) -> Keyed<K, L> {
        Keyed {
            idle,
            make: Box::new(make),
            limiters: Mutex::new(HashMap::new()),
        }
    }

    /// Decide for a request of `key` at `now`.
    ///
    /// First forget every key whose last use is `idle` or more before `now` (its limiter
    /// would have reset anyway). Then find or make the key's limiter, record `now` as its
    /// last use, and ask it.
    pub fn check_at(&self, key: &K, now: Instant) -> Result<Instant, NotUntil> {
        let _ = (key, now, self.idle, &self.make, &self.limiters);
        todo!("exercise 05.7: Keyed::check_at")
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.limiters
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
