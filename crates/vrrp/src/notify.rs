//! State-change notifications: notify scripts (via `rkeepalived_script`) and
//! notify FIFO lines exactly like keepalived (`INSTANCE "VI_1" MASTER 100`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rkeepalived_config::model::{GlobalDefs, Notify, NotifyFifo, ScriptUser};
use rkeepalived_script::{safe_file, RunAs, Script, ScriptRunner, ScriptSecurity};

/// keepalived gives notify scripts no timeout (vrrp_notify.c starts them
/// with `notify_exec()`, which never kills them; only STOP has one):
/// a failover script may legitimately run for minutes (cloud API calls), so
/// neither do we.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
/// keepalived runs STOP notify scripts with a one-second timeout
/// (vrrp_notify.c: `system_call_script(..., TIMER_HZ, script)` for
/// VRRP_STATE_STOP) and its VRRP process waits for them before it exits.
const STOP_NOTIFY_TIMEOUT: Duration = Duration::from_secs(1);
/// Upper bound on waiting for the STOP scripts at shutdown: their timeout
/// plus the runner's SIGTERM -> SIGKILL grace, with margin.
const STOP_SCRIPTS_WAIT: Duration = Duration::from_secs(4);
/// FIFO reader scripts run for the daemon's lifetime.
const FIFO_SCRIPT_TIMEOUT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// What changed state: an instance or a sync group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject<'a> {
    Instance(&'a str),
    Group(&'a str),
}

/// The FIFO / `notify` script line: `INSTANCE "VI_1" MASTER 100` or
/// `GROUP "G1" BACKUP 0`: keepalived's `notify_fifo` (vrrp_notify.c) prints
/// `"%s \"%s\" %s %d\n"` for both, a group's priority always being 0.
pub fn fifo_line(subject: Subject<'_>, state: &str, priority: u8) -> String {
    match subject {
        Subject::Instance(name) => format!("INSTANCE \"{name}\" {state} {priority}\n"),
        Subject::Group(name) => format!("GROUP \"{name}\" {state} 0\n"),
    }
}

/// Arguments keepalived passes to a generic `notify` script.
pub fn notify_args(subject: Subject<'_>, state: &str, priority: u8) -> Vec<String> {
    match subject {
        Subject::Instance(name) => vec![
            "INSTANCE".into(),
            name.into(),
            state.into(),
            priority.to_string(),
        ],
        // notify_script_exec(gscript, "GROUP", state, gname, 0).
        Subject::Group(name) => vec!["GROUP".into(), name.into(), state.into(), "0".into()],
    }
}

/// Who a FIFO the daemon creates is handed to (`notify_fifo PATH [USER
/// [GROUP]]`). Only ownership: an unknown user leaves the FIFO ours (root),
/// it never makes a script run as anyone.
fn fifo_owner(user: &Option<ScriptUser>) -> Option<RunAs> {
    let u = user.as_ref()?;
    match RunAs::resolve(&u.user, u.group.as_deref()) {
        Ok(r) => Some(r),
        Err(e) => {
            tracing::warn!(user = %u.user, error = %e, "cannot resolve the notify FIFO's user; the FIFO stays root's");
            None
        }
    }
}

/// Every notify script goes through the one security check
/// ([`rkeepalived_script::prepare`]) each time it is about to run: a script
/// that became insecure, lost its user, or whose user is unknown is not run
/// (never as root instead).
fn to_script(n: &Notify, security: &ScriptSecurity) -> Option<Script> {
    match rkeepalived_script::config::prepare_notify(n, security) {
        Ok(p) => Some(p.script),
        Err(e) => {
            tracing::error!(command = %n.command, "notify script disabled: {e}");
            None
        }
    }
}

struct Fifo {
    path: PathBuf,
    file: Option<std::fs::File>,
}

impl Fifo {
    /// keepalived's `fifo_open` (lib/notify.c), made symlink-safe: see
    /// [`safe_file::open_fifo`]. A symlink, a regular file or a FIFO owned by
    /// anyone but us or the FIFO's configured user is refused with an error
    /// logged, and the FIFO stays unused (keepalived too drops a FIFO it
    /// cannot open).
    fn open(path: &Path, owner: Option<&RunAs>) -> Fifo {
        let file = match safe_file::open_fifo(path, owner.map(|u| (u.uid, u.gid))) {
            Ok(opened) => Some(opened.file),
            Err(e) => {
                tracing::error!(path = %path.display(), "unable to open notify fifo: {e}");
                None
            }
        };
        Fifo {
            path: path.to_path_buf(),
            file,
        }
    }

    fn write(&mut self, line: &str) -> bool {
        match self.file.as_mut().map(|f| f.write_all(line.as_bytes())) {
            Some(Ok(())) => true,
            Some(Err(e)) => {
                tracing::warn!(path = %self.path.display(), error = %e, "notify FIFO write failed");
                false
            }
            None => false,
        }
    }
}

/// Runs notify scripts and writes FIFO lines. Script runs are spawned, so a
/// slow script never delays adverts.
pub struct Notifier {
    runner: ScriptRunner,
    fifos: Vec<Fifo>,
    pub errors: u64,
    /// STOP notify scripts still running: the engine waits for them before
    /// it returns (else the child's exit would kill them, and a generic
    /// `notify` script would never see STOP).
    stop_scripts: Vec<tokio::task::JoinHandle<()>>,
}

impl Notifier {
    pub fn new(global: &GlobalDefs) -> Notifier {
        let security = rkeepalived_script::config::security_from_config(global);
        let runner = ScriptRunner::new(security);
        let mut fifos = Vec::new();
        for f in [&global.notify_fifo, &global.vrrp_notify_fifo]
            .into_iter()
            .flatten()
        {
            // keepalived hands a FIFO it creates to the FIFO's user
            // (`notify_fifo PATH [USER [GROUP]]`), else the script user.
            let owner = fifo_owner(&f.user).or_else(|| fifo_owner(&global.script_user));
            fifos.push(Fifo::open(&f.path, owner.as_ref()));
            Self::start_fifo_script(&runner, f);
        }
        Notifier {
            runner,
            fifos,
            errors: 0,
            stop_scripts: Vec::new(),
        }
    }

    pub fn runner(&self) -> &ScriptRunner {
        &self.runner
    }

    fn start_fifo_script(runner: &ScriptRunner, fifo: &NotifyFifo) {
        let Some(script) = fifo
            .script
            .as_ref()
            .and_then(|n| to_script(n, runner.security()))
        else {
            return;
        };
        let runner = runner.clone();
        let arg = fifo.path.display().to_string();
        tokio::spawn(async move {
            if let Err(e) = runner.run(&script, &[arg], FIFO_SCRIPT_TIMEOUT).await {
                tracing::warn!(script = %script, error = %e, "notify FIFO script failed");
            }
        });
    }

    /// Report a state change: the state-specific script (no arguments, like
    /// keepalived), the generic `notify` script and every FIFO.
    pub fn notify(
        &mut self,
        subject: Subject<'_>,
        state: &str,
        priority: u8,
        specific: Option<&Notify>,
        generic: Option<&Notify>,
    ) {
        let line = fifo_line(subject, state, priority);
        for f in &mut self.fifos {
            if !f.write(&line) {
                self.errors += 1;
            }
        }
        let security = self.runner.security();
        let specific = specific.and_then(|n| to_script(n, security));
        let generic = generic.and_then(|n| to_script(n, security));
        let stop = state == "STOP";
        let timeout = if stop {
            STOP_NOTIFY_TIMEOUT
        } else {
            NOTIFY_TIMEOUT
        };
        for (s, args) in [
            specific.map(|s| (s, Vec::new())),
            generic.map(|s| (s, notify_args(subject, state, priority))),
        ]
        .into_iter()
        .flatten()
        {
            let task = self.spawn(s, args, timeout);
            if stop {
                // Instances stopped by reloads: keep only the running ones.
                self.stop_scripts.retain(|t| !t.is_finished());
                self.stop_scripts.push(task);
            }
        }
    }

    /// A line for the FIFOs only (priority changes: no script runs).
    pub fn fifo_only(&mut self, subject: Subject<'_>, event: &str, priority: u8) {
        let line = fifo_line(subject, event, priority);
        for f in &mut self.fifos {
            if !f.write(&line) {
                self.errors += 1;
            }
        }
    }

    /// Waits (bounded) for the STOP notify scripts started so far, as
    /// keepalived's VRRP process does before exiting.
    pub async fn finish_stop_scripts(&mut self) {
        let tasks = std::mem::take(&mut self.stop_scripts);
        let all = async {
            for t in tasks {
                let _ = t.await;
            }
        };
        if tokio::time::timeout(STOP_SCRIPTS_WAIT, all).await.is_err() {
            tracing::warn!("notify_stop scripts still running after {STOP_SCRIPTS_WAIT:?}");
        }
    }

    fn spawn(
        &self,
        script: Script,
        args: Vec<String>,
        timeout: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let runner = self.runner.clone();
        tokio::spawn(async move {
            match runner.run(&script, &args, timeout).await {
                Ok(out) if !out.success() => {
                    tracing::warn!(script = %script, status = ?out.status, "notify script failed")
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(script = %script, error = %e, "notify script could not run")
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The child re-checks each notify script before running it: an unknown
    /// user disables it (never a fallback to the default user or root).
    #[test]
    fn refused_notify_scripts_are_not_built() {
        let security = ScriptSecurity::root(true);
        let unknown = Notify {
            command: "/bin/true".into(),
            user: Some(rkeepalived_config::model::ScriptUser {
                user: "rkv-no-such-user".into(),
                group: None,
            }),
        };
        assert!(to_script(&unknown, &security).is_none());
        let ok = Notify {
            command: "/bin/true".into(),
            user: None,
        };
        let s = to_script(&ok, &security).expect("safe script");
        assert_eq!(s.user, Some(rkeepalived_script::RunAs::root()));
    }

    #[test]
    fn fifo_lines_match_keepalived() {
        assert_eq!(
            fifo_line(Subject::Instance("VI_1"), "MASTER", 100),
            "INSTANCE \"VI_1\" MASTER 100\n"
        );
        assert_eq!(
            fifo_line(Subject::Group("G"), "BACKUP", 0),
            "GROUP \"G\" BACKUP 0\n"
        );
        assert_eq!(
            notify_args(Subject::Instance("VI_1"), "FAULT", 90),
            vec!["INSTANCE", "VI_1", "FAULT", "90"]
        );
        assert_eq!(
            notify_args(Subject::Group("G"), "MASTER", 0),
            vec!["GROUP", "G", "MASTER", "0"]
        );
    }
}
