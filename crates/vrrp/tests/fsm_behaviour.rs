//! Single-instance behaviour of the state machine: exact action sequences.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use rkeepalived_vrrp::fsm::{
    Action, Event, Instance, InstanceParams, Notify, Reason, State, Timers, PRIORITY_OWNER,
};
use rkeepalived_vrrp::packet::{AdverInt, Advertisement, Auth, Version};

fn addr(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn adv(prio: u8) -> Advertisement {
    Advertisement {
        version: Version::V3,
        vrid: 1,
        priority: prio,
        adver_int: AdverInt::Centiseconds(100),
        addrs: vec![],
        auth: Auth::None,
    }
}

fn params(prio: u8) -> InstanceParams {
    let mut p = InstanceParams::new(Version::V3, 1, addr("192.0.2.5"));
    p.priority = prio;
    p
}

/// An instance that is Master at `origin + 3.21875 s` (prio 200).
fn master(p: InstanceParams, origin: Instant) -> (Instance, Instant) {
    let mut i = Instance::new(p);
    i.handle(Event::Startup, origin);
    let t = i.next_deadline().unwrap();
    i.handle(Event::Timer, t);
    assert_eq!(i.state(), State::Master);
    (i, t)
}

#[test]
fn becoming_master_adds_vips_then_adverts_then_garps() {
    let origin = Instant::now();
    let mut i = Instance::new(params(200));
    let acts = i.handle(Event::Startup, origin);
    assert_eq!(
        acts,
        vec![
            Action::StateChanged {
                from: State::Initialize,
                to: State::Backup,
                reason: Reason::Startup
            },
            Action::Notify(Notify::Backup)
        ]
    );
    let t = i.next_deadline().unwrap();
    assert_eq!(t, origin + Duration::from_micros(3_218_750));
    let acts = i.handle(Event::Timer, t);
    assert_eq!(
        acts,
        vec![
            // VIPs first: the failover is done when they are installed; the
            // advert still precedes the GARPs (old master drops the VIPs first).
            Action::AddVips,
            Action::SendAdvert { priority: 200 },
            Action::SendGratuitous { repeat: 5 },
            Action::StateChanged {
                from: State::Backup,
                to: State::Master,
                reason: Reason::MasterDown
            },
            Action::Notify(Notify::Master),
        ]
    );
    // Adverts every second, the delayed GARP burst after garp_master_delay (5 s).
    let mut adverts = 0;
    let mut garps = 0;
    let mut now = t;
    while now < t + Duration::from_millis(5500) {
        now = i.next_deadline().unwrap();
        for a in i.handle(Event::Timer, now) {
            match a {
                Action::SendAdvert { priority: 200 } => adverts += 1,
                Action::SendGratuitous { repeat: 5 } => garps += 1,
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    assert_eq!((adverts, garps), (6, 1));
}

#[test]
fn master_hearing_lower_priority_reasserts_and_refreshes_arp() {
    let origin = Instant::now();
    let (mut i, t) = master(params(200), origin);
    let acts = i.handle(
        Event::AdvertReceived {
            from: addr("192.0.2.9"),
            adv: adv(100),
        },
        t,
    );
    assert_eq!(
        acts,
        vec![
            Action::SendAdvert { priority: 200 },
            Action::SendGratuitous { repeat: 5 },
            Action::Notify(Notify::MasterRxLowerPri),
        ]
    );
    assert_eq!(i.state(), State::Master);
    // Equal priority but lower address: same treatment.
    let acts = i.handle(
        Event::AdvertReceived {
            from: addr("192.0.2.1"),
            adv: adv(200),
        },
        t,
    );
    assert_eq!(acts[0], Action::SendAdvert { priority: 200 });
}

#[test]
fn lower_prio_no_advert_and_higher_prio_send_advert() {
    let origin = Instant::now();
    let mut p = params(200);
    p.lower_prio_no_advert = true;
    p.higher_prio_send_advert = true;
    p.garp.lower_prio_repeat = 0;
    let (mut i, t) = master(p, origin);
    let acts = i.handle(
        Event::AdvertReceived {
            from: addr("192.0.2.9"),
            adv: adv(100),
        },
        t,
    );
    assert_eq!(acts, vec![Action::Notify(Notify::MasterRxLowerPri)]);
    let acts = i.handle(
        Event::AdvertReceived {
            from: addr("192.0.2.9"),
            adv: adv(250),
        },
        t,
    );
    assert_eq!(
        acts,
        vec![
            Action::SendAdvert { priority: 200 },
            Action::RemoveVips,
            Action::StateChanged {
                from: State::Master,
                to: State::Backup,
                reason: Reason::HigherPriorityAdvert
            },
            Action::Notify(Notify::Backup),
        ]
    );
    assert_eq!(i.master_addr(), Some(addr("192.0.2.9")));
    assert_eq!(i.master_priority(), Some(250));
}

#[test]
fn address_owner_with_state_master_starts_as_master() {
    let origin = Instant::now();
    let mut p = params(PRIORITY_OWNER);
    p.initial_master = true;
    let mut i = Instance::new(p);
    let acts = i.handle(Event::Startup, origin);
    assert_eq!(
        acts[..2],
        [Action::AddVips, Action::SendAdvert { priority: 255 }]
    );
    assert_eq!(i.state(), State::Master);
    // Tracking never moves the owner's priority.
    i.handle(Event::PriorityChanged(10), origin);
    assert_eq!(i.effective_priority(), 255);
}

#[test]
fn address_owner_without_state_master_waits_like_keepalived() {
    let origin = Instant::now();
    let mut i = Instance::new(params(PRIORITY_OWNER));
    i.handle(Event::Startup, origin);
    assert_eq!(i.state(), State::Backup);
    // Skew_Time for 255 = (1 * 1 s) / 256 = 3.906 ms (µs, as keepalived).
    assert_eq!(
        i.next_deadline(),
        Some(origin + Duration::from_micros(3_003_906))
    );
}

#[test]
fn two_address_owners_back_off_like_keepalived() {
    let origin = Instant::now();
    let mut p = params(PRIORITY_OWNER);
    p.initial_master = true;
    let mut i = Instance::new(p);
    i.handle(Event::Startup, origin);
    // The other owner has a higher address: we drop to 254 and yield.
    let acts = i.handle(
        Event::AdvertReceived {
            from: addr("192.0.2.200"),
            adv: adv(255),
        },
        origin,
    );
    assert!(acts.contains(&Action::RemoveVips));
    assert_eq!(i.state(), State::Backup);
    assert_eq!(i.effective_priority(), 254);
}

#[test]
fn backup_ignores_lower_priority_but_accepts_higher() {
    let origin = Instant::now();
    let mut i = Instance::new(params(150));
    i.handle(Event::Startup, origin);
    let first = i.next_deadline().unwrap();
    let later = origin + Duration::from_secs(2);
    // Lower priority: discarded, the down timer keeps running (we will preempt).
    assert!(i
        .handle(
            Event::AdvertReceived {
                from: addr("192.0.2.9"),
                adv: adv(100)
            },
            later
        )
        .is_empty());
    assert_eq!(i.next_deadline(), Some(first));
    // Higher priority: down timer restarts.
    i.handle(
        Event::AdvertReceived {
            from: addr("192.0.2.9"),
            adv: adv(200),
        },
        later,
    );
    assert_eq!(i.next_deadline(), Some(later + i.master_down_interval()));
    assert!(matches!(i.timers(), Timers::Backup { .. }));
}

#[test]
fn backup_priority_change_moves_the_down_timer_by_the_skew_delta() {
    let origin = Instant::now();
    let mut i = Instance::new(params(100));
    i.handle(Event::Startup, origin);
    assert_eq!(
        i.next_deadline(),
        Some(origin + Duration::from_micros(3_609_375))
    );
    // 100 -> 200: skew 609.375 ms -> 218.75 ms.
    i.handle(Event::PriorityChanged(200), origin);
    assert_eq!(
        i.next_deadline(),
        Some(origin + Duration::from_micros(3_218_750))
    );
    // Clamped to 254, never 255 or 0.
    i.handle(Event::PriorityChanged(255), origin);
    assert_eq!(i.effective_priority(), 254);
    i.handle(Event::PriorityChanged(0), origin);
    assert_eq!(i.effective_priority(), 1);
}

#[test]
fn shutdown_from_master_sends_priority_zero_then_removes_vips() {
    let origin = Instant::now();
    let (mut i, t) = master(params(200), origin);
    let acts = i.handle(Event::Shutdown, t);
    assert_eq!(
        acts,
        vec![
            Action::SendAdvert { priority: 0 },
            Action::RemoveVips,
            Action::StateChanged {
                from: State::Master,
                to: State::Initialize,
                reason: Reason::Shutdown
            },
            Action::Notify(Notify::Stop),
        ]
    );
    assert_eq!(i.next_deadline(), None);
}

#[test]
fn fault_at_startup_and_garp_refresh() {
    let origin = Instant::now();
    let mut p = params(200);
    p.garp.master_refresh = Some(Duration::from_secs(2));
    p.garp.master_refresh_repeat = 2;
    p.garp.master_delay = Duration::ZERO;
    let mut i = Instance::new(p);
    i.handle(Event::Fault(true), origin);
    i.handle(Event::Startup, origin);
    assert_eq!(i.state(), State::Fault);
    assert_eq!(i.next_deadline(), None);
    i.handle(Event::Fault(false), origin);
    assert_eq!(i.state(), State::Backup);
    let t = i.next_deadline().unwrap();
    i.handle(Event::Timer, t);
    let mut refreshes = 0;
    let mut now = t;
    while now < t + Duration::from_millis(4500) {
        now = i.next_deadline().unwrap();
        refreshes += i
            .handle(Event::Timer, now)
            .iter()
            .filter(|a| **a == Action::SendGratuitous { repeat: 2 })
            .count();
    }
    assert_eq!(refreshes, 2);
}

/// Reload of a Master (keepalived reload_master): no transition, no priority
/// 0, no VIP change; one advert with the new priority at once and the next
/// one a new interval later.
#[test]
fn reload_of_a_master_only_advertises_the_new_values() {
    let origin = Instant::now();
    let (mut i, t) = master(params(200), origin);
    let now = t + Duration::from_millis(400);
    let mut p = params(50);
    p.adver_int = Duration::from_millis(250);
    let acts = i.reload(p, 50, now);
    assert_eq!(acts, vec![Action::SendAdvert { priority: 50 }]);
    assert_eq!(i.state(), State::Master);
    assert_eq!(i.effective_priority(), 50);
    assert_eq!(i.master_adver_interval(), AdverInt::Centiseconds(25));
    match i.timers() {
        Timers::Master { adver, .. } => assert_eq!(*adver, now + Duration::from_millis(250)),
        other => panic!("{other:?}"),
    }
    let acts = i.handle(Event::Timer, now + Duration::from_millis(250));
    assert!(acts.contains(&Action::SendAdvert { priority: 50 }));
}

/// Reload of a Backup restarts Master_Down_Timer with the new interval and
/// forgets the learned master (a fresh keepalived instance); Fault stays
/// Fault; the owner's priority is 255 whatever tracking says.
#[test]
fn reload_of_backup_fault_and_owner() {
    let origin = Instant::now();
    let mut b = Instance::new(params(100));
    b.handle(Event::Startup, origin);
    b.handle(
        Event::AdvertReceived {
            from: addr("192.0.2.9"),
            adv: adv(200),
        },
        origin,
    );
    assert_eq!(b.master_addr(), Some(addr("192.0.2.9")));
    let now = origin + Duration::from_secs(1);
    assert!(b.reload(params(150), 150, now).is_empty());
    assert_eq!(b.state(), State::Backup);
    assert_eq!(b.master_addr(), None);
    assert_eq!(b.next_deadline(), Some(now + b.master_down_interval()));
    // Raised above the master with preempt: its adverts are now ignored.
    b.handle(
        Event::AdvertReceived {
            from: addr("192.0.2.9"),
            adv: adv(120),
        },
        now + Duration::from_millis(100),
    );
    assert_eq!(b.next_deadline(), Some(now + b.master_down_interval()));

    let mut f = Instance::new(params(100));
    f.handle(Event::Fault(true), origin);
    f.handle(Event::Startup, origin);
    assert_eq!(f.state(), State::Fault);
    assert!(f.reload(params(120), 120, now).is_empty());
    assert_eq!(f.state(), State::Fault);
    assert_eq!(f.next_deadline(), None);

    let mut o = Instance::new(params(100));
    o.handle(Event::Startup, origin);
    o.reload(params(PRIORITY_OWNER), 90, now);
    assert_eq!(o.effective_priority(), PRIORITY_OWNER);
    o.reload(params(100), 255, now);
    assert_eq!(o.effective_priority(), 254, "tracking clamps to 1..=254");
}
