//! `lvs_sync_daemon IF inst INSTANCE ...`: the VRRP process drives the IPVS
//! connection-sync daemons from that instance's state, as keepalived 2.2.7
//! does:
//!
//! * start-up: the backup daemon (vrrp_scheduler.c `vrrp_init_state()`);
//! * the instance becomes MASTER: stop backup, start master (vrrp.c
//!   `vrrp_state_become_master()` -> ipvswrapper.c `ipvs_syncd_master()`);
//! * it leaves MASTER: stop master, start backup (`vrrp_state_leave_master()`
//!   -> `ipvs_syncd_backup()`);
//! * stop: the daemon of the current state (vrrp_daemon.c
//!   `vrrp_terminate_phase1()`), before the instances step down;
//! * reload: if the settings changed, stop the wanted one; start the wanted
//!   one, stop the other (`reload_vrrp_thread()`). A reload that removes
//!   `lvs_sync_daemon` leaves the daemons running, as keepalived does.
//!
//! Without an instance the checker runs both daemons (crates/check).
//! The requests are short synchronous netlink calls, as in keepalived.

use rkeepalived_config::Config;
use rkeepalived_ipvs::netlink::DaemonState;
use rkeepalived_ipvs::syncd::{self, SyncdCmd, SyncdConfig};
use rkeepalived_ipvs::{IpvsBackend, IpvsError, NetlinkIpvs};

use crate::fsm::State;

pub(crate) struct LvsSyncd {
    /// The instance whose state the daemons follow.
    pub instance: String,
    pub cfg: SyncdConfig,
    backend: Option<Box<dyn IpvsBackend + Send>>,
    /// Last "cannot reach IPVS" message (logged once).
    unreachable: Option<String>,
}

impl LvsSyncd {
    /// The daemon settings of `cfg`, when `lvs_sync_daemon` names an
    /// existing instance. The sync id defaults to that instance's VRID
    /// (vrrp.c `vrrp_complete_init()`).
    pub fn from_config(cfg: &Config) -> Option<LvsSyncd> {
        let d = cfg.global_defs.lvs_sync_daemon.as_ref()?;
        let name = d.vrrp_instance.as_ref()?;
        let inst = cfg.vrrp_instances.iter().find(|i| &i.name == name)?;
        let sync_id = d.sync_id.unwrap_or(inst.virtual_router_id);
        Some(LvsSyncd {
            instance: name.clone(),
            cfg: SyncdConfig::new(
                &d.interface,
                u32::from(sync_id),
                d.maxlen,
                d.port,
                d.ttl,
                d.group,
            ),
            backend: None,
            unreachable: None,
        })
    }

    /// Use `backend` instead of connecting to the kernel (tests).
    #[cfg(test)]
    pub fn with_backend(mut self, backend: Box<dyn IpvsBackend + Send>) -> Self {
        self.backend = Some(backend);
        self
    }

    fn send(&mut self, cmds: &[SyncdCmd], ignore_error: bool) {
        let backend = match &mut self.backend {
            Some(b) => b,
            slot @ None => match NetlinkIpvs::connect() {
                Ok(c) => slot.insert(Box::new(c)),
                Err(e) => {
                    let msg = e.to_string();
                    if self.unreachable.as_deref() != Some(msg.as_str()) {
                        tracing::error!("IPVS: Can't initialize ipvs for lvs_sync_daemon: {msg}");
                    }
                    self.unreachable = Some(msg);
                    return;
                }
            },
        };
        self.unreachable = None;
        let results = syncd::run(backend.as_mut(), cmds, ignore_error);
        // A socket error (not a kernel answer): reconnect next time.
        if results
            .iter()
            .any(|r| matches!(r, Err(e) if !matches!(e, IpvsError::Kernel { .. })))
        {
            self.backend = None;
        }
    }

    /// Start-up: the backup daemon.
    pub fn init(&mut self) {
        let start = SyncdCmd::Start(self.cfg.daemon(DaemonState::Backup));
        self.send(&[start], false);
    }

    /// A state change of instance `name`.
    pub fn on_state(&mut self, name: &str, from: State, to: State) {
        if name != self.instance || from == to {
            return;
        }
        if to == State::Master {
            tracing::info!(instance = name, "starting the IPVS master sync daemon");
            let cmds = syncd::to_master(&self.cfg);
            self.send(&cmds, false);
        } else if from == State::Master {
            tracing::info!(instance = name, "starting the IPVS backup sync daemon");
            let cmds = syncd::to_backup(&self.cfg);
            self.send(&cmds, false);
        }
    }

    /// Shutdown: stop the daemon of the instance's current state.
    pub fn stop(&mut self, master: bool) {
        let state = if master {
            DaemonState::Master
        } else {
            DaemonState::Backup
        };
        self.send(&[SyncdCmd::Stop(state)], false);
    }

    /// After a reload: `self` is the new configuration, `old` the previous
    /// one (its connection is reused).
    pub fn reloaded(&mut self, old: Option<LvsSyncd>, master: bool) {
        let (want, other) = if master {
            (DaemonState::Master, DaemonState::Backup)
        } else {
            (DaemonState::Backup, DaemonState::Master)
        };
        let old_cfg = old.as_ref().map(|o| o.cfg.clone());
        if let Some(o) = old {
            self.backend = o.backend;
        }
        let mut cmds = Vec::new();
        if syncd::changed(old_cfg.as_ref(), Some(&self.cfg)) {
            cmds.push(SyncdCmd::Stop(want));
        }
        cmds.push(SyncdCmd::Start(self.cfg.daemon(want)));
        cmds.push(SyncdCmd::Stop(other));
        self.send(&cmds, true);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use rkeepalived_ipvs::netlink::{SyncDaemon, Timeouts};
    use rkeepalived_ipvs::{IpvsState, MockIpvs, Op};

    use super::*;

    struct Shared(Arc<Mutex<MockIpvs>>);

    impl IpvsBackend for Shared {
        fn dump(&mut self) -> Result<IpvsState, IpvsError> {
            self.0.lock().unwrap().dump()
        }
        fn apply(&mut self, op: &Op) -> Result<(), IpvsError> {
            self.0.lock().unwrap().apply(op)
        }
        fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
            self.0.lock().unwrap().timeouts()
        }
        fn start_daemon(&mut self, d: &SyncDaemon) -> Result<(), IpvsError> {
            self.0.lock().unwrap().start_daemon(d)
        }
        fn stop_daemon(&mut self, s: DaemonState) -> Result<(), IpvsError> {
            self.0.lock().unwrap().stop_daemon(s)
        }
    }

    fn config(global: &str) -> Config {
        let text = format!(
            "global_defs {{\n  {global}\n}}\nvrrp_instance VI_1 {{\n  interface eth0\n  \
             virtual_router_id 51\n  priority 100\n  virtual_ipaddress {{\n    192.0.2.50/24\n  }}\n}}\n"
        );
        rkeepalived_config::parse_str(&text, "syncd.conf", &Default::default())
            .expect("config")
            .config
    }

    fn running(m: &Arc<Mutex<MockIpvs>>) -> (Option<u32>, Option<u32>) {
        let m = m.lock().unwrap();
        (
            m.sync_master.as_ref().map(|d| d.sync_id),
            m.sync_backup.as_ref().map(|d| d.sync_id),
        )
    }

    #[test]
    fn follows_the_instance_state_with_the_vrid_as_default_sync_id() {
        let mock = Arc::new(Mutex::new(MockIpvs::new()));
        let mut s = LvsSyncd::from_config(&config("lvs_sync_daemon eth1 inst VI_1"))
            .expect("instance exists")
            .with_backend(Box::new(Shared(Arc::clone(&mock))));
        s.init();
        assert_eq!(running(&mock), (None, Some(51)));
        s.on_state("OTHER", State::Backup, State::Master);
        assert_eq!(running(&mock), (None, Some(51)), "another instance");
        s.on_state("VI_1", State::Backup, State::Master);
        assert_eq!(running(&mock), (Some(51), None));
        s.on_state("VI_1", State::Master, State::Fault);
        assert_eq!(running(&mock), (None, Some(51)));
        // BACKUP -> FAULT: the backup daemon keeps running.
        s.on_state("VI_1", State::Backup, State::Fault);
        assert_eq!(running(&mock), (None, Some(51)));
        s.on_state("VI_1", State::Fault, State::Master);
        s.stop(true);
        assert_eq!(running(&mock), (None, None));
    }

    #[test]
    fn reload_restarts_changed_settings_in_the_current_role() {
        let mock = Arc::new(Mutex::new(MockIpvs::new()));
        let mut old = LvsSyncd::from_config(&config("lvs_sync_daemon eth1 inst VI_1"))
            .unwrap()
            .with_backend(Box::new(Shared(Arc::clone(&mock))));
        old.init();
        old.on_state("VI_1", State::Backup, State::Master);
        let mut new =
            LvsSyncd::from_config(&config("lvs_sync_daemon eth1 inst VI_1 id 9")).unwrap();
        new.reloaded(Some(old), true);
        assert_eq!(running(&mock), (Some(9), None));
        // Unchanged: the running master stays (its start is EEXIST, ignored).
        let again = LvsSyncd::from_config(&config("lvs_sync_daemon eth1 inst VI_1 id 9")).unwrap();
        let mut again = again;
        again.reloaded(Some(new), true);
        assert_eq!(running(&mock), (Some(9), None));
    }

    #[test]
    fn without_an_instance_the_vrrp_process_does_nothing() {
        assert!(LvsSyncd::from_config(&config("lvs_sync_daemon eth1")).is_none());
    }
}
