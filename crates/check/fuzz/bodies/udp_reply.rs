//! UDP_CHECK replies: the configured `require_reply` HEX_STR pattern
//! (keepalived's free-form hex with `x` nibbles) and the reply verification
//! against it and the length bounds. Input: `pattern \0 reply`, the first two
//! bytes of the pattern part picking min/max reply lengths. Must never panic.

use rkeepalived_check::checkers::udp::{parse_hex_pattern, verify_reply};
use rkeepalived_check::spec::{ReplyPattern, UdpSpec};

pub fn run(data: &[u8]) {
    let (head, reply) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let (min, max) = match head {
        [a, b, ..] => (usize::from(*a), usize::from(*b) * 16),
        _ => (0, 65_535),
    };
    let pattern = parse_hex_pattern(&String::from_utf8_lossy(head));
    if let Some(p) = &pattern {
        for (value, mask) in p {
            // Don't-care nibbles are masked out, and the value carries no bit
            // outside its mask.
            assert_eq!(value & !mask, 0, "{p:?}");
        }
    }
    let spec = UdpSpec {
        payload: None,
        require_reply: true,
        reply_pattern: pattern.map(ReplyPattern),
        min_reply_length: min,
        max_reply_length: max,
    };
    let _ = verify_reply(&spec, reply);
}
