//! rkeepalived extension: health-driven route announcement (issue #16).
//!
//! A virtual server with `announce_route` whose quorum is up gets its VIP
//! installed as a host route in a dedicated kernel routing table, which a
//! routing daemon (BIRD, FRR) redistributes into BGP. keepalived 2.2.7 has
//! none of these keywords (its `-t` rejects them). The engine side is
//! `rkeepalived_check::announce`.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The routing protocol number (`rtm_protocol`) announced routes carry by
/// default: unused by the kernel, iproute2's `rt_protos`, FRR (186-198),
/// BIRD (12) and keepalived (18). Named `rkeepalived` in
/// `conf/rt_protos.d/rkeepalived.conf`.
pub const RTPROT_RKEEPALIVED: u8 = 249;

/// `global_defs` keywords `announce_table`, `announce_protocol`,
/// `announce_metric`, `announce_drain_delay`. All `None`: feature off.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnounceDefaults {
    /// `announce_table N`: the routing table the routes go to (no default:
    /// without it, and without a per-`virtual_server` `table`, nothing is
    /// announced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<u32>,
    /// `announce_protocol N|rkeepalived` (default [`RTPROT_RKEEPALIVED`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<u8>,
    /// `announce_metric N` (default 0): the route's priority attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<u32>,
    /// `announce_drain_delay SECS` (default 0): on a graceful stop, the time
    /// between withdrawing the routes and removing the IPVS entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drain_delay: Option<Duration>,
}

impl AnnounceDefaults {
    pub fn is_default(&self) -> bool {
        *self == Self::default()
    }

    /// The protocol number in effect.
    pub fn protocol(&self) -> u8 {
        self.protocol.unwrap_or(RTPROT_RKEEPALIVED)
    }

    /// The drain delay in effect.
    pub fn drain_delay(&self) -> Duration {
        self.drain_delay.unwrap_or_default()
    }
}

/// `announce_route [on|off] [table N] [metric N]` in a `virtual_server`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VsAnnounce {
    /// `announce_route off` turns it off (e.g. in a VS written from a template).
    pub enabled: bool,
    /// Overrides `announce_table`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<u32>,
    /// Overrides `announce_metric`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<u32>,
}
