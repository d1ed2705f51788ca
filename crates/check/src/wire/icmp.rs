//! ICMP / ICMPv6 echo (RFC 792, RFC 4443 §4) for PING_CHECK.

pub const ECHO_REQUEST_V4: u8 = 8;
pub const ECHO_REPLY_V4: u8 = 0;
pub const ECHO_REQUEST_V6: u8 = 128;
pub const ECHO_REPLY_V6: u8 = 129;
const ECHO_HEADER_LEN: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IcmpError {
    #[error("packet too short ({0} bytes)")]
    TooShort(usize),
    #[error("bad IPv4 header")]
    BadIpHeader,
    #[error("not an echo reply (type {0})")]
    NotEchoReply(u8),
}

/// RFC 1071 internet checksum.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Echo request. For ICMPv6 the kernel fills in the checksum (it covers a
/// pseudo-header we do not know on a raw/ping socket).
pub fn encode_echo_request(v6: bool, ident: u16, seq: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ECHO_HEADER_LEN + payload.len());
    out.push(if v6 { ECHO_REQUEST_V6 } else { ECHO_REQUEST_V4 });
    out.push(0);
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&ident.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(payload);
    if !v6 {
        let sum = checksum(&out);
        out[2..4].copy_from_slice(&sum.to_be_bytes());
    }
    out
}

/// Validated echo reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EchoReply<'a> {
    pub ident: u16,
    pub seq: u16,
    pub payload: &'a [u8],
}

/// Parse an echo reply. `with_ip_header`: raw IPv4 sockets deliver the IP
/// header too; ping sockets and ICMPv6 sockets do not.
pub fn parse_echo_reply(
    bytes: &[u8],
    v6: bool,
    with_ip_header: bool,
) -> Result<EchoReply<'_>, IcmpError> {
    let icmp = if with_ip_header {
        let first = *bytes.first().ok_or(IcmpError::TooShort(0))?;
        let ihl = usize::from(first & 0x0f) * 4;
        if first >> 4 != 4 || ihl < 20 {
            return Err(IcmpError::BadIpHeader);
        }
        bytes.get(ihl..).ok_or(IcmpError::TooShort(bytes.len()))?
    } else {
        bytes
    };
    if icmp.len() < ECHO_HEADER_LEN {
        return Err(IcmpError::TooShort(icmp.len()));
    }
    let expected = if v6 { ECHO_REPLY_V6 } else { ECHO_REPLY_V4 };
    if icmp[0] != expected || icmp[1] != 0 {
        return Err(IcmpError::NotEchoReply(icmp[0]));
    }
    Ok(EchoReply {
        ident: u16::from_be_bytes([icmp[4], icmp[5]]),
        seq: u16::from_be_bytes([icmp[6], icmp[7]]),
        payload: &icmp[ECHO_HEADER_LEN..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_request_matches_known_bytes() {
        // Type 8, id 1, seq 1, payload "abcd"; checksum by hand: ~(0x0800+1+1+0x6162+0x6364) = 0x3337.
        let pkt = encode_echo_request(false, 1, 1, b"abcd");
        assert_eq!(pkt, [8, 0, 0x33, 0x37, 0, 1, 0, 1, b'a', b'b', b'c', b'd']);
        assert_eq!(checksum(&pkt), 0, "a correct checksum sums to zero");
    }

    #[test]
    fn reply_parsing() {
        let mut reply = encode_echo_request(false, 0x4242, 7, b"xy");
        reply[0] = ECHO_REPLY_V4;
        let r = parse_echo_reply(&reply, false, false).unwrap();
        assert_eq!((r.ident, r.seq, r.payload), (0x4242, 7, &b"xy"[..]));
        let mut with_ip = vec![0x45u8; 1];
        with_ip.extend_from_slice(&[0; 19]);
        with_ip.extend_from_slice(&reply);
        assert_eq!(parse_echo_reply(&with_ip, false, true).unwrap().seq, 7);
        assert_eq!(
            parse_echo_reply(&reply[..5], false, false),
            Err(IcmpError::TooShort(5))
        );
        assert_eq!(
            parse_echo_reply(&reply, true, false),
            Err(IcmpError::NotEchoReply(0))
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200), v6: bool, ip: bool) {
            let _ = parse_echo_reply(&bytes, v6, ip);
        }
    }
}
