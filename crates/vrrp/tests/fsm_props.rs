//! Invariants of the state machine under arbitrary event sequences.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use rkeepalived_vrrp::fsm::{Action, Event, Instance, InstanceParams, State, SyncCommand};
use rkeepalived_vrrp::packet::{AdverInt, Advertisement, Auth, Version};

#[derive(Debug, Clone)]
enum Step {
    Wait(u64),
    Advert { prio: u8, peer: u8, cs: u16 },
    Priority(u8),
    Fault(bool),
    Sync(u8),
    Startup,
    Shutdown,
    Timer,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u64..5000).prop_map(Step::Wait),
        (any::<u8>(), 0u8..4, 1u16..400).prop_map(|(prio, peer, cs)| Step::Advert {
            prio,
            peer,
            cs
        }),
        any::<u8>().prop_map(Step::Priority),
        any::<bool>().prop_map(Step::Fault),
        (0u8..4).prop_map(Step::Sync),
        Just(Step::Startup),
        Just(Step::Shutdown),
        Just(Step::Timer),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold(
        v3 in any::<bool>(),
        base in 1u8..=255,
        preempt in any::<bool>(),
        delay_ms in prop_oneof![Just(0u64), 1u64..5000],
        initial_master in any::<bool>(),
        sync_member in any::<bool>(),
        steps in proptest::collection::vec(step(), 0..80),
    ) {
        let version = if v3 { Version::V3 } else { Version::V2 };
        let me: IpAddr = "192.0.2.2".parse().unwrap();
        let mut p = InstanceParams::new(version, 5, me);
        p.priority = base;
        p.preempt = preempt;
        p.preempt_delay = Duration::from_millis(delay_ms);
        p.initial_master = initial_master;
        p.sync_group_member = sync_member;
        p.garp.master_refresh = Some(Duration::from_secs(2));
        let mut inst = Instance::new(p);
        let origin = Instant::now();
        let mut now = origin;
        let mut holds_vips = false;
        for s in steps {
            let ev = match s {
                Step::Wait(ms) => { now += Duration::from_millis(ms); Event::Timer }
                Step::Advert { prio, peer, cs } => Event::AdvertReceived {
                    from: IpAddr::V4(Ipv4Addr::new(192, 0, 2, peer)),
                    adv: Advertisement {
                        version,
                        vrid: 5,
                        priority: prio,
                        adver_int: if v3 { AdverInt::Centiseconds(cs) } else { AdverInt::Seconds(1) },
                        addrs: vec![],
                        auth: Auth::None,
                    },
                },
                Step::Priority(x) => Event::PriorityChanged(x),
                Step::Fault(f) => Event::Fault(f),
                Step::Sync(k) => Event::SyncGroup(match k {
                    0 => SyncCommand::GoMaster,
                    1 => SyncCommand::GoBackup,
                    2 => SyncCommand::GoFault,
                    _ => SyncCommand::ClearFault,
                }),
                Step::Startup => Event::Startup,
                Step::Shutdown => Event::Shutdown,
                Step::Timer => Event::Timer,
            };
            let before = inst.state();
            let mut state = before;
            for a in inst.handle(ev, now) {
                match a {
                    Action::AddVips => { prop_assert!(!holds_vips, "AddVips twice"); holds_vips = true; }
                    Action::RemoveVips => { prop_assert!(holds_vips, "RemoveVips without AddVips"); holds_vips = false; }
                    Action::StateChanged { from, to, .. } => {
                        prop_assert_eq!(from, state);
                        prop_assert_ne!(from, to);
                        state = to;
                    }
                    Action::SendAdvert { priority } => {
                        prop_assert!(priority == 0 || priority == inst.effective_priority());
                    }
                    _ => {}
                }
            }
            prop_assert_eq!(state, inst.state());
            prop_assert_eq!(holds_vips, inst.state() == State::Master);
            let timed = matches!(inst.state(), State::Backup | State::Master);
            prop_assert_eq!(inst.next_deadline().is_some(), timed);
            if let Some(d) = inst.next_deadline() {
                // Deadlines are never more than one down interval (< 4 * 40.95 s) ahead.
                prop_assert!(d <= now + Duration::from_secs(200));
            }
            if base == 255 {
                prop_assert!(inst.effective_priority() >= 254);
            } else {
                prop_assert!((1..=254).contains(&inst.effective_priority()));
            }
            if inst.wants_master() {
                prop_assert!(matches!(inst.state(), State::Backup | State::Master));
            }
            if !sync_member && inst.state() == State::Backup {
                prop_assert!(!inst.wants_master());
            }
            if inst.is_faulted() {
                prop_assert!(inst.state() != State::Master && inst.state() != State::Backup);
            }
        }
    }
}
