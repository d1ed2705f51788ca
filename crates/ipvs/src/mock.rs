//! In-memory IPVS tables with the kernel's error semantics: [`MockIpvs`]
//! (records every op, injects faults) for tests of anything that programs
//! IPVS, and [`TableIpvs`] (the table only) for long runs on hosts without
//! IPVS. `mock_apply` is the shared model of `ip_vs_ctl.c`.

use crate::backend::IpvsBackend;
use crate::error::{Errno, IpvsError};
use crate::model::{
    DestKey, Forwarding, IpvsState, Op, Scheduler, ServiceEntry, ServiceFlags, ServiceKey,
    TunnelType,
};
use crate::netlink::{DaemonState, SyncDaemon, Timeouts};

/// Apply `op` to an in-memory table with kernel semantics, to predict the
/// result of a plan (what [`MockIpvs`] and [`TableIpvs`] do on `apply`).
pub fn apply_to_state(state: &mut IpvsState, op: &Op) -> Result<(), Errno> {
    mock_apply(state, op)
}

/// Persistence engines the kernel ships (`ip_vs_pe_<name>`).
const KNOWN_PES: &[&str] = &["sip"];

/// Apply `op` to `state` the way `net/netfilter/ipvs/ip_vs_ctl.c` would,
/// returning the errno the kernel gives for the same request.
pub(crate) fn mock_apply(state: &mut IpvsState, op: &Op) -> Result<(), Errno> {
    match op {
        Op::Flush => {
            state.services.clear();
            Ok(())
        }
        Op::AddService(svc) | Op::EditService(svc) => {
            if let Scheduler::Other(name) = &svc.sched {
                // ip_vs_scheduler_get() fails to load ip_vs_<name>.
                if !name.is_empty() {
                    return Err(Errno::NotFound);
                }
            }
            if let Some(pe) = &svc.pe_name {
                if !KNOWN_PES.contains(&pe.as_str()) {
                    return Err(Errno::NotFound);
                }
            }
            if svc.key.family() == crate::model::Family::Inet6 && svc.netmask > 128 {
                return Err(Errno::Invalid);
            }
            let exists = state.services.contains_key(&svc.key);
            let mut stored = svc.clone();
            stored.flags = ServiceFlags(svc.flags.user().0 | ServiceFlags::HASHED);
            match (op, exists) {
                (Op::AddService(_), true) => Err(Errno::Exists),
                (Op::EditService(_), false) => Err(Errno::NoSuchService),
                _ => {
                    state
                        .services
                        .entry(svc.key)
                        .and_modify(|e| e.service = stored.clone())
                        .or_insert_with(|| ServiceEntry::new(stored));
                    Ok(())
                }
            }
        }
        Op::DelService(key) => state
            .services
            .remove(key)
            .map(|_| ())
            .ok_or(Errno::NoSuchService),
        Op::AddDest(key, dest) | Op::EditDest(key, dest) => {
            let entry = state.services.get_mut(key).ok_or(Errno::NoSuchService)?;
            if dest.weight < 0 || (dest.u_threshold != 0 && dest.l_threshold > dest.u_threshold) {
                return Err(Errno::Range);
            }
            match dest.fwd {
                Forwarding::Tunnel {
                    tun_type: TunnelType::Gue,
                    port: 0,
                    ..
                } => return Err(Errno::Invalid),
                Forwarding::Tunnel { .. } => {}
                // Only tunnels may mix address families.
                _ if dest.family() != key.family() => return Err(Errno::Invalid),
                _ => {}
            }
            let exists = entry.dests.contains_key(&dest.key());
            match (op, exists) {
                (Op::AddDest(..), true) => Err(Errno::Exists),
                (Op::EditDest(..), false) => Err(Errno::NotFound),
                _ => {
                    entry.dests.insert(dest.key(), *dest);
                    Ok(())
                }
            }
        }
        Op::DelDest(key, dkey) => {
            let entry = state.services.get_mut(key).ok_or(Errno::NoSuchService)?;
            entry.dests.remove(dkey).map(|_| ()).ok_or(Errno::NotFound)
        }
    }
}

/// In-memory IPVS table with kernel error semantics and nothing else: a
/// stand-in kernel for long runs (labs and benchmarks on hosts without
/// IPVS), where [`MockIpvs`]'s op log would grow without bound.
#[derive(Debug, Default, Clone)]
pub struct TableIpvs {
    pub state: IpvsState,
}

impl IpvsBackend for TableIpvs {
    fn dump(&mut self) -> Result<IpvsState, IpvsError> {
        Ok(self.state.clone())
    }

    fn apply(&mut self, op: &Op) -> Result<(), IpvsError> {
        mock_apply(&mut self.state, op).map_err(|errno| IpvsError::kernel(op, errno))
    }
}

/// In-memory IPVS table with kernel error semantics, for unit tests of
/// anything that programs IPVS. Records every op it was asked to apply.
#[derive(Debug, Clone)]
pub struct MockIpvs {
    pub state: IpvsState,
    /// Every op passed to `apply`, accepted or not.
    pub log: Vec<Op>,
    /// Errno to return for the next `apply` calls (one per call), for fault injection.
    pub inject: std::collections::VecDeque<Errno>,
    /// The connection timeouts; the kernel's defaults (900 120 300) at first.
    pub timeouts: Timeouts,
    /// Every `SET_CONFIG` asked for, accepted or not.
    pub timeout_log: Vec<Timeouts>,
    /// Number of `GET_CONFIG` requests.
    pub timeout_reads: usize,
    /// Running connection-sync daemons (`ip_vs_sync.c`: starting a running
    /// one is EEXIST, stopping a stopped one ESRCH).
    pub sync_master: Option<SyncDaemon>,
    pub sync_backup: Option<SyncDaemon>,
    /// Every sync daemon request, accepted or not.
    pub syncd_log: Vec<crate::syncd::SyncdCmd>,
    /// Active connections per dest, as tests set them (absent = 0); a
    /// deleted dest's count is dropped with it.
    pub active_conns: std::collections::BTreeMap<(ServiceKey, DestKey), u32>,
}

impl Default for MockIpvs {
    fn default() -> Self {
        MockIpvs {
            state: IpvsState::default(),
            log: Vec::new(),
            inject: Default::default(),
            timeouts: crate::globals::KERNEL_DEFAULT_TIMEOUTS,
            timeout_log: Vec::new(),
            timeout_reads: 0,
            sync_master: None,
            sync_backup: None,
            syncd_log: Vec::new(),
            active_conns: Default::default(),
        }
    }
}

/// `ip_vs_set_timeout()`: a zero value leaves that timeout unchanged.
fn mock_set_timeouts(current: &mut Timeouts, t: Timeouts) -> Result<(), Errno> {
    // ip_vs_genl_set_config(): values above INT_MAX / HZ are EINVAL (HZ >= 100).
    let max = i32::MAX as u32 / 100;
    if t.tcp > max || t.tcp_fin > max || t.udp > max {
        return Err(Errno::Invalid);
    }
    for (have, want) in [
        (&mut current.tcp, t.tcp),
        (&mut current.tcp_fin, t.tcp_fin),
        (&mut current.udp, t.udp),
    ] {
        if want != 0 {
            *have = want;
        }
    }
    Ok(())
}

impl MockIpvs {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_state(state: IpvsState) -> Self {
        MockIpvs {
            state,
            ..Self::default()
        }
    }
}

impl IpvsBackend for MockIpvs {
    fn dump(&mut self) -> Result<IpvsState, IpvsError> {
        Ok(self.state.clone())
    }

    fn apply(&mut self, op: &Op) -> Result<(), IpvsError> {
        self.log.push(op.clone());
        if let Some(errno) = self.inject.pop_front() {
            return Err(IpvsError::kernel(op, errno));
        }
        mock_apply(&mut self.state, op).map_err(|errno| IpvsError::kernel(op, errno))?;
        let state = &self.state;
        self.active_conns.retain(|(s, d), _| {
            state
                .services
                .get(s)
                .is_some_and(|e| e.dests.contains_key(d))
        });
        Ok(())
    }

    fn active_conns(&mut self, service: &ServiceKey) -> Result<Vec<(DestKey, u32)>, IpvsError> {
        let entry = self.state.services.get(service).ok_or(IpvsError::Kernel {
            op: format!("dump dests of {service}"),
            errno: Errno::NoSuchService,
        })?;
        Ok(entry
            .dests
            .keys()
            .map(|d| {
                (
                    *d,
                    self.active_conns.get(&(*service, *d)).copied().unwrap_or(0),
                )
            })
            .collect())
    }

    fn start_daemon(&mut self, d: &SyncDaemon) -> Result<(), IpvsError> {
        self.syncd_log
            .push(crate::syncd::SyncdCmd::Start(d.clone()));
        let slot = match d.state {
            DaemonState::Master => &mut self.sync_master,
            DaemonState::Backup => &mut self.sync_backup,
        };
        if slot.is_some() {
            return Err(IpvsError::Kernel {
                op: "start sync daemon".into(),
                errno: Errno::Exists,
            });
        }
        *slot = Some(d.clone());
        Ok(())
    }

    fn stop_daemon(&mut self, state: DaemonState) -> Result<(), IpvsError> {
        self.syncd_log.push(crate::syncd::SyncdCmd::Stop(state));
        let slot = match state {
            DaemonState::Master => &mut self.sync_master,
            DaemonState::Backup => &mut self.sync_backup,
        };
        slot.take().map(|_| ()).ok_or(IpvsError::Kernel {
            op: "stop sync daemon".into(),
            errno: Errno::NoSuchService,
        })
    }

    fn timeouts(&mut self) -> Result<Timeouts, IpvsError> {
        self.timeout_reads += 1;
        Ok(self.timeouts)
    }

    fn set_timeouts(&mut self, t: Timeouts) -> Result<(), IpvsError> {
        self.timeout_log.push(t);
        if let Some(errno) = self.inject.pop_front() {
            return Err(IpvsError::Kernel {
                op: "set timeouts".into(),
                errno,
            });
        }
        mock_set_timeouts(&mut self.timeouts, t).map_err(|errno| IpvsError::Kernel {
            op: "set timeouts".into(),
            errno,
        })
    }
}
