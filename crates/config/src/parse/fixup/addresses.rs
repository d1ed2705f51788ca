//! VIP, route and rule fix-ups: keepalived's vrrp/vrrp_ipaddress.c,
//! vrrp/vrrp_iproute.c and vrrp/vrrp_iprule.c.

use super::*;
use crate::diag::Diagnostic;
use crate::model::*;
use crate::tree::Node;

// ---------------------------------------------------------------------------
// Addresses, routes, rules
// ---------------------------------------------------------------------------

/// One VIP after keepalived's address fix-ups; None = skipped.
/// keepalived: vrrp/vrrp_ipaddress.c `alloc_ipaddress()` (IPv6 + brd:
/// skipped; peer: host prefix, no brd; IPv6 labels ignored).
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
    if a.addr.is_ipv6() && a.label.is_some() {
        warnings.push(k.pos().warning(format!(
            "{}: IPv6 addresses cannot have a label; ignoring the label (as keepalived does)",
            a.addr
        )));
        a.label = None;
    }
    Some(a)
}

/// A tracked route uses protocol 18 (keepalived).
/// keepalived: vrrp/vrrp_iproute.c `alloc_route()`.
pub(in crate::parse) fn tracked_route_protocol(
    r: &mut VirtualRoute,
    k: &Node,
    warnings: &mut Vec<Diagnostic>,
) {
    if !r.no_track && r.protocol.is_some_and(|p| p != RTPROT_KEEPALIVED) {
        warnings.push(k.pos().warning(format!(
            "route cannot be tracked unless protocol is {RTPROT_KEEPALIVED} (keepalived); resetting protocol (as keepalived does)"
        )));
        r.protocol = Some(RTPROT_KEEPALIVED);
    }
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
