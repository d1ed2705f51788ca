//! Running external scripts safely, the way keepalived does.
//!
//! * [`parse_command_line`] splits a keepalived `script "..."` string into an
//!   argv (quotes and backslash escapes like keepalived's parser).
//! * [`RunAs`] is the uid/gid a script runs as: the per-script `user`, else
//!   `global_defs { script_user }`, else `keepalived_script` if that user
//!   exists, else (without `enable_script_security` only) the daemon's user
//!   ([`RunAs::default_script_user`]).
//! * [`prepare`] is the one entry point every script the daemon runs goes
//!   through: command line, user (never a fallback to root), PATH search,
//!   symlink resolution and [`check_security`].
//! * [`config::secure_config`] applies it to a whole configuration with
//!   keepalived's outcomes (scripts removed, "Disabling ..." wording).
//! * [`check_security`] implements keepalived's `check_script_secure()`
//!   (lib/notify.c): when a script would run as root, the file and every
//!   path component must not be writable by a non-root user. With
//!   `enable_script_security` such scripts are refused.
//! * [`ScriptRunner::run`] executes one script: cleaned environment, own
//!   process group, privileges dropped, bounded output capture, timeout that
//!   kills the whole process group, always reaped (no zombies), also when the
//!   future is cancelled.
//! * [`journal`] is the supervisor's record of what each child was handed
//!   (VIPs, routes, rules, IPVS entries), for the respawn's clean-up.
//! * [`safe_file`] opens the files the daemon writes (dumps, pid files, logs,
//!   notify FIFOs) without following planted symlinks (keepalived's
//!   `fopen_safe`).

mod cmdline;
pub mod config;
mod error;
pub mod journal;
mod runner;
pub mod safe_file;
mod security;
mod user;

pub use cmdline::parse_command_line;
pub use error::{CommandLineError, Refusal, ScriptError};
pub use runner::{ExitOutcome, ExitStatusKind, ScriptRunner, DEFAULT_MAX_OUTPUT, DEFAULT_PATH};
pub use security::{check_security, prepare, Prepared, ScriptSecurity, SecurityVerdict};
pub use user::RunAs;

/// One configured script: its argv (program first) and who runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// Program and its configured arguments. Never empty.
    pub argv: Vec<String>,
    /// Per-script `user USER [GROUP]`; `None` = the runner's default user.
    pub user: Option<RunAs>,
}

impl Script {
    /// Parse a keepalived script string (`"/path/to/x arg 'quoted arg'"`).
    pub fn parse(command_line: &str) -> Result<Self, CommandLineError> {
        Ok(Self {
            argv: parse_command_line(command_line)?,
            user: None,
        })
    }

    /// Same script, run as `user`.
    pub fn with_user(mut self, user: RunAs) -> Self {
        self.user = Some(user);
        self
    }

    /// The program (first word).
    pub fn program(&self) -> &str {
        self.argv.first().map(String::as_str).unwrap_or("")
    }
}

impl std::fmt::Display for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.argv.join(" "))
    }
}
