//! One checker kind per file, all behind [`Checker`]. A checker performs a
//! single attempt; retries, delays and up/down state are the scheduler's job
//! ([`crate::fsm`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use rkeepalived_script::ScriptRunner;

use crate::error::CheckFailure;
use crate::spec::{CheckKind, CheckerSpec};

pub mod dns;
pub mod file;
pub mod http;
pub mod misc;
pub mod ping;
pub mod smtp;
pub mod tcp;
pub mod udp;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Result of one check attempt.
#[derive(Debug)]
pub enum CheckOutcome {
    Up,
    /// MISC_CHECK with `misc_dynamic`: up, and the real server's weight
    /// should become this value (exit status - 2).
    UpWithWeight(i32),
    Down(CheckFailure),
}

impl CheckOutcome {
    pub fn is_up(&self) -> bool {
        !matches!(self, CheckOutcome::Down(_))
    }
}

impl From<Result<(), CheckFailure>> for CheckOutcome {
    fn from(r: Result<(), CheckFailure>) -> Self {
        match r {
            Ok(()) => CheckOutcome::Up,
            Err(e) => CheckOutcome::Down(e),
        }
    }
}

/// One health check of one real server.
pub trait Checker: Send + Sync {
    /// keepalived keyword (`TCP_CHECK`, ...), for logs and metrics.
    fn kind(&self) -> &'static str;
    /// Perform one attempt. Must respect its own timeout and be cancel-safe.
    fn check(&self) -> BoxFuture<'_, CheckOutcome>;
    /// Read right after an attempt of this checker ended: how long its
    /// last answer had waited in the kernel before the attempt read it.
    /// That wait is our own lateness (the process was busy with other
    /// checks), not the server's; the driver schedules the next attempt
    /// from the answer's arrival (see `driver::answer_arrival`). The
    /// driver runs one attempt of a checker at a time, so a checker keeps
    /// the value of its last attempt. Zero for checkers that do not know.
    fn answer_waited(&self) -> Duration {
        Duration::ZERO
    }
}

/// Build the checker for `spec`. Scripts run through `runner`.
pub fn build(spec: &Arc<CheckerSpec>, runner: &ScriptRunner) -> Arc<dyn Checker> {
    let timeout = spec.timing.connect_timeout;
    match &spec.kind {
        // The common case at scale shares the plan's spec instead of a copy.
        CheckKind::Tcp => Arc::new(tcp::TcpChecker {
            spec: Arc::clone(spec),
        }),
        CheckKind::Http(h) => Arc::new(http::HttpChecker::new(
            spec.conn.clone(),
            timeout,
            (**h).clone(),
        )),
        CheckKind::Smtp(s) => Arc::new(smtp::SmtpChecker {
            conn: spec.conn.clone(),
            timeout,
            helo_name: s.helo_name.clone(),
        }),
        CheckKind::Dns(d) => Arc::new(dns::DnsChecker {
            conn: spec.conn.clone(),
            timeout,
            spec: (**d).clone(),
        }),
        CheckKind::Misc(m) => Arc::new(misc::MiscChecker {
            runner: runner.clone(),
            spec: (**m).clone(),
            timeout: m.timeout.unwrap_or(spec.timing.delay_loop),
        }),
        CheckKind::Ping => Arc::new(ping::PingChecker::new(spec.conn.clone(), timeout)),
        CheckKind::File(f) => Arc::new(file::FileChecker::new((**f).clone())),
        CheckKind::Bfd(_) => Arc::new(crate::bfd_check::EventDriven),
        CheckKind::Udp(u) => Arc::new(udp::UdpChecker {
            conn: spec.conn.clone(),
            timeout,
            spec: (**u).clone(),
        }),
    }
}
