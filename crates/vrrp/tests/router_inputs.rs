//! Root-free tests of the core's inputs from configuration text, with
//! virtual time: received adverts (demultiplexing, own-advert filter,
//! receive policy), tracked objects (weights, reverse, fault), link events
//! (interface down/up, late interface) and in-place reload. The engine feeds
//! the very same `Router::handle`.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rkeepalived_config::model::Config;
use rkeepalived_config::{parse_str, LoadOptions};
use rkeepalived_vrrp::demux::Endpoint;
use rkeepalived_vrrp::fsm::{Action, Instance, State};
use rkeepalived_vrrp::instance;
use rkeepalived_vrrp::router::{Effect, Input, LinkEvent, Router, Tracked};
use rkeepalived_vrrp::track::ScriptStatus;
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
    r.set_config(Arc::new(cfg.clone()));
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

fn priority_changes(effects: &[Effect]) -> Vec<(usize, u8, u8)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::PriorityChanged {
                instance, from, to, ..
            } => Some((*instance, *from, *to)),
            _ => None,
        })
        .collect()
}

fn script(name: &str, status: ScriptStatus) -> Input {
    Input::Tracked(Tracked::Script {
        name: name.into(),
        status,
    })
}

fn scripts(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("vrrp_script {n} {{\n    script \"/bin/true\"\n}}\n"))
        .collect()
}

/// keepalived vrrp_track.c: a weighted script adds its weight when up
/// (weight > 0) or when down (weight < 0); `reverse` inverts the sign.
#[test]
fn tracked_script_weights_and_reverse_move_the_priority() {
    let text = scripts(&["down_minus", "up_plus_rev"])
        + &vi(
            "A",
            "eth0",
            1,
            100,
            "    track_script {\n        down_minus weight -20\n        up_plus_rev weight 10 reverse\n    }",
        );
    let (mut r, cfg) = router(&text);
    let t0 = Instant::now();
    start_all(&mut r, &cfg, t0);
    // No result yet: a weighted script changes nothing.
    assert!(priority_changes(&r.handle(Input::Retrack, t0)).is_empty());
    let fx = r.handle(script("down_minus", ScriptStatus::Down), t0);
    assert_eq!(priority_changes(&fx), vec![(0, 100, 80)]);
    assert_eq!(r.fsm(0).effective_priority(), 80);
    let fx = r.handle(script("up_plus_rev", ScriptStatus::Up), t0);
    assert_eq!(priority_changes(&fx), vec![(0, 80, 70)]);
    let fx = r.handle(script("down_minus", ScriptStatus::Up), t0);
    assert_eq!(priority_changes(&fx), vec![(0, 70, 90)]);
    // The same status again changes nothing.
    assert!(r
        .handle(script("down_minus", ScriptStatus::Up), t0)
        .is_empty());
    assert_eq!(r.tracked(0), Some((90, false)));
}

/// weight 0: down => FAULT (reverse: up => FAULT); an unweighted script
/// without a result holds the instance out of BACKUP/MASTER.
#[test]
fn unweighted_script_faults_and_releases_the_instance() {
    let text = scripts(&["chk", "rev"])
        + &vi(
            "A",
            "eth0",
            1,
            100,
            "    track_script {\n        chk\n    }",
        )
        + &vi(
            "B",
            "eth0",
            2,
            100,
            "    track_script {\n        rev weight 0 reverse\n    }",
        );
    let (mut r, cfg) = router(&text);
    let t0 = Instant::now();
    start_all(&mut r, &cfg, t0);
    r.handle(Input::Retrack, t0);
    assert_eq!(r.fsm(0).state(), State::Fault, "no result yet");
    r.handle(script("rev", ScriptStatus::Down), t0);
    r.handle(script("chk", ScriptStatus::Up), t0);
    assert_eq!(r.fsm(0).state(), State::Backup);
    run(&mut r, t0 + Duration::from_secs(5));
    assert_eq!(r.fsm(0).state(), State::Master);
    assert_eq!(r.fsm(1).state(), State::Master);
    let t = t0 + Duration::from_secs(5);
    let fx = r.handle(script("chk", ScriptStatus::Down), t);
    assert_eq!(r.fsm(0).state(), State::Fault);
    assert!(fx.contains(&Effect::Action {
        instance: 0,
        action: Action::RemoveVips
    }));
    let fx = r.handle(script("rev", ScriptStatus::Up), t);
    assert_eq!(r.fsm(1).state(), State::Fault);
    assert!(fx.contains(&Effect::Action {
        instance: 1,
        action: Action::RemoveVips
    }));
    r.handle(script("chk", ScriptStatus::Up), t);
    assert_eq!(r.fsm(0).state(), State::Backup);
}

/// keepalived `vrrp_set_effective_priority()`: clamped to 1..=254; the
/// address owner (255) never moves.
#[test]
fn tracked_priority_is_clamped_and_the_owner_never_moves() {
    let track = "    track_script {\n        chk weight 50\n        low weight -60\n    }";
    let text = scripts(&["chk", "low"])
        + &vi("HIGH", "eth0", 1, 250, track)
        + &vi("LOW", "eth0", 2, 10, track)
        + &vi("OWNER", "eth0", 3, 255, track);
    let (mut r, cfg) = router(&text);
    let t0 = Instant::now();
    start_all(&mut r, &cfg, t0);
    let fx = r.handle(script("chk", ScriptStatus::Up), t0);
    assert_eq!(priority_changes(&fx), vec![(0, 250, 254), (1, 10, 60)]);
    let fx = r.handle(script("chk", ScriptStatus::Down), t0);
    assert_eq!(priority_changes(&fx), vec![(0, 254, 250), (1, 60, 10)]);
    let fx = r.handle(script("low", ScriptStatus::Down), t0);
    assert_eq!(priority_changes(&fx), vec![(0, 250, 190), (1, 10, 1)]);
    assert_eq!(r.fsm(2).effective_priority(), 255);
    assert_eq!(r.tracked(2), Some((255, false)));
}

/// vrrp_track_file: value * weight (reverse negates); weight 0 faults on a
/// non-zero value; <= -254 faults.
#[test]
fn track_file_value_times_weight_and_fault() {
    let text = "vrrp_track_file f1 {\n    file \"/nonexistent/f1\"\n}\nvrrp_track_file f0 {\n    file \"/nonexistent/f0\"\n}\n".to_string()
        + &vi("A", "eth0", 1, 100, "    track_file {\n        f1 weight 2\n    }")
        + &vi("B", "eth0", 2, 100, "    track_file {\n        f0 weight 0\n    }");
    let (mut r, cfg) = router(&text);
    let t0 = Instant::now();
    start_all(&mut r, &cfg, t0);
    let file = |name: &str, value: i64| {
        Input::Tracked(Tracked::File {
            name: name.into(),
            value,
        })
    };
    let fx = r.handle(file("f1", 10), t0);
    assert_eq!(priority_changes(&fx), vec![(0, 100, 120)]);
    let fx = r.handle(file("f1", -20), t0);
    assert_eq!(priority_changes(&fx), vec![(0, 120, 60)]);
    r.handle(file("f1", -200), t0);
    assert_eq!(r.fsm(0).state(), State::Fault);
    r.handle(file("f0", 3), t0);
    assert_eq!(r.fsm(1).state(), State::Fault);
    r.handle(file("f0", 0), t0);
    assert_eq!(r.fsm(1).state(), State::Backup);
}

/// A sync group's tracked script faults every member (keepalived
/// vrrp_sync.c: the group goes FAULT with one member), and its recovery
/// releases every member.
#[test]
fn sync_group_tracking_faults_every_member() {
    let text = scripts(&["chk"])
        + &vi("A", "eth0", 1, 100, "")
        + &vi("B", "eth0", 2, 100, "")
        + "vrrp_sync_group G {\n    group {\n        A\n        B\n    }\n    track_script {\n        chk\n    }\n}\n";
    let (mut r, cfg) = router(&text);
    let t0 = Instant::now();
    start_all(&mut r, &cfg, t0);
    r.handle(script("chk", ScriptStatus::Up), t0);
    run(&mut r, t0 + Duration::from_secs(5));
    assert_eq!(r.fsm(0).state(), State::Master);
    assert_eq!(r.fsm(1).state(), State::Master);
    let t = t0 + Duration::from_secs(5);
    r.handle(script("chk", ScriptStatus::Down), t);
    assert_eq!(r.fsm(0).state(), State::Fault);
    assert_eq!(r.fsm(1).state(), State::Fault);
    assert_eq!(r.group_state(0), Some(State::Fault));
    // Both recover (regression: the member recovering last stayed held in
    // FAULT by the GoFault the other's fault had sent it).
    r.handle(script("chk", ScriptStatus::Up), t);
    assert_eq!(r.fsm(0).state(), State::Backup);
    assert_eq!(r.fsm(1).state(), State::Backup);
    run(&mut r, t + Duration::from_secs(5));
    assert_eq!(r.group_state(0), Some(State::Master));
}

fn link(ifname: &str, event: LinkEvent) -> Input {
    Input::Link {
        ifname: ifname.into(),
        event,
    }
}

/// keepalived vrrp_if / process_if_status_change(): the instance's own
/// interface going down faults it (VIPs removed); back up, it returns
/// through BACKUP to MASTER. A tracked interface with a weight moves the
/// priority instead.
#[test]
fn interface_down_faults_and_up_returns_through_backup_to_master() {
    let text = vi(
        "A",
        "eth0",
        1,
        100,
        "    track_interface {\n        eth1 weight -30\n    }",
    );
    let (mut r, cfg) = router(&text);
    // What the I/O shell reads at startup.
    r.track_mut().interfaces.insert("eth0".into(), true);
    r.track_mut().interfaces.insert("eth1".into(), true);
    let t0 = Instant::now();
    start_all(&mut r, &cfg, t0);
    run(&mut r, t0 + Duration::from_secs(5));
    assert_eq!(r.fsm(0).state(), State::Master);
    let t = t0 + Duration::from_secs(5);
    let fx = r.handle(link("eth1", LinkEvent::Down), t);
    assert_eq!(priority_changes(&fx), vec![(0, 100, 70)]);
    assert_eq!(r.fsm(0).state(), State::Master);
    let fx = r.handle(link("eth0", LinkEvent::Down), t);
    assert_eq!(r.fsm(0).state(), State::Fault);
    assert!(fx.contains(&Effect::Action {
        instance: 0,
        action: Action::RemoveVips
    }));
    // An untracked interface changes nothing.
    assert!(r.handle(link("eth9", LinkEvent::Down), t).is_empty());
    r.handle(link("eth0", LinkEvent::Up), t);
    assert_eq!(r.fsm(0).state(), State::Backup);
    let fx = run(&mut r, t + Duration::from_secs(5));
    assert_eq!(r.fsm(0).state(), State::Master);
    assert!(fx.contains(&Effect::Action {
        instance: 0,
        action: Action::AddVips
    }));
}

/// An interface that is deleted takes the instance's sockets: FAULT until
/// it is back and the I/O shell has reopened them. An instance whose
/// interface does not exist at startup is held in FAULT and starts once
/// it appears (keepalived `dynamic_interfaces`).
#[test]
fn deleted_and_late_interfaces() {
    let text = vi("A", "eth0", 1, 100, "") + &vi("LATE", "late0", 2, 100, "");
    let (mut r, _cfg) = router(&text);
    r.track_mut().interfaces.insert("eth0".into(), true);
    r.track_mut().interfaces.insert("late0".into(), false);
    let t0 = Instant::now();
    // late0 does not exist: no sockets, held in FAULT.
    r.set_ready(1, false);
    r.handle(
        Input::Start {
            instance: 0,
            priority: 100,
            fault: false,
        },
        t0,
    );
    r.handle(
        Input::Start {
            instance: 1,
            priority: 100,
            fault: true,
        },
        t0,
    );
    run(&mut r, t0 + Duration::from_secs(5));
    assert_eq!(r.fsm(0).state(), State::Master);
    assert_eq!(r.fsm(1).state(), State::Fault);
    let t = t0 + Duration::from_secs(5);
    // It appears, up; the shell opens its sockets and re-evaluates.
    r.handle(link("late0", LinkEvent::Up), t);
    assert_eq!(r.fsm(1).state(), State::Fault, "no sockets yet");
    r.set_ready(1, true);
    r.handle(Input::Retrack, t);
    assert_eq!(r.fsm(1).state(), State::Backup);
    run(&mut r, t + Duration::from_secs(5));
    assert_eq!(r.fsm(1).state(), State::Master);
    let t = t + Duration::from_secs(5);
    // eth0 is deleted: A loses its sockets.
    let fx = r.handle(link("eth0", LinkEvent::Gone), t);
    assert_eq!(r.fsm(0).state(), State::Fault);
    assert_eq!(r.fsm(1).state(), State::Master);
    assert!(fx.contains(&Effect::Action {
        instance: 0,
        action: Action::RemoveVips
    }));
    // Re-created: up, sockets reopened.
    r.handle(link("eth0", LinkEvent::Up), t);
    r.set_ready(0, true);
    r.handle(Input::Retrack, t);
    assert_eq!(r.fsm(0).state(), State::Backup);
    run(&mut r, t + Duration::from_secs(5));
    assert_eq!(r.fsm(0).state(), State::Master);
}

/// No advert source address yet (IPv6 link-local not configured): held in
/// FAULT; once one appears the instance is rebuilt with it and starts.
#[test]
fn source_address_found_later_starts_the_instance() {
    let (mut r, cfg) = router(&vi("A", "eth0", 1, 100, ""));
    let inst = &cfg.vrrp_instances[0];
    r.set_endpoint(0, Endpoint::new(inst, &cfg.global_defs, None, None));
    let t0 = Instant::now();
    r.handle(
        Input::Start {
            instance: 0,
            priority: 100,
            fault: true,
        },
        t0,
    );
    r.handle(Input::Retrack, t0);
    run(&mut r, t0 + Duration::from_secs(5));
    assert_eq!(r.fsm(0).state(), State::Fault);
    let t = t0 + Duration::from_secs(5);
    let params = instance::fsm_params(inst, &cfg.global_defs, ip("192.0.2.9"));
    r.handle(
        Input::Sources {
            found: vec![(0, ip("192.0.2.9"), Box::new(params))],
        },
        t,
    );
    assert_eq!(r.endpoint(0).and_then(|e| e.src), Some(ip("192.0.2.9")));
    assert_eq!(r.fsm(0).state(), State::Backup);
    run(&mut r, t + Duration::from_secs(5));
    assert_eq!(r.fsm(0).state(), State::Master);
}

/// In-place reload of a MASTER whose priority changes (up or down) keeps
/// it MASTER with its VIPs: no RemoveVips, the new priority advertised at
/// once (regression: "VIP dropped on a priority reload").
#[test]
fn priority_reload_keeps_the_vip_on_a_master() {
    let (mut r, cfg) = router(&vi("A", "eth0", 1, 100, ""));
    let t0 = Instant::now();
    start_all(&mut r, &cfg, t0);
    run(&mut r, t0 + Duration::from_secs(5));
    assert_eq!(r.fsm(0).state(), State::Master);
    let mut t = t0 + Duration::from_secs(5);
    for prio in [150u8, 50, 254] {
        let text = vi("A", "eth0", 1, prio, "");
        let new = load(&text);
        r.set_config(Arc::new(new.clone()));
        let params = instance::fsm_params(&new.vrrp_instances[0], &new.global_defs, ip(SRC));
        let fx = r.handle(
            Input::Reload {
                instance: 0,
                params: Box::new(params),
                priority: prio,
            },
            t,
        );
        assert_eq!(r.fsm(0).state(), State::Master, "priority {prio}");
        assert!(
            !fx.iter().any(|e| matches!(
                e,
                Effect::Action {
                    action: Action::RemoveVips | Action::StateChanged { .. },
                    ..
                }
            )),
            "priority {prio}: {fx:?}"
        );
        assert!(
            fx.contains(&Effect::Action {
                instance: 0,
                action: Action::SendAdvert { priority: prio }
            }),
            "priority {prio}: {fx:?}"
        );
        assert_eq!(r.tracked(0), Some((prio, false)));
        // Tracking after the reload agrees: nothing to change.
        assert!(priority_changes(&r.handle(Input::Retrack, t)).is_empty());
        t += Duration::from_secs(10);
        run(&mut r, t);
        assert_eq!(r.fsm(0).state(), State::Master);
    }
}

fn bfd(name: &str, up: bool) -> Input {
    Input::Tracked(Tracked::Bfd {
        name: name.into(),
        up,
    })
}

/// track_bfd (keepalived vrrp_track.c `initialise_track_bfd_state()`,
/// vrrp_scheduler.c `vrrp_handle_bfd_event()`): a session starts down;
/// weight 0 faults while down (the sync group's entry faults the whole
/// group), a weight counts while up (> 0) or down (< 0), `reverse` negates
/// it; an event that does not change the state changes nothing.
#[test]
fn track_bfd_faults_and_weights_like_keepalived() {
    let sessions = "bfd_instance plain {\n    neighbor_ip 192.0.2.201\n}\nbfd_instance plus {\n    neighbor_ip 192.0.2.202\n}\nbfd_instance minus_rev {\n    neighbor_ip 192.0.2.203\n}\nbfd_instance grp {\n    neighbor_ip 192.0.2.204\n}\n";
    let text = sessions.to_string()
        + &vi("A", "eth0", 1, 100, "    track_bfd {\n        plain\n    }")
        + &vi(
            "B",
            "eth0",
            2,
            100,
            "    track_bfd {\n        plus weight 20\n        minus_rev weight -10 reverse\n    }",
        )
        + &vi("C", "eth0", 3, 100, "")
        + &vi("D", "eth0", 4, 100, "")
        + "vrrp_sync_group G {\n    group {\n        C\n        D\n    }\n    track_bfd {\n        grp\n    }\n}\n";
    let (mut r, cfg) = router(&text);
    let t0 = Instant::now();
    start_all(&mut r, &cfg, t0);
    r.handle(Input::Retrack, t0);
    // All down at start: A and the group in FAULT; B: -10 reverse while
    // down is +10.
    assert_eq!(r.fsm(0).state(), State::Fault);
    assert_eq!(r.fsm(2).state(), State::Fault);
    assert_eq!(r.fsm(3).state(), State::Fault);
    assert_eq!(r.tracked(1), Some((110, false)));
    r.handle(bfd("plain", true), t0);
    assert_eq!(r.fsm(0).state(), State::Backup);
    let fx = r.handle(bfd("plus", true), t0);
    assert_eq!(priority_changes(&fx), vec![(1, 110, 130)]);
    let fx = r.handle(bfd("minus_rev", true), t0);
    assert_eq!(priority_changes(&fx), vec![(1, 130, 120)]);
    assert!(r.handle(bfd("minus_rev", true), t0).is_empty());
    r.handle(bfd("grp", true), t0);
    assert_eq!(r.fsm(2).state(), State::Backup);
    assert_eq!(r.fsm(3).state(), State::Backup);
    run(&mut r, t0 + Duration::from_secs(5));
    let t = t0 + Duration::from_secs(5);
    assert_eq!(r.fsm(0).state(), State::Master);
    let fx = r.handle(bfd("plain", false), t);
    assert_eq!(r.fsm(0).state(), State::Fault);
    assert!(fx.contains(&Effect::Action {
        instance: 0,
        action: Action::RemoveVips
    }));
    r.handle(bfd("grp", false), t);
    assert_eq!(r.group_state(0), Some(State::Fault));
    let fx = r.handle(bfd("plus", false), t);
    assert_eq!(priority_changes(&fx), vec![(1, 120, 100)]);
}
