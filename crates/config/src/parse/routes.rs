//! Routes and rules: `virtual_routes`, `virtual_rules`, `static_routes`,
//! `static_rules`.

use std::net::IpAddr;

use super::{fixup, skipped, Parser};
use crate::lexer::Token;
use crate::model::*;
use crate::tree::Node;
use crate::values::{int, ip, ip_prefix, scope, table, PResult};

impl Parser {
    /// keepalived skips a malformed route/rule with a warning; so do we.
    /// `static_`: a `static_routes` block (`track_group` allowed).
    pub(super) fn routes(&mut self, n: &Node, static_: bool) -> PResult<Vec<VirtualRoute>> {
        let mut out = Vec::new();
        for k in n.require_block()? {
            if static_ {
                track_group_ignored(k, &mut self.warnings);
            }
            match route(k, static_) {
                Ok((mut r, has_oif)) => {
                    fixup::tracked_route_protocol(&mut r, k, &mut self.warnings);
                    fixup::untracked_route_without_interface(
                        &mut r,
                        has_oif,
                        k,
                        &mut self.warnings,
                    );
                    out.push(r)
                }
                Err(e) => self.warnings.push(skipped(e, "route")),
            }
        }
        Ok(out)
    }

    /// `static_`: a `static_rules` block (`track_group` allowed).
    pub(super) fn rules(&mut self, n: &Node, static_: bool) -> PResult<Vec<VirtualRule>> {
        let mut out = Vec::new();
        for k in n.require_block()? {
            if static_ {
                track_group_ignored(k, &mut self.warnings);
            }
            match rule(k, static_) {
                Ok(r) if !fixup::rule_goto_needs_lower_priority(&r, k, &mut self.warnings) => {}
                Ok(mut r) => {
                    fixup::rule_priority_numbered(
                        &mut r,
                        &mut self.next_rule_priority,
                        k,
                        &mut self.warnings,
                    );
                    out.push(r)
                }
                Err(e) => self.warnings.push(skipped(e, "rule")),
            }
        }
        Ok(out)
    }

    pub(super) fn static_routes(&mut self, n: &Node) -> PResult<()> {
        let r = self.routes(n, true)?;
        self.cfg.static_routes.extend(r);
        Ok(())
    }

    pub(super) fn static_rules(&mut self, n: &Node) -> PResult<()> {
        let r = self.rules(n, true)?;
        self.cfg.static_rules.extend(r);
        Ok(())
    }
}

/// `track_group NAME` on a static route/rule: keepalived's
/// `static_track_group` is not implemented here, so the option is ignored
/// and the route/rule kept (keepalived: vrrp/vrrp_iproute.c `alloc_route()`,
/// vrrp/vrrp_iprule.c `alloc_rule()`).
fn track_group_ignored(k: &Node, warnings: &mut Vec<crate::diag::Diagnostic>) {
    if let Some(t) = std::iter::once(&k.name)
        .chain(k.args.iter())
        .find(|t| t.text == "track_group")
    {
        warnings.push(
            t.pos.warning(
                "track_group (static_track_group) is not supported by rkeepalived; ignored",
            ),
        );
    }
}

fn route_type(s: &str) -> Option<RouteType> {
    Some(match s {
        "unicast" => RouteType::Unicast,
        "blackhole" => RouteType::Blackhole,
        "unreachable" => RouteType::Unreachable,
        "prohibit" => RouteType::Prohibit,
        "throw" => RouteType::Throw,
        "local" => RouteType::Local,
        "broadcast" => RouteType::Broadcast,
        "multicast" => RouteType::Multicast,
        _ => return None,
    })
}

/// A route being read, word by word.
struct RouteState {
    r: VirtualRoute,
    to: Option<IpPrefix>,
    nexthop_used: bool,
    /// `dev`/`oif` of the route itself (not of a `nexthop`).
    has_oif: bool,
    /// A static route: `track_group NAME` is skipped (reported once by
    /// [`track_group_ignored`]).
    allow_track_group: bool,
}

/// One route line: the words of the keyword and its arguments; with
/// whether the route itself names an interface (keepalived's `oif`).
fn route(k: &Node, static_: bool) -> PResult<(VirtualRoute, bool)> {
    let words: Vec<&Token> = std::iter::once(&k.name).chain(k.args.iter()).collect();
    let mut st = RouteState {
        r: VirtualRoute::new(IpPrefix {
            addr: IpAddr::from([0, 0, 0, 0]),
            len: 0,
        }),
        to: None,
        nexthop_used: false,
        has_oif: false,
        allow_track_group: static_,
    };
    let mut i = 0;
    while i < words.len() {
        i = route_word(&words, i, &mut st)? + 1;
    }
    let RouteState {
        mut r,
        to,
        nexthop_used,
        has_oif,
        ..
    } = st;
    r.to = to.ok_or_else(|| k.pos().error("route: no destination prefix"))?;
    // `nexthop` form: the first hop is the route's own gateway (unless weighted).
    if nexthop_used
        && r.via.is_none()
        && r.dev.is_none()
        && !r.onlink
        && r.nexthops.first().is_some_and(|nh| nh.weight.is_none())
    {
        let first = r.nexthops.remove(0);
        r.via = first.via;
        r.dev = first.dev;
        r.onlink = first.onlink;
    }
    if r.nexthops
        .iter()
        .any(|nh| nh.via.is_none() && nh.dev.is_none())
    {
        return Err(k.pos().error("route: 'nexthop' needs 'via IP' or 'dev IF'"));
    }
    if let Some(f) = r.from {
        if f.addr.is_ipv4() {
            return Err(k.pos().error(format!(
                "route: 'from {f}' (source-specific routing) is only supported with IPv6"
            )));
        }
        if !r.to.addr.is_ipv6() {
            return Err(k
                .pos()
                .error("route: 'from' and destination are different address families"));
        }
    }
    for nh in &r.nexthops {
        if let Some(a) = nh.via {
            if a.is_ipv4() != r.to.addr.is_ipv4() {
                return Err(k.pos().error(format!(
                    "route: nexthop {a} is not the destination's address family"
                )));
            }
        }
    }
    for (what, a) in [("via", r.via), ("src", r.src)] {
        if let Some(a) = a {
            if a.is_ipv4() != r.to.addr.is_ipv4() {
                return Err(k.pos().error(format!(
                    "route: {what} {a} is not the destination's address family"
                )));
            }
        }
    }
    Ok((r, has_oif))
}

/// The word at `i` (and its value); returns the index of the last word used.
fn route_word(words: &[&Token], mut i: usize, st: &mut RouteState) -> PResult<usize> {
    let w = words[i];
    let key = w.text.as_str();
    let value = |j: usize| -> PResult<&Token> {
        words
            .get(j)
            .copied()
            .ok_or_else(|| w.pos.error(format!("route: '{key}' needs a value")))
    };
    match key {
        "src" => {
            st.r.src = Some(ip(value(i + 1)?, "src")?);
            i += 1;
        }
        "from" => {
            st.r.from = Some(ip_prefix(value(i + 1)?, "from")?);
            i += 1;
        }
        "to" => {
            st.to = Some(ip_prefix(value(i + 1)?, "to")?);
            i += 1;
        }
        "via" | "gw" => {
            let a = ip(value(i + 1)?, key)?;
            match st.r.nexthops.last_mut() {
                Some(nh) if st.nexthop_used => nh.via = Some(a),
                _ => st.r.via = Some(a),
            }
            i += 1;
        }
        "nexthop" => {
            st.nexthop_used = true;
            st.r.nexthops.push(NextHop {
                via: None,
                dev: None,
                onlink: false,
                weight: None,
            });
        }
        "or" => {
            let via = ip(value(i + 1)?, "or")?;
            st.r.nexthops.push(NextHop {
                via: Some(via),
                dev: None,
                onlink: false,
                weight: None,
            });
            i += 1;
        }
        "dev" | "oif" => {
            let d = value(i + 1)?.text.clone();
            match st.r.nexthops.last_mut() {
                Some(nh) => nh.dev = Some(d),
                None => {
                    st.r.dev = Some(d);
                    st.has_oif = true;
                }
            }
            i += 1;
        }
        "table" => {
            st.r.table = Some(table(value(i + 1)?, "table")?);
            i += 1;
        }
        "metric" | "preference" | "priority" => {
            st.r.metric = Some(int(value(i + 1)?, 0, i64::from(u32::MAX), key)?);
            i += 1;
        }
        "scope" => {
            st.r.scope = Some(scope(value(i + 1)?, "scope")?);
            i += 1;
        }
        "protocol" | "proto" => {
            let v = value(i + 1)?;
            st.r.protocol = Some(match v.text.as_str() {
                "redirect" => 1,
                "kernel" => 2,
                "boot" => 3,
                "static" => 4,
                "keepalived" => 18,
                _ => int(v, 0, 255, "protocol")?,
            });
            i += 1;
        }
        "tos" | "dsfield" => {
            st.r.tos = Some(int(value(i + 1)?, 0, 255, key)?);
            i += 1;
        }
        "mtu" => {
            st.r.mtu = Some(int(value(i + 1)?, 0, i64::from(u32::MAX), key)?);
            i += 1;
        }
        "advmss" => {
            st.r.advmss = Some(int(value(i + 1)?, 0, i64::from(u32::MAX), key)?);
            i += 1;
        }
        "weight" => {
            let wv: u8 = int(value(i + 1)?, 1, 255, key)?;
            if let Some(nh) = st.r.nexthops.last_mut() {
                nh.weight = Some(wv);
            }
            i += 1;
        }
        "onlink" => match st.r.nexthops.last_mut() {
            Some(nh) => nh.onlink = true,
            None => st.r.onlink = true,
        },
        "no_track" => st.r.no_track = true,
        "track_group" if st.allow_track_group => {
            value(i + 1)?;
            i += 1;
        }
        _ => route_destination(w, st)?,
    }
    Ok(i)
}

/// A word that is no option: the route type or the destination prefix.
fn route_destination(w: &Token, st: &mut RouteState) -> PResult<()> {
    let key = w.text.as_str();
    if let Some(t) = route_type(key).filter(|_| st.to.is_none()) {
        st.r.route_type = t;
    } else if st.to.is_none()
        && (key.contains('/') || key.parse::<IpAddr>().is_ok() || key == "default")
    {
        st.to = Some(if key == "default" {
            IpPrefix {
                addr: IpAddr::from([0, 0, 0, 0]),
                len: 0,
            }
        } else {
            ip_prefix(w, "route")?
        });
    } else {
        return Err(w.pos.error(format!(
            "route: unknown option '{key}' (expected [TYPE] [src IP] [to] PREFIX [via IP] [dev IF] [table N] [metric N] [scope S] ...)"
        )));
    }
    Ok(())
}

fn rule(k: &Node, static_: bool) -> PResult<VirtualRule> {
    let words: Vec<&Token> = std::iter::once(&k.name).chain(k.args.iter()).collect();
    let mut r = VirtualRule::new(AddressFamily::Inet, RuleAction::Nop);
    let mut action = None;
    let mut family = None;
    let mut i = 0;
    let prefix_or_all = |t: &Token, key: &str| -> PResult<Option<IpPrefix>> {
        if t.text == "all" {
            Ok(None)
        } else {
            ip_prefix(t, key).map(Some)
        }
    };
    while i < words.len() {
        let w = words[i];
        let key = w.text.as_str();
        let value = |j: usize| -> PResult<&Token> {
            words
                .get(j)
                .copied()
                .ok_or_else(|| w.pos.error(format!("rule: '{key}' needs a value")))
        };
        match key {
            "from" => {
                r.from = prefix_or_all(value(i + 1)?, "from")?;
                i += 1;
            }
            "to" => {
                r.to = prefix_or_all(value(i + 1)?, "to")?;
                i += 1;
            }
            "table" | "lookup" => {
                action = Some(RuleAction::Table(table(value(i + 1)?, "table")?));
                i += 1;
            }
            "goto" => {
                action = Some(RuleAction::Goto(int(value(i + 1)?, 0, i64::from(u32::MAX), key)?));
                i += 1;
            }
            // keepalived: vrrp/vrrp_iprule.c `alloc_rule()` also takes "order".
            "priority" | "preference" | "pref" | "order" => {
                r.priority = Some(int(value(i + 1)?, 0, i64::from(u32::MAX), key)?);
                i += 1;
            }
            "tos" | "dsfield" => {
                r.tos = Some(int(value(i + 1)?, 0, 255, key)?);
                i += 1;
            }
            "fwmark" => {
                let v = value(i + 1)?;
                let (m, mask) = match v.text.split_once('/') {
                    Some((m, mk)) => (m, Some(mk)),
                    None => (v.text.as_str(), None),
                };
                let num = |s: &str| -> PResult<u32> {
                    let t = Token {
                        text: s.to_string(),
                        pos: v.pos.clone(),
                        quoted: false,
                    };
                    int(&t, 0, i64::from(u32::MAX), "fwmark")
                };
                r.fwmark = Some(num(m)?);
                r.fwmask = mask.map(num).transpose()?;
                i += 1;
            }
            "iif" | "dev" => {
                r.iif = Some(value(i + 1)?.text.clone());
                i += 1;
            }
            "oif" => {
                r.oif = Some(value(i + 1)?.text.clone());
                i += 1;
            }
            "not" => r.invert = true,
            // keepalived: `type ACTION` is the action (`alloc_rule()`).
            "type" => {}
            "no_track" => r.no_track = true,
            "track_group" if static_ => {
                value(i + 1)?;
                i += 1;
            }
            "inet" => family = Some(AddressFamily::Inet),
            "inet6" => family = Some(AddressFamily::Inet6),
            "blackhole" => action = Some(RuleAction::Blackhole),
            "unreachable" => action = Some(RuleAction::Unreachable),
            "prohibit" => action = Some(RuleAction::Prohibit),
            "nop" => action = Some(RuleAction::Nop),
            _ => {
                return Err(w.pos.error(format!(
                    "rule: unknown option '{key}' (expected from|to|table|goto|priority|tos|fwmark|iif|oif|not|no_track|inet|inet6|blackhole|unreachable|prohibit|nop)"
                )))
            }
        }
        i += 1;
    }
    r.action = action.ok_or_else(|| {
        k.pos().error(
            "rule: needs an action (table N, goto N, blackhole, unreachable, prohibit or nop)",
        )
    })?;
    let addr_family = r.from.or(r.to).map(|p| AddressFamily::of(&p.addr));
    if let (Some(f), Some(a)) = (r.from, r.to) {
        if f.addr.is_ipv4() != a.addr.is_ipv4() {
            return Err(k
                .pos()
                .error("rule: from and to are different address families"));
        }
    }
    r.family = match (family, addr_family) {
        (Some(f), Some(a)) if f != a => {
            return Err(k
                .pos()
                .error("rule: inet/inet6 does not match the addresses"))
        }
        (Some(f), _) => f,
        (None, Some(a)) => a,
        (None, None) => AddressFamily::Inet,
    };
    Ok(r)
}
