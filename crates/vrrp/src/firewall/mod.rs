//! keepalived 2.2.7's nftables integration for VRRP (vrrp/vrrp_firewall.c,
//! vrrp/vrrp_nftables.c), as Debian's build has it (nftables, no iptables).
//!
//! * A MASTER that is not the address owner and not in accept mode drops
//!   traffic to and from its VIPs (RFC 5798 §6.4.3: only the owner or an
//!   accept-mode router accepts packets for the virtual addresses). The
//!   rules go in before the VIPs are added and out after they are removed
//!   (vrrp.c `vrrp_state_become_master()`, `vrrp_restore_interface()`).
//! * An instance with `use_vmac` stops IGMP / MLD reports and router
//!   solicitations leaving by its vmac (`nft_add_vmac()`): the reports are
//!   duplicated onto the base interface instead.
//! * The tables are created lazily, on the first rule; the first setup of
//!   the run deletes tables of the same name left by an earlier run
//!   (`check_and_delete_tables()`), and stopping deletes them (`nft_end()`).
//!
//! Pure core: [`settings`] (which table, or none), [`classify`] (which set
//! a VIP goes in) and [`plan::Planner`] (keepalived's setup state → the
//! `nft -f` script of each change). The edge, [`nft`], runs the scripts
//! with the `nft` command.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rkeepalived_config::model::{Config, VirtualIpAddress, VrrpInstance};

pub mod nft;
pub mod plan;

pub use nft::{Firewall, FirewallError, NftBackend, NftCommand};
pub use plan::{Batch, Planner};

/// keepalived's DEFAULT_NFTABLES_TABLE.
pub const DEFAULT_TABLE: &str = "keepalived";
/// keepalived's VRRP_PRIO_OWNER.
const PRIO_OWNER: u8 = 255;

/// The resolved global nftables settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub table: String,
    /// Base chain priority (`nftables_priority`, default -1).
    pub priority: i32,
    /// `nftables_ifindex`.
    pub ifindex: bool,
    /// `nftables_counters`.
    pub counters: bool,
}

/// Whether an instance needs the firewall at all: keepalived
/// `vrrp_complete_instance()` turns nftables on for `!accept || use_vmac`.
pub fn instance_needs_firewall(inst: &VrrpInstance) -> bool {
    !inst.accept || inst.use_vmac.is_some()
}

/// Whether a MASTER instance drops traffic to its VIPs: keepalived
/// `vrrp_handle_accept_mode()` (not the owner, not in accept mode).
pub fn drops_vip_traffic(inst: &VrrpInstance) -> bool {
    inst.priority != PRIO_OWNER && !inst.accept
}

/// The table to use, or none; the second value is keepalived's log line
/// when the default table is chosen because an instance needs it
/// ("use_vmac or no_accept/strict specified, but no firewall configured -
/// using nftables", vrrp.c `vrrp_complete_instance()`).
pub fn settings(cfg: &Config) -> (Option<Settings>, Option<&'static str>) {
    let o = &cfg.global_defs.nftables;
    let mut note = None;
    let table = match &o.table {
        Some(t) => Some(t.clone()),
        None if cfg.vrrp_instances.iter().any(instance_needs_firewall) => {
            note = Some(
                "use_vmac or no_accept/strict specified, but no firewall configured - using nftables",
            );
            Some(DEFAULT_TABLE.to_string())
        }
        None => None,
    };
    let s = table.map(|table| Settings {
        table,
        priority: o.priority,
        ifindex: o.ifindex,
        counters: o.counters,
    });
    (s, note)
}

/// Where one VIP goes (keepalived `nft_update_ipv4_address()`,
/// `nft_update_ipv6_address()`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FwAddr {
    /// `ip keepalived vips`.
    V4(Ipv4Addr),
    /// `ip6 keepalived vips` (not link-local).
    V6(Ipv6Addr),
    /// `ip6 keepalived vips_link_local`: address . interface index.
    V6LinkLocal(Ipv6Addr, u32),
    /// `ip6 keepalived vips_link_local_name`: address . interface name.
    V6LinkLocalName(Ipv6Addr, String),
}

/// IN6_IS_ADDR_LINKLOCAL: fe80::/10.
pub fn is_link_local(a: &Ipv6Addr) -> bool {
    a.segments()[0] & 0xffc0 == 0xfe80
}

/// The set entry of `vip` for instance `inst` whose VRRP interface (the
/// vmac with `use_vmac`, keepalived's `vrrp->ifp`) is `vrrp_if`; `ifindex`
/// looks interfaces up. None when a link-local VIP's interface is missing.
///
/// keepalived keys a link-local VIP by interface *name* only without
/// `nftables_ifindex`, with `dont_track_primary`, and when the address is
/// on the VRRP interface or has `no_track`; otherwise by index.
pub fn classify(
    vip: &VirtualIpAddress,
    inst: &VrrpInstance,
    vrrp_if: &str,
    settings: &Settings,
    ifindex: &dyn Fn(&str) -> Option<u32>,
) -> Option<FwAddr> {
    match vip.addr {
        IpAddr::V4(a) => Some(FwAddr::V4(a)),
        IpAddr::V6(a) if !is_link_local(&a) => Some(FwAddr::V6(a)),
        IpAddr::V6(a) => {
            if !settings.ifindex && inst.dont_track_primary && (vip.dev == vrrp_if || vip.no_track)
            {
                Some(FwAddr::V6LinkLocalName(a, vip.dev.clone()))
            } else {
                ifindex(&vip.dev).map(|i| FwAddr::V6LinkLocal(a, i))
            }
        }
    }
}

/// A vmac's entries (keepalived `nft_update_vmac_family()`): the vmac's and
/// its base interface's index, and the families whose reports it stops
/// (the instance's, plus the other one with excluded VIPs of that family,
/// keepalived's VRRP_FLAG_EVIP_OTHER_FAMILY).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmacFw {
    pub vmac_ifindex: u32,
    pub base_ifindex: u32,
    pub ipv6: bool,
    pub other_family: bool,
}

/// keepalived's VRRP_FLAG_EVIP_OTHER_FAMILY: an excluded VIP of the other
/// family than the instance's.
pub fn evip_other_family(inst: &VrrpInstance) -> bool {
    let v6 = matches!(inst.family, rkeepalived_config::model::AddressFamily::Inet6);
    inst.virtual_ipaddresses_excluded
        .iter()
        .any(|v| v.addr.is_ipv6() != v6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(name: &str) -> VrrpInstance {
        let mut i = VrrpInstance::new(name, "eth0", 51);
        i.priority = 100;
        i
    }

    #[test]
    fn settings_follow_keepalived() {
        let mut cfg = Config::default();
        cfg.vrrp_instances.push(inst("a"));
        assert_eq!(settings(&cfg), (None, None), "accept, no vmac: no firewall");
        cfg.vrrp_instances[0].accept = false;
        let (s, note) = settings(&cfg);
        assert_eq!(s.map(|s| s.table), Some("keepalived".to_string()));
        assert!(note.is_some_and(|n| n.starts_with("use_vmac or no_accept/strict")));
        cfg.global_defs.nftables.table = Some("mine".into());
        cfg.global_defs.nftables.priority = 5;
        cfg.global_defs.nftables.counters = true;
        let (s, note) = settings(&cfg);
        assert_eq!(
            s,
            Some(Settings {
                table: "mine".into(),
                priority: 5,
                ifindex: false,
                counters: true
            })
        );
        assert_eq!(note, None);
    }

    #[test]
    fn owner_and_accept_never_drop() {
        let mut i = inst("a");
        i.accept = false;
        assert!(drops_vip_traffic(&i));
        i.priority = 255;
        assert!(!drops_vip_traffic(&i));
        i.priority = 100;
        i.accept = true;
        assert!(!drops_vip_traffic(&i));
    }

    #[test]
    fn link_local_vips_by_index_or_name() {
        let s = Settings {
            table: "keepalived".into(),
            priority: -1,
            ifindex: false,
            counters: false,
        };
        let idx = |n: &str| (n == "eth0").then_some(7);
        let mut i = inst("a");
        let ll = VirtualIpAddress::new("fe80::1".parse().unwrap(), "eth0");
        let g = VirtualIpAddress::new("2001:db8::1".parse().unwrap(), "eth0");
        let v4 = VirtualIpAddress::new("192.0.2.1".parse().unwrap(), "eth0");
        assert_eq!(
            classify(&v4, &i, "eth0", &s, &idx),
            Some(FwAddr::V4("192.0.2.1".parse().unwrap()))
        );
        assert_eq!(
            classify(&g, &i, "eth0", &s, &idx),
            Some(FwAddr::V6("2001:db8::1".parse().unwrap()))
        );
        assert_eq!(
            classify(&ll, &i, "eth0", &s, &idx),
            Some(FwAddr::V6LinkLocal("fe80::1".parse().unwrap(), 7))
        );
        i.dont_track_primary = true;
        assert_eq!(
            classify(&ll, &i, "eth0", &s, &idx),
            Some(FwAddr::V6LinkLocalName(
                "fe80::1".parse().unwrap(),
                "eth0".into()
            ))
        );
        let forced = Settings {
            ifindex: true,
            ..s.clone()
        };
        assert_eq!(
            classify(&ll, &i, "eth0", &forced, &idx),
            Some(FwAddr::V6LinkLocal("fe80::1".parse().unwrap(), 7))
        );
        let elsewhere = VirtualIpAddress::new("fe80::2".parse().unwrap(), "eth9");
        assert_eq!(classify(&elsewhere, &i, "eth0", &s, &idx), None);
        assert!(is_link_local(&"febf::1".parse().unwrap()));
        assert!(!is_link_local(&"fec0::1".parse().unwrap()));
    }
}
