//! Exercise 09.1: the command side.
//!
//! A command is a request ("ship order-7"); the command side decides whether it may
//! happen, by the order's own events only — its *write model* — and if so records what
//! happened as an event. It never reads the read model: that one lags behind, and a
//! decision taken on stale data is a wrong decision.
//!
//! ```text
//!   execute(cmd) ──▶ load the order's events ──▶ fold them into an OrderState
//!        ▲                                            │
//!        │ Conflict: someone appended                 ▼ decide: Ok(event) / Err(Rejection)
//!        └──── (load again, decide again) ◀── append(order, Exact(version), [event])
//! ```

use std::fmt;
use std::sync::Arc;

use crate::store::{Expected, Position, Recorded, Streams};
use crate::{Event, Line, OrderId};

/// What a caller asks the command side to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Place {
        order: OrderId,
        customer: String,
        lines: Vec<Line>,
    },
    Ship {
        order: OrderId,
    },
    Cancel {
        order: OrderId,
    },
}

impl Command {
    /// The order (the stream) this command is about.
    pub fn order(&self) -> OrderId {
        match self {
            Command::Place { order, .. } | Command::Ship { order } | Command::Cancel { order } => {
                *order
            }
        }
    }
}

/// Why the write model refused a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// `Place` for an order that exists already.
    AlreadyPlaced,
    /// `Ship` or `Cancel` for an order never placed.
    NoSuchOrder,
    /// `Ship` or `Cancel` for an order already shipped.
    AlreadyShipped,
    /// `Ship` or `Cancel` for an order already cancelled.
    AlreadyCancelled,
    /// `Place` with no lines.
    NoLines,
    /// `Place` with a line of quantity 0.
    ZeroQuantity,
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rejection::AlreadyPlaced => "the order was already placed",
            Rejection::NoSuchOrder => "there is no such order",
            Rejection::AlreadyShipped => "the order has already shipped",
            Rejection::AlreadyCancelled => "the order was cancelled",
            Rejection::NoLines => "an order needs at least one line",
            Rejection::ZeroQuantity => "every line needs a quantity of at least 1",
        })
    }
}

/// Why `execute` appended nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandError {
    /// The write model refused the command.
    Rejected(Rejection),
    /// Every attempt lost the race for the stream to another command.
    Conflict { attempts: u32 },
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::Rejected(why) => write!(f, "refused: {why}"),
            CommandError::Conflict { attempts } => write!(
                f,
                "gave up after {attempts} attempts: other commands kept appending to the order first"
            ),
        }
    }
}

/// The write model of one order: what its own events say, and nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderState {
    /// No events: the order was never placed.
    New,
    Open,
    Shipped,
    Cancelled,
}

impl OrderState {
    /// Fold an order's events, oldest first, into its state.
    pub fn from_history(events: &[Recorded]) -> OrderState {
        events
            .iter()
            .fold(OrderState::New, |_, recorded| match recorded.event {
                Event::Placed { .. } => OrderState::Open,
                Event::Shipped => OrderState::Shipped,
                Event::Cancelled => OrderState::Cancelled,
            })
    }
}

/// Decide what `command` does to an order in `state`: the event to record, or why not.
///
/// - `Place`, checked in this order: the order must be `New` (else `AlreadyPlaced`,
///   whatever the lines), have at least one line (else `NoLines`), and no line of
///   quantity 0 (else `ZeroQuantity`). The event is `Placed` with the command's customer
///   and lines.
/// - `Ship` and `Cancel`: the order must be `Open`. A `New` order is `NoSuchOrder`, a
///   shipped one `AlreadyShipped`, a cancelled one `AlreadyCancelled`. The events are
///   `Shipped` and `Cancelled`.
///
/// A pure function: no store, no clock, no lock. The same state and command always give
/// the same answer, which is what lets `execute` simply decide again after a conflict.
pub fn decide(state: OrderState, command: &Command) -> Result<Event, Rejection> {
    let _ = (state, command);
    todo!("exercise 09.1: decide")
}

/// The command bus: every command goes through [`CommandBus::execute`].
///
/// In Go the bus is a map from a command's type name to a handler, looked up at run time;
/// here it is a `match` on [`Command`], checked by the compiler: a command nobody handles
/// does not compile.
pub struct CommandBus {
    store: Arc<dyn Streams>,
}

impl CommandBus {
    /// How many times `execute` tries before it gives up with `CommandError::Conflict`.
    pub const MAX_ATTEMPTS: u32 = 5;

    pub fn new(store: Arc<dyn Streams>) -> CommandBus {
        CommandBus { store }
    }

    /// Validate `command` against its order's events and append the resulting event.
    /// Returns the event's global position: a caller that wants to read its own write
    /// waits until the read model has reached it.
    ///
    /// Load the order's events, fold them ([`OrderState::from_history`]), [`decide`], and
    /// append at the version you loaded (`Expected::Exact`). If the append finds the
    /// stream moved on (`Err(Conflict)`), another command got in between: load again and
    /// decide again — the command may now be refused — up to
    /// [`CommandBus::MAX_ATTEMPTS`] attempts in all, then give up with
    /// `CommandError::Conflict`.
    pub fn execute(&self, command: Command) -> Result<Position, CommandError> {
        let _ = (&self.store, command, Expected::Exact(0));
        todo!("exercise 09.1: CommandBus::execute")
    }
}
