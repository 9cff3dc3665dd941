//! The learner's progress, cached in `.workbook/progress.tsv` (git-ignored).
//!
//! Every command that runs a lesson's tests records the result here, with a fingerprint
//! of the files it depends on, so `workbook status` can answer at once without running
//! anything, and can tell when a lesson has changed since it was last checked. It also
//! records the current lesson — the one the learner last checked or jumped to — and when
//! it became current, so `workbook next` goes back to it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::lessons::Lesson;

/// What the last test run of one lesson found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// Fingerprint of the lesson's exercise files and tests when it was checked.
    pub fingerprint: u64,
    /// Exercises whose tests all passed.
    pub passed: Vec<String>,
    /// Exercises with a failing test that got past the skeleton's `todo!`: begun, not
    /// finished. An exercise in neither list is not started. (When the lesson does not
    /// compile, both lists are those of the last check that compiled.)
    pub tried: Vec<String>,
    /// Exercises in the chapter.
    pub total: usize,
    /// Every test passed, the program's output included.
    pub done: bool,
    /// The lesson compiled (when it did not, no exercise has a result).
    pub compiled: bool,
}

impl Entry {
    /// Where exercise `id` stood at this check.
    pub fn exercise_state(&self, id: &str) -> ExerciseState {
        if !self.compiled {
            ExerciseState::Unknown
        } else {
            self.last_state(id)
        }
    }

    /// Where exercise `id` stood at the last check that compiled.
    pub fn last_state(&self, id: &str) -> ExerciseState {
        if self.passed.iter().any(|p| p == id) {
            ExerciseState::Passes
        } else if self.tried.iter().any(|p| p == id) {
            ExerciseState::Fails
        } else {
            ExerciseState::NotStarted
        }
    }

    /// A short text that changes whenever this entry does: a page tells by it that a
    /// check ran after the result it shows.
    pub fn signature(&self) -> String {
        format!(
            "{:x}/{}/{}/{}/{}",
            self.fingerprint,
            self.passed.join(","),
            self.tried.join(","),
            self.done,
            self.compiled
        )
    }
}

/// One exercise's state, as the book's pages show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExerciseState {
    Passes,
    Fails,
    NotStarted,
    /// The lesson did not compile at its last check.
    Unknown,
}

impl ExerciseState {
    pub fn as_str(self) -> &'static str {
        match self {
            ExerciseState::Passes => "passes",
            ExerciseState::Fails => "fails",
            ExerciseState::NotStarted => "not-started",
            ExerciseState::Unknown => "unknown",
        }
    }
}

/// The cache, keyed by lesson number.
#[derive(Debug, Default)]
pub struct Progress {
    path: PathBuf,
    entries: BTreeMap<String, Entry>,
    /// The current lesson, and since when.
    current: Option<(String, SystemTime)>,
}

impl Progress {
    /// Read the cache; a missing or unreadable one is an empty cache.
    pub fn load(root: &Path) -> Progress {
        Progress::load_from(cache_path(root))
    }

    /// Read the cache at `path`.
    pub fn load_from(path: PathBuf) -> Progress {
        let mut entries = BTreeMap::new();
        let mut current = None;
        if let Ok(text) = fs::read_to_string(&path) {
            for line in text.lines().filter(|l| !l.starts_with('#')) {
                let fields: Vec<&str> = line.split('\t').collect();
                if let ["current", n, since] = fields[..]
                    && let Ok(since) = since.parse()
                {
                    current = Some((n.to_string(), UNIX_EPOCH + Duration::from_millis(since)));
                } else if let [n, fp, passed, total, state, ..] = fields[..]
                    && fields.len() <= 6
                    && let (Ok(fingerprint), Ok(total)) =
                        (u64::from_str_radix(fp, 16), total.parse())
                {
                    let list = |text: &str| -> Vec<String> {
                        text.split(',')
                            .filter(|s| !s.is_empty())
                            .map(String::from)
                            .collect()
                    };
                    entries.insert(
                        n.to_string(),
                        Entry {
                            fingerprint,
                            passed: list(passed),
                            // Written by an older runner: no column, nothing known begun.
                            tried: fields.get(5).map(|t| list(t)).unwrap_or_default(),
                            total,
                            done: state == "done",
                            compiled: state != "broken",
                        },
                    );
                }
            }
        }
        Progress {
            path,
            entries,
            current,
        }
    }

    /// The current lesson's number, and when it became current.
    pub fn current(&self) -> Option<(&str, SystemTime)> {
        self.current.as_ref().map(|(n, t)| (n.as_str(), *t))
    }

    /// Make lesson `number` the current one (as of now) and write the cache.
    pub fn set_current(&mut self, number: &str) {
        self.current = Some((number.to_string(), SystemTime::now()));
        self.save();
    }

    /// The entry of lesson `number`, if it was ever checked.
    pub fn get(&self, number: &str) -> Option<&Entry> {
        self.entries.get(number)
    }

    /// Record a lesson's result and write the cache.
    pub fn record(&mut self, number: &str, entry: Entry) {
        self.entries.insert(number.to_string(), entry);
        self.save();
    }

    fn save(&self) {
        let mut text = String::from(
            "# workbook progress cache: lesson, fingerprint, exercises passed, exercises, \
             state (done, open, broken: does not compile), exercises begun but failing\n\
             # and the current lesson: current, lesson, since (ms since 1970)\n",
        );
        if let Some((n, since)) = &self.current {
            let ms = since
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis();
            text.push_str(&format!("current\t{n}\t{ms}\n"));
        }
        for (n, e) in &self.entries {
            let state = match (e.done, e.compiled) {
                (true, _) => "done",
                (false, true) => "open",
                (false, false) => "broken",
            };
            text.push_str(&format!(
                "{n}\t{:016x}\t{}\t{}\t{state}\t{}\n",
                e.fingerprint,
                e.passed.join(","),
                e.total,
                e.tried.join(","),
            ));
        }
        if let Some(dir) = self.path.parent() {
            let _ = fs::create_dir_all(dir);
        }
        // Written whole, then renamed into place: the book's server reads the cache while
        // a check writes it, and must never see half of it. A cache that cannot be
        // written only makes `status` slower to be right.
        let temporary = self
            .path
            .with_extension(format!("tsv.{}", std::process::id()));
        if fs::write(&temporary, text).is_err() || fs::rename(&temporary, &self.path).is_err() {
            let _ = fs::remove_file(&temporary);
        }
    }
}

/// Where the cache is: `.workbook/progress.tsv`, or the file `WORKBOOK_PROGRESS` names
/// (the browser check points its server and the checks it runs at a cache of its own).
pub fn cache_path(root: &Path) -> PathBuf {
    match std::env::var_os("WORKBOOK_PROGRESS") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => root.join(".workbook").join("progress.tsv"),
    }
}

/// A fingerprint of everything a lesson's result depends on that a learner changes: its
/// exercise files, its tests and its chapter. FNV-1a: stable across runs and versions.
pub fn fingerprint(root: &Path, lesson: &Lesson) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut files = lesson.exercise_files(root);
    files.push(lesson.dir(root).join("tests").join("lesson.rs"));
    for file in files {
        let bytes = fs::read(&file).unwrap_or_default();
        for b in file.to_string_lossy().bytes().chain(bytes) {
            hash ^= u64::from(b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_round_trips_and_reads_the_older_format() {
        let path =
            std::env::temp_dir().join(format!("workbook-progress-{}.tsv", std::process::id()));
        let _ = fs::remove_file(&path);
        let mut progress = Progress::load_from(path.clone());
        let entry = Entry {
            fingerprint: 0xabc,
            passed: vec!["01.1".into()],
            tried: vec!["01.2".into(), "01.3".into()],
            total: 5,
            done: false,
            compiled: true,
        };
        progress.record("01", entry.clone());
        let broken = Entry {
            compiled: false,
            passed: vec![],
            tried: vec![],
            ..entry.clone()
        };
        progress.record("02", broken.clone());
        let read = Progress::load_from(path.clone());
        assert_eq!(
            (read.get("01"), read.get("02")),
            (Some(&entry), Some(&broken))
        );
        let states: Vec<&str> = ["01.1", "01.2", "01.4"]
            .iter()
            .map(|id| entry.exercise_state(id).as_str())
            .collect();
        assert_eq!(states, ["passes", "fails", "not-started"]);
        assert_eq!(broken.exercise_state("02.1"), ExerciseState::Unknown);

        // A cache written before the `tried` column: nothing is known to be begun.
        fs::write(
            &path,
            "03\t0000000000000abc\t03.1\t4\topen\n04\t0\t\t2\tdone\n",
        )
        .unwrap();
        let old = Progress::load_from(path.clone());
        let e = old.get("03").unwrap();
        assert_eq!((e.passed.len(), e.tried.len(), e.compiled), (1, 0, true));
        assert!(old.get("04").unwrap().done);
        let _ = fs::remove_file(&path);
    }
}
