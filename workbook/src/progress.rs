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
    /// Exercises in the chapter.
    pub total: usize,
    /// Every test passed, the program's output included.
    pub done: bool,
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
        let path = root.join(".workbook").join("progress.tsv");
        let mut entries = BTreeMap::new();
        let mut current = None;
        if let Ok(text) = fs::read_to_string(&path) {
            for line in text.lines().filter(|l| !l.starts_with('#')) {
                let fields: Vec<&str> = line.split('\t').collect();
                if let ["current", n, since] = fields[..]
                    && let Ok(since) = since.parse()
                {
                    current = Some((n.to_string(), UNIX_EPOCH + Duration::from_millis(since)));
                } else if let [n, fp, passed, total, done] = fields[..]
                    && let (Ok(fingerprint), Ok(total)) =
                        (u64::from_str_radix(fp, 16), total.parse())
                {
                    let passed = passed
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect();
                    entries.insert(
                        n.to_string(),
                        Entry {
                            fingerprint,
                            passed,
                            total,
                            done: done == "done",
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
            "# workbook progress cache: lesson, fingerprint, exercises passed, exercises, state\n\
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
            text.push_str(&format!(
                "{n}\t{:016x}\t{}\t{}\t{}\n",
                e.fingerprint,
                e.passed.join(","),
                e.total,
                if e.done { "done" } else { "open" }
            ));
        }
        if let Some(dir) = self.path.parent() {
            let _ = fs::create_dir_all(dir);
        }
        // A cache that cannot be written only makes `status` slower to be right.
        let _ = fs::write(&self.path, text);
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
