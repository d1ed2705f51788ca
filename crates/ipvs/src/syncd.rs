//! The IPVS connection-synchronisation daemons as keepalived 2.2.7 drives
//! them for `lvs_sync_daemon IF [inst INSTANCE] [id N] [maxlen N] [port N]
//! [ttl N] [group IP]` (`check/ipvswrapper.c` `ipvs_syncd_cmd()`,
//! `ipvs_syncd_master()`, `ipvs_syncd_backup()`, `ipvs_syncd_changed()`):
//!
//! * with a VRRP instance, the VRRP process starts the backup daemon at
//!   start-up, switches to the master daemon when the instance becomes
//!   MASTER ([`to_master`]: stop backup, start master), back when it leaves
//!   MASTER ([`to_backup`]), and stops the running one on exit;
//! * without one, the checker process starts both daemons at start-up
//!   ([`start_both`], after [`stop_both`] to clear any left by a crashed
//!   predecessor) and stops both on exit.
//!
//! Pure command lists; [`run`] sends them to an [`IpvsBackend`].

use std::net::IpAddr;

use crate::backend::IpvsBackend;
use crate::error::{Errno, IpvsError};
use crate::netlink::{DaemonState, SyncDaemon};

/// The kernel's defaults (`ip_vs_sync.c`): what an unset attribute means.
pub const DEFAULT_SYNC_PORT: u16 = 8848;
pub const DEFAULT_SYNC_GROUP: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(224, 0, 0, 81));

/// keepalived's `struct lvs_syncd_config` after its fix-ups (the sync id
/// defaults to the instance's VRID, or 0 without an instance).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncdConfig {
    pub ifname: String,
    pub sync_id: u32,
    pub maxlen: Option<u16>,
    pub port: Option<u16>,
    pub ttl: Option<u8>,
    pub group: Option<IpAddr>,
}

impl SyncdConfig {
    /// From configured values; a port or group equal to the kernel's default
    /// is not sent (keepalived sends only what was written, and the kernel
    /// then uses the same default).
    pub fn new(
        ifname: &str,
        sync_id: u32,
        maxlen: Option<u16>,
        port: u16,
        ttl: Option<u8>,
        group: IpAddr,
    ) -> Self {
        SyncdConfig {
            ifname: ifname.to_string(),
            sync_id,
            maxlen,
            port: (port != DEFAULT_SYNC_PORT).then_some(port),
            ttl,
            group: (group != DEFAULT_SYNC_GROUP).then_some(group),
        }
    }

    /// `IPVS_CMD_NEW_DAEMON` settings for `state`.
    pub fn daemon(&self, state: DaemonState) -> SyncDaemon {
        SyncDaemon {
            state,
            mcast_ifn: self.ifname.clone(),
            sync_id: self.sync_id,
            sync_maxlen: self.maxlen,
            mcast_group: self.group,
            mcast_port: self.port,
            mcast_ttl: self.ttl,
        }
    }
}

/// One request to the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncdCmd {
    Start(SyncDaemon),
    Stop(DaemonState),
}

/// `ipvs_syncd_master()`: stop the backup daemon, start the master one.
pub fn to_master(cfg: &SyncdConfig) -> Vec<SyncdCmd> {
    vec![
        SyncdCmd::Stop(DaemonState::Backup),
        SyncdCmd::Start(cfg.daemon(DaemonState::Master)),
    ]
}

/// `ipvs_syncd_backup()`: stop the master daemon, start the backup one.
pub fn to_backup(cfg: &SyncdConfig) -> Vec<SyncdCmd> {
    vec![
        SyncdCmd::Stop(DaemonState::Master),
        SyncdCmd::Start(cfg.daemon(DaemonState::Backup)),
    ]
}

/// `ipvs_syncd_cmd(IPVS_STARTDAEMON, cfg, IPVS_MASTER_BACKUP)`: master, then backup.
pub fn start_both(cfg: &SyncdConfig) -> Vec<SyncdCmd> {
    vec![
        SyncdCmd::Start(cfg.daemon(DaemonState::Master)),
        SyncdCmd::Start(cfg.daemon(DaemonState::Backup)),
    ]
}

/// `ipvs_syncd_cmd(IPVS_STOPDAEMON, NULL, IPVS_MASTER)` then `IPVS_BACKUP`.
pub fn stop_both() -> Vec<SyncdCmd> {
    vec![
        SyncdCmd::Stop(DaemonState::Master),
        SyncdCmd::Stop(DaemonState::Backup),
    ]
}

/// Whether a reload must restart the daemons (`ipvs_syncd_changed()`).
pub fn changed(old: Option<&SyncdConfig>, new: Option<&SyncdConfig>) -> bool {
    old != new
}

/// Send `cmds` in order; one result each. With `ignore_error` (keepalived's
/// flag for the clean-up stops) a failure is logged at debug level only;
/// otherwise as keepalived logs a failed IPVS request.
pub fn run<B: IpvsBackend + ?Sized>(
    backend: &mut B,
    cmds: &[SyncdCmd],
    ignore_error: bool,
) -> Vec<Result<(), IpvsError>> {
    cmds.iter()
        .map(|cmd| {
            let result = match cmd {
                SyncdCmd::Start(d) => backend.start_daemon(d),
                SyncdCmd::Stop(s) => backend.stop_daemon(*s),
            };
            if let Err(e) = &result {
                let what = match cmd {
                    SyncdCmd::Start(d) => format!("start {} sync daemon", d.state.name()),
                    SyncdCmd::Stop(s) => format!("stop {} sync daemon", s.name()),
                };
                // Stopping a daemon that is not running (ESRCH) is the
                // normal case of the clean-up stops.
                if ignore_error || e.errno() == Some(Errno::NoSuchService) {
                    tracing::debug!("IPVS: {what}: {e}");
                } else {
                    tracing::error!("IPVS: {what}: {e}");
                }
            }
            result
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MockIpvs;

    fn cfg() -> SyncdConfig {
        SyncdConfig::new("eth1", 7, None, DEFAULT_SYNC_PORT, None, DEFAULT_SYNC_GROUP)
    }

    #[test]
    fn default_port_and_group_are_not_sent() {
        let c = cfg();
        assert_eq!((c.port, c.group), (None, None));
        let c = SyncdConfig::new(
            "eth1",
            7,
            Some(1400),
            9000,
            Some(2),
            "239.1.2.3".parse().unwrap(),
        );
        let d = c.daemon(DaemonState::Master);
        assert_eq!(d.mcast_port, Some(9000));
        assert_eq!(d.mcast_group, Some("239.1.2.3".parse().unwrap()));
        assert_eq!(
            (d.sync_maxlen, d.mcast_ttl, d.sync_id),
            (Some(1400), Some(2), 7)
        );
    }

    #[test]
    fn vrrp_transitions_swap_the_daemons() {
        let c = cfg();
        let mut k = MockIpvs::new();
        // Start-up: the backup daemon (vrrp_scheduler.c vrrp_init_state).
        run(
            &mut k,
            &[SyncdCmd::Start(c.daemon(DaemonState::Backup))],
            false,
        );
        assert!(k.sync_backup.is_some() && k.sync_master.is_none());
        let r = run(&mut k, &to_master(&c), false);
        assert!(r.iter().all(Result::is_ok));
        assert!(k.sync_master.is_some() && k.sync_backup.is_none());
        let r = run(&mut k, &to_backup(&c), false);
        assert!(r.iter().all(Result::is_ok));
        assert!(k.sync_backup.is_some() && k.sync_master.is_none());
    }

    #[test]
    fn checker_clears_then_starts_both() {
        let c = cfg();
        let mut k = MockIpvs::new();
        let r = run(&mut k, &stop_both(), true);
        assert!(r.iter().all(Result::is_err), "nothing was running");
        run(&mut k, &start_both(&c), false);
        assert!(k.sync_master.is_some() && k.sync_backup.is_some());
        run(&mut k, &stop_both(), true);
        assert!(k.sync_master.is_none() && k.sync_backup.is_none());
    }
}
