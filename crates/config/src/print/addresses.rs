//! Addresses, routes and rules.

use std::fmt::Write;

use super::*;

pub(super) fn scope_name(s: Scope) -> String {
    match s {
        Scope::Global => "global".into(),
        Scope::Site => "site".into(),
        Scope::Link => "link".into(),
        Scope::Host => "host".into(),
        Scope::Nowhere => "nowhere".into(),
        Scope::Other(n) => n.to_string(),
    }
}
pub(super) fn vip(a: &VirtualIpAddress) -> String {
    let mut s = format!("{}/{}", a.addr, a.prefix_len);
    if let Some(b) = a.brd {
        let _ = write!(s, " brd {b}");
    }
    let _ = write!(s, " dev {}", q(&a.dev));
    if let Some(sc) = a.scope {
        let _ = write!(s, " scope {}", scope_name(sc));
    }
    if let Some(l) = &a.label {
        let _ = write!(s, " label {}", q(l));
    }
    if let Some(p) = a.peer {
        let _ = write!(s, " peer {p}");
    }
    for (on, word) in [
        (a.home, "home"),
        (a.nodad, "-nodad"),
        (a.mngtmpaddr, "mngtmpaddr"),
        (a.noprefixroute, "noprefixroute"),
        (a.autojoin, "autojoin"),
        (a.no_track, "no_track"),
        (a.use_vmac, "use_vmac"),
    ] {
        if on {
            let _ = write!(s, " {word}");
        }
    }
    if let Some(l) = a.preferred_lft {
        let _ = write!(s, " preferred_lft {l}");
    }
    s
}
/// keepalived 2.2.7 accepts `[TYPE] PREFIX [from P] [src IP] [via ...]`
/// (not `TYPE to PREFIX`), and multipath as `nexthop via ...` clauses.
pub(super) fn route(r: &VirtualRoute) -> String {
    let ty = match r.route_type {
        RouteType::Unicast => "",
        RouteType::Blackhole => "blackhole ",
        RouteType::Unreachable => "unreachable ",
        RouteType::Prohibit => "prohibit ",
        RouteType::Throw => "throw ",
        RouteType::Local => "local ",
        RouteType::Broadcast => "broadcast ",
        RouteType::Multicast => "multicast ",
    };
    let mut s = format!("{ty}{}", r.to);
    if let Some(f) = r.from {
        let _ = write!(s, " from {f}");
    }
    if let Some(a) = r.src {
        let _ = write!(s, " src {a}");
    }
    let hop =
        |s: &mut String, via: Option<std::net::IpAddr>, dev: &Option<String>, onlink: bool| {
            if let Some(v) = via {
                let _ = write!(s, " via {v}");
            }
            if let Some(d) = dev {
                let _ = write!(s, " dev {}", q(d));
            }
            if onlink {
                s.push_str(" onlink");
            }
        };
    if r.nexthops.is_empty() {
        hop(&mut s, r.via, &r.dev, r.onlink);
    }
    for (k, v) in [
        ("table", r.table),
        ("metric", r.metric),
        ("mtu", r.mtu),
        ("advmss", r.advmss),
    ] {
        if let Some(v) = v {
            let _ = write!(s, " {k} {v}");
        }
    }
    if let Some(sc) = r.scope {
        let _ = write!(s, " scope {}", scope_name(sc));
    }
    if let Some(p) = r.protocol {
        let _ = write!(s, " protocol {p}");
    }
    if let Some(t) = r.tos {
        let _ = write!(s, " tos {t}");
    }
    if r.no_track {
        s.push_str(" no_track");
    }
    // keepalived: nexthop clauses must come last.
    if !r.nexthops.is_empty() {
        if r.via.is_some() || r.dev.is_some() || r.onlink {
            s.push_str(" nexthop");
            hop(&mut s, r.via, &r.dev, r.onlink);
        }
        for nh in &r.nexthops {
            s.push_str(" nexthop");
            hop(&mut s, nh.via, &nh.dev, nh.onlink);
            if let Some(wt) = nh.weight {
                let _ = write!(s, " weight {wt}");
            }
        }
    }
    s
}
/// keepalived 2.2.7 takes `inet`/`inet6` only after the selectors, and
/// needs it only when there is no address.
pub(super) fn rule(r: &VirtualRule) -> String {
    let mut s = String::new();
    if r.invert {
        s.push_str("not ");
    }
    match (r.from, r.to) {
        (None, None) => s.push_str("from all"),
        (f, t) => {
            if let Some(f) = f {
                let _ = write!(s, "from {f}");
            }
            if let Some(t) = t {
                if f.is_some() {
                    s.push(' ');
                }
                let _ = write!(s, "to {t}");
            }
        }
    }
    if let Some(p) = r.priority {
        let _ = write!(s, " priority {p}");
    }
    if let Some(t) = r.tos {
        let _ = write!(s, " tos {t}");
    }
    if let Some(m) = r.fwmark {
        let _ = write!(s, " fwmark {m}");
        if let Some(mask) = r.fwmask {
            let _ = write!(s, "/{mask}");
        }
    }
    if let Some(i) = &r.iif {
        let _ = write!(s, " iif {}", q(i));
    }
    if let Some(o) = &r.oif {
        let _ = write!(s, " oif {}", q(o));
    }
    match &r.action {
        RuleAction::Table(t) => {
            let _ = write!(s, " table {t}");
        }
        RuleAction::Goto(t) => {
            let _ = write!(s, " goto {t}");
        }
        RuleAction::Blackhole => s.push_str(" blackhole"),
        RuleAction::Unreachable => s.push_str(" unreachable"),
        RuleAction::Prohibit => s.push_str(" prohibit"),
        RuleAction::Nop => s.push_str(" nop"),
    }
    if r.no_track {
        s.push_str(" no_track");
    }
    if r.from.is_none() && r.to.is_none() {
        s.push_str(match r.family {
            AddressFamily::Inet => " inet",
            AddressFamily::Inet6 => " inet6",
        });
    }
    s
}
