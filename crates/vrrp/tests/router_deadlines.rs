//! The router's deadline index (keepalived's `rb_sands`, vrrp_scheduler.c
//! `vrrp_compute_timer()`) against a full scan, in virtual time: random
//! sequences of adverts, tracking, reloads, stops, restarts, removals and
//! timers over instances with and without sync groups.
//!
//! Two routers get the same inputs. The first fires timers with
//! `Input::Timer` (which visits only the indexed due instances); the
//! reference fires them the way the router did before the index, by checking
//! every instance's deadline in index order and handing each due one
//! `Event::Timer`. Their effects must be identical, and
//! `Router::next_deadline()` must equal the minimum over every instance.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use rkeepalived_vrrp::fsm::{Event, Instance, InstanceParams};
use rkeepalived_vrrp::packet::{AdverInt, Advertisement, Auth, Version};
use rkeepalived_vrrp::router::{Effect, Input, Router};

#[derive(Debug, Clone)]
enum Op {
    /// Advance virtual time.
    Wait(u64),
    /// Jump to the router's next deadline (if any) and fire.
    TimerAtNext,
    /// Fire at the current time (due or not).
    Timer,
    Advert {
        inst: usize,
        priority: u8,
        cs: u16,
    },
    Track {
        inst: usize,
        priority: Option<u8>,
        fault: Option<bool>,
    },
    Reload {
        inst: usize,
        priority: u8,
        adver_ms: u64,
    },
    Shutdown {
        inst: usize,
    },
    Start {
        inst: usize,
        priority: u8,
        fault: bool,
    },
    /// Stop, remove and re-add (at the end) instance `inst`, then start it.
    Replace {
        inst: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let inst = 0usize..6;
    prop_oneof![
        3 => (0u64..4000).prop_map(Op::Wait),
        4 => Just(Op::TimerAtNext),
        1 => Just(Op::Timer),
        3 => (inst.clone(), any::<u8>(), prop_oneof![Just(10u16), Just(100), 1u16..300])
            .prop_map(|(inst, priority, cs)| Op::Advert { inst, priority, cs }),
        2 => (inst.clone(), proptest::option::of(1u8..=254), proptest::option::of(any::<bool>()))
            .prop_map(|(inst, priority, fault)| Op::Track { inst, priority, fault }),
        1 => (inst.clone(), 1u8..=255, prop_oneof![Just(100u64), Just(1000), 10u64..3000])
            .prop_map(|(inst, priority, adver_ms)| Op::Reload { inst, priority, adver_ms }),
        1 => inst.clone().prop_map(|inst| Op::Shutdown { inst }),
        1 => (inst.clone(), 1u8..=255, any::<bool>())
            .prop_map(|(inst, priority, fault)| Op::Start { inst, priority, fault }),
        1 => inst.prop_map(|inst| Op::Replace { inst }),
    ]
}

fn params(vrid: u8, priority: u8, adver_ms: u64, grouped: bool) -> InstanceParams {
    let mut p = InstanceParams::new(Version::V3, vrid, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
    p.priority = priority;
    p.adver_int = Duration::from_millis(adver_ms);
    p.sync_group_member = grouped;
    p
}

/// Instance `i`: name `vi<i>`, VRID `i + 1`; instances 0-1 form group G1 and
/// 2-3 group G2 when `grouped`.
fn setup(n: usize, grouped: bool, prios: &[u8], t0: Instant) -> Router {
    let mut r = Router::new();
    for (i, &prio) in prios.iter().enumerate().take(n) {
        let g = grouped && i < 4;
        r.add(
            format!("vi{i}"),
            Instance::new(params(i as u8 + 1, prio, 1000, g)),
        );
    }
    set_groups(&mut r, n, grouped);
    for (i, &prio) in prios.iter().enumerate().take(n) {
        r.handle(
            Input::Start {
                instance: i,
                priority: prio,
                fault: false,
            },
            t0,
        );
    }
    r
}

fn set_groups(r: &mut Router, n: usize, grouped: bool) {
    if grouped {
        let groups = [("G1", 0..2), ("G2", 2..4)].into_iter().map(|(g, m)| {
            (
                g.to_string(),
                m.filter(|i| *i < n).map(|i| format!("vi{i}")).collect(),
            )
        });
        r.set_groups(groups, |_| false);
    }
}

fn advert(vrid: u8, priority: u8, cs: u16) -> Event {
    Event::AdvertReceived {
        from: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 200)),
        adv: Advertisement {
            version: Version::V3,
            vrid,
            priority,
            adver_int: AdverInt::Centiseconds(cs),
            addrs: vec![],
            auth: Auth::None,
        },
    }
}

fn scan(r: &Router) -> Option<Instant> {
    (0..r.len()).filter_map(|i| r.fsm(i).next_deadline()).min()
}

/// The pre-index `Input::Timer`: every instance in index order, checked
/// when its turn comes.
fn timer_by_scan(r: &mut Router, now: Instant) -> Vec<Effect> {
    let mut out = Vec::new();
    for i in 0..r.len() {
        if r.fsm(i).next_deadline().is_some_and(|d| d <= now) {
            out.extend(r.handle(
                Input::Events {
                    instance: i,
                    events: vec![Event::Timer],
                },
                now,
            ));
        }
    }
    out
}

/// Apply `op` to both routers; returns (indexed, reference) effects.
fn apply(
    a: &mut Router,
    b: &mut Router,
    op: &Op,
    now: &mut Instant,
    grouped: bool,
) -> (Vec<Effect>, Vec<Effect>) {
    let n = a.len();
    let both = |a: &mut Router, b: &mut Router, input: Input, now: Instant| {
        (a.handle(input.clone(), now), b.handle(input, now))
    };
    match op.clone() {
        Op::Wait(ms) => {
            *now += Duration::from_millis(ms);
            (vec![], vec![])
        }
        Op::TimerAtNext => {
            if let Some(d) = a.next_deadline() {
                *now = (*now).max(d);
            }
            (a.handle(Input::Timer, *now), timer_by_scan(b, *now))
        }
        Op::Timer => (a.handle(Input::Timer, *now), timer_by_scan(b, *now)),
        Op::Advert { inst, priority, cs } => {
            let inst = inst % n;
            let ev = advert(inst as u8 + 1, priority, cs);
            both(
                a,
                b,
                Input::Events {
                    instance: inst,
                    events: vec![ev],
                },
                *now,
            )
        }
        Op::Track {
            inst,
            priority,
            fault,
        } => both(
            a,
            b,
            Input::Track {
                instance: inst % n,
                priority,
                fault,
            },
            *now,
        ),
        Op::Reload {
            inst,
            priority,
            adver_ms,
        } => {
            let inst = inst % n;
            let g = grouped && inst < 4;
            let p = Box::new(params(inst as u8 + 1, priority, adver_ms, g));
            both(
                a,
                b,
                Input::Reload {
                    instance: inst,
                    params: p,
                    priority,
                },
                *now,
            )
        }
        Op::Shutdown { inst } => both(
            a,
            b,
            Input::Events {
                instance: inst % n,
                events: vec![Event::Shutdown],
            },
            *now,
        ),
        Op::Start {
            inst,
            priority,
            fault,
        } => both(
            a,
            b,
            Input::Start {
                instance: inst % n,
                priority,
                fault,
            },
            *now,
        ),
        Op::Replace { inst } => {
            let inst = inst % n;
            (
                replace(a, inst, n, grouped, *now),
                replace(b, inst, n, grouped, *now),
            )
        }
    }
}

/// Stop, remove and re-add instance `inst` (it moves to the end), start it.
fn replace(r: &mut Router, inst: usize, n: usize, grouped: bool, now: Instant) -> Vec<Effect> {
    let name = r.name(inst).to_string();
    let vrid = r.fsm(inst).params().vrid;
    let g = r.fsm(inst).params().sync_group_member;
    let mut e = r.handle(
        Input::Events {
            instance: inst,
            events: vec![Event::Shutdown],
        },
        now,
    );
    r.remove(inst);
    let idx = r.add(name, Instance::new(params(vrid, 120, 1000, g)));
    set_groups(r, n, grouped);
    e.extend(r.handle(
        Input::Start {
            instance: idx,
            priority: 120,
            fault: false,
        },
        now,
    ));
    e
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn index_matches_a_full_scan(
        n in 1usize..7,
        grouped in any::<bool>(),
        prios in proptest::collection::vec(1u8..=255, 6),
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        let t0 = Instant::now();
        let mut a = setup(n, grouped, &prios, t0);
        let mut b = setup(n, grouped, &prios, t0);
        let mut now = t0;
        prop_assert_eq!(a.next_deadline(), scan(&a));
        for op in &ops {
            let (ea, eb) = apply(&mut a, &mut b, op, &mut now, grouped);
            prop_assert_eq!(&ea, &eb, "effects differ after {:?}", op);
            prop_assert_eq!(a.next_deadline(), scan(&a), "next_deadline after {:?}", op);
            prop_assert_eq!(a.next_deadline(), b.next_deadline());
            for i in 0..a.len() {
                prop_assert_eq!(a.fsm(i).state(), b.fsm(i).state());
            }
        }
    }
}

/// 1,000 instances: `Input::Timer` fires only the due ones and leaves the
/// others' deadlines alone; next_deadline() follows.
#[test]
fn thousand_instances_fire_only_the_due_ones() {
    let t0 = Instant::now();
    let mut r = Router::new();
    for i in 0..1000usize {
        // Staggered advert intervals: the Master_Down timers fall apart.
        let mut p = params((i % 255) as u8 + 1, 100, 1000, false);
        p.adver_int = Duration::from_millis(1000 + (i as u64 % 50) * 10);
        r.add(format!("vi{i}"), Instance::new(p));
        r.handle(
            Input::Start {
                instance: i,
                priority: 100,
                fault: false,
            },
            t0,
        );
    }
    let first = r.next_deadline().expect("backups have a Master_Down_Timer");
    assert_eq!(Some(first), scan(&r));
    let before: Vec<_> = (0..1000).map(|i| r.fsm(i).next_deadline()).collect();
    let effects = r.handle(Input::Timer, first);
    let fired: Vec<usize> = (0..1000)
        .filter(|&i| r.fsm(i).next_deadline() != before[i])
        .collect();
    let due: Vec<usize> = (0..1000).filter(|&i| before[i] == Some(first)).collect();
    assert_eq!(fired, due);
    assert!(!effects.is_empty());
    assert_eq!(r.next_deadline(), scan(&r));
    assert!(r.next_deadline() > Some(first));
}
