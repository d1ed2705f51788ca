use super::*;

fn v2_adv() -> Advertisement {
    Advertisement {
        version: Version::V2,
        vrid: 51,
        priority: 100,
        adver_int: AdverInt::Seconds(1),
        addrs: vec!["192.0.2.10".parse().unwrap(), "192.0.2.11".parse().unwrap()],
        auth: Auth::password(b"secret"),
    }
}

fn v3_adv4() -> Advertisement {
    Advertisement {
        version: Version::V3,
        vrid: 52,
        priority: 150,
        adver_int: AdverInt::Centiseconds(100),
        addrs: vec!["192.0.2.20".parse().unwrap()],
        auth: Auth::None,
    }
}

const SRC4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

#[test]
fn drop_reason_indices_are_dense_and_labels_unique() {
    let mut seen = std::collections::HashSet::new();
    for (i, r) in DropReason::ALL.iter().enumerate() {
        assert_eq!(r.index(), i, "{r:?}");
        assert!(seen.insert(r.label()));
    }
}

#[test]
fn v2_round_trip_with_password() {
    let adv = v2_adv();
    let pkt = emit_ipv4(&adv, &Ipv4Emit::new(SRC4, VRRP_MCAST_V4, 7), false).unwrap();
    let rx = decode_ipv4(&pkt).unwrap();
    assert_eq!(rx.adv, adv);
    assert_eq!(rx.ttl, Some(255));
    assert_eq!(rx.ipv4_ident, Some(7));
    assert_eq!(ipv4_header_checksum(&pkt[..20]), 0);
}

#[test]
fn v3_ipv4_checksum_uses_pseudo_header() {
    let adv = v3_adv4();
    let pkt = emit_ipv4(&adv, &Ipv4Emit::new(SRC4, VRRP_MCAST_V4, 1), false).unwrap();
    // Without the pseudo-header the checksum must not verify.
    let vrrp = VrrpPacket::new_checked(&pkt[20..], Family::Ipv4).unwrap();
    assert!(!vrrp.verify_checksum(PseudoHeader::None));
    let rx = decode_ipv4(&pkt).unwrap();
    assert_eq!(rx.checksum, ChecksumVariant::Standard);
    assert_eq!(rx.adv, adv);
}

#[test]
fn v3_legacy_unicast_checksum_detected() {
    let adv = v3_adv4();
    let peer = Ipv4Addr::new(192, 0, 2, 2);
    let pkt = emit_ipv4(&adv, &Ipv4Emit::new(SRC4, peer, 1), true).unwrap();
    let rx = decode_ipv4(&pkt).unwrap();
    assert_eq!(rx.checksum, ChecksumVariant::LegacyUnicast);
}

#[test]
fn ipv4_options_are_skipped() {
    let adv = v3_adv4();
    let pkt = emit_ipv4(&adv, &Ipv4Emit::new(SRC4, VRRP_MCAST_V4, 1), false).unwrap();
    // Insert a 4-byte Router Alert option (IHL 6).
    let mut with_opt = Vec::new();
    with_opt.extend_from_slice(&pkt[..20]);
    with_opt.extend_from_slice(&[0x94, 0x04, 0x00, 0x00]);
    with_opt.extend_from_slice(&pkt[20..]);
    with_opt[0] = 0x46;
    let total = (with_opt.len() as u16).to_be_bytes();
    with_opt[2..4].copy_from_slice(&total);
    let rx = decode_ipv4(&with_opt).unwrap();
    assert_eq!(rx.adv, adv);
}

#[test]
fn corruptions_are_typed() {
    let adv = v2_adv();
    let pkt = emit_ipv4(&adv, &Ipv4Emit::new(SRC4, VRRP_MCAST_V4, 7), false).unwrap();
    let mut bad = pkt.clone();
    bad[20 + 2] ^= 1; // priority, checksum now wrong
    assert_eq!(decode_ipv4(&bad), Err(DropReason::BadChecksum));
    let mut bad = pkt.clone();
    bad[20 + 3] = 3; // count_ip
    assert_eq!(decode_ipv4(&bad), Err(DropReason::LengthMismatch));
    let mut bad = pkt.clone();
    bad.push(0);
    assert_eq!(decode_ipv4(&bad), Err(DropReason::IpLengthMismatch));
    assert_eq!(decode_ipv4(&pkt[..10]), Err(DropReason::Truncated));
    let mut bad = pkt.clone();
    bad[9] = 6;
    assert_eq!(decode_ipv4(&bad), Err(DropReason::WrongProtocol));
}

#[test]
fn ah_authenticated_v2_is_decoded_and_needs_the_key() {
    // keepalived's AH layout: IPv4 | AH (24 bytes, next header 112) | VRRPv2 auth type 2.
    let mut adv = v2_adv();
    adv.auth = Auth::Ah;
    assert_eq!(
        emit_ipv4(&adv, &Ipv4Emit::new(SRC4, VRRP_MCAST_V4, 7), false),
        Err(EmitError::AhNeedsKey)
    );
    let key = crate::auth_ah::AhKey::from_pass(b"secret");
    let mut pkt =
        crate::auth_ah::emit_ipv4_ah(&adv, &Ipv4Emit::new(SRC4, VRRP_MCAST_V4, 7), &key, 1, false)
            .unwrap();
    assert_eq!(pkt[9], IPPROTO_AH);
    let rx = decode_ipv4(&pkt).unwrap();
    assert_eq!(rx.adv, adv);
    assert_eq!(rx.ah.as_ref().map(|a| a.seq), Some(1));
    let mut p = policy_v2();
    p.auth = Auth::Ah;
    // Without the key and counter an AH advert cannot be authenticated.
    assert_eq!(p.check(&rx, true), Err(DropReason::AhIcvMismatch));
    let mut state = crate::auth_ah::AhState::new(key.clone());
    let backup = crate::auth_ah::AhRole::Backup;
    assert_eq!(
        p.check_with_ah(&rx, true, Some(state.receiver(backup))),
        Ok(())
    );
    assert_eq!(
        p.check_with_ah(&rx, true, Some(state.receiver(backup))),
        Err(DropReason::AhReplay)
    );
    // A password instance refuses it as an auth type mismatch.
    assert_eq!(
        policy_v2().check(&rx, true),
        Err(DropReason::AuthTypeMismatch)
    );
    // The VRRP message without its AH header: type mismatch.
    assert_eq!(
        decode_vrrp(
            &pkt[20 + AH_HEADER_LEN..],
            IpAddr::V4(SRC4),
            IpAddr::V4(VRRP_MCAST_V4),
            Some(255)
        )
        .map(|_| ()),
        Err(DropReason::AuthTypeMismatch)
    );
    // AH too short to hold its 24 bytes.
    let mut short = pkt[..20 + 16].to_vec();
    short[2..4].copy_from_slice(&36u16.to_be_bytes());
    assert_eq!(decode_ipv4(&short).map(|_| ()), Err(DropReason::Truncated));
    // AH wrapping something else.
    pkt[20] = 6;
    assert_eq!(
        decode_ipv4(&pkt).map(|_| ()),
        Err(DropReason::WrongProtocol)
    );
}

#[test]
fn ipv6_round_trip() {
    let src: Ipv6Addr = "fe80::1".parse().unwrap();
    let adv = Advertisement {
        version: Version::V3,
        vrid: 7,
        priority: 200,
        adver_int: AdverInt::Centiseconds(50),
        addrs: vec!["2001:db8::7".parse().unwrap()],
        auth: Auth::None,
    };
    let bytes = adv
        .to_bytes(PseudoHeader::V6 {
            src,
            dst: VRRP_MCAST_V6,
        })
        .unwrap();
    let rx = decode_ipv6(&bytes, src, VRRP_MCAST_V6, Some(255)).unwrap();
    assert_eq!(rx.adv, adv);
    assert_eq!(
        decode_ipv6(&bytes, "fe80::2".parse().unwrap(), VRRP_MCAST_V6, Some(255)),
        Err(DropReason::BadChecksum)
    );
}

fn policy_v2() -> RxPolicy {
    RxPolicy {
        version: Version::V2,
        family: Family::Ipv4,
        vrid: 51,
        auth: Auth::password(b"secret"),
        adver_int: AdverInt::Seconds(1),
        vips: v2_adv().addrs,
        unicast_peers: vec![],
        check_unicast_src: false,
        accept_legacy_unicast_checksum: false,
    }
}

#[test]
fn policy_checks() {
    let pkt = emit_ipv4(&v2_adv(), &Ipv4Emit::new(SRC4, VRRP_MCAST_V4, 7), false).unwrap();
    let rx = decode_ipv4(&pkt).unwrap();
    let p = policy_v2();
    assert_eq!(p.check(&rx, true), Ok(()));
    let mut p2 = p.clone();
    p2.auth = Auth::password(b"other");
    assert_eq!(p2.check(&rx, true), Err(DropReason::AuthFailure));
    let mut p2 = p.clone();
    p2.auth = Auth::None;
    assert_eq!(p2.check(&rx, true), Err(DropReason::AuthTypeMismatch));
    let mut p2 = p.clone();
    p2.adver_int = AdverInt::Seconds(2);
    assert_eq!(p2.check(&rx, true), Err(DropReason::AdverIntMismatch));
    let mut p2 = p.clone();
    p2.vips.pop();
    assert_eq!(p2.check(&rx, true), Err(DropReason::AddrCountMismatch));
    assert_eq!(p2.check(&rx, false), Ok(()));
    let mut p2 = p.clone();
    p2.vips[0] = "192.0.2.99".parse().unwrap();
    assert_eq!(p2.check(&rx, true), Err(DropReason::AddrListMismatch));
    let mut p2 = p.clone();
    p2.unicast_peers = vec![IpAddr::V4(SRC4)];
    assert_eq!(
        p2.check(&rx, true),
        Err(DropReason::UnicastMulticastMismatch)
    );
    let mut rx2 = rx.clone();
    rx2.ttl = Some(64);
    assert_eq!(p.check(&rx2, true), Err(DropReason::BadTtl));
}
