//! `vrrp_instance`: keywords, then keepalived's `vrrp_complete_instance()`
//! fix-ups (in [`fixup`], in keepalived's order) and the cross-instance
//! checks.

use std::net::IpAddr;
use std::time::Duration;

use super::keywords::{ignored, IGNORED_INSTANCE};
use super::track::Tracked;
use super::{fixup, nonzero, origin, Block, Parser};
use crate::diag::{Diagnostic, Pos};
use crate::model::*;
use crate::tree::Node;
use crate::values::PResult;

/// keepalived reads GARP delays as whole seconds up to UINT_MAX / TIMER_HZ
/// (vrrp/vrrp_parser.c `vrrp_garp_delay_handler()`).
const MAX_GARP_SECS: u64 = u32::MAX as u64 / 1_000_000;

/// One `vrrp_instance NAME { ... }` being read.
struct InstanceBuilder<'a> {
    /// The global defaults as they were when the instance was read.
    g: GlobalDefs,
    v: VrrpInstance,
    pos: Pos,
    seen: fixup::InstanceSeen,
    /// VIPs are parsed after the interface is known (their default dev).
    vip_nodes: Vec<(&'a Node, bool)>,
}

impl<'a> InstanceBuilder<'a> {
    /// Inherits the `global_defs` VRRP defaults.
    fn new(name: String, pos: &Pos, g: GlobalDefs) -> Self {
        let mut v = VrrpInstance::new(name, String::new(), 0);
        v.origin = origin(pos);
        v.version = g.vrrp_version;
        v.garp_master_delay = g.vrrp_garp_master_delay;
        v.garp_master_repeat = g.vrrp_garp_master_repeat;
        v.garp_master_refresh = g.vrrp_garp_master_refresh;
        v.garp_master_refresh_repeat = g.vrrp_garp_master_refresh_repeat;
        v.garp_lower_prio_delay = g.vrrp_garp_lower_prio_delay;
        v.garp_lower_prio_repeat = g.vrrp_garp_lower_prio_repeat;
        v.down_timer_adverts = g.vrrp_down_timer_adverts;
        v.lower_prio_no_advert = g.vrrp_lower_prio_no_advert;
        v.higher_prio_send_advert = g.vrrp_higher_prio_send_advert;
        v.strict_mode = g.vrrp_strict;
        v.skip_check_adv_addr = g.vrrp_skip_check_adv_addr;
        v.check_unicast_src = g.vrrp_check_unicast_src;
        v.smtp_alert = g.smtp_alert_vrrp;
        InstanceBuilder {
            g,
            v,
            pos: pos.clone(),
            seen: fixup::InstanceSeen::default(),
            vip_nodes: Vec::new(),
        }
    }

    /// Identity, timers, addresses and tracking.
    fn core_keyword(&mut self, p: &mut Parser, k: &'a Node) -> PResult<bool> {
        match k.key() {
            "state" => fixup::state_value(
                k.arg(0, "MASTER or BACKUP")?,
                &mut self.v,
                &mut self.seen.state_set,
                &mut p.warnings,
            ),
            "interface" => {
                let name = k.string(0)?;
                // keepalived: vrrp/vrrp_parser.c `vrrp_int_handler()` drops a
                // loopback interface (ARPHRD_LOOPBACK; "lo" is the only one a
                // config can name, there is one per namespace).
                if name == "lo" {
                    p.warnings.push(k.pos().warning(format!(
                        "({}) cannot use a loopback interface (lo) for vrrp - ignoring (as keepalived does)",
                        self.v.name
                    )));
                } else {
                    self.seen.interface = Some(name);
                }
            }
            "virtual_router_id" => {
                // keepalived reads it in decimal only (`0x33` is invalid) and
                // then loses the instance: an error here.
                let t = k.arg(0, "an integer 1..255")?;
                let vrid = match fixup::ka_read_unsigned(&t.text, 1, 255, false) {
                    Some((v, _)) => u8::try_from(v).unwrap_or(0),
                    None => {
                        return Err(k.int::<u8>(0, 1, 255).err().unwrap_or_else(|| {
                            t.pos.error(format!(
                                "'virtual_router_id': invalid number '{}' (keepalived reads a decimal 1..255)",
                                t.text
                            ))
                        }))
                    }
                };
                self.seen.vrid = Some((vrid, k.pos().clone()));
            }
            "priority" => {
                self.v.priority =
                    fixup::priority_value(k.arg(0, "a priority 1..255")?, &mut p.warnings);
                self.seen.priority_set = true;
            }
            "advert_int" => {
                let t = k.arg(0, "a time in seconds")?;
                if let Some(d) = fixup::advert_int_value(t, &mut p.warnings) {
                    self.seen.advert = Some((d, t.pos.clone()));
                }
            }
            "version" => {
                let current = self.seen.version_set.as_ref().map(|_| self.v.version);
                if let Some(ver) = fixup::version_value(k, current, &mut p.warnings)? {
                    self.v.version = ver;
                    self.seen.version_set = Some(k.pos().clone());
                }
            }
            "nopreempt" => {
                fixup::bare_keyword(k, &mut p.warnings);
                self.v.nopreempt = true
            }
            "preempt" => {
                fixup::bare_keyword(k, &mut p.warnings);
                self.v.nopreempt = false
            }
            "preempt_delay" => {
                self.v.preempt_delay =
                    fixup::preempt_delay_value(k.arg(0, "a time in seconds")?, &mut p.warnings)
            }
            "mcast_src_ip" | "unicast_src_ip" => {
                if let Some(a) = fixup::instance_address(k, &mut p.warnings)? {
                    match k.key() {
                        "mcast_src_ip" => self.v.mcast_src_ip = Some(a),
                        _ => self.v.unicast_src_ip = Some(a),
                    }
                }
                if k.key() == "unicast_src_ip" {
                    self.seen.unicast_configured = true;
                }
            }
            "mcast_dst_ip" => {
                if let Some(a) = fixup::instance_address(k, &mut p.warnings)? {
                    self.v.mcast_dst_ip = fixup::mcast_dst_ip_multicast(k, a, &mut p.warnings);
                }
            }
            "unicast_peer" => {
                self.seen.unicast_configured = true;
                for n in k.require_block()? {
                    if let Some(peer) = unicast_peer(n, &mut p.warnings) {
                        // keepalived: a TTL limit turns on check_unicast_src
                        // (vrrp/vrrp_data.c `alloc_vrrp_unicast_peer()`).
                        if peer.min_ttl.is_some() || peer.max_ttl.is_some() {
                            self.v.check_unicast_src = true;
                        }
                        self.v.unicast_peers.push(peer);
                    }
                }
            }
            "unicast_ttl" => {
                if let Some(n) = fixup::unsigned_or_ignored(k, 0, 255, false, &mut p.warnings)? {
                    self.v.unicast_ttl = u8::try_from(n).ok();
                }
            }
            "unicast_fault_no_peer" => {
                fixup::bare_keyword(k, &mut p.warnings);
                self.seen.unicast_configured = true;
                self.v.unicast_fault_no_peer = true
            }
            "check_unicast_src" => {
                // A plain flag in keepalived: cannot undo the global one.
                fixup::bare_keyword(k, &mut p.warnings);
                self.seen.unicast_configured = true;
                self.v.check_unicast_src = true
            }
            "authentication" => self.v.authentication = p.authentication(k)?,
            "virtual_ipaddress" => self.vip_nodes.push((k, false)),
            "virtual_ipaddress_excluded" => self.vip_nodes.push((k, true)),
            "virtual_routes" => self.v.virtual_routes.extend(p.routes(k, false)?),
            "virtual_rules" => self.v.virtual_rules.extend(p.rules(k, false)?),
            "track_interface" => {
                p.track_refs(k, Tracked::Interface, &mut self.v.track_interfaces)?
            }
            "track_script" => p.track_refs(k, Tracked::Script, &mut self.v.track_scripts)?,
            "track_file" => p.track_refs(k, Tracked::File, &mut self.v.track_files)?,
            "track_process" => p.track_refs(k, Tracked::Process, &mut self.v.track_processes)?,
            "track_bfd" => p.track_bfd_refs(k, &self.v.name, &mut self.v.track_bfds)?,
            "dont_track_primary" => {
                fixup::bare_keyword(k, &mut p.warnings);
                self.v.dont_track_primary = true
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// vmac, modes, notify scripts, GARP and the rest.
    fn other_keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        match k.key() {
            "use_vmac" => {
                let (name, mac) = self.seen.vmac.take().unwrap_or((None, None));
                let taken: Vec<(String, String)> = p
                    .cfg
                    .vrrp_instances
                    .iter()
                    .filter_map(|o| Some((o.use_vmac.as_ref()?.name.clone(), o.name.clone())))
                    .collect();
                self.seen.vmac = Some(fixup::use_vmac_args(k, name, mac, &taken, &mut p.warnings));
            }
            "vmac_xmit_base" | "accept" | "no_accept" | "promote_secondaries" => {
                fixup::bare_keyword(k, &mut p.warnings);
                match k.key() {
                    "vmac_xmit_base" => self.seen.xmit_base = true,
                    "accept" => self.seen.accept = Some(true),
                    "no_accept" => self.seen.accept = Some(false),
                    _ => self.v.promote_secondaries = true,
                }
            }
            "strict_mode" => {
                if let Some(b) = fixup::ka_bool(k, &mut p.warnings) {
                    self.v.strict_mode = b
                }
            }
            "skip_check_adv_addr" => {
                if let Some(b) = fixup::skip_check_adv_addr_value(k, &mut p.warnings) {
                    self.v.skip_check_adv_addr = b
                }
            }
            "notify_master" => fixup::notify_once(&mut self.v.notify_master, k, &mut p.warnings)?,
            "notify_backup" => fixup::notify_once(&mut self.v.notify_backup, k, &mut p.warnings)?,
            "notify_fault" => fixup::notify_once(&mut self.v.notify_fault, k, &mut p.warnings)?,
            "notify_stop" => fixup::notify_once(&mut self.v.notify_stop, k, &mut p.warnings)?,
            "notify" => fixup::notify_once(&mut self.v.notify, k, &mut p.warnings)?,
            "notify_master_rx_lower_pri" => {
                fixup::notify_once(&mut self.v.notify_master_rx_lower_pri, k, &mut p.warnings)?
            }
            "notify_priority_changes" => {
                if let Some(b) = fixup::ka_bool(k, &mut p.warnings) {
                    self.v.notify_priority_changes = b
                }
            }
            "smtp_alert" => {
                if let Some(b) = fixup::ka_bool(k, &mut p.warnings) {
                    self.v.smtp_alert = b
                }
            }
            "garp_master_delay" => {
                if let Some(n) =
                    fixup::unsigned_or_ignored(k, 0, MAX_GARP_SECS, true, &mut p.warnings)?
                {
                    self.v.garp_master_delay = Duration::from_secs(n);
                }
            }
            "garp_master_repeat" => {
                if let Some(n) =
                    fixup::unsigned_or_ignored(k, 0, u32::MAX.into(), true, &mut p.warnings)?
                {
                    self.v.garp_master_repeat = fixup::repeat_at_least_one(
                        k,
                        n,
                        &format!("({}): ", self.v.name),
                        &mut p.warnings,
                    );
                }
            }
            "garp_master_refresh" => {
                // keepalived sets 0 (off) when the value is invalid.
                self.v.garp_master_refresh =
                    fixup::unsigned_or_ignored(k, 0, u32::MAX.into(), true, &mut p.warnings)?
                        .and_then(|n| nonzero(Duration::from_secs(n)))
            }
            "garp_master_refresh_repeat" => {
                if let Some(n) =
                    fixup::unsigned_or_ignored(k, 0, u32::MAX.into(), true, &mut p.warnings)?
                {
                    self.v.garp_master_refresh_repeat = fixup::repeat_at_least_one(
                        k,
                        n,
                        &format!("({}): ", self.v.name),
                        &mut p.warnings,
                    );
                }
            }
            "garp_lower_prio_delay" => {
                if let Some(n) =
                    fixup::unsigned_or_ignored(k, 0, MAX_GARP_SECS, true, &mut p.warnings)?
                {
                    self.v.garp_lower_prio_delay = Duration::from_secs(n);
                    self.seen.lower_delay_set = true;
                }
            }
            "garp_lower_prio_repeat" => {
                if let Some(n) =
                    fixup::unsigned_or_ignored(k, 0, i32::MAX as u64, true, &mut p.warnings)?
                {
                    self.v.garp_lower_prio_repeat = u32::try_from(n).unwrap_or(u32::MAX);
                    self.seen.lower_repeat_set = true;
                }
            }
            "down_timer_adverts" => {
                if let Some(n) = fixup::unsigned_or_ignored(k, 1, 100, true, &mut p.warnings)? {
                    self.v.down_timer_adverts = u32::try_from(n).unwrap_or(100);
                }
            }
            "lower_prio_no_advert" => {
                if let Some(b) = fixup::ka_bool(k, &mut p.warnings) {
                    self.v.lower_prio_no_advert = b;
                    self.seen.lpna_set = true;
                }
            }
            "higher_prio_send_advert" => {
                if let Some(b) = fixup::ka_bool(k, &mut p.warnings) {
                    self.v.higher_prio_send_advert = b;
                    self.seen.hpsa_set = true;
                }
            }
            "lvs_sync_daemon_interface" => {
                // vrrp_parser.c `vrrp_lvs_syncd_handler()`: deprecated, read
                // as the global `lvs_sync_daemon IFACE THIS_INSTANCE` unless
                // one is already set (globally or by an earlier instance).
                let want = k.string(0)?;
                let name = &self.v.name;
                p.warnings.push(k.pos().warning(format!(
                    "({name}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated. Please use global lvs_sync_daemon"
                )));
                match &p.cfg.global_defs.lvs_sync_daemon {
                    Some(prev) => p.warnings.push(k.pos().warning(format!(
                        "({name}) lvs_sync_daemon_interface has already been specified as {} - ignoring (as keepalived does)",
                        prev.interface
                    ))),
                    None => {
                        p.cfg.global_defs.lvs_sync_daemon = Some(LvsSyncDaemon {
                            interface: want,
                            vrrp_instance: Some(name.clone()),
                            sync_id: None,
                            maxlen: None,
                            port: defaults::LVS_SYNC_PORT,
                            ttl: None,
                            group: std::net::IpAddr::V4(defaults::LVS_SYNC_GROUP),
                        });
                        p.lvs_sync_pos = Some(k.pos().clone());
                    }
                }
            }
            "debug" => {
                if k.args.is_empty() {
                    self.v.debug = 0;
                } else if let Some(n) = fixup::unsigned_or_ignored(k, 0, 4, true, &mut p.warnings)?
                {
                    self.v.debug = u8::try_from(n).unwrap_or(0);
                }
            }
            kw if IGNORED_INSTANCE.contains(&kw) => p.warnings.push(ignored(k)),
            _ => p.push_unknown(k, "vrrp_instance"),
        }
        Ok(())
    }
}

impl<'a> Block<'a> for InstanceBuilder<'a> {
    type Output = ();

    fn keyword(&mut self, p: &mut Parser, k: &'a Node) -> PResult<()> {
        if self.core_keyword(p, k)? {
            return Ok(());
        }
        self.other_keyword(p, k)
    }

    /// Interface, vrid and VIPs, then the fix-ups of keepalived's
    /// `vrrp_complete_instance()` and the cross-instance checks.
    fn finish(self, p: &mut Parser) -> PResult<()> {
        let InstanceBuilder {
            g,
            mut v,
            pos,
            mut seen,
            vip_nodes,
        } = self;
        fixup::interface_defaults_to_default_interface(
            &mut v,
            &g,
            &mut seen,
            &pos,
            &mut p.warnings,
        )?;
        let Some((vrid, _)) = seen.vrid else {
            return Err(pos.error(format!(
                "vrrp_instance '{}' has no 'virtual_router_id' (1..255)",
                v.name
            )));
        };
        v.virtual_router_id = vrid;
        for (k, excluded) in vip_nodes {
            let list = match p.vip_block(k, &v.interface, false) {
                Ok(l) => l,
                Err(e) => {
                    p.errors.push(e);
                    continue;
                }
            };
            if excluded {
                v.virtual_ipaddresses_excluded.extend(list);
            } else {
                v.virtual_ipaddresses.extend(list);
            }
        }
        fixup::family_from_first_address(&mut v);
        fixup::other_family_addresses_ignored(&mut v, &pos, &mut p.warnings);
        let mut w = fixup::InstanceNotes::new(&v.name, &pos);
        complete_instance(&mut v, &g, &seen, &mut w, &mut p.warnings)?;
        p.warnings.extend(w.notes);
        check_unique(p, &v, &pos)?;
        p.cfg.vrrp_instances.push(v);
        Ok(())
    }
}

/// keepalived's `vrrp_complete_instance()` (vrrp/vrrp.c), in its order:
/// the fix-ups, and the two configurations it refuses.
fn complete_instance(
    v: &mut VrrpInstance,
    g: &GlobalDefs,
    seen: &fixup::InstanceSeen,
    w: &mut fixup::InstanceNotes,
    warnings: &mut Vec<Diagnostic>,
) -> PResult<()> {
    let fam = v.family;
    fixup::ipv6_forces_version3(v, seen, w);
    if v.virtual_ipaddresses.is_empty()
        && (v.version == VrrpVersion::V3 || fam == AddressFamily::Inet6 || v.strict_mode)
    {
        return Err(w.pos.error(format!(
            "vrrp_instance '{}': no virtual_ipaddress; at least one is required with VRRP version 3, IPv6 or strict mode",
            v.name
        )));
    }
    fixup::priority_from_state(v, seen);
    fixup::state_from_priority(v, seen, w);
    fixup::authentication_unsupported(v, w);
    fixup::ah_initial_master_becomes_backup(v, w);
    if v.strict_mode && !v.unicast_peers.is_empty() {
        return Err(w.pos.error(format!(
            "vrrp_instance '{}': unicast peers are not supported in strict mode",
            v.name
        )));
    }
    fixup::ipv6_first_vip_link_local(v, w);
    fixup::excess_vips_excluded(v, w);
    fixup::nopreempt_with_owner(v, w);
    fixup::nopreempt_with_initial_master(v, w);
    fixup::preempt_delay_with_initial_master(v, w);
    fixup::preempt_delay_with_strict_or_nopreempt(v, w);
    fixup::accept_default(v, seen, w);
    fixup::strict_mode_garp_and_adverts(v, seen, w);
    fixup::advert_int_rounded(v, seen, warnings);
    fixup::unicast_keyword_without_peers(v, seen, w);
    fixup::unicast_ttl_without_peers(v, w);
    fixup::mcast_dst_ip_with_peers(v, w);
    fixup::use_vmac(v, g, seen, w);
    fixup::own_interface_not_tracked(v, w);
    fixup::unicast_without_source_check(v, w);
    fixup::owner_drops_weighted_tracking(v, w);
    Ok(())
}

/// Instance names are unique, and so is a vrid per interface, family and
/// transport.
fn check_unique(p: &Parser, v: &VrrpInstance, pos: &Pos) -> PResult<()> {
    if p.cfg.vrrp_instance(&v.name).is_some() {
        return Err(pos.error(format!("vrrp_instance '{}' defined twice", v.name)));
    }
    if let Some(other) = p.cfg.vrrp_instances.iter().find(|o| {
        o.virtual_router_id == v.virtual_router_id
            && o.interface == v.interface
            && o.family == v.family
            && o.unicast_peers.is_empty() == v.unicast_peers.is_empty()
    }) {
        return Err(pos.error(format!(
            "vrrp_instance '{}': virtual_router_id {} on interface {} is already used by vrrp_instance '{}' ({})",
            v.name, v.virtual_router_id, v.interface, other.name, other.origin
        )));
    }
    Ok(())
}

impl Parser {
    pub(super) fn vrrp_instance(&mut self, n: &Node) -> PResult<()> {
        let name = n.string(0)?;
        if let Some(extra) = n.args.get(1) {
            // keepalived: vrrp/vrrp_parser.c `vrrp_handler()` skips the block:
            // the instance is lost.
            return Err(extra.pos.error(format!(
                "vrrp_instance must have a name (one word); unexpected '{}' (keepalived skips this instance)",
                extra.text
            )));
        }
        let block = n.require_block()?;
        let b = InstanceBuilder::new(name, n.pos(), self.cfg.global_defs.clone());
        self.build(b, block)?;
        Ok(())
    }

    fn authentication(&mut self, n: &Node) -> PResult<Option<Authentication>> {
        let mut auth_type = None;
        let mut type_ignored = false;
        let mut pass: Option<(String, Pos)> = None;
        for k in n.require_block()? {
            match k.key() {
                "auth_type" => {
                    let t = k.arg(0, "PASS or AH")?;
                    match fixup::auth_type_value(t, &mut self.warnings) {
                        Some(a) => auth_type = Some(a),
                        None => type_ignored = true,
                    }
                }
                "auth_pass" => pass = Some((k.string(0)?, k.args[0].pos.clone())),
                _ => self.push_unknown(k, "authentication"),
            }
        }
        let (Some(auth_type), Some((mut auth_pass, pos))) = (auth_type, pass) else {
            if auth_type.is_none() && type_ignored {
                // Already reported: keepalived has no authentication.
                return Ok(None);
            }
            self.warnings.push(n.pos().warning(
                "authentication needs both auth_type and auth_pass; ignoring it (as keepalived does)",
            ));
            return Ok(None);
        };
        if auth_pass.is_empty() {
            self.warnings.push(pos.warning(
                "authentication with an empty auth_pass; ignoring it (as keepalived does)",
            ));
            return Ok(None);
        }
        fixup::auth_pass_truncated(&mut auth_pass, &pos, &mut self.warnings);
        Ok(Some(Authentication {
            auth_type,
            auth_pass,
        }))
    }
}

/// One `unicast_peer` line, read as keepalived reads it: a malformed
/// address skips the peer, a bad TTL option is ignored.
/// keepalived: vrrp/vrrp_data.c `alloc_vrrp_unicast_peer()`.
fn unicast_peer(p: &Node, warnings: &mut Vec<Diagnostic>) -> Option<UnicastPeer> {
    let Ok(addr) = p.name.text.parse::<IpAddr>() else {
        warnings.push(p.name.pos.warning(format!(
            "unicast_peer: malformed unicast peer address [{}]; skipping it (as keepalived does)",
            p.name.text
        )));
        return None;
    };
    let mut peer = UnicastPeer {
        addr,
        min_ttl: None,
        max_ttl: None,
    };
    let mut i = 0;
    while i < p.args.len() {
        let opt = &p.args[i];
        let Some(value) = p.args.get(i + 1) else {
            warnings.push(opt.pos.warning(format!(
                "unicast_peer: {} is missing a value; ignoring it (as keepalived does)",
                opt.text
            )));
            break;
        };
        match fixup::ka_read_unsigned(&value.text, 0, 255, false) {
            None => warnings.push(value.pos.warning(format!(
                "unicast_peer: invalid {} '{}' (0..255); ignoring it (as keepalived does)",
                opt.text, value.text
            ))),
            Some((ttl, _)) => {
                let ttl = u8::try_from(ttl).ok();
                match opt.text.as_str() {
                    "min_ttl" => peer.min_ttl = ttl,
                    "max_ttl" => peer.max_ttl = ttl,
                    other => {
                        warnings.push(opt.pos.warning(format!(
                            "unicast_peer: unknown unicast_peer option {other}; ignoring the rest of the line (as keepalived does)"
                        )));
                        break;
                    }
                }
            }
        }
        i += 2;
    }
    // keepalived vrrp/vrrp_data.c `alloc_vrrp_unicast_peer()`: kept, with a
    // warning (the TTL window can never match).
    let (min, max) = (peer.min_ttl.unwrap_or(0), peer.max_ttl.unwrap_or(255));
    if min > max {
        warnings.push(p.name.pos.warning(format!(
            "unicast_peer {}: min_ttl {min} > max_ttl {max}; every advert from it will be discarded (keepalived warns too)",
            p.name.text
        )));
    }
    Some(peer)
}
