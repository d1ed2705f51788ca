//! Checked views over raw bytes ([`Ipv4Header`], [`VrrpPacket`]).

use super::*;

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

pub(super) fn bytes_to_addr(c: &[u8], family: Family) -> IpAddr {
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
