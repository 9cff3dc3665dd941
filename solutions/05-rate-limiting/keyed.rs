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
    //@ solution
    loop {
        match limiter.check_at(Instant::now()) {
            Ok(at) => {
                // `at` is later than now only for the leaky bucket: the request was
                // admitted and must wait its turn. (Cancelled here, its turn is lost: a
                // queue cannot give a slot back without reshuffling everyone behind it.)
                tokio::time::sleep_until(at).await;
                return;
            }
            // Refused, and nothing counted: sleeping here is free to cancel. Sleeping
            // until the named instant — not polling in a loop — is what keeps a thousand
            // waiting tasks from burning a core.
            Err(NotUntil(retry_at)) => tokio::time::sleep_until(retry_at).await,
        }
    }
    //@ skeleton
    // let _ = limiter;
    // todo!("exercise 05.7: acquire")
    //@ end
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
        //@ solution
        let mut limiters = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
        // Sweep on every call: O(keys) each time, which is fine for a lesson and for
        // modest key counts; a production limiter sweeps every so often, or keeps keys in
        // expiry order. Without a sweep the map grows with every key ever seen — one per
        // client IP, forever.
        limiters.retain(|_, (_, last_used)| *last_used + self.idle > now);
        let (limiter, last_used) = limiters
            .entry(key.clone())
            .or_insert_with(|| ((self.make)(now), now));
        *last_used = now;
        limiter.check_at(now)
        //@ skeleton
        // let _ = (key, now, self.idle, &self.make, &self.limiters);
        // todo!("exercise 05.7: Keyed::check_at")
        //@ end
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
