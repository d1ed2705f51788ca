//! Logging setup: console (`-l`), syslog (default, facility `-S`, off with
//! `-G`), journald (instead of syslog when started by systemd with
//! `$JOURNAL_STREAM`), a log file (`-g`), detail level (`-D`).
//! `RUST_LOG` overrides the level filter.

use std::io::{IsTerminal, Write};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use rkeepalived_script::safe_file::{self, SafeFileError};

use crate::cli::Facility;

#[derive(Debug, Clone)]
pub struct LogOptions {
    pub console: bool,
    pub detail: bool,
    pub syslog: bool,
    pub facility: Facility,
    pub file: Option<PathBuf>,
    /// Syslog identity (`rkeepalived`, `rkeepalived_vrrp`, ...).
    pub ident: String,
    /// Where syslogd listens (`/dev/log`).
    pub syslog_socket: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot open log file: {0}")]
    File(#[from] SafeFileError),
}

/// Installs the global subscriber. Returns which sinks are active, for a
/// startup log line.
pub fn init(opts: &LogOptions) -> Result<Vec<&'static str>, LogError> {
    let default_level = if opts.detail { "debug" } else { "info" };
    let filter =
        || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let mut sinks = Vec::new();
    let mut layers: Vec<Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>> = Vec::new();

    if opts.console {
        sinks.push("console");
        layers.push(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .with_target(opts.detail)
                .with_filter(filter())
                .boxed(),
        );
    }
    if let Some(path) = &opts.file {
        // keepalived's open_log_file: fopen_safe(name, "a"), 0600.
        let file = safe_file::open_append(path, safe_file::PRIVATE_MODE)?;
        sinks.push("file");
        layers.push(
            tracing_subscriber::fmt::layer()
                .with_writer(Mutex::new(file))
                .with_ansi(false)
                .with_target(opts.detail)
                .with_filter(filter())
                .boxed(),
        );
    }
    // Under systemd with -l, stderr already is the journal: a journald layer
    // too would log every line twice.
    let stderr_is_journal =
        stderr_is_journal_stream(std::env::var("JOURNAL_STREAM").ok().as_deref());
    if opts.syslog && !(opts.console && stderr_is_journal) {
        let journald = std::env::var_os("JOURNAL_STREAM")
            .is_some()
            .then(tracing_journald::layer);
        match journald {
            Some(Ok(layer)) => {
                sinks.push("journald");
                layers.push(
                    layer
                        .with_syslog_identifier(opts.ident.clone())
                        .with_filter(filter())
                        .boxed(),
                );
            }
            _ => {
                sinks.push("syslog");
                layers.push(
                    tracing_subscriber::fmt::layer()
                        .with_writer(SyslogWriter::new(
                            opts.facility,
                            &opts.ident,
                            &opts.syslog_socket,
                        ))
                        .with_ansi(false)
                        .without_time()
                        .with_level(false)
                        .with_target(opts.detail)
                        .with_filter(filter())
                        .boxed(),
                );
            }
        }
    }
    // A second init (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(layers).try_init();
    Ok(sinks)
}

/// Whether `$JOURNAL_STREAM` (`DEVICE:INODE`, set by systemd when stdout or
/// stderr is connected to the journal) names our stderr.
fn stderr_is_journal_stream(journal_stream: Option<&str>) -> bool {
    let Some(ids) = journal_stream.and_then(parse_journal_stream) else {
        return false;
    };
    match nix::sys::stat::fstat(std::io::stderr()) {
        // dev_t and ino_t are not u64 on every target.
        #[allow(clippy::unnecessary_cast)]
        Ok(st) => (st.st_dev as u64, st.st_ino as u64) == ids,
        Err(_) => false,
    }
}

/// Parses `$JOURNAL_STREAM` (`"<dev>:<inode>"`, both decimal).
pub fn parse_journal_stream(value: &str) -> Option<(u64, u64)> {
    let (dev, ino) = value.trim().split_once(':')?;
    Some((dev.parse().ok()?, ino.parse().ok()?))
}

/// Syslog severity for a tracing level (RFC 5424 section 6.2.1).
pub fn severity(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        Level::DEBUG | Level::TRACE => 7,
    }
}

/// One BSD-syslog datagram as /dev/log expects it: `<PRI>ident[pid]: msg`.
pub fn format_syslog(
    facility: Facility,
    severity: u8,
    ident: &str,
    pid: u32,
    msg: &[u8],
) -> Vec<u8> {
    let pri = u16::from(facility.0) * 8 + u16::from(severity);
    let mut out = format!("<{pri}>{ident}[{pid}]: ").into_bytes();
    let msg = msg.strip_suffix(b"\n").unwrap_or(msg);
    out.extend_from_slice(msg);
    out
}

/// `MakeWriter` that sends each formatted event as one datagram to /dev/log
/// with the event's severity. Reconnects lazily (syslogd restarts).
#[derive(Clone)]
pub struct SyslogWriter {
    inner: Arc<SyslogInner>,
}

struct SyslogInner {
    facility: Facility,
    ident: String,
    path: PathBuf,
    socket: Mutex<Option<UnixDatagram>>,
}

impl SyslogWriter {
    pub fn new(facility: Facility, ident: &str, path: &Path) -> SyslogWriter {
        SyslogWriter {
            inner: Arc::new(SyslogInner {
                facility,
                ident: ident.to_owned(),
                path: path.to_owned(),
                socket: Mutex::new(None),
            }),
        }
    }
}

impl SyslogInner {
    fn send(&self, severity: u8, msg: &[u8]) {
        let line = format_syslog(
            self.facility,
            severity,
            &self.ident,
            std::process::id(),
            msg,
        );
        let Ok(mut guard) = self.socket.lock() else {
            return;
        };
        for _attempt in 0..2 {
            if guard.is_none() {
                *guard = UnixDatagram::unbound()
                    .and_then(|s| s.connect(&self.path).map(|_| s))
                    .ok();
            }
            match guard.as_ref() {
                Some(sock) if sock.send(&line).is_ok() => return,
                Some(_) => *guard = None,
                None => return,
            }
        }
    }
}

pub struct SyslogLine {
    inner: Arc<SyslogInner>,
    severity: u8,
    buf: Vec<u8>,
}

impl Write for SyslogLine {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for SyslogLine {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            self.inner.send(self.severity, &self.buf);
        }
    }
}

impl<'a> MakeWriter<'a> for SyslogWriter {
    type Writer = SyslogLine;

    fn make_writer(&'a self) -> SyslogLine {
        SyslogLine {
            inner: self.inner.clone(),
            severity: 6,
            buf: Vec::new(),
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> SyslogLine {
        SyslogLine {
            inner: self.inner.clone(),
            severity: severity(meta.level()),
            buf: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syslog_line_format() {
        let line = format_syslog(Facility::DAEMON, 3, "rkeepalived", 42, b"boom\n");
        assert_eq!(line, b"<27>rkeepalived[42]: boom".to_vec());
        let line = format_syslog(Facility::local(7), 7, "x", 1, b"m");
        assert_eq!(line, b"<191>x[1]: m".to_vec());
    }

    #[test]
    fn journal_stream_values() {
        assert_eq!(parse_journal_stream("8:123456"), Some((8, 123456)));
        assert_eq!(parse_journal_stream("8:"), None);
        assert_eq!(parse_journal_stream("x:1"), None);
        assert_eq!(parse_journal_stream(""), None);
        assert!(!stderr_is_journal_stream(Some("0:0")));
        assert!(!stderr_is_journal_stream(None));
    }

    #[test]
    fn severities() {
        assert_eq!(severity(&Level::ERROR), 3);
        assert_eq!(severity(&Level::WARN), 4);
        assert_eq!(severity(&Level::INFO), 6);
        assert_eq!(severity(&Level::DEBUG), 7);
    }
}
