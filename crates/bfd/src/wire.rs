//! RFC 5880 §4.1 BFD Control packet codec and the §6.8.6 reception checks,
//! in the order keepalived 2.2.7 applies them (`bfd_check_packet()` in
//! keepalived/bfd/bfd.c, then `bfd_handle_packet()` in bfd_scheduler.c).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
//! |                       My Discriminator                        |
//! |                      Your Discriminator                       |
//! |                    Desired Min TX Interval                    |
//! |                   Required Min RX Interval                    |
//! |                 Required Min Echo RX Interval                 |
//! ```
//!
//! Authentication (the A bit and the section after the 24-byte header) is
//! not supported, as in keepalived 2.2.7: its receive buffer is 32 bytes
//! (`BFD_BUFFER_SIZE`), so any datagram longer than that is dropped as
//! truncated, and a packet of 25–32 bytes with a matching Length passes
//! the sanity checks and is then dropped for its A bit
//! ([`DropReason::AuthNotSupported`]), after the session lookup.

use std::fmt;

/// RFC 5880 §4.1: the protocol version.
pub const BFD_VERSION: u8 = 1;
/// Length of the mandatory section (no authentication).
pub const HEADER_LEN: usize = 24;
/// keepalived's receive buffer (`BFD_BUFFER_SIZE` in include/bfd_data.h):
/// a longer datagram is truncated by `recvmsg()` and dropped.
pub const MAX_RECEIVE_LEN: usize = 32;

/// RFC 5880 §4.1 "State (Sta)".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    AdminDown = 0,
    Down = 1,
    Init = 2,
    Up = 3,
}

impl State {
    /// From the two state bits.
    pub fn from_bits(bits: u8) -> State {
        match bits & 3 {
            0 => State::AdminDown,
            1 => State::Down,
            2 => State::Init,
            _ => State::Up,
        }
    }

    /// keepalived's `BFD_STATE_STR()`.
    pub fn as_str(self) -> &'static str {
        match self {
            State::AdminDown => "AdminDown",
            State::Down => "Down",
            State::Init => "Init",
            State::Up => "Up",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 5880 §4.1 "Diagnostic (Diag)". keepalived rejects values above 8
/// (`BFD_VALID_DIAG()`), so only these are ever decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Diag {
    NoDiagnostic = 0,
    ControlDetectionTimeExpired = 1,
    EchoFunctionFailed = 2,
    NeighborSignaledSessionDown = 3,
    ForwardingPlaneReset = 4,
    PathDown = 5,
    ConcatenatedPathDown = 6,
    AdministrativelyDown = 7,
    ReverseConcatenatedPathDown = 8,
}

impl Diag {
    /// The diagnostic for a 5-bit code, `None` for 9–31.
    pub fn from_code(code: u8) -> Option<Diag> {
        Some(match code {
            0 => Diag::NoDiagnostic,
            1 => Diag::ControlDetectionTimeExpired,
            2 => Diag::EchoFunctionFailed,
            3 => Diag::NeighborSignaledSessionDown,
            4 => Diag::ForwardingPlaneReset,
            5 => Diag::PathDown,
            6 => Diag::ConcatenatedPathDown,
            7 => Diag::AdministrativelyDown,
            8 => Diag::ReverseConcatenatedPathDown,
            _ => return None,
        })
    }

    /// keepalived's `BFD_DIAG_STR()` wording.
    pub fn as_str(self) -> &'static str {
        match self {
            Diag::NoDiagnostic => "No Diagnostic",
            Diag::ControlDetectionTimeExpired => "Control Detection Time Expired",
            Diag::EchoFunctionFailed => "Echo Function Failed",
            Diag::NeighborSignaledSessionDown => "Neighbor Signaled Session Down",
            Diag::ForwardingPlaneReset => "Forwarding Plane Reset",
            Diag::PathDown => "Path Down",
            Diag::ConcatenatedPathDown => "Concatenated Path Down",
            Diag::AdministrativelyDown => "Administratively Down",
            Diag::ReverseConcatenatedPathDown => "Reverse Concatenated Path Down",
        }
    }
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One BFD Control packet (the mandatory section; RFC 5880 §4.1).
/// Intervals are in microseconds, as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlPacket {
    pub diag: Diag,
    pub state: State,
    /// P: Poll.
    pub poll: bool,
    /// F: Final.
    pub final_: bool,
    /// C: Control Plane Independent.
    pub cpi: bool,
    /// A: Authentication Present.
    pub auth: bool,
    /// D: Demand.
    pub demand: bool,
    /// M: Multipoint.
    pub multipoint: bool,
    pub detect_mult: u8,
    /// The Length field (24 for every packet we send).
    pub length: u8,
    pub my_discr: u32,
    pub your_discr: u32,
    pub desired_min_tx: u32,
    pub required_min_rx: u32,
    pub required_min_echo_rx: u32,
}

/// Why a received datagram was dropped; each has a counter in the engine.
/// The wire checks come in keepalived's `bfd_check_packet()` order, then
/// the receiver's (`bfd_receive_packet()`, `bfd_handle_packet()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum DropReason {
    /// Longer than keepalived's 32-byte receive buffer (`recvmsg() message truncated`).
    #[error("message truncated")]
    Truncated,
    /// Shorter than the 24-byte mandatory section (`Packet is too small`).
    #[error("packet is too small")]
    TooShort,
    /// Length field differs from the datagram size (`Packet size mismatch`;
    /// RFC 5880 §6.8.6 only requires Length <= payload, keepalived wants equality).
    #[error("packet size mismatch")]
    LengthMismatch,
    /// Version is not 1.
    #[error("unsupported version")]
    BadVersion,
    /// Detect Mult is zero.
    #[error("detection multiplier field is zero")]
    ZeroDetectMult,
    /// M bit set.
    #[error("multipoint flag set")]
    Multipoint,
    /// My Discriminator is zero.
    #[error("my discriminator field is zero")]
    ZeroMyDiscr,
    /// Your Discriminator is zero while State is Init or Up.
    #[error("your discriminator is zero and state is not Down or AdminDown")]
    ZeroYourDiscr,
    /// Both P and F set (keepalived's additional check).
    #[error("both poll and final flags set")]
    PollAndFinal,
    /// Diag above 8 (keepalived's additional check).
    #[error("invalid diag field")]
    InvalidDiag,
    /// No session for Your Discriminator, or (when zero) for the addresses.
    #[error("session not found")]
    NoSession,
    /// TTL / hop limit below `ttl - max_hops` (RFC 5881 §5 GTSM; keepalived's
    /// `bfd_check_packet_ttl()`).
    #[error("ttl/hop limit too low")]
    BadTtl,
    /// A bit set: authentication is not supported.
    #[error("auth bit is set, but no authentication is in use")]
    AuthNotSupported,
}

impl DropReason {
    /// Every reason, in counter order.
    pub const ALL: [DropReason; 13] = [
        DropReason::Truncated,
        DropReason::TooShort,
        DropReason::LengthMismatch,
        DropReason::BadVersion,
        DropReason::ZeroDetectMult,
        DropReason::Multipoint,
        DropReason::ZeroMyDiscr,
        DropReason::ZeroYourDiscr,
        DropReason::PollAndFinal,
        DropReason::InvalidDiag,
        DropReason::NoSession,
        DropReason::BadTtl,
        DropReason::AuthNotSupported,
    ];

    /// A stable snake_case name (metrics label, logs).
    pub fn name(self) -> &'static str {
        match self {
            DropReason::Truncated => "truncated",
            DropReason::TooShort => "too_short",
            DropReason::LengthMismatch => "length_mismatch",
            DropReason::BadVersion => "bad_version",
            DropReason::ZeroDetectMult => "zero_detect_mult",
            DropReason::Multipoint => "multipoint",
            DropReason::ZeroMyDiscr => "zero_my_discr",
            DropReason::ZeroYourDiscr => "zero_your_discr",
            DropReason::PollAndFinal => "poll_and_final",
            DropReason::InvalidDiag => "invalid_diag",
            DropReason::NoSession => "no_session",
            DropReason::BadTtl => "bad_ttl",
            DropReason::AuthNotSupported => "auth_not_supported",
        }
    }

    /// Index into [`DropReason::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl ControlPacket {
    /// Decodes a received datagram and applies the sanity checks of
    /// keepalived's `bfd_check_packet()` (RFC 5880 §6.8.6, plus P+F and
    /// Diag <= 8), in its order. The A bit is not checked here (keepalived
    /// checks it after the session lookup and the TTL check).
    pub fn decode(buf: &[u8]) -> Result<ControlPacket, DropReason> {
        if buf.len() > MAX_RECEIVE_LEN {
            return Err(DropReason::Truncated);
        }
        let h: &[u8; HEADER_LEN] = buf
            .get(..HEADER_LEN)
            .and_then(|h| h.try_into().ok())
            .ok_or(DropReason::TooShort)?;
        let word = |i: usize| u32::from_be_bytes([h[i], h[i + 1], h[i + 2], h[i + 3]]);
        let flags = h[1];
        let diag_code = h[0] & 0x1f;
        let pkt = ControlPacket {
            // Placeholder until the Diag check below, which keepalived makes last.
            diag: Diag::from_code(diag_code).unwrap_or(Diag::NoDiagnostic),
            state: State::from_bits(flags >> 6),
            poll: flags & 0x20 != 0,
            final_: flags & 0x10 != 0,
            cpi: flags & 0x08 != 0,
            auth: flags & 0x04 != 0,
            demand: flags & 0x02 != 0,
            multipoint: flags & 0x01 != 0,
            detect_mult: h[2],
            length: h[3],
            my_discr: word(4),
            your_discr: word(8),
            desired_min_tx: word(12),
            required_min_rx: word(16),
            required_min_echo_rx: word(20),
        };
        if usize::from(pkt.length) != buf.len() {
            return Err(DropReason::LengthMismatch);
        }
        if h[0] >> 5 != BFD_VERSION {
            return Err(DropReason::BadVersion);
        }
        if pkt.detect_mult == 0 {
            return Err(DropReason::ZeroDetectMult);
        }
        if pkt.multipoint {
            return Err(DropReason::Multipoint);
        }
        if pkt.my_discr == 0 {
            return Err(DropReason::ZeroMyDiscr);
        }
        if pkt.your_discr == 0 && !matches!(pkt.state, State::Down | State::AdminDown) {
            return Err(DropReason::ZeroYourDiscr);
        }
        if pkt.poll && pkt.final_ {
            return Err(DropReason::PollAndFinal);
        }
        if Diag::from_code(diag_code).is_none() {
            return Err(DropReason::InvalidDiag);
        }
        Ok(pkt)
    }

    /// The 24 bytes on the wire (Length is always 24: no authentication).
    pub fn encode(&self) -> [u8; HEADER_LEN] {
        let mut b = [0u8; HEADER_LEN];
        b[0] = (BFD_VERSION << 5) | (self.diag as u8 & 0x1f);
        b[1] = ((self.state as u8) << 6)
            | (u8::from(self.poll) << 5)
            | (u8::from(self.final_) << 4)
            | (u8::from(self.cpi) << 3)
            | (u8::from(self.auth) << 2)
            | (u8::from(self.demand) << 1)
            | u8::from(self.multipoint);
        b[2] = self.detect_mult;
        b[3] = HEADER_LEN as u8;
        b[4..8].copy_from_slice(&self.my_discr.to_be_bytes());
        b[8..12].copy_from_slice(&self.your_discr.to_be_bytes());
        b[12..16].copy_from_slice(&self.desired_min_tx.to_be_bytes());
        b[16..20].copy_from_slice(&self.required_min_rx.to_be_bytes());
        b[20..24].copy_from_slice(&self.required_min_echo_rx.to_be_bytes());
        b
    }
}

/// RFC 5881 §5 / keepalived's `bfd_check_packet_ttl()`: with `max_hops`
/// 255 (`max_hops -1` in the config) the check is off; otherwise a packet
/// whose TTL (hop limit) is below `ttl - max_hops` is dropped. A TTL of 0
/// means the kernel gave none, which keepalived lets through (it logs
/// `recvmsg() returned no TTL control message`).
pub fn ttl_ok(received_ttl: u8, ttl: u8, max_hops: u8) -> bool {
    if max_hops == u8::MAX || received_ttl == 0 {
        return true;
    }
    u16::from(max_hops) + u16::from(received_ttl) >= u16::from(ttl)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ControlPacket {
        ControlPacket {
            diag: Diag::NoDiagnostic,
            state: State::Up,
            poll: false,
            final_: false,
            cpi: false,
            auth: false,
            demand: false,
            multipoint: false,
            detect_mult: 3,
            length: 24,
            my_discr: 0x1122_3344,
            your_discr: 0x5566_7788,
            desired_min_tx: 100_000,
            required_min_rx: 100_000,
            required_min_echo_rx: 0,
        }
    }

    #[test]
    fn round_trip() {
        let p = sample();
        let b = p.encode();
        assert_eq!(
            b,
            [
                0x20, 0xc0, 3, 24, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0, 1, 0x86,
                0xa0, 0, 1, 0x86, 0xa0, 0, 0, 0, 0
            ]
        );
        assert_eq!(ControlPacket::decode(&b), Ok(p));
    }

    fn with(f: impl FnOnce(&mut [u8; 24])) -> Result<ControlPacket, DropReason> {
        let mut b = sample().encode();
        f(&mut b);
        ControlPacket::decode(&b)
    }

    #[test]
    fn each_check_has_its_reason() {
        assert_eq!(
            ControlPacket::decode(&[0u8; 33]),
            Err(DropReason::Truncated)
        );
        assert_eq!(
            ControlPacket::decode(&sample().encode()[..23]),
            Err(DropReason::TooShort)
        );
        assert_eq!(with(|b| b[3] = 25), Err(DropReason::LengthMismatch));
        assert_eq!(with(|b| b[0] = 0x40), Err(DropReason::BadVersion));
        assert_eq!(with(|b| b[0] = 0x00), Err(DropReason::BadVersion));
        assert_eq!(with(|b| b[2] = 0), Err(DropReason::ZeroDetectMult));
        assert_eq!(with(|b| b[1] |= 1), Err(DropReason::Multipoint));
        assert_eq!(with(|b| b[4..8].fill(0)), Err(DropReason::ZeroMyDiscr));
        assert_eq!(with(|b| b[8..12].fill(0)), Err(DropReason::ZeroYourDiscr));
        // Your Discriminator 0 is fine in Down (and AdminDown).
        assert!(with(|b| {
            b[8..12].fill(0);
            b[1] = 0x40;
        })
        .is_ok());
        assert_eq!(with(|b| b[1] |= 0x30), Err(DropReason::PollAndFinal));
        assert_eq!(with(|b| b[0] = 0x29), Err(DropReason::InvalidDiag));
        // The A bit passes the wire checks; the receiver drops it later.
        assert!(with(|b| b[1] |= 0x04).is_ok_and(|p| p.auth));
    }

    #[test]
    fn auth_section_within_keepalived_buffer_passes_sanity() {
        // 24 + a 3-byte Simple Password section (RFC 5880 §4.2) = 27 bytes:
        // keepalived's length check passes, the A bit drops it afterwards.
        let mut b = sample().encode().to_vec();
        b[1] |= 0x04;
        b[3] = 27;
        b.extend_from_slice(&[1, 3, 1]);
        assert!(ControlPacket::decode(&b).is_ok_and(|p| p.auth && p.length == 27));
        // Keyed MD5 (24 + 24 bytes) does not fit keepalived's buffer.
        b.resize(48, 0);
        b[3] = 48;
        assert_eq!(ControlPacket::decode(&b), Err(DropReason::Truncated));
    }

    #[test]
    fn ttl_check_mirrors_keepalived() {
        // Defaults: ttl 255, max_hops 0: only 255 passes.
        assert!(ttl_ok(255, 255, 0));
        assert!(!ttl_ok(254, 255, 0));
        assert!(!ttl_ok(1, 255, 0));
        // max_hops 2: 253 still passes.
        assert!(ttl_ok(253, 255, 2));
        assert!(!ttl_ok(252, 255, 2));
        // max_hops -1 (255): no check.
        assert!(ttl_ok(1, 255, 255));
        // No TTL from the kernel: let through, as keepalived does.
        assert!(ttl_ok(0, 255, 0));
        // IPv6 default hop limit 64.
        assert!(ttl_ok(64, 64, 0));
        assert!(ttl_ok(255, 64, 0));
        assert!(!ttl_ok(63, 64, 0));
    }

    #[test]
    fn reasons_are_indexed_in_order() {
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(b in proptest::collection::vec(proptest::num::u8::ANY, 0..40)) {
            if let Ok(p) = ControlPacket::decode(&b) {
                if !p.auth && b.len() == 24 {
                    proptest::prop_assert_eq!(&p.encode()[..], &b[..]);
                }
            }
        }
    }
}
