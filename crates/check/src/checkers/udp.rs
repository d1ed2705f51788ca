//! UDP_CHECK (keepalived check_udp.c): send the payload (random if none) on
//! a connected UDP socket. An ICMP unreachable means down. Without
//! `require_reply`, no error within connect_timeout means up; with it, a
//! reply must arrive, have a length within [min_reply_length,
//! max_reply_length] and match the require_reply pattern.
//!
//! As in keepalived (layer4.c `udp_socket_state`), the first datagram (or
//! error) decides: one `recv` of at most max_reply_length + 1 bytes, and
//! the whole attempt (send included) ends by `connect_timeout`.

use std::time::Duration;

use super::{BoxFuture, CheckOutcome, Checker};
use crate::conn::{is_unreachable, random_u64, udp_connect, Deadline};
use crate::error::CheckFailure;
use crate::spec::{ConnOpts, UdpSpec};

pub struct UdpChecker {
    pub conn: ConnOpts,
    pub timeout: Duration,
    pub spec: UdpSpec,
}

impl UdpChecker {
    async fn probe(&self) -> Result<(), CheckFailure> {
        let deadline = Deadline::after(self.timeout);
        let sock = udp_connect(&self.conn)?;
        let payload = match &self.spec.payload {
            Some(p) => p.clone(),
            None => random_u64().to_be_bytes().to_vec(),
        };
        deadline
            .run("UDP send", async {
                match sock.send(&payload).await {
                    Ok(_) => Ok(()),
                    Err(e) if is_unreachable(&e) => Err(CheckFailure::Unreachable(e)),
                    Err(e) => Err(CheckFailure::Io(e)),
                }
            })
            .await?;
        let mut buf = vec![0u8; self.spec.max_reply_length.max(1) + 1];
        match tokio::time::timeout_at(deadline.instant(), sock.recv(&mut buf)).await {
            Err(_) if self.spec.require_reply => Err(CheckFailure::NoReply),
            Err(_) => Ok(()),
            Ok(Err(e)) if is_unreachable(&e) => Err(CheckFailure::Unreachable(e)),
            Ok(Err(e)) => Err(CheckFailure::Io(e)),
            Ok(Ok(n)) => verify_reply(&self.spec, &buf[..n]),
        }
    }
}

/// Reply checks when `require_reply` is set (pure).
pub fn verify_reply(spec: &UdpSpec, reply: &[u8]) -> Result<(), CheckFailure> {
    if !spec.require_reply {
        return Ok(());
    }
    if reply.len() < spec.min_reply_length || reply.len() > spec.max_reply_length {
        return Err(CheckFailure::ReplyLength {
            len: reply.len(),
            min: spec.min_reply_length,
            max: spec.max_reply_length,
        });
    }
    match &spec.reply_pattern {
        Some(p) if !p.matches(reply) => Err(CheckFailure::ReplyMismatch),
        _ => Ok(()),
    }
}

/// Parse keepalived's free-form HEX_STR ("Ab12f 3 456") into (value, mask)
/// bytes: groups of hex digits separated by spaces; an odd-length group
/// gets a leading 0 on its last digit; `x`/`X` is a don't-care nibble.
pub fn parse_hex_pattern(s: &str) -> Option<Vec<(u8, u8)>> {
    // (value, mask) of one nibble.
    let nibble = |c: char| -> Option<(u8, u8)> {
        match c {
            'x' | 'X' => Some((0, 0)),
            c => c.to_digit(16).map(|d| (d as u8, 0xf)),
        }
    };
    let byte = |(hv, hm): (u8, u8), (lv, lm): (u8, u8)| ((hv << 4) | lv, (hm << 4) | lm);
    let mut out = Vec::new();
    for group in s.split_whitespace() {
        let chars: Vec<char> = group.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if i + 1 < chars.len() {
                out.push(byte(nibble(chars[i])?, nibble(chars[i + 1])?));
                i += 2;
            } else {
                out.push(byte((0, 0xf), nibble(chars[i])?));
                i += 1;
            }
        }
    }
    Some(out)
}

impl Checker for UdpChecker {
    fn kind(&self) -> &'static str {
        "UDP_CHECK"
    }

    fn check(&self) -> BoxFuture<'_, CheckOutcome> {
        Box::pin(async move { self.probe().await.into() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::ReplyPattern;

    #[test]
    fn hex_pattern_like_keepalived_man_page() {
        // "Ab12f 3 456 546443123" => AB 12 0F 03 45 06 54 64 43 12 03
        let p = parse_hex_pattern("Ab12f 3 456 546443123").unwrap();
        let bytes: Vec<u8> = p
            .iter()
            .map(|(v, m)| {
                assert_eq!(*m, 0xff);
                *v
            })
            .collect();
        assert_eq!(
            bytes,
            [0xab, 0x12, 0x0f, 0x03, 0x45, 0x06, 0x54, 0x64, 0x43, 0x12, 0x03]
        );
        assert!(parse_hex_pattern("zz").is_none());
    }

    #[test]
    fn reply_verification() {
        let spec = UdpSpec {
            require_reply: true,
            reply_pattern: Some(ReplyPattern(parse_hex_pattern("ABxx").unwrap())),
            min_reply_length: 2,
            ..UdpSpec::default()
        };
        assert!(verify_reply(&spec, &[0xab, 0x77, 1]).is_ok());
        assert!(matches!(
            verify_reply(&spec, &[0xac, 0x77]),
            Err(CheckFailure::ReplyMismatch)
        ));
        assert!(matches!(
            verify_reply(&spec, &[0xab]),
            Err(CheckFailure::ReplyLength { .. })
        ));
    }
}
