//! VIP, route and rule fix-ups: keepalived's vrrp/vrrp_ipaddress.c,
//! vrrp/vrrp_iproute.c and vrrp/vrrp_iprule.c.

use super::*;
use std::net::IpAddr;

use crate::diag::Diagnostic;
use crate::lexer::Token;
use crate::model::*;
use crate::tree::Node;

// ---------------------------------------------------------------------------
// Addresses, routes, rules
// ---------------------------------------------------------------------------

/// One VIP after keepalived's address fix-ups; None = skipped.
/// keepalived: vrrp/vrrp_ipaddress.c `alloc_ipaddress()` (IPv6 + brd:
/// skipped; peer: host prefix, no brd; IPv6 scopes and labels ignored).
pub(in crate::parse) fn vip_address(
    mut a: VirtualIpAddress,
    k: &Node,
    warnings: &mut Vec<Diagnostic>,
) -> Option<VirtualIpAddress> {
    if a.addr.is_ipv6() && a.brd.is_some() {
        warnings.push(k.pos().warning(format!(
            "{}: IPv6 addresses have no broadcast address; skipping this address (as keepalived does)",
            a.addr
        )));
        return None;
    }
    if a.peer.is_some() {
        let host = if a.addr.is_ipv4() { 32 } else { 128 };
        if a.prefix_len != host {
            warnings.push(k.pos().warning(format!(
                "{}: a prefix cannot be given with a peer address; using /{host} (as keepalived does)",
                a.addr
            )));
            a.prefix_len = host;
        }
        if a.brd.is_some() {
            warnings.push(k.pos().warning(format!(
                "{}: broadcast and peer cannot both be given; ignoring brd (as keepalived does)",
                a.addr
            )));
            a.brd = None;
        }
    }
    if a.addr.is_ipv6() && a.scope.is_some() {
        warnings.push(k.pos().warning(format!(
            "{}: IPv6 addresses cannot have a scope; ignoring the scope (as keepalived does)",
            a.addr
        )));
        a.scope = None;
    }
    if a.addr.is_ipv6() && a.label.is_some() {
        warnings.push(k.pos().warning(format!(
            "{}: IPv6 addresses cannot have a label; ignoring the label (as keepalived does)",
            a.addr
        )));
        a.label = None;
    }
    Some(a)
}

/// `IP/LEN`: a prefix length keepalived cannot read is the host prefix.
/// keepalived: vrrp/vrrp_ipaddress.c `parse_ipaddress()` ("Invalid address
/// prefix len %s for address %s - using %d"; read with `ignore_error`, so
/// `/24;` is 24).
pub(in crate::parse) fn vip_prefix_len(
    ctx: &str,
    t: &Token,
    len: &str,
    host: u8,
    warnings: &mut Vec<Diagnostic>,
) -> u8 {
    match ka_read_unsigned(len, 0, host.into(), true) {
        Some((v, clean)) => {
            if !clean {
                warnings.push(t.pos.warning(format!(
                    "{ctx}: invalid number '{len}' in '{}'; using /{v}, the number it starts with (as keepalived does)",
                    t.text
                )));
            }
            u8::try_from(v).unwrap_or(host)
        }
        None => {
            warnings.push(t.pos.warning(format!(
                "{ctx}: Invalid address prefix len {len} for address {} - using {host} (as keepalived does)",
                t.text
            )));
            host
        }
    }
}

/// `peer IP`: an unreadable peer, one of the other family, or a second
/// peer is ignored (the address is kept).
/// keepalived: vrrp/vrrp_ipaddress.c `alloc_ipaddress()` ("Invalid peer
/// address %s", "Peer address %s does not match address family", "Peer %s -
/// another peer has already been specified").
pub(in crate::parse) fn vip_peer(
    ctx: &str,
    a: &mut VirtualIpAddress,
    value: &Token,
    warnings: &mut Vec<Diagnostic>,
) {
    let why = if a.peer.is_some() {
        format!(
            "Peer {} - another peer has already been specified",
            value.text
        )
    } else {
        match value.text.parse::<IpAddr>() {
            Err(_) => format!("Invalid peer address {}", value.text),
            Ok(p) if p.is_ipv4() != a.addr.is_ipv4() => {
                format!("Peer address {} does not match address family", value.text)
            }
            Ok(p) => {
                a.peer = Some(p);
                return;
            }
        }
    };
    warnings.push(value.pos.warning(format!(
        "{ctx}: {why}; ignoring the peer (as keepalived does)"
    )));
}

/// `brd +` / `brd -`: the broadcast address computed from the prefix (all
/// host bits set / cleared), only up to /30.
/// keepalived: vrrp/vrrp_ipaddress.c `alloc_ipaddress()` ("Address prefix
/// length %d too long for broadcast").
pub(in crate::parse) fn vip_relative_brd(
    ctx: &str,
    a: &mut VirtualIpAddress,
    plus: bool,
    k: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    let IpAddr::V4(v4) = a.addr else {
        return;
    };
    if a.peer.is_some() {
        // Cleared with keepalived's "Cannot specify broadcast and peer"
        // by vip_address().
        a.brd = Some(a.addr);
        return;
    }
    if a.prefix_len > 30 {
        warnings.push(k.pos().warning(format!(
            "{ctx}: Address prefix length {} too long for broadcast; no broadcast address (as keepalived does)",
            a.prefix_len
        )));
        return;
    }
    let host_mask = u32::MAX >> a.prefix_len;
    let base = u32::from(v4);
    let brd = if plus {
        base | host_mask
    } else {
        base & !host_mask
    };
    a.brd = Some(IpAddr::V4(std::net::Ipv4Addr::from(brd)));
}

/// A tracked route (no `no_track`) uses protocol 18 (keepalived), whether
/// a protocol was given or not; only a different one given is reported.
/// keepalived: vrrp/vrrp_iproute.c `alloc_route()` ("Route cannot be
/// tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol").
pub(in crate::parse) fn tracked_route_protocol(
    r: &mut VirtualRoute,
    k: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    if r.no_track {
        return;
    }
    if r.protocol.is_some_and(|p| p != RTPROT_KEEPALIVED) {
        warnings.push(k.pos().warning(format!(
            "route cannot be tracked unless protocol is {RTPROT_KEEPALIVED} (keepalived); resetting protocol (as keepalived does)"
        )));
    }
    r.protocol = Some(RTPROT_KEEPALIVED);
}

/// A route without its own `dev` (a `nexthop` device does not count) is
/// not tracked; it keeps protocol 18.
/// keepalived: vrrp/vrrp_iproute.c `alloc_route()` ("Warning - cannot track
/// route %s with no interface specified, not tracking").
pub(in crate::parse) fn untracked_route_without_interface(
    r: &mut VirtualRoute,
    has_oif: bool,
    k: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    if r.no_track || has_oif {
        return;
    }
    warnings.push(k.pos().warning(format!(
        "cannot track route {} with no interface specified, not tracking (as keepalived does; add 'dev IF' or 'no_track')",
        r.to
    )));
    r.no_track = true;
}

/// A `goto` rule needs a priority below its target, or the kernel would
/// loop; keepalived skips the rule otherwise. keepalived:
/// vrrp/vrrp_iprule.c `alloc_rule()` ("Invalid rule - preference %u >=
/// goto target %u", "goto target %u specified without preference"),
/// checked before a missing priority is numbered.
pub(in crate::parse) fn rule_goto_needs_lower_priority(
    r: &VirtualRule,
    k: &Node,
    warnings: &mut Vec<Diagnostic>,
) -> bool {
    let RuleAction::Goto(target) = r.action else {
        return true;
    };
    let why = match r.priority {
        Some(p) if p >= target => format!("priority {p} >= goto target {target}"),
        Some(_) => return true,
        None => format!("goto target {target} without a priority"),
    };
    warnings.push(k.pos().warning(format!(
        "rule: {why}; skipping this rule (as keepalived does)"
    )));
    false
}

/// Rules without a priority are numbered down from 16384.
/// keepalived: vrrp/vrrp_iprule.c `alloc_rule()` ("Rule has no preference
/// specified - setting to %u. This is probably not what you want.").
pub(in crate::parse) fn rule_priority_numbered(
    r: &mut VirtualRule,
    next: &mut u32,
    k: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    if r.priority.is_none() {
        r.priority = Some(*next);
        warnings.push(k.pos().warning(format!(
            "rule has no priority; using {} (as keepalived does). This is probably not what you want",
            *next
        )));
        *next = next.saturating_sub(1);
    }
}
