//! VRRP advertisement codec (RFC 3768 §5 for VRRPv2, RFC 5798 §5 for VRRPv3).
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

/// Why a received packet was dropped. One counter per variant (see [`DropCounters`]).
///
/// Variants map onto keepalived 2.2.7's statistics where it has one
/// (`packet_len_err`, `ip_ttl_err`, `invalid_authtype`, `authtype_mismatch`,
/// `auth_failure`, `addr_list_err`, `invalid_type_rcvd`, checksum/version errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum DropReason {
    /// Fewer bytes than the (IP or VRRP) header needs.
    #[error("packet truncated")]
    Truncated,
    /// IPv4 header version nibble is not 4.
    #[error("IP header version is not 4")]
    BadIpVersion,
    /// IPv4 IHL < 5 or larger than the packet.
    #[error("invalid IPv4 header length")]
    BadIpHeaderLength,
    /// IPv4 total length disagrees with the received length.
    #[error("IPv4 total length mismatch")]
    IpLengthMismatch,
    /// IPv4 fragment (VRRP adverts are never fragmented).
    #[error("fragmented IPv4 packet")]
    Fragmented,
    /// IP protocol is neither VRRP nor AH (or AH not wrapping VRRP).
    #[error("not a VRRP packet")]
    WrongProtocol,
    /// TTL / hop limit is not 255 on a multicast instance (RFC 5798 §7.1).
    #[error("TTL/hop limit is not 255")]
    BadTtl,
    /// VRRP message length disagrees with `Count IPvX Addr` (RFC 5798 §7.1).
    #[error("VRRP length inconsistent with address count")]
    LengthMismatch,
    /// VRRP version is unknown, or not the configured one.
    #[error("VRRP version mismatch")]
    BadVersion,
    /// VRRP type is not ADVERTISEMENT.
    #[error("VRRP type is not ADVERTISEMENT")]
    BadType,
    /// Checksum does not verify.
    #[error("bad checksum")]
    BadChecksum,
    /// VRRPv2 auth type is not 0, 1 or 2.
    #[error("invalid authentication type")]
    InvalidAuthType,
    /// VRRPv2 auth type differs from the configured one.
    #[error("authentication type mismatch")]
    AuthTypeMismatch,
    /// VRRPv2 simple password differs.
    #[error("authentication failure")]
    AuthFailure,
    /// VRRPv2 IPsec AH: the ICV (HMAC-MD5-96) does not verify — wrong
    /// `auth_pass` or a changed packet (keepalived: `auth_failure`).
    #[error("IPsec AH: invalid HMAC-MD5 ICV")]
    AhIcvMismatch,
    /// VRRPv2 IPsec AH: the SPI is not the sender's IPv4 address (keepalived: `auth_failure`).
    #[error("IPsec AH: SPI is not the source address")]
    AhSpiMismatch,
    /// VRRPv2 IPsec AH: sequence number not above the last one seen, a replay
    /// (keepalived: `auth_failure`, "sequence number already processed").
    #[error("IPsec AH: sequence number already processed")]
    AhReplay,
    /// VRRPv2 Adver Int differs from ours (RFC 3768 §7.1: MUST drop).
    #[error("advertisement interval mismatch")]
    AdverIntMismatch,
    /// VRRPv3 Max Adver Int is 0 (would make the Master_Down_Interval collapse).
    #[error("zero advertisement interval")]
    ZeroAdverInt,
    /// `Count IP Addrs` differs from the configured number of VIPs.
    #[error("address count mismatch")]
    AddrCountMismatch,
    /// A configured VIP is missing from the advert's address list.
    #[error("address list mismatch")]
    AddrListMismatch,
    /// No instance with this VRID on the socket (counted by the driver's demultiplexer).
    #[error("no instance for this VRID")]
    VridMismatch,
    /// Multicast received on a unicast instance, or vice versa.
    #[error("unicast/multicast mismatch")]
    UnicastMulticastMismatch,
    /// Unicast source is not a configured `unicast_peer`.
    #[error("source is not a unicast peer")]
    UnknownUnicastPeer,
    /// The v3/IPv4 checksum only verified with keepalived's legacy unicast pseudo-header
    /// and the policy does not accept that.
    #[error("legacy unicast checksum not accepted")]
    LegacyChecksum,
}

impl DropReason {
    /// Every reason, in counter-index order.
    pub const ALL: [DropReason; DropReason::COUNT] = [
        DropReason::Truncated,
        DropReason::BadIpVersion,
        DropReason::BadIpHeaderLength,
        DropReason::IpLengthMismatch,
        DropReason::Fragmented,
        DropReason::WrongProtocol,
        DropReason::BadTtl,
        DropReason::LengthMismatch,
        DropReason::BadVersion,
        DropReason::BadType,
        DropReason::BadChecksum,
        DropReason::InvalidAuthType,
        DropReason::AuthTypeMismatch,
        DropReason::AuthFailure,
        DropReason::AhIcvMismatch,
        DropReason::AhSpiMismatch,
        DropReason::AhReplay,
        DropReason::AdverIntMismatch,
        DropReason::ZeroAdverInt,
        DropReason::AddrCountMismatch,
        DropReason::AddrListMismatch,
        DropReason::VridMismatch,
        DropReason::UnicastMulticastMismatch,
        DropReason::UnknownUnicastPeer,
        DropReason::LegacyChecksum,
    ];

    /// Stable metric label (snake_case, never renamed once released).
    pub fn label(self) -> &'static str {
        match self {
            DropReason::Truncated => "truncated",
            DropReason::BadIpVersion => "bad_ip_version",
            DropReason::BadIpHeaderLength => "bad_ip_header_length",
            DropReason::IpLengthMismatch => "ip_length_mismatch",
            DropReason::Fragmented => "fragmented",
            DropReason::WrongProtocol => "wrong_protocol",
            DropReason::BadTtl => "bad_ttl",
            DropReason::LengthMismatch => "length_mismatch",
            DropReason::BadVersion => "bad_version",
            DropReason::BadType => "bad_type",
            DropReason::BadChecksum => "bad_checksum",
            DropReason::InvalidAuthType => "invalid_auth_type",
            DropReason::AuthTypeMismatch => "auth_type_mismatch",
            DropReason::AuthFailure => "auth_failure",
            DropReason::AhIcvMismatch => "ah_icv_mismatch",
            DropReason::AhSpiMismatch => "ah_spi_mismatch",
            DropReason::AhReplay => "ah_replay",
            DropReason::AdverIntMismatch => "adver_int_mismatch",
            DropReason::ZeroAdverInt => "zero_adver_int",
            DropReason::AddrCountMismatch => "addr_count_mismatch",
            DropReason::AddrListMismatch => "addr_list_mismatch",
            DropReason::VridMismatch => "vrid_mismatch",
            DropReason::UnicastMulticastMismatch => "unicast_multicast_mismatch",
            DropReason::UnknownUnicastPeer => "unknown_unicast_peer",
            DropReason::LegacyChecksum => "legacy_checksum",
        }
    }

    /// Dense index for counter arrays (0..DropReason::COUNT).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Number of distinct reasons (a test checks `ALL[i].index() == i`).
    pub const COUNT: usize = 25;
}

/// Per-reason drop counters with stable labels, for metrics export.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DropCounters {
    counts: [u64; DropReason::COUNT],
}

impl DropCounters {
    /// Count one drop.
    pub fn record(&mut self, reason: DropReason) {
        let slot = &mut self.counts[reason.index()];
        *slot = slot.saturating_add(1);
    }

    /// Current count for `reason`.
    pub fn get(&self, reason: DropReason) -> u64 {
        self.counts[reason.index()]
    }

    /// Sum over all reasons.
    pub fn total(&self) -> u64 {
        self.counts.iter().fold(0u64, |a, b| a.saturating_add(*b))
    }

    /// `(label, count)` for every reason, in a stable order (including zeros, so
    /// exported series exist from the start).
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> + '_ {
        DropReason::ALL
            .iter()
            .map(move |r| (r.label(), self.get(*r)))
    }
}

// ---------------------------------------------------------------------------
// Internet checksum (RFC 1071)
// ---------------------------------------------------------------------------

/// One's-complement sum accumulator (RFC 1071), fed with byte slices in order.
#[derive(Debug, Clone, Copy, Default)]
struct Checksum {
    sum: u32,
    /// A dangling odd byte from the previous slice, waiting for its low half.
    pending: Option<u8>,
}

impl Checksum {
    fn add(&mut self, mut data: &[u8]) {
        if let Some(hi) = self.pending.take() {
            match data.split_first() {
                Some((lo, rest)) => {
                    self.add_word(u16::from_be_bytes([hi, *lo]));
                    data = rest;
                }
                None => {
                    self.pending = Some(hi);
                    return;
                }
            }
        }
        let mut chunks = data.chunks_exact(2);
        for c in &mut chunks {
            self.add_word(u16::from_be_bytes([c[0], c[1]]));
        }
        if let [last] = chunks.remainder() {
            self.pending = Some(*last);
        }
    }

    fn add_word(&mut self, w: u16) {
        self.sum += u32::from(w);
        // Fold eagerly so the u32 never overflows however long the input.
        self.sum = (self.sum & 0xffff) + (self.sum >> 16);
    }

    fn finish(mut self) -> u16 {
        if let Some(hi) = self.pending.take() {
            self.add_word(u16::from_be_bytes([hi, 0]));
        }
        let mut s = self.sum;
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        !(s as u16)
    }
}

/// The addresses a VRRPv3 checksum pseudo-header covers (RFC 5798 §5.2.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PseudoHeader {
    /// VRRPv2: the checksum covers the VRRP message only.
    None,
    /// IPv4 pseudo-header (RFC 768 style: src, dst, 0, proto, length).
    V4 { src: Ipv4Addr, dst: Ipv4Addr },
    /// IPv6 pseudo-header (RFC 2460 §8.1: src, dst, u32 length, 3 zero, next header).
    V6 { src: Ipv6Addr, dst: Ipv6Addr },
}

impl PseudoHeader {
    /// Pseudo-header for `version` between `src` and `dst` (None for v2 or mixed families).
    pub fn for_addrs(version: Version, src: IpAddr, dst: IpAddr) -> PseudoHeader {
        match (version, src, dst) {
            (Version::V2, _, _) => PseudoHeader::None,
            (Version::V3, IpAddr::V4(src), IpAddr::V4(dst)) => PseudoHeader::V4 { src, dst },
            (Version::V3, IpAddr::V6(src), IpAddr::V6(dst)) => PseudoHeader::V6 { src, dst },
            _ => PseudoHeader::None,
        }
    }
}

/// Checksum of `message` (with its checksum field as present) under `pseudo`.
/// A correct message yields 0.
fn vrrp_checksum(pseudo: PseudoHeader, message: &[u8]) -> u16 {
    let mut c = Checksum::default();
    // Message lengths are bounded by the IP payload length (< 64 KiB); saturate just in case.
    let len = message.len();
    match pseudo {
        PseudoHeader::None => {}
        PseudoHeader::V4 { src, dst } => {
            c.add(&src.octets());
            c.add(&dst.octets());
            c.add(&[0, IPPROTO_VRRP]);
            c.add(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
        }
        PseudoHeader::V6 { src, dst } => {
            c.add(&src.octets());
            c.add(&dst.octets());
            c.add(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
            c.add(&[0, 0, 0, IPPROTO_VRRP]);
        }
    }
    c.add(message);
    c.finish()
}

/// IPv4 header checksum helper for [`emit_ipv4`] and tests.
pub(crate) fn ipv4_header_checksum(header: &[u8]) -> u16 {
    let mut c = Checksum::default();
    c.add(header);
    c.finish()
}

// ---------------------------------------------------------------------------
// Checked views
// ---------------------------------------------------------------------------

/// Checked view of an IPv4 header with options (variable IHL).
#[derive(Debug, Clone, Copy)]
pub struct Ipv4Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Header<T> {
    /// Wrap `buffer` (the whole IP packet), checking version, IHL and total length.
    pub fn new_checked(buffer: T) -> Result<Self, DropReason> {
        let b = buffer.as_ref();
        let first = *b.first().ok_or(DropReason::Truncated)?;
        if b.len() < IPV4_HEADER_LEN {
            return Err(DropReason::Truncated);
        }
        if first >> 4 != 4 {
            return Err(DropReason::BadIpVersion);
        }
        let ihl = usize::from(first & 0x0f) * 4;
        if ihl < IPV4_HEADER_LEN || ihl > b.len() {
            return Err(DropReason::BadIpHeaderLength);
        }
        let total = usize::from(u16::from_be_bytes([b[2], b[3]]));
        if total != b.len() {
            return Err(DropReason::IpLengthMismatch);
        }
        Ok(Ipv4Header { buffer })
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Header length in bytes (IHL * 4), options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.b()[0] & 0x0f) * 4
    }
    pub fn tos(&self) -> u8 {
        self.b()[1]
    }
    pub fn total_len(&self) -> u16 {
        u16::from_be_bytes([self.b()[2], self.b()[3]])
    }
    pub fn ident(&self) -> u16 {
        u16::from_be_bytes([self.b()[4], self.b()[5]])
    }
    /// Flags + fragment offset word.
    pub fn frag_word(&self) -> u16 {
        u16::from_be_bytes([self.b()[6], self.b()[7]])
    }
    /// More-fragments set or non-zero offset.
    pub fn is_fragment(&self) -> bool {
        self.frag_word() & 0x3fff != 0
    }
    pub fn ttl(&self) -> u8 {
        self.b()[8]
    }
    pub fn protocol(&self) -> u8 {
        self.b()[9]
    }
    pub fn src(&self) -> Ipv4Addr {
        let b = self.b();
        Ipv4Addr::new(b[12], b[13], b[14], b[15])
    }
    pub fn dst(&self) -> Ipv4Addr {
        let b = self.b();
        Ipv4Addr::new(b[16], b[17], b[18], b[19])
    }
    /// The IP payload (after options).
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..]
    }
}

/// Checked view of a VRRP message (no IP header).
///
/// ```text
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
/// v2: | Auth Type   |   Adver Int   |          Checksum           |
/// v3: |(rsvd)|     Max Adver Int    |          Checksum           |
/// |                 IPvX Address(es) ...                          |
/// v2 only: |               Authentication Data (8 bytes)          |
/// ```
#[derive(Debug, Clone, Copy)]
pub struct VrrpPacket<T: AsRef<[u8]>> {
    buffer: T,
    family: Family,
}

impl<T: AsRef<[u8]>> VrrpPacket<T> {
    /// Wrap `buffer`, checking the length is exactly what the header announces
    /// (RFC 5798 §7.1: "MUST verify that the received packet contains the complete
    /// VRRP packet"; keepalived also refuses trailing bytes).
    pub fn new_checked(buffer: T, family: Family) -> Result<Self, DropReason> {
        let b = buffer.as_ref();
        if b.len() < VRRP_HEADER_LEN {
            return Err(DropReason::Truncated);
        }
        let p = VrrpPacket { buffer, family };
        if p.buffer.as_ref().len() != p.expected_len() {
            return Err(DropReason::LengthMismatch);
        }
        Ok(p)
    }

    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Length the header announces: fixed part + addresses (+ v2/IPv4 auth data).
    pub fn expected_len(&self) -> usize {
        let mut len = VRRP_HEADER_LEN + usize::from(self.count_addrs()) * self.family.addr_len();
        if self.version_field() == 2 && self.family == Family::Ipv4 {
            len += VRRP_AUTH_LEN;
        }
        len
    }
    pub fn version_field(&self) -> u8 {
        self.b()[0] >> 4
    }
    pub fn type_field(&self) -> u8 {
        self.b()[0] & 0x0f
    }
    pub fn vrid(&self) -> u8 {
        self.b()[1]
    }
    pub fn priority(&self) -> u8 {
        self.b()[2]
    }
    pub fn count_addrs(&self) -> u8 {
        self.b()[3]
    }
    /// v2 Auth Type (byte 4).
    pub fn auth_type(&self) -> u8 {
        self.b()[4]
    }
    /// v2 Adver Int (byte 5), seconds.
    pub fn adver_int_v2(&self) -> u8 {
        self.b()[5]
    }
    /// v3 Max Adver Int (low 12 bits of bytes 4..6), centiseconds.
    pub fn max_adver_int_v3(&self) -> u16 {
        u16::from_be_bytes([self.b()[4], self.b()[5]]) & V3_MAX_ADVER_INT_CS
    }
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.b()[6], self.b()[7]])
    }
    /// Raw address list bytes.
    pub fn addr_bytes(&self) -> &[u8] {
        let start = VRRP_HEADER_LEN;
        &self.b()[start..start + usize::from(self.count_addrs()) * self.family.addr_len()]
    }
    /// The addresses, parsed.
    pub fn addrs(&self) -> impl Iterator<Item = IpAddr> + '_ {
        let family = self.family;
        self.addr_bytes()
            .chunks_exact(family.addr_len())
            .map(move |c| bytes_to_addr(c, family))
    }
    /// v2/IPv4 Authentication Data (last 8 bytes); `None` otherwise.
    pub fn auth_data(&self) -> Option<[u8; VRRP_AUTH_LEN]> {
        if self.version_field() != 2 || self.family != Family::Ipv4 {
            return None;
        }
        let b = self.b();
        let start = b.len().checked_sub(VRRP_AUTH_LEN)?;
        let mut out = [0u8; VRRP_AUTH_LEN];
        out.copy_from_slice(&b[start..]);
        Some(out)
    }
    /// Whether the checksum verifies under `pseudo`.
    pub fn verify_checksum(&self, pseudo: PseudoHeader) -> bool {
        vrrp_checksum(pseudo, self.b()) == 0
    }
}

fn bytes_to_addr(c: &[u8], family: Family) -> IpAddr {
    match family {
        Family::Ipv4 => {
            let mut o = [0u8; 4];
            o.copy_from_slice(&c[..4]);
            IpAddr::V4(Ipv4Addr::from(o))
        }
        Family::Ipv6 => {
            let mut o = [0u8; 16];
            o.copy_from_slice(&c[..16]);
            IpAddr::V6(Ipv6Addr::from(o))
        }
    }
}

// ---------------------------------------------------------------------------
// Validated values
// ---------------------------------------------------------------------------

/// A validated VRRP advertisement (the VRRP message only).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Advertisement {
    pub version: Version,
    pub vrid: u8,
    /// 0 = master is stopping; 255 = address owner.
    pub priority: u8,
    /// v2 seconds / v3 centiseconds.
    pub adver_int: AdverInt,
    /// The virtual addresses, all of one family.
    pub addrs: Vec<IpAddr>,
    /// Always [`Auth::None`] for v3.
    pub auth: Auth,
}

/// Which pseudo-header made a v3/IPv4 checksum verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumVariant {
    /// RFC 5798 §5.2.8 (v3: pseudo-header with the real destination), or v2.
    Standard,
    /// keepalived `old_unicast_checksum`: unicast advert summed with dst 224.0.0.18.
    LegacyUnicast,
}

/// An advertisement plus what the IP layer told us about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub adv: Advertisement,
    pub family: Family,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 TTL / IPv6 hop limit; `None` if the socket did not report it (check skipped).
    pub ttl: Option<u8>,
    pub checksum: ChecksumVariant,
    /// IPv4 identification and TOS (to re-emit byte-identical packets in tests).
    pub ipv4_ident: Option<u16>,
    pub ipv4_tos: Option<u8>,
    /// The IPsec AH header of an `auth_type AH` advert, with the packet it
    /// authenticates; checked by [`RxPolicy::check_with_ah`].
    pub ah: Option<AhFields>,
}

impl Received {
    /// Whether the packet was sent to a multicast group.
    pub fn is_multicast(&self) -> bool {
        self.dst.is_multicast()
    }
}

impl Advertisement {
    /// Family of the address list (IPv4 if the list is empty and `fallback` says so).
    fn family_or(&self, fallback: Family) -> Family {
        self.addrs.first().map(Family::of).unwrap_or(fallback)
    }

    /// Length of the encoded VRRP message for `family`.
    pub fn buffer_len(&self, family: Family) -> usize {
        let mut len = VRRP_HEADER_LEN + self.addrs.len() * family.addr_len();
        if self.version == Version::V2 && family == Family::Ipv4 {
            len += VRRP_AUTH_LEN;
        }
        len
    }

    /// Parse and validate a VRRP message. `pseudo` is the pseudo-header the checksum
    /// must verify under; for v3/IPv4 unicast, `legacy_dst` (224.0.0.18) is tried next.
    fn parse(
        bytes: &[u8],
        family: Family,
        pseudo: PseudoHeader,
    ) -> Result<(Advertisement, ChecksumVariant), DropReason> {
        let p = VrrpPacket::new_checked(bytes, family)?;
        let version = match (p.version_field(), family) {
            (2, Family::Ipv4) => Version::V2,
            (3, _) => Version::V3,
            // VRRPv2 is IPv4-only (RFC 3768); keepalived refuses v2 over IPv6 too.
            _ => return Err(DropReason::BadVersion),
        };
        if p.type_field() != VRRP_TYPE_ADVERTISEMENT {
            return Err(DropReason::BadType);
        }
        let checksum = match version {
            Version::V2 => {
                if !p.verify_checksum(PseudoHeader::None) {
                    return Err(DropReason::BadChecksum);
                }
                ChecksumVariant::Standard
            }
            Version::V3 => {
                if p.verify_checksum(pseudo) {
                    ChecksumVariant::Standard
                } else {
                    match pseudo {
                        PseudoHeader::V4 { src, dst } if dst != VRRP_MCAST_V4 => {
                            let legacy = PseudoHeader::V4 {
                                src,
                                dst: VRRP_MCAST_V4,
                            };
                            if p.verify_checksum(legacy) {
                                ChecksumVariant::LegacyUnicast
                            } else {
                                return Err(DropReason::BadChecksum);
                            }
                        }
                        _ => return Err(DropReason::BadChecksum),
                    }
                }
            }
        };
        let (adver_int, auth) = match version {
            Version::V2 => {
                let auth = match p.auth_type() {
                    0 => Auth::None,
                    1 => Auth::Password(p.auth_data().unwrap_or_default()),
                    2 => Auth::Ah,
                    _ => return Err(DropReason::InvalidAuthType),
                };
                (AdverInt::Seconds(p.adver_int_v2()), auth)
            }
            Version::V3 => (AdverInt::Centiseconds(p.max_adver_int_v3()), Auth::None),
        };
        let adv = Advertisement {
            version,
            vrid: p.vrid(),
            priority: p.priority(),
            adver_int,
            addrs: p.addrs().collect(),
            auth,
        };
        Ok((adv, checksum))
    }

    /// Write the VRRP message into `buf` (which must be at least [`Self::buffer_len`]
    /// bytes), computing the checksum under `pseudo` (ignored for v2).
    /// Returns the number of bytes written.
    pub fn emit(&self, buf: &mut [u8], pseudo: PseudoHeader) -> Result<usize, EmitError> {
        let family = match pseudo {
            PseudoHeader::V6 { .. } => Family::Ipv6,
            PseudoHeader::V4 { .. } => Family::Ipv4,
            PseudoHeader::None => self.family_or(Family::Ipv4),
        };
        if self.addrs.iter().any(|a| Family::of(a) != family) {
            return Err(EmitError::MixedFamilies);
        }
        if self.version == Version::V2 && family == Family::Ipv6 {
            return Err(EmitError::V2OverIpv6);
        }
        if self.version == Version::V3 && pseudo == PseudoHeader::None {
            return Err(EmitError::MissingPseudoHeader);
        }
        let count = u8::try_from(self.addrs.len()).map_err(|_| EmitError::TooManyAddresses)?;
        let len = self.buffer_len(family);
        let out = buf.get_mut(..len).ok_or(EmitError::BufferTooSmall)?;
        out[0] = (self.version.number() << 4) | VRRP_TYPE_ADVERTISEMENT;
        out[1] = self.vrid;
        out[2] = self.priority;
        out[3] = count;
        match (self.version, self.adver_int) {
            (Version::V2, AdverInt::Seconds(s)) => {
                out[4] = self.auth.type_number();
                out[5] = s;
            }
            (Version::V3, AdverInt::Centiseconds(cs)) => {
                if cs > V3_MAX_ADVER_INT_CS {
                    return Err(EmitError::IntervalOutOfRange);
                }
                if self.auth != Auth::None {
                    return Err(EmitError::AuthOnV3);
                }
                out[4..6].copy_from_slice(&cs.to_be_bytes());
            }
            _ => return Err(EmitError::IntervalUnitMismatch),
        }
        out[6] = 0;
        out[7] = 0;
        let mut at = VRRP_HEADER_LEN;
        for a in &self.addrs {
            match a {
                IpAddr::V4(v4) => out[at..at + 4].copy_from_slice(&v4.octets()),
                IpAddr::V6(v6) => out[at..at + 16].copy_from_slice(&v6.octets()),
            }
            at += family.addr_len();
        }
        if self.version == Version::V2 {
            let data = match &self.auth {
                Auth::Password(p) => *p,
                Auth::None => [0u8; VRRP_AUTH_LEN],
                // keepalived leaves the Authentication Data zero with AH.
                Auth::Ah => [0u8; VRRP_AUTH_LEN],
            };
            out[at..at + VRRP_AUTH_LEN].copy_from_slice(&data);
        }
        let pseudo = if self.version == Version::V2 {
            PseudoHeader::None
        } else {
            pseudo
        };
        let csum = vrrp_checksum(pseudo, out);
        out[6..8].copy_from_slice(&csum.to_be_bytes());
        Ok(len)
    }

    /// [`Self::emit`] into a fresh vector.
    pub fn to_bytes(&self, pseudo: PseudoHeader) -> Result<Vec<u8>, EmitError> {
        let family = match pseudo {
            PseudoHeader::V6 { .. } => Family::Ipv6,
            PseudoHeader::V4 { .. } => Family::Ipv4,
            PseudoHeader::None => self.family_or(Family::Ipv4),
        };
        let mut v = vec![0u8; self.buffer_len(family)];
        let n = self.emit(&mut v, pseudo)?;
        v.truncate(n);
        Ok(v)
    }
}

/// Why an advertisement could not be encoded (a local bug or bad config, never input).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    #[error("output buffer too small")]
    BufferTooSmall,
    #[error("more than 255 virtual addresses")]
    TooManyAddresses,
    #[error("virtual addresses of mixed families")]
    MixedFamilies,
    #[error("VRRPv2 cannot be sent over IPv6")]
    V2OverIpv6,
    #[error("VRRPv3 checksum needs a pseudo-header")]
    MissingPseudoHeader,
    #[error("advert interval does not fit the VRRPv3 12-bit field")]
    IntervalOutOfRange,
    #[error("advert interval unit does not match the VRRP version")]
    IntervalUnitMismatch,
    #[error("VRRPv3 has no authentication")]
    AuthOnV3,
    /// An AH advert needs the AH encoder ([`crate::auth_ah::emit_ipv4_ah`]) and its key.
    #[error("IPsec AH adverts need the AH key and sequence number")]
    AhNeedsKey,
    /// [`crate::auth_ah::emit_ipv4_ah`] was given something else than a v2 AH advert.
    #[error("the AH encoder only encodes VRRPv2 adverts with auth type AH")]
    AhNeedsV2AhAdvert,
}

// ---------------------------------------------------------------------------
// Whole-packet decode / encode
// ---------------------------------------------------------------------------

/// Decode an IPv4 packet as read from a raw `IPPROTO_VRRP` socket (IP header included,
/// options allowed). TTL is recorded, not checked: the policy checks it (keepalived
/// skips the TTL check for unicast instances).
pub fn decode_ipv4(packet: &[u8]) -> Result<Received, DropReason> {
    let ip = Ipv4Header::new_checked(packet)?;
    if ip.is_fragment() {
        return Err(DropReason::Fragmented);
    }
    let (vrrp_bytes, mut ah) = match ip.protocol() {
        IPPROTO_VRRP => (ip.payload(), None),
        IPPROTO_AH => {
            // keepalived `vrrp_get_header`: always a 24-byte AH header.
            let (fields, rest) = crate::auth_ah::parse_ah(ip.payload())?;
            (rest, Some(fields))
        }
        _ => return Err(DropReason::WrongProtocol),
    };
    let pseudo = PseudoHeader::V4 {
        src: ip.src(),
        dst: ip.dst(),
    };
    let (adv, checksum) = Advertisement::parse(vrrp_bytes, Family::Ipv4, pseudo)?;
    // An AH header with a non-AH auth type (or the reverse) is an auth type mismatch
    // (keepalived `vrrp_check_packet`: "Received AH header but auth type not AH").
    match (&ah, &adv.auth) {
        (Some(_), Auth::Ah) | (None, Auth::None | Auth::Password(_)) => {}
        _ => return Err(DropReason::AuthTypeMismatch),
    }
    if let Some(fields) = &mut ah {
        // The ICV covers the whole packet; keep it for the per-instance check.
        fields.packet = packet.to_vec();
    }
    Ok(Received {
        adv,
        family: Family::Ipv4,
        src: IpAddr::V4(ip.src()),
        dst: IpAddr::V4(ip.dst()),
        ttl: Some(ip.ttl()),
        checksum,
        ipv4_ident: Some(ip.ident()),
        ipv4_tos: Some(ip.tos()),
        ah,
    })
}

/// Decode the payload of a raw IPv6 `IPPROTO_VRRP` socket (the kernel strips the
/// IPv6 header). `src` comes from `recvmsg`'s address, `dst` from `IPV6_PKTINFO`,
/// `hop_limit` from `IPV6_HOPLIMIT` cmsg (`None` if unavailable).
pub fn decode_ipv6(
    payload: &[u8],
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hop_limit: Option<u8>,
) -> Result<Received, DropReason> {
    let (adv, checksum) =
        Advertisement::parse(payload, Family::Ipv6, PseudoHeader::V6 { src, dst })?;
    Ok(Received {
        adv,
        family: Family::Ipv6,
        src: IpAddr::V6(src),
        dst: IpAddr::V6(dst),
        ttl: hop_limit,
        checksum,
        ipv4_ident: None,
        ipv4_tos: None,
        ah: None,
    })
}

/// Decode a VRRP message whose IP header the IO edge already parsed (IPv4 header and
/// options stripped, or an IPv6 payload). `src`/`dst` select the family and the v3
/// pseudo-header; `ttl` is the IPv4 TTL / IPv6 hop limit if known.
pub fn decode_vrrp(
    payload: &[u8],
    src: IpAddr,
    dst: IpAddr,
    ttl: Option<u8>,
) -> Result<Received, DropReason> {
    match (src, dst) {
        (IpAddr::V6(s), IpAddr::V6(d)) => decode_ipv6(payload, s, d, ttl),
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let (adv, checksum) =
                Advertisement::parse(payload, Family::Ipv4, PseudoHeader::V4 { src: s, dst: d })?;
            if adv.auth == Auth::Ah {
                // An AH-authenticated advert always comes wrapped in an AH header;
                // without it this is a mismatch (keepalived: authtype_mismatch).
                return Err(DropReason::AuthTypeMismatch);
            }
            Ok(Received {
                adv,
                family: Family::Ipv4,
                src,
                dst,
                ttl,
                checksum,
                ipv4_ident: None,
                ipv4_tos: None,
                ah: None,
            })
        }
        _ => Err(DropReason::WrongProtocol),
    }
}

/// Parameters of the IPv4 header [`emit_ipv4`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Emit {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    /// 255 for multicast; keepalived allows another TTL for unicast peers.
    pub ttl: u8,
    /// keepalived increments this per advert, skipping 0.
    pub ident: u16,
    pub tos: u8,
}

impl Ipv4Emit {
    /// keepalived defaults: TOS 0xc0, TTL 255.
    pub fn new(src: Ipv4Addr, dst: Ipv4Addr, ident: u16) -> Ipv4Emit {
        Ipv4Emit {
            src,
            dst,
            ttl: VRRP_TTL,
            ident,
            tos: VRRP_IPV4_TOS,
        }
    }
}

/// Encode a full IPv4 packet (20-byte header + VRRP message) for an `IP_HDRINCL`
/// raw socket. v3 checksums use the real destination (RFC 5798 §5.2.8) unless
/// `legacy_unicast_checksum` (keepalived `old_unicast_checksum`) is set.
pub fn emit_ipv4(
    adv: &Advertisement,
    ip: &Ipv4Emit,
    legacy_unicast_checksum: bool,
) -> Result<Vec<u8>, EmitError> {
    if adv.auth == Auth::Ah {
        return Err(EmitError::AhNeedsKey);
    }
    let pseudo_dst = if legacy_unicast_checksum {
        VRRP_MCAST_V4
    } else {
        ip.dst
    };
    let pseudo = PseudoHeader::V4 {
        src: ip.src,
        dst: pseudo_dst,
    };
    let vrrp_len = adv.buffer_len(Family::Ipv4);
    let total = IPV4_HEADER_LEN + vrrp_len;
    let total16 = u16::try_from(total).map_err(|_| EmitError::TooManyAddresses)?;
    let mut out = vec![0u8; total];
    out[0] = 0x45;
    out[1] = ip.tos;
    out[2..4].copy_from_slice(&total16.to_be_bytes());
    out[4..6].copy_from_slice(&ip.ident.to_be_bytes());
    // flags/fragment offset 0 (keepalived does not set DF)
    out[8] = ip.ttl;
    out[9] = IPPROTO_VRRP;
    out[12..16].copy_from_slice(&ip.src.octets());
    out[16..20].copy_from_slice(&ip.dst.octets());
    let hsum = ipv4_header_checksum(&out[..IPV4_HEADER_LEN]);
    out[10..12].copy_from_slice(&hsum.to_be_bytes());
    adv.emit(&mut out[IPV4_HEADER_LEN..], pseudo)?;
    Ok(out)
}

// ---------------------------------------------------------------------------
// Instance-level validation
// ---------------------------------------------------------------------------

/// What a local instance expects of adverts (the per-instance half of RFC 5798 §7.1 /
/// RFC 3768 §7.1). Build it from the instance configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RxPolicy {
    pub version: Version,
    pub family: Family,
    pub vrid: u8,
    /// Expected v2 authentication ([`Auth::None`] for v3).
    pub auth: Auth,
    /// Our advert interval. v2 adverts must match it exactly (RFC 3768 §7.1).
    pub adver_int: AdverInt,
    /// Configured virtual addresses (`virtual_ipaddress`, not the excluded ones).
    pub vips: Vec<IpAddr>,
    /// `unicast_peer` list; empty means multicast.
    pub unicast_peers: Vec<IpAddr>,
    /// `check_unicast_src` / global `vrrp_check_unicast_src`.
    pub check_unicast_src: bool,
    /// Accept v3/IPv4 unicast adverts whose checksum uses keepalived's legacy
    /// pseudo-header (`old_unicast_checksum`, auto-detected by keepalived).
    pub accept_legacy_unicast_checksum: bool,
}

impl RxPolicy {
    /// Check `rx` against this instance. `check_vip_addr` is false only when
    /// `vrrp_skip_check_adv_addr` is set and the advert comes from the master we
    /// already know (see `fsm::Instance::wants_vip_check`).
    ///
    /// Order and outcomes follow keepalived 2.2.7 `vrrp_check_packet()`; where RFC
    /// and keepalived differ we follow keepalived (interoperability) and say so.
    ///
    /// An `auth_type AH` advert cannot be authenticated without the instance's key
    /// and sequence counter: it fails here with [`DropReason::AhIcvMismatch`]; use
    /// [`Self::check_with_ah`].
    pub fn check(&self, rx: &Received, check_vip_addr: bool) -> Result<(), DropReason> {
        self.check_with_ah(rx, check_vip_addr, None)
    }

    /// [`Self::check`] for an instance with `auth_type AH`: `ah` carries its key,
    /// its anti-replay counter (moved by an accepted sequence number even when a
    /// later check drops the advert, as keepalived does) and its state.
    pub fn check_with_ah(
        &self,
        rx: &Received,
        check_vip_addr: bool,
        ah: Option<AhReceiver<'_>>,
    ) -> Result<(), DropReason> {
        let adv = &rx.adv;
        if rx.family != self.family {
            return Err(DropReason::WrongProtocol);
        }
        if adv.vrid != self.vrid {
            return Err(DropReason::VridMismatch);
        }
        let unicast = !self.unicast_peers.is_empty();
        // RFC 5798 §7.1: TTL/HL MUST be 255 — keepalived skips this for unicast peers.
        if !unicast {
            if let Some(ttl) = rx.ttl {
                if ttl != VRRP_TTL {
                    return Err(DropReason::BadTtl);
                }
            }
        }
        if adv.version != self.version {
            return Err(DropReason::BadVersion);
        }
        if self.version == Version::V2 {
            if adv.auth.type_number() != self.auth.type_number() {
                return Err(DropReason::AuthTypeMismatch);
            }
            match (&self.auth, &adv.auth) {
                (Auth::Password(ours), Auth::Password(theirs))
                    if !constant_time_eq(ours, theirs) =>
                {
                    return Err(DropReason::AuthFailure);
                }
                (_, Auth::Ah) => {
                    // keepalived `vrrp_in_chk_ipsecah`, at the place of the password check.
                    let (Some(fields), Some(mut recv)) = (&rx.ah, ah) else {
                        return Err(DropReason::AhIcvMismatch);
                    };
                    crate::auth_ah::verify(fields, &mut recv, unicast)?;
                }
                _ => {}
            }
            // RFC 3768 §7.1: MUST drop on Adver Int mismatch (prevents two masters).
            if adv.adver_int != self.adver_int {
                return Err(DropReason::AdverIntMismatch);
            }
        } else if adv.adver_int.centiseconds() == 0 {
            // Deviation from keepalived (which accepts it): a learned 0 interval would
            // make Master_Down_Interval = Skew_Time and flap; refuse and count instead.
            return Err(DropReason::ZeroAdverInt);
        }
        if check_vip_addr && adv.addrs.len() != self.vips.len() {
            return Err(DropReason::AddrCountMismatch);
        }
        if rx.checksum == ChecksumVariant::LegacyUnicast
            && !(unicast && self.accept_legacy_unicast_checksum)
        {
            return Err(DropReason::LegacyChecksum);
        }
        if rx.is_multicast() == unicast {
            return Err(DropReason::UnicastMulticastMismatch);
        }
        if check_vip_addr {
            // keepalived: every configured VIP MUST appear in the advert.
            if self.vips.iter().any(|v| !adv.addrs.contains(v)) {
                return Err(DropReason::AddrListMismatch);
            }
            if unicast && self.check_unicast_src && !self.unicast_peers.contains(&rx.src) {
                return Err(DropReason::UnknownUnicastPeer);
            }
        }
        // RFC 5798 §5.1.2.1 (IPv6 source is link-local) is a sender rule; keepalived
        // does not enforce it on receive (a peer may use a global mcast_src_ip), nor do we.
        Ok(())
    }
}

/// Compare secrets without an early exit.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2_adv() -> Advertisement {
        Advertisement {
            version: Version::V2,
            vrid: 51,
            priority: 100,
            adver_int: AdverInt::Seconds(1),
            addrs: vec!["192.0.2.10".parse().unwrap(), "192.0.2.11".parse().unwrap()],
            auth: Auth::password(b"secret"),
        }
    }

    fn v3_adv4() -> Advertisement {
        Advertisement {
            version: Version::V3,
            vrid: 52,
            priority: 150,
            adver_int: AdverInt::Centiseconds(100),
            addrs: vec!["192.0.2.20".parse().unwrap()],
            auth: Auth::None,
        }
    }

    const SRC4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

    #[test]
    fn drop_reason_indices_are_dense_and_labels_unique() {
        let mut seen = std::collections::HashSet::new();
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i, "{r:?}");
            assert!(seen.insert(r.label()));
        }
    }

    #[test]
    fn v2_round_trip_with_password() {
        let adv = v2_adv();
        let pkt = emit_ipv4(&adv, &Ipv4Emit::new(SRC4, VRRP_MCAST_V4, 7), false).unwrap();
        let rx = decode_ipv4(&pkt).unwrap();
        assert_eq!(rx.adv, adv);
        assert_eq!(rx.ttl, Some(255));
        assert_eq!(rx.ipv4_ident, Some(7));
        assert_eq!(ipv4_header_checksum(&pkt[..20]), 0);
    }

    #[test]
    fn v3_ipv4_checksum_uses_pseudo_header() {
        let adv = v3_adv4();
        let pkt = emit_ipv4(&adv, &Ipv4Emit::new(SRC4, VRRP_MCAST_V4, 1), false).unwrap();
        // Without the pseudo-header the checksum must not verify.
        let vrrp = VrrpPacket::new_checked(&pkt[20..], Family::Ipv4).unwrap();
        assert!(!vrrp.verify_checksum(PseudoHeader::None));
        let rx = decode_ipv4(&pkt).unwrap();
        assert_eq!(rx.checksum, ChecksumVariant::Standard);
        assert_eq!(rx.adv, adv);
    }

    #[test]
    fn v3_legacy_unicast_checksum_detected() {
        let adv = v3_adv4();
        let peer = Ipv4Addr::new(192, 0, 2, 2);
        let pkt = emit_ipv4(&adv, &Ipv4Emit::new(SRC4, peer, 1), true).unwrap();
        let rx = decode_ipv4(&pkt).unwrap();
        assert_eq!(rx.checksum, ChecksumVariant::LegacyUnicast);
    }

    #[test]
    fn ipv4_options_are_skipped() {
        let adv = v3_adv4();
        let pkt = emit_ipv4(&adv, &Ipv4Emit::new(SRC4, VRRP_MCAST_V4, 1), false).unwrap();
        // Insert a 4-byte Router Alert option (IHL 6).
        let mut with_opt = Vec::new();
        with_opt.extend_from_slice(&pkt[..20]);
        with_opt.extend_from_slice(&[0x94, 0x04, 0x00, 0x00]);
        with_opt.extend_from_slice(&pkt[20..]);
        with_opt[0] = 0x46;
        let total = (with_opt.len() as u16).to_be_bytes();
        with_opt[2..4].copy_from_slice(&total);
        let rx = decode_ipv4(&with_opt).unwrap();
        assert_eq!(rx.adv, adv);
    }

    #[test]
    fn corruptions_are_typed() {
        let adv = v2_adv();
        let pkt = emit_ipv4(&adv, &Ipv4Emit::new(SRC4, VRRP_MCAST_V4, 7), false).unwrap();
        let mut bad = pkt.clone();
        bad[20 + 2] ^= 1; // priority, checksum now wrong
        assert_eq!(decode_ipv4(&bad), Err(DropReason::BadChecksum));
        let mut bad = pkt.clone();
        bad[20 + 3] = 3; // count_ip
        assert_eq!(decode_ipv4(&bad), Err(DropReason::LengthMismatch));
        let mut bad = pkt.clone();
        bad.push(0);
        assert_eq!(decode_ipv4(&bad), Err(DropReason::IpLengthMismatch));
        assert_eq!(decode_ipv4(&pkt[..10]), Err(DropReason::Truncated));
        let mut bad = pkt.clone();
        bad[9] = 6;
        assert_eq!(decode_ipv4(&bad), Err(DropReason::WrongProtocol));
    }

    #[test]
    fn ah_authenticated_v2_is_decoded_and_needs_the_key() {
        // keepalived's AH layout: IPv4 | AH (24 bytes, next header 112) | VRRPv2 auth type 2.
        let mut adv = v2_adv();
        adv.auth = Auth::Ah;
        assert_eq!(
            emit_ipv4(&adv, &Ipv4Emit::new(SRC4, VRRP_MCAST_V4, 7), false),
            Err(EmitError::AhNeedsKey)
        );
        let key = crate::auth_ah::AhKey::from_pass(b"secret");
        let mut pkt = crate::auth_ah::emit_ipv4_ah(
            &adv,
            &Ipv4Emit::new(SRC4, VRRP_MCAST_V4, 7),
            &key,
            1,
            false,
        )
        .unwrap();
        assert_eq!(pkt[9], IPPROTO_AH);
        let rx = decode_ipv4(&pkt).unwrap();
        assert_eq!(rx.adv, adv);
        assert_eq!(rx.ah.as_ref().map(|a| a.seq), Some(1));
        let mut p = policy_v2();
        p.auth = Auth::Ah;
        // Without the key and counter an AH advert cannot be authenticated.
        assert_eq!(p.check(&rx, true), Err(DropReason::AhIcvMismatch));
        let mut state = crate::auth_ah::AhState::new(key.clone());
        let backup = crate::auth_ah::AhRole::Backup;
        assert_eq!(
            p.check_with_ah(&rx, true, Some(state.receiver(backup))),
            Ok(())
        );
        assert_eq!(
            p.check_with_ah(&rx, true, Some(state.receiver(backup))),
            Err(DropReason::AhReplay)
        );
        // A password instance refuses it as an auth type mismatch.
        assert_eq!(
            policy_v2().check(&rx, true),
            Err(DropReason::AuthTypeMismatch)
        );
        // The VRRP message without its AH header: type mismatch.
        assert_eq!(
            decode_vrrp(
                &pkt[20 + AH_HEADER_LEN..],
                IpAddr::V4(SRC4),
                IpAddr::V4(VRRP_MCAST_V4),
                Some(255)
            )
            .map(|_| ()),
            Err(DropReason::AuthTypeMismatch)
        );
        // AH too short to hold its 24 bytes.
        let mut short = pkt[..20 + 16].to_vec();
        short[2..4].copy_from_slice(&36u16.to_be_bytes());
        assert_eq!(decode_ipv4(&short).map(|_| ()), Err(DropReason::Truncated));
        // AH wrapping something else.
        pkt[20] = 6;
        assert_eq!(
            decode_ipv4(&pkt).map(|_| ()),
            Err(DropReason::WrongProtocol)
        );
    }

    #[test]
    fn ipv6_round_trip() {
        let src: Ipv6Addr = "fe80::1".parse().unwrap();
        let adv = Advertisement {
            version: Version::V3,
            vrid: 7,
            priority: 200,
            adver_int: AdverInt::Centiseconds(50),
            addrs: vec!["2001:db8::7".parse().unwrap()],
            auth: Auth::None,
        };
        let bytes = adv
            .to_bytes(PseudoHeader::V6 {
                src,
                dst: VRRP_MCAST_V6,
            })
            .unwrap();
        let rx = decode_ipv6(&bytes, src, VRRP_MCAST_V6, Some(255)).unwrap();
        assert_eq!(rx.adv, adv);
        assert_eq!(
            decode_ipv6(&bytes, "fe80::2".parse().unwrap(), VRRP_MCAST_V6, Some(255)),
            Err(DropReason::BadChecksum)
        );
    }

    fn policy_v2() -> RxPolicy {
        RxPolicy {
            version: Version::V2,
            family: Family::Ipv4,
            vrid: 51,
            auth: Auth::password(b"secret"),
            adver_int: AdverInt::Seconds(1),
            vips: v2_adv().addrs,
            unicast_peers: vec![],
            check_unicast_src: false,
            accept_legacy_unicast_checksum: false,
        }
    }

    #[test]
    fn policy_checks() {
        let pkt = emit_ipv4(&v2_adv(), &Ipv4Emit::new(SRC4, VRRP_MCAST_V4, 7), false).unwrap();
        let rx = decode_ipv4(&pkt).unwrap();
        let p = policy_v2();
        assert_eq!(p.check(&rx, true), Ok(()));
        let mut p2 = p.clone();
        p2.auth = Auth::password(b"other");
        assert_eq!(p2.check(&rx, true), Err(DropReason::AuthFailure));
        let mut p2 = p.clone();
        p2.auth = Auth::None;
        assert_eq!(p2.check(&rx, true), Err(DropReason::AuthTypeMismatch));
        let mut p2 = p.clone();
        p2.adver_int = AdverInt::Seconds(2);
        assert_eq!(p2.check(&rx, true), Err(DropReason::AdverIntMismatch));
        let mut p2 = p.clone();
        p2.vips.pop();
        assert_eq!(p2.check(&rx, true), Err(DropReason::AddrCountMismatch));
        assert_eq!(p2.check(&rx, false), Ok(()));
        let mut p2 = p.clone();
        p2.vips[0] = "192.0.2.99".parse().unwrap();
        assert_eq!(p2.check(&rx, true), Err(DropReason::AddrListMismatch));
        let mut p2 = p.clone();
        p2.unicast_peers = vec![IpAddr::V4(SRC4)];
        assert_eq!(
            p2.check(&rx, true),
            Err(DropReason::UnicastMulticastMismatch)
        );
        let mut rx2 = rx.clone();
        rx2.ttl = Some(64);
        assert_eq!(p.check(&rx2, true), Err(DropReason::BadTtl));
    }
}
