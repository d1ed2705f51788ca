//! Whole IPv4 packets as a raw socket delivers them (header + options + AH/VRRP),
//! then the instance policy checks. Must never panic.

use std::net::{IpAddr, Ipv4Addr};

use rkeepalived_vrrp::packet::{
    decode_ipv4, AdverInt, Auth, DropCounters, Family, RxPolicy, Version,
};

pub fn run(data: &[u8]) {
    let mut counters = DropCounters::default();
    match decode_ipv4(data) {
        Ok(rx) => {
            for version in [Version::V2, Version::V3] {
                let policy = RxPolicy {
                    version,
                    family: Family::Ipv4,
                    vrid: rx.adv.vrid,
                    auth: Auth::password(b"secret"),
                    adver_int: AdverInt::Seconds(1),
                    vips: vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10))],
                    unicast_peers: vec![],
                    check_unicast_src: false,
                    accept_legacy_unicast_checksum: true,
                };
                if let Err(r) = policy.check(&rx, true) {
                    counters.record(r);
                }
            }
        }
        Err(r) => counters.record(r),
    }
    let _ = counters.iter().count();
}
