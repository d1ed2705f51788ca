//! VRRP advertisement codec (`wire/`) (RFC 3768 §5 for VRRPv2, RFC 5798 §5 for VRRPv3).
//!
//! Two levels, smoltcp-wire style:
//!
//! * checked views over raw bytes — [`Ipv4Header`], [`VrrpPacket`] (the IPsec AH
//!   header of `auth_type AH` adverts is parsed by [`crate::auth_ah`]) —
//!   whose constructors verify only that every accessor stays in bounds;
//! * validated values — [`Advertisement`] (the VRRP message) and [`Received`]
//!   (an advertisement plus what the enclosing IP header / socket said).
//!
//! Receive path (pure, never panics, every refusal is a [`DropReason`]):
//!
//! ```text
//! IPv4 raw socket bytes ─ decode_ipv4(frame) ─┐
//! IPv6 payload + cmsg   ─ decode_ipv6(..)   ──┤
//! VRRP bytes + src/dst  ─ decode_vrrp(..)   ──┴─> Received ─ RxPolicy::check(&rx, check_vip_addr) ─> Ok(())
//! ```
//!
//! (`decode_vrrp` is for an IO edge that already parsed the IP header itself.)
//! Every `Err(DropReason)` should be counted with [`DropCounters::record`].
//!
//! `decode_*` does the context-free checks of RFC 5798 §7.1 / RFC 3768 §7.1
//! (lengths, version, type, checksum); [`RxPolicy::check`] does the checks that need the
//! local instance configuration, in the same order as keepalived 2.2.7's
//! `vrrp_check_packet()` so that the same counters move for the same packets.
//!
//! Transmit path: [`Advertisement::emit`] writes the VRRP message with its checksum
//! (v3 needs the [`PseudoHeader`] addresses); [`emit_ipv4`] additionally writes the
//! IPv4 header for an `IP_HDRINCL` socket the way keepalived does (TOS 0xc0, TTL 255).
//!
//! Checksums: v2 covers the VRRP message only; v3 covers an IPv4 or IPv6 pseudo-header
//! plus the message (RFC 5798 §5.2.8). keepalived 2.2.7 computes the v3/IPv4 pseudo-header
//! with the real destination address, except with `old_unicast_checksum` where unicast
//! adverts are summed as if sent to 224.0.0.18. We accept both on receive and report which
//! one matched ([`ChecksumVariant`]) so the policy/driver can decide, like keepalived's
//! automatic compatibility switch.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use crate::auth_ah::{AhFields, AhReceiver};

mod advert;
mod checksum;
mod drops;
mod policy;
#[cfg(test)]
mod tests;
mod view;

pub use advert::*;
pub use checksum::*;
pub use drops::*;
pub use policy::*;
pub use view::*;

/// IANA protocol number of VRRP (RFC 5798 §5.1.1.3).
pub const IPPROTO_VRRP: u8 = 112;
/// IANA protocol number of the IPsec Authentication Header (RFC 2402), used by VRRPv2 auth type 2.
pub const IPPROTO_AH: u8 = 51;
/// IPv4 VRRP multicast group (RFC 5798 §5.1.1.2).
pub const VRRP_MCAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// IPv6 VRRP multicast group (RFC 5798 §5.1.2.2).
pub const VRRP_MCAST_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
/// Required IPv4 TTL / IPv6 hop limit of multicast adverts (RFC 5798 §5.1.1.3).
pub const VRRP_TTL: u8 = 255;
/// Size of the fixed VRRP header (both versions).
pub const VRRP_HEADER_LEN: usize = 8;
/// Size of the VRRPv2 authentication data trailer (RFC 3768 §5.3.10).
pub const VRRP_AUTH_LEN: usize = 8;
/// Size of the IPv4 header we emit (no options).
pub const IPV4_HEADER_LEN: usize = 20;
/// Size of the IPsec AH header keepalived uses for VRRPv2 auth type 2 (96-bit ICV).
pub const AH_HEADER_LEN: usize = 24;
/// Only defined VRRP packet type: ADVERTISEMENT (RFC 5798 §5.2.2).
pub const VRRP_TYPE_ADVERTISEMENT: u8 = 1;
/// TOS keepalived sets on IPv4 adverts (internetwork control).
pub const VRRP_IPV4_TOS: u8 = 0xc0;
/// Largest VRRPv3 Max Adver Int (12-bit field, centiseconds).
pub const V3_MAX_ADVER_INT_CS: u16 = 0x0fff;

/// VRRP protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// RFC 3768 (IPv4 only, 1 s granularity, optional simple password).
    V2,
    /// RFC 5798 (IPv4 and IPv6, centisecond granularity, no authentication).
    V3,
}

impl Version {
    /// The 4-bit version field value.
    pub fn number(self) -> u8 {
        match self {
            Version::V2 => 2,
            Version::V3 => 3,
        }
    }
}

/// Address family of an instance / advert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    /// Bytes per address in the advert's address list.
    pub fn addr_len(self) -> usize {
        match self {
            Family::Ipv4 => 4,
            Family::Ipv6 => 16,
        }
    }

    /// Family of an address.
    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Ipv4,
            IpAddr::V6(_) => Family::Ipv6,
        }
    }
}

/// The advertisement interval carried in a packet.
///
/// VRRPv2 carries whole seconds in an 8-bit field (RFC 3768 §5.3.7); VRRPv3 carries
/// centiseconds in a 12-bit field (RFC 5798 §5.2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdverInt {
    /// VRRPv2 `Adver Int`, seconds.
    Seconds(u8),
    /// VRRPv3 `Max Adver Int`, centiseconds (0..=4095).
    Centiseconds(u16),
}

impl AdverInt {
    /// Interval in centiseconds, whatever the version.
    pub fn centiseconds(self) -> u32 {
        match self {
            AdverInt::Seconds(s) => u32::from(s) * 100,
            AdverInt::Centiseconds(cs) => u32::from(cs),
        }
    }

    /// Interval as a [`Duration`].
    pub fn as_duration(self) -> Duration {
        Duration::from_millis(u64::from(self.centiseconds()) * 10)
    }

    /// The on-wire interval for `version` closest to `d`, rounding like keepalived
    /// (v2: whole seconds, at least 1; v3: centiseconds, clamped to 1..=4095).
    pub fn from_duration(version: Version, d: Duration) -> AdverInt {
        match version {
            Version::V2 => {
                let secs = d.as_secs().clamp(1, u64::from(u8::MAX));
                AdverInt::Seconds(u8::try_from(secs).unwrap_or(u8::MAX))
            }
            Version::V3 => {
                let cs = (d.as_millis() / 10).clamp(1, u128::from(V3_MAX_ADVER_INT_CS));
                AdverInt::Centiseconds(u16::try_from(cs).unwrap_or(V3_MAX_ADVER_INT_CS))
            }
        }
    }
}

/// Authentication carried by a VRRPv2 advert (RFC 3768 §5.3.6). VRRPv3 has none.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum Auth {
    /// Type 0: no authentication (also the only value for VRRPv3).
    None,
    /// Type 1: simple text password, 8 bytes, NUL padded.
    Password([u8; VRRP_AUTH_LEN]),
    /// Type 2: IPsec AH (RFC 2338; keepalived's HMAC-MD5-96 variant, see
    /// [`crate::auth_ah`]). The VRRP message itself carries only the type and 8
    /// zero bytes; the key and sequence number live in the AH header.
    Ah,
}

impl Auth {
    /// Build a password auth from a configured `auth_pass` (keepalived truncates to 8 bytes).
    pub fn password(pass: &[u8]) -> Auth {
        let mut data = [0u8; VRRP_AUTH_LEN];
        let n = pass.len().min(VRRP_AUTH_LEN);
        data[..n].copy_from_slice(&pass[..n]);
        Auth::Password(data)
    }

    /// The 8-bit auth type field value.
    pub fn type_number(&self) -> u8 {
        match self {
            Auth::None => 0,
            Auth::Password(_) => 1,
            Auth::Ah => 2,
        }
    }
}

impl fmt::Debug for Auth {
    // Never print the password into logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("None"),
            Auth::Password(_) => f.write_str("Password(..)"),
            Auth::Ah => f.write_str("Ah"),
        }
    }
}
