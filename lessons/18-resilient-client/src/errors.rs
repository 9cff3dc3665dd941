//! The errors the layers return (finished code, not an exercise).
//!
//! Every layer's error type is `tower::BoxError` (a `Box<dyn Error + Send + Sync>`), as
//! in tower's own layers: a stack of five layers would otherwise need an error enum per
//! layer, nested five deep. A caller that needs to know *which* layer refused asks with
//! `error.downcast_ref::<Rejected>()`, and so on — which is what exercise 18.5 does.

use std::fmt;

use tower::BoxError;

/// A layer refused the request without passing it on: the circuit breaker while it is
/// open (or while its one half-open probe is out), or a scripted refusal. A refusal is
/// never retried: nothing was tried, and trying again at once meets the same refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Who refused: `"circuit breaker"` or `"script"`.
    pub by: &'static str,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "rejected by the {}", self.by)
    }
}

impl std::error::Error for Rejected {}

/// One attempt took longer than the timeout allows (exercise 18.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Elapsed;

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out")
    }
}

impl std::error::Error for Elapsed {}

/// The retry layer gave up (exercise 18.2): it retried at least once, and the last attempt
/// failed too, with no attempt or budget left. `attempts` holds every attempt's error, in
/// order.
#[derive(Debug)]
pub struct GaveUp {
    pub attempts: Vec<BoxError>,
}

impl fmt::Display for GaveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "gave up after {} attempts: ", self.attempts.len())?;
        for (i, e) in self.attempts.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for GaveUp {}

/// The scripted service answered with a failure (`Step::Fail`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// The request's id.
    pub id: u32,
}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "request {} failed", self.id)
    }
}

impl std::error::Error for Failed {}
