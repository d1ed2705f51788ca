//! VRRPv2 IPsec AH authentication (`auth_type AH`) as keepalived 2.2.7 implements it.
//!
//! RFC 2338 §5.3.6.2 let VRRPv2 adverts carry an IPsec Authentication Header
//! (RFC 2402); RFC 3768 removed it again. keepalived kept its own variant and
//! this module reproduces it bit for bit (`vrrp/vrrp.c`: `vrrp_build_ip4`,
//! `vrrp_build_ipsecah`, `vrrp_update_pkt`, `vrrp_in_chk_ipsecah`,
//! `vrrp_check_packet`; `vrrp/vrrp_ipsecah.c`: `hmac_md5`):
//!
//! ```text
//! IPv4 header, protocol 51, TOS 0xc0, TTL 255, DF clear
//! AH (24 bytes): next header 112 | payload len 4 | reserved 0
//!                SPI = the IPv4 source address
//!                sequence number (per instance, see SeqCounter)
//!                ICV: HMAC-MD5-96 (12 bytes)
//! VRRPv2 message: auth type 2, Authentication Data 8 zero bytes, normal checksum
//! ```
//!
//! The ICV is HMAC-MD5 (RFC 2104) keyed with `auth_pass` truncated / NUL padded
//! to 8 bytes (keepalived's `auth_data`), over the whole packet with the IPv4
//! mutable fields zeroed — TOS, flags + fragment offset, header checksum, and
//! the TTL *only for unicast instances* (keepalived's quirk: multicast adverts
//! include TTL 255 in the ICV) — and the ICV field itself zeroed, truncated to
//! 96 bits. The identification field and total length are covered.
//!
//! Receive (`vrrp_in_chk_ipsecah`): ICV first (a mismatch says nothing about the
//! other fields), then SPI == source address, then the anti-replay rule: the
//! sequence number must be strictly greater than the instance's counter, which
//! then takes its value. The same counter numbers our own adverts, so a Backup
//! that became Master continues after the last number it accepted.
//!
//! keepalived counts all three failures as `auth_failure`; we count them
//! separately ([`DropReason::AhIcvMismatch`], [`DropReason::AhSpiMismatch`],
//! [`DropReason::AhReplay`]).
//!
//! Deliberate differences from keepalived: the split counters above; the
//! checks run in our decoder's order (lengths and the VRRP checksum before the
//! ICV, so a frame that fails both is counted as `bad_checksum` where keepalived
//! says `auth_failure`); and an advert with an AH header for another protocol is
//! counted as `wrong_protocol` (keepalived ignores it silently).
//!
//! Security note: this is keepalived's wire format, not modern IPsec — an
//! 8-byte shared key, HMAC-MD5 truncated to 96 bits, the SPI fixed to the
//! sender's address, and a counter that restarts at 0 with the process. It
//! stops accidental cross-talk and naive spoofing on a LAN; it is not a reason
//! to expose VRRP to untrusted hosts.
//!
//! Pure: no sockets, no clocks, never panics on input.

use std::cmp::Ordering;
use std::fmt;

use md5::{Digest, Md5};

use crate::wire::{
    ipv4_header_checksum, Advertisement, Auth, DropReason, EmitError, Family, Ipv4Emit,
    PseudoHeader, Version, AH_HEADER_LEN, IPPROTO_AH, IPPROTO_VRRP, IPV4_HEADER_LEN,
};

/// Truncated HMAC-MD5 length: 96 bits (keepalived `HMAC_MD5_TRUNC`, RFC 2403 §2).
pub const AH_ICV_LEN: usize = 12;
/// AH Payload Len for a 96-bit ICV: 24 bytes / 4 - 2 (keepalived `IPSEC_AH_PLEN`).
pub const IPSEC_AH_PLEN: u8 = 4;
/// Length of keepalived's `auth_data` (the HMAC key).
pub const AH_KEY_LEN: usize = 8;
/// Offset of the ICV inside the AH header.
const ICV_OFFSET: usize = 12;
/// HMAC block size for MD5 (RFC 2104).
const MD5_BLOCK: usize = 64;

/// The HMAC-MD5 key: `auth_pass` truncated or NUL padded to 8 bytes, as
/// keepalived's `vrrp_auth_pass_handler` stores it in `vrrp->auth_data`.
/// Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct AhKey([u8; AH_KEY_LEN]);

impl AhKey {
    /// keepalived: `memcpy(auth_data, str, min(strlen(str), 8))`, rest zero.
    pub fn from_pass(pass: &[u8]) -> AhKey {
        let mut k = [0u8; AH_KEY_LEN];
        let n = pass.len().min(AH_KEY_LEN);
        k[..n].copy_from_slice(&pass[..n]);
        AhKey(k)
    }

    /// The 8 key bytes (all of them, padding included: keepalived passes
    /// `sizeof(vrrp->auth_data)` as the key length).
    pub fn bytes(&self) -> &[u8; AH_KEY_LEN] {
        &self.0
    }
}

impl fmt::Debug for AhKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AhKey(..)")
    }
}

/// HMAC-MD5 (RFC 2104) of the concatenation of `parts`, as keepalived's
/// `hmac_md5()` (keys longer than the block are hashed first; ours never are).
pub fn hmac_md5(key: &[u8], parts: &[&[u8]]) -> [u8; 16] {
    let mut k = [0u8; MD5_BLOCK];
    if key.len() > MD5_BLOCK {
        k[..16].copy_from_slice(&Md5::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut ipad = [0x36u8; MD5_BLOCK];
    let mut opad = [0x5cu8; MD5_BLOCK];
    for i in 0..MD5_BLOCK {
        ipad[i] ^= k[i];
        opad[i] ^= k[i];
    }
    let mut inner = Md5::new();
    inner.update(ipad);
    for p in parts {
        inner.update(p);
    }
    let inner = inner.finalize();
    let mut outer = Md5::new();
    outer.update(opad);
    outer.update(inner);
    outer.finalize().into()
}

/// The AH fields of a received advert, plus the packet they authenticate.
#[derive(Clone, PartialEq, Eq)]
pub struct AhFields {
    /// Payload Len as received (keepalived ignores it: the header is always
    /// 24 bytes; the ICV covers it, so a changed value fails the ICV).
    pub payload_len: u8,
    pub spi: u32,
    pub seq: u32,
    pub icv: [u8; AH_ICV_LEN],
    /// The whole IPv4 packet (header with options, AH, VRRP) as received.
    pub packet: Vec<u8>,
}

impl fmt::Debug for AhFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AhFields")
            .field("payload_len", &self.payload_len)
            .field("spi", &format_args!("{:#010x}", self.spi))
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

/// Parse the AH header keepalived expects right after the IPv4 header
/// (`vrrp_get_header`: always `sizeof(ipsec_ah_t)` = 24 bytes). Returns the
/// fields (with `packet` left empty) and the VRRP bytes that follow.
pub(crate) fn parse_ah(ip_payload: &[u8]) -> Result<(AhFields, &[u8]), DropReason> {
    let ah = ip_payload
        .get(..AH_HEADER_LEN)
        .ok_or(DropReason::Truncated)?;
    if ah[0] != IPPROTO_VRRP {
        // keepalived: "an AH header for some other protocol - ignore packet".
        return Err(DropReason::WrongProtocol);
    }
    let mut icv = [0u8; AH_ICV_LEN];
    icv.copy_from_slice(&ah[ICV_OFFSET..ICV_OFFSET + AH_ICV_LEN]);
    let fields = AhFields {
        payload_len: ah[1],
        spi: u32::from_be_bytes([ah[4], ah[5], ah[6], ah[7]]),
        seq: u32::from_be_bytes([ah[8], ah[9], ah[10], ah[11]]),
        icv,
        packet: Vec::new(),
    };
    Ok((fields, &ip_payload[AH_HEADER_LEN..]))
}

/// The ICV of an IPv4 + AH + VRRP packet (`packet` starts at the IPv4 header,
/// options allowed), computed as `vrrp_in_chk_ipsecah` does: TOS, flags +
/// fragment offset and checksum zeroed, TTL zeroed when `unicast`, the ICV
/// field zeroed. `None` if the packet is too short to hold the headers.
pub fn compute_icv(packet: &[u8], key: &AhKey, unicast: bool) -> Option<[u8; AH_ICV_LEN]> {
    let ihl = usize::from(packet.first()? & 0x0f) * 4;
    if ihl < IPV4_HEADER_LEN {
        return None;
    }
    let hdr_len = ihl.checked_add(AH_HEADER_LEN)?;
    let mut hdr = packet.get(..hdr_len)?.to_vec();
    hdr[1] = 0; // TOS
    hdr[6] = 0; // flags + fragment offset
    hdr[7] = 0;
    if unicast {
        hdr[8] = 0; // TTL
    }
    hdr[10] = 0; // header checksum
    hdr[11] = 0;
    hdr[ihl + ICV_OFFSET..ihl + ICV_OFFSET + AH_ICV_LEN].fill(0);
    let digest = hmac_md5(key.bytes(), &[&hdr, &packet[hdr_len..]]);
    let mut icv = [0u8; AH_ICV_LEN];
    icv.copy_from_slice(&digest[..AH_ICV_LEN]);
    Some(icv)
}

/// keepalived's `seq_counter_t` (`vrrp->ipsecah_counter`): one per instance,
/// shared by what we send and what we accept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SeqCounter {
    /// Last number sent or accepted.
    pub seq: u32,
    /// Set when the counter reached its end; cleared by the rules below.
    pub cycle: bool,
}

/// The instance's state as far as AH bookkeeping cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AhRole {
    Backup,
    Master,
    /// FAULT / INIT: keepalived does not process adverts at all, so the
    /// counter is checked but never moved.
    Other,
}

impl SeqCounter {
    /// Number for the next advert (`vrrp_update_pkt`): incremented per advert
    /// (not per unicast peer); at 0xFFFFFFFE it stops and sets `cycle`.
    pub fn next_tx(&mut self) -> u32 {
        if self.seq > 0xFFFF_FFFD {
            self.cycle = true;
        } else {
            self.seq += 1;
        }
        self.seq
    }

    /// Anti-replay (`vrrp_in_chk_ipsecah`): accept only a number greater than
    /// the counter, which then takes it; and (`vrrp_check_packet`) a Backup
    /// that accepted a number clears `cycle`.
    pub fn accept(&mut self, seq: u32, role: AhRole) -> Result<(), DropReason> {
        if seq <= self.seq {
            return Err(DropReason::AhReplay);
        }
        if role == AhRole::Other {
            return Ok(());
        }
        self.seq = seq;
        if role == AhRole::Backup {
            self.cycle = false;
        }
        Ok(())
    }

    /// `vrrp_state_goto_master`: a cycled counter starts again from 0.
    pub fn on_goto_master(&mut self) {
        if self.cycle {
            self.cycle = false;
            self.seq = 0;
        }
    }

    /// `vrrp_state_master_rx` after the advert passed every check: a lower
    /// priority advert resynchronises the counter to its number + 1 ("IPSEC-AH
    /// : Syncing seq_num"), a higher one only clears `cycle`. `addr_cmp` is the
    /// sender's address compared with ours. Priority 0 changes nothing, and two
    /// address owners compare as keepalived does after lowering ours to 254.
    /// Returns true when the counter was resynchronised.
    pub fn on_master_rx(&mut self, seq: u32, prio: u8, ours: u8, addr_cmp: Ordering) -> bool {
        if prio == 0 {
            return false;
        }
        let ours = if prio == ours && ours == 255 && addr_cmp != Ordering::Equal {
            254
        } else {
            ours
        };
        if prio < ours || (prio == ours && addr_cmp == Ordering::Less) {
            self.seq = seq.wrapping_add(1);
            self.cycle = false;
            return true;
        }
        if prio > ours || (prio == ours && addr_cmp == Ordering::Greater) {
            self.cycle = false;
        }
        false
    }
}

/// An `auth_type AH` instance's key and counter (kept by the engine per instance).
#[derive(Debug, Clone)]
pub struct AhState {
    pub key: AhKey,
    pub counter: SeqCounter,
}

impl AhState {
    pub fn new(key: AhKey) -> AhState {
        AhState {
            key,
            counter: SeqCounter::default(),
        }
    }

    /// The receiver for one advert, given the instance's state.
    pub fn receiver(&mut self, role: AhRole) -> AhReceiver<'_> {
        AhReceiver {
            key: &self.key,
            counter: &mut self.counter,
            role,
        }
    }
}

/// What an instance with `auth_type AH` needs to check a received advert.
#[derive(Debug)]
pub struct AhReceiver<'a> {
    pub key: &'a AhKey,
    pub counter: &'a mut SeqCounter,
    pub role: AhRole,
}

/// `vrrp_in_chk_ipsecah`: ICV, then SPI, then sequence number. `unicast` is
/// the receiving instance's mode (it decides whether the TTL is in the ICV).
pub fn verify(ah: &AhFields, rx: &mut AhReceiver<'_>, unicast: bool) -> Result<(), DropReason> {
    let icv = compute_icv(&ah.packet, rx.key, unicast).ok_or(DropReason::Truncated)?;
    if !constant_time_eq(&icv, &ah.icv) {
        return Err(DropReason::AhIcvMismatch);
    }
    let src = ah
        .packet
        .get(12..16)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(DropReason::Truncated)?;
    if ah.spi != src {
        return Err(DropReason::AhSpiMismatch);
    }
    rx.counter.accept(ah.seq, rx.role)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Encode an AH-authenticated VRRPv2 advert (IPv4 header + AH + VRRP) for an
/// `IP_HDRINCL` socket, as keepalived's `vrrp_build_pkt` + `vrrp_update_pkt`
/// produce it: SPI = source address, `seq` from [`SeqCounter::next_tx`], ICV
/// over the packet with TOS, flags/offset and checksum zeroed (and TTL when
/// `unicast`). The header checksum is filled in (the kernel recomputes it).
pub fn emit_ipv4_ah(
    adv: &Advertisement,
    ip: &Ipv4Emit,
    key: &AhKey,
    seq: u32,
    unicast: bool,
) -> Result<Vec<u8>, EmitError> {
    if adv.version != Version::V2 || adv.auth != Auth::Ah {
        return Err(EmitError::AhNeedsV2AhAdvert);
    }
    let vrrp_len = adv.buffer_len(Family::Ipv4);
    let total = IPV4_HEADER_LEN + AH_HEADER_LEN + vrrp_len;
    let total16 = u16::try_from(total).map_err(|_| EmitError::TooManyAddresses)?;
    let mut out = vec![0u8; total];
    out[0] = 0x45;
    out[1] = ip.tos;
    out[2..4].copy_from_slice(&total16.to_be_bytes());
    out[4..6].copy_from_slice(&ip.ident.to_be_bytes());
    out[8] = ip.ttl;
    out[9] = IPPROTO_AH;
    out[12..16].copy_from_slice(&ip.src.octets());
    out[16..20].copy_from_slice(&ip.dst.octets());
    let ah = IPV4_HEADER_LEN;
    out[ah] = IPPROTO_VRRP;
    out[ah + 1] = IPSEC_AH_PLEN;
    out[ah + 4..ah + 8].copy_from_slice(&ip.src.octets());
    out[ah + 8..ah + 12].copy_from_slice(&seq.to_be_bytes());
    adv.emit(&mut out[ah + AH_HEADER_LEN..], PseudoHeader::None)?;
    // The checksum is still 0 here, as in keepalived's buffer.
    let icv = compute_icv(&out, key, unicast).ok_or(EmitError::BufferTooSmall)?;
    out[ah + ICV_OFFSET..ah + ICV_OFFSET + AH_ICV_LEN].copy_from_slice(&icv);
    let hsum = ipv4_header_checksum(&out[..IPV4_HEADER_LEN]);
    out[10..12].copy_from_slice(&hsum.to_be_bytes());
    Ok(out)
}

/// keepalived `vrrp_saddr_cmp`: addresses compared as unsigned numbers.
pub fn cmp_addr(a: std::net::IpAddr, b: std::net::IpAddr) -> Ordering {
    use std::net::IpAddr;
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.octets().cmp(&b.octets()),
        (IpAddr::V6(a), IpAddr::V6(b)) => a.octets().cmp(&b.octets()),
        // keepalived: "Simple sanity" — different families compare equal.
        _ => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{decode_ipv4, AdverInt, VRRP_MCAST_V4};
    use std::net::{IpAddr, Ipv4Addr};

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn hmac_md5_rfc2202_vectors() {
        // RFC 2202 §2, test cases 1, 2 and 6 (key longer than the block).
        assert_eq!(
            hmac_md5(&[0x0b; 16], &[b"Hi There"]).to_vec(),
            hex("9294727a3638bb1c13f48ef8158bfc9d")
        );
        assert_eq!(
            hmac_md5(b"Jefe", &[b"what do ya want ", b"for nothing?"]).to_vec(),
            hex("750c783e6ab0b503eaa86e310a5db738")
        );
        assert_eq!(
            hmac_md5(
                &[0xaa; 80],
                &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
            )
            .to_vec(),
            hex("6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd")
        );
    }

    #[test]
    fn key_is_truncated_and_padded_like_keepalived() {
        assert_eq!(AhKey::from_pass(b"rkpahpass1").bytes(), b"rkpahpas");
        assert_eq!(AhKey::from_pass(b"ab").bytes(), b"ab\0\0\0\0\0\0");
        assert_eq!(format!("{:?}", AhKey::from_pass(b"secret")), "AhKey(..)");
    }

    fn adv() -> Advertisement {
        Advertisement {
            version: Version::V2,
            vrid: 61,
            priority: 150,
            adver_int: AdverInt::Seconds(1),
            addrs: vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 110))],
            auth: Auth::Ah,
        }
    }

    #[test]
    fn round_trip_and_counter() {
        let key = AhKey::from_pass(b"secret");
        let src = Ipv4Addr::new(192, 0, 2, 1);
        let mut tx = SeqCounter::default();
        let mut rx = SeqCounter::default();
        for _ in 0..3 {
            let seq = tx.next_tx();
            let pkt = emit_ipv4_ah(
                &adv(),
                &Ipv4Emit::new(src, VRRP_MCAST_V4, 9),
                &key,
                seq,
                false,
            )
            .unwrap();
            assert_eq!(ipv4_header_checksum(&pkt[..20]), 0);
            let r = decode_ipv4(&pkt).unwrap();
            assert_eq!(r.adv, adv());
            let ah = r.ah.expect("AH fields");
            assert_eq!(ah.spi, u32::from(src));
            let mut recv = AhReceiver {
                key: &key,
                counter: &mut rx,
                role: AhRole::Backup,
            };
            verify(&ah, &mut recv, false).unwrap();
            // The same packet again is a replay.
            let mut recv = AhReceiver {
                key: &key,
                counter: &mut rx,
                role: AhRole::Backup,
            };
            assert_eq!(verify(&ah, &mut recv, false), Err(DropReason::AhReplay));
        }
        assert_eq!(tx.seq, 3);
        assert_eq!(rx.seq, 3);
        // Wrong key.
        let pkt = emit_ipv4_ah(
            &adv(),
            &Ipv4Emit::new(src, VRRP_MCAST_V4, 9),
            &key,
            4,
            false,
        )
        .unwrap();
        let ah = decode_ipv4(&pkt).unwrap().ah.unwrap();
        let other = AhKey::from_pass(b"secreX");
        let mut recv = AhReceiver {
            key: &other,
            counter: &mut rx,
            role: AhRole::Backup,
        };
        assert_eq!(
            verify(&ah, &mut recv, false),
            Err(DropReason::AhIcvMismatch)
        );
        // A multicast ICV does not verify for a unicast receiver (TTL zeroed).
        let mut recv = AhReceiver {
            key: &key,
            counter: &mut rx,
            role: AhRole::Backup,
        };
        assert_eq!(verify(&ah, &mut recv, true), Err(DropReason::AhIcvMismatch));
        assert_eq!(rx.seq, 3, "failed checks never move the counter");
    }

    #[test]
    fn counter_rules_mirror_keepalived() {
        let mut c = SeqCounter {
            seq: 0xFFFF_FFFD,
            cycle: false,
        };
        assert_eq!(c.next_tx(), 0xFFFF_FFFE);
        assert_eq!(c.next_tx(), 0xFFFF_FFFE);
        assert!(c.cycle);
        c.on_goto_master();
        assert_eq!(c, SeqCounter::default());
        // Other role: checked, not moved.
        let mut c = SeqCounter {
            seq: 5,
            cycle: true,
        };
        assert_eq!(c.accept(5, AhRole::Other), Err(DropReason::AhReplay));
        assert_eq!(c.accept(6, AhRole::Other), Ok(()));
        assert_eq!(c.seq, 5);
        assert_eq!(c.accept(6, AhRole::Master), Ok(()));
        assert!(c.cycle, "only a Backup clears cycle on accept");
        assert_eq!(c.accept(7, AhRole::Backup), Ok(()));
        assert!(!c.cycle);
        // Master hearing a lower priority syncs to its number + 1.
        let mut c = SeqCounter {
            seq: 10,
            cycle: true,
        };
        assert!(c.on_master_rx(40, 100, 150, Ordering::Greater));
        assert_eq!(
            c,
            SeqCounter {
                seq: 41,
                cycle: false
            }
        );
        assert!(!c.on_master_rx(50, 0, 150, Ordering::Greater));
        assert_eq!(c.seq, 41, "priority 0 does not sync");
        assert!(c.on_master_rx(50, 150, 150, Ordering::Less));
        assert_eq!(c.seq, 51, "equal priority, lower address");
        let mut c = SeqCounter {
            seq: 10,
            cycle: true,
        };
        assert!(!c.on_master_rx(50, 200, 150, Ordering::Less));
        assert_eq!(
            c,
            SeqCounter {
                seq: 10,
                cycle: false
            }
        );
        // Two owners: ours counts as 254, so theirs is higher.
        let mut c = SeqCounter {
            seq: 10,
            cycle: false,
        };
        assert!(!c.on_master_rx(50, 255, 255, Ordering::Less));
        assert_eq!(c.seq, 10);
    }
}
