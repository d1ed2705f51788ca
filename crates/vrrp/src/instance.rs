//! Per-instance glue between the configuration, the pure core
//! ([`crate::fsm`], [`crate::wire`]) and the IO edge: how an instance is
//! built from `vrrp_instance`, what its adverts look like, where they go,
//! and how tracked objects move its priority.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};

use rkeepalived_config::model::{
    self, AuthType, Config, GlobalDefs, TrackRef, VirtualIpAddress, VrrpInstance, VrrpVersion,
};

use crate::auth_ah::{self, AhKey};
use crate::fsm::{GarpParams, InstanceParams};
use crate::track::{self, Contribution, ScriptStatus, TrackOutcome, Weight};
use crate::wire::{self, AdverInt, Advertisement, Auth, EmitError, Family, RxPolicy, Version};

/// RFC 5798 §7.3: 00-00-5E-00-01-{VRID} (IPv4) / 00-00-5E-00-02-{VRID} (IPv6).
pub fn virtual_router_mac(family: Family, vrid: u8) -> [u8; 6] {
    let kind = match family {
        Family::Ipv4 => 1,
        Family::Ipv6 => 2,
    };
    [0x00, 0x00, 0x5e, 0x00, kind, vrid]
}

pub fn version(v: VrrpVersion) -> Version {
    match v {
        VrrpVersion::V2 => Version::V2,
        VrrpVersion::V3 => Version::V3,
    }
}

pub fn family(f: model::AddressFamily) -> Family {
    match f {
        model::AddressFamily::Inet => Family::Ipv4,
        model::AddressFamily::Inet6 => Family::Ipv6,
    }
}

/// Configured v2 authentication as the codec wants it.
pub fn auth(inst: &VrrpInstance) -> Auth {
    match (&inst.authentication, inst.version) {
        (Some(a), VrrpVersion::V2) if a.auth_type == AuthType::Pass => {
            Auth::password(a.auth_pass.as_bytes())
        }
        (Some(a), VrrpVersion::V2) if a.auth_type == AuthType::Ah => Auth::Ah,
        _ => Auth::None,
    }
}

/// The HMAC-MD5 key of a VRRPv2 `auth_type AH` instance (keepalived's
/// `auth_data`: `auth_pass` truncated to 8 bytes).
pub fn ah_key(inst: &VrrpInstance) -> Option<AhKey> {
    match (&inst.authentication, inst.version) {
        (Some(a), VrrpVersion::V2) if a.auth_type == AuthType::Ah => {
            Some(AhKey::from_pass(a.auth_pass.as_bytes()))
        }
        _ => None,
    }
}

/// The addresses carried in adverts: the instance-family `virtual_ipaddress`
/// entries (excluded ones never go on the wire).
pub fn advertised_addrs(inst: &VrrpInstance) -> Vec<IpAddr> {
    let fam = family(inst.family);
    inst.virtual_ipaddresses
        .iter()
        .map(|v| v.addr)
        .filter(|a| Family::of(a) == fam)
        .collect()
}

/// All addresses the instance owns while Master.
pub fn owned_addrs(inst: &VrrpInstance) -> impl Iterator<Item = &VirtualIpAddress> {
    inst.virtual_ipaddresses
        .iter()
        .chain(inst.virtual_ipaddresses_excluded.iter())
}

pub fn fsm_params(
    inst: &VrrpInstance,
    global: &GlobalDefs,
    primary_addr: IpAddr,
) -> InstanceParams {
    let mut p = InstanceParams::new(version(inst.version), inst.virtual_router_id, primary_addr);
    p.priority = inst.priority;
    p.adver_int = inst.advert_int;
    p.preempt = !inst.nopreempt;
    p.preempt_delay = inst.preempt_delay;
    p.initial_master = inst.state == model::InitialState::Master;
    p.garp = GarpParams {
        master_delay: inst.garp_master_delay,
        master_repeat: inst.garp_master_repeat,
        master_refresh: inst.garp_master_refresh,
        master_refresh_repeat: inst.garp_master_refresh_repeat,
        lower_prio_delay: inst.garp_lower_prio_delay,
        lower_prio_repeat: inst.garp_lower_prio_repeat,
    };
    p.higher_prio_send_advert = inst.higher_prio_send_advert || global.vrrp_higher_prio_send_advert;
    p.lower_prio_no_advert = inst.lower_prio_no_advert || global.vrrp_lower_prio_no_advert;
    p.skip_check_adv_addr = inst.skip_check_adv_addr || global.vrrp_skip_check_adv_addr;
    p.down_timer_adverts = inst.down_timer_adverts;
    p
}

pub fn rx_policy(inst: &VrrpInstance, global: &GlobalDefs) -> RxPolicy {
    let v = version(inst.version);
    RxPolicy {
        version: v,
        family: family(inst.family),
        vrid: inst.virtual_router_id,
        auth: auth(inst),
        adver_int: AdverInt::from_duration(v, inst.advert_int),
        vips: advertised_addrs(inst),
        unicast_peers: inst.unicast_peers.iter().map(|p| p.addr).collect(),
        check_unicast_src: inst.check_unicast_src || global.vrrp_check_unicast_src,
        accept_legacy_unicast_checksum: true,
    }
}

/// Where adverts go: the unicast peers, else the multicast group.
pub fn destinations(inst: &VrrpInstance, global: &GlobalDefs) -> Vec<IpAddr> {
    if inst.unicast_peers.is_empty() {
        vec![inst.mcast_group(global)]
    } else {
        inst.unicast_peers.iter().map(|p| p.addr).collect()
    }
}

/// keepalived `unicast_peer { IP min_ttl N max_ttl M }`: the unicast TTL
/// window of that peer (the multicast TTL-255 rule does not apply to unicast).
pub fn check_unicast_ttl(
    inst: &VrrpInstance,
    src: IpAddr,
    ttl: Option<u8>,
) -> Result<(), wire::DropReason> {
    let (Some(peer), Some(ttl)) = (inst.unicast_peers.iter().find(|p| p.addr == src), ttl) else {
        return Ok(());
    };
    if peer.min_ttl.is_some_and(|m| ttl < m) || peer.max_ttl.is_some_and(|m| ttl > m) {
        return Err(wire::DropReason::BadTtl);
    }
    Ok(())
}

/// Whether the instance's VMAC needs IPv6: an IPv6 instance, or an IPv4 one
/// with an IPv6 address among its VIPs or excluded VIPs (keepalived's
/// `VRRP_FLAG_EVIP_OTHER_FAMILY`, vrrp_vmac.c `netlink_link_add_vmac`).
pub fn vmac_needs_ipv6(inst: &VrrpInstance) -> bool {
    family(inst.family) == Family::Ipv6
        || inst
            .virtual_ipaddresses
            .iter()
            .chain(&inst.virtual_ipaddresses_excluded)
            .any(|v| v.addr.is_ipv6())
}

/// Explicitly configured source (unicast_src_ip, else mcast_src_ip).
pub fn configured_source(inst: &VrrpInstance) -> Option<IpAddr> {
    inst.unicast_src_ip.or(inst.mcast_src_ip)
}

/// Pick the advert source among the interface's addresses: IPv4 primary
/// (first non-VIP address), IPv6 link-local (RFC 5798 §5.1.2.1).
pub fn pick_source(
    family: Family,
    iface_addrs: &[(IpAddr, u8)],
    vips: &[IpAddr],
) -> Option<IpAddr> {
    iface_addrs
        .iter()
        .map(|(a, _)| *a)
        .find(|a| match (family, a) {
            (Family::Ipv4, IpAddr::V4(v4)) => !vips.contains(a) && !v4.is_unspecified(),
            (Family::Ipv6, IpAddr::V6(v6)) => is_link_local(v6),
            _ => false,
        })
}

/// [`pick_source`] as keepalived ends up choosing at startup: it keeps the
/// first address it learned for the interface (`netlink_if_address_filter`
/// in keepalived_netlink.c: `if (!ifp->sin_addr.s_addr)`), and it learns the
/// interface's addresses before `static_ipaddress` adds its own. The kernel
/// lists a narrower-scope primary (a `scope link` static address) first, so
/// a static address is only taken when the interface has no other one.
pub fn pick_source_before_statics(
    family: Family,
    iface_addrs: &[(IpAddr, u8)],
    vips: &[IpAddr],
    statics: &[IpAddr],
) -> Option<IpAddr> {
    let mut avoid = vips.to_vec();
    avoid.extend_from_slice(statics);
    pick_source(family, iface_addrs, &avoid).or_else(|| pick_source(family, iface_addrs, vips))
}

pub fn is_link_local(a: &Ipv6Addr) -> bool {
    (a.segments()[0] & 0xffc0) == 0xfe80
}

/// Encode one advert for `src` -> `dst`. IPv4 yields a full IP packet (for the
/// IP_HDRINCL socket), IPv6 only the VRRP message.
pub fn encode_advert(
    adv: &Advertisement,
    src: IpAddr,
    dst: IpAddr,
    ident: u16,
    unicast_ttl: Option<u8>,
) -> Result<Vec<u8>, EmitError> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut ip = wire::Ipv4Emit::new(s, d, ident);
            if !d.is_multicast() {
                if let Some(ttl) = unicast_ttl {
                    ip.ttl = ttl;
                }
            }
            wire::emit_ipv4(adv, &ip, false)
        }
        (s, d) => adv.to_bytes(wire::PseudoHeader::for_addrs(adv.version, s, d)),
    }
}

/// [`encode_advert`] for an `auth_type AH` instance (IPv4 only): IPv4 + AH +
/// VRRP with sequence number `seq`. `unicast` is the instance's mode (unicast
/// instances leave the TTL out of the ICV, as keepalived).
#[allow(clippy::too_many_arguments)]
pub fn encode_advert_ah(
    adv: &Advertisement,
    src: IpAddr,
    dst: IpAddr,
    ident: u16,
    unicast_ttl: Option<u8>,
    key: &AhKey,
    seq: u32,
    unicast: bool,
) -> Result<Vec<u8>, EmitError> {
    let (IpAddr::V4(s), IpAddr::V4(d)) = (src, dst) else {
        return Err(EmitError::V2OverIpv6);
    };
    let mut ip = wire::Ipv4Emit::new(s, d, ident);
    if !d.is_multicast() {
        if let Some(ttl) = unicast_ttl {
            ip.ttl = ttl;
        }
    }
    auth_ah::emit_ipv4_ah(adv, &ip, key, seq, unicast)
}

pub fn advertisement(inst: &VrrpInstance, priority: u8) -> Advertisement {
    let v = version(inst.version);
    Advertisement {
        version: v,
        vrid: inst.virtual_router_id,
        priority,
        adver_int: AdverInt::from_duration(v, inst.advert_int),
        addrs: advertised_addrs(inst),
        auth: auth(inst),
    }
}

/// Current state of tracked objects, shared by all instances.
#[derive(Debug, Clone, Default)]
pub struct TrackState {
    /// Interface name -> up (IFF_UP and IFF_RUNNING).
    pub interfaces: HashMap<String, bool>,
    /// vrrp_script name -> rise/fall-filtered status.
    pub scripts: HashMap<String, ScriptStatus>,
    /// vrrp_track_file name -> value read from the file.
    pub files: HashMap<String, i64>,
    /// vrrp_track_process name -> quorum held (absent: no scan yet).
    pub processes: HashMap<String, bool>,
    /// bfd_instance name -> session up (absent: down, as keepalived's
    /// `vrrp_tracked_bfd_t.bfd_up` starts false).
    pub bfds: HashMap<String, bool>,
}

/// `track_bfd` entries of `inst` with their sync group's (keepalived
/// vrrp/vrrp.c `add_vrrp_to_track_bfd()`: a BFD tracked by both counts
/// once, with the group's weight unless the instance's own is 0; as
/// `Config::vrrp_bfd_tracking()`), each contributing as keepalived
/// vrrp/vrrp_track.c `initialise_track_bfd_state()` and
/// vrrp_scheduler.c `vrrp_handle_bfd_event()` apply it: weight 0 faults
/// while down (up with `reverse`); a weight counts while up (> 0) or down
/// (< 0), negated with `reverse`.
fn bfd_contributions(inst: &VrrpInstance, cfg: &Config, state: &TrackState) -> Vec<Contribution> {
    let up = |n: &str| Some(state.bfds.get(n).copied().unwrap_or(false));
    let mut parts = Vec::new();
    let groups: Vec<_> = cfg
        .vrrp_sync_groups
        .iter()
        .filter(|g| g.group.contains(&inst.name))
        .collect();
    for t in &inst.track_bfds {
        let from_group = groups
            .iter()
            .flat_map(|g| g.track_bfds.iter())
            .find(|gt| gt.name == t.name);
        let w = match from_group {
            Some(gt) if t.weight != 0 => weight(gt),
            _ => weight(t),
        };
        parts.push(track::status_contribution(w, up(&t.name)));
    }
    for g in groups {
        for t in &g.track_bfds {
            if inst.track_bfds.iter().any(|o| o.name == t.name) {
                continue;
            }
            parts.push(track::status_contribution(weight(t), up(&t.name)));
        }
    }
    parts
}

fn weight(r: &TrackRef) -> Weight {
    Weight::new(r.weight, r.reverse)
}

/// Every tracked object's contribution for `inst` (instance-level and its
/// sync groups' tracking), combined by [`track::effective_priority`].
/// The instance's own interface faults it when down unless `dont_track_primary`.
pub fn tracked_priority(inst: &VrrpInstance, cfg: &Config, state: &TrackState) -> TrackOutcome {
    // An interface not seen yet counts as up (the engine reads every state at start).
    let iface = |n: &str| Some(state.interfaces.get(n).copied().unwrap_or(true));
    // A script never defined stays "no result" (keepalived refuses such configs).
    let script = |n: &str| {
        state
            .scripts
            .get(n)
            .copied()
            .unwrap_or(ScriptStatus::Init)
            .as_up()
    };
    let mut parts: Vec<Contribution> = Vec::new();
    // keepalived vrrp/vrrp.c `vrrp_complete_instance()`: "Cannot use
    // unicast without any peers - going to fault state" (a config fault
    // that holds the instance in FAULT until a reload gives it peers).
    if inst.unicast_fault_no_peer && inst.unicast_peers.is_empty() {
        parts.push(Contribution::Fault);
    }
    if !inst.dont_track_primary {
        parts.push(track::status_contribution(
            Weight::new(0, false),
            iface(&inst.interface),
        ));
    }
    parts.extend(
        inst.track_interfaces
            .iter()
            .map(|r| track::status_contribution(weight(r), iface(&r.name))),
    );
    parts.extend(
        inst.track_scripts
            .iter()
            .map(|r| track::status_contribution(weight(r), script(&r.name))),
    );
    parts.extend(inst.track_files.iter().map(|r| {
        track::file_contribution(weight(r), state.files.get(&r.name).copied().unwrap_or(0))
    }));
    // keepalived vrrp/vrrp_track.c `process_update_track_process_status()`:
    // the same rule as a script's; no scan yet holds an unweighted one back.
    // A process tracked by the instance and its sync group counts once:
    // with the group's weight, unless the instance's is 0 (keepalived
    // vrrp/vrrp.c `add_vrrp_to_track_process()`).
    let group_ref = |name: &str| {
        cfg.vrrp_sync_groups
            .iter()
            .filter(|g| g.group.contains(&inst.name))
            .flat_map(|g| g.track_processes.iter())
            .find(|r| r.name == name)
    };
    parts.extend(inst.track_processes.iter().map(|r| {
        let w = match group_ref(&r.name) {
            Some(g) if r.weight != 0 => Weight::new(g.weight, r.reverse),
            _ => weight(r),
        };
        track::status_contribution(w, state.processes.get(&r.name).copied())
    }));
    for g in cfg
        .vrrp_sync_groups
        .iter()
        .filter(|g| g.group.contains(&inst.name))
    {
        parts.extend(
            g.track_interfaces
                .iter()
                .map(|r| track::status_contribution(weight(r), iface(&r.name))),
        );
        parts.extend(
            g.track_scripts
                .iter()
                .map(|r| track::status_contribution(weight(r), script(&r.name))),
        );
        parts.extend(g.track_files.iter().map(|r| {
            track::file_contribution(weight(r), state.files.get(&r.name).copied().unwrap_or(0))
        }));
        parts.extend(
            g.track_processes
                .iter()
                .filter(|r| !inst.track_processes.iter().any(|i| i.name == r.name))
                .map(|r| {
                    track::status_contribution(weight(r), state.processes.get(&r.name).copied())
                }),
        );
    }
    if !cfg.bfd_instances.is_empty() {
        parts.extend(bfd_contributions(inst, cfg, state));
    }
    track::effective_priority(inst.priority, parts)
}

/// The vmac MAC for an instance.
pub fn vmac_mac(inst: &VrrpInstance, vmac: &model::Vmac) -> [u8; 6] {
    vmac.mac
        .unwrap_or_else(|| virtual_router_mac(family(inst.family), inst.virtual_router_id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rkeepalived_config::model::VrrpInstance;

    fn inst() -> VrrpInstance {
        let mut i = VrrpInstance::new("VI_1", "eth0", 51);
        i.priority = 100;
        i
    }

    #[test]
    fn source_is_not_a_static_address_unless_nothing_else() {
        let a = |s: &str| -> IpAddr { s.parse().unwrap() };
        // The kernel lists a `scope link` static /32 before the primary.
        let list = [(a("192.0.2.16"), 32), (a("192.0.2.250"), 24)];
        assert_eq!(
            pick_source_before_statics(Family::Ipv4, &list, &[], &[a("192.0.2.16")]),
            Some(a("192.0.2.250"))
        );
        assert_eq!(
            pick_source_before_statics(Family::Ipv4, &list[..1], &[], &[a("192.0.2.16")]),
            Some(a("192.0.2.16"))
        );
    }

    #[test]
    fn vmac_ipv6_only_when_some_address_is_ipv6() {
        use rkeepalived_config::model::VirtualIpAddress;
        let mut i = inst();
        i.virtual_ipaddresses
            .push(VirtualIpAddress::new("192.0.2.1".parse().unwrap(), "eth0"));
        assert!(!vmac_needs_ipv6(&i));
        i.virtual_ipaddresses_excluded.push(VirtualIpAddress::new(
            "2001:db8::1".parse().unwrap(),
            "eth0",
        ));
        assert!(vmac_needs_ipv6(&i));
    }

    #[test]
    fn weights_follow_keepalived() {
        let cfg = Config::default();
        let mut i = inst();
        i.track_scripts = vec![
            TrackRef {
                name: "up".into(),
                weight: 10,
                reverse: false,
            },
            TrackRef {
                name: "down".into(),
                weight: -20,
                reverse: false,
            },
        ];
        let mut t = TrackState::default();
        t.scripts.insert("up".into(), ScriptStatus::Up);
        t.scripts.insert("down".into(), ScriptStatus::Down);
        assert_eq!(tracked_priority(&i, &cfg, &t).priority, 90);
        t.scripts.insert("down".into(), ScriptStatus::Up);
        assert_eq!(tracked_priority(&i, &cfg, &t).priority, 110);
        assert!(!tracked_priority(&i, &cfg, &t).fault);
        i.track_interfaces = vec![TrackRef {
            name: "eth1".into(),
            weight: 0,
            reverse: false,
        }];
        t.interfaces.insert("eth1".into(), false);
        assert!(tracked_priority(&i, &cfg, &t).fault);
    }

    /// track_process: unweighted -> FAULT without quorum (and before the
    /// first scan); weighted -> priority; tracked by the instance and its
    /// sync group -> counted once, with the group's weight.
    #[test]
    fn track_process_fault_weight_and_sync_group_weight() {
        let tref = |name: &str, weight: i32| TrackRef {
            name: name.into(),
            weight,
            reverse: false,
        };
        let mut cfg = Config::default();
        let mut i = inst();
        i.track_processes = vec![tref("p", 0)];
        let mut t = TrackState::default();
        assert!(tracked_priority(&i, &cfg, &t).fault, "no scan yet");
        t.processes.insert("p".into(), false);
        assert!(tracked_priority(&i, &cfg, &t).fault);
        t.processes.insert("p".into(), true);
        assert!(!tracked_priority(&i, &cfg, &t).fault);
        i.track_processes = vec![tref("p", -30)];
        t.processes.insert("p".into(), false);
        let o = tracked_priority(&i, &cfg, &t);
        assert_eq!((o.priority, o.fault), (70, false));
        let mut g = rkeepalived_config::model::VrrpSyncGroup::new("G");
        g.group = vec![i.name.clone()];
        g.track_processes = vec![tref("p", -50)];
        cfg.vrrp_sync_groups.push(g);
        assert_eq!(tracked_priority(&i, &cfg, &t).priority, 50);
        i.track_processes = vec![tref("p", 0)];
        assert!(
            tracked_priority(&i, &cfg, &t).fault,
            "unweighted instance entry wins"
        );
        i.track_processes.clear();
        assert_eq!(tracked_priority(&i, &cfg, &t).priority, 50, "group alone");
    }

    #[test]
    fn primary_interface_down_is_fault_unless_dont_track_primary() {
        let cfg = Config::default();
        let mut i = inst();
        let mut t = TrackState::default();
        t.interfaces.insert("eth0".into(), false);
        assert!(tracked_priority(&i, &cfg, &t).fault);
        i.dont_track_primary = true;
        assert!(!tracked_priority(&i, &cfg, &t).fault);
    }

    #[test]
    fn unicast_fault_no_peer_without_peers_is_fault() {
        let cfg = Config::default();
        let mut i = inst();
        let t = TrackState::default();
        assert!(!tracked_priority(&i, &cfg, &t).fault);
        i.unicast_fault_no_peer = true;
        assert!(tracked_priority(&i, &cfg, &t).fault);
        i.unicast_peers = vec![model::UnicastPeer {
            addr: "192.0.2.2".parse().unwrap(),
            min_ttl: None,
            max_ttl: None,
        }];
        assert!(!tracked_priority(&i, &cfg, &t).fault);
    }

    #[test]
    fn owner_priority_is_fixed_and_clamped_otherwise() {
        let cfg = Config::default();
        let mut i = inst();
        i.track_files = vec![TrackRef {
            name: "f".into(),
            weight: 100,
            reverse: false,
        }];
        let mut t = TrackState::default();
        t.files.insert("f".into(), 5);
        assert_eq!(tracked_priority(&i, &cfg, &t).priority, 254);
        t.files.insert("f".into(), -1);
        assert_eq!(tracked_priority(&i, &cfg, &t).priority, 1);
        i.priority = 255;
        assert_eq!(tracked_priority(&i, &cfg, &t).priority, 255);
    }

    #[test]
    fn unicast_peer_ttl_window() {
        let mut i = inst();
        let peer: IpAddr = "192.0.2.2".parse().unwrap();
        i.unicast_peers = vec![model::UnicastPeer {
            addr: peer,
            min_ttl: Some(250),
            max_ttl: Some(255),
        }];
        assert!(check_unicast_ttl(&i, peer, Some(255)).is_ok());
        assert_eq!(
            check_unicast_ttl(&i, peer, Some(64)),
            Err(wire::DropReason::BadTtl)
        );
        assert!(check_unicast_ttl(&i, "192.0.2.3".parse().unwrap(), Some(1)).is_ok());
        assert!(check_unicast_ttl(&i, peer, None).is_ok());
    }

    #[test]
    fn source_selection() {
        let addrs: Vec<(IpAddr, u8)> = vec![
            ("192.0.2.100".parse().unwrap(), 32),
            ("192.0.2.1".parse().unwrap(), 24),
            ("fe80::1".parse().unwrap(), 64),
        ];
        let vips: Vec<IpAddr> = vec!["192.0.2.100".parse().unwrap()];
        assert_eq!(
            pick_source(Family::Ipv4, &addrs, &vips),
            Some("192.0.2.1".parse().unwrap())
        );
        assert_eq!(
            pick_source(Family::Ipv6, &addrs, &vips),
            Some("fe80::1".parse().unwrap())
        );
        assert_eq!(virtual_router_mac(Family::Ipv6, 7), [0, 0, 0x5e, 0, 2, 7]);
    }

    #[test]
    fn v2_advert_with_password_round_trips() {
        let mut i = inst();
        i.authentication = Some(model::Authentication {
            auth_type: AuthType::Pass,
            auth_pass: "secret".into(),
        });
        i.virtual_ipaddresses = vec![VirtualIpAddress::new(
            "192.0.2.100".parse().unwrap(),
            "eth0",
        )];
        let adv = advertisement(&i, 100);
        let src: IpAddr = "192.0.2.1".parse().unwrap();
        let dst: IpAddr = "224.0.0.18".parse().unwrap();
        let bytes = encode_advert(&adv, src, dst, 1, None).unwrap();
        let rx = wire::decode_ipv4(&bytes).unwrap();
        assert_eq!(rx.adv, adv);
        assert_eq!(rx.ttl, Some(255));
        rx_policy(&i, &GlobalDefs::default())
            .check(&rx, true)
            .unwrap();
    }
}
