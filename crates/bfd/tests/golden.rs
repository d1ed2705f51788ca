//! Golden bytes: BFD Control packets FRR 8.4 bfdd sent to us in a netns
//! (captured once with tcpdump, `tests/golden/frr_*.bin`), and ours
//! (`ours_*.bin`) from the same capture. Decoded, re-encoded, and fed
//! through the engine's receive checks and a session.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use rkeepalived_bfd::engine::harness::Harness;
use rkeepalived_bfd::session::{Output, Session, SessionParams};
use rkeepalived_bfd::socket::Received;
use rkeepalived_bfd::{ControlPacket, Diag, DropReason, SessionConfig, SessionState, State};

fn golden(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn frr_packets_decode_and_reencode() {
    let down = ControlPacket::decode(&golden("frr_v4_down.bin")).expect("valid");
    assert_eq!(down.state, State::Down);
    assert_eq!(down.diag, Diag::NoDiagnostic);
    assert_eq!(down.detect_mult, 3);
    assert_eq!(down.my_discr, 0x9dba_15e3);
    assert_eq!(down.your_discr, 0);
    // FRR sends 1 s while not Up (RFC 5880 §6.8.3), and offers Echo at 50 ms.
    assert_eq!(down.desired_min_tx, 1_000_000);
    assert_eq!(down.required_min_rx, 1_000_000);
    assert_eq!(down.required_min_echo_rx, 50_000);

    let init = ControlPacket::decode(&golden("frr_v4_init.bin")).expect("valid");
    assert_eq!(init.state, State::Init);
    assert_eq!(init.your_discr, 0x9414_794f);

    let poll = ControlPacket::decode(&golden("frr_v4_up_poll.bin")).expect("valid");
    assert!(poll.poll && !poll.final_ && poll.state == State::Up);
    assert_eq!(poll.desired_min_tx, 100_000);
    let fin = ControlPacket::decode(&golden("frr_v4_up_final.bin")).expect("valid");
    assert!(fin.final_ && !fin.poll);

    for f in [
        "frr_v4_down.bin",
        "frr_v4_init.bin",
        "frr_v4_up.bin",
        "frr_v4_up_poll.bin",
        "frr_v4_up_final.bin",
        "frr_v6_down.bin",
        "frr_v6_init.bin",
        "frr_v6_up.bin",
        "frr_v6_up_poll.bin",
        "frr_v6_up_final.bin",
        "ours_v4_down.bin",
        "ours_v4_up_poll.bin",
    ] {
        let bytes = golden(f);
        let p = ControlPacket::decode(&bytes).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(&p.encode()[..], &bytes[..], "{f}");
    }
}

#[test]
fn our_first_packet_matches_the_capture() {
    let params = SessionParams {
        min_rx_us: 100_000,
        min_tx_us: 100_000,
        idle_tx_us: 1_000_000,
        detect_mult: 3,
        passive: false,
    };
    let mut s = Session::new(params, rkeepalived_bfd::rng::Rng::seeded(5));
    let mut out = vec![];
    s.start(Instant::now(), &mut out);
    let Some(Output::Send(p)) = out.into_iter().find(|o| matches!(o, Output::Send(_))) else {
        panic!("no packet");
    };
    let mut want = golden("ours_v4_down.bin");
    want[4..8].copy_from_slice(&s.local_discr().to_be_bytes());
    assert_eq!(&p.encode()[..], &want[..]);
}

fn rx(src: &str, ttl: u8) -> Received {
    Received {
        src: SocketAddr::new(src.parse().expect("addr"), 49152),
        dst: Some("192.0.2.1".parse().expect("addr")),
        ttl,
        ifindex: 0,
        truncated: false,
        len: 24,
    }
}

fn cfg() -> SessionConfig {
    let mut c = SessionConfig::new("frr", "192.0.2.2".parse::<IpAddr>().expect("addr"));
    c.min_rx_us = 100_000;
    c.min_tx_us = 100_000;
    c.multiplier = 3;
    c
}

#[test]
fn frr_handshake_through_the_engine_checks() {
    let t0 = Instant::now();
    let mut h = Harness::new(vec![cfg()], t0);
    let ev = h.events.try_recv().expect("initial event");
    assert_eq!((ev.name.as_str(), ev.state), ("frr", SessionState::Down));

    h.datagram(&rx("192.0.2.2", 255), &golden("frr_v4_down.bin"), t0);
    assert_eq!(h.sessions()[0].state, State::Init);
    assert_eq!(h.sessions()[0].remote_discr, 0x9dba_15e3);

    // FRR's Init, addressed to our discriminator.
    let mut init = golden("frr_v4_init.bin");
    init[8..12].copy_from_slice(&h.sessions()[0].local_discr.to_be_bytes());
    let t1 = t0 + Duration::from_millis(500);
    h.datagram(&rx("192.0.2.2", 255), &init, t1);
    assert_eq!(h.sessions()[0].state, State::Up);
    let ev = h.events.try_recv().expect("up event");
    assert_eq!(ev.state, SessionState::Up);
    assert_eq!(h.counters().received(), 2);

    // Detection: FRR's mult 3 × max(our min_rx 100 ms, its 1 s idle tx).
    assert_eq!(h.sessions()[0].detect_time_us, 3_000_000);
    h.timers(t1 + Duration::from_millis(2999));
    assert_eq!(h.sessions()[0].state, State::Up);
    h.timers(t1 + Duration::from_millis(3000));
    assert_eq!(h.sessions()[0].state, State::Down);
    let ev = h.events.try_recv().expect("down event");
    assert_eq!(
        (ev.state, ev.diag),
        (SessionState::Down, Diag::ControlDetectionTimeExpired)
    );
}

#[test]
fn drops_are_counted_by_reason() {
    let t0 = Instant::now();
    let mut h = Harness::new(vec![cfg()], t0);
    let down = golden("frr_v4_down.bin");
    let cases: Vec<(Received, Vec<u8>, DropReason)> = vec![
        // GTSM: one hop away is too far for single-hop (RFC 5881 §5).
        (rx("192.0.2.2", 254), down.clone(), DropReason::BadTtl),
        (rx("192.0.2.2", 1), down.clone(), DropReason::BadTtl),
        // Not our neighbor.
        (rx("192.0.2.3", 255), down.clone(), DropReason::NoSession),
        // Your Discriminator nobody has.
        (
            rx("192.0.2.2", 255),
            golden("frr_v4_init.bin"),
            DropReason::NoSession,
        ),
        (
            rx("192.0.2.2", 255),
            down[..20].to_vec(),
            DropReason::TooShort,
        ),
        (
            Received {
                truncated: true,
                ..rx("192.0.2.2", 255)
            },
            down.clone(),
            DropReason::Truncated,
        ),
        (
            rx("192.0.2.2", 255),
            {
                let mut b = down.clone();
                b[1] |= 0x04;
                b
            },
            DropReason::AuthNotSupported,
        ),
        (
            rx("192.0.2.2", 255),
            {
                let mut b = down.clone();
                b[0] = 0x40;
                b
            },
            DropReason::BadVersion,
        ),
        (
            rx("192.0.2.2", 255),
            {
                let mut b = down.clone();
                b[3] = 30;
                b
            },
            DropReason::LengthMismatch,
        ),
    ];
    for (r, bytes, reason) in &cases {
        let before = h.counters().get(*reason);
        h.datagram(r, bytes, t0);
        assert_eq!(h.counters().get(*reason), before + 1, "{reason:?}");
    }
    // None of them touched the session.
    assert_eq!(h.sessions()[0].state, State::Down);
    assert_eq!(h.counters().received(), 0);

    // max_hops 2 accepts 253, and max_hops -1 (255) anything.
    let mut c = cfg();
    c.max_hops = 2;
    let mut h = Harness::new(vec![c], t0);
    h.datagram(&rx("192.0.2.2", 253), &down, t0);
    assert_eq!(h.counters().received(), 1);
    let mut c = cfg();
    c.max_hops = 255;
    let mut h = Harness::new(vec![c], t0);
    h.datagram(&rx("192.0.2.2", 7), &down, t0);
    assert_eq!(h.counters().received(), 1);
}

#[test]
fn reload_keeps_sessions_by_name() {
    let t0 = Instant::now();
    let mut h = Harness::new(vec![cfg()], t0);
    h.datagram(&rx("192.0.2.2", 255), &golden("frr_v4_down.bin"), t0);
    let before = h.sessions()[0].clone();
    assert_eq!(before.state, State::Init);

    // Same name, new timers, plus a new session: the first keeps its state
    // and discriminators (keepalived's bfd_copy_state()), the new one starts Down.
    let mut c = cfg();
    c.min_tx_us = 200_000;
    let mut other = SessionConfig::new("other", "192.0.2.9".parse::<IpAddr>().expect("addr"));
    other.multiplier = 3;
    // A duplicate name is ignored, as keepalived's "already configured".
    h.reconfigure(vec![c.clone(), other, c], t0);
    let after = h.sessions();
    assert_eq!(after.len(), 2);
    assert_eq!(after[0].state, State::Init);
    assert_eq!(after[0].local_discr, before.local_discr);
    assert_eq!(after[0].remote_discr, before.remote_discr);
    assert_eq!(after[1].name, "other");
    assert_eq!(after[1].state, State::Down);
    assert_ne!(after[1].local_discr, after[0].local_discr);

    // Removed from the config: gone.
    h.reconfigure(vec![], t0);
    assert!(h.sessions().is_empty());
    h.datagram(&rx("192.0.2.2", 255), &golden("frr_v4_down.bin"), t0);
    assert_eq!(h.counters().get(DropReason::NoSession), 1);
}
