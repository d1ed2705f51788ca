//! Minimal classic-pcap reader for the golden-capture tests (Ethernet link type only).
//! Shared by `tests/packet_*.rs` via `#[path = "data/pcap.rs"] mod pcap;`.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One captured frame, classified by ethertype.
#[derive(Debug, Clone)]
pub enum Frame {
    /// The whole IPv4 packet (header included).
    Ipv4(Vec<u8>),
    /// IPv6: fixed header fields plus the payload (no extension headers expected).
    Ipv6 {
        src: Ipv6Addr,
        dst: Ipv6Addr,
        hop_limit: u8,
        next_header: u8,
        payload: Vec<u8>,
    },
    Other,
}

/// Parse a classic pcap file (either byte order, microsecond or nanosecond magic).
pub fn read_frames(bytes: &[u8]) -> Result<Vec<Frame>, String> {
    Ok(read_timed_frames(bytes)?
        .into_iter()
        .map(|(_, f)| f)
        .collect())
}

/// Like [`read_frames`], with each frame's capture time relative to the first frame.
pub fn read_timed_frames(bytes: &[u8]) -> Result<Vec<(std::time::Duration, Frame)>, String> {
    if bytes.len() < 24 {
        return Err("pcap too short".into());
    }
    let magic = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let (le, nanos) = match magic {
        0xa1b2c3d4 => (true, false),
        0xa1b23c4d => (true, true),
        0xd4c3b2a1 => (false, false),
        0x4d3cb2a1 => (false, true),
        _ => return Err(format!("bad pcap magic {magic:#x}")),
    };
    let u32_at = |b: &[u8], at: usize| -> u32 {
        let a = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let linktype = u32_at(bytes, 20);
    if linktype != 1 {
        return Err(format!("unsupported link type {linktype}"));
    }
    let mut frames = Vec::new();
    let mut first: Option<std::time::Duration> = None;
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let secs = u64::from(u32_at(bytes, at));
        let frac = u64::from(u32_at(bytes, at + 4));
        let ts = std::time::Duration::from_secs(secs)
            + if nanos {
                std::time::Duration::from_nanos(frac)
            } else {
                std::time::Duration::from_micros(frac)
            };
        let origin = *first.get_or_insert(ts);
        let incl = u32_at(bytes, at + 8) as usize;
        let start = at + 16;
        let end = start.checked_add(incl).ok_or("overflow")?;
        let data = bytes.get(start..end).ok_or("truncated record")?;
        frames.push((ts.saturating_sub(origin), classify(data)));
        at = end;
    }
    Ok(frames)
}

fn classify(eth: &[u8]) -> Frame {
    if eth.len() < 14 {
        return Frame::Other;
    }
    let ethertype = u16::from_be_bytes([eth[12], eth[13]]);
    let l3 = &eth[14..];
    match ethertype {
        0x0800 if l3.len() >= 20 => {
            // Trim Ethernet padding using the IPv4 total length.
            let total = usize::from(u16::from_be_bytes([l3[2], l3[3]])).min(l3.len());
            Frame::Ipv4(l3[..total].to_vec())
        }
        0x86dd if l3.len() >= 40 => {
            let plen = usize::from(u16::from_be_bytes([l3[4], l3[5]]));
            let mut s = [0u8; 16];
            s.copy_from_slice(&l3[8..24]);
            let mut d = [0u8; 16];
            d.copy_from_slice(&l3[24..40]);
            Frame::Ipv6 {
                src: Ipv6Addr::from(s),
                dst: Ipv6Addr::from(d),
                hop_limit: l3[7],
                next_header: l3[6],
                payload: l3[40..(40 + plen).min(l3.len())].to_vec(),
            }
        }
        _ => Frame::Other,
    }
}

/// Source address of a frame, for messages.
pub fn src_of(f: &Frame) -> Option<IpAddr> {
    match f {
        Frame::Ipv4(p) if p.len() >= 20 => {
            Some(IpAddr::V4(Ipv4Addr::new(p[12], p[13], p[14], p[15])))
        }
        Frame::Ipv6 { src, .. } => Some(IpAddr::V6(*src)),
        _ => None,
    }
}

use rkeepalived_vrrp::packet::{
    decode_ipv4, decode_ipv6, emit_ipv4, ChecksumVariant, Ipv4Emit, PseudoHeader, Received,
    IPPROTO_VRRP,
};

/// Decode a captured VRRP frame and re-encode it with our emitter; the bytes must be
/// identical (IPv4: the whole IP packet; IPv6: the VRRP message).
pub fn decode_and_reencode(frame: &Frame) -> Result<Option<Received>, String> {
    match frame {
        Frame::Ipv4(ip) => {
            let rx = decode_ipv4(ip).map_err(|e| format!("decode_ipv4: {e}"))?;
            let (IpAddr::V4(src), IpAddr::V4(dst)) = (rx.src, rx.dst) else {
                return Err("family".into());
            };
            let params = Ipv4Emit {
                src,
                dst,
                ttl: rx.ttl.unwrap_or(255),
                ident: rx.ipv4_ident.unwrap_or(0),
                tos: rx.ipv4_tos.unwrap_or(0),
            };
            let legacy = rx.checksum == ChecksumVariant::LegacyUnicast;
            let again = emit_ipv4(&rx.adv, &params, legacy).map_err(|e| format!("emit: {e}"))?;
            if &again != ip {
                return Err(format!(
                    "re-encode differs:\n got {again:02x?}\nwant {ip:02x?}"
                ));
            }
            Ok(Some(rx))
        }
        Frame::Ipv6 {
            src,
            dst,
            hop_limit,
            next_header,
            payload,
        } => {
            if *next_header != IPPROTO_VRRP {
                return Ok(None);
            }
            let rx = decode_ipv6(payload, *src, *dst, Some(*hop_limit))
                .map_err(|e| format!("decode_ipv6: {e}"))?;
            let again = rx
                .adv
                .to_bytes(PseudoHeader::V6 {
                    src: *src,
                    dst: *dst,
                })
                .map_err(|e| format!("emit: {e}"))?;
            if &again != payload {
                return Err(format!(
                    "re-encode differs:\n got {again:02x?}\nwant {payload:02x?}"
                ));
            }
            Ok(Some(rx))
        }
        Frame::Other => Ok(None),
    }
}
