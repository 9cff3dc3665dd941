//! A spinner on stderr while something slow (cargo) runs.
//!
//! On a terminal it redraws one line ten times a second; anywhere else (a pipe, CI, a
//! test) it prints the message once, so logs stay readable.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// Spins until dropped.
pub struct Spinner {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Spinner {
    /// Start spinning with `message` (e.g. "running the tests of lesson 01").
    pub fn start(message: &str) -> Spinner {
        let stop = Arc::new(AtomicBool::new(false));
        if !std::io::stderr().is_terminal() {
            eprintln!("{message}…");
            return Spinner { stop, thread: None };
        }
        let message = message.to_string();
        let flag = Arc::clone(&stop);
        let thread = thread::spawn(move || {
            let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
            let started = Instant::now();
            let mut i = 0;
            while !flag.load(Ordering::Relaxed) {
                let secs = started.elapsed().as_secs();
                eprint!("\r{} {message}… {secs}s ", frames[i % frames.len()]);
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
            thread: Some(thread),
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
