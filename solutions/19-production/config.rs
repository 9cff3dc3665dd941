//! Exercise 19.1: configuration from YAML, checked before anything starts.
//!
//! The service reads one YAML file at startup. Two things can be wrong with it, and the
//! operator must be told both precisely:
//!
//! - it does not parse (bad YAML, a value of the wrong type, a key the service does not
//!   know): say on which **line**;
//! - it parses but a value breaks a rule: say **every** such value, each as the field's
//!   dotted path and the rule, so that one edit fixes them all.
//!
//! The program then exits with code 2 (see `src/main.rs`), never with a panic.

use std::fmt;
use std::net::IpAddr;

use serde::Deserialize;

/// The whole file. Unknown keys are an error (`deny_unknown_fields`): a misspelled
/// `drain_deadline_ms` must not silently fall back to a default.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub server: Server,
    pub shutdown: Shutdown,
    pub analytics: Analytics,
    pub work: Work,
    pub log: Log,
}

/// Where the service listens.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// An IP address; this workbook's service only listens on loopback.
    pub address: String,
    /// 0 asks the system for a free port. A `u32`, so that 70000 reaches the validator
    /// (and gets a message naming the rule) instead of failing the parse.
    pub port: u32,
}

/// How the service stops.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Shutdown {
    /// How long readiness is false before the listener closes, so that a load balancer
    /// has time to stop sending new requests.
    pub unready_delay_ms: u64,
    /// How long in-flight work may take to finish after the listener closes.
    pub drain_deadline_ms: u64,
}

/// The background batcher (exercise 19.4).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Analytics {
    /// Events per batch.
    pub batch_size: usize,
    /// A partial batch is written at least this often.
    pub flush_every_ms: u64,
}

/// The `/work` endpoint.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Work {
    /// The longest `/work?ms=…` accepted.
    pub max_ms: u64,
}

/// Logging.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Log {
    /// One of trace, debug, info, warn, error.
    pub level: String,
}

/// One value that breaks a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The dotted path of the field, e.g. `"server.port"`.
    pub field: String,
    /// The rule it breaks, e.g. `"must be at most 65535"`.
    pub rule: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.rule)
    }
}

/// Why a configuration was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// The text is not a configuration: bad YAML, a wrong type, an unknown or missing key.
    Parse {
        /// The line (1-based) the YAML library points at, when it gives one.
        line: Option<usize>,
        /// The library's message.
        message: String,
    },
    /// It parsed, and these values break a rule: all of them, in the order of the table
    /// in [`Config::problems`].
    Invalid(Vec<Problem>),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Parse {
                line: Some(line),
                message,
            } => write!(f, "line {line}: {message}"),
            ConfigError::Parse {
                line: None,
                message,
            } => write!(f, "{message}"),
            ConfigError::Invalid(problems) => {
                let lines: Vec<String> = problems.iter().map(Problem::to_string).collect();
                write!(f, "{}", lines.join("\n"))
            }
        }
    }
}

/// The log levels [`Log::level`] accepts.
pub const LEVELS: [&str; 5] = ["trace", "debug", "info", "warn", "error"];

impl Config {
    /// Parse `yaml` and check every rule of [`Config::problems`].
    ///
    /// - Text that does not deserialize into a `Config` → `ConfigError::Parse` with the
    ///   line the YAML library's error points at (`serde_norway::Error::location`).
    /// - A config with problems → `ConfigError::Invalid` with all of them.
    /// - Otherwise the config.
    pub fn from_yaml(yaml: &str) -> Result<Config, ConfigError> {
        //@ solution
        let config: Config = serde_norway::from_str(yaml).map_err(|error| ConfigError::Parse {
            line: error.location().map(|at| at.line()),
            message: error.to_string(),
        })?;
        let problems = config.problems();
        if problems.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError::Invalid(problems))
        }
        //@ skeleton
        // let _ = yaml;
        // todo!("exercise 19.1: Config::from_yaml")
        //@ end
    }

    /// Every value that breaks a rule, in this order, with exactly these rules:
    ///
    /// | field | rule |
    /// |---|---|
    /// | `server.address` | `must be a loopback IP address, such as 127.0.0.1` |
    /// | `server.port` | `must be at most 65535` |
    /// | `shutdown.unready_delay_ms` | `must be at most 10000` |
    /// | `shutdown.drain_deadline_ms` | `must be between 1 and 60000` |
    /// | `analytics.batch_size` | `must be between 1 and 10000` |
    /// | `analytics.flush_every_ms` | `must be at least 1` |
    /// | `work.max_ms` | `must be at least 1` |
    /// | `log.level` | `must be one of trace, debug, info, warn, error` |
    ///
    /// An empty list means the config is valid.
    pub fn problems(&self) -> Vec<Problem> {
        //@ solution
        // Every rule is checked and every failure kept: a validator that returns at the
        // first one makes the operator restart once per mistake.
        let mut problems = Vec::new();
        let mut check = |ok: bool, field: &str, rule: &str| {
            if !ok {
                problems.push(Problem {
                    field: field.to_string(),
                    rule: rule.to_string(),
                });
            }
        };
        let loopback = self
            .server
            .address
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
        check(
            loopback,
            "server.address",
            "must be a loopback IP address, such as 127.0.0.1",
        );
        check(
            self.server.port <= 65535,
            "server.port",
            "must be at most 65535",
        );
        check(
            self.shutdown.unready_delay_ms <= 10_000,
            "shutdown.unready_delay_ms",
            "must be at most 10000",
        );
        check(
            (1..=60_000).contains(&self.shutdown.drain_deadline_ms),
            "shutdown.drain_deadline_ms",
            "must be between 1 and 60000",
        );
        check(
            (1..=10_000).contains(&self.analytics.batch_size),
            "analytics.batch_size",
            "must be between 1 and 10000",
        );
        check(
            self.analytics.flush_every_ms >= 1,
            "analytics.flush_every_ms",
            "must be at least 1",
        );
        check(self.work.max_ms >= 1, "work.max_ms", "must be at least 1");
        check(
            LEVELS.contains(&self.log.level.as_str()),
            "log.level",
            "must be one of trace, debug, info, warn, error",
        );
        problems
        //@ skeleton
        // let _ = self.server.address.parse::<IpAddr>();
        // todo!("exercise 19.1: Config::problems")
        //@ end
    }
}
