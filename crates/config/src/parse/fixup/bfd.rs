//! BFD fix-ups: keepalived's bfd/bfd_parser.c `bfd_end_handler()` and the
//! `track_bfd` weight rules of vrrp/vrrp.c.

use crate::diag::{Diagnostic, Pos};
use crate::model::*;

/// `max_hops` above the TTL / hop limit becomes the TTL / hop limit (so
/// `max_hops -1`, "no check", becomes 64 on an IPv6 session with the
/// default hop limit). keepalived: bfd/bfd_parser.c `bfd_end_handler()`
/// ("BFD instance %s: max_hops exceeds ttl/hoplimit - setting to
/// ttl/hoplimit").
pub(crate) fn max_hops_at_most_ttl(
    s: &mut BfdSession,
    name: &str,
    pos: &Pos,
    warnings: &mut Vec<Diagnostic>,
) {
    if s.max_hops > s.ttl {
        warnings.push(pos.warning(format!(
            "BFD instance {name}: max_hops exceeds ttl/hoplimit - setting to ttl/hoplimit (as keepalived does)"
        )));
        s.max_hops = s.ttl;
    }
}

/// A sync group with an address owner (priority 255) among its members
/// cannot have weighted `track_bfd` entries: their weight becomes 0.
/// keepalived: vrrp/vrrp.c `vrrp_complete_init()` ("(%s) Cannot have
/// weighted track bfd '%s' with member having priority 255 - setting
/// weight 0").
pub(crate) fn sync_group_owner_clears_bfd_weights(
    cfg: &mut Config,
    warn: &mut impl FnMut(&Origin, String),
) {
    let owners: Vec<String> = cfg
        .vrrp_instances
        .iter()
        .filter(|v| v.priority == defaults::PRIORITY_OWNER)
        .map(|v| v.name.clone())
        .collect();
    for g in &mut cfg.vrrp_sync_groups {
        if !g.group.iter().any(|m| owners.contains(m)) {
            continue;
        }
        for t in &mut g.track_bfds {
            if t.weight != 0 {
                warn(
                    &g.origin,
                    format!(
                        "({}) Cannot have weighted track bfd '{}' with member having priority {} - setting weight 0 (as keepalived does)",
                        g.name,
                        t.name,
                        defaults::PRIORITY_OWNER
                    ),
                );
                t.weight = 0;
            }
        }
    }
}

/// A member of a sync group tracking a BFD the group tracks too: one entry
/// remains, with the group's weight unless the instance's is 0 (see
/// `Config::vrrp_bfd_tracking()`). keepalived logs it when the VRRP process
/// starts (vrrp/vrrp.c `add_vrrp_to_track_bfd()`: "(%s) track_bfd %s is
/// configured on VRRP instance and sync group. Remove vrrp instance
/// config"); `keepalived -t` does not say it.
pub(crate) fn instance_and_sync_group_track_same_bfd(
    cfg: &Config,
    warn: &mut impl FnMut(&Origin, String),
) {
    for v in &cfg.vrrp_instances {
        let Some(g) = cfg.sync_group_of(&v.name) else {
            continue;
        };
        for t in &v.track_bfds {
            if g.track_bfds.iter().any(|gt| gt.name == t.name) {
                warn(
                    &v.origin,
                    format!(
                        "({}) track_bfd {} is configured on VRRP instance and sync group. Remove vrrp instance config (keepalived says so too)",
                        v.name, t.name
                    ),
                );
            }
        }
    }
}
