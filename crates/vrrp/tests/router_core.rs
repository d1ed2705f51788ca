//! Root-free tests of the multi-instance core ([`Router`]) with virtual time:
//! sync groups, tracking, startup held in FAULT (missing sockets / source
//! address, as the interface lifecycle reports it) and in-place reload. The
//! daemon's engine drives the very same `Router::handle`.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use rkeepalived_vrrp::fsm::{Action, Event, Instance, InstanceParams, Reason, State};
use rkeepalived_vrrp::packet::{AdverInt, Advertisement, Auth, Version};
use rkeepalived_vrrp::router::{Effect, Input, Router};

fn params(vrid: u8, priority: u8, sync_member: bool) -> InstanceParams {
    let mut p = InstanceParams::new(Version::V3, vrid, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    p.priority = priority;
    p.sync_group_member = sync_member;
    p
}

/// A router with instances `a` (vrid 1) and `b` (vrid 2), optionally in one
/// sync group "G", both started (priority 100, no fault) at `t0`.
fn pair(grouped: bool) -> (Router, Instant) {
    let mut r = Router::new();
    r.add("a", Instance::new(params(1, 100, grouped)));
    r.add("b", Instance::new(params(2, 100, grouped)));
    if grouped {
        r.set_groups([("G".to_string(), vec!["a".into(), "b".into()])], |_| false);
    }
    let t0 = Instant::now();
    for i in 0..2 {
        r.handle(
            Input::Start {
                instance: i,
                priority: 100,
                fault: false,
            },
            t0,
        );
    }
    (r, t0)
}

fn transitions(effects: &[Effect], instance: usize) -> Vec<(State, State, Reason)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Action {
                instance: i,
                action: Action::StateChanged { from, to, reason },
            } if *i == instance => Some((*from, *to, *reason)),
            _ => None,
        })
        .collect()
}

fn group_states(effects: &[Effect]) -> Vec<State> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::GroupState { state, .. } => Some(*state),
            _ => None,
        })
        .collect()
}

/// Fire timers until `until` (virtual time), collecting the effects.
fn run(r: &mut Router, until: Instant) -> Vec<Effect> {
    let mut out = Vec::new();
    while let Some(d) = r.next_deadline().filter(|d| *d <= until) {
        out.extend(r.handle(Input::Timer, d));
    }
    out
}

fn advert(vrid: u8, priority: u8) -> Event {
    Event::AdvertReceived {
        from: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 200)),
        adv: Advertisement {
            version: Version::V3,
            vrid,
            priority,
            adver_int: AdverInt::Centiseconds(100),
            addrs: vec![],
            auth: Auth::None,
        },
    }
}

#[test]
fn sync_group_goes_master_together_and_reports_group_state() {
    let (mut r, t0) = pair(true);
    let effects = run(&mut r, t0 + Duration::from_secs(5));
    assert_eq!(r.fsm(0).state(), State::Master);
    assert_eq!(r.fsm(1).state(), State::Master);
    // Both timers fire at the same instant: one goes Master on its own
    // consensus, the other follows; the group reports BACKUP then MASTER.
    assert!(group_states(&effects).ends_with(&[State::Master]));
    assert_eq!(r.group_state(0), Some(State::Master));
    // The AH hook comes before the first advert as Master.
    let first_master = effects
        .iter()
        .position(|e| *e == Effect::EnteringMaster { instance: 0 })
        .expect("entering master");
    let first_advert = effects
        .iter()
        .position(|e| {
            matches!(
                e,
                Effect::Action {
                    instance: 0,
                    action: Action::SendAdvert { .. }
                }
            )
        })
        .expect("advert");
    assert!(first_master < first_advert);
}

#[test]
fn tracking_fault_of_one_member_holds_the_group_in_fault_and_releases_it() {
    let (mut r, t0) = pair(true);
    run(&mut r, t0 + Duration::from_secs(5));
    let t1 = t0 + Duration::from_secs(5);
    let effects = r.handle(
        Input::Track {
            instance: 0,
            priority: None,
            fault: Some(true),
        },
        t1,
    );
    // The peer is pushed to FAULT first (sync_group.rs contract), then a.
    let b = transitions(&effects, 1);
    let a = transitions(&effects, 0);
    assert_eq!(b, vec![(State::Master, State::Fault, Reason::SyncGroup)]);
    assert_eq!(a, vec![(State::Master, State::Fault, Reason::Fault)]);
    assert!(effects.contains(&Effect::Action {
        instance: 1,
        action: Action::RemoveVips
    }));
    assert_eq!(group_states(&effects), vec![State::Fault]);
    // Recovery: both leave FAULT for BACKUP, then go Master together.
    let t2 = t1 + Duration::from_secs(1);
    let effects = r.handle(
        Input::Track {
            instance: 0,
            priority: None,
            fault: Some(false),
        },
        t2,
    );
    assert_eq!(r.fsm(0).state(), State::Backup);
    assert_eq!(r.fsm(1).state(), State::Backup);
    assert_eq!(group_states(&effects), vec![State::Backup]);
    run(&mut r, t2 + Duration::from_secs(5));
    assert_eq!(r.fsm(0).state(), State::Master);
    assert_eq!(r.fsm(1).state(), State::Master);
}

#[test]
fn instance_started_in_fault_holds_its_group() {
    // A missing socket or source address (interface lifecycle) starts the
    // instance in FAULT; its group peer is held too, and joining a group
    // that is in FAULT starts in FAULT.
    let mut r = Router::new();
    r.add("a", Instance::new(params(1, 100, true)));
    r.add("b", Instance::new(params(2, 100, true)));
    r.set_groups([("G".to_string(), vec!["a".into(), "b".into()])], |_| false);
    let t0 = Instant::now();
    r.handle(
        Input::Start {
            instance: 0,
            priority: 100,
            fault: true,
        },
        t0,
    );
    assert_eq!(r.fsm(0).state(), State::Fault);
    r.handle(
        Input::Start {
            instance: 1,
            priority: 100,
            fault: false,
        },
        t0,
    );
    assert_eq!(r.fsm(1).state(), State::Fault);
    run(&mut r, t0 + Duration::from_secs(10));
    assert_eq!(r.fsm(1).state(), State::Fault, "never Master while held");
    // The socket comes back: both recover.
    r.handle(
        Input::Track {
            instance: 0,
            priority: None,
            fault: Some(false),
        },
        t0 + Duration::from_secs(10),
    );
    run(&mut r, t0 + Duration::from_secs(15));
    assert_eq!(r.fsm(0).state(), State::Master);
    assert_eq!(r.fsm(1).state(), State::Master);
}

#[test]
fn tracked_priority_change_lets_a_better_peer_preempt() {
    let (mut r, t0) = pair(false);
    run(&mut r, t0 + Duration::from_secs(5));
    assert_eq!(r.fsm(0).state(), State::Master);
    let t1 = t0 + Duration::from_secs(5);
    r.handle(
        Input::Track {
            instance: 0,
            priority: Some(50),
            fault: None,
        },
        t1,
    );
    assert_eq!(r.fsm(0).effective_priority(), 50);
    // A peer at 100 now beats us.
    let effects = r.handle(
        Input::Events {
            instance: 0,
            events: vec![advert(1, 100)],
        },
        t1,
    );
    assert_eq!(
        transitions(&effects, 0),
        vec![(State::Master, State::Backup, Reason::HigherPriorityAdvert)]
    );
    // Ungrouped: b is not affected.
    assert_eq!(r.fsm(1).state(), State::Master);
    assert!(transitions(&effects, 1).is_empty());
}

#[test]
fn reload_in_place_keeps_master_and_advertises_the_new_priority() {
    let (mut r, t0) = pair(true);
    run(&mut r, t0 + Duration::from_secs(5));
    let t1 = t0 + Duration::from_secs(5);
    let mut p = r.fsm(0).params().clone();
    p.priority = 150;
    let effects = r.handle(
        Input::Reload {
            instance: 0,
            params: Box::new(p),
            priority: 150,
        },
        t1,
    );
    assert_eq!(r.fsm(0).state(), State::Master);
    assert_eq!(r.fsm(0).effective_priority(), 150);
    assert!(transitions(&effects, 0).is_empty());
    assert!(effects.contains(&Effect::Action {
        instance: 0,
        action: Action::SendAdvert { priority: 150 }
    }));
    // Removing an instance shifts the later ones; the group keeps working by name.
    r.handle(
        Input::Events {
            instance: 0,
            events: vec![Event::Shutdown],
        },
        t1,
    );
    assert!(r.remove(0).is_some());
    assert_eq!(r.len(), 1);
    assert_eq!(r.name(0), "b");
    assert_eq!(r.find("b"), Some(0));
}

#[test]
fn inputs_for_unknown_instances_are_ignored_and_timer_fires_only_due_ones() {
    let (mut r, t0) = pair(false);
    for input in [
        Input::Events {
            instance: 7,
            events: vec![Event::Startup],
        },
        Input::Track {
            instance: 7,
            priority: Some(1),
            fault: Some(true),
        },
        Input::Start {
            instance: 7,
            priority: 1,
            fault: true,
        },
    ] {
        assert!(r.handle(input, t0).is_empty());
    }
    // Nothing is due at startup: a timer input does nothing.
    assert!(r.handle(Input::Timer, t0).is_empty());
    let due = r.next_deadline().expect("backup timers run");
    let effects = r.handle(Input::Timer, due);
    assert!(!effects.is_empty());
    assert!(effects.iter().all(|e| match e {
        Effect::Action { instance, .. } | Effect::EnteringMaster { instance } =>
            r.fsm(*instance).state() == State::Master,
        _ => false,
    }));
}

/// Two members fault one after the other and recover in the same order:
/// the one recovering last had been sent GoFault by the other's fault and
/// must be released too (regression: it stayed in FAULT for good).
#[test]
fn overlapping_member_faults_release_every_member() {
    let (mut r, t0) = pair(true);
    run(&mut r, t0 + Duration::from_secs(5));
    let t = t0 + Duration::from_secs(5);
    let track = |instance, fault| Input::Track {
        instance,
        priority: None,
        fault: Some(fault),
    };
    r.handle(track(0, true), t);
    r.handle(track(1, true), t);
    assert_eq!(r.group_state(0), Some(State::Fault));
    r.handle(track(0, false), t);
    assert_eq!(r.fsm(0).state(), State::Fault, "1 still holds the group");
    r.handle(track(1, false), t);
    assert_eq!(r.fsm(0).state(), State::Backup);
    assert_eq!(r.fsm(1).state(), State::Backup);
    run(&mut r, t + Duration::from_secs(5));
    assert_eq!(r.group_state(0), Some(State::Master));
}
