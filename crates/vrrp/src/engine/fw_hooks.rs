//! Engine hooks for keepalived's nftables rules ([`crate::firewall`]).

use super::*;
use crate::firewall::{self, Firewall, FwAddr, NftCommand, VmacFw};

/// The firewall a configuration needs, if any (logs keepalived's line when
/// an instance turns it on without `nftables` in global_defs).
pub(super) fn for_config(cfg: &Config) -> Option<Firewall> {
    let (settings, note) = firewall::settings(cfg);
    if let Some(n) = note {
        tracing::info!("{n}");
    }
    settings.map(|s| Firewall::new(s, Box::new(NftCommand::default())))
}

/// keepalived's igmp_link_local_mcast_reports sysctl (vrrp/vrrp_daemon.c).
const IGMP_LINK_LOCAL_MCAST_REPORTS: &str = "/proc/sys/net/ipv4/igmp_link_local_mcast_reports";

/// `disable_local_igmp`: whether it is in effect, and the sysctl's value
/// to restore at exit.
#[derive(Debug, Default)]
pub(super) struct LocalIgmp {
    disabled: bool,
    saved: Option<String>,
}

impl LocalIgmp {
    /// keepalived `set_disable_local_igmp()` at start: reports off; any
    /// failure is logged and leaves `disable_local_igmp` off.
    pub(super) fn start(wanted: bool) -> LocalIgmp {
        if !wanted {
            return LocalIgmp::default();
        }
        let path = IGMP_LINK_LOCAL_MCAST_REPORTS;
        let cur = match std::fs::read_to_string(path) {
            Ok(v) => v.trim().to_string(),
            Err(e) => {
                tracing::info!(
                    "Unable to read {path} - errno {}",
                    e.raw_os_error().unwrap_or(0)
                );
                return LocalIgmp::default();
            }
        };
        if cur == "1" {
            if let Err(e) = std::fs::write(path, "0") {
                tracing::info!(
                    "Unable to write {path} - errno {}",
                    e.raw_os_error().unwrap_or(0)
                );
                return LocalIgmp::default();
            }
            return LocalIgmp {
                disabled: true,
                saved: Some(cur),
            };
        }
        LocalIgmp {
            disabled: true,
            saved: None,
        }
    }

    /// keepalived `reset_disable_local_igmp()` at exit.
    pub(super) fn stop(&mut self) {
        if let Some(v) = self.saved.take() {
            if let Err(e) = std::fs::write(IGMP_LINK_LOCAL_MCAST_REPORTS, v) {
                tracing::info!(
                    "Unable to write {IGMP_LINK_LOCAL_MCAST_REPORTS} - errno {}",
                    e.raw_os_error().unwrap_or(0)
                );
            }
        }
    }
}

impl Engine {
    /// The drop-set entries of instance `idx` for `vips` when `on` (a
    /// MASTER's addresses), none otherwise or when it accepts.
    fn fw_wanted(
        &self,
        cfg: &VrrpInstance,
        vips: &[VirtualIpAddress],
        vmac: Option<&str>,
        on: bool,
    ) -> Vec<FwAddr> {
        let Some(fw) = &self.firewall else {
            return Vec::new();
        };
        if !on || !firewall::drops_vip_traffic(cfg) {
            return Vec::new();
        }
        let vrrp_if = vmac.unwrap_or(&cfg.interface);
        vips.iter()
            .filter_map(|v| {
                firewall::classify(v, cfg, vrrp_if, fw.planner().settings(), &addr::ifindex)
            })
            .collect()
    }

    /// keepalived `vrrp_handle_accept_mode()`: set (`on`: before the VIPs
    /// are added) or remove (after they are removed) instance `idx`'s drop
    /// rules.
    pub(super) fn fw_accept_mode(&mut self, idx: usize, on: bool) {
        let rt = &self.instances[idx];
        let want = self.fw_wanted(&rt.cfg, &rt.vips, rt.vmac.as_deref(), on);
        let name = rt.cfg.name.clone();
        if let Some(fw) = &mut self.firewall {
            fw.sync_addresses(&name, &want);
        }
    }

    /// A reload of a MASTER: the drop rules follow the new VIPs and accept
    /// mode before the addresses change (keepalived `clear_diff_vrrp_vip()`).
    pub(super) fn fw_reloaded_master(
        &mut self,
        idx: usize,
        new: &VrrpInstance,
        vips: &[VirtualIpAddress],
    ) {
        let vmac = self.instances[idx].vmac.clone();
        let want = self.fw_wanted(new, vips, vmac.as_deref(), true);
        if let Some(fw) = &mut self.firewall {
            fw.sync_addresses(&new.name, &want);
        }
    }

    /// After a reload: a configuration that now needs the firewall gets it,
    /// instances that are gone lose their entries, and every instance's
    /// entries match its state (a restarted instance's held addresses).
    pub(super) fn fw_after_reload(&mut self) {
        if self.firewall.is_none() {
            self.firewall = for_config(&self.cfg);
        }
        let Some(fw) = &mut self.firewall else { return };
        for name in fw.planner().instances() {
            if !self.instances.iter().any(|r| r.cfg.name == name) {
                fw.sync_addresses(&name, &[]);
                fw.remove_vmac(&name);
            }
        }
        for idx in 0..self.instances.len() {
            let master = self.router.fsm(idx).state() == State::Master;
            self.fw_accept_mode(idx, master);
        }
    }

    /// keepalived `firewall_add_vmac()` after creating instance `idx`'s vmac.
    pub(super) fn fw_vmac_up(&mut self, idx: usize) {
        let rt = &self.instances[idx];
        // keepalived `netlink_link_add_vmac()`: IPv4 vmacs get no rule with
        // disable_local_igmp (the kernel sends no link-local reports).
        if rt.family == Family::Ipv4 && self.local_igmp.disabled {
            return;
        }
        let (Some(vmac), Some(fw)) = (rt.vmac.as_deref(), self.firewall.as_mut()) else {
            return;
        };
        let (Some(vmac_ifindex), Some(base_ifindex)) =
            (addr::ifindex(vmac), addr::ifindex(&rt.cfg.interface))
        else {
            return;
        };
        let v = VmacFw {
            vmac_ifindex,
            base_ifindex,
            ipv6: rt.family == Family::Ipv6,
            other_family: firewall::evip_other_family(&rt.cfg),
        };
        fw.add_vmac(&rt.cfg.name, v);
    }

    /// keepalived `firewall_remove_vmac()` when instance `idx`'s vmac goes.
    pub(super) fn fw_vmac_down(&mut self, idx: usize) {
        let name = self.instances[idx].cfg.name.clone();
        if let Some(fw) = &mut self.firewall {
            fw.remove_vmac(&name);
        }
    }

    /// keepalived `firewall_fini()` at exit: delete our tables.
    pub(super) fn fw_fini(&mut self) {
        if let Some(fw) = &mut self.firewall {
            fw.fini();
        }
        self.local_igmp.stop();
    }
}
