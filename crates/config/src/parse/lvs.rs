//! LVS: `virtual_server_group`, `virtual_server`, `real_server` (their
//! checkers are in [`super::checkers`]) and the top-level `SSL` block.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use super::addresses::{ip_to_u128, range_bounds};
use super::checkers::{checker_default_kw, is_checker};
use super::keywords::ignored;
use super::{fixup, origin, Block, Parser};
use crate::diag::Pos;
use crate::model::*;
use crate::tree::Node;
use crate::values::{int, PResult};

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
}

impl VirtualServerBuilder<'_> {
    /// Scheduling, persistence, sorry server, quorum and the plain options.
    fn service_keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<bool> {
        match k.key() {
            "lb_algo" | "lvs_sched" => {
                let t = k.arg(0, "a scheduler (rr|wrr|lc|wlc|...)")?;
                self.vs.lvs_sched = Scheduler::from_name(&t.text).ok_or_else(|| {
                    t.pos.error(format!(
                        "'{}': unknown scheduler '{}' (expected one of {})",
                        k.key(),
                        t.text,
                        Scheduler::ALL.map(|s| s.name()).join("|")
                    ))
                })?;
            }
            "lb_kind" | "lvs_method" => self.vs.lvs_method = forwarding_method(k)?,
            "protocol" => {
                self.protocol_set = true;
                self.vs.protocol = match k
                    .arg(0, "TCP, UDP or SCTP")?
                    .text
                    .to_ascii_uppercase()
                    .as_str()
                {
                    "TCP" => Protocol::Tcp,
                    "UDP" => Protocol::Udp,
                    "SCTP" => Protocol::Sctp,
                    _ => {
                        return Err(k.args[0].pos.error(format!(
                            "'protocol': unknown protocol '{}' (expected TCP, UDP or SCTP)",
                            k.args[0].text
                        )))
                    }
                }
            }
            "persistence_timeout" => {
                self.persistence_set = true;
                self.vs.persistence_timeout = Some(match k.args.first() {
                    Some(_) => Duration::from_secs(k.int(0, 1, i64::from(u32::MAX))?),
                    None => defaults::PERSISTENCE_TIMEOUT,
                });
            }
            "persistence_granularity" => self.vs.persistence_granularity = Some(k.ip(0)?),
            "persistence_engine" => self.vs.persistence_engine = Some(k.string(0)?),
            "ip_family" => {
                self.vs.ip_family = Some(match k.arg(0, "inet or inet6")?.text.as_str() {
                    "inet" => AddressFamily::Inet,
                    "inet6" => AddressFamily::Inet6,
                    other => {
                        return Err(k.args[0].pos.error(format!(
                            "'ip_family': unknown family '{other}' (expected inet or inet6)"
                        )))
                    }
                })
            }
            "sorry_server" => {
                let addr = k.ip(0)?;
                let port = k
                    .args
                    .get(1)
                    .map(|t| int(t, 0, 65535, "sorry_server"))
                    .transpose()?;
                self.sorry = Some((addr, port));
            }
            "sorry_server_inhibit" => self.sorry_inhibit = k.flag()?,
            "sorry_server_lvs_method" => self.sorry_method = Some(forwarding_method(k)?),
            "quorum" => {
                self.vs.quorum = k.int(0, 0, i64::from(u32::MAX))?;
                fixup::quorum_at_least_one(&mut self.vs, k, &mut p.warnings);
            }
            "quorum_up" => self.vs.quorum_up = Some(k.notify()?),
            "quorum_down" => self.vs.quorum_down = Some(k.notify()?),
            "hysteresis" => self.vs.hysteresis = k.int(0, 0, i64::from(u32::MAX))?,
            "inhibit_on_failure" => self.vs.inhibit_on_failure = k.flag()?,
            "omega" => self.vs.omega = k.flag()?,
            "ha_suspend" => self.vs.ha_suspend = k.flag()?,
            "virtualhost" => self.vs.virtualhost = Some(k.string(0)?),
            "smtp_alert" => self.vs.smtp_alert = k.flag()?,
            "ops" => self.vs.ops = k.flag()?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Scheduler flags, ignored and unknown keywords.
    fn flag_keyword(&mut self, p: &mut Parser, k: &Node) -> PResult<()> {
        match k.key() {
            "flag-1" | "sh-fallback" | "mh-fallback" => self.vs.sched_flags.flag_1 = true,
            "flag-2" | "sh-port" | "mh-port" => self.vs.sched_flags.flag_2 = true,
            "flag-3" => self.vs.sched_flags.flag_3 = true,
            "lvs_flags" | "lb_flags" => {
                for a in &k.args {
                    match a.text.as_str() {
                        "flag-1" | "sh-fallback" | "mh-fallback" => {
                            self.vs.sched_flags.flag_1 = true
                        }
                        "flag-2" | "sh-port" | "mh-port" => self.vs.sched_flags.flag_2 = true,
                        "flag-3" => self.vs.sched_flags.flag_3 = true,
                        "ops" => self.vs.ops = true,
                        other => {
                            return Err(a
                                .pos
                                .error(format!("'{}': unknown flag '{other}'", k.key())))
                        }
                    }
                }
            }
            "snmp_name" | "nat_mask" => p.warnings.push(ignored(k)),
            _ => p.push_unknown(k, "virtual_server"),
        }
        Ok(())
    }

    /// The real servers, after the virtual server's own fix-ups (they
    /// inherit its method and options).
    fn real_servers(&mut self, p: &mut Parser) {
        let vs = &mut self.vs;
        let block = self.node.block.as_ref().map_or(&[][..], |b| &b.nodes[..]);
        for k in block.iter().filter(|k| k.key() == "real_server") {
            match p.real_server(k, vs) {
                Ok(rs) => {
                    if vs
                        .real_servers
                        .iter()
                        .any(|o| o.addr == rs.addr && o.port == rs.port)
                    {
                        p.warnings.push(k.pos().warning(format!(
                            "real_server {} {} defined twice in this virtual_server; ignoring the duplicate",
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
    }
}

impl<'a> Block<'a> for VirtualServerBuilder<'a> {
    type Output = ();

    fn keyword(&mut self, p: &mut Parser, k: &'a Node) -> PResult<()> {
        if checker_default_kw(&mut self.vs.checker_defaults, k, false)? {
            return Ok(());
        }
        if self.service_keyword(p, k)? {
            return Ok(());
        }
        self.flag_keyword(p, k)
    }

    /// keepalived's check_parser.c defaults and validate_check_config()
    /// fix-ups, then the real servers and the family check.
    fn finish(mut self, p: &mut Parser) -> PResult<()> {
        let n = self.node;
        let w = &mut p.warnings;
        fixup::vs_alpha_is_a_flag(&mut self.vs);
        fixup::fwmark_protocol_ignored(&mut self.vs, self.protocol_set, n, w);
        fixup::protocol_defaults_to_udp(&mut self.vs, self.protocol_set, n, w);
        fixup::zero_port_needs_persistence(&mut self.vs, self.persistence_set, n, w);
        fixup::fwmark_no_ha_suspend(&mut self.vs, n, w);
        fixup::ops_needs_udp(&mut self.vs, n, w);
        let method = self.vs.lvs_method;
        let inhibit = self.sorry_inhibit;
        let sorry_method = self.sorry_method;
        self.vs.sorry_server = self.sorry.map(|(addr, port)| SorryServer {
            addr,
            port,
            lvs_method: sorry_method.unwrap_or(method),
            inhibit,
        });
        self.real_servers(p);
        let mut vs = self.vs;
        check_families(&vs, n.pos())?;
        if vs.real_servers.is_empty() {
            p.warnings.push(n.pos().warning(format!(
                "virtual_server {} has no real servers; ignoring it (as keepalived does)",
                crate::validate::service_name(&vs.service)
            )));
            return Ok(());
        }
        let mut notes = Vec::new();
        fixup::ports_follow_virtual_server(&mut vs, &mut notes);
        fixup::quorum_at_most_total_weight(&mut vs, &mut notes);
        fixup::hysteresis_below_quorum(&mut vs, &mut notes);
        for m in notes {
            p.warnings.push(n.pos().warning(format!(
                "virtual_server {}: {m}",
                crate::validate::service_name(&vs.service)
            )));
        }
        p.cfg.virtual_servers.push(vs);
        Ok(())
    }
}

/// keepalived: non-tunnelled real/sorry servers share the VS family.
fn check_families(vs: &VirtualServer, pos: &Pos) -> PResult<()> {
    let vs_family = match (&vs.service, vs.ip_family) {
        (VirtualService::Addr { addr, .. }, Some(f)) if AddressFamily::of(addr) != f => {
            return Err(pos.error(format!(
                "virtual_server: ip_family conflicts with the address {addr}"
            )))
        }
        (VirtualService::Addr { addr, .. }, _) => Some(AddressFamily::of(addr)),
        (_, f) => f,
    };
    let Some(fam) = vs_family else {
        return Ok(());
    };
    let direct = vs
        .real_servers
        .iter()
        .filter(|rs| !matches!(rs.lvs_method, ForwardingMethod::Tun { .. }))
        .map(|rs| (rs.addr, rs.origin.line))
        .chain(
            vs.sorry_server
                .iter()
                .filter(|s| !matches!(s.lvs_method, ForwardingMethod::Tun { .. }))
                .map(|s| (s.addr, vs.origin.line)),
        );
    for (addr, line) in direct {
        if AddressFamily::of(&addr) != fam {
            return Err(Pos {
                line,
                ..pos.clone()
            }
            .error(format!(
                "{addr}: address family differs from the virtual server's (only tunnelled real servers may differ)"
            )));
        }
    }
    Ok(())
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
        if checker_default_kw(&mut self.rs.checker_defaults, k, false)? {
            return Ok(());
        }
        match k.key() {
            "weight" => self.rs.weight = k.int(0, 0, i64::from(i32::MAX))?,
            "lb_kind" | "lvs_method" => self.rs.lvs_method = forwarding_method(k)?,
            "inhibit_on_failure" => self.rs.inhibit_on_failure = k.flag()?,
            "notify_up" => self.rs.notify_up = Some(k.notify()?),
            "notify_down" => self.rs.notify_down = Some(k.notify()?),
            "uthreshold" => self.rs.uthreshold = Some(k.int(0, 0, i64::from(u32::MAX))?),
            "lthreshold" => self.rs.lthreshold = Some(k.int(0, 0, i64::from(u32::MAX))?),
            "smtp_alert" => self.rs.smtp_alert = k.flag()?,
            "virtualhost" => self.rs.virtualhost = Some(k.string(0)?),
            "snmp_name" => p.warnings.push(ignored(k)),
            _ => p.push_unknown(k, "real_server"),
        }
        Ok(())
    }

    /// Thresholds, then the checkers (they inherit from the real server).
    fn finish(self, p: &mut Parser) -> PResult<RealServer> {
        let mut rs = self.rs;
        if let (Some(u), Some(l)) = (rs.uthreshold, rs.lthreshold) {
            if l > u {
                return Err(self.node.pos().error(format!(
                    "real_server {}: lthreshold {l} is greater than uthreshold {u}",
                    rs.addr
                )));
            }
        }
        let block = self.node.block.as_ref().map_or(&[][..], |b| &b.nodes[..]);
        for k in block.iter().filter(|k| is_checker(k.key())) {
            match p.checker(k, self.vs, &rs) {
                Ok(list) => rs.checkers.extend(list),
                Err(e) => p.errors.push(e),
            }
        }
        Ok(rs)
    }
}

impl Parser {
    pub(super) fn virtual_server(&mut self, n: &Node) -> PResult<()> {
        let service = match n
            .arg(0, "IP [PORT], 'fwmark N' or 'group NAME'")?
            .text
            .as_str()
        {
            "fwmark" => VirtualService::Fwmark(n.int(1, 1, i64::from(u32::MAX))?),
            "group" => VirtualService::Group(n.string(1)?),
            _ => {
                let addr = n.ip(0)?;
                let port = n
                    .args
                    .get(1)
                    .map(|t| int(t, 0, 65535, "virtual_server"))
                    .transpose()?;
                VirtualService::Addr { addr, port }
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
        };
        self.feed(&mut b, block.iter().filter(|k| k.key() != "real_server"));
        b.finish(self)
    }

    fn real_server(&mut self, n: &Node, vs: &VirtualServer) -> PResult<RealServer> {
        let addr = n.ip(0)?;
        let port = n
            .args
            .get(1)
            .map(|t| int(t, 0, 65535, "real_server"))
            .transpose()?;
        let block = n.require_block()?;
        let mut rs = RealServer::new(addr, port);
        rs.origin = origin(n.pos());
        rs.lvs_method = vs.lvs_method;
        rs.inhibit_on_failure = vs.inhibit_on_failure;
        rs.smtp_alert =
            fixup::real_server_smtp_alert_default(self.smtp_alert_set, &self.cfg.global_defs);
        let mut b = RealServerBuilder { rs, node: n, vs };
        self.feed(&mut b, block.iter().filter(|k| !is_checker(k.key())));
        b.finish(self)
    }

    pub(super) fn ssl(&mut self, n: &Node) -> PResult<()> {
        let mut s = SslConfig::default();
        for k in n.require_block()? {
            match k.key() {
                "password" => s.password = Some(k.string(0)?),
                "ca" => s.ca = Some(PathBuf::from(k.string(0)?)),
                "certificate" => s.certificate = Some(PathBuf::from(k.string(0)?)),
                "key" => s.key = Some(PathBuf::from(k.string(0)?)),
                _ => self.push_unknown(k, "SSL"),
            }
        }
        self.cfg.ssl = Some(s);
        Ok(())
    }

    // -------------------------------------------------------------------
    // LVS
    // -------------------------------------------------------------------

    pub(super) fn virtual_server_group(&mut self, n: &Node) -> PResult<()> {
        let name = n.string(0)?;
        let mut g = VirtualServerGroup {
            name,
            origin: origin(n.pos()),
            members: Vec::new(),
        };
        for k in n.require_block()? {
            match vsg_member(k) {
                Ok(m) => g.members.push(m),
                Err(e) => self.errors.push(e),
            }
        }
        let has4 = g.members.iter().any(|m| {
            matches!(
                m,
                VsgMember::Range {
                    first: IpAddr::V4(_),
                    ..
                }
            )
        });
        let has6 = g.members.iter().any(|m| {
            matches!(
                m,
                VsgMember::Range {
                    first: IpAddr::V6(_),
                    ..
                }
            )
        });
        let bare_fwmark = g
            .members
            .iter()
            .any(|m| matches!(m, VsgMember::Fwmark { family: None, .. }));
        if has4 && has6 && bare_fwmark {
            return Err(n.pos().error(format!(
                "virtual_server_group '{}' has IPv4 and IPv6 addresses and a fwmark without inet/inet6; give the fwmark a family",
                g.name
            )));
        }
        if self.cfg.virtual_server_group(&g.name).is_some() {
            return Err(n
                .pos()
                .error(format!("virtual_server_group '{}' defined twice", g.name)));
        }
        self.cfg.virtual_server_groups.push(g);
        Ok(())
    }
}

fn vsg_member(k: &Node) -> PResult<VsgMember> {
    if k.key() == "fwmark" {
        let mark = k.int(0, 1, i64::from(u32::MAX))?;
        let family = match k.args.get(1).map(|t| t.text.as_str()) {
            None => None,
            Some("inet") => Some(AddressFamily::Inet),
            Some("inet6") => Some(AddressFamily::Inet6),
            Some(other) => {
                return Err(k.args[1].pos.error(format!(
                    "virtual_server_group: fwmark family '{other}' (expected inet or inet6)"
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
    let (first, last) = if let Some((a, l)) = t.text.split_once('/') {
        let p = crate::values::parse_prefix(&t.text).ok_or_else(bad)?;
        let _ = (a, l);
        let bits = if p.addr.is_ipv4() { 32 } else { 128 };
        let host_bits = bits - u32::from(p.len);
        let base = ip_to_u128(p.addr);
        let mask: u128 = if host_bits >= 128 {
            u128::MAX
        } else {
            (1u128 << host_bits) - 1
        };
        let lo = base & !mask;
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
    let port = k
        .args
        .first()
        .map(|p| int(p, 0, 65535, "virtual_server_group"))
        .transpose()?;
    if k.args.len() > 1 {
        return Err(k.args[1]
            .pos
            .error("virtual_server_group: unexpected argument after the port"));
    }
    Ok(VsgMember::Range { first, last, port })
}

/// `NAT|DR|TUN [type ipip|gue port N|gre] [nocsum|csum|remcsum]`.
fn forwarding_method(k: &Node) -> PResult<ForwardingMethod> {
    let t = k.arg(0, "NAT, DR or TUN")?;
    match t.text.to_ascii_uppercase().as_str() {
        "NAT" => Ok(ForwardingMethod::Nat),
        "DR" => Ok(ForwardingMethod::Dr),
        "TUN" => {
            let mut tunnel_type = TunnelType::Ipip;
            let mut checksum = TunnelChecksum::Default;
            let mut i = 1;
            while i < k.args.len() {
                match k.args[i].text.as_str() {
                    "type" => {
                        match k.arg(i + 1, "a tunnel type")?.text.as_str() {
                            "ipip" => tunnel_type = TunnelType::Ipip,
                            "gre" => tunnel_type = TunnelType::Gre,
                            "gue" => {
                                if k.args.get(i + 2).map(|t| t.text.as_str()) != Some("port") {
                                    return Err(k.args[i + 1]
                                        .pos
                                        .error("tunnel type gue needs 'port N'"));
                                }
                                tunnel_type = TunnelType::Gue {
                                    port: k.int(i + 3, 1, 65535)?,
                                };
                                i += 2;
                            }
                            other => {
                                return Err(k.args[i + 1].pos.error(format!(
                                    "unknown tunnel type '{other}' (expected ipip, gue or gre)"
                                )))
                            }
                        }
                        i += 1;
                    }
                    "nocsum" => checksum = TunnelChecksum::NoCsum,
                    "csum" => checksum = TunnelChecksum::Csum,
                    "remcsum" => checksum = TunnelChecksum::RemCsum,
                    other => {
                        return Err(k.args[i]
                            .pos
                            .error(format!("'{}': unexpected '{other}' after TUN", k.key())))
                    }
                }
                i += 1;
            }
            if checksum != TunnelChecksum::Default && tunnel_type == TunnelType::Ipip {
                return Err(k
                    .pos()
                    .error("tunnel type ipip does not support checksum options"));
            }
            if checksum == TunnelChecksum::RemCsum && tunnel_type == TunnelType::Gre {
                return Err(k.pos().error("tunnel type gre does not support remcsum"));
            }
            Ok(ForwardingMethod::Tun {
                tunnel_type,
                checksum,
            })
        }
        _ => Err(t.pos.error(format!(
            "'{}': unknown forwarding method '{}' (expected NAT, DR or TUN)",
            k.key(),
            t.text
        ))),
    }
}
