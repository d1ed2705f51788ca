//! Validated values ([`Advertisement`], [`Received`]) and the whole-packet
//! decoders and encoder.

use super::*;

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
