//! ICMP/ICMPv6 echo reply parsing, with and without an IPv4 header.
use rkeepalived_check::wire::icmp::{checksum, parse_echo_reply};

pub fn run(data: &[u8]) {
    for (v6, ip) in [(false, false), (false, true), (true, false)] {
        let _ = parse_echo_reply(data, v6, ip);
    }
    let _ = checksum(data);
}
