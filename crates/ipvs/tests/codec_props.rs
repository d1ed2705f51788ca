//! Property tests of the netlink codec: arbitrary bytes never panic any
//! decoder, and encode -> decode is the identity on valid model values.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use rkeepalived_ipvs::netlink::message::{
    dest_from_attrs, service_from_attrs, service_key_from_attrs,
};
use rkeepalived_ipvs::netlink::{
    encode_request, op_message, parse_frames, Frame, IpvsMessage, SyncDaemon,
};
use rkeepalived_ipvs::{
    Dest, Family, Forwarding, Op, Protocol, Scheduler, Service, ServiceFlags, ServiceKey,
    TunnelFlags, TunnelType,
};

const FAMILY: u16 = 0x20;

fn arb_addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        any::<[u8; 16]>().prop_map(|o| IpAddr::V6(Ipv6Addr::from(o))),
    ]
}

fn arb_key() -> impl Strategy<Value = ServiceKey> {
    prop_oneof![
        (
            prop::sample::select(vec![Protocol::Tcp, Protocol::Udp, Protocol::Sctp]),
            arb_addr(),
            any::<u16>()
        )
            .prop_map(|(proto, addr, port)| ServiceKey::Addr { proto, addr, port }),
        (1u32.., any::<bool>()).prop_map(|(mark, v6)| ServiceKey::Fwmark {
            mark,
            family: if v6 { Family::Inet6 } else { Family::Inet },
        }),
    ]
}

fn arb_service() -> impl Strategy<Value = Service> {
    (
        arb_key(),
        prop_oneof![
            prop::sample::select(Scheduler::ALL.to_vec()),
            "[a-z]{1,15}".prop_map(|s| Scheduler::from_name(&s)),
        ],
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        prop::option::of("[a-z]{1,8}"),
    )
        .prop_map(|(key, sched, flags, timeout, netmask, pe)| Service {
            key,
            sched,
            flags: ServiceFlags(flags).user(),
            timeout,
            netmask,
            pe_name: pe,
        })
}

fn arb_fwd() -> impl Strategy<Value = Forwarding> {
    prop_oneof![
        Just(Forwarding::Masq),
        Just(Forwarding::Local),
        Just(Forwarding::Direct),
        Just(Forwarding::Bypass),
        (
            prop::sample::select(vec![TunnelType::Ipip, TunnelType::Gue, TunnelType::Gre]),
            any::<u16>(),
            any::<u16>()
        )
            .prop_map(|(tun_type, port, flags)| Forwarding::Tunnel {
                tun_type,
                port,
                flags: TunnelFlags(flags)
            }),
    ]
}

fn arb_dest() -> impl Strategy<Value = Dest> {
    (
        arb_addr(),
        any::<u16>(),
        arb_fwd(),
        any::<i32>(),
        any::<u32>(),
        any::<u32>(),
    )
        .prop_map(|(addr, port, fwd, weight, u_threshold, l_threshold)| Dest {
            addr,
            port,
            fwd,
            weight,
            u_threshold,
            l_threshold,
        })
}

fn one_message(bytes: &[u8]) -> IpvsMessage {
    match parse_frames(bytes, FAMILY)
        .expect("our own bytes decode")
        .as_slice()
    {
        [Frame::Ipvs { msg, .. }] => msg.clone(),
        other => panic!("unexpected {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512), cmd in any::<u8>()) {
        if let Ok(frames) = parse_frames(&bytes, FAMILY) {
            for f in frames {
                if let Frame::Ipvs { msg, .. } = f {
                    if let Some(s) = msg.service_attrs() {
                        let _ = service_from_attrs(s);
                        if let Ok(k) = service_key_from_attrs(s) {
                            if let Some(d) = msg.dest_attrs() {
                                let _ = dest_from_attrs(d, k.family());
                            }
                        }
                    }
                }
            }
        }
        let _ = IpvsMessage::parse(cmd, &bytes);
    }

    /// Mutating one byte of a valid message never panics the decoder.
    #[test]
    fn corrupted_valid_messages_never_panic(svc in arb_service(), dest in arb_dest(), pos in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = encode_request(FAMILY, 1, 5, op_message(&Op::AddDest(svc.key, dest)));
        let i = pos.index(bytes.len());
        bytes[i] = byte;
        let _ = parse_frames(&bytes, FAMILY).map(|frames| {
            for f in frames {
                if let Frame::Ipvs { msg, .. } = f {
                    let _ = msg.dest_attrs().map(|d| dest_from_attrs(d, Family::Inet));
                    let _ = msg.service_attrs().map(service_from_attrs);
                }
            }
        });
    }

    #[test]
    fn service_round_trip(svc in arb_service()) {
        let msg = one_message(&encode_request(FAMILY, 7, 5, op_message(&Op::AddService(svc.clone()))));
        let back = service_from_attrs(msg.service_attrs().expect("nest")).expect("valid");
        prop_assert_eq!(back.service, svc);
    }

    #[test]
    fn dest_round_trip(key in arb_key(), dest in arb_dest()) {
        let msg = one_message(&encode_request(FAMILY, 7, 5, op_message(&Op::EditDest(key, dest))));
        prop_assert_eq!(service_key_from_attrs(msg.service_attrs().expect("svc")).expect("key"), key);
        let back = dest_from_attrs(msg.dest_attrs().expect("dest"), key.family()).expect("valid");
        prop_assert_eq!(back.dest, dest);
    }

    #[test]
    fn message_reencodes_identically(key in arb_key(), dest in arb_dest()) {
        for op in [Op::AddDest(key, dest), Op::DelDest(key, dest.key()), Op::DelService(key), Op::Flush] {
            let bytes = encode_request(FAMILY, 9, 5, op_message(&op));
            let msg = one_message(&bytes);
            prop_assert_eq!(encode_request(FAMILY, 9, 5, msg), bytes);
        }
    }

    #[test]
    fn daemon_round_trip(ifn in "[a-z0-9]{1,15}", sync_id in any::<u32>(), backup in any::<bool>(), port in any::<u16>(), ttl in any::<u8>(), maxlen in any::<u16>()) {
        use rkeepalived_ipvs::netlink::DaemonState;
        let d = SyncDaemon {
            state: if backup { DaemonState::Backup } else { DaemonState::Master },
            mcast_ifn: ifn,
            sync_id,
            sync_maxlen: Some(maxlen),
            mcast_group: Some(IpAddr::V4(Ipv4Addr::new(224, 0, 0, 81))),
            mcast_port: Some(port),
            mcast_ttl: Some(ttl),
        };
        let msg = one_message(&encode_request(FAMILY, 3, 5, d.start_message()));
        let attrs = msg.attrs.iter().find_map(|a| match a {
            rkeepalived_ipvs::netlink::CmdAttr::Daemon(d) => Some(d.clone()),
            _ => None,
        }).expect("daemon nest");
        prop_assert_eq!(SyncDaemon::from_attrs(&attrs).expect("valid"), d);
    }
}

#[test]
fn truncated_and_hostile_inputs_are_typed_errors() {
    use rkeepalived_ipvs::DecodeError;
    // nlmsg_len larger than the buffer.
    let mut b = encode_request(FAMILY, 1, 5, op_message(&Op::Flush));
    b[0] = 200;
    assert!(matches!(
        parse_frames(&b, FAMILY),
        Err(DecodeError::BadMessageLength { .. })
    ));
    // NLA length 2 (< header) inside an IPVS message.
    let mut b = encode_request(
        FAMILY,
        1,
        5,
        op_message(&Op::DelService(ServiceKey::tcp(
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            80,
        ))),
    );
    b[20] = 2;
    b[21] = 0;
    assert!(parse_frames(&b, FAMILY).is_err());
    // A service nest without AF.
    assert_eq!(
        service_from_attrs(&[]).unwrap_err(),
        DecodeError::Missing("IPVS_SVC_ATTR_AF")
    );
}

/// Fuzzer finding: an unknown attribute carrying both NLA_F_NESTED and
/// NLA_F_NET_BYTEORDER must keep both flags through decode -> encode.
#[test]
fn unknown_attribute_flags_survive_round_trip() {
    use rkeepalived_ipvs::netlink::{CmdAttr, SvcAttr};
    let nla = netlink_packet_core::DefaultNla::new(0xffff, vec![0, 0, 0, 0, 255, 255, 255, 255]);
    let msg = IpvsMessage::new(
        1,
        vec![CmdAttr::Service(vec![SvcAttr::Af(2), SvcAttr::Other(nla)])],
    );
    let bytes = encode_request(FAMILY, 1, 5, msg.clone());
    assert_eq!(one_message(&bytes), msg);
}

/// Fuzzer finding: an NLMSG_ERROR / NLMSG_DONE code of i32::MIN must not
/// overflow when turned into an errno.
#[test]
fn error_code_i32_min_does_not_overflow() {
    for msg_type in [2u16, 3] {
        let mut b = Vec::new();
        b.extend(20u32.to_ne_bytes());
        b.extend(msg_type.to_ne_bytes());
        b.extend(0u16.to_ne_bytes());
        b.extend(1u32.to_ne_bytes());
        b.extend(0u32.to_ne_bytes());
        b.extend(i32::MIN.to_ne_bytes());
        assert!(parse_frames(&b, FAMILY).is_ok());
    }
}
