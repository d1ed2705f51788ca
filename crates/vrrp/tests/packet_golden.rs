//! Decode + re-encode real keepalived 2.2.7 adverts captured with `tests/data/capture.sh`
//! (see tests/data/README.md). Pure: reads only the committed pcap.

#[path = "data/pcap.rs"]
mod pcap;

use std::collections::BTreeMap;
use std::net::IpAddr;

use rkeepalived_vrrp::packet::{
    AdverInt, Auth, ChecksumVariant, DropReason, Family, Received, RxPolicy, Version,
};

const GOLDEN: &[u8] = include_bytes!("data/keepalived-2.2.7-adverts.pcap");

fn all_adverts() -> Vec<Received> {
    let frames = pcap::read_frames(GOLDEN).expect("golden pcap parses");
    let mut out = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        match pcap::decode_and_reencode(f) {
            Ok(Some(rx)) => out.push(rx),
            Ok(None) => {}
            Err(e) => panic!("frame {i} from {:?}: {e}", pcap::src_of(f)),
        }
    }
    out
}

fn by_vrid(rx: &[Received]) -> BTreeMap<u8, Vec<&Received>> {
    let mut m: BTreeMap<u8, Vec<&Received>> = BTreeMap::new();
    for r in rx {
        m.entry(r.adv.vrid).or_default().push(r);
    }
    m
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn every_captured_frame_decodes_and_reencodes_byte_identical() {
    let rx = all_adverts();
    let m = by_vrid(&rx);
    assert_eq!(
        m.keys().copied().collect::<Vec<_>>(),
        vec![51, 52, 53, 54, 55]
    );
    // Each instance was master for a while, then sent priority 0 on SIGTERM.
    for (vrid, advs) in &m {
        assert!(advs.len() >= 2, "vrid {vrid}: {} adverts", advs.len());
        assert_eq!(
            advs.last().unwrap().adv.priority,
            0,
            "vrid {vrid} ends with prio 0"
        );
        assert!(advs[..advs.len() - 1].iter().all(|r| r.adv.priority != 0));
    }
}

#[test]
fn v2_pass_ipv4_fields() {
    let rx = all_adverts();
    let r = by_vrid(&rx)[&51][0].clone();
    assert_eq!(r.adv.version, Version::V2);
    assert_eq!(r.adv.priority, 150);
    assert_eq!(r.adv.adver_int, AdverInt::Seconds(1));
    // keepalived truncates auth_pass to 8 characters.
    assert_eq!(r.adv.auth, Auth::password(b"rkpsecre"));
    assert_eq!(
        r.adv.addrs,
        vec![ip("192.0.2.100"), ip("192.0.2.101"), ip("192.0.2.102")]
    );
    assert_eq!(r.ttl, Some(255));
    assert_eq!(r.ipv4_tos, Some(0xc0));
    assert_eq!(r.dst, ip("224.0.0.18"));
}

#[test]
fn v3_ipv4_fields_and_pseudo_header_checksum() {
    let rx = all_adverts();
    let r = by_vrid(&rx)[&52][0].clone();
    assert_eq!(r.adv.version, Version::V3);
    assert_eq!(r.adv.priority, 200);
    assert_eq!(r.adv.adver_int, AdverInt::Centiseconds(50));
    assert_eq!(r.adv.auth, Auth::None);
    assert_eq!(r.adv.addrs, vec![ip("198.51.100.10"), ip("198.51.100.11")]);
    assert_eq!(r.checksum, ChecksumVariant::Standard);
}

#[test]
fn v3_ipv6_fields() {
    let rx = all_adverts();
    let r = by_vrid(&rx)[&53][0].clone();
    assert_eq!(r.family, Family::Ipv6);
    assert_eq!(r.adv.adver_int, AdverInt::Centiseconds(100));
    assert_eq!(r.adv.addrs, vec![ip("2001:db8::10"), ip("2001:db8::11")]);
    assert_eq!(r.src, ip("fe80::1"));
    assert_eq!(r.dst, ip("ff02::12"));
    assert_eq!(r.ttl, Some(255));
}

#[test]
fn v3_unicast_standard_and_legacy_checksums() {
    let rx = all_adverts();
    let m = by_vrid(&rx);
    // Unicast with RFC pseudo-header (real destination address).
    assert!(m[&54]
        .iter()
        .all(|r| r.checksum == ChecksumVariant::Standard));
    assert_eq!(m[&54][0].dst, ip("192.0.2.2"));
    // `old_unicast_checksum`: summed as if sent to 224.0.0.18.
    assert!(m[&55]
        .iter()
        .all(|r| r.checksum == ChecksumVariant::LegacyUnicast));
}

fn policy_for(r: &Received) -> RxPolicy {
    RxPolicy {
        version: r.adv.version,
        family: r.family,
        vrid: r.adv.vrid,
        auth: r.adv.auth.clone(),
        adver_int: r.adv.adver_int,
        vips: r.adv.addrs.clone(),
        unicast_peers: if r.dst.is_multicast() {
            vec![]
        } else {
            vec![r.src]
        },
        check_unicast_src: true,
        accept_legacy_unicast_checksum: false,
    }
}

#[test]
fn golden_adverts_pass_a_matching_policy() {
    for r in all_adverts() {
        let p = policy_for(&r);
        let expected = if r.checksum == ChecksumVariant::LegacyUnicast {
            Err(DropReason::LegacyChecksum)
        } else {
            Ok(())
        };
        assert_eq!(p.check(&r, true), expected, "vrid {}", r.adv.vrid);
        let mut p = p;
        p.accept_legacy_unicast_checksum = true;
        assert_eq!(p.check(&r, true), Ok(()), "vrid {}", r.adv.vrid);
    }
}

#[test]
fn golden_v2_with_wrong_password_is_auth_failure() {
    let rx = all_adverts();
    let r = by_vrid(&rx)[&51][0].clone();
    let mut p = policy_for(&r);
    p.auth = Auth::password(b"rkpsecrX");
    assert_eq!(p.check(&r, true), Err(DropReason::AuthFailure));
}
