//! DNS_CHECK wire format (RFC 1035 §4.1), exactly what keepalived's
//! check_dns.c sends and accepts: one question with RD set; a reply is
//! success when it is at least a header long, has our id, has QR set and
//! RCODE 0 (replies that are too short, carry another id or are not
//! responses are ignored and we keep waiting).

pub const HEADER_LEN: usize = 12;
pub const TYPE_A: u16 = 1;
pub const TYPE_NS: u16 = 2;
pub const TYPE_CNAME: u16 = 5;
pub const TYPE_SOA: u16 = 6;
pub const TYPE_MX: u16 = 15;
pub const TYPE_TXT: u16 = 16;
pub const TYPE_AAAA: u16 = 28;
const CLASS_IN: u16 = 1;
const FLAG_QR: u16 = 0x8000;
const FLAG_RD: u16 = 0x0100;

/// keepalived's `type` keyword values.
pub fn type_from_name(name: &str) -> Option<u16> {
    Some(match name.to_ascii_uppercase().as_str() {
        "A" => TYPE_A,
        "NS" => TYPE_NS,
        "CNAME" => TYPE_CNAME,
        "SOA" => TYPE_SOA,
        "MX" => TYPE_MX,
        "TXT" => TYPE_TXT,
        "AAAA" => TYPE_AAAA,
        _ => return None,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    #[error("DNS label '{0}' is empty or longer than 63 bytes")]
    BadLabel(String),
    #[error("DNS name longer than 255 bytes")]
    NameTooLong,
    #[error("message shorter than a DNS header ({0} bytes)")]
    TooShort(usize),
}

/// Encode the query keepalived sends.
pub fn encode_query(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, DnsError> {
    let mut out = Vec::with_capacity(HEADER_LEN + name.len() + 6);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&FLAG_RD.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes()); // QDCOUNT
    out.extend_from_slice(&[0; 6]); // AN/NS/AR counts
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    let mut name_len = 1;
    if !trimmed.is_empty() {
        for label in trimmed.split('.') {
            if label.is_empty() || label.len() > 63 {
                return Err(DnsError::BadLabel(label.to_string()));
            }
            name_len += label.len() + 1;
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
        }
    }
    if name_len > 255 {
        return Err(DnsError::NameTooLong);
    }
    out.push(0);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&CLASS_IN.to_be_bytes());
    Ok(out)
}

/// Checked view of a DNS header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub id: u16,
    pub flags: u16,
}

impl Header {
    pub fn parse(bytes: &[u8]) -> Result<Self, DnsError> {
        match bytes {
            [i0, i1, f0, f1, _, _, _, _, _, _, _, _, ..] => Ok(Self {
                id: u16::from_be_bytes([*i0, *i1]),
                flags: u16::from_be_bytes([*f0, *f1]),
            }),
            _ => Err(DnsError::TooShort(bytes.len())),
        }
    }

    pub fn is_response(&self) -> bool {
        self.flags & FLAG_QR != 0
    }

    pub fn rcode(&self) -> u8 {
        (self.flags & 0x000f) as u8
    }
}

/// What one received datagram means for a check that sent `sent_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyVerdict {
    /// Not ours / not a reply: keep waiting (check_dns.c ignores these).
    Ignore,
    /// Our reply with this non-zero RCODE: the check fails.
    Failed(u8),
    Success,
}

pub fn classify_reply(sent_id: u16, bytes: &[u8]) -> ReplyVerdict {
    let Ok(header) = Header::parse(bytes) else {
        return ReplyVerdict::Ignore;
    };
    if header.id != sent_id || !header.is_response() {
        return ReplyVerdict::Ignore;
    }
    match header.rcode() {
        0 => ReplyVerdict::Success,
        rc => ReplyVerdict::Failed(rc),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_bytes_match_keepalived_layout() {
        // id 0x1234, RD, one question "example.com" type A class IN.
        let q = encode_query(0x1234, "example.com", TYPE_A).unwrap();
        let expected: &[u8] = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x07example\x03com\x00\x00\x01\x00\x01";
        assert_eq!(q, expected);
        // Root name: a single zero byte, type SOA.
        let root = encode_query(1, ".", TYPE_SOA).unwrap();
        assert_eq!(&root[HEADER_LEN..], b"\x00\x00\x06\x00\x01");
        assert_eq!(
            encode_query(1, "example.com.", TYPE_A).unwrap()[HEADER_LEN..],
            expected[HEADER_LEN..]
        );
        assert!(matches!(
            encode_query(1, "a..b", TYPE_A),
            Err(DnsError::BadLabel(_))
        ));
    }

    #[test]
    fn reply_classification() {
        let mut reply = encode_query(0xbeef, ".", TYPE_SOA).unwrap();
        assert_eq!(
            classify_reply(0xbeef, &reply),
            ReplyVerdict::Ignore,
            "a query is not a reply"
        );
        reply[2] |= 0x80;
        assert_eq!(classify_reply(0xbeef, &reply), ReplyVerdict::Success);
        assert_eq!(classify_reply(0xbeee, &reply), ReplyVerdict::Ignore);
        reply[3] |= 3; // NXDOMAIN
        assert_eq!(classify_reply(0xbeef, &reply), ReplyVerdict::Failed(3));
        assert_eq!(classify_reply(0xbeef, &reply[..11]), ReplyVerdict::Ignore);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600), id in proptest::num::u16::ANY) {
            let _ = classify_reply(id, &bytes);
        }

        #[test]
        fn arbitrary_names_never_panic(name in ".{0,300}") {
            let _ = encode_query(7, &name, TYPE_A);
        }
    }
}
