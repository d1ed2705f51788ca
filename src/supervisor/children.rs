//! Starting a child: its IPC socket pair, the re-exec of this binary in
//! the child's role, and the per-child link task.

use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use tokio::net::UnixStream;
use tokio::sync::mpsc;

use super::*;

impl Supervisor {
    pub(super) async fn start_child(&mut self, role: Role) {
        let generation = self.next_generation;
        self.next_generation += 1;
        let consecutive_failures = self
            .slots
            .get(&role)
            .map(|s| s.consecutive_failures)
            .unwrap_or(0);
        match self.spawn_child(role, generation).await {
            Ok((pid, link, kill)) => {
                // vrrp_daemon.c / check_daemon.c start_*_child.
                tracing::info!(%role, pid, "Starting {} child process, pid={pid}", role.keepalived_name());
                if let Err(e) = pidfile::write_pid(self.cli.pid_file_for(role), pid) {
                    tracing::warn!(%role, "{e}");
                }
                self.slots.insert(
                    role,
                    Slot {
                        generation,
                        pid: Some(pid),
                        kill: Some(kill),
                        started: Instant::now(),
                        consecutive_failures,
                        respawn_at: None,
                        probing: false,
                        missed_probes: 0,
                    },
                );
                if let Ok(mut c) = self.shared.children.lock() {
                    c.insert(
                        role,
                        ChildView {
                            pid,
                            link,
                            started: Instant::now(),
                            ready: false,
                        },
                    );
                }
                if !self.ready_sent {
                    self.awaiting_ready.insert(role);
                }
            }
            Err(e) => {
                tracing::error!(%role, "cannot start {role} child: {e}");
                let delay = respawn_delay(consecutive_failures);
                self.slots.insert(
                    role,
                    Slot {
                        generation,
                        pid: None,
                        kill: None,
                        started: Instant::now(),
                        consecutive_failures: consecutive_failures + 1,
                        respawn_at: Some(tokio::time::Instant::now() + delay),
                        probing: false,
                        missed_probes: 0,
                    },
                );
            }
        }
    }

    /// Must run on the thread that will outlive the child: PR_SET_PDEATHSIG
    /// fires when the forking *thread* exits. The supervisor runs on a
    /// current-thread runtime, so that is the main thread.
    pub(super) async fn spawn_child(
        &mut self,
        role: Role,
        generation: u64,
    ) -> Result<(u32, ChildLink, mpsc::Sender<Signal>), SupervisorError> {
        let spawn_err = |source| SupervisorError::Spawn { role, source };
        let (parent_end, child_end) = std::os::unix::net::UnixStream::pair().map_err(spawn_err)?;
        let mut cmd = tokio::process::Command::new("/proc/self/exe");
        crate::instance::child_command(&mut cmd, &self.cli, role, sys::CHILD_IPC_FD);
        cmd.env_remove("NOTIFY_SOCKET")
            .env_remove("WATCHDOG_USEC")
            .env_remove("WATCHDOG_PID")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(false);
        match role {
            Role::Vrrp => {
                cmd.env(recovery::JOURNAL_ENV, self.journal.path());
            }
            Role::Checker => {
                cmd.env(recovery_ipvs::JOURNAL_ENV, self.ipvs_journal.path());
            }
            Role::Bfd => {}
        }
        sys::prepare_role_child(&mut cmd, child_end.as_raw_fd());
        let mut child = cmd.spawn().map_err(spawn_err)?;
        drop(child_end);
        // The journal is written while the child execs and starts up (at
        // keepalived issue #2318 size it is 36,544 entries): the child
        // reads it only after its Start, and installs nothing before.
        match role {
            Role::Vrrp => self.journal.child_starting(&self.config.vrrp_owned),
            Role::Checker => self.ipvs_journal.child_starting(&self.config.ipvs_owned),
            Role::Bfd => {}
        }
        let pid = child.id().unwrap_or(0);
        parent_end.set_nonblocking(true).map_err(spawn_err)?;
        let stream = UnixStream::from_std(parent_end).map_err(spawn_err)?;
        let (link, drained) = ChildLink::start(
            role,
            generation,
            stream,
            self.events_tx.clone(),
            self.shared.clone(),
        );
        if let Err(e) = link
            .send(ToChild::Start(ConfigPayload::Wire(
                self.config.wire_for(role).clone(),
            )))
            .await
        {
            tracing::warn!(%role, "cannot hand the configuration to the {role} child: {e}");
        }
        if role == Role::Checker {
            // The base of the next reload's delta (reload_delta.rs).
            match self.config.fingerprints.ready() {
                Some(fp) => {
                    if let Some(msg) = crate::reload_delta::digest_message(fp) {
                        let _ = link.send(msg).await;
                    }
                    self.digest_owed = false;
                }
                // Named before the first delta (apply_config).
                None => self.digest_owed = true,
            }
        }
        // The sessions' current states (bfd_relay.rs).
        for state in self.bfd.initial(role) {
            let _ = link.send(ToChild::Bfd(state)).await;
        }

        let (kill_tx, mut kill_rx) = mpsc::channel::<Signal>(4);
        let events = self.events_tx.clone();
        tokio::spawn(async move {
            let status = loop {
                tokio::select! {
                    st = child.wait() => break st,
                    Some(sig) = kill_rx.recv() => {
                        // The child is not reaped yet (we own its wait), so the pid is still it.
                        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig);
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(2), drained).await;
            let (status, clean) = match status {
                Ok(st) => (st.to_string(), st.success()),
                Err(e) => (format!("wait failed: {e}"), false),
            };
            let _ = events
                .send(Event::Exited {
                    role,
                    generation,
                    pid,
                    status,
                    clean,
                })
                .await;
        });
        Ok((pid, link, kill_tx))
    }
}
