//! When a test binary crashes — a use after free, a double free — say which exercises
//! were running. Otherwise cargo reports only "signal: 11, SIGSEGV", which names no test,
//! and a learner of lock-free code meets exactly that.
//!
//! The kit records each exercise whose body is running in a fixed table of atomics. A
//! handler for SIGSEGV, SIGBUS and SIGABRT writes the table to stderr with `write(2)`
//! (nothing else is safe in a signal handler), then hands the signal to the handler that
//! was there before — Rust's own, which reports stack overflows — or to the default
//! action, which ends the process as before.

use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

/// Exercise ids as `lesson * 100 + k` (`07.3` is 703); 0 is a free entry.
static RUNNING: [AtomicU32; 64] = [const { AtomicU32::new(0) }; 64];

/// An exercise body is running; dropping this says it stopped.
pub struct Running(Option<usize>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(i) = self.0 {
            RUNNING[i].store(0, Ordering::Release);
        }
    }
}

/// Record that exercise `id` (`"07.3"`) is running.
pub fn running(id: &str) -> Running {
    install();
    let code = id
        .split_once('.')
        .and_then(|(n, k)| Some(n.parse::<u32>().ok()? * 100 + k.parse::<u32>().ok()?))
        .unwrap_or(0);
    if code == 0 {
        return Running(None);
    }
    let slot = RUNNING.iter().position(|e| {
        e.compare_exchange(0, code, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    });
    Running(slot)
}

#[cfg(unix)]
fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        for (i, &signal) in SIGNALS.iter().enumerate() {
            // SAFETY: the handler only reads atomics, formats into a stack buffer and
            // calls write(2) and the previous handler.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = handler as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let previous = &raw mut PREVIOUS[i];
                libc::sigaction(signal, &action, previous);
            }
        }
    });
}

#[cfg(not(unix))]
fn install() {}

#[cfg(unix)]
const SIGNALS: [libc::c_int; 3] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGABRT];

#[cfg(unix)]
static mut PREVIOUS: [libc::sigaction; 3] = unsafe { std::mem::zeroed() };

#[cfg(unix)]
extern "C" fn handler(signal: libc::c_int, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    let mut buf = [0u8; 1024];
    let mut len = 0;
    let mut put = |bytes: &[u8]| {
        let n = bytes.len().min(buf.len() - len);
        buf[len..len + n].copy_from_slice(&bytes[..n]);
        len += n;
    };
    put(b"\nkit: the test program crashed (");
    put(match signal {
        libc::SIGSEGV => b"SIGSEGV, an invalid memory access" as &[u8],
        libc::SIGBUS => b"SIGBUS, an invalid memory access",
        _ => b"SIGABRT, an abort",
    });
    put(b") while the tests of these exercises ran:");
    let mut any = false;
    for entry in &RUNNING {
        let code = entry.load(Ordering::Acquire);
        if code != 0 {
            any = true;
            let (n, k) = (code / 100, code % 100);
            put(b" ");
            put(&[b'0' + (n / 10 % 10) as u8, b'0' + (n % 10) as u8, b'.']);
            if k >= 10 {
                put(&[b'0' + (k / 10 % 10) as u8]);
            }
            put(&[b'0' + (k % 10) as u8]);
        }
    }
    if !any {
        put(b" none (it happened outside them)");
    }
    put(if signal == libc::SIGABRT {
        b".\nkit: read the lines just above: a panic that could not unwind ends in an abort (loom reports what it found that way), and so does memory freed twice. Run one test at a time (`-- --test-threads=1 --nocapture NAME`) to see which.\n" as &[u8]
    } else {
        b".\nkit: memory used after it was freed is the usual cause; run one test at a time (`-- --test-threads=1 NAME`) to see which.\n"
    });
    // SAFETY: write(2) is async-signal-safe; the buffer is ours.
    unsafe {
        libc::write(2, buf.as_ptr().cast(), len);
    }
    // Hand over to the handler that was there before, or to the default action.
    let i = SIGNALS.iter().position(|&s| s == signal).unwrap_or(0);
    // SAFETY: PREVIOUS was written once, before this handler was installed.
    unsafe {
        let previous = std::ptr::read(&raw const PREVIOUS[i]);
        let action = previous.sa_sigaction;
        if action == libc::SIG_DFL || action == libc::SIG_IGN {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        } else if previous.sa_flags & libc::SA_SIGINFO != 0 {
            let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                std::mem::transmute(action);
            f(signal, info, context);
        } else {
            let f: extern "C" fn(libc::c_int) = std::mem::transmute(action);
            f(signal);
        }
    }
}
