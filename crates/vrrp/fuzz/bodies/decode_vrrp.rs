//! A VRRP message without IP header (IPv6 raw socket payload, or IPv4 after the IO
//! edge stripped the header). The first byte selects the family. Must never panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rkeepalived_vrrp::packet::{decode_vrrp, VRRP_MCAST_V4, VRRP_MCAST_V6};

pub fn run(data: &[u8]) {
    let Some((sel, payload)) = data.split_first() else {
        return;
    };
    let (src, dst) = if sel & 1 == 0 {
        (
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            IpAddr::V4(VRRP_MCAST_V4),
        )
    } else {
        (
            IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1)),
            IpAddr::V6(VRRP_MCAST_V6),
        )
    };
    if let Ok(rx) = decode_vrrp(payload, src, dst, Some(255)) {
        // Re-encoding what we accepted must succeed.
        let pseudo = rkeepalived_vrrp::packet::PseudoHeader::for_addrs(rx.adv.version, src, dst);
        let _ = rx.adv.to_bytes(pseudo);
    }
}
