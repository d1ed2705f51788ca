//! Why a packet was refused ([`DropReason`]) and the counters.

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
