//! A spinner on stderr while something slow (cargo) runs.
//!
//! On a terminal it redraws one line ten times a second, with a message that can change
//! as the work goes on ("compiling lesson 01: 45/152 tokio", then "running the tests of
//! lesson 01"). Anywhere else (a pipe, CI, a test) it draws nothing; [`Spinner::say`]
//! prints a line instead, so logs stay readable.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// The widest line the spinner draws: a longer one would wrap, and `\r` would then
/// redraw only its last part.
const WIDTH: usize = 78;

/// Spins until dropped.
pub struct Spinner {
    stop: Arc<AtomicBool>,
    /// The message, and a note shown after the elapsed time (cut first when the line is
    /// too long).
    message: Arc<Mutex<(String, String)>>,
    thread: Option<JoinHandle<()>>,
}

impl Spinner {
    /// Start spinning with `message` (e.g. "running the tests of lesson 01"). When stderr
    /// is not a terminal, nothing is printed until [`Spinner::say`].
    pub fn start(message: &str) -> Spinner {
        let stop = Arc::new(AtomicBool::new(false));
        let message = Arc::new(Mutex::new((message.to_string(), String::new())));
        if !std::io::stderr().is_terminal() {
            return Spinner {
                stop,
                message,
                thread: None,
            };
        }
        let (flag, shown) = (Arc::clone(&stop), Arc::clone(&message));
        let thread = thread::spawn(move || {
            let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
            let started = Instant::now();
            let mut i = 0;
            while !flag.load(Ordering::Relaxed) {
                let secs = started.elapsed().as_secs();
                let (text, note) = shown.lock().unwrap_or_else(|e| e.into_inner()).clone();
                let note = if note.is_empty() {
                    note
                } else {
                    format!(" — {note}")
                };
                let line = format!("{} {text}… {secs}s{note}", frames[i % frames.len()]);
                let line: String = line.chars().take(WIDTH).collect();
                // Clear the rest of the line: the message before may have been longer.
                eprint!("\r{line}\x1b[K");
                let _ = std::io::stderr().flush();
                i += 1;
                thread::sleep(Duration::from_millis(100));
            }
            // Clear the line for whatever comes next.
            eprint!("\r\x1b[2K");
            let _ = std::io::stderr().flush();
        });
        Spinner {
            stop,
            message,
            thread: Some(thread),
        }
    }

    /// Change the message the spinner shows, and the note after it (nothing is printed
    /// without a terminal).
    pub fn set(&self, message: &str, note: &str) {
        *self.message.lock().unwrap_or_else(|e| e.into_inner()) =
            (message.to_string(), note.to_string());
    }

    /// Change the message and the note; without a terminal, print them on a line.
    pub fn say(&self, message: &str, note: &str) {
        self.set(message, note);
        if self.thread.is_none() {
            match note {
                "" => eprintln!("{message}…"),
                note => eprintln!("{message}… ({note})"),
            }
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
