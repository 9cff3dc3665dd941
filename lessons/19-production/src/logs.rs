//! Structured logs: every `tracing` event as one JSON object per line, on stdout.
//!
//! A log pipeline (Vector, Fluent Bit, Loki's agent) then reads fields instead of parsing
//! sentences: `{"timestamp":"…","level":"INFO","fields":{"message":"…","event":"drained"}}`.
//! The program's demonstration keeps its log in a [`Buffer`] and prints it afterwards
//! without timestamps, so that its output is the same on every run.

use tracing::Level;

/// Install the JSON subscriber for the whole process, writing to stdout at `level` (one
/// of [`crate::config::LEVELS`]; anything else means info).
pub fn init(level: &str) {
    let level: Level = level.parse().unwrap_or(Level::INFO);
    tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
        .with_target(false)
        .with_current_span(false)
        .with_span_list(false)
        .with_writer(std::io::stdout)
        .init();
}

/// Log lines kept in memory (the demonstration prints them afterwards, in a canonical
/// form). Clones share the buffer.
#[derive(Clone, Debug, Default)]
pub struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    /// Every line written so far.
    pub fn lines(&self) -> Vec<String> {
        let bytes = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        String::from_utf8_lossy(&bytes)
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// Install the JSON subscriber for the whole process, at info, writing into `buffer`.
pub fn init_buffer(buffer: Buffer) {
    tracing_subscriber::fmt()
        .json()
        .with_max_level(Level::INFO)
        .with_target(false)
        .with_current_span(false)
        .with_span_list(false)
        .without_time()
        .with_writer(move || buffer.clone())
        .init();
}
