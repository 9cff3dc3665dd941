//! The scripted services: inventory, payment and shipping. Finished code, not an
//! exercise.
//!
//! A real service is another process behind a network. These are tables of the lesson's
//! SQLite file, so that what a service did survives a crash of the orchestrator exactly as
//! a real one would:
//!
//! ```text
//! ledger   service, key, state      what each key did: done, undone, refused, cancelled
//! calls    seq, service, op, key,   every request, in order, with what it answered;
//!          fresh, reply             fresh = 0 when the answer came from the ledger
//! ```
//!
//! Each service is **idempotent per key**: a request whose key it has seen before is
//! answered from the ledger, and nothing is done twice. The `Script` says how the
//! service answers the *fresh* requests of a key (those not answered from the ledger):
//! the first fresh request gets the script's first reply, and so on; past the end of
//! the script, every request succeeds. A `TimedOut` reply changes nothing;
//! `LostReply` does the work and then loses the answer, so the caller sees the same
//! timeout.
//!
//! The services also **audit the orchestrator**: an action whose key is not in a
//! `Started` entry of the saga log, or an undo whose key is not in an `Undoing` entry,
//! is a request the log does not know about — if the orchestrator crashed now, nobody
//! would know to undo it. The service panics, naming what is missing.

use std::fmt;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use crate::log::open_db;
use crate::{Participant, StepError, crash};

/// How a service answers one fresh request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply {
    /// Do it, and say so.
    Ok,
    /// Do nothing, and let the caller time out.
    TimedOut,
    /// Do it, but the answer is lost: the caller times out.
    LostReply,
    /// Refuse for good, with this reason. An action refused this way took no effect.
    Refuse(&'static str),
}

/// How a service answers the fresh requests of each key: actions and undos.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Script {
    act: Vec<Reply>,
    undo: Vec<Reply>,
}

impl Script {
    /// Every request succeeds.
    pub fn ok() -> Script {
        Script::default()
    }

    /// The replies to the first fresh actions of a key, in order; `Ok` after them.
    pub fn acts(mut self, replies: impl IntoIterator<Item = Reply>) -> Script {
        self.act = replies.into_iter().collect();
        self
    }

    /// The replies to the first fresh undos of a key, in order; `Ok` after them.
    pub fn undos(mut self, replies: impl IntoIterator<Item = Reply>) -> Script {
        self.undo = replies.into_iter().collect();
        self
    }
}

/// The crash test's two sagas: the lesson program runs one with `--crash-test`, and the
/// test that kills it resumes it with the same scripts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// Every step succeeds, after a lost reply at payment and a timeout at shipping.
    Completes,
    /// Shipping refuses; payment's refund times out once, inventory's release loses its
    /// reply once.
    Compensates,
    /// Shipping refuses, and payment's refund is refused too: the saga ends Failed, with
    /// the refund stuck and inventory released.
    Stuck,
}

impl Scenario {
    /// The scripts of inventory, payment and shipping, in that order.
    pub fn scripts(self) -> [Script; 3] {
        match self {
            Scenario::Completes => [
                Script::ok(),
                Script::ok().acts([Reply::LostReply]),
                Script::ok().acts([Reply::TimedOut]),
            ],
            Scenario::Compensates => [
                Script::ok().undos([Reply::LostReply]),
                Script::ok().undos([Reply::TimedOut]),
                Script::ok().acts([Reply::Refuse("no carrier for this address")]),
            ],
            Scenario::Stuck => [
                Script::ok(),
                Script::ok().undos([Reply::Refuse("the card's account is closed")]),
                Script::ok().acts([Reply::Refuse("no carrier for this address")]),
            ],
        }
    }
}

/// What a key stands for in a service's ledger.
const DONE: &str = "done";
const UNDONE: &str = "undone";
/// Undone before it was ever done: a late action with this key is refused.
const CANCELLED: &str = "cancelled";
/// Refused for good; the reason follows the colon.
const REFUSED: &str = "refused:";

/// A scripted service, on its own connection to the lesson's file.
pub struct Service {
    name: String,
    script: Script,
    conn: Connection,
}

impl Service {
    /// The service `name` (`"inventory"`, `"payment"`, `"shipping"` in the lesson; any
    /// name works), answering as `script` says.
    pub fn open(path: &Path, name: &str, script: Script) -> rusqlite::Result<Service> {
        Ok(Service {
            name: name.to_string(),
            script,
            conn: open_db(path)?,
        })
    }

    /// Panic if the saga log has no entry of `kind` with `key`.
    fn audit(&self, op: Op, key: &str) -> rusqlite::Result<()> {
        let kind = match op {
            Op::Act => "started",
            Op::Undo => "undoing",
        };
        let logged: Option<i64> = self
            .conn
            .query_row(
                "SELECT 1 FROM saga_log WHERE kind = ?1 AND key = ?2 LIMIT 1",
                params![kind, key],
                |row| row.get(0),
            )
            .optional()?;
        if logged.is_none() {
            let entry = match op {
                Op::Act => "Entry::Started",
                Op::Undo => "Entry::Undoing",
            };
            panic!(
                "{service} was asked to {op} with key {key:?}, but the saga log has no \
                 {entry} with that key: the request was sent before it was logged. Had the \
                 orchestrator crashed now, nothing would say that {service} may have done \
                 it. Append the entry first, then call the service",
                service = self.name,
            );
        }
        Ok(())
    }

    /// One request: look the key up, answer from the ledger or from the script, record the
    /// call, all in one transaction.
    fn request(&self, op: Op, key: &str) -> rusqlite::Result<Result<(), StepError>> {
        self.audit(op, key)?;
        // IMMEDIATE: the read and the write below are one step for every other connection.
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let state: Option<String> = tx
            .query_row(
                "SELECT state FROM ledger WHERE service = ?1 AND key = ?2",
                params![self.name, key],
                |row| row.get(0),
            )
            .optional()?;
        let fresh_before: i64 = tx.query_row(
            "SELECT COUNT(*) FROM calls WHERE service = ?1 AND key = ?2 AND op = ?3 AND fresh = 1",
            params![self.name, key, op.to_string()],
            |row| row.get(0),
        )?;
        let scripted = |replies: &[Reply]| {
            replies
                .get(usize::try_from(fresh_before).unwrap_or(usize::MAX))
                .copied()
                .unwrap_or(Reply::Ok)
        };
        let timed_out = || Err(StepError::Transient("timed out".to_string()));
        // (answer, new state of the key, fresh?, what the journal says)
        let (answer, new_state, fresh, said): (
            Result<(), StepError>,
            Option<String>,
            bool,
            String,
        ) = match (op, state.as_deref()) {
            (Op::Act, Some(DONE)) => (Ok(()), None, false, "ok (already done)".into()),
            (Op::Act, Some(UNDONE)) => (
                Err(StepError::Permanent("already undone".into())),
                None,
                false,
                "refused: already undone".into(),
            ),
            (Op::Act, Some(CANCELLED)) => (
                Err(StepError::Permanent("cancelled before it was done".into())),
                None,
                false,
                "refused: cancelled before it was done".into(),
            ),
            (Op::Act, Some(refused)) => {
                let why = refused.strip_prefix(REFUSED).unwrap_or(refused).to_string();
                let said = format!("refused: {why} (again)");
                (Err(StepError::Permanent(why)), None, false, said)
            }
            (Op::Act, None) => match scripted(&self.script.act) {
                Reply::Ok => (Ok(()), Some(DONE.into()), true, "ok".into()),
                Reply::TimedOut => (timed_out(), None, true, "timed out".into()),
                Reply::LostReply => (
                    timed_out(),
                    Some(DONE.into()),
                    true,
                    "done, reply lost".into(),
                ),
                Reply::Refuse(why) => (
                    Err(StepError::Permanent(why.into())),
                    Some(format!("{REFUSED}{why}")),
                    true,
                    format!("refused: {why}"),
                ),
            },
            (Op::Undo, Some(DONE)) => match scripted(&self.script.undo) {
                Reply::Ok => (Ok(()), Some(UNDONE.into()), true, "ok".into()),
                Reply::TimedOut => (timed_out(), None, true, "timed out".into()),
                Reply::LostReply => (
                    timed_out(),
                    Some(UNDONE.into()),
                    true,
                    "undone, reply lost".into(),
                ),
                Reply::Refuse(why) => (
                    Err(StepError::Permanent(why.into())),
                    None,
                    true,
                    format!("refused: {why}"),
                ),
            },
            (Op::Undo, Some(UNDONE)) => (Ok(()), None, false, "ok (already undone)".into()),
            (Op::Undo, Some(_)) => (Ok(()), None, false, "ok (nothing to undo)".into()),
            (Op::Undo, None) => (
                Ok(()),
                Some(CANCELLED.into()),
                false,
                "ok (nothing to undo)".into(),
            ),
        };
        if let Some(new_state) = &new_state {
            tx.execute(
                "INSERT INTO ledger (service, key, state) VALUES (?1, ?2, ?3)
                 ON CONFLICT (service, key) DO UPDATE SET state = excluded.state",
                params![self.name, key, new_state],
            )?;
        }
        tx.execute(
            "INSERT INTO calls (service, op, key, fresh, reply) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![self.name, op.to_string(), key, fresh, said],
        )?;
        tx.commit()?;
        if new_state.is_some() {
            crash::point(|| format!("{} {op} {key}: {said}", self.name));
        }
        Ok(answer)
    }
}

impl Participant for Service {
    fn name(&self) -> &str {
        &self.name
    }

    fn act(&self, key: &str) -> Result<(), StepError> {
        self.request(Op::Act, key)
            .unwrap_or_else(|e| Err(StepError::Transient(format!("the service's database: {e}"))))
    }

    fn undo(&self, key: &str) -> Result<(), StepError> {
        self.request(Op::Undo, key)
            .unwrap_or_else(|e| Err(StepError::Transient(format!("the service's database: {e}"))))
    }
}

/// A request's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Act,
    Undo,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Act => "act",
            Op::Undo => "undo",
        })
    }
}

/// One request a service received, as its journal recorded it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub service: String,
    pub op: Op,
    pub key: String,
    /// `false` when the answer came from the ledger (the key had been seen).
    pub fresh: bool,
    /// What the service answered, in words.
    pub reply: String,
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} -> {}",
            self.service, self.op, self.key, self.reply
        )
    }
}

/// Read-only access to what the services did, for the tests and the program.
pub struct Ledger {
    conn: Connection,
}

impl Ledger {
    /// Open the services' tables in the file at `path`.
    pub fn open(path: &Path) -> rusqlite::Result<Ledger> {
        Ok(Ledger {
            conn: open_db(path)?,
        })
    }

    /// The state of `key` at `service`: `"done"`, `"undone"`, `"cancelled"`,
    /// `"refused:<why>"`, or `None` if the key never did anything there.
    pub fn state(&self, service: &str, key: &str) -> rusqlite::Result<Option<String>> {
        self.conn
            .query_row(
                "SELECT state FROM ledger WHERE service = ?1 AND key = ?2",
                params![service, key],
                |row| row.get(0),
            )
            .optional()
    }

    /// Every key `service` has in its ledger, with its state, by key.
    pub fn keys(&self, service: &str) -> rusqlite::Result<Vec<(String, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT key, state FROM ledger WHERE service = ?1 ORDER BY key")?;
        let rows = stmt.query_map([service], |row| Ok((row.get(0)?, row.get(1)?)))?;
        rows.collect()
    }

    /// Every request any service received, in the order they arrived.
    pub fn calls(&self) -> rusqlite::Result<Vec<Call>> {
        let mut stmt = self
            .conn
            .prepare("SELECT service, op, key, fresh, reply FROM calls ORDER BY seq")?;
        let rows = stmt.query_map([], |row| {
            let op: String = row.get(1)?;
            Ok(Call {
                service: row.get(0)?,
                op: if op == "act" { Op::Act } else { Op::Undo },
                key: row.get(2)?,
                fresh: row.get(3)?,
                reply: row.get(4)?,
            })
        })?;
        rows.collect()
    }
}
