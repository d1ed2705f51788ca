//! Typed errors, grouped by where they happen.

use std::io;

use crate::wire::{dns::DnsError, http::HttpParseError, icmp::IcmpError, smtp::SmtpParseError};

/// Why one check attempt failed (the real server is not healthy, or the
/// check could not be performed). Never fatal to the engine.
#[derive(Debug, thiserror::Error)]
pub enum CheckFailure {
    #[error("socket setup failed: {0}")]
    Socket(io::Error),
    #[error("connect failed: {0}")]
    Connect(io::Error),
    #[error("timed out during {0}")]
    Timeout(&'static str),
    #[error("I/O error: {0}")]
    Io(io::Error),
    #[error("TLS handshake failed: {0}")]
    Tls(io::Error),
    #[error("bad HTTP response: {0}")]
    Http(#[from] HttpParseError),
    #[error("HTTP status code {got} for {path} not accepted")]
    HttpStatus { path: String, got: u16 },
    #[error("MD5 digest {got} for {path} does not match expected {expected}")]
    Digest {
        path: String,
        got: String,
        expected: String,
    },
    #[error("bad SMTP reply: {0}")]
    Smtp(#[from] SmtpParseError),
    #[error("SMTP {stage}: expected {expected}, got {got}")]
    SmtpCode {
        stage: &'static str,
        expected: u16,
        got: u16,
    },
    #[error("DNS: {0}")]
    Dns(#[from] DnsError),
    #[error("DNS reply RCODE {0}")]
    DnsRcode(u8),
    #[error("ICMP: {0}")]
    Icmp(#[from] IcmpError),
    #[error("destination unreachable: {0}")]
    Unreachable(io::Error),
    #[error("no reply")]
    NoReply,
    #[error("reply of {len} bytes outside [{min}, {max}]")]
    ReplyLength { len: usize, min: usize, max: usize },
    #[error("reply does not match require_reply")]
    ReplyMismatch,
    #[error("connection closed by peer")]
    Closed,
    #[error("script exited with status {0}")]
    ScriptExit(i32),
    #[error("script killed by signal {0}")]
    ScriptSignal(i32),
    #[error("script timed out")]
    ScriptTimeout,
    #[error("script could not run: {0}")]
    Script(#[from] rkeepalived_script::ScriptError),
    #[error("script refused at load time: {0}")]
    ScriptRefused(String),
    /// HTTP_GET/SSL_GET `regex` (or `regex_no_match`) not satisfied.
    #[error("regex {matched} for {path}")]
    Regex { path: String, matched: &'static str },
    /// FILE_CHECK: the tracked file's value means FAULT.
    #[error("tracked file {path} has value {value}: FAULT")]
    TrackFile { path: String, value: i64 },
    /// A bug in a checker: the attempt counts as failed, the checker goes on.
    #[error("checker panicked")]
    Panicked,
}

impl CheckFailure {
    /// Short stable label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            CheckFailure::Socket(_) => "socket",
            CheckFailure::Connect(_) => "connect",
            CheckFailure::Timeout(_) => "timeout",
            CheckFailure::Io(_) | CheckFailure::Closed => "io",
            CheckFailure::Tls(_) => "tls",
            CheckFailure::Http(_)
            | CheckFailure::Smtp(_)
            | CheckFailure::Dns(_)
            | CheckFailure::Icmp(_) => "protocol",
            CheckFailure::HttpStatus { .. } => "status_code",
            CheckFailure::Digest { .. } => "digest",
            CheckFailure::SmtpCode { .. } | CheckFailure::DnsRcode(_) => "reply_code",
            CheckFailure::Unreachable(_) => "unreachable",
            CheckFailure::NoReply => "no_reply",
            CheckFailure::ReplyLength { .. } | CheckFailure::ReplyMismatch => "reply_mismatch",
            CheckFailure::ScriptExit(_) | CheckFailure::ScriptSignal(_) => "script_exit",
            CheckFailure::ScriptTimeout => "script_timeout",
            CheckFailure::Script(_) | CheckFailure::ScriptRefused(_) => "script_error",
            CheckFailure::TrackFile { .. } => "track_file",
            CheckFailure::Regex { .. } => "regex",
            CheckFailure::Panicked => "internal",
        }
    }
}

/// Errors turning the configuration into a check plan (config-load time).
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("virtual server {vs}: {msg}")]
    VirtualServer { vs: String, msg: String },
    #[error("virtual server {vs}, real server {rs}: {msg}")]
    RealServer { vs: String, rs: String, msg: String },
    #[error("script: {0}")]
    Script(#[from] rkeepalived_script::ScriptError),
    #[error("script command line: {0}")]
    CommandLine(#[from] rkeepalived_script::CommandLineError),
}

/// Errors that end [`crate::run`].
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("invalid check configuration: {0}")]
    Plan(#[from] PlanError),
    #[error("address watcher failed: {0}")]
    AddrWatch(io::Error),
}
