//! Unit tests of the pure model, reconciler and mock backend.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;

use crate::*;

fn v4(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
}

fn rs(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(198, 51, 100, last))
}

/// `n_services` TCP services on 192.0.2.x:80, each with `n_dests` masq dests.
fn farm(n_services: u8, n_dests: u8) -> IpvsState {
    let mut state = IpvsState::new();
    for s in 1..=n_services {
        let key = ServiceKey::tcp(v4(s), 80);
        state.upsert_service(Service::new(key, Scheduler::Wrr));
        for d in 1..=n_dests {
            state.upsert_dest(&key, Dest::new(rs(d), 8080, Forwarding::Masq, 1));
        }
    }
    state
}

fn backend_with(state: &IpvsState) -> MockIpvs {
    let mut mock = MockIpvs::new();
    let mut owned = OwnedSet::new();
    let report = sync(&mut mock, state, &mut owned).expect("sync");
    assert!(report.is_clean(), "{:?}", report.failed);
    mock.log.clear();
    mock
}

#[test]
fn initial_load_adds_everything_once() {
    let desired = farm(3, 4);
    let ops = reconcile(&desired, &IpvsState::new(), &OwnedSet::new());
    assert_eq!(ops.len(), 3 + 12);
    let mut mock = MockIpvs::new();
    let mut owned = OwnedSet::new();
    sync(&mut mock, &desired, &mut owned).unwrap();
    assert_eq!(mock.state.dest_count(), 12);
    // Second pass is a no-op even though the kernel copy has HASHED set.
    let again = sync(&mut mock, &desired, &mut owned).unwrap();
    assert!(again.planned.is_empty(), "{:?}", again.planned);
}

#[test]
fn reload_with_one_changed_real_server_issues_exactly_the_ops_needed() {
    let old = farm(5, 10);
    let mut mock = backend_with(&old);
    let mut owned = OwnedSet::new();
    owned.record(&old);

    let key = ServiceKey::tcp(v4(3), 80);
    let mut new = old.clone();
    new.services
        .get_mut(&key)
        .unwrap()
        .dests
        .values_mut()
        .nth(4)
        .unwrap()
        .weight = 7;

    let report = sync(&mut mock, &new, &mut owned).unwrap();
    assert_eq!(report.planned.len(), 1);
    match &report.planned[0] {
        Op::EditDest(k, d) => {
            assert_eq!(*k, key);
            assert_eq!(d.weight, 7);
        }
        other => panic!("expected one EditDest, got {other:?}"),
    }
    assert_eq!(mock.log.len(), 1);
    assert_eq!(mock.state, {
        let mut s = new.clone();
        for e in s.services.values_mut() {
            e.service.flags = ServiceFlags(ServiceFlags::HASHED);
        }
        s
    });
}

#[test]
fn replaced_real_server_is_one_delete_and_one_add() {
    let old = farm(2, 3);
    let mut owned = OwnedSet::new();
    owned.record(&old);
    let mut mock = backend_with(&old);
    let key = ServiceKey::tcp(v4(1), 80);
    let mut new = old.clone();
    let entry = new.services.get_mut(&key).unwrap();
    let gone = Dest::new(rs(2), 8080, Forwarding::Masq, 1).key();
    entry.dests.remove(&gone);
    let added = Dest::new(rs(9), 8080, Forwarding::Masq, 1);
    entry.dests.insert(added.key(), added);
    let report = sync(&mut mock, &new, &mut owned).unwrap();
    assert_eq!(
        report.planned,
        vec![Op::DelDest(key, gone), Op::AddDest(key, added)]
    );
}

#[test]
fn scheduler_change_edits_service_in_place() {
    let old = farm(1, 2);
    let mut owned = OwnedSet::new();
    owned.record(&old);
    let mut mock = backend_with(&old);
    let mut new = old.clone();
    let key = ServiceKey::tcp(v4(1), 80);
    new.services.get_mut(&key).unwrap().service = Service::new(key, Scheduler::Sh).persistent(300);
    let report = sync(&mut mock, &new, &mut owned).unwrap();
    assert!(matches!(report.planned.as_slice(), [Op::EditService(s)] if s.sched == Scheduler::Sh));
    assert_eq!(mock.state.dest_count(), 2, "dests survive an edit");
}

#[test]
fn foreign_services_and_dests_survive_unless_flushing() {
    let desired = farm(1, 2);
    let mut kernel = desired.clone();
    let foreign_key = ServiceKey::udp(v4(200), 53);
    kernel.upsert_service(Service::new(foreign_key, Scheduler::Rr));
    let ours = ServiceKey::tcp(v4(1), 80);
    kernel.upsert_dest(&ours, Dest::new(rs(77), 8080, Forwarding::Masq, 1));

    let ops = reconcile(&desired, &kernel, &OwnedSet::new());
    assert!(ops.is_empty(), "foreign entries untouched: {ops:?}");

    let ops = reconcile(&desired, &kernel, &OwnedSet::flush_all());
    assert_eq!(
        ops,
        vec![
            Op::DelService(foreign_key),
            Op::DelDest(ours, Dest::new(rs(77), 8080, Forwarding::Masq, 1).key())
        ]
    );
}

#[test]
fn removed_owned_service_is_deleted_without_dest_ops() {
    let old = farm(2, 5);
    let mut owned = OwnedSet::new();
    owned.record(&old);
    let mut new = old.clone();
    let gone = ServiceKey::tcp(v4(2), 80);
    new.services.remove(&gone);
    assert_eq!(reconcile(&new, &old, &owned), vec![Op::DelService(gone)]);
}

#[test]
fn entries_deleted_by_hand_are_restored() {
    let desired = farm(2, 3);
    let mut owned = OwnedSet::new();
    let mut mock = backend_with(&desired);
    owned.record(&desired);
    let key1 = ServiceKey::tcp(v4(1), 80);
    let key2 = ServiceKey::tcp(v4(2), 80);
    mock.state.services.remove(&key1);
    mock.state
        .services
        .get_mut(&key2)
        .unwrap()
        .dests
        .pop_first();
    let report = sync(&mut mock, &desired, &mut owned).unwrap();
    assert_eq!(report.planned.len(), 1 + 3 + 1);
    assert!(report.is_clean());
    assert_eq!(mock.state.dest_count(), 6);
}

#[test]
fn failed_ops_are_reported_and_retried_next_pass() {
    let desired = farm(1, 2);
    let mut mock = MockIpvs::new();
    mock.inject.push_back(Errno::NoMemory);
    let mut owned = OwnedSet::new();
    let report = sync(&mut mock, &desired, &mut owned).unwrap();
    assert_eq!(
        report.failed.len(),
        3,
        "service add failed, dest adds hit ESRCH"
    );
    assert_eq!(report.failed[0].1.errno(), Some(Errno::NoMemory));
    assert_eq!(report.failed[1].1.errno(), Some(Errno::NoSuchService));
    let report = sync(&mut mock, &desired, &mut owned).unwrap();
    assert!(report.is_clean());
    assert_eq!(mock.state.dest_count(), 2);
}

#[test]
fn mock_follows_kernel_errnos() {
    let mut m = MockIpvs::new();
    let key = ServiceKey::tcp(v4(1), 80);
    let svc = Service::new(key, Scheduler::Rr);
    let dest = Dest::new(rs(1), 80, Forwarding::Direct, 1);
    let errno = |r: Result<(), IpvsError>| r.err().and_then(|e| e.errno());
    assert_eq!(
        errno(m.apply(&Op::EditService(svc.clone()))),
        Some(Errno::NoSuchService)
    );
    assert_eq!(
        errno(m.apply(&Op::AddDest(key, dest))),
        Some(Errno::NoSuchService)
    );
    assert_eq!(errno(m.apply(&Op::AddService(svc.clone()))), None);
    assert_eq!(
        errno(m.apply(&Op::AddService(svc.clone()))),
        Some(Errno::Exists)
    );
    assert_eq!(
        errno(m.apply(&Op::EditDest(key, dest))),
        Some(Errno::NotFound)
    );
    assert_eq!(
        errno(m.apply(&Op::DelDest(key, dest.key()))),
        Some(Errno::NotFound)
    );
    assert_eq!(errno(m.apply(&Op::AddDest(key, dest))), None);
    assert_eq!(errno(m.apply(&Op::AddDest(key, dest))), Some(Errno::Exists));
    let negative = Dest { weight: -1, ..dest };
    assert_eq!(
        errno(m.apply(&Op::EditDest(key, negative))),
        Some(Errno::Range)
    );
    let v6 = Dest::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 80, Forwarding::Masq, 1);
    assert_eq!(errno(m.apply(&Op::AddDest(key, v6))), Some(Errno::Invalid));
    let v6_tun = Dest {
        fwd: Forwarding::ipip(),
        ..v6
    };
    assert_eq!(errno(m.apply(&Op::AddDest(key, v6_tun))), None);
    let gue0 = Dest {
        fwd: Forwarding::Tunnel {
            tun_type: TunnelType::Gue,
            port: 0,
            flags: TunnelFlags::default(),
        },
        ..dest
    };
    assert_eq!(
        errno(m.apply(&Op::EditDest(key, gue0))),
        Some(Errno::Invalid)
    );
    let bad_sched = Service::new(ServiceKey::tcp(v4(2), 80), Scheduler::Other("nope".into()));
    assert_eq!(
        errno(m.apply(&Op::AddService(bad_sched))),
        Some(Errno::NotFound)
    );
    assert_eq!(errno(m.apply(&Op::DelService(key))), None);
    assert_eq!(
        errno(m.apply(&Op::DelService(key))),
        Some(Errno::NoSuchService)
    );
}

fn arb_state() -> impl Strategy<Value = IpvsState> {
    let svc = (
        1u8..6,
        prop::sample::select(Scheduler::ALL.to_vec()),
        any::<bool>(),
    );
    let dest = (
        1u8..6,
        0i32..4,
        prop::sample::select(vec![
            Forwarding::Masq,
            Forwarding::Direct,
            Forwarding::ipip(),
        ]),
    );
    prop::collection::vec((svc, prop::collection::vec(dest, 0..5)), 0..6).prop_map(|list| {
        let mut state = IpvsState::new();
        for ((s, sched, persistent), dests) in list {
            let key = ServiceKey::tcp(v4(s), 80);
            let mut service = Service::new(key, sched);
            if persistent {
                service = service.persistent(360);
            }
            state.upsert_service(service);
            for (d, weight, fwd) in dests {
                state.upsert_dest(&key, Dest::new(rs(d), 80, fwd, weight));
            }
        }
        state
    })
}

fn without_hashed(mut state: IpvsState) -> IpvsState {
    for e in state.services.values_mut() {
        e.service.flags = e.service.flags.user();
    }
    state
}

proptest! {
    /// With the flush policy, applying the plan always yields exactly `desired`,
    /// and a second plan is empty.
    #[test]
    fn reconcile_converges(desired in arb_state(), current in arb_state()) {
        let mut mock = MockIpvs::with_state(current);
        let mut owned = OwnedSet::flush_all();
        let report = sync(&mut mock, &desired, &mut owned).unwrap();
        prop_assert!(report.is_clean(), "{:?}", report.failed);
        prop_assert_eq!(without_hashed(mock.state.clone()), desired.clone());
        let again = reconcile(&desired, &mock.state, &owned);
        prop_assert!(again.is_empty());
    }

    /// Without ownership, nothing in `current` that isn't desired is removed.
    #[test]
    fn reconcile_never_deletes_foreign(desired in arb_state(), current in arb_state()) {
        let ops = reconcile(&desired, &current, &OwnedSet::new());
        prop_assert!(ops.iter().all(|op| !matches!(op, Op::DelService(_) | Op::DelDest(..) | Op::Flush)));
    }
}
