//! IPsec AH adverts (`auth_type AH`): the bytes after a fixed IPv4 header with
//! protocol 51 go through the decoder, the ICV computation and the AH policy
//! check with a key and counter, in every instance role. Must never panic.

use std::net::{IpAddr, Ipv4Addr};

use rkeepalived_vrrp::auth_ah::{compute_icv, AhKey, AhRole, AhState};
use rkeepalived_vrrp::packet::{
    decode_ipv4, AdverInt, Auth, DropCounters, Family, RxPolicy, Version, IPPROTO_AH,
};

pub fn run(data: &[u8]) {
    let Some((sel, tail)) = data.split_first() else {
        return;
    };
    // 192.0.2.1 -> 224.0.0.18 (or a unicast peer), TTL 255, protocol AH.
    let mut pkt = vec![
        0x45, 0xc0, 0, 0, 0, 1, 0, 0, 255, IPPROTO_AH, 0, 0, 192, 0, 2, 1, 224, 0, 0, 18,
    ];
    let unicast = sel & 1 == 1;
    if unicast {
        pkt[16..20].copy_from_slice(&[192, 0, 2, 2]);
    }
    pkt.extend_from_slice(tail);
    let Ok(len) = u16::try_from(pkt.len()) else {
        return;
    };
    pkt[2..4].copy_from_slice(&len.to_be_bytes());
    let key = AhKey::from_pass(b"secret");
    let _ = compute_icv(&pkt, &key, unicast);
    let mut counters = DropCounters::default();
    match decode_ipv4(&pkt) {
        Ok(rx) => {
            let policy = RxPolicy {
                version: Version::V2,
                family: Family::Ipv4,
                vrid: rx.adv.vrid,
                auth: Auth::Ah,
                adver_int: AdverInt::Seconds(1),
                vips: vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10))],
                unicast_peers: if unicast {
                    vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))]
                } else {
                    vec![]
                },
                check_unicast_src: true,
                accept_legacy_unicast_checksum: false,
            };
            let mut st = AhState::new(key.clone());
            for role in [AhRole::Backup, AhRole::Master, AhRole::Other] {
                if let Err(r) = policy.check_with_ah(&rx, true, Some(st.receiver(role))) {
                    counters.record(r);
                }
            }
            if let Some(ah) = &rx.ah {
                let _ =
                    st.counter
                        .on_master_rx(ah.seq, rx.adv.priority, 100, std::cmp::Ordering::Less);
                let _ = st.counter.next_tx();
            }
        }
        Err(r) => counters.record(r),
    }
    let _ = counters.total();
}
