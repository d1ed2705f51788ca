//! Property tests for the codec (stable `cargo test` counterpart of the fuzz target
//! in crates/vrrp/fuzz): arbitrary bytes never panic, valid adverts round-trip,
//! single-bit corruption is always detected by the checksum or a length check.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use rkeepalived_vrrp::packet::{
    decode_ipv4, decode_ipv6, decode_vrrp, emit_ipv4, AdverInt, Advertisement, Auth, DropCounters,
    Ipv4Emit, PseudoHeader, RxPolicy, Version, VRRP_MCAST_V4, VRRP_MCAST_V6,
};

fn policy(rx_version: Version) -> RxPolicy {
    RxPolicy {
        version: rx_version,
        family: rkeepalived_vrrp::packet::Family::Ipv4,
        vrid: 1,
        auth: Auth::password(b"x"),
        adver_int: AdverInt::Seconds(1),
        vips: vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9))],
        unicast_peers: vec![],
        check_unicast_src: true,
        accept_legacy_unicast_checksum: false,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut counters = DropCounters::default();
        match decode_ipv4(&bytes) {
            Ok(rx) => {
                let _ = policy(Version::V2).check(&rx, true);
                let _ = policy(Version::V3).check(&rx, false);
            }
            Err(r) => counters.record(r),
        }
        let src: Ipv6Addr = "fe80::1".parse().unwrap();
        if let Err(r) = decode_ipv6(&bytes, src, VRRP_MCAST_V6, Some(255)) {
            counters.record(r);
        }
        if let Err(r) = decode_vrrp(&bytes, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), IpAddr::V4(VRRP_MCAST_V4), None) {
            counters.record(r);
        }
        prop_assert!(counters.total() <= 3);
    }

    /// Mostly-valid IPv4 packets with a few mutated bytes: exercises deeper paths.
    #[test]
    fn mutated_valid_packets_never_panic(
        prio in any::<u8>(),
        n in 0usize..8,
        flips in proptest::collection::vec((0usize..64, any::<u8>()), 0..4),
        v3 in any::<bool>(),
    ) {
        let adv = Advertisement {
            version: if v3 { Version::V3 } else { Version::V2 },
            vrid: 1,
            priority: prio,
            adver_int: if v3 { AdverInt::Centiseconds(100) } else { AdverInt::Seconds(1) },
            addrs: (0..n).map(|i| IpAddr::V4(Ipv4Addr::new(192, 0, 2, i as u8))).collect(),
            auth: if v3 { Auth::None } else { Auth::password(b"x") },
        };
        let mut pkt = emit_ipv4(&adv, &Ipv4Emit::new(Ipv4Addr::new(192, 0, 2, 1), VRRP_MCAST_V4, 1), false).unwrap();
        for (at, val) in flips {
            if let Some(b) = pkt.get_mut(at) { *b = val; }
        }
        if let Ok(rx) = decode_ipv4(&pkt) {
            let _ = policy(adv.version).check(&rx, true);
        }
    }

    #[test]
    fn v3_ipv4_round_trip(
        vrid in 1u8..=255,
        prio in any::<u8>(),
        cs in 1u16..=4095,
        n in 0usize..=20,
        ident in any::<u16>(),
    ) {
        let adv = Advertisement {
            version: Version::V3,
            vrid,
            priority: prio,
            adver_int: AdverInt::Centiseconds(cs),
            addrs: (0..n).map(|i| IpAddr::V4(Ipv4Addr::new(198, 51, 100, i as u8))).collect(),
            auth: Auth::None,
        };
        let pkt = emit_ipv4(&adv, &Ipv4Emit::new(Ipv4Addr::new(192, 0, 2, 7), VRRP_MCAST_V4, ident), false).unwrap();
        let rx = decode_ipv4(&pkt).unwrap();
        prop_assert_eq!(rx.adv, adv);
    }

    #[test]
    fn v2_round_trip_with_password(
        prio in any::<u8>(),
        secs in any::<u8>(),
        pass in proptest::collection::vec(any::<u8>(), 0..=8),
        n in 0usize..=20,
    ) {
        let adv = Advertisement {
            version: Version::V2,
            vrid: 9,
            priority: prio,
            adver_int: AdverInt::Seconds(secs),
            addrs: (0..n).map(|i| IpAddr::V4(Ipv4Addr::new(203, 0, 113, i as u8))).collect(),
            auth: Auth::password(&pass),
        };
        let pkt = emit_ipv4(&adv, &Ipv4Emit::new(Ipv4Addr::new(192, 0, 2, 7), VRRP_MCAST_V4, 3), false).unwrap();
        prop_assert_eq!(decode_ipv4(&pkt).unwrap().adv, adv);
    }

    #[test]
    fn v3_ipv6_round_trip_and_bit_flips_detected(
        prio in any::<u8>(),
        n in 1usize..=8,
        bit in 0usize..(8 * (8 + 16)),
    ) {
        let src: Ipv6Addr = "fe80::1".parse().unwrap();
        let adv = Advertisement {
            version: Version::V3,
            vrid: 3,
            priority: prio,
            adver_int: AdverInt::Centiseconds(100),
            addrs: (0..n).map(|i| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i as u16))).collect(),
            auth: Auth::None,
        };
        let mut bytes = adv.to_bytes(PseudoHeader::V6 { src, dst: VRRP_MCAST_V6 }).unwrap();
        prop_assert_eq!(&decode_ipv6(&bytes, src, VRRP_MCAST_V6, Some(255)).unwrap().adv, &adv);
        // Any single-bit error in the header or first address is detected
        // (one's-complement checksum, or the length/version/type checks).
        bytes[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(decode_ipv6(&bytes, src, VRRP_MCAST_V6, Some(255)).is_err());
    }
}
