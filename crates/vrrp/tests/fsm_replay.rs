//! Replay the real keepalived 2.2.7 capture (with its timestamps) into our codec and
//! state machine acting as a Backup peer: we must follow keepalived's master, learn
//! its v3 interval, and take over Skew_Time after its priority-0 advert.

#[path = "data/pcap.rs"]
mod pcap;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use rkeepalived_vrrp::fsm::{Event, Instance, InstanceParams, Reason, State};
use rkeepalived_vrrp::packet::{AdverInt, Auth, Family, RxPolicy, Version};

const GOLDEN: &[u8] = include_bytes!("data/keepalived-2.2.7-adverts.pcap");

struct Replay {
    inst: Instance,
    policy: RxPolicy,
    accepted: usize,
    /// (capture time, state after the event)
    became_master_at: Option<Duration>,
    last_reason: Option<Reason>,
}

fn replay(vrid: u8, version: Version, family: Family, auth: Auth, me: &str) -> (Replay, Duration) {
    let frames = pcap::read_timed_frames(GOLDEN).unwrap();
    let origin = Instant::now();
    let me: IpAddr = me.parse().unwrap();
    let mut p = InstanceParams::new(version, vrid, me);
    p.priority = 100;
    let mut inst = Instance::new(p);
    inst.handle(Event::Startup, origin);
    let mut r = Replay {
        policy: RxPolicy {
            version,
            family,
            vrid,
            auth,
            adver_int: inst.params().wire_adver_int(),
            vips: vec![],
            unicast_peers: vec![],
            check_unicast_src: false,
            accept_legacy_unicast_checksum: false,
        },
        inst,
        accepted: 0,
        became_master_at: None,
        last_reason: None,
    };
    let mut last_advert = Duration::ZERO;
    for (t, f) in &frames {
        let Ok(Some(rx)) = pcap::decode_and_reencode(f) else {
            continue;
        };
        if rx.adv.vrid != vrid || rx.family != family {
            continue;
        }
        // Fire timers that expire before this frame arrives.
        fire_until(&mut r, origin, *t);
        r.policy.vips = rx.adv.addrs.clone();
        r.policy.check(&rx, r.inst.wants_vip_check(rx.src)).unwrap();
        r.accepted += 1;
        last_advert = *t;
        r.inst.handle(
            Event::AdvertReceived {
                from: rx.src,
                adv: rx.adv,
            },
            origin + *t,
        );
        assert_eq!(
            r.inst.state(),
            State::Backup,
            "follows keepalived's master at {t:?}"
        );
    }
    fire_until(&mut r, origin, last_advert + Duration::from_secs(10));
    (r, last_advert)
}

fn fire_until(r: &mut Replay, origin: Instant, t: Duration) {
    while let Some(d) = r.inst.next_deadline() {
        if d > origin + t || r.became_master_at.is_some() {
            break;
        }
        for a in r.inst.handle(Event::Timer, d) {
            if let rkeepalived_vrrp::fsm::Action::StateChanged {
                to: State::Master,
                reason,
                ..
            } = a
            {
                r.became_master_at = Some(d - origin);
                r.last_reason = Some(reason);
            }
        }
    }
}

#[test]
fn v3_ipv4_backup_follows_keepalived_and_takes_over_after_priority_zero() {
    let (r, prio0_at) = replay(52, Version::V3, Family::Ipv4, Auth::None, "192.0.2.9");
    assert!(r.accepted >= 5);
    // Our configured interval is 100 cs, keepalived advertises every 50 cs: the
    // Skew_Time below, (156 * 500 ms) / 256 = 304.687 ms, proves the Backup
    // learned 50 cs (with ours it would be 609.375 ms).
    assert_eq!(
        r.inst.params().wire_adver_int(),
        AdverInt::Centiseconds(100)
    );
    assert_eq!(
        r.became_master_at,
        Some(prio0_at + Duration::from_micros(304_687))
    );
    assert_eq!(r.last_reason, Some(Reason::MasterStopped));
}

#[test]
fn v2_pass_backup_follows_keepalived_and_takes_over_after_priority_zero() {
    let (r, prio0_at) = replay(
        51,
        Version::V2,
        Family::Ipv4,
        Auth::password(b"rkpsecre"),
        "192.0.2.9",
    );
    assert!(r.accepted >= 3);
    // v2 Skew_Time = (256 - 100) / 256 s.
    assert_eq!(
        r.became_master_at,
        Some(prio0_at + Duration::from_micros(609_375))
    );
}

#[test]
fn v3_ipv6_backup_follows_keepalived_and_takes_over_after_priority_zero() {
    let (r, prio0_at) = replay(53, Version::V3, Family::Ipv6, Auth::None, "fe80::9");
    assert!(r.accepted >= 3);
    // v3 Skew_Time = (156 * 1 s) / 256 in µs (keepalived VRRP_TIMER_SKEW_CALC).
    assert_eq!(
        r.became_master_at,
        Some(prio0_at + Duration::from_micros(609_375))
    );
}
