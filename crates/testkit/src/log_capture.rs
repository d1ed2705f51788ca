//! Capturing the tracing lines one test's code logs, on the test's thread,
//! while other tests of the same binary run on theirs.
//!
//! `tracing` caches each callsite's interest process-wide, filled by the
//! first thread that reaches it. While exactly one `Dispatch` is registered
//! in the process, tracing-core (0.1.36, `Rebuilder::JustOne`) asks the
//! *calling thread's* default for that interest instead of the registered
//! dispatch: a parallel test without a subscriber that reaches a callsite
//! first caches `Interest::never()`, and the capturing test never sees that
//! line (tokio-rs/tracing#3611). It made `reload_delta` fail one run in ten.
//! [`LogCapture`] keeps a second dispatch registered for its lifetime, so
//! interest is always computed over every registered dispatch.

use std::sync::{Arc, Mutex};

use tracing::subscriber::DefaultGuard;
use tracing::Dispatch;

/// The lines logged on this thread at `level` and above, while it lives.
pub struct LogCapture {
    lines: Lines,
    _guard: DefaultGuard,
    // Dropped after the guard: the capturing dispatch is never the only one.
    _second: Dispatch,
}

impl LogCapture {
    /// Starts capturing this thread's lines at `level` and above (no ANSI
    /// colours), until dropped.
    pub fn start(level: tracing::Level) -> LogCapture {
        let second = Dispatch::new(tracing_subscriber::registry());
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_max_level(level)
            .with_writer(move || writer.clone())
            .finish();
        LogCapture {
            _guard: tracing::subscriber::set_default(subscriber),
            lines,
            _second: second,
        }
    }

    /// Everything captured so far.
    pub fn text(&self) -> String {
        self.lines.text()
    }

    /// How many times `needle` occurs in what was captured so far.
    pub fn count(&self, needle: &str) -> usize {
        self.text().matches(needle).count()
    }
}

/// The captured text, shared with the subscriber that writes it.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Lines {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

impl std::io::Write for Lines {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
