//! IPv6 VRRP as the raw socket edge hands it over: the VRRP payload plus the
//! cmsg-reported destination and hop limit (`RawDatagram::decode`), then the
//! v3 instance policy. The first byte selects the destination (multicast or
//! unicast) and the hop limit (none, 255 or another value). Must never panic.

use std::net::{IpAddr, Ipv6Addr};

use rkeepalived_vrrp::packet::{
    AdverInt, Auth, DropCounters, Family, RxPolicy, Version, VRRP_MCAST_V6,
};
use rkeepalived_vrrp::socket::RawDatagram;

pub fn run(data: &[u8]) {
    let Some((&sel, payload)) = data.split_first() else {
        return;
    };
    let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
    let unicast = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
    let dst = match sel & 3 {
        0 => None,
        1 => Some(IpAddr::V6(VRRP_MCAST_V6)),
        _ => Some(IpAddr::V6(unicast)),
    };
    let hop_limit = match (sel >> 2) & 3 {
        0 => None,
        1 => Some(255),
        _ => Some(sel),
    };
    let dgram = RawDatagram {
        bytes: payload.to_vec(),
        src: IpAddr::V6(src),
        dst,
        hop_limit,
        ifindex: 1,
    };
    let mut counters = DropCounters::default();
    match dgram.decode() {
        Ok(rx) => {
            let policy = RxPolicy {
                version: Version::V3,
                family: Family::Ipv6,
                vrid: rx.adv.vrid,
                auth: Auth::None,
                adver_int: AdverInt::Centiseconds(100),
                vips: vec![IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 10))],
                unicast_peers: if sel & 0x10 != 0 {
                    vec![IpAddr::V6(src)]
                } else {
                    vec![]
                },
                check_unicast_src: sel & 0x20 != 0,
                accept_legacy_unicast_checksum: false,
            };
            if let Err(r) = policy.check(&rx, true) {
                counters.record(r);
            }
        }
        Err(r) => counters.record(r),
    }
    let _ = counters.total();
}
