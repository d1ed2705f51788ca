//! Decode/encode throughput of the VRRP codec and the cost of one fsm step.
//! `cargo bench -p rkeepalived-vrrp --bench codec`

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use rkeepalived_vrrp::fsm::{Event, Instance, InstanceParams};
use rkeepalived_vrrp::packet::{
    decode_ipv4, decode_ipv6, emit_ipv4, AdverInt, Advertisement, Auth, Family, Ipv4Emit,
    PseudoHeader, RxPolicy, Version, VRRP_MCAST_V4, VRRP_MCAST_V6,
};

fn v3_adv(n: u8) -> Advertisement {
    Advertisement {
        version: Version::V3,
        vrid: 52,
        priority: 200,
        adver_int: AdverInt::Centiseconds(100),
        addrs: (0..n)
            .map(|i| IpAddr::V4(Ipv4Addr::new(198, 51, 100, i)))
            .collect(),
        auth: Auth::None,
    }
}

fn bench(c: &mut Criterion) {
    let src = Ipv4Addr::new(192, 0, 2, 1);
    let adv = v3_adv(4);
    let pkt = emit_ipv4(&adv, &Ipv4Emit::new(src, VRRP_MCAST_V4, 1), false).unwrap();
    let policy = RxPolicy {
        version: Version::V3,
        family: Family::Ipv4,
        vrid: 52,
        auth: Auth::None,
        adver_int: AdverInt::Centiseconds(100),
        vips: adv.addrs.clone(),
        unicast_peers: vec![],
        check_unicast_src: false,
        accept_legacy_unicast_checksum: false,
    };
    c.bench_function("decode_ipv4+check v3 4 VIPs", |b| {
        b.iter(|| {
            let rx = decode_ipv4(black_box(&pkt)).unwrap();
            policy.check(&rx, true).unwrap();
            rx
        })
    });
    c.bench_function("emit_ipv4 v3 4 VIPs", |b| {
        b.iter(|| {
            emit_ipv4(
                black_box(&adv),
                &Ipv4Emit::new(src, VRRP_MCAST_V4, 1),
                false,
            )
            .unwrap()
        })
    });
    let v6src: Ipv6Addr = "fe80::1".parse().unwrap();
    let adv6 = Advertisement {
        addrs: (0..4u16)
            .map(|i| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i)))
            .collect(),
        ..v3_adv(0)
    };
    let bytes6 = adv6
        .to_bytes(PseudoHeader::V6 {
            src: v6src,
            dst: VRRP_MCAST_V6,
        })
        .unwrap();
    c.bench_function("decode_ipv6 v3 4 VIPs", |b| {
        b.iter(|| decode_ipv6(black_box(&bytes6), v6src, VRRP_MCAST_V6, Some(255)).unwrap())
    });
    let origin = Instant::now();
    let mut inst = Instance::new(InstanceParams::new(Version::V3, 52, IpAddr::V4(src)));
    inst.handle(Event::Startup, origin);
    let peer = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9));
    c.bench_function("fsm backup advert step", |b| {
        b.iter(|| {
            inst.handle(
                Event::AdvertReceived {
                    from: peer,
                    adv: black_box(adv.clone()),
                },
                origin,
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
