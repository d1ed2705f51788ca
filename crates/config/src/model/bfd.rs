//! `bfd_instance NAME { ... }`: a BFD session (RFC 5880) with a neighbor,
//! and what the VRRP and checker processes know of it.
//!
//! keepalived 2.2.7 reads the block three times, once per process
//! (bfd/bfd_parser.c `init_bfd_keywords()`):
//!
//! * the BFD process reads the session (`neighbor_ip`, `source_ip`,
//!   `min_rx`, `min_tx`, `idle_tx`, `multiplier`, `passive`, `ttl` /
//!   `hoplimit`, `max_hops`) and drops an instance without a valid
//!   neighbor, with a source of the other family, or with the addresses of
//!   an earlier instance ([`BfdInstance::session`] is then `None`);
//! * the VRRP process reads only the name, `weight N [reverse]` (the default
//!   weight of `track_bfd` entries) and `vrrp` / `checker`: it keeps every
//!   name, including those the BFD process dropped (a `track_bfd` of such
//!   an instance is never up);
//! * the checker process reads only the name and `vrrp` / `checker`.
//!
//! `vrrp` / `checker` in the block send the session's events to that
//! process only (neither: both). A process that does not get the events
//! does not know the name ([`BfdInstance::vrrp`], [`BfdInstance::checker`]):
//! a `track_bfd` / `BFD_CHECK` naming it is "not found".

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::Origin;

/// keepalived 2.2.7 include/bfd.h.
pub mod bfd_defaults {
    /// UDP destination port of single-hop BFD control packets (RFC 5881).
    pub const CONTROL_PORT: u16 = 3784;
    /// Source ports are chosen from 49152..=65535 (RFC 5881 §4).
    pub const SOURCE_PORT_MIN: u16 = 49152;
    /// `min_rx`: 10 ms (BFD_MINRX_DEFAULT); range 1 ms ..= 4294967 ms.
    pub const MIN_RX_US: u32 = 10_000;
    /// `min_tx`: 10 ms (BFD_MINTX_DEFAULT); range 1 ms ..= 4294967 ms.
    pub const MIN_TX_US: u32 = 10_000;
    /// `idle_tx`: 1000 ms (BFD_IDLETX_DEFAULT); range 1000 ms ..= 4294967 ms.
    pub const IDLE_TX_US: u32 = 1_000_000;
    /// Lowest `min_rx` / `min_tx` (BFD_MINRX_MIN, BFD_MINTX_MIN), in ms.
    pub const MIN_RX_TX_MIN_MS: u32 = 1;
    /// Lowest `idle_tx` (BFD_IDLETX_MIN), in ms.
    pub const IDLE_TX_MIN_MS: u32 = 1000;
    /// Highest `min_rx` / `min_tx` / `idle_tx` (UINT32_MAX / 1000), in ms.
    pub const INTERVAL_MAX_MS: u32 = u32::MAX / 1000;
    /// Above this keepalived warns "larger than max sensible" (ms).
    pub const INTERVAL_MAX_SENSIBLE_MS: u32 = 10_000;
    /// `multiplier`: 5 (BFD_MULTIPLIER_DEFAULT); range 1..=255.
    pub const MULTIPLIER: u8 = 5;
    /// IPv4 `ttl` default (BFD_CONTROL_TTL).
    pub const TTL: u8 = 255;
    /// IPv6 `hoplimit` default (BFD_CONTROL_HOPLIMIT).
    pub const HOPLIMIT: u8 = 64;
    /// `max_hops` 255 (or -1) disables the received TTL check
    /// (bfd/bfd_scheduler.c `bfd_receiver_thread()`).
    pub const MAX_HOPS_NO_CHECK: u8 = 255;
    /// Longest instance name (BFD_INAME_MAX - 1).
    pub const NAME_MAX: usize = 31;
    /// `weight` range (BFD_WEIGHT_MIN..=BFD_WEIGHT_MAX).
    pub const WEIGHT_MIN: i32 = -253;
    pub const WEIGHT_MAX: i32 = 253;
}

/// One `bfd_instance` block, as the three keepalived processes see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BfdInstance {
    pub name: String,
    pub origin: Origin,
    /// The session the BFD process runs. `None`: keepalived's BFD process
    /// disabled the instance (no or malformed `neighbor_ip`, `source_ip` of
    /// the other family, addresses of an earlier instance); the VRRP and
    /// checker processes still know the name, and track it as down.
    pub session: Option<BfdSession>,
    /// `weight N [reverse]`: the weight of a `track_bfd` entry that gives
    /// none (keepalived vrrp/vrrp_track.c `alloc_track_bfd()`); 0 default.
    pub weight: i32,
    pub reverse: bool,
    /// The VRRP process gets this session's events and knows the name
    /// (keepalived `bfd->vrrp`): no `vrrp`/`checker` keyword, or `vrrp`.
    pub vrrp: bool,
    /// The checker process gets the events and knows the name
    /// (`bfd->checker`): no `vrrp`/`checker` keyword, or `checker`.
    pub checker: bool,
}

impl BfdInstance {
    /// keepalived's defaults for a block with only a name (bfd/bfd_data.c
    /// `alloc_bfd()`), with this session.
    pub fn new(name: impl Into<String>, session: Option<BfdSession>) -> Self {
        BfdInstance {
            name: name.into(),
            origin: Origin::default(),
            session,
            weight: 0,
            reverse: false,
            vrrp: true,
            checker: true,
        }
    }
}

/// The session parameters, effective (defaults and keepalived's fix-ups
/// applied). Intervals are in microseconds, as keepalived keeps them (the
/// configuration writes milliseconds with up to 3 decimals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BfdSession {
    /// `neighbor_ip` / `neighbour_ip`: the peer, UDP port 3784.
    pub neighbor_ip: IpAddr,
    /// `source_ip`: the local address (same family as the neighbor); None
    /// lets the kernel choose.
    pub source_ip: Option<IpAddr>,
    /// `min_rx`: Required Min RX Interval (us).
    pub min_rx_us: u32,
    /// `min_tx`: Desired Min TX Interval while up (us).
    pub min_tx_us: u32,
    /// `idle_tx`: Desired Min TX Interval while not up (us).
    pub idle_tx_us: u32,
    /// `multiplier`: Detect Mult (1..=255).
    pub multiplier: u8,
    /// `passive`: wait for the peer's first packet.
    pub passive: bool,
    /// `ttl` (IPv4) / `hoplimit` (IPv6) of sent packets (1..=255; default
    /// 255 for IPv4, 64 for IPv6).
    pub ttl: u8,
    /// `max_hops`: received packets must have a TTL of at least
    /// `ttl - max_hops`; 255 (`-1`) disables the check. At most `ttl`.
    pub max_hops: u8,
}

impl BfdSession {
    /// keepalived's defaults for a neighbor (bfd/bfd_data.c `alloc_bfd()`,
    /// bfd_parser.c `bfd_end_handler()`).
    pub fn new(neighbor_ip: IpAddr) -> Self {
        BfdSession {
            neighbor_ip,
            source_ip: None,
            min_rx_us: bfd_defaults::MIN_RX_US,
            min_tx_us: bfd_defaults::MIN_TX_US,
            idle_tx_us: bfd_defaults::IDLE_TX_US,
            multiplier: bfd_defaults::MULTIPLIER,
            passive: false,
            ttl: default_ttl(&neighbor_ip),
            max_hops: 0,
        }
    }
}

/// 255 for IPv4, 64 for IPv6 (`bfd_end_handler()`).
pub fn default_ttl(neighbor: &IpAddr) -> u8 {
    match neighbor {
        IpAddr::V4(_) => bfd_defaults::TTL,
        IpAddr::V6(_) => bfd_defaults::HOPLIMIT,
    }
}

/// What a BFD engine runs: one entry per session, flat. Built by
/// [`super::Config::bfd_sessions`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BfdSessionSpec<'a> {
    /// The instance name (events carry it; VRRP and checker match on it).
    pub name: &'a str,
    pub session: &'a BfdSession,
    /// Send state changes to the VRRP process.
    pub to_vrrp: bool,
    /// Send state changes to the checker process.
    pub to_checker: bool,
}

/// A `track_bfd` entry resolved for the VRRP engine: which instance tracks
/// which BFD name with which weight. Built by
/// [`super::Config::vrrp_bfd_tracking`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VrrpBfdTrack<'a> {
    /// The vrrp_instance whose priority / FAULT state follows the session.
    pub instance: &'a str,
    /// The bfd_instance name.
    pub bfd: &'a str,
    /// 0: the instance is FAULT while the session is down (up with
    /// `reverse`); otherwise added to the priority while up (`weight > 0`)
    /// or while down (`weight < 0`), negated with `reverse`.
    pub weight: i32,
    pub reverse: bool,
    /// Inherited from a vrrp_sync_group's `track_bfd` (keepalived
    /// vrrp/vrrp.c `vrrp_complete_init()` adds the group's entries to each
    /// member; an instance's own entry for the same BFD wins).
    pub from_sync_group: Option<&'a str>,
}

impl super::ProcessOptions {
    /// Nothing set (keepalived's defaults).
    pub fn is_unset(&self) -> bool {
        *self == Self::default()
    }
}

impl super::Config {
    /// Looks up a `bfd_instance` by name.
    pub fn bfd_instance(&self, name: &str) -> Option<&BfdInstance> {
        self.bfd_instances.iter().find(|b| b.name == name)
    }

    /// The sessions a BFD engine runs (instances keepalived's BFD process
    /// disabled are left out), in file order.
    pub fn bfd_sessions(&self) -> Vec<BfdSessionSpec<'_>> {
        self.bfd_instances
            .iter()
            .filter_map(|b| {
                b.session.as_ref().map(|s| BfdSessionSpec {
                    name: &b.name,
                    session: s,
                    to_vrrp: b.vrrp,
                    to_checker: b.checker,
                })
            })
            .collect()
    }

    /// Every `track_bfd` entry of the vrrp instances, with their sync
    /// groups' entries added to each member. keepalived vrrp/vrrp.c
    /// `add_vrrp_to_track_bfd()`: when the instance tracks the same BFD
    /// itself, one entry stays, with the sync group's weight and reverse
    /// unless the instance's own entry is unweighted (weight 0 stays 0);
    /// keepalived logs "(VI) track_bfd B is configured on VRRP instance and
    /// sync group. Remove vrrp instance config".
    pub fn vrrp_bfd_tracking(&self) -> Vec<VrrpBfdTrack<'_>> {
        let mut out = Vec::new();
        for v in &self.vrrp_instances {
            let group = self.sync_group_of(&v.name);
            for t in &v.track_bfds {
                let from_group = group.and_then(|g| {
                    g.track_bfds
                        .iter()
                        .find(|gt| gt.name == t.name)
                        .map(|gt| (g, gt))
                });
                let (weight, reverse, from) = match from_group {
                    Some((g, gt)) if t.weight != 0 => {
                        (gt.weight, gt.reverse, Some(g.name.as_str()))
                    }
                    _ => (t.weight, t.reverse, None),
                };
                out.push(VrrpBfdTrack {
                    instance: &v.name,
                    bfd: &t.name,
                    weight,
                    reverse,
                    from_sync_group: from,
                });
            }
            if let Some(g) = group {
                for t in &g.track_bfds {
                    if v.track_bfds.iter().any(|o| o.name == t.name) {
                        continue;
                    }
                    out.push(VrrpBfdTrack {
                        instance: &v.name,
                        bfd: &t.name,
                        weight: t.weight,
                        reverse: t.reverse,
                        from_sync_group: Some(&g.name),
                    });
                }
            }
        }
        out
    }

    /// Every `BFD_CHECK`: (virtual server index, real server index, BFD
    /// name). keepalived check/check_bfd.c `bfd_check_handle_event()`: the
    /// checker is up exactly while the session is up; before the first
    /// event it is in its `alpha` start state, as every checker.
    pub fn bfd_checks(&self) -> Vec<(usize, usize, &str)> {
        let mut out = Vec::new();
        for (vi, vs) in self.virtual_servers.iter().enumerate() {
            for (ri, rs) in vs.real_servers.iter().enumerate() {
                for c in &rs.checkers {
                    if let super::CheckerKind::Bfd { name } = &c.kind {
                        out.push((vi, ri, name.as_str()));
                    }
                }
            }
        }
        out
    }
}
