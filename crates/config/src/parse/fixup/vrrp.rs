//! vrrp_instance and vrrp_sync_group fix-ups: keepalived's vrrp/vrrp.c
//! `vrrp_complete_instance()` and vrrp/vrrp_parser.c.

use std::net::IpAddr;
use std::time::Duration;

use super::super::fmt_duration;
use crate::diag::{Diagnostic, Pos};
use crate::model::*;

// ---------------------------------------------------------------------------
// vrrp_instance: keepalived's vrrp/vrrp.c vrrp_complete_instance()
// ---------------------------------------------------------------------------

/// What the instance's block set explicitly (keepalived: PARAMETER_UNSET).
#[derive(Default)]
pub(in crate::parse) struct InstanceSeen {
    pub(in crate::parse) interface: Option<String>,
    pub(in crate::parse) vrid: Option<(u8, Pos)>,
    pub(in crate::parse) version_set: Option<Pos>,
    pub(in crate::parse) accept: Option<bool>,
    pub(in crate::parse) advert: Option<(Duration, Pos)>,
    pub(in crate::parse) lower_delay_set: bool,
    pub(in crate::parse) lower_repeat_set: bool,
    pub(in crate::parse) state_set: bool,
    pub(in crate::parse) priority_set: bool,
    pub(in crate::parse) lpna_set: bool,
    pub(in crate::parse) hpsa_set: bool,
    pub(in crate::parse) vmac: Option<(Option<String>, Option<[u8; 6]>)>,
    pub(in crate::parse) xmit_base: bool,
    /// A unicast keyword was given (`unicast_peer`, `unicast_src_ip`,
    /// `unicast_fault_no_peer`, `check_unicast_src`): keepalived's
    /// `VRRP_FLAG_UNICAST_CONFIGURED` (vrrp/vrrp_parser.c), which is what
    /// its vmac and "no peers" rules test, not whether peers were listed.
    pub(in crate::parse) unicast_configured: bool,
    /// The block had an `interface` (before the default was applied).
    pub(in crate::parse) interface_given: bool,
}

/// Fix-up warnings of one instance, reported after its direct warnings
/// (at the instance's position, prefixed with its name).
pub(in crate::parse) struct InstanceNotes {
    name: String,
    pub(in crate::parse) pos: Pos,
    pub(in crate::parse) notes: Vec<Diagnostic>,
}

impl InstanceNotes {
    pub(in crate::parse) fn new(name: &str, pos: &Pos) -> Self {
        InstanceNotes {
            name: name.to_string(),
            pos: pos.clone(),
            notes: Vec::new(),
        }
    }

    pub(in crate::parse) fn warn(&mut self, msg: String) {
        let d = self
            .pos
            .warning(format!("vrrp_instance '{}': {msg}", self.name));
        self.notes.push(d);
    }
}

/// No `interface` (or `interface lo`, dropped while parsing): a multicast
/// instance cannot run; a unicast one is bound to `default_interface`.
/// keepalived: vrrp/vrrp.c `chk_min_cfg()` ("Unknown interface!") and
/// `vrrp_complete_instance()` (unicast from unicast_src_ip).
pub(in crate::parse) fn interface_defaults_to_default_interface(
    v: &mut VrrpInstance,
    g: &GlobalDefs,
    seen: &mut InstanceSeen,
    pos: &Pos,
    warnings: &mut Vec<Diagnostic>,
) -> Result<(), Diagnostic> {
    seen.interface_given = seen.interface.is_some();
    v.interface = match seen.interface.take() {
        Some(i) => i,
        // keepalived: vrrp/vrrp.c `chk_min_cfg()`: a multicast instance
        // without an interface is "Unknown interface!" and the VRRP process
        // exits (CONFIG): it cannot run.
        None if v.unicast_peers.is_empty() => {
            return Err(pos.error(format!(
                "({}) Unknown interface! A multicast vrrp_instance needs an 'interface' (keepalived 2.2.7 stops on it too)",
                v.name
            )));
        }
        // keepalived runs a unicast instance without an interface from its
        // unicast_src_ip; we bind it to default_interface (documented
        // difference, crates/config/README.md).
        None => {
            warnings.push(pos.warning(format!(
                "vrrp_instance '{}' has no 'interface'; using default_interface '{}'",
                v.name, g.default_interface
            )));
            g.default_interface.clone()
        }
    };
    Ok(())
}

/// The family: from the first VIP, else the unicast/mcast source, else the
/// first peer, else IPv4.
/// keepalived: vrrp/vrrp_parser.c (the first VIP, source or peer address
/// sets `vrrp->family`), vrrp/vrrp.c `vrrp_complete_instance()` (AF_INET).
pub(in crate::parse) fn family_from_first_address(v: &mut VrrpInstance) {
    let family_source = v
        .virtual_ipaddresses
        .first()
        .map(|a| a.addr)
        .or(v.unicast_src_ip)
        .or(v.mcast_src_ip)
        .or(v.unicast_peers.first().map(|p| p.addr));
    v.family = family_source
        .as_ref()
        .map(AddressFamily::of)
        .unwrap_or(AddressFamily::Inet);
}

/// VIPs, peers and sources of the other family are ignored.
/// keepalived: vrrp/vrrp_parser.c `vrrp_vip_handler()` / `alloc_ipaddress()`,
/// `vrrp_unicast_peer_handler()`, vrrp/vrrp.c `vrrp_complete_instance()`.
pub(in crate::parse) fn other_family_addresses_ignored(
    v: &mut VrrpInstance,
    pos: &Pos,
    warnings: &mut Vec<Diagnostic>,
) {
    let fam = v.family;
    let before = v.virtual_ipaddresses.len();
    v.virtual_ipaddresses
        .retain(|a| AddressFamily::of(&a.addr) == fam);
    if v.virtual_ipaddresses.len() != before {
        warnings.push(pos.warning(format!(
            "vrrp_instance '{}': virtual_ipaddress entries of the other address family ignored (as keepalived does); use virtual_ipaddress_excluded for them",
            v.name
        )));
    }
    let mut dropped_peers = Vec::new();
    v.unicast_peers.retain(|p| {
        let ok = AddressFamily::of(&p.addr) == fam;
        if !ok {
            dropped_peers.push(p.addr);
        }
        ok
    });
    for p in dropped_peers {
        warnings.push(pos.warning(format!(
            "vrrp_instance '{}': unicast_peer {p} is not the instance's address family; ignoring it (as keepalived does)",
            v.name
        )));
    }
    for (what, addr) in [
        ("unicast_src_ip", &mut v.unicast_src_ip),
        ("mcast_src_ip", &mut v.mcast_src_ip),
    ] {
        if let Some(a) = addr {
            if AddressFamily::of(a) != fam {
                warnings.push(pos.warning(format!(
                    "vrrp_instance '{}': {what} {a} is not the instance's address family; ignoring it",
                    v.name
                )));
                *addr = None;
            }
        }
    }
}

/// IPv6 means VRRP version 3.
/// keepalived: vrrp/vrrp.c `vrrp_complete_instance()` (rkeepalived forces
/// it also without strict mode, see the README).
pub(in crate::parse) fn ipv6_forces_version3(
    v: &mut VrrpInstance,
    seen: &InstanceSeen,
    w: &mut InstanceNotes,
) {
    if v.family == AddressFamily::Inet6 && v.version == VrrpVersion::V2 {
        if seen.version_set.is_some() {
            w.warn("IPv6 requires VRRP version 3 (RFC 3768 is IPv4 only); using version 3".into());
        }
        v.version = VrrpVersion::V3;
    }
}

/// No priority: MASTER is the address owner (255), else 100.
/// keepalived: vrrp/vrrp.c `vrrp_complete_instance()`.
pub(in crate::parse) fn priority_from_state(v: &mut VrrpInstance, seen: &InstanceSeen) {
    if !seen.priority_set {
        v.priority = if v.state == InitialState::Master && seen.state_set {
            defaults::PRIORITY_OWNER
        } else {
            defaults::PRIORITY
        };
    }
}

/// No state: MASTER for the address owner, else BACKUP; in strict mode a
/// written state must match being the owner.
/// keepalived: vrrp/vrrp.c `vrrp_complete_instance()`.
pub(in crate::parse) fn state_from_priority(
    v: &mut VrrpInstance,
    seen: &InstanceSeen,
    w: &mut InstanceNotes,
) {
    let owner = defaults::PRIORITY_OWNER;
    let derived = if v.priority == owner {
        InitialState::Master
    } else {
        InitialState::Backup
    };
    if !seen.state_set {
        v.state = derived;
    } else if v.strict_mode && ((v.state == InitialState::Master) != (v.priority == owner)) {
        w.warn("strict mode: state MASTER must match being address owner (priority 255); fixing the state (as keepalived does)".into());
        v.state = derived;
    }
}

/// Authentication is dropped in strict mode, with VRRPv3 and (AH) with IPv6.
/// keepalived: vrrp/vrrp.c `vrrp_complete_instance()`
/// ("Cannot use AH authentication with IPv6", strict/v3 checks).
pub(in crate::parse) fn authentication_unsupported(v: &mut VrrpInstance, w: &mut InstanceNotes) {
    let Some(auth) = &v.authentication else {
        return;
    };
    let reason = if v.strict_mode {
        "strict mode does not support authentication"
    } else if v.version == VrrpVersion::V3 {
        "VRRP version 3 does not support authentication"
    } else if auth.auth_type == AuthType::Ah && v.family == AddressFamily::Inet6 {
        "AH authentication cannot be used with IPv6"
    } else {
        return;
    };
    w.warn(format!("{reason}; ignoring it (as keepalived does)"));
    v.authentication = None;
}

/// `auth_type AH` with initial state MASTER starts as BACKUP unless owner.
/// keepalived: vrrp/vrrp.c `vrrp_complete_instance()`.
pub(in crate::parse) fn ah_initial_master_becomes_backup(
    v: &mut VrrpInstance,
    w: &mut InstanceNotes,
) {
    if v.authentication
        .as_ref()
        .is_some_and(|a| a.auth_type == AuthType::Ah)
        && v.state == InitialState::Master
        && v.priority != defaults::PRIORITY_OWNER
    {
        w.warn("initial state MASTER is incompatible with AH authentication; using BACKUP (as keepalived does)".into());
        v.state = InitialState::Backup;
    }
}

/// RFC 5798 §5.2.9: with IPv6 multicast the first address is link-local
/// (a note only). keepalived: vrrp/vrrp.c `vrrp_complete_instance()`.
pub(in crate::parse) fn ipv6_first_vip_link_local(v: &VrrpInstance, w: &mut InstanceNotes) {
    if v.family == AddressFamily::Inet6 && v.unicast_peers.is_empty() {
        if let Some(IpAddr::V6(first)) = v.virtual_ipaddresses.first().map(|a| a.addr) {
            if (first.segments()[0] & 0xffc0) != 0xfe80 {
                w.warn(format!(
                    "the first IPv6 virtual_ipaddress ({first}) should be link local (RFC 5798 5.2.9)"
                ));
            }
        }
    }
}

/// An advert carries at most 255 addresses (8-bit count, RFC 5798 §5.2.6);
/// the excess moves to the excluded list.
/// keepalived: vrrp/vrrp.c `vrrp_complete_instance()` ("Number of VIPs ...
/// exceeds maximum/space").
pub(in crate::parse) fn excess_vips_excluded(v: &mut VrrpInstance, w: &mut InstanceNotes) {
    if v.virtual_ipaddresses.len() > 255 {
        w.warn(format!(
            "{} virtual_ipaddress entries exceed the 255 an advert can carry; moving the excess to virtual_ipaddress_excluded (as keepalived does)",
            v.virtual_ipaddresses.len()
        ));
        let excess = v.virtual_ipaddresses.split_off(255);
        v.virtual_ipaddresses_excluded.extend(excess);
    }
}

/// The address owner always preempts.
/// keepalived: vrrp/vrrp.c `vrrp_complete_instance()`.
pub(in crate::parse) fn nopreempt_with_owner(v: &mut VrrpInstance, w: &mut InstanceNotes) {
    if v.priority == defaults::PRIORITY_OWNER && v.nopreempt {
        w.warn(
            "nopreempt is incompatible with priority 255; clearing nopreempt (as keepalived does)"
                .into(),
        );
        v.nopreempt = false;
    }
}

/// `nopreempt` with initial state MASTER is cleared.
/// keepalived: vrrp/vrrp.c `vrrp_complete_instance()` ("Warning -
/// nopreempt will not work with initial state MASTER").
pub(in crate::parse) fn nopreempt_with_initial_master(v: &mut VrrpInstance, w: &mut InstanceNotes) {
    if v.state == InitialState::Master && v.nopreempt {
        w.warn("nopreempt will not work with initial state MASTER; clearing nopreempt (as keepalived does)".into());
        v.nopreempt = false;
    }
}

/// `preempt_delay` with initial state MASTER is cleared.
/// keepalived: vrrp/vrrp.c `vrrp_complete_instance()`.
pub(in crate::parse) fn preempt_delay_with_initial_master(
    v: &mut VrrpInstance,
    w: &mut InstanceNotes,
) {
    if v.state == InitialState::Master && !v.preempt_delay.is_zero() {
        w.warn("preempt_delay will not work with initial state MASTER; clearing it (as keepalived does)".into());
        v.preempt_delay = Duration::ZERO;
    }
}

/// `preempt_delay` with strict mode or nopreempt is cleared.
/// keepalived: vrrp/vrrp.c `vrrp_complete_instance()` ("preempt_delay is
/// incompatible with strict mode/nopreempt - resetting").
pub(in crate::parse) fn preempt_delay_with_strict_or_nopreempt(
    v: &mut VrrpInstance,
    w: &mut InstanceNotes,
) {
    if !v.preempt_delay.is_zero() && (v.strict_mode || v.nopreempt) {
        w.warn("preempt_delay is incompatible with strict mode and nopreempt; resetting it (as keepalived does)".into());
        v.preempt_delay = Duration::ZERO;
    }
}

/// accept defaults to on, off in strict mode; strict VRRPv2 never accepts
/// unless owner. keepalived: vrrp/vrrp.c `vrrp_complete_instance()` ("Set
/// default for accept mode if not specified").
pub(in crate::parse) fn accept_default(
    v: &mut VrrpInstance,
    seen: &InstanceSeen,
    w: &mut InstanceNotes,
) {
    // keepalived: owner (priority 255) accepts by default even in strict mode.
    v.accept = seen
        .accept
        .unwrap_or(v.priority == defaults::PRIORITY_OWNER || !v.strict_mode);
    if v.accept
        && v.priority != defaults::PRIORITY_OWNER
        && v.strict_mode
        && v.version == VrrpVersion::V2
    {
        w.warn("accept mode for VRRP version 2 does not comply with RFC 3768 in strict mode; disabling accept".into());
        v.accept = false;
    }
}

/// Strict mode: no lower-priority GARPs, no adverts at lower priority, no
/// higher_prio_send_advert, down_timer_adverts 3.
/// keepalived: vrrp/vrrp.c `vrrp_complete_instance()` ("... is incompatible
/// with strict mode - resetting", "strict mode requires ...").
pub(in crate::parse) fn strict_mode_garp_and_adverts(
    v: &mut VrrpInstance,
    seen: &InstanceSeen,
    w: &mut InstanceNotes,
) {
    if !v.strict_mode {
        return;
    }
    if seen.lower_repeat_set && v.garp_lower_prio_repeat != 0 {
        w.warn("strict mode requires garp_lower_prio_repeat 0; resetting".into());
    }
    if seen.lower_delay_set && !v.garp_lower_prio_delay.is_zero() {
        w.warn("strict mode requires garp_lower_prio_delay 0; resetting".into());
    }
    if seen.lpna_set && !v.lower_prio_no_advert {
        w.warn("strict mode requires lower_prio_no_advert; setting it".into());
    }
    if seen.hpsa_set && v.higher_prio_send_advert {
        w.warn("strict mode requires higher_prio_send_advert off; clearing it".into());
    }
    if v.down_timer_adverts != defaults::DOWN_TIMER_ADVERTS {
        w.warn("down_timer_adverts is incompatible with strict mode; resetting to 3 (as keepalived does)".into());
        v.down_timer_adverts = defaults::DOWN_TIMER_ADVERTS;
    }
    v.garp_lower_prio_repeat = 0;
    v.garp_lower_prio_delay = Duration::ZERO;
    v.lower_prio_no_advert = true;
    v.higher_prio_send_advert = false;
}

/// `advert_int`: whole seconds with VRRPv2 (RFC 3768 §5.3.7), centiseconds
/// up to 40.95 s with VRRPv3 (RFC 5798 §5.2.7).
/// keepalived: vrrp/vrrp.c `vrrp_complete_instance()` ("VRRPv2
/// advertisement interval ... must be an integer. rounding", "must be in
/// units of 10ms - rounding").
pub(in crate::parse) fn advert_int_rounded(
    v: &mut VrrpInstance,
    seen: &InstanceSeen,
    warnings: &mut Vec<Diagnostic>,
) {
    let Some((d, pos)) = &seen.advert else {
        return;
    };
    let d = *d;
    v.advert_int = d;
    let rounded = match v.version {
        VrrpVersion::V2 => Duration::from_secs(((d.as_millis() + 500) / 1000).max(1) as u64),
        VrrpVersion::V3 => {
            let cs = ((d.as_micros() + 5_000) / 10_000).clamp(1, 4095);
            Duration::from_millis(u64::try_from(cs * 10).unwrap_or(40950))
        }
    };
    if rounded == d {
        return;
    }
    warnings.push(pos.warning(match v.version {
        VrrpVersion::V2 => format!(
            "vrrp_instance '{}': VRRP version 2 advert_int must be a whole number of seconds; using {}s (as keepalived does)",
            v.name,
            rounded.as_secs()
        ),
        VrrpVersion::V3 => format!(
            "vrrp_instance '{}': VRRP version 3 advert_int has centisecond resolution (max 40.95s); using {}s",
            v.name,
            fmt_duration(rounded)
        ),
    }));
    v.advert_int = rounded;
}

/// `unicast_ttl` means nothing without unicast peers.
/// keepalived: vrrp/vrrp.c `vrrp_complete_instance()`.
pub(in crate::parse) fn unicast_ttl_without_peers(v: &mut VrrpInstance, w: &mut InstanceNotes) {
    if v.unicast_peers.is_empty() && v.unicast_ttl.is_some() {
        w.warn("unicast_ttl without unicast peers; ignoring it (as keepalived does)".into());
        v.unicast_ttl = None;
    }
}

/// A unicast keyword without any `unicast_peer`: keepalived 2.2.7 runs the
/// instance multicast and says the usage is deprecated, unless
/// `unicast_fault_no_peer` is set, which holds the instance in FAULT
/// (vrrp/vrrp.c `vrrp_complete_instance()`, `num_config_faults`; the
/// engine reads [`VrrpInstance::unicast_fault_no_peer`]).
pub(in crate::parse) fn unicast_keyword_without_peers(
    v: &VrrpInstance,
    seen: &InstanceSeen,
    w: &mut InstanceNotes,
) {
    if !seen.unicast_configured || !v.unicast_peers.is_empty() {
        return;
    }
    if v.unicast_fault_no_peer {
        w.warn(
            "unicast_fault_no_peer and no unicast peers: the instance stays in FAULT (as keepalived does)"
                .into(),
        );
    } else {
        w.warn(
            "a unicast keyword without any unicast peers; running multicast (as keepalived does, which calls this usage deprecated)"
                .into(),
        );
    }
}

/// `mcast_dst_ip` means nothing with unicast peers.
/// keepalived: vrrp/vrrp.c `vrrp_complete_instance()`.
pub(in crate::parse) fn mcast_dst_ip_with_peers(v: &mut VrrpInstance, w: &mut InstanceNotes) {
    if !v.unicast_peers.is_empty() && v.mcast_dst_ip.is_some() {
        w.warn("mcast_dst_ip with unicast peers; ignoring it (as keepalived does)".into());
        v.mcast_dst_ip = None;
    }
}

/// `use_vmac`: unicast needs vmac_xmit_base, strict mode forbids it,
/// promote_secondaries is implied; the default name is
/// `vmac_prefix.VRID`. keepalived: vrrp/vrrp.c `vrrp_complete_instance()`
/// and vrrp/vrrp_parser.c `vrrp_vmac_handler()`.
pub(in crate::parse) fn use_vmac(
    v: &mut VrrpInstance,
    g: &GlobalDefs,
    seen: &InstanceSeen,
    w: &mut InstanceNotes,
) {
    let mut xmit_base = seen.xmit_base;
    let Some((name, mac)) = &seen.vmac else {
        if xmit_base {
            w.warn("vmac_xmit_base is only valid with use_vmac; ignoring it".into());
        }
        return;
    };
    // keepalived vrrp/vrrp_parser.c `vrrp_end_handler()`: any unicast
    // keyword, even without peers.
    if seen.unicast_configured && !seen.interface_given {
        w.warn(
            "use_vmac with unicast and no interface; clearing use_vmac (as keepalived does)".into(),
        );
        return;
    }
    if seen.unicast_configured && !xmit_base {
        w.warn(
            "unicast with use_vmac requires vmac_xmit_base; setting it (as keepalived does)".into(),
        );
        xmit_base = true;
    }
    // keepalived vrrp/vrrp.c `vrrp_complete_instance()`.
    let mut mac = *mac;
    if v.strict_mode && mac.is_some() {
        w.warn(
            "use_vmac cannot have a MAC address in strict mode; clearing it (as keepalived does)"
                .into(),
        );
        mac = None;
    }
    // keepalived vrrp/vrrp.c `vrrp_complete_instance()` (the vmac set-up).
    if xmit_base && v.strict_mode {
        w.warn(
            "vmac_xmit_base is incompatible with strict mode; clearing it (as keepalived does)"
                .into(),
        );
        xmit_base = false;
    }
    if v.promote_secondaries {
        w.warn(
            "promote_secondaries is automatic with use_vmac; ignoring it (as keepalived does)"
                .into(),
        );
        v.promote_secondaries = false;
    }
    v.use_vmac = Some(Vmac {
        name: name
            .clone()
            .unwrap_or_else(|| format!("{}.{}", g.vmac_prefix, v.virtual_router_id)),
        mac,
        xmit_base,
    });
}

/// The instance's own interface is tracked anyway; listing it is ignored.
/// keepalived: vrrp/vrrp.c `vrrp_complete_instance()` ("... since own
/// interface").
pub(in crate::parse) fn own_interface_not_tracked(v: &mut VrrpInstance, w: &mut InstanceNotes) {
    let own = v.interface.clone();
    let before = v.track_interfaces.len();
    v.track_interfaces.retain(|t| t.name != own);
    if v.track_interfaces.len() != before {
        w.warn(format!(
            "ignoring track_interface {own}: it is the instance's own interface (as keepalived does)"
        ));
    }
}

/// The address owner ignores weighted tracking.
/// keepalived: vrrp/vrrp.c `vrrp_complete_instance()` (`vrrp->base_priority
/// == VRRP_PRIO_OWNER` checks on the track lists).
pub(in crate::parse) fn owner_drops_weighted_tracking(v: &mut VrrpInstance, w: &mut InstanceNotes) {
    if v.priority == defaults::PRIORITY_OWNER {
        drop_weighted_tracking(v, false, &mut |m| w.warn(m), "address owner");
    }
}

/// keepalived's rule for weights that must not float (sync-group members
/// without sync_group_tracking_weight, and the address owner): weighted
/// interfaces get weight 0 (sync group) or are dropped (owner); weighted
/// scripts are dropped; files with the default weight 1 get 0, other
/// weighted files are dropped.
/// keepalived: vrrp/vrrp.c `vrrp_complete_instance()`.
pub(crate) fn drop_weighted_tracking(
    v: &mut VrrpInstance,
    sync_group: bool,
    warn: &mut impl FnMut(String),
    why: &str,
) {
    let mut kept = Vec::new();
    for mut t in std::mem::take(&mut v.track_interfaces) {
        if t.weight != 0 {
            warn(format!(
                "ignoring the weight of track_interface {} due to {why} (as keepalived does)",
                t.name
            ));
            if !sync_group {
                continue;
            }
            t.weight = 0;
        }
        kept.push(t);
    }
    v.track_interfaces = kept;
    v.track_scripts.retain(|t| {
        let keep = t.weight == 0;
        if !keep {
            warn(format!(
                "ignoring track_script {} with a weight due to {why} (as keepalived does)",
                t.name
            ));
        }
        keep
    });
    let mut kept = Vec::new();
    for mut t in std::mem::take(&mut v.track_files) {
        if t.weight == 1 {
            warn(format!(
                "ignoring the weight of track_file {} due to {why}; specify weight 0 (as keepalived does)",
                t.name
            ));
            t.weight = 0;
        } else if t.weight != 0 {
            warn(format!(
                "ignoring track_file {} with weight {} due to {why} (as keepalived does)",
                t.name, t.weight
            ));
            continue;
        }
        kept.push(t);
    }
    v.track_files = kept;
    // keepalived: "(%s) ignoring tracked bfd %s with weight %d due to %s".
    v.track_bfds.retain(|t| {
        let keep = t.weight == 0;
        if !keep {
            warn(format!(
                "ignoring tracked bfd {} with weight {} due to {why} (as keepalived does)",
                t.name, t.weight
            ));
        }
        keep
    });
}

/// `auth_pass` carries at most 8 octets (RFC 2338 §5.3.10).
/// keepalived: vrrp/vrrp_parser.c `vrrp_auth_pass_handler()`.
pub(in crate::parse) fn auth_pass_truncated(
    auth_pass: &mut String,
    pos: &Pos,
    warnings: &mut Vec<Diagnostic>,
) {
    if auth_pass.len() > defaults::AUTH_PASS_MAX_LEN {
        warnings.push(pos.warning(format!(
            "auth_pass longer than {} characters; truncating (as keepalived does)",
            defaults::AUTH_PASS_MAX_LEN
        )));
        let mut cut = defaults::AUTH_PASS_MAX_LEN;
        while !auth_pass.is_char_boundary(cut) {
            cut -= 1;
        }
        auth_pass.truncate(cut);
    }
}

/// Members of a sync group without `sync_group_tracking_weight` have their
/// tracking weights dropped (see [`drop_weighted_tracking`]).
/// keepalived: vrrp/vrrp.c `vrrp_complete_instance()` (`!vrrp->sync->
/// sgroup_tracking_weight`).
pub(crate) fn sync_group_drops_weighted_tracking(
    cfg: &mut Config,
    warn: &mut impl FnMut(&Origin, String),
) {
    let zero_weights: std::collections::HashSet<String> = cfg
        .vrrp_sync_groups
        .iter()
        .filter(|g| !g.sync_group_tracking_weight)
        .flat_map(|g| g.group.iter().cloned())
        .collect();
    for v in &mut cfg.vrrp_instances {
        if !zero_weights.contains(&v.name) {
            continue;
        }
        let origin = v.origin.clone();
        let name = v.name.clone();
        let mut note = |msg: String| {
            warn(
                &origin,
                format!(
                    "vrrp_instance '{name}': {msg}; use sync_group_tracking_weight to keep weights"
                ),
            )
        };
        drop_weighted_tracking(v, true, &mut note, "its sync group");
    }
}

/// `unicast_peer` without `check_unicast_src`: adverts from any source are
/// accepted. keepalived behaves the same (vrrp/vrrp.c `vrrp_check_packet()`
/// only compares the source with the peers when `check_unicast_src` is
/// set) and says nothing; we keep the behaviour and say it, since a stray
/// or forged advert can then make this router back off.
pub(in crate::parse) fn unicast_without_source_check(v: &VrrpInstance, w: &mut InstanceNotes) {
    if !v.unicast_peers.is_empty() && !v.check_unicast_src {
        w.warn(
            "unicast_peer without check_unicast_src: adverts from any source address are accepted, as keepalived does; add check_unicast_src (or the global vrrp_check_unicast_src) to accept only the listed peers".to_string(),
        );
    }
}
