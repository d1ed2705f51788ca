//! Internet checksum (RFC 1071) and the VRRP pseudo-headers.

use super::*;

// ---------------------------------------------------------------------------
// Internet checksum (RFC 1071)
// ---------------------------------------------------------------------------

/// One's-complement sum accumulator (RFC 1071), fed with byte slices in order.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Checksum {
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
pub(super) fn vrrp_checksum(pseudo: PseudoHeader, message: &[u8]) -> u16 {
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
