//! Root-free tests of the core's inputs from configuration text, with
//! virtual time: received adverts (demultiplexing, own-advert filter,
//! receive policy), tracked objects (weights, reverse, fault), link events
//! (interface down/up, late interface) and in-place reload. The engine feeds
//! the very same `Router::handle`.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use rkeepalived_config::model::Config;
use rkeepalived_config::{parse_str, LoadOptions};
use rkeepalived_vrrp::demux::Endpoint;
use rkeepalived_vrrp::fsm::{Action, Instance, State};
use rkeepalived_vrrp::instance;
use rkeepalived_vrrp::router::{Effect, Input, Router};
use rkeepalived_vrrp::wire::{ChecksumVariant, DropReason, Family, Received};

fn load(text: &str) -> Config {
    parse_str(
        text,
        "test.conf",
        &LoadOptions {
            config_id: Some("t".into()),
        },
    )
    .expect("config parses")
    .config
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

/// Our advert source address in every test.
const SRC: &str = "192.0.2.1";

/// A router with every instance of `text` added (source address [`SRC`]),
/// its sync groups set, not started.
fn router(text: &str) -> (Router, Config) {
    let cfg = load(text);
    let mut r = Router::new();
    for inst in &cfg.vrrp_instances {
        let mut p = instance::fsm_params(inst, &cfg.global_defs, ip(SRC));
        p.sync_group_member = cfg
            .vrrp_sync_groups
            .iter()
            .any(|g| g.group.contains(&inst.name));
        let idx = r.add(inst.name.clone(), Instance::new(p));
        r.set_endpoint(
            idx,
            Endpoint::new(inst, &cfg.global_defs, Some(ip(SRC)), None),
        );
    }
    r.set_groups(
        cfg.vrrp_sync_groups
            .iter()
            .map(|g| (g.name.clone(), g.group.clone())),
        |_| false,
    );
    (r, cfg)
}

fn start_all(r: &mut Router, cfg: &Config, t0: Instant) -> Vec<Effect> {
    let mut out = Vec::new();
    for (i, inst) in cfg.vrrp_instances.iter().enumerate() {
        out.extend(r.handle(
            Input::Start {
                instance: i,
                priority: inst.priority,
                fault: false,
            },
            t0,
        ));
    }
    out
}

/// Fire timers until `until` (virtual time), collecting the effects.
fn run(r: &mut Router, until: Instant) -> Vec<Effect> {
    let mut out = Vec::new();
    while let Some(d) = r.next_deadline().filter(|d| *d <= until) {
        out.extend(r.handle(Input::Timer, d));
    }
    out
}

fn vi(name: &str, iface: &str, vrid: u8, priority: u8, extra: &str) -> String {
    format!(
        "vrrp_instance {name} {{\n    interface {iface}\n    virtual_router_id {vrid}\n    priority {priority}\n    advert_int 1\n    virtual_ipaddress {{\n        192.0.2.{vrid}0/32\n    }}\n{extra}\n}}\n"
    )
}

fn advert_from(cfg: &Config, idx: usize, src: &str, priority: u8) -> Box<Received> {
    Box::new(Received {
        adv: instance::advertisement(&cfg.vrrp_instances[idx], priority),
        family: Family::Ipv4,
        src: ip(src),
        dst: ip("224.0.0.18"),
        ttl: Some(255),
        checksum: ChecksumVariant::Standard,
        ipv4_ident: None,
        ipv4_tos: None,
        ah: None,
    })
}

fn datagram(ifname: &str, rx: Box<Received>) -> Input {
    Input::Datagram {
        ifname: ifname.into(),
        family: Family::Ipv4,
        rx,
    }
}

fn accepted(effects: &[Effect]) -> Vec<usize> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Accepted { instance, .. } => Some(*instance),
            _ => None,
        })
        .collect()
}

/// keepalived `vrrp_index_lookup()`: an advert goes to the instance with its
/// VRID on the interface and family it came in on, and to no other.
#[test]
fn datagram_goes_to_the_instance_of_its_vrid_interface_and_family() {
    let text = [
        vi("A", "eth0", 1, 100, ""),
        vi("B", "eth0", 2, 100, ""),
        vi("C", "eth1", 1, 100, ""),
    ]
    .concat();
    let (mut r, cfg) = router(&text);
    let t0 = Instant::now();
    start_all(&mut r, &cfg, t0);
    let fx = r.handle(datagram("eth0", advert_from(&cfg, 0, "192.0.2.7", 200)), t0);
    assert_eq!(accepted(&fx), vec![0]);
    let fx = r.handle(datagram("eth1", advert_from(&cfg, 2, "192.0.2.7", 200)), t0);
    assert_eq!(accepted(&fx), vec![2]);
    // VRID 9 on eth0: nobody's.
    let mut rx = advert_from(&cfg, 0, "192.0.2.7", 200);
    rx.adv.vrid = 9;
    assert_eq!(
        r.handle(datagram("eth0", rx), t0),
        vec![Effect::Unmatched {
            reason: DropReason::VridMismatch
        }]
    );
    // The right VRID on an interface without such an instance.
    let rx = advert_from(&cfg, 1, "192.0.2.7", 200);
    assert_eq!(
        r.handle(datagram("eth1", rx), t0),
        vec![Effect::Unmatched {
            reason: DropReason::VridMismatch
        }]
    );
    // IPv6 socket, IPv4 instance.
    let rx = advert_from(&cfg, 0, "192.0.2.7", 200);
    let fx = r.handle(
        Input::Datagram {
            ifname: "eth0".into(),
            family: Family::Ipv6,
            rx,
        },
        t0,
    );
    assert!(accepted(&fx).is_empty());
}

/// Our own advert looped back (vmac, second socket) is ignored silently:
/// no drop counted, no event (keepalived compares with the saddr).
#[test]
fn own_adverts_are_filtered() {
    let (mut r, cfg) = router(&vi("A", "eth0", 1, 100, ""));
    let t0 = Instant::now();
    start_all(&mut r, &cfg, t0);
    let fx = r.handle(datagram("eth0", advert_from(&cfg, 0, SRC, 100)), t0);
    assert!(fx.is_empty(), "{fx:?}");
}

/// A Backup hearing a higher priority Master stays Backup: its Master_Down
/// timer restarts. Without adverts it goes Master; a higher priority advert
/// then sends it back to Backup.
#[test]
fn accepted_adverts_drive_the_state_machine() {
    let (mut r, cfg) = router(&vi("A", "eth0", 1, 100, ""));
    let t0 = Instant::now();
    start_all(&mut r, &cfg, t0);
    let mut t = t0;
    for _ in 0..10 {
        t += Duration::from_secs(1);
        run(&mut r, t);
        r.handle(datagram("eth0", advert_from(&cfg, 0, "192.0.2.7", 200)), t);
    }
    assert_eq!(r.fsm(0).state(), State::Backup);
    run(&mut r, t + Duration::from_secs(5));
    assert_eq!(r.fsm(0).state(), State::Master);
    let t = t + Duration::from_secs(5);
    let fx = r.handle(datagram("eth0", advert_from(&cfg, 0, "192.0.2.7", 200)), t);
    assert_eq!(r.fsm(0).state(), State::Backup);
    assert!(fx.contains(&Effect::Action {
        instance: 0,
        action: Action::RemoveVips
    }));
    // A priority-0 advert is counted as such.
    let fx = r.handle(datagram("eth0", advert_from(&cfg, 0, "192.0.2.7", 0)), t);
    assert!(fx.contains(&Effect::Accepted {
        instance: 0,
        priority_zero: true
    }));
}

/// The receive policy (keepalived `vrrp_check_packet()`): a wrong advert
/// interval and a unicast peer's TTL bounds drop the advert for that
/// instance, which counts it.
#[test]
fn receive_policy_drops_are_reported_per_instance() {
    let text = vi(
        "A",
        "eth0",
        1,
        100,
        "    version 2\n    unicast_src_ip 192.0.2.1\n    unicast_peer {\n        192.0.2.2 min_ttl 250\n    }",
    );
    let (mut r, cfg) = router(&text);
    let t0 = Instant::now();
    start_all(&mut r, &cfg, t0);
    let mut rx = advert_from(&cfg, 0, "192.0.2.2", 200);
    rx.dst = ip(SRC);
    rx.ttl = Some(64);
    let fx = r.handle(datagram("eth0", rx.clone()), t0);
    assert_eq!(
        fx,
        vec![Effect::Dropped {
            instance: 0,
            from: ip("192.0.2.2"),
            reason: DropReason::BadTtl
        }]
    );
    rx.ttl = Some(255);
    let fx = r.handle(datagram("eth0", rx.clone()), t0);
    assert_eq!(accepted(&fx), vec![0]);
    rx.adv.adver_int = rkeepalived_vrrp::wire::AdverInt::Seconds(3);
    let fx = r.handle(datagram("eth0", rx), t0);
    assert!(matches!(
        fx.as_slice(),
        [Effect::Dropped {
            reason: DropReason::AdverIntMismatch,
            ..
        }]
    ));
}
