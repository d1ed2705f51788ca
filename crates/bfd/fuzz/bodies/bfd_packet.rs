//! BFD Control packets as the UDP edge hands them over, through the wire
//! checks, the engine's session lookup / TTL / A-bit checks and a session's
//! state machine, in virtual time. Must never panic; every datagram is
//! either counted as received or dropped for exactly one reason.
//!
//! Input: one selector byte, then records `[len][len bytes][dt]`:
//! selector bit 0 = IPv6 neighbor, bit 1 = write the session's own
//! discriminator into Your Discriminator (so the fuzzer reaches the state
//! machine), bits 2-3 = received TTL (255, 254, 0, 1), bit 4 = passive,
//! bit 5 = max_hops -1, bit 6 = truncated by the kernel. `dt` advances
//! time by dt x 10 ms and runs the timers.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use rkeepalived_bfd::engine::harness::Harness;
use rkeepalived_bfd::socket::Received;
use rkeepalived_bfd::wire::ControlPacket;
use rkeepalived_bfd::SessionConfig;

pub fn run(data: &[u8]) {
    // The wire codec alone: what decodes without auth re-encodes to itself.
    if let Ok(p) = ControlPacket::decode(data) {
        if !p.auth && data.len() == 24 {
            assert_eq!(&p.encode()[..], data);
        }
    }

    let Some((&sel, mut rest)) = data.split_first() else {
        return;
    };
    let v6 = sel & 1 != 0;
    let (nbr, local): (IpAddr, IpAddr) = if v6 {
        (
            "2001:db8::2".parse().unwrap(),
            "2001:db8::1".parse().unwrap(),
        )
    } else {
        ("192.0.2.2".parse().unwrap(), "192.0.2.1".parse().unwrap())
    };
    let mut cfg = SessionConfig::new("fuzz", nbr);
    cfg.min_rx_us = 100_000;
    cfg.min_tx_us = 100_000;
    cfg.multiplier = 3;
    cfg.passive = sel & 0x10 != 0;
    if sel & 0x20 != 0 {
        cfg.max_hops = 255;
    }
    let ttl = [255u8, 254, 0, 1][usize::from((sel >> 2) & 3)];
    let mut now = Instant::now();
    let mut h = Harness::new(vec![cfg], now);
    let mut packets = 0u64;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len % 41).min(tail.len());
        let (pkt, tail) = tail.split_at(len);
        let mut pkt = pkt.to_vec();
        if sel & 2 != 0 && pkt.len() >= 12 {
            let discr = h.sessions()[0].local_discr;
            pkt[8..12].copy_from_slice(&discr.to_be_bytes());
        }
        let r = Received {
            src: SocketAddr::new(nbr, 49152),
            dst: Some(local),
            ttl,
            ifindex: 0,
            truncated: sel & 0x40 != 0,
            len: pkt.len(),
        };
        h.datagram(&r, &pkt, now);
        packets += 1;
        let (dt, tail) = tail.split_first().map_or((0, &[][..]), |(d, t)| (*d, t));
        now += Duration::from_millis(u64::from(dt) * 10);
        h.timers(now);
        rest = tail;
    }
    let c = h.counters();
    let drops: u64 = c.snapshot().iter().map(|d| d.1).sum();
    assert_eq!(c.received() + drops, packets);
    while h.events.try_recv().is_ok() {}
}
