//! LVS: `virtual_server_group`, `virtual_server`, `real_server` (their
//! checkers are in [`super::checkers`]) and the top-level `SSL` block.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::addresses::{ip_to_u128, range_bounds};
use super::checkers::{is_checker, Level};
use super::keywords::ignored;
use super::{fixup, lvs_read, origin, Block, Parser};
use crate::diag::Diagnostic;
use crate::model::*;
use crate::tree::Node;
use crate::values::PResult;

/// keepalived's LVS_MAX_TIMEOUT (global_data.h): 31 days.
const LVS_MAX_TIMEOUT: u64 = 86400 * 31;
/// keepalived's IPVS_WEIGHT_LIMIT (ip_vs.h): INT_MAX.
const IPVS_WEIGHT_LIMIT: u64 = i32::MAX as u64;

/// `drain_on_remove SECONDS` (rkeepalived extension, in `global_defs` and
/// `virtual_server`): 0..31 days, 0 = off. Ours, so a bad value is an error
/// at its position, not keepalived's "ignoring".
pub(super) fn drain_on_remove(k: &Node) -> PResult<Duration> {
    let secs: u64 = k.int(0, 0, LVS_MAX_TIMEOUT as i64)?;
    Ok(Duration::from_secs(secs))
}

// ---------------------------------------------------------------------------
// virtual_server
// ---------------------------------------------------------------------------

struct VirtualServerBuilder<'a> {
    vs: VirtualServer,
    node: &'a Node,
    sorry: Option<(IpAddr, Option<u16>)>,
    sorry_method: Option<ForwardingMethod>,
    sorry_inhibit: bool,
    persistence_set: bool,
    protocol_set: bool,
    /// A valid lb_algo was read (keepalived's `vs->sched[0]`).
    sched_set: bool,
    /// A valid lb_kind was read (keepalived: not IP_VS_CONN_F_FWD_MASK).
    method_set: bool,
    /// The virtual server's `weight`: its real servers' default weight.
    rs_weight: u32,
}

impl VirtualServerBuilder<'_> {
    /// Scheduling, persistence, sorry server, quorum and the plain options,
    /// read as keepalived's check/check_parser.c handlers read them.
    fn service_keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<bool> {
        match k.key() {
            "lb_algo" | "lvs_sched" => {
                let t = k.arg(0, "a scheduler (rr|wrr|lc|wlc|...)")?;
                if let Some(s) = fixup::scheduler_exact_name(
                    k,
                    t,
                    self.sched_set.then_some(self.vs.lvs_sched),
                    &mut p.warnings,
                ) {
                    self.vs.lvs_sched = s;
                    self.sched_set = true;
                }
            }
            "lb_kind" | "lvs_method" => {
                let prev = self.method_set.then_some(self.vs.lvs_method);
                if let Some(m) = forwarding_method(k, prev, "virtual", &mut p.warnings)? {
                    self.vs.lvs_method = m;
                    self.method_set = true;
                }
            }
            "protocol" => {
                let t = k.arg(0, "TCP, UDP or SCTP")?;
                if let Some(proto) = fixup::protocol_any_case(k, t, &mut p.warnings) {
                    self.protocol_set = true;
                    self.vs.protocol = proto;
                }
            }
            "persistence_timeout" => match k.args.first() {
                None => {
                    self.persistence_set = true;
                    self.vs.persistence_timeout = Some(defaults::PERSISTENCE_TIMEOUT);
                }
                Some(_) => {
                    if let Some(v) = p.ka_unsigned(k, 1, LVS_MAX_TIMEOUT, false)? {
                        self.persistence_set = true;
                        self.vs.persistence_timeout = Some(Duration::from_secs(v));
                    }
                }
            },
            "persistence_granularity" => {
                if let Some(g) = self.granularity(p, k)? {
                    self.vs.persistence_granularity = Some(g);
                    // keepalived: pgr_handler() also makes the service persistent.
                    if self.vs.persistence_timeout.is_none() {
                        self.vs.persistence_timeout = Some(defaults::PERSISTENCE_TIMEOUT);
                        self.persistence_set = true;
                    }
                }
            }
            "persistence_engine" => {
                let name = k.string(0)?;
                self.vs.persistence_engine = Some(fixup::persistence_engine_truncated(
                    k,
                    name,
                    &mut p.warnings,
                ));
            }
            "ip_family" => {
                let t = k.arg(0, "inet or inet6")?;
                let vs_family = match &self.vs.service {
                    VirtualService::Addr { addr, .. } => Some(AddressFamily::of(addr)),
                    _ => self.vs.ip_family,
                };
                if let Some(f) = fixup::ip_family_exact(k, t, vs_family, &mut p.warnings) {
                    self.vs.ip_family = Some(f);
                }
            }
            "sorry_server" => {
                let ip = k.arg(0, "an IP address")?;
                let port = k.args.get(1).map(|t| t.text.as_str());
                let r = lvs_read::sockaddr(&ip.text, port);
                if let Some((addr, port)) = p.ka_apply(k, r) {
                    // keepalived's alloc_ssvr(): a new sorry server, without
                    // the options of an earlier one.
                    self.sorry = Some((addr, port));
                    self.sorry_method = None;
                    self.sorry_inhibit = false;
                }
            }
            "sorry_server_inhibit" => {
                if fixup::needs_sorry_server(k, self.sorry.is_some(), &mut p.warnings) {
                    self.sorry_inhibit = p.ka_always_on(k);
                }
            }
            "sorry_server_lvs_method" => {
                if fixup::needs_sorry_server(k, self.sorry.is_some(), &mut p.warnings) {
                    let prev = self
                        .sorry_method
                        .or(self.method_set.then_some(self.vs.lvs_method));
                    if let Some(m) = forwarding_method(k, prev, "sorry", &mut p.warnings)? {
                        self.sorry_method = Some(m);
                    }
                }
            }
            "quorum" => {
                let t = k.arg(0, "a number 1..")?;
                let r = lvs_read::unsigned(&t.text, 1, u64::from(u32::MAX), true);
                self.vs.quorum = fixup::quorum_invalid_is_one(k, r, &mut p.warnings);
            }
            "quorum_up" | "quorum_down" => {
                let slot = if k.key() == "quorum_up" {
                    &mut self.vs.quorum_up
                } else {
                    &mut self.vs.quorum_down
                };
                if fixup::first_script_kept(k, slot.is_some(), &mut p.warnings) {
                    *slot = Some(k.notify()?);
                }
            }
            "hysteresis" => {
                if let Some(v) = p.ka_unsigned(k, 0, u64::from(u32::MAX), true)? {
                    self.vs.hysteresis = u32::try_from(v).unwrap_or(u32::MAX);
                }
            }
            "weight" => {
                if let Some(v) = p.ka_unsigned(k, 1, IPVS_WEIGHT_LIMIT, true)? {
                    self.rs_weight = u32::try_from(v).unwrap_or(u32::MAX);
                }
            }
            "drain_on_remove" => self.vs.drain_on_remove = Some(drain_on_remove(k)?),
            "announce_route" => {
                self.vs.announce = Some(Box::new(super::announce::virtual_server(k)?))
            }
            "inhibit_on_failure" => self.vs.inhibit_on_failure = p.ka_always_on(k),
            "omega" => self.vs.omega = p.ka_always_on(k),
            "ha_suspend" => self.vs.ha_suspend = p.ka_always_on(k),
            "virtualhost" => {
                if let Some(v) = p.ka_string(k, "virtual server virtualhost missing") {
                    self.vs.virtualhost = Some(v);
                }
            }
            "smtp_alert" => {
                if let Some(b) = p.ka_bool(k) {
                    self.vs.smtp_alert = b;
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// `persistence_granularity`: an IPv4 netmask, or an IPv6 prefix length
    /// 1..128 (keepalived: check_parser.c `pgr_handler()`; the family is
    /// the service's, else IPv4 when the value has a '.').
    fn granularity(&self, p: &mut Parser, k: &Node) -> PResult<Option<IpAddr>> {
        let t = k.arg(0, "a netmask")?;
        let family = match &self.vs.service {
            VirtualService::Addr { addr, .. } => Some(AddressFamily::of(addr)),
            _ => self.vs.ip_family,
        }
        .unwrap_or(if t.text.contains('.') {
            AddressFamily::Inet
        } else {
            AddressFamily::Inet6
        });
        if family == AddressFamily::Inet6 {
            let Some(len) = p.ka_unsigned(k, 1, 128, false)? else {
                return Ok(None);
            };
            let mask = u128::MAX << (128 - len);
            return Ok(Some(IpAddr::V6(std::net::Ipv6Addr::from(mask))));
        }
        let r = match t.text.parse::<std::net::Ipv4Addr>() {
            Ok(a) => lvs_read::Read::Ok(IpAddr::V4(a)),
            Err(_) => lvs_read::Read::Bad(format!("invalid IPv4 netmask '{}'", t.text)),
        };
        Ok(p.ka_apply(k, r))
    }

    /// Scheduler flags, ignored and unknown keywords.
    fn flag_keyword(&mut self, p: &mut Parser, k: &Node) {
        let sched = self.sched_set.then_some(self.vs.lvs_sched);
        match k.key() {
            "ops" => self.vs.ops = true,
            "hashed" => {}
            "flag-1" => self.vs.sched_flags.flag_1 = true,
            "flag-2" => self.vs.sched_flags.flag_2 = true,
            "flag-3" => self.vs.sched_flags.flag_3 = true,
            "sh-fallback" | "mh-fallback" => {
                if fixup::sched_flag_for_current_scheduler(k, sched, &mut p.warnings) {
                    self.vs.sched_flags.flag_1 = true;
                }
            }
            "sh-port" | "mh-port" => {
                if fixup::sched_flag_for_current_scheduler(k, sched, &mut p.warnings) {
                    self.vs.sched_flags.flag_2 = true;
                }
            }
            "snmp_name" => p.warnings.push(ignored(k)),
            "lvs_flags" | "lb_flags" | "nat_mask" => fixup::not_a_keepalived_keyword(
                k,
                "virtual_server",
                "use the flag keywords (flag-1, sh-port, ops, ...) one per line",
                &mut p.warnings,
            ),
            _ => p.push_unknown(k, "virtual_server"),
        }
    }

    /// The real servers, after the virtual server's own fix-ups (they
    /// inherit its method and options).
    /// Returns the virtual server's address family as keepalived knows it
    /// after them (check_parser.c `rs_end_handler()`).
    fn real_servers(&mut self, p: &mut Parser) -> Option<AddressFamily> {
        let vs = &mut self.vs;
        let block = self.node.block.as_ref().map_or(&[][..], |b| &b.nodes[..]);
        let mut family = match &vs.service {
            VirtualService::Addr { addr, .. } => Some(AddressFamily::of(addr)),
            _ => vs.ip_family,
        };
        for k in block.iter().filter(|k| k.key() == "real_server") {
            match p.real_server(k, vs, self.rs_weight) {
                Ok(None) => {}
                Ok(Some(rs))
                    if !fixup::real_server_family(&mut family, &rs, k, &mut p.warnings) => {}
                Ok(Some(rs)) => {
                    if vs
                        .real_servers
                        .iter()
                        .any(|o| o.addr == rs.addr && o.port == rs.port)
                    {
                        p.warnings.push(k.pos().warning(format!(
                            "real_server {} {} defined twice in this virtual_server; removing the second (as keepalived does)",
                            rs.addr,
                            rs.port.map(|p| p.to_string()).unwrap_or_default()
                        )));
                    } else {
                        vs.real_servers.push(rs);
                    }
                }
                Err(e) => p.errors.push(e),
            }
        }
        family
    }
}

impl<'a> Block<'a> for VirtualServerBuilder<'a> {
    type Output = ();

    fn keyword(&mut self, p: &mut Parser, k: &'a Node) -> PResult<()> {
        if k.key() == "alpha" {
            // keepalived's vs_alpha_handler(): always on.
            self.vs.checker_defaults.alpha = Some(p.ka_always_on(k));
            return Ok(());
        }
        if p.lvs_timing_kw(&mut self.vs.checker_defaults, k, Level::VirtualServer)? {
            return Ok(());
        }
        if self.service_keyword(p, k)? {
            return Ok(());
        }
        self.flag_keyword(p, k);
        Ok(())
    }

    /// keepalived's check_parser.c defaults and validate_check_config()
    /// fix-ups, then the real servers and the family check.
    fn finish(mut self, p: &mut Parser) -> PResult<()> {
        let n = self.node;
        let w = &mut p.warnings;
        fixup::vs_alpha_is_a_flag(&mut self.vs);
        fixup::fwmark_protocol_ignored(&mut self.vs, self.protocol_set, n, w);
        let groups = &p.cfg.virtual_server_groups;
        fixup::fwmark_group_protocol_ignored(&self.vs, self.protocol_set, groups, n, w);
        fixup::protocol_defaults_to_udp(&mut self.vs, self.protocol_set, n, w);
        fixup::zero_port_needs_persistence(&mut self.vs, self.persistence_set, n, w);
        fixup::fwmark_no_ha_suspend(&mut self.vs, n, w);
        fixup::ops_needs_udp(&mut self.vs, n, w);
        if !self.method_set {
            self.vs.lvs_method = ForwardingMethod::Nat;
            let sorry_without_method = self.sorry.is_some() && self.sorry_method.is_none();
            fixup::no_forwarding_method(&self.vs, self.node, sorry_without_method, w);
        }
        let method = self.vs.lvs_method;
        let inhibit = self.sorry_inhibit;
        let sorry_method = self.sorry_method;
        self.vs.sorry_server = self.sorry.map(|(addr, port)| SorryServer {
            addr,
            port,
            lvs_method: sorry_method.unwrap_or(method),
            inhibit,
        });
        let family = self.real_servers(p);
        let mut vs = self.vs;
        fixup::sorry_server_family(&mut vs, family, n, &mut p.warnings);
        if vs.real_servers.is_empty() {
            p.warnings.push(n.pos().warning(format!(
                "virtual_server {} has no real servers; ignoring it (as keepalived does)",
                crate::validate::service_name(&vs.service)
            )));
            return Ok(());
        }
        let mut notes = Vec::new();
        fixup::sorry_server_inhibit_follows_real_server(&mut vs, &mut notes);
        fixup::ports_follow_virtual_server(&mut vs, &mut notes);
        fixup::group_ports_warned(&vs, &p.cfg.virtual_server_groups, &mut notes);
        fixup::quorum_at_most_total_weight(&mut vs, &mut notes);
        fixup::hysteresis_below_quorum(&mut vs, &mut notes);
        for m in notes {
            p.warnings.push(n.pos().warning(format!(
                "virtual_server {}: {m}",
                crate::validate::service_name(&vs.service)
            )));
        }
        vs.real_servers.shrink_to_fit();
        p.cfg.virtual_servers.push(vs);
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// real_server
// ---------------------------------------------------------------------------

struct RealServerBuilder<'a> {
    rs: RealServer,
    node: &'a Node,
    vs: &'a VirtualServer,
}

impl<'a> Block<'a> for RealServerBuilder<'a> {
    type Output = RealServer;

    fn keyword(&mut self, p: &mut Parser, k: &'a Node) -> PResult<()> {
        if p.lvs_timing_kw(&mut self.rs.checker_defaults, k, Level::RealServer)? {
            return Ok(());
        }
        let rs = &mut self.rs;
        match k.key() {
            "weight" => {
                if let Some(v) = p.ka_unsigned(k, 0, IPVS_WEIGHT_LIMIT, true)? {
                    rs.weight = u32::try_from(v).unwrap_or(u32::MAX);
                }
            }
            "lvs_method" => {
                if let Some(m) = forwarding_method(k, Some(rs.lvs_method), "real", &mut p.warnings)? {
                    rs.lvs_method = m;
                }
            }
            "lb_kind" => fixup::not_a_keepalived_keyword(
                k,
                "real_server",
                "it reads only 'lvs_method' in a real_server; the real server keeps the virtual server's method",
                &mut p.warnings,
            ),
            "inhibit_on_failure" => {
                if let Some(b) = p.ka_bool(k) {
                    rs.inhibit_on_failure = b;
                }
            }
            "notify_up" | "notify_down" => {
                let slot = if k.key() == "notify_up" {
                    &mut rs.notify_up
                } else {
                    &mut rs.notify_down
                };
                if fixup::first_script_kept(k, slot.is_some(), &mut p.warnings) {
                    *slot = Some(k.notify()?);
                }
            }
            "uthreshold" => {
                if let Some(v) = p.ka_unsigned(k, 0, u64::from(u32::MAX), true)? {
                    rs.uthreshold = u32::try_from(v).ok();
                }
            }
            "lthreshold" => {
                if let Some(v) = p.ka_unsigned(k, 0, u64::from(u32::MAX), true)? {
                    rs.lthreshold = u32::try_from(v).ok();
                }
            }
            "smtp_alert" => {
                if let Some(b) = p.ka_bool(k) {
                    rs.smtp_alert = b;
                }
            }
            "virtualhost" => {
                if let Some(v) = p.ka_string(k, "real server virtualhost missing") {
                    rs.virtualhost = Some(v);
                }
            }
            "snmp_name" => p.warnings.push(ignored(k)),
            "ICMP_CHECK" => fixup::not_a_keepalived_keyword(
                k,
                "real_server",
                "it knows PING_CHECK; the real server gets no checker from this block",
                &mut p.warnings,
            ),
            _ => p.push_unknown(k, "real_server"),
        }
        Ok(())
    }

    /// The checkers (they inherit from the real server).
    fn finish(self, p: &mut Parser) -> PResult<RealServer> {
        let mut rs = self.rs;
        if let (Some(u), Some(l)) = (rs.uthreshold, rs.lthreshold) {
            if l > u {
                // keepalived passes both to IPVS without comparing them.
                p.warnings.push(self.node.pos().warning(format!(
                    "real_server {}: lthreshold {l} is greater than uthreshold {u}",
                    rs.addr
                )));
            }
        }
        let block = self.node.block.as_ref().map_or(&[][..], |b| &b.nodes[..]);
        for k in block.iter().filter(|k| is_checker(k.key())) {
            match p.checker(k, self.vs, &rs) {
                // The first checker's Vec as it is (exactly one checker;
                // `extend` into an empty Vec would allocate four).
                Ok(list) if rs.checkers.is_empty() => rs.checkers = list,
                Ok(list) => rs.checkers.extend(list),
                Err(e) => p.errors.push(e),
            }
        }
        // Most real servers have one checker: no spare capacity (there are
        // tens of thousands in the largest configurations).
        rs.checkers.shrink_to_fit();
        Ok(rs)
    }
}

impl Parser {
    pub(super) fn virtual_server(&mut self, n: &Node) -> PResult<()> {
        let first = n.arg(0, "IP [PORT], 'fwmark N' or 'group NAME'")?;
        let service = match first.text.as_str() {
            "fwmark" => VirtualService::Fwmark(n.int(1, 1, i64::from(u32::MAX))?),
            "group" => VirtualService::Group(n.string(1)?),
            _ => {
                // keepalived's alloc_vs(): an address it cannot read loses
                // the virtual server ("Invalid virtual server IP address").
                let port = n.args.get(1).map(|t| t.text.as_str());
                match lvs_read::sockaddr(&first.text, port) {
                    lvs_read::Read::Bad(why) => {
                        return Err(first.pos.error(format!("virtual_server: {why}")))
                    }
                    r => {
                        let Some((addr, port)) = self.ka_apply(n, r) else {
                            return Ok(());
                        };
                        VirtualService::Addr { addr, port }
                    }
                }
            }
        };
        let block = n.require_block()?;
        let mut vs = VirtualServer::new(service);
        vs.origin = origin(n.pos());
        vs.smtp_alert = self.cfg.global_defs.smtp_alert_checker;
        let mut b = VirtualServerBuilder {
            vs,
            node: n,
            sorry: None,
            sorry_method: None,
            sorry_inhibit: false,
            persistence_set: false,
            protocol_set: false,
            sched_set: false,
            method_set: false,
            rs_weight: defaults::WEIGHT,
        };
        self.feed(&mut b, block.iter().filter(|k| k.key() != "real_server"));
        b.finish(self)
    }

    /// One real server, or None when keepalived skips it (an address or
    /// port it cannot read: `alloc_rs()` "Invalid real server ip
    /// address/port ... - skipping").
    fn real_server(
        &mut self,
        n: &Node,
        vs: &VirtualServer,
        default_weight: u32,
    ) -> PResult<Option<RealServer>> {
        let ip = n.arg(0, "an IP address")?;
        let port = n.args.get(1).map(|t| t.text.as_str());
        let r = lvs_read::sockaddr(&ip.text, port);
        let Some((addr, port)) = fixup::skip_real_server_on_bad_address(self, n, r) else {
            return Ok(None);
        };
        let block = n.require_block()?;
        let mut rs = RealServer::new(addr, port);
        rs.origin = origin(n.pos());
        rs.weight = default_weight;
        rs.lvs_method = vs.lvs_method;
        rs.inhibit_on_failure = vs.inhibit_on_failure;
        rs.smtp_alert =
            fixup::real_server_smtp_alert_default(self.smtp_alert_set, &self.cfg.global_defs);
        let mut b = RealServerBuilder { rs, node: n, vs };
        self.feed(&mut b, block.iter().filter(|k| !is_checker(k.key())));
        b.finish(self).map(Some)
    }

    pub(super) fn ssl(&mut self, n: &Node) -> PResult<()> {
        // keepalived: check_parser.c ssl_handler() replaces an earlier SSL
        // block; handle_ssl_file() ignores a line without its value.
        let mut s = SslConfig::default();
        for k in n.require_block()? {
            match k.key() {
                "password" => {
                    if let Some(v) = self.ka_string(k, "SSL password missing") {
                        s.password = Some(v);
                    }
                }
                "ca" => {
                    if let Some(v) = self.ka_string(k, "SSL cafile missing") {
                        s.ca = Some(PathBuf::from(v));
                    }
                }
                "certificate" => {
                    if let Some(v) = self.ka_string(k, "SSL certfile missing") {
                        s.certificate = Some(PathBuf::from(v));
                    }
                }
                "key" => {
                    if let Some(v) = self.ka_string(k, "SSL keyfile missing") {
                        s.key = Some(PathBuf::from(v));
                    }
                }
                _ => self.push_unknown(k, "SSL"),
            }
        }
        self.cfg.ssl = Some(s);
        Ok(())
    }

    // -------------------------------------------------------------------
    // LVS
    // -------------------------------------------------------------------

    /// `virtual_server_group NAME { entries }`, read as keepalived's
    /// check/check_parser.c `vsg_handler()` and check_data.c
    /// `alloc_vsg_entry()` read it: an entry it cannot read is skipped; a
    /// group left empty, or mixing IPv4, IPv6 and a family-less fwmark, is
    /// removed (a virtual server using it is then dropped); a second group
    /// of the same name is never used (keepalived finds the first).
    pub(super) fn virtual_server_group(&mut self, n: &Node) -> PResult<()> {
        let name = n.string(0)?;
        let mut g = VirtualServerGroup {
            name,
            origin: origin(n.pos()),
            members: Vec::new(),
        };
        for k in n.require_block()? {
            match vsg_member(k, &mut self.warnings) {
                Ok(m) => g.members.push(m),
                Err(e) => self.warnings.push(super::skipped(e, "entry")),
            }
        }
        let family_of = |m: &VsgMember| match m {
            VsgMember::Range { first, .. } => Some(AddressFamily::of(first)),
            VsgMember::Fwmark { family, .. } => *family,
        };
        let has4 = g
            .members
            .iter()
            .any(|m| family_of(m) == Some(AddressFamily::Inet));
        let has6 = g
            .members
            .iter()
            .any(|m| family_of(m) == Some(AddressFamily::Inet6));
        let bare_fwmark = g
            .members
            .iter()
            .any(|m| matches!(m, VsgMember::Fwmark { family: None, .. }));
        if g.members.is_empty() {
            self.warnings.push(n.pos().warning(format!(
                "virtual server group {} has no entries - removing it (as keepalived does)",
                g.name
            )));
            return Ok(());
        }
        if has4 && has6 && bare_fwmark {
            self.warnings.push(n.pos().warning(format!(
                "virtual server group {} cannot have IPv4, IPv6 and fwmark without family - removing it (as keepalived does); give the fwmark a family (inet or inet6)",
                g.name
            )));
            return Ok(());
        }
        if self.cfg.virtual_server_group(&g.name).is_some() {
            self.warnings.push(n.pos().warning(format!(
                "virtual_server_group '{}' defined twice; the first definition is used (as keepalived does)",
                g.name
            )));
            return Ok(());
        }
        self.cfg.virtual_server_groups.push(g);
        Ok(())
    }
}

/// One `virtual_server_group` entry (keepalived: check_data.c
/// `alloc_vsg_entry()`); an error = keepalived skips the entry.
fn vsg_member(k: &Node, w: &mut Vec<Diagnostic>) -> PResult<VsgMember> {
    if k.key() == "fwmark" {
        let t = k.arg(0, "a firewall mark")?;
        let mark = match lvs_read::unsigned(&t.text, 1, u64::from(u32::MAX), true) {
            lvs_read::Read::Ok(v) => v,
            lvs_read::Read::Lenient(v, note) => {
                w.push(
                    t.pos
                        .warning(format!("fwmark: {note} (as keepalived does)")),
                );
                v
            }
            lvs_read::Read::Bad(why) => {
                return Err(t.pos.error(format!("virtual_server_group: fwmark {why}")))
            }
        };
        let mark = u32::try_from(mark).unwrap_or(u32::MAX);
        let family = match k.args.get(1).map(|t| t.text.as_str()) {
            None => None,
            Some("inet") => Some(AddressFamily::Inet),
            Some("inet6") => Some(AddressFamily::Inet6),
            Some(other) => {
                return Err(k.args[1].pos.error(format!(
                    "virtual_server_group: fwmark family '{other}' unknown (expected inet or inet6)"
                )))
            }
        };
        return Ok(VsgMember::Fwmark { mark, family });
    }
    let t = &k.name;
    let bad = || {
        t.pos.error(format!(
            "virtual_server_group: invalid address or range '{}' (expected IP, IP-LAST, IP-IP or IP/LEN)",
            t.text
        ))
    };
    let (first, last) = if t.text.contains('/') {
        let p = crate::values::parse_prefix(&t.text).ok_or_else(bad)?;
        let bits = if p.addr.is_ipv4() { 32 } else { 128 };
        if p.len == 0 {
            return Err(bad());
        }
        let host_bits = bits - u32::from(p.len);
        let base = ip_to_u128(p.addr);
        let mask: u128 = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        if base & mask != 0 {
            return Err(t.pos.error(format!(
                "virtual_server_group: Address mask bits not empty - {}",
                t.text
            )));
        }
        let lo = base;
        let hi = lo | mask;
        let conv = |v: u128| -> IpAddr {
            if p.addr.is_ipv4() {
                IpAddr::from(std::net::Ipv4Addr::from(
                    u32::try_from(v).unwrap_or(u32::MAX),
                ))
            } else {
                IpAddr::from(std::net::Ipv6Addr::from(v))
            }
        };
        (conv(lo), conv(hi))
    } else {
        range_bounds(&t.text).ok_or_else(bad)?
    };
    // keepalived: a port of only zeros is no port; read_unsigned(1, 65535).
    let port = match k.args.first() {
        Some(pt) if pt.text.bytes().any(|b| b != b'0') => {
            match lvs_read::unsigned(&pt.text, 1, 65535, true) {
                lvs_read::Read::Ok(v) => u16::try_from(v).ok(),
                lvs_read::Read::Lenient(v, note) => {
                    w.push(pt.pos.warning(format!("port: {note} (as keepalived does)")));
                    u16::try_from(v).ok()
                }
                lvs_read::Read::Bad(why) => {
                    return Err(pt
                        .pos
                        .error(format!("virtual_server_group: invalid port: {why}")))
                }
            }
        }
        _ => None,
    };
    if let Some(extra) = k.args.get(1) {
        w.push(extra.pos.warning(
            "virtual_server_group: unexpected argument after the port; ignored (as keepalived does)",
        ));
    }
    Ok(VsgMember::Range { first, last, port })
}

/// `NAT|DR|TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`, read as
/// keepalived's check_parser.c `svr_forwarding_handler()` reads it: the
/// method is matched case-sensitively, and an unknown one is ignored
/// (`Ok(None)`: the previous or default method stays). With TUN, a bad
/// tunnel option keeps TUN but the previous tunnel settings. `prev` is the
/// method before this line (None: not set yet); `server` is keepalived's
/// "virtual", "real" or "sorry".
fn forwarding_method(
    k: &Node,
    prev: Option<ForwardingMethod>,
    server: &str,
    w: &mut Vec<Diagnostic>,
) -> PResult<Option<ForwardingMethod>> {
    let t = k.arg(0, "NAT, DR or TUN")?;
    let prev_tunnel = match prev {
        Some(ForwardingMethod::Tun {
            tunnel_type,
            checksum,
        }) => ForwardingMethod::Tun {
            tunnel_type,
            checksum,
        },
        _ => ForwardingMethod::Tun {
            tunnel_type: TunnelType::Ipip,
            checksum: TunnelChecksum::Default,
        },
    };
    match t.text.as_str() {
        "NAT" => return Ok(Some(ForwardingMethod::Nat)),
        "DR" => return Ok(Some(ForwardingMethod::Dr)),
        "TUN" => {}
        _ => {
            fixup::unknown_forwarding_method(k, t, prev, server, w);
            return Ok(None);
        }
    }
    let mut tunnel_type = TunnelType::Ipip;
    let mut port: u16 = 0;
    let mut checksum = TunnelChecksum::Default;
    let mut bad = |msg: String| -> PResult<Option<ForwardingMethod>> {
        fixup::bad_tunnel_option(k, msg, server, w);
        Ok(Some(prev_tunnel))
    };
    let mut i = 1;
    while i < k.args.len() {
        let a = &k.args[i];
        match a.text.as_str() {
            "type" => {
                let Some(ty) = k.args.get(i + 1) else {
                    return bad(format!("Missing tunnel type for {server} server"));
                };
                tunnel_type = match ty.text.as_str() {
                    "ipip" => TunnelType::Ipip,
                    "gue" => TunnelType::Gue { port: 0 },
                    "gre" => TunnelType::Gre,
                    other => {
                        return bad(format!("Unknown tunnel type {other} for {server} server"))
                    }
                };
                i += 1;
            }
            "port" => {
                let Some(pt) = k.args.get(i + 1) else {
                    return bad(format!("Missing port for {server} server gue tunnel"));
                };
                match lvs_read::unsigned(&pt.text, 1, 65535, false) {
                    lvs_read::Read::Ok(v) => port = u16::try_from(v).unwrap_or(0),
                    _ => {
                        return bad(format!(
                            "Invalid gue tunnel port {} for {server} server",
                            pt.text
                        ))
                    }
                }
                i += 1;
            }
            "nocsum" => checksum = TunnelChecksum::NoCsum,
            "csum" => checksum = TunnelChecksum::Csum,
            "remcsum" => checksum = TunnelChecksum::RemCsum,
            other => return bad(format!("Invalid tunnel option {other} for {server} server")),
        }
        i += 1;
    }
    if matches!(tunnel_type, TunnelType::Gue { .. }) != (port != 0) {
        return bad("gue tunnels require port, otherwise cannot have port".to_string());
    }
    if let TunnelType::Gue { port: p } = &mut tunnel_type {
        *p = port;
    }
    if tunnel_type == TunnelType::Ipip
        && !matches!(checksum, TunnelChecksum::Default | TunnelChecksum::NoCsum)
    {
        return bad("ipip tunnels do not support checksum option".to_string());
    }
    if tunnel_type == TunnelType::Gre && checksum == TunnelChecksum::RemCsum {
        return bad("gre tunnels do not support remote checksum option".to_string());
    }
    Ok(Some(ForwardingMethod::Tun {
        tunnel_type,
        checksum,
    }))
}
