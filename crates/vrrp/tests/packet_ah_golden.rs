//! VRRPv2 `auth_type AH` against real keepalived 2.2.7 adverts, captured with
//! `RKP_CAPTURE_CONF=keepalived-ah.conf RKP_CAPTURE_FILTER='ip proto 51' tests/data/capture.sh`
//! (see tests/data/README.md). Pure: reads only the committed pcap.
//!
//! Our encoder must reproduce each frame byte for byte from its decoded fields
//! (sequence number and IP identification included: keepalived sets both
//! itself), the ICV we compute over a captured frame must be the one
//! keepalived put there, and tampered frames must be dropped with a counted
//! reason.

#[path = "data/pcap.rs"]
mod pcap;

use std::net::IpAddr;

use proptest::prelude::*;
use rkeepalived_vrrp::auth_ah::{
    compute_icv, emit_ipv4_ah, AhKey, AhRole, AhState, SeqCounter, AH_ICV_LEN,
};
use rkeepalived_vrrp::packet::{
    decode_ipv4, AdverInt, Auth, DropCounters, DropReason, Family, Ipv4Emit, Received, RxPolicy,
    Version, AH_HEADER_LEN, IPPROTO_AH,
};

const GOLDEN: &[u8] = include_bytes!("data/keepalived-2.2.7-ah.pcap");
/// vrid 61 (multicast): `auth_pass rkpahpass1`, truncated by keepalived to 8 bytes.
const MCAST_PASS: &[u8] = b"rkpahpass1";
/// vrid 62 (unicast to 192.0.2.2): `auth_pass s3cr`, NUL padded to 8 bytes.
const UCAST_PASS: &[u8] = b"s3cr";
/// Offset of the ICV in the frame (IPv4 header 20 + AH 12).
const ICV_AT: usize = 32;

fn frames() -> Vec<Vec<u8>> {
    pcap::read_frames(GOLDEN)
        .expect("golden AH pcap parses")
        .into_iter()
        .filter_map(|f| match f {
            pcap::Frame::Ipv4(p) => Some(p),
            _ => None,
        })
        .collect()
}

fn key_for(vrid: u8) -> AhKey {
    AhKey::from_pass(if vrid == 61 { MCAST_PASS } else { UCAST_PASS })
}

fn unicast(rx: &Received) -> bool {
    !rx.dst.is_multicast()
}

fn policy_for(rx: &Received) -> RxPolicy {
    RxPolicy {
        version: Version::V2,
        family: Family::Ipv4,
        vrid: rx.adv.vrid,
        auth: Auth::Ah,
        adver_int: AdverInt::Seconds(1),
        vips: rx.adv.addrs.clone(),
        unicast_peers: if unicast(rx) { vec![rx.src] } else { vec![] },
        check_unicast_src: true,
        accept_legacy_unicast_checksum: false,
    }
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn captured_frames_have_keepalived_layout() {
    let fr = frames();
    assert_eq!(
        fr.len(),
        10,
        "5 adverts per instance, the last with priority 0"
    );
    for (i, p) in fr.iter().enumerate() {
        let rx = decode_ipv4(p).unwrap_or_else(|e| panic!("frame {i}: {e}"));
        let ah = rx.ah.as_ref().expect("AH fields");
        assert_eq!(p[9], IPPROTO_AH);
        assert_eq!(rx.ipv4_tos, Some(0xc0));
        assert_eq!(
            rx.ttl,
            Some(255),
            "keepalived sends TTL 255 to unicast peers too"
        );
        assert_eq!(&p[6..8], &[0, 0], "no DF, no fragment");
        assert_eq!(ah.payload_len, 4);
        assert_eq!(ah.spi, 0xc000_0201, "SPI = source 192.0.2.1");
        assert_eq!(rx.adv.auth, Auth::Ah);
        assert_eq!(rx.adv.version, Version::V2);
        // VRRP Authentication Data stays zero with AH.
        assert_eq!(&p[p.len() - 8..], &[0u8; 8]);
        assert_eq!(p.len(), 20 + AH_HEADER_LEN + 8 + 4 * rx.adv.addrs.len() + 8);
    }
    let by = |vrid: u8| -> Vec<Received> {
        fr.iter()
            .map(|p| decode_ipv4(p).unwrap())
            .filter(|r| r.adv.vrid == vrid)
            .collect()
    };
    let m = by(61);
    assert_eq!(m[0].dst, ip("224.0.0.18"));
    assert_eq!(m[0].adv.addrs, vec![ip("192.0.2.110"), ip("192.0.2.111")]);
    let u = by(62);
    assert_eq!(u[0].dst, ip("192.0.2.2"));
    assert_eq!(u[0].adv.addrs, vec![ip("192.0.2.160")]);
    for list in [&m, &u] {
        // Sequence numbers 1, 2, ... one per advert; the IP id follows the same count.
        let seqs: Vec<u32> = list.iter().map(|r| r.ah.as_ref().unwrap().seq).collect();
        assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
        let ids: Vec<u16> = list.iter().map(|r| r.ipv4_ident.unwrap()).collect();
        assert_eq!(ids, vec![1, 2, 3, 4, 5]);
        assert_eq!(list.last().unwrap().adv.priority, 0);
    }
}

#[test]
fn our_icv_equals_keepalived_icv() {
    for p in frames() {
        let rx = decode_ipv4(&p).unwrap();
        let icv = compute_icv(&p, &key_for(rx.adv.vrid), unicast(&rx)).unwrap();
        assert_eq!(
            &icv[..],
            &p[ICV_AT..ICV_AT + AH_ICV_LEN],
            "vrid {}",
            rx.adv.vrid
        );
    }
}

#[test]
fn our_encoder_reproduces_every_frame_byte_for_byte() {
    for p in frames() {
        let rx = decode_ipv4(&p).unwrap();
        let (IpAddr::V4(src), IpAddr::V4(dst)) = (rx.src, rx.dst) else {
            panic!("IPv4 expected");
        };
        let params = Ipv4Emit {
            src,
            dst,
            ttl: rx.ttl.unwrap(),
            ident: rx.ipv4_ident.unwrap(),
            tos: rx.ipv4_tos.unwrap(),
        };
        let seq = rx.ah.as_ref().unwrap().seq;
        let ours = emit_ipv4_ah(&rx.adv, &params, &key_for(rx.adv.vrid), seq, unicast(&rx))
            .expect("encode");
        assert_eq!(ours, p, "vrid {} seq {seq}", rx.adv.vrid);
    }
    // And our sequence counter numbers adverts like keepalived: 1, 2, 3, ...
    let mut c = SeqCounter::default();
    assert_eq!((c.next_tx(), c.next_tx(), c.next_tx()), (1, 2, 3));
}

#[test]
fn decoder_and_policy_accept_the_stream_and_refuse_replays() {
    for vrid in [61u8, 62] {
        let mut st = AhState::new(key_for(vrid));
        let list: Vec<Vec<u8>> = frames()
            .into_iter()
            .filter(|p| decode_ipv4(p).unwrap().adv.vrid == vrid)
            .collect();
        for p in &list {
            let rx = decode_ipv4(p).unwrap();
            let pol = policy_for(&rx);
            assert_eq!(
                pol.check_with_ah(&rx, true, Some(st.receiver(AhRole::Backup))),
                Ok(()),
                "vrid {vrid}"
            );
            // keepalived: "sequence number %u already processed. Packet dropped."
            assert_eq!(
                pol.check_with_ah(&rx, true, Some(st.receiver(AhRole::Backup))),
                Err(DropReason::AhReplay)
            );
        }
        assert_eq!(st.counter.seq, 5);
        // An older frame later is a replay too.
        let rx = decode_ipv4(&list[1]).unwrap();
        assert_eq!(
            policy_for(&rx).check_with_ah(&rx, true, Some(st.receiver(AhRole::Backup))),
            Err(DropReason::AhReplay)
        );
    }
}

/// Check a (possibly tampered) frame as a fresh Backup of its instance would,
/// counting the drop.
fn verdict(p: &[u8], vrid: u8, key: &AhKey, counters: &mut DropCounters) -> Result<(), DropReason> {
    let res = decode_ipv4(p).and_then(|rx| {
        let mut pol = policy_for(&rx);
        pol.vrid = vrid;
        let mut st = AhState::new(key.clone());
        pol.check_with_ah(&rx, true, Some(st.receiver(AhRole::Backup)))
    });
    if let Err(r) = res {
        counters.record(r);
    }
    res
}

fn fix_vrrp_checksum(p: &mut [u8]) {
    let v = 20 + AH_HEADER_LEN;
    p[v + 6] = 0;
    p[v + 7] = 0;
    let mut sum = 0u32;
    for c in p[v..].chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let c = !(sum as u16);
    p[v + 6..v + 8].copy_from_slice(&c.to_be_bytes());
}

#[test]
fn tampered_frames_are_dropped_and_counted() {
    let fr = frames();
    let mcast = fr[0].clone();
    let ucast = fr[1].clone();
    assert_eq!(decode_ipv4(&ucast).unwrap().adv.vrid, 62);
    let km = key_for(61);
    let ku = key_for(62);
    let mut n = DropCounters::default();
    assert_eq!(verdict(&mcast, 61, &km, &mut n), Ok(()));
    assert_eq!(verdict(&ucast, 62, &ku, &mut n), Ok(()));

    // Bad ICV.
    let mut p = mcast.clone();
    p[ICV_AT + 3] ^= 0x40;
    assert_eq!(verdict(&p, 61, &km, &mut n), Err(DropReason::AhIcvMismatch));
    // Wrong password.
    assert_eq!(
        verdict(&mcast, 61, &AhKey::from_pass(b"rkpahpaX"), &mut n),
        Err(DropReason::AhIcvMismatch)
    );
    // Higher priority with a valid VRRP checksum: only the ICV catches it.
    let mut p = mcast.clone();
    p[20 + AH_HEADER_LEN + 2] = 254;
    fix_vrrp_checksum(&mut p);
    assert_eq!(verdict(&p, 61, &km, &mut n), Err(DropReason::AhIcvMismatch));
    // The IP identification and total length are covered...
    let mut p = mcast.clone();
    p[5] ^= 1;
    assert_eq!(verdict(&p, 61, &km, &mut n), Err(DropReason::AhIcvMismatch));
    // ...and so is the TTL of a multicast advert (keepalived zeroes it only for unicast),
    // (the TTL-255 rule drops such an advert first).
    let mut p = mcast.clone();
    p[8] = 254;
    assert_ne!(
        compute_icv(&p, &km, false).unwrap()[..],
        mcast[ICV_AT..ICV_AT + AH_ICV_LEN]
    );
    assert_eq!(verdict(&p, 61, &km, &mut n), Err(DropReason::BadTtl));
    // while the mutable fields are not: TOS, DF, header checksum.
    let mut p = mcast.clone();
    p[1] = 0;
    p[6] = 0x40;
    p[10] ^= 0xff;
    assert_eq!(verdict(&p, 61, &km, &mut n), Ok(()));
    // A unicast advert's TTL may change on the way (not in its ICV).
    let mut p = ucast.clone();
    p[8] = 64;
    assert_eq!(verdict(&p, 62, &ku, &mut n), Ok(()));
    // AH Payload Len other than 4: keepalived still reads 24 bytes; the ICV covers it.
    let mut p = mcast.clone();
    p[21] = 5;
    assert_eq!(verdict(&p, 61, &km, &mut n), Err(DropReason::AhIcvMismatch));
    // SPI not the source address, ICV recomputed with the right key (a peer
    // that knows the password but spoofs another SPI).
    let mut p = mcast.clone();
    p[24..28].copy_from_slice(&[192, 0, 2, 9]);
    let icv = compute_icv(&p, &km, false).unwrap();
    p[ICV_AT..ICV_AT + AH_ICV_LEN].copy_from_slice(&icv);
    assert_eq!(verdict(&p, 61, &km, &mut n), Err(DropReason::AhSpiMismatch));
    // Short AH: the packet ends inside the AH header.
    let mut p = mcast[..20 + 20].to_vec();
    p[2..4].copy_from_slice(&40u16.to_be_bytes());
    assert_eq!(verdict(&p, 61, &km, &mut n), Err(DropReason::Truncated));
    // AH present but a VRRP message with a truncated address list.
    let mut p = mcast[..mcast.len() - 4].to_vec();
    let len = u16::try_from(p.len()).unwrap();
    p[2..4].copy_from_slice(&len.to_be_bytes());
    assert_eq!(
        verdict(&p, 61, &km, &mut n),
        Err(DropReason::LengthMismatch)
    );
    // An AH instance hearing a plain VRRP advert, or the reverse: type mismatch.
    let mut p = mcast.clone();
    p[20 + AH_HEADER_LEN + 4] = 0;
    fix_vrrp_checksum(&mut p);
    assert_eq!(
        verdict(&p, 61, &km, &mut n),
        Err(DropReason::AuthTypeMismatch)
    );
    // Sequence number not above the counter (seq 0 on a fresh counter).
    let mut p = mcast.clone();
    p[28..32].copy_from_slice(&0u32.to_be_bytes());
    let icv = compute_icv(&p, &km, false).unwrap();
    p[ICV_AT..ICV_AT + AH_ICV_LEN].copy_from_slice(&icv);
    assert_eq!(verdict(&p, 61, &km, &mut n), Err(DropReason::AhReplay));

    assert_eq!(n.get(DropReason::AhIcvMismatch), 5);
    assert_eq!(n.get(DropReason::AhSpiMismatch), 1);
    assert_eq!(n.get(DropReason::AhReplay), 1);
    assert_eq!(n.get(DropReason::Truncated), 1);
    let labels: Vec<&str> = n.iter().filter(|(_, c)| *c > 0).map(|(l, _)| l).collect();
    assert!(labels.contains(&"ah_icv_mismatch") && labels.contains(&"ah_replay"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    /// Arbitrary bytes after a captured AH frame's IPv4 header (and arbitrary
    /// whole packets) never panic in the decoder or the AH check.
    #[test]
    fn arbitrary_ah_payloads_never_panic(
        tail in proptest::collection::vec(any::<u8>(), 0..120),
        whole in proptest::collection::vec(any::<u8>(), 0..120),
        flips in proptest::collection::vec((0usize..64, any::<u8>()), 0..4),
        role in 0u8..3,
    ) {
        let fr = frames();
        let key = key_for(61);
        let role = [AhRole::Backup, AhRole::Master, AhRole::Other][usize::from(role)];
        let mut crafted = fr[0][..20].to_vec();
        crafted.extend_from_slice(&tail);
        let len = u16::try_from(crafted.len()).unwrap();
        crafted[2..4].copy_from_slice(&len.to_be_bytes());
        let mut mutated = fr[0].clone();
        for (at, v) in flips {
            if let Some(b) = mutated.get_mut(at) {
                *b = v;
            }
        }
        for p in [crafted, whole, mutated] {
            let _ = compute_icv(&p, &key, false);
            let _ = compute_icv(&p, &key, true);
            if let Ok(rx) = decode_ipv4(&p) {
                let mut st = AhState::new(key.clone());
                let pol = policy_for(&rx);
                let _ = pol.check_with_ah(&rx, true, Some(st.receiver(role)));
                let _ = pol.check(&rx, false);
            }
        }
    }
}
