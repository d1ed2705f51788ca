//! check_data.c's virtual server part of the dump: `dump_vsg()`,
//! `dump_vs()`, `dump_rs()` and `dump_forwarding_method()`.

use std::fmt::Write as _;
use std::net::IpAddr;

use rkeepalived_config::model as cfg;

use super::*;

/// check_data.c `dump_vsg()` / `dump_vsg_entry()`. The "Alive" counters
/// are the virtual servers on this group, per protocol, that are up.
pub(super) fn dump_vsg(out: &mut String, g: &cfg::VirtualServerGroup, c: &DumpConfig, st: &State) {
    let have4 = g.members.iter().any(|m| match m {
        cfg::VsgMember::Range { first, .. } => first.is_ipv4(),
        cfg::VsgMember::Fwmark { family, .. } => *family == Some(cfg::AddressFamily::Inet),
    });
    let have6 = g.members.iter().any(|m| match m {
        cfg::VsgMember::Range { first, .. } => first.is_ipv6(),
        cfg::VsgMember::Fwmark { family, .. } => *family == Some(cfg::AddressFamily::Inet6),
    });
    out.push_str(" ------< Virtual server group >------\n");
    let _ = writeln!(
        out,
        " Virtual Server Group = {}, IPv4 = {}, IPv6 = {}",
        g.name,
        yes_no(have4),
        yes_no(have6)
    );
    let alive = |proto: Option<cfg::Protocol>, fam: Option<cfg::AddressFamily>| -> usize {
        c.virtual_servers
            .iter()
            .enumerate()
            .filter(|(_, vs)| matches!(&vs.service, cfg::VirtualService::Group(n) if *n == g.name))
            .filter(|(_, vs)| proto.is_none_or(|p| vs.protocol == p))
            .filter(|(_, vs)| fam.is_none_or(|f| vs.ip_family.unwrap_or(f) == f))
            .filter(|(i, _)| st.virtual_servers.get(*i).is_some_and(|s| s.alive))
            .count()
    };
    // keepalived lists the address ranges first, then the fwmarks.
    for m in &g.members {
        if let cfg::VsgMember::Range { first, last, port } = m {
            let port = port.unwrap_or(0);
            if first != last {
                let _ = writeln!(out, "   VIP Range = {first}-{last}, VPORT = {port}");
            } else {
                let _ = writeln!(out, "   VIP = {first}, VPORT = {port}");
            }
            let _ = writeln!(
                out,
                "     Alive: {} tcp, {} udp, {} sctp",
                alive(Some(cfg::Protocol::Tcp), None),
                alive(Some(cfg::Protocol::Udp), None),
                alive(Some(cfg::Protocol::Sctp), None)
            );
            out.push_str("     reloaded = False\n");
        }
    }
    for m in &g.members {
        if let cfg::VsgMember::Fwmark { mark, family } = m {
            let fam = match family {
                Some(cfg::AddressFamily::Inet) => " IPv4",
                Some(cfg::AddressFamily::Inet6) => " IPv6",
                None => "",
            };
            let _ = writeln!(out, "   FWMARK = {mark}{fam}");
            let _ = writeln!(
                out,
                "     Alive: {} IPv4, {} IPv6",
                alive(None, Some(cfg::AddressFamily::Inet)),
                alive(None, Some(cfg::AddressFamily::Inet6))
            );
            out.push_str("     reloaded = False\n");
        }
    }
}

pub(super) fn group_families(c: &DumpConfig, name: &str) -> (bool, bool) {
    let Some(g) = c.groups.iter().find(|g| g.name == name) else {
        return (false, false);
    };
    let mut v4 = false;
    let mut v6 = false;
    for m in &g.members {
        match m {
            cfg::VsgMember::Range { first, .. } => {
                v4 |= first.is_ipv4();
                v6 |= first.is_ipv6();
            }
            cfg::VsgMember::Fwmark { family, .. } => match family {
                Some(cfg::AddressFamily::Inet6) => v6 = true,
                Some(cfg::AddressFamily::Inet) => v4 = true,
                None => {}
            },
        }
    }
    (v4, v6)
}

/// check_data.c `dump_forwarding_method()`, with keepalived's quirk that
/// the GUE and GRE lines carry no prefix.
pub(super) fn dump_forwarding_method(out: &mut String, prefix: &str, m: &cfg::ForwardingMethod) {
    const FWD: &str = "forwarding method = ";
    match m {
        cfg::ForwardingMethod::Nat => {
            let _ = writeln!(out, "   {prefix}{FWD}NAT");
        }
        cfg::ForwardingMethod::Dr => {
            let _ = writeln!(out, "   {prefix}{FWD}DR");
        }
        cfg::ForwardingMethod::Tun {
            tunnel_type,
            checksum,
        } => {
            let csum = match checksum {
                cfg::TunnelChecksum::Default | cfg::TunnelChecksum::NoCsum => ", no checksum",
                cfg::TunnelChecksum::Csum => ", checksum",
                cfg::TunnelChecksum::RemCsum => ", remote checksum",
            };
            match tunnel_type {
                cfg::TunnelType::Ipip => {
                    let _ = writeln!(out, "   {prefix}{FWD}TUN, type = IPIP");
                }
                cfg::TunnelType::Gue { port } => {
                    let _ = writeln!(out, "   {FWD}TUN, type = GUE, port = {port}{csum}");
                }
                cfg::TunnelType::Gre => {
                    let _ = writeln!(out, "   {FWD}TUN, type = GRE{csum}");
                }
            }
        }
    }
}

pub(super) fn script_line(n: &cfg::Notify, gd: &cfg::GlobalDefs) -> String {
    let (uid, gid) = rkeepalived_dump::script_ids(n, gd);
    format!(
        "{}, uid:gid {uid}:{gid}",
        rkeepalived_dump::cmd_str_resolved(&n.command)
    )
}

/// The persistence granularity as keepalived keeps it: an IPv4 netmask, or
/// an IPv6 prefix length.
pub(super) fn granularity(mask: IpAddr, af6: bool) -> String {
    match mask {
        IpAddr::V6(m) if af6 => u128::from(m).count_ones().to_string(),
        IpAddr::V6(m) => m.to_string(),
        IpAddr::V4(m) if af6 => u32::from(m).count_ones().to_string(),
        IpAddr::V4(m) => m.to_string(),
    }
}

/// check_data.c `dump_vs()`.
pub(super) fn dump_vs(
    out: &mut String,
    vs: &cfg::VirtualServer,
    c: &DumpConfig,
    st: Option<&VsState>,
) {
    let gd = &c.global_defs;
    let af6 = dump_vs_service(out, vs, c);
    let d = &vs.checker_defaults;
    let _ = writeln!(
        out,
        "   connection timeout = {}",
        format_decimal(d.connect_timeout.unwrap_or(VS_CONNECT_TIMEOUT))
    );
    let _ = writeln!(
        out,
        "   delay_loop = {}",
        format_decimal(d.delay_loop.unwrap_or(VS_DELAY_LOOP))
    );
    let sched = vs.lvs_sched.name();
    let _ = writeln!(out, "   lvs_sched = {sched}");
    out.push_str("   Hashed = disabled\n");
    let f = &vs.sched_flags;
    match sched {
        // ip_vs.h: SH/MH_FALLBACK = SCHED1, SH/MH_PORT = SCHED2.
        "sh" | "mh" => {
            let _ = writeln!(out, "   {sched}-port = {}abled", en_dis(f.flag_2));
            let _ = writeln!(out, "   {sched}-fallback = {}abled", en_dis(f.flag_1));
        }
        _ => {
            let _ = writeln!(out, "   flag-1 = {}abled", en_dis(f.flag_1));
            let _ = writeln!(out, "   flag-2 = {}abled", en_dis(f.flag_2));
            let _ = writeln!(out, "   flag-3 = {}abled", en_dis(f.flag_3));
        }
    }
    let _ = writeln!(
        out,
        "   One packet scheduling = {}abled{}",
        en_dis(vs.ops),
        if vs.ops && service_type(vs, &c.groups) != Some(cfg::Protocol::Udp) {
            " (inactive due to not UDP)"
        } else {
            ""
        }
    );
    if let Some(t) = vs.persistence_timeout.filter(|t| !t.is_zero()) {
        let _ = writeln!(out, "   persistence timeout = {}", t.as_secs());
    }
    if let Some(m) = vs.persistence_granularity {
        let _ = writeln!(out, "   persistence granularity = {}", granularity(m, af6));
    }
    let _ = writeln!(
        out,
        "   protocol = {}",
        match service_type(vs, &c.groups) {
            Some(cfg::Protocol::Tcp) => "TCP",
            Some(cfg::Protocol::Udp) => "UDP",
            Some(cfg::Protocol::Sctp) => "SCTP",
            None => "none",
        }
    );
    let _ = writeln!(out, "   alpha is {}", on_off(vs.alpha));
    let _ = writeln!(out, "   omega is {}", on_off(vs.omega));
    if let Some(r) = d.retry {
        let _ = writeln!(out, "   Retry count = {r}");
    }
    if let Some(r) = d.delay_before_retry {
        let _ = writeln!(out, "   Retry delay = {}", format_decimal(r));
    }
    if let Some(w) = d.warmup {
        let _ = writeln!(out, "   Warmup = {}", format_decimal(w));
    }
    let _ = writeln!(
        out,
        "   Inhibit on failure is {}",
        on_off(vs.inhibit_on_failure)
    );
    let _ = writeln!(
        out,
        "   quorum = {}, hysteresis = {}",
        vs.quorum, vs.hysteresis
    );
    if let Some(n) = &vs.quorum_up {
        let _ = writeln!(out, "   Quorum up notify script = {}", script_line(n, gd));
    }
    if let Some(n) = &vs.quorum_down {
        let _ = writeln!(out, "   Quorum down notify script = {}", script_line(n, gd));
    }
    if vs.ha_suspend {
        out.push_str("   Using HA suspend\n");
    }
    let _ = writeln!(
        out,
        "   Using smtp notification = {}",
        yes_no(vs.smtp_alert)
    );
    dump_forwarding_method(out, "default ", &vs.lvs_method);
    if let Some(s) = &vs.sorry_server {
        dump_sorry_server(out, vs, s, c);
    }
    let _ = writeln!(out, "   alive = {}", st.is_some_and(|s| s.alive) as u8);
    let _ = writeln!(
        out,
        "   quorum_state_up = {}",
        st.is_some_and(|s| s.quorum_up) as u8
    );
    out.push_str("   reloaded = 0\n");
    for (ri, rs) in vs.real_servers.iter().enumerate() {
        dump_rs(out, rs, vs, c, st.and_then(|s| s.real_servers.get(ri)));
    }
}

/// The service line of `dump_vs()` ("VS VIP = ...", "VS GROUP = ...",
/// "VS FWMARK = ..."), its virtualhost and address family; whether the
/// service is IPv6.
fn dump_vs_service(out: &mut String, vs: &cfg::VirtualServer, c: &DumpConfig) -> bool {
    out.push_str(" ------< Virtual server >------\n");
    let af6 = match &vs.service {
        cfg::VirtualService::Group(_) => {
            let _ = writeln!(out, " VS GROUP = {}", format_vs(vs));
            vs.ip_family == Some(cfg::AddressFamily::Inet6)
        }
        cfg::VirtualService::Fwmark(m) => {
            let _ = writeln!(out, " VS FWMARK = {m}");
            vs.ip_family
                .or_else(|| {
                    vs.real_servers
                        .first()
                        .map(|r| cfg::AddressFamily::of(&r.addr))
                })
                .unwrap_or(cfg::AddressFamily::Inet)
                == cfg::AddressFamily::Inet6
        }
        cfg::VirtualService::Addr { addr, port } => {
            let _ = writeln!(out, " VS VIP = {addr}, VPORT = {}", port.unwrap_or(0));
            addr.is_ipv6()
        }
    };
    if let Some(v) = &vs.virtualhost {
        let _ = writeln!(out, "   VirtualHost = {v}");
    }
    let af = match &vs.service {
        cfg::VirtualService::Group(name) if vs.ip_family.is_none() => {
            match group_families(c, name) {
                (true, true) => "IPv4 & IPv6",
                (true, false) => "inet",
                (false, true) => "inet6",
                // A group of fwmarks without a family: the real servers'.
                (false, false) => match vs.real_servers.first().map(|r| r.addr) {
                    Some(IpAddr::V4(_)) => "inet",
                    Some(IpAddr::V6(_)) => "inet6",
                    None => "unknown",
                },
            }
        }
        _ if af6 => "inet6",
        _ => "inet",
    };
    let _ = writeln!(out, "   Address family = {af}");
    af6
}

/// The `sorry_server` lines of `dump_vs()`.
fn dump_sorry_server(
    out: &mut String,
    vs: &cfg::VirtualServer,
    s: &cfg::SorryServer,
    c: &DumpConfig,
) {
    let port = s.port.or(match vs.service {
        cfg::VirtualService::Addr { port, .. } => port,
        _ => None,
    });
    let dup = vs
        .real_servers
        .iter()
        .any(|r| r.addr == s.addr && r.port == port);
    let _ = writeln!(
        out,
        "   sorry server {}= {}",
        if dup { "(duplicates rs) " } else { "" },
        Trio(
            s.addr,
            service_type(vs, &c.groups).map(proto_name),
            port.unwrap_or(0)
        )
    );
    dump_forwarding_method(out, "  ", &s.lvs_method);
    let _ = writeln!(out, "     Inhibit on failure is {}", on_off(s.inhibit));
}

/// check_data.c `dump_rs()`; the unset options inherit the virtual
/// server's (`validate_check_config()`).
pub(super) fn dump_rs(
    out: &mut String,
    rs: &cfg::RealServer,
    vs: &cfg::VirtualServer,
    c: &DumpConfig,
    st: Option<&RsState>,
) {
    let gd = &c.global_defs;
    let eff = st.map_or(i64::from(rs.weight), |s| s.effective_weight);
    let d = &rs.checker_defaults;
    let v = &vs.checker_defaults;
    out.push_str("   ------< Real server >------\n");
    let _ = writeln!(
        out,
        "   RIP = {}, RPORT = {}, WEIGHT = {} EFF WEIGHT = {eff}",
        rs.addr,
        rs.port.unwrap_or(0),
        eff.clamp(0, IPVS_WEIGHT_LIMIT)
    );
    dump_forwarding_method(out, "", &rs.lvs_method);
    let _ = writeln!(out, "   Alpha is {}", on_off(d.alpha.unwrap_or(vs.alpha)));
    let _ = writeln!(
        out,
        "   connection timeout = {}",
        format_decimal(
            d.connect_timeout
                .or(v.connect_timeout)
                .unwrap_or(VS_CONNECT_TIMEOUT)
        )
    );
    let _ = writeln!(
        out,
        "   connection limit range = {} -> {}",
        rs.lthreshold.unwrap_or(0),
        rs.uthreshold.unwrap_or(0)
    );
    let _ = writeln!(
        out,
        "   Delay loop = {}",
        format_decimal(d.delay_loop.or(v.delay_loop).unwrap_or(VS_DELAY_LOOP))
    );
    if let Some(r) = d.retry.or(v.retry) {
        let _ = writeln!(out, "   Retry count = {r}");
    }
    if let Some(r) = d.delay_before_retry.or(v.delay_before_retry) {
        let _ = writeln!(out, "   Retry delay = {}", format_decimal(r));
    }
    if let Some(w) = d.warmup.or(v.warmup) {
        let _ = writeln!(out, "   Warmup = {}", format_decimal(w));
    }
    let _ = writeln!(
        out,
        "   Inhibit on failure is {}",
        on_off(rs.inhibit_on_failure)
    );
    if let Some(n) = &rs.notify_up {
        let _ = writeln!(out, "     RS up notify script = {}", script_line(n, gd));
    }
    if let Some(n) = &rs.notify_down {
        let _ = writeln!(out, "     RS down notify script = {}", script_line(n, gd));
    }
    if let Some(v) = &rs.virtualhost {
        let _ = writeln!(out, "    VirtualHost = '{v}'");
    }
    let _ = writeln!(
        out,
        "   Using smtp notification = {}",
        yes_no(rs.smtp_alert)
    );
    let _ = writeln!(out, "   initial weight = {}", rs.weight);
    let _ = writeln!(out, "   effective weight = {eff}");
    let _ = writeln!(
        out,
        "   previous effective_weight = {}",
        st.map_or(0, |s| s.previous_weight)
    );
    let _ = writeln!(out, "   alive = {}", st.is_some_and(|s| s.alive) as u8);
    let _ = writeln!(
        out,
        "   num failed checkers = {}",
        st.map_or(0, |s| s.num_failed_checkers)
    );
    let _ = writeln!(out, "   RS set = {}", st.is_some_and(|s| s.set) as u8);
    out.push_str("   reloaded = 0\n");
    let mut files = file_checks(rs, c).peekable();
    if files.peek().is_some() {
        out.push_str("   Tracked Files\n");
        for (name, weight, rev) in files {
            let _ = writeln!(out, "     {name}, weight {weight}{}", reverse(rev));
        }
    }
    let mut bfds = bfd_checks(rs).peekable();
    if bfds.peek().is_some() {
        out.push_str("   Tracked BFDs\n");
        for name in bfds {
            let _ = writeln!(out, "     {name}");
        }
    }
}
