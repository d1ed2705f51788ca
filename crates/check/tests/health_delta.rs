//! The O(change) health path ([`rkeepalived_check::health_delta`]) against the
//! full rebuild: over random plans (weights, inhibit_on_failure, quorum
//! with hysteresis, sorry servers, virtual server groups, several and
//! misc_dynamic checkers) and random verdict sequences, the ops planned
//! from the changed real servers alone are the ops the full diff sends,
//! and the programmed table after them is the table the health model
//! calls for.

use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use rkeepalived_check::health::{CheckerRef, HealthModel};
use rkeepalived_check::health_delta::{commit, delta_ops, HealthDelta, PlanShape};
use rkeepalived_check::spec::{
    CheckKind, CheckPlan, CheckTiming, CheckerSpec, ConnOpts, RealServerSpec, VirtualServerSpec,
};
use rkeepalived_ipvs::{
    reconcile, Dest, Forwarding, IpvsState, Op, OwnedSet, Scheduler, Service, ServiceKey,
};

#[derive(Debug, Clone)]
struct RsShape {
    weight: i32,
    inhibit: bool,
    checkers: usize,
    alpha: bool,
}

#[derive(Debug, Clone)]
struct VsShape {
    real_servers: Vec<RsShape>,
    quorum: u32,
    hysteresis: u32,
    sorry: Option<bool>,
    group_keys: usize,
}

fn checker(vs: usize, rs: usize) -> Arc<CheckerSpec> {
    let kind = CheckKind::Tcp;
    Arc::new(CheckerSpec {
        timing: Arc::new(CheckTiming::defaults_for(&kind, Duration::from_secs(1))),
        conn: ConnOpts::to(
            format!("198.51.100.{}:{}", rs % 250 + 1, 8000 + vs)
                .parse()
                .unwrap(),
        ),
        kind,
    })
}

fn build(shapes: &[VsShape]) -> CheckPlan {
    let virtual_servers = shapes
        .iter()
        .enumerate()
        .map(|(vi, s)| {
            let key = ServiceKey::tcp(format!("192.0.2.{}", vi + 1).parse().unwrap(), 80);
            let mut vs = VirtualServerSpec::new(Service::new(key, Scheduler::Wlc));
            for g in 1..=s.group_keys {
                vs.keys.push(ServiceKey::tcp(
                    format!("192.0.2.{}", vi + 1).parse().unwrap(),
                    80 + g as u16,
                ));
            }
            vs.quorum = s.quorum;
            vs.hysteresis = s.hysteresis;
            vs.sorry_server = s
                .sorry
                .map(|_| Dest::new("203.0.113.9".parse().unwrap(), 80, Forwarding::Masq, 1));
            vs.sorry_server_inhibit = s.sorry == Some(true);
            vs.real_servers = s
                .real_servers
                .iter()
                .enumerate()
                .map(|(ri, r)| {
                    let mut checkers: Vec<Arc<CheckerSpec>> =
                        (0..r.checkers).map(|_| checker(vi, ri)).collect();
                    if r.alpha {
                        for c in &mut checkers {
                            Arc::make_mut(&mut Arc::make_mut(c).timing).alpha = true;
                        }
                    }
                    RealServerSpec {
                        dest: Dest::new(
                            format!("198.51.100.{}", ri % 250 + 1).parse().unwrap(),
                            80 + (ri / 250) as u16,
                            Forwarding::Masq,
                            r.weight,
                        ),
                        inhibit_on_failure: r.inhibit,
                        notify_up: None,
                        notify_down: None,
                        checkers,
                        alpha: false,
                    }
                })
                .collect();
            vs
        })
        .collect();
    CheckPlan {
        virtual_servers,
        ..CheckPlan::default()
    }
}

fn arb_rs() -> impl Strategy<Value = RsShape> {
    (0i32..4, any::<bool>(), 1usize..3, prop::bool::weighted(0.2)).prop_map(
        |(weight, inhibit, checkers, alpha)| RsShape {
            weight,
            inhibit,
            checkers,
            alpha,
        },
    )
}

fn arb_vs() -> impl Strategy<Value = VsShape> {
    (
        prop::collection::vec(arb_rs(), 1..6),
        0u32..6,
        0u32..3,
        prop::option::of(any::<bool>()),
        0usize..3,
    )
        .prop_map(
            |(real_servers, quorum, hysteresis, sorry, group_keys)| VsShape {
                real_servers,
                quorum,
                hysteresis,
                sorry,
                group_keys,
            },
        )
}

/// One verdict: (vs, rs, checker) picks modulo the plan, up, dynamic weight.
type Verdict = (usize, usize, usize, bool, Option<i32>);

fn arb_verdicts() -> impl Strategy<Value = Vec<Vec<Verdict>>> {
    let verdict = (
        0usize..8,
        0usize..8,
        0usize..4,
        any::<bool>(),
        prop::option::weighted(0.2, 0i32..5),
    );
    // Batches: the engine coalesces the reports that are ready at once.
    prop::collection::vec(prop::collection::vec(verdict, 1..4), 1..30)
}

fn sorted(ops: &[Op]) -> Vec<String> {
    let mut v: Vec<String> = ops.iter().map(|o| format!("{o:?}")).collect();
    v.sort();
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]
    #[test]
    fn delta_ops_equal_the_full_rebuild(
        shapes in prop::collection::vec(arb_vs(), 1..4),
        batches in arb_verdicts(),
    ) {
        let plan = build(&shapes);
        let shape = PlanShape::of(&plan);
        let mut model = HealthModel::new(&plan);
        // The table as programmed by the first full sync.
        let mut programmed: IpvsState = model.desired_ipvs(&plan);
        let mut owned = OwnedSet::new();
        owned.record(&programmed);
        for batch in batches {
            let mut delta = HealthDelta::default();
            for (v, r, c, up, weight) in batch {
                let vi = v % plan.virtual_servers.len();
                let vs = &plan.virtual_servers[vi];
                let ri = r % vs.real_servers.len();
                let ci = c % vs.real_servers[ri].checkers.len();
                let at = CheckerRef { vs: vi as u32, rs: ri as u32, checker: ci as u32 };
                let update = model.update_checker(&plan, at, up, weight);
                delta.record(at, &update);
            }
            let desired = model.desired_ipvs(&plan);
            let full = reconcile(&desired, &programmed, &owned);
            let ops = delta_ops(&plan, &shape, &model, &delta, &programmed, &owned)
                .expect("independent virtual servers take deltas");
            prop_assert_eq!(sorted(&ops), sorted(&full));
            commit(&mut programmed, &mut owned, &ops);
            prop_assert_eq!(&programmed, &desired);
        }
    }
}

/// Two virtual servers on the same service key, or a real server listed
/// twice: entries collide, so the engine keeps the full diff for them.
#[test]
fn shared_kernel_entries_take_the_full_diff() {
    let rs = RsShape {
        weight: 1,
        inhibit: false,
        checkers: 1,
        alpha: false,
    };
    let vs = VsShape {
        real_servers: vec![rs.clone(), rs],
        quorum: 1,
        hysteresis: 0,
        sorry: None,
        group_keys: 0,
    };
    let mut plan = build(&[vs.clone(), vs]);
    // The second virtual server gets the first one's key.
    let key = plan.virtual_servers[0].keys[0];
    plan.virtual_servers[1].keys = vec![key];
    let shape = PlanShape::of(&plan);
    let mut model = HealthModel::new(&plan);
    let programmed = model.desired_ipvs(&plan);
    let at = CheckerRef {
        vs: 1,
        rs: 0,
        checker: 0,
    };
    let mut delta = HealthDelta::default();
    delta.record(at, &model.update_checker(&plan, at, false, None));
    let owned = OwnedSet::new();
    assert!(delta_ops(&plan, &shape, &model, &delta, &programmed, &owned).is_none());

    // A real server listed twice in one virtual server.
    let mut plan = build(&[VsShape {
        group_keys: 0,
        ..shapes_twice()
    }]);
    let first = plan.virtual_servers[0].real_servers[0].dest;
    plan.virtual_servers[0].real_servers.make_mut()[1].dest = Dest { weight: 3, ..first };
    let shape = PlanShape::of(&plan);
    let mut model = HealthModel::new(&plan);
    let programmed = model.desired_ipvs(&plan);
    let at = CheckerRef {
        vs: 0,
        rs: 1,
        checker: 0,
    };
    let mut delta = HealthDelta::default();
    delta.record(at, &model.update_checker(&plan, at, false, None));
    assert!(delta_ops(&plan, &shape, &model, &delta, &programmed, &owned).is_none());
}

fn shapes_twice() -> VsShape {
    let rs = RsShape {
        weight: 1,
        inhibit: false,
        checkers: 1,
        alpha: false,
    };
    VsShape {
        real_servers: vec![rs.clone(), rs],
        quorum: 1,
        hysteresis: 0,
        sorry: None,
        group_keys: 0,
    }
}

/// At 10,000 real servers one verdict is one op, planned without looking
/// at the other 9,999 (the whole point: issue #17's 50 ms).
#[test]
fn one_verdict_is_one_op_at_ten_thousand_dests() {
    let rs = RsShape {
        weight: 1,
        inhibit: false,
        checkers: 1,
        alpha: false,
    };
    let shapes: Vec<VsShape> = (0..10)
        .map(|_| VsShape {
            real_servers: vec![rs.clone(); 1000],
            quorum: 1,
            hysteresis: 0,
            sorry: None,
            group_keys: 0,
        })
        .collect();
    // Distinct real server addresses per virtual server are not needed:
    // each virtual server has its own service.
    let mut plan = build(&shapes);
    for vs in &mut plan.virtual_servers {
        for (ri, rs) in vs.real_servers.make_mut().iter_mut().enumerate() {
            rs.dest.port = 1000 + ri as u16;
        }
    }
    let shape = PlanShape::of(&plan);
    let mut model = HealthModel::new(&plan);
    let mut programmed = model.desired_ipvs(&plan);
    let mut owned = OwnedSet::new();
    owned.record(&programmed);
    let at = CheckerRef {
        vs: 7,
        rs: 123,
        checker: 0,
    };
    let mut delta = HealthDelta::default();
    delta.record(at, &model.update_checker(&plan, at, false, None));
    let ops = delta_ops(&plan, &shape, &model, &delta, &programmed, &owned).unwrap();
    assert_eq!(ops.len(), 1);
    assert!(
        matches!(&ops[0], Op::DelDest(k, d) if *k == plan.virtual_servers[7].keys[0] && d.port == 1123)
    );
    commit(&mut programmed, &mut owned, &ops);
    assert_eq!(programmed, model.desired_ipvs(&plan));
}
