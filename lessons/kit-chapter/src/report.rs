//! The kit's failure report to the runner: one machine-readable line per failed test.
//!
//! When the runner runs a lesson's tests it sets `KIT_REPORT` to a file path; every test
//! the kit fails appends one [`Record`] to that file, and the runner reads them back to
//! say what went wrong. The human-readable messages are for people and may be reworded
//! freely: the runner never parses them. Without the variable nothing is written.
//!
//! Both sides use this module, so the format has one definition. A line is
//! `kit-report 1` and six fields, separated by tabs; tabs, newlines, carriage returns and
//! backslashes inside a field are escaped (`\t`, `\n`, `\r`, `\\`). Several test
//! binaries may append at once: each record is written with one `write` call on a file
//! opened for appending, so records never interleave.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;

/// The environment variable that names the report file.
pub const ENV: &str = "KIT_REPORT";

/// The first field of every record; a reader skips lines of another version.
const TAG: &str = "kit-report 1";

/// What kind of failure a record describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// An unfinished `todo!("exercise NN.k: …")` was reached.
    NotDone,
    /// The test ran out of time (real or virtual): a deadlock, a busy loop, a blocking call.
    Timeout,
    /// The code under test panicked.
    Panic,
    /// One of the test's own checks failed.
    Assertion,
    /// The lesson program failed: a non-zero exit, a timeout, a panic.
    Program,
    /// The lesson program's output differs from the reference's snapshot.
    Snapshot,
}

impl Kind {
    /// The kind's name in a record.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::NotDone => "not-done",
            Kind::Timeout => "timeout",
            Kind::Panic => "panic",
            Kind::Assertion => "assertion",
            Kind::Program => "program",
            Kind::Snapshot => "snapshot",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        [
            Kind::NotDone,
            Kind::Timeout,
            Kind::Panic,
            Kind::Assertion,
            Kind::Program,
            Kind::Snapshot,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One failed test, as the kit saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The test's name as libtest prints it, e.g. `ex01_2_ask_gets_the_reply`.
    pub test: String,
    /// The exercise the test belongs to, e.g. `01.2`; `None` for the program tests.
    pub exercise: Option<String>,
    /// What went wrong.
    pub kind: Kind,
    /// The exercise the learner has to work on, when it is not the test's own: a test of
    /// 01.2 that stops at 01.1's `todo!` needs `01.1`.
    pub needs: Option<String>,
    /// Where it happened, `file:line:col`, when known: the `todo!` or the panic.
    pub at: Option<String>,
    /// The message, in the learner's terms, without the "read:" lines (the reader knows
    /// the exercise and can say where to read itself).
    pub message: String,
}

impl Record {
    /// The record as one line, newline included.
    pub fn to_line(&self) -> String {
        let opt = |o: &Option<String>| escape(o.as_deref().unwrap_or(""));
        format!(
            "{TAG}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            escape(&self.test),
            opt(&self.exercise),
            self.kind.as_str(),
            opt(&self.needs),
            opt(&self.at),
            escape(&self.message),
        )
    }

    /// A line written by [`Record::to_line`]; `None` for anything else.
    pub fn parse_line(line: &str) -> Option<Record> {
        let line = line.strip_suffix('\n').unwrap_or(line);
        let mut fields = line.split('\t');
        if fields.next()? != TAG {
            return None;
        }
        let fields: Vec<String> = fields.map(unescape).collect();
        let [test, exercise, kind, needs, at, message] = <[String; 6]>::try_from(fields).ok()?;
        let opt = |s: String| (!s.is_empty()).then_some(s);
        Some(Record {
            test,
            exercise: opt(exercise),
            kind: Kind::parse(&kind)?,
            needs: opt(needs),
            at: opt(at),
            message,
        })
    }

    /// Append the record to the file `KIT_REPORT` names, if it is set. Errors are
    /// ignored: the report only improves what the runner can say.
    pub fn append(&self) {
        if let Some(path) = std::env::var_os(ENV).filter(|p| !p.is_empty()) {
            let _ = append_to(Path::new(&path), self);
        }
    }
}

fn append_to(path: &Path, record: &Record) -> std::io::Result<()> {
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    // One buffer, one write: appends of several processes never interleave.
    file.write_all(record.to_line().as_bytes())
}

/// Every record in `text` (a report file's contents), in order.
pub fn parse(text: &str) -> Vec<Record> {
    text.lines().filter_map(Record::parse_line).collect()
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(message: &str) -> Record {
        Record {
            test: "tests::ex01_2_ask".into(),
            exercise: Some("01.2".into()),
            kind: Kind::NotDone,
            needs: Some("01.1".into()),
            at: Some("lessons/01-actors/src/actor.rs:79:5".into()),
            message: message.into(),
        }
    }

    #[test]
    fn a_record_survives_tabs_newlines_and_backslashes() {
        for message in [
            "plain",
            "two\nlines\tand a tab",
            "a backslash \\ and \\n literally",
            "ends with a backslash \\",
            "\r\n",
            "",
        ] {
            let r = record(message);
            let line = r.to_line();
            assert_eq!(line.matches('\n').count(), 1, "{line:?}");
            assert!(line.ends_with('\n'));
            assert_eq!(Record::parse_line(&line), Some(r), "{line:?}");
        }
        let empty = Record {
            exercise: None,
            needs: None,
            at: None,
            kind: Kind::Snapshot,
            ..record("m")
        };
        assert_eq!(Record::parse_line(&empty.to_line()), Some(empty));
    }

    #[test]
    fn other_lines_are_skipped() {
        let text = format!(
            "noise\nkit-report 2\ta\tb\tc\td\te\tf\n{}kit-report 1\ttoo\tfew\n{}",
            record("one").to_line(),
            record("two").to_line()
        );
        let messages: Vec<String> = parse(&text).into_iter().map(|r| r.message).collect();
        assert_eq!(messages, ["one", "two"]);
        let unknown_kind = record("x").to_line().replace("not-done", "exploded");
        assert_eq!(Record::parse_line(&unknown_kind), None);
    }

    #[test]
    fn append_writes_whole_lines_from_many_threads() {
        let path = std::env::temp_dir().join(format!("kit-report-test-{}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        std::thread::scope(|s| {
            for t in 0..8 {
                let path = &path;
                s.spawn(move || {
                    for i in 0..50 {
                        append_to(path, &record(&format!("{t}:{i}\n{}", "x".repeat(500)))).unwrap();
                    }
                });
            }
        });
        let text = std::fs::read_to_string(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(parse(&text).len(), 400);
        assert_eq!(text.lines().count(), 400);
    }
}
