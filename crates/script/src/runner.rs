//! Executing one script: own process group, dropped privileges, the
//! daemon's environment, bounded output, timeout killing the whole group.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::error::ScriptError;
use crate::security::{resolve_program, ScriptSecurity};
use crate::Script;

/// The `PATH` a script sees when the daemon has none, and where a bare
/// program name is looked up (keepalived lib/notify.c falls back to the
/// standard path the same way).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Default cap on captured stdout and on captured stderr, each.
pub const DEFAULT_MAX_OUTPUT: usize = 64 * 1024;
/// After SIGTERM on timeout, how long the group gets before SIGKILL
/// (keepalived also escalates from SIGTERM to SIGKILL).
const DEFAULT_KILL_GRACE: Duration = Duration::from_secs(1);
/// After the script exits, how long we keep reading output that a leftover
/// background process may still hold open.
const OUTPUT_DRAIN_AFTER_EXIT: Duration = Duration::from_millis(200);

/// How a script ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatusKind {
    /// Normal exit with this code (0..=255).
    Exited(i32),
    /// Killed by this signal (not by us).
    Signaled(i32),
    /// Ran past its timeout; its process group was killed.
    TimedOut,
}

/// What a finished script produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExitOutcome {
    pub status: ExitStatusKind,
    /// First `max_output` bytes of stdout.
    pub stdout: Vec<u8>,
    /// First `max_output` bytes of stderr.
    pub stderr: Vec<u8>,
    /// Whether stdout or stderr was cut at `max_output`.
    pub output_truncated: bool,
    pub elapsed: Duration,
}

impl ExitOutcome {
    /// Exit code 0.
    pub fn success(&self) -> bool {
        self.status == ExitStatusKind::Exited(0)
    }

    /// The exit code, if the script exited normally.
    pub fn exit_code(&self) -> Option<i32> {
        match self.status {
            ExitStatusKind::Exited(c) => Some(c),
            _ => None,
        }
    }
}

/// Runs scripts under one [`ScriptSecurity`] policy. Cheap to clone; share it.
#[derive(Debug, Clone)]
pub struct ScriptRunner {
    security: ScriptSecurity,
    max_output: usize,
    kill_grace: Duration,
    extra_env: Vec<(String, String)>,
}

impl ScriptRunner {
    pub fn new(security: ScriptSecurity) -> Self {
        Self {
            security,
            max_output: DEFAULT_MAX_OUTPUT,
            kill_grace: DEFAULT_KILL_GRACE,
            extra_env: Vec::new(),
        }
    }

    /// Cap captured stdout/stderr at `bytes` each (the rest is drained and dropped).
    pub fn with_max_output(mut self, bytes: usize) -> Self {
        self.max_output = bytes;
        self
    }

    /// Time between SIGTERM and SIGKILL when a script times out.
    pub fn with_kill_grace(mut self, grace: Duration) -> Self {
        self.kill_grace = grace;
        self
    }

    /// Extra environment variables every script gets (on top of the
    /// daemon's environment).
    pub fn with_env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_env.push((key.into(), value.into()));
        self
    }

    pub fn security(&self) -> &ScriptSecurity {
        &self.security
    }

    /// Run `cmd` with its configured arguments followed by `args`, for at
    /// most `timeout`. Returns how it ended; `Err` only if it could not be
    /// started or waited for. Cancel-safe: dropping the future kills the
    /// script's process group, and tokio reaps the child.
    pub async fn run(
        &self,
        cmd: &Script,
        args: &[String],
        timeout: Duration,
    ) -> Result<ExitOutcome, ScriptError> {
        let started = Instant::now();
        // Never falls back to root: no user and no default user is an error.
        let run_as = self.security.run_as(cmd)?;
        let program = resolve_program(cmd.program(), run_as)?;
        let program_name = program.display().to_string();
        let mut command = tokio::process::Command::new(&program);
        command
            .args(cmd.argv.iter().skip(1))
            .args(args)
            // keepalived lib/notify.c `system_call()`: execve(..., environ):
            // scripts get the daemon's environment (systemd Environment=,
            // cloud credentials for failover scripts); PATH only when the
            // daemon has none.
            .env(
                "PATH",
                std::env::var_os("PATH")
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| DEFAULT_PATH.into()),
            )
            .envs(self.extra_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Own process group, so a timeout kills everything it started.
            .process_group(0)
            .kill_on_drop(true);
        let switch = run_as.uid != nix::unistd::getuid().as_raw()
            || run_as.gid != nix::unistd::getgid().as_raw();
        if switch {
            if !nix::unistd::geteuid().is_root() {
                if run_as.uid == 0 {
                    // Asked for root, we are less privileged: run as we are.
                } else {
                    // Never as the daemon's user instead of the one asked for.
                    return Err(ScriptError::CannotSwitchUser {
                        program: program_name,
                        uid: run_as.uid,
                        gid: run_as.gid,
                    });
                }
            } else {
                // std drops supplementary groups when root changes uid.
                command.uid(run_as.uid).gid(run_as.gid);
            }
        }
        let mut child = command.spawn().map_err(|source| ScriptError::Spawn {
            program: program_name.clone(),
            source,
        })?;
        let group = child.id().map(|pid| GroupGuard {
            pgid: Pid::from_raw(pid as i32),
            armed: true,
        });
        let max = self.max_output;
        let stdout = child
            .stdout
            .take()
            .map(|r| tokio::spawn(read_bounded(r, max)));
        let stderr = child
            .stderr
            .take()
            .map(|r| tokio::spawn(read_bounded(r, max)));

        let wait_result = tokio::time::timeout(timeout, child.wait()).await;
        let status = match wait_result {
            Ok(Ok(status)) => {
                if let Some(mut g) = group {
                    // Leftover background processes are the script's business, as in keepalived.
                    g.armed = false;
                }
                match (status.code(), status.signal()) {
                    (Some(code), _) => ExitStatusKind::Exited(code),
                    (None, Some(sig)) => ExitStatusKind::Signaled(sig),
                    (None, None) => ExitStatusKind::Signaled(0),
                }
            }
            Ok(Err(source)) => {
                return Err(ScriptError::Wait {
                    program: program_name,
                    source,
                })
            }
            Err(_elapsed) => {
                tracing::warn!(script = %cmd, ?timeout, "script timed out; killing its process group");
                if let Some(g) = &group {
                    g.signal(Signal::SIGTERM);
                }
                if tokio::time::timeout(self.kill_grace, child.wait())
                    .await
                    .is_err()
                {
                    if let Some(g) = &group {
                        g.signal(Signal::SIGKILL);
                    }
                    child.wait().await.map_err(|source| ScriptError::Wait {
                        program: program_name.clone(),
                        source,
                    })?;
                }
                // Kill any member that ignored SIGTERM even if the leader exited.
                drop(group);
                ExitStatusKind::TimedOut
            }
        };
        let (stdout, t1) = collect(stdout).await;
        let (stderr, t2) = collect(stderr).await;
        Ok(ExitOutcome {
            status,
            stdout,
            stderr,
            output_truncated: t1 || t2,
            elapsed: started.elapsed(),
        })
    }
}

/// Kills the process group on drop while armed (timeout or cancelled future).
struct GroupGuard {
    pgid: Pid,
    armed: bool,
}

impl GroupGuard {
    fn signal(&self, sig: Signal) {
        // ESRCH (group already gone) is fine.
        let _ = killpg(self.pgid, sig);
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if self.armed {
            self.signal(Signal::SIGKILL);
        }
    }
}

async fn read_bounded<R: AsyncRead + Unpin>(mut reader: R, max: usize) -> (Vec<u8>, bool) {
    let mut captured = Vec::new();
    let mut truncated = false;
    let mut chunk = [0u8; 4096];
    loop {
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let room = max.saturating_sub(captured.len());
                if n > room {
                    truncated = true;
                }
                captured.extend_from_slice(&chunk[..n.min(room)]);
            }
        }
    }
    (captured, truncated)
}

async fn collect(task: Option<tokio::task::JoinHandle<(Vec<u8>, bool)>>) -> (Vec<u8>, bool) {
    let Some(mut task) = task else {
        return (Vec::new(), false);
    };
    match tokio::time::timeout(OUTPUT_DRAIN_AFTER_EXIT, &mut task).await {
        Ok(Ok(out)) => out,
        Ok(Err(_)) => (Vec::new(), false),
        Err(_) => {
            // A background process keeps the pipe open; stop reading.
            task.abort();
            (Vec::new(), true)
        }
    }
}
