//! Checker-side notify FIFO events (global `notify_fifo` and
//! `lvs_notify_fifo`), as keepalived 2.2.7's checker writes them:
//! check/ipwrapper.c `notify_fifo_vs()` (`VS [192.0.2.10]:tcp:80 UP`) and
//! `notify_fifo_rs()` (`RS [192.0.2.20]:tcp:8080 [192.0.2.10]:tcp:80 DOWN`),
//! to FIFOs opened by `notify_fifo_open()` (check_daemon.c `start_check()`),
//! each with its optional reader script started with the FIFO's path.
//!
//! The FIFO is created and opened with [`safe_file::open_fifo`] (no
//! symlinks, never someone else's file), and the reader script passes
//! through the same security check as every other script
//! ([`rkeepalived_script::config::prepare_notify`]).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rkeepalived_config::model::{GlobalDefs, NotifyFifo};
use rkeepalived_script::{safe_file, RunAs, ScriptRunner};

use crate::spec::{RealServerSpec, VirtualServerSpec};

/// FIFO reader scripts run for the checker's lifetime.
const FIFO_SCRIPT_TIMEOUT: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// ipwrapper.c `notify_fifo_vs()`: `"VS %s %s\n"`, FMT_VS and the quorum state.
pub fn vs_line(vs: &VirtualServerSpec, quorum_up: bool) -> String {
    format!(
        "VS {} {}\n",
        crate::logfmt::vs(vs),
        if quorum_up { "UP" } else { "DOWN" }
    )
}

/// ipwrapper.c `notify_fifo_rs()`: `"RS %s %s %s\n"`, FMT_RS, FMT_VS and
/// whether the real server is alive.
pub fn rs_line(rs: &RealServerSpec, vs: &VirtualServerSpec, alive: bool) -> String {
    format!(
        "RS {} {} {}\n",
        crate::logfmt::rs(rs, vs),
        crate::logfmt::vs(vs),
        if alive { "UP" } else { "DOWN" }
    )
}

/// The FIFOs the checker writes: the global `notify_fifo`, then
/// `lvs_notify_fifo` unless it is the same path (global_data.c
/// `alloc_global_data()` fix-up: "notify FIFO %s has been specified for
/// global and LVS FIFO - ignoring LVS FIFO"). A FIFO without its own user
/// is handed to `script_user`, as on the VRRP side.
pub fn fifos_from_config(gd: &GlobalDefs) -> Vec<NotifyFifo> {
    let mut out: Vec<NotifyFifo> = Vec::new();
    for f in [&gd.notify_fifo, &gd.lvs_notify_fifo].into_iter().flatten() {
        if out.iter().any(|o| o.path == f.path) {
            tracing::info!(
                "notify FIFO {} has been specified for global and LVS FIFO - ignoring LVS FIFO",
                f.path.display()
            );
            continue;
        }
        let mut f = f.clone();
        if f.user.is_none() {
            f.user = gd.script_user.clone();
        }
        out.push(f);
    }
    out
}

struct Fifo {
    path: PathBuf,
    file: Option<std::fs::File>,
    /// We created it: removed again when closed (core/notify.c
    /// `notify_fifo_close()` unlinks only FIFOs it created).
    created: bool,
}

impl Drop for Fifo {
    fn drop(&mut self) {
        if self.created {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The open event FIFOs and their reader scripts.
#[derive(Default)]
pub struct EventFifos {
    config: Vec<NotifyFifo>,
    fifos: Vec<Fifo>,
    scripts: Vec<tokio::task::JoinHandle<()>>,
    /// Lines that could not be written (no reader buffer left, closed FIFO).
    pub errors: u64,
}

impl EventFifos {
    /// Open `config`'s FIFOs and start their scripts; a reload with the
    /// same FIFOs keeps them (and their scripts) as they are.
    pub fn configure(&mut self, config: &[NotifyFifo], runner: &ScriptRunner) {
        if self.config == config {
            return;
        }
        self.close();
        self.config = config.to_vec();
        for f in config {
            let owner = f.user.as_ref().and_then(|u| {
                RunAs::resolve(&u.user, u.group.as_deref())
                    .map_err(|e| {
                        tracing::warn!(user = %u.user, error = %e, "cannot resolve the notify FIFO's user; the FIFO stays root's");
                    })
                    .ok()
            });
            self.fifos.push(open(&f.path, owner.as_ref()));
            if let Some(script) = &f.script {
                match rkeepalived_script::config::prepare_notify(script, runner.security()) {
                    Ok(p) => {
                        let runner = runner.clone();
                        let arg = f.path.display().to_string();
                        let script = p.script;
                        self.scripts.push(tokio::spawn(async move {
                            if let Err(e) = runner.run(&script, &[arg], FIFO_SCRIPT_TIMEOUT).await {
                                tracing::warn!(script = %script, error = %e, "notify FIFO script failed");
                            }
                        }));
                    }
                    Err(e) => {
                        tracing::error!(command = %script.command, "notify FIFO script disabled: {e}")
                    }
                }
            }
        }
    }

    /// Write one event line to every FIFO (keepalived ignores write errors;
    /// we count them).
    pub fn write(&mut self, line: &str) {
        for f in &mut self.fifos {
            if let Some(file) = f.file.as_mut() {
                if let Err(e) = file.write_all(line.as_bytes()) {
                    self.errors += 1;
                    tracing::debug!(path = %f.path.display(), error = %e, "notify FIFO write failed");
                }
            }
        }
    }

    /// check_daemon.c `checker_terminate_phase2()` / `reload_check_thread()`:
    /// `notify_fifo_close()` (reader scripts are killed too).
    pub fn close(&mut self) {
        for s in self.scripts.drain(..) {
            s.abort();
        }
        self.fifos.clear();
        self.config.clear();
    }
}

/// lib/notify.c `fifo_open`, made symlink-safe ([`safe_file::open_fifo`]);
/// a FIFO that cannot be opened is logged and left unused, as keepalived does.
fn open(path: &Path, owner: Option<&RunAs>) -> Fifo {
    match safe_file::open_fifo(path, owner.map(|u| (u.uid, u.gid))) {
        Ok(opened) => Fifo {
            path: path.to_path_buf(),
            file: Some(opened.file),
            created: opened.created,
        },
        Err(e) => {
            tracing::error!(path = %path.display(), "unable to open notify fifo: {e}");
            Fifo {
                path: path.to_path_buf(),
                file: None,
                created: false,
            }
        }
    }
}
