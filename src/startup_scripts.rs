//! global_defs `startup_script` / `shutdown_script` (with their
//! `*_script_timeout`), run by the supervisor as keepalived's parent does
//! (core/main.c):
//! - the startup script runs once, after the main pid file is written and
//!   before any child starts; the children start when it has finished,
//!   whatever its exit status, or when it was killed after its timeout
//!   (`run_startup_script`, `startup_script_completed`). It is not run again
//!   at a reload.
//! - the shutdown script runs once the children have stopped, and the daemon
//!   exits after it finished or was killed (`sigend`,
//!   `shutdown_script_completed`). A reload's configuration replaces it.
//! - on timeout the script's process group gets SIGTERM, then SIGKILL two
//!   seconds later (`handle_child_timeout`).
//!
//! Both go through the same security path as every other script
//! ([`rkeepalived_script::config::prepare_notify`]): `secure_config` already
//! removed a refused one at load time (keepalived's
//! `check_start_stop_script_secure`), and the check is repeated right before
//! the run, so a script that became insecure, or whose user vanished, is not
//! run, and never as root instead of its user.

use std::time::Duration;

use rkeepalived_config::model::{GlobalDefs, Notify};
use rkeepalived_script::{ExitStatusKind, ScriptRunner, ScriptSecurity};

/// keepalived's `handle_child_timeout`: SIGTERM, then SIGKILL after 2 s.
const KILL_GRACE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Startup,
    Shutdown,
}

impl Which {
    /// keepalived's `type` string in `startup_shutdown_script_completed`.
    fn type_str(self) -> &'static str {
        match self {
            Which::Startup => "startup script",
            Which::Shutdown => "shutdown script",
        }
    }
    fn word(self) -> &'static str {
        match self {
            Which::Startup => "startup",
            Which::Shutdown => "shutdown",
        }
    }
}

/// The start/stop scripts of one loaded configuration.
#[derive(Debug, Clone, Default)]
pub struct StartStopScripts {
    startup: Option<(Notify, Duration)>,
    shutdown: Option<(Notify, Duration)>,
    security: Option<ScriptSecurity>,
}

impl StartStopScripts {
    pub fn of(gd: &GlobalDefs) -> StartStopScripts {
        let startup = gd
            .startup_script
            .clone()
            .map(|n| (n, gd.startup_script_timeout));
        let shutdown = gd
            .shutdown_script
            .clone()
            .map(|n| (n, gd.shutdown_script_timeout));
        // The policy's problems were reported when the config was loaded.
        let security = (startup.is_some() || shutdown.is_some())
            .then(|| rkeepalived_script::config::policy(gd).0);
        StartStopScripts {
            startup,
            shutdown,
            security,
        }
    }

    pub fn has(&self, which: Which) -> bool {
        match which {
            Which::Startup => self.startup.is_some(),
            Which::Shutdown => self.shutdown.is_some(),
        }
    }

    /// Runs the script (if configured) to completion or timeout, logging
    /// keepalived's lines; `detail` is keepalived's `-D` (LOG_DETAIL).
    pub async fn run(&self, which: Which, detail: bool) {
        let (slot, Some(security)) = (
            match which {
                Which::Startup => &self.startup,
                Which::Shutdown => &self.shutdown,
            },
            &self.security,
        ) else {
            return;
        };
        let Some((notify, timeout)) = slot else {
            return;
        };
        run_one(which, notify, *timeout, security, detail).await;
    }
}

async fn run_one(
    which: Which,
    notify: &Notify,
    timeout: Duration,
    security: &ScriptSecurity,
    detail: bool,
) {
    let word = which.word();
    let script = match rkeepalived_script::config::prepare_notify(notify, security) {
        Ok(p) => p.script,
        Err(e) => {
            tracing::error!(
                "Call of {word} script {} failed: {e} - not running it",
                notify.command
            );
            return;
        }
    };
    let program = script.program().to_string();
    if detail {
        tracing::info!("Running {word} script {program}");
    }
    let runner = ScriptRunner::new(security.clone()).with_kill_grace(KILL_GRACE);
    let type_str = which.type_str();
    match runner.run(&script, &[], timeout).await {
        Err(e) => tracing::error!("Call of {word} script {program} failed ({e})"),
        Ok(outcome) => match outcome.status {
            ExitStatusKind::TimedOut => tracing::info!("{type_str} timed out"),
            // keepalived's wording, doubled "script" included
            // (startup_shutdown_script_completed: "%s script failed" with
            // type "startup script"), so operators' log filters still match.
            ExitStatusKind::Exited(0) => {
                if detail {
                    tracing::info!("{type_str} script succeeded");
                }
            }
            ExitStatusKind::Exited(code) => {
                tracing::info!("{type_str} script failed, status {code}")
            }
            ExitStatusKind::Signaled(sig) => {
                tracing::info!("{type_str} terminated by signal {sig}")
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_configured_means_nothing_to_run() {
        let s = StartStopScripts::of(&GlobalDefs::default());
        assert!(!s.has(Which::Startup) && !s.has(Which::Shutdown));
    }

    #[test]
    fn timeouts_follow_their_script() {
        let gd = GlobalDefs {
            startup_script: Some(Notify {
                command: "/bin/true".into(),
                user: None,
            }),
            startup_script_timeout: Duration::from_secs(3),
            ..GlobalDefs::default()
        };
        let s = StartStopScripts::of(&gd);
        assert!(s.has(Which::Startup) && !s.has(Which::Shutdown));
        assert_eq!(
            s.startup.as_ref().map(|x| x.1),
            Some(Duration::from_secs(3))
        );
    }
}
