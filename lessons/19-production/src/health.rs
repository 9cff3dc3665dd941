//! Exercise 19.2: liveness and readiness.
//!
//! Two questions an orchestrator (Kubernetes, a load balancer) asks a service:
//!
//! - **live?** (`/healthz`): is the process working at all? If not, restart it. It stays
//!   yes during a graceful shutdown: a process that is draining is doing its job, and
//!   restarting it would kill the very requests it is finishing.
//! - **ready?** (`/readyz`): should new traffic be sent here? No until the service can
//!   serve, and no again from the moment shutdown begins, *before* the listener closes, so
//!   that the balancer stops sending requests that would otherwise be refused.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// An HTTP status code, as a number (200, 503).
pub type Status = u16;

/// The service's health, shared by the HTTP handlers and the shutdown sequence. Cloning
/// it shares the same state.
#[derive(Clone, Debug, Default)]
pub struct Health {
    /// An atomic, not a lock: one flag, read on every probe, written twice in a process's
    /// life. `SeqCst` keeps the reasoning simple and costs nothing measurable here.
    ready: Arc<AtomicBool>,
}

impl Health {
    /// A new service is live but **not** ready: it has not bound its listener yet.
    pub fn new() -> Health {
        let _ = (AtomicBool::new(false), Ordering::SeqCst);
        todo!("exercise 19.2: Health::new")
    }

    /// The service can serve: readiness becomes true.
    pub fn set_ready(&self) {
        todo!("exercise 19.2: Health::set_ready")
    }

    /// Shutdown has begun: readiness becomes false, for good.
    pub fn set_not_ready(&self) {
        todo!("exercise 19.2: Health::set_not_ready")
    }

    /// Whether new traffic should come here.
    pub fn is_ready(&self) -> bool {
        let _ = &self.ready;
        todo!("exercise 19.2: Health::is_ready")
    }

    /// The answer to `GET /healthz`: `(200, "live")`, whatever readiness says.
    pub fn healthz(&self) -> (Status, &'static str) {
        todo!("exercise 19.2: Health::healthz")
    }

    /// The answer to `GET /readyz`: `(200, "ready")` when ready, else `(503, "not ready")`.
    pub fn readyz(&self) -> (Status, &'static str) {
        todo!("exercise 19.2: Health::readyz")
    }
}
