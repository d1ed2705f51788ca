//! Delta reloads (rkeepalived_control::delta): the checker applies a
//! difference from the configuration it runs.
//!
//! * Applying a delta gives the very plan a full hand-over of the new
//!   configuration gives, `keepalived_check.data`'s configuration included
//!   (property test over random edits: weights, added, removed and moved
//!   virtual servers).
//! * A one-real-server change of 200 services: the delta carries exactly
//!   that virtual server; the engine sends exactly one IPVS op and starts
//!   no checker.
//! * A delta whose base is not what the engine runs (never named, or after
//!   a rejected reload) is refused as `BaseMismatch`, so the supervisor
//!   falls back to the full hand-over.

use std::sync::Arc;

use proptest::prelude::*;
use rkeepalived_check::from_config;
use rkeepalived_config::{Config, LoadOptions};
use rkeepalived_control::delta::{ConfigDelta, DeltaMsg, DeltaOutcome, Fingerprints, VsSlot};
use rkeepalived_control::Control;
use rkeepalived_testkit::log_capture::LogCapture;

mod reload_engine;
use reload_engine::{assert_one_weight_edit, TestEngine};

/// One virtual server of a generated configuration: its port and its real
/// servers' weights (each real server TCP-checked).
#[derive(Debug, Clone)]
struct Vs {
    port: u16,
    weights: Vec<u32>,
    quorum: u32,
}

fn text(vss: &[Vs]) -> String {
    let mut t = String::from(
        "global_defs {\n  router_id delta\n  smtp_server 192.0.2.25\n  notification_email {\n    ops@example.org\n  }\n}\n",
    );
    for v in vss {
        t.push_str(&format!(
            "virtual_server 192.0.2.1 {} {{\n  delay_loop 3600\n  lb_algo wrr\n  lb_kind NAT\n  protocol TCP\n  quorum {}\n",
            v.port, v.quorum
        ));
        if v.port % 3 == 0 {
            t.push_str("  smtp_alert\n");
        }
        for (d, w) in v.weights.iter().enumerate() {
            t.push_str(&format!(
                "  real_server 198.51.100.{} {} {{\n    weight {w}\n{}    TCP_CHECK {{\n      connect_timeout 3\n    }}\n  }}\n",
                d + 1,
                20000 + v.port,
                if d % 2 == 1 { "    smtp_alert\n" } else { "" },
            ));
        }
        t.push_str("}\n");
    }
    t
}

fn parse(vss: &[Vs]) -> Config {
    rkeepalived_config::parse_str(&text(vss), "delta.conf", &LoadOptions::default())
        .expect("generated config parses")
        .config
}

fn services(n: usize, dests: usize) -> Vec<Vs> {
    (0..n)
        .map(|s| Vs {
            port: 10000 + s as u16,
            weights: vec![1; dests],
            quorum: 1,
        })
        .collect()
}

/// The delta from `old` to `new`, as the supervisor computes it.
fn delta(old: &mut Config, new: &mut Config) -> Option<ConfigDelta> {
    let fo = Fingerprints::of(old).expect("fingerprints");
    let fnew = Fingerprints::of(new).expect("fingerprints");
    ConfigDelta::between(&fo, &fnew, new)
}

#[derive(Debug, Clone)]
enum Edit {
    Weight(usize, usize, u32),
    Quorum(usize, u32),
    Remove(usize),
    Add(usize, u16),
    Swap(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (0..16usize, 0..3usize, 0..5u32).prop_map(|(v, d, w)| Edit::Weight(v, d, w)),
        (0..16usize, 0..3u32).prop_map(|(v, q)| Edit::Quorum(v, q)),
        (0..16usize).prop_map(Edit::Remove),
        (0..16usize, 11000..11010u16).prop_map(|(v, p)| Edit::Add(v, p)),
        (0..16usize, 0..16usize).prop_map(|(a, b)| Edit::Swap(a, b)),
    ]
}

fn apply_edits(mut vss: Vec<Vs>, edits: &[Edit]) -> Vec<Vs> {
    for e in edits {
        let n = vss.len();
        match *e {
            Edit::Weight(v, d, w) if n > 0 => {
                let ws = &mut vss[v % n].weights;
                let d = d % ws.len();
                ws[d] = w;
            }
            Edit::Quorum(v, q) if n > 0 => vss[v % n].quorum = q,
            Edit::Remove(v) if n > 1 => {
                vss.remove(v % n);
            }
            Edit::Add(v, port) if !vss.iter().any(|x| x.port == port) => vss.insert(
                v % (n + 1),
                Vs {
                    port,
                    weights: vec![2, 3],
                    quorum: 1,
                },
            ),
            Edit::Swap(a, b) if n > 0 => vss.swap(a % n, b % n),
            _ => {}
        }
    }
    vss
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// A delta applied to the running plan gives the full plan of the new
    /// configuration, dump configuration included; twice in a row too (the
    /// second delta applies to a patched plan).
    #[test]
    fn a_delta_plans_like_the_full_configuration(
        first in proptest::collection::vec(edit(), 0..6),
        second in proptest::collection::vec(edit(), 0..6),
    ) {
        let base = services(12, 3);
        let mid = apply_edits(base.clone(), &first);
        let last = apply_edits(mid.clone(), &second);
        let mut configs = [parse(&base), parse(&mid), parse(&last)];
        let mut running = from_config(&configs[0]).expect("plan");
        for i in 0..2 {
            let (old, new) = configs.split_at_mut(i + 1);
            let (old, new) = (&mut old[i], &mut new[0]);
            let d = delta(old, new).expect("only virtual servers changed");
            let patched = rkeepalived_check::plan_delta::apply(&running, &d).expect("delta plan");
            let full = from_config(new).expect("plan");
            prop_assert_eq!(patched.dump.unpack(), full.dump.unpack());
            let mut p = patched.clone();
            p.dump = full.dump.clone();
            prop_assert_eq!(&p, &full);
            running = patched;
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The O(change) IPVS update of a delta reload
    /// (`rkeepalived_check::reload_ipvs`) sends the very ops the full diff
    /// of the new desired table against the programmed one sends, in the
    /// same order, and leaves the programmed table and the owned entries
    /// of every desired service as the full sync does: with checkers
    /// down before the reload (quorum flips, inhibited servers), a foreign
    /// dest in every service and a foreign service in the table.
    #[test]
    fn a_delta_reload_sends_the_full_diffs_ipvs_ops(
        edits in proptest::collection::vec(edit(), 0..6),
        down in proptest::collection::vec((0..16usize, 0..3usize), 0..6),
    ) {
        use rkeepalived_check::health::{CheckerRef, HealthModel};
        use rkeepalived_ipvs::{
            reconcile, Dest, Forwarding, IpvsState, OwnedSet, Scheduler, Service, ServiceKey,
        };

        let base = services(12, 3);
        let new_vss = apply_edits(base.clone(), &edits);
        let (mut old_cfg, mut new_cfg) = (parse(&base), parse(&new_vss));
        let old = from_config(&old_cfg).expect("plan");
        let Some(d) = delta(&mut old_cfg, &mut new_cfg) else {
            // Nothing changed at all.
            return Ok(());
        };
        let new = rkeepalived_check::plan_delta::apply(&old, &d).expect("delta plan");
        // The O(virtual servers) shape; debug builds assert it is the full one.
        let _ = rkeepalived_check::health_delta::PlanShape::of_delta(
            &new,
            &d.layout,
            &rkeepalived_check::health_delta::PlanShape::of(&old),
            &old,
        );
        let mut model = HealthModel::new(&old);
        for (v, r) in down {
            let v = v % old.virtual_servers.len();
            let r = r % old.virtual_servers[v].real_servers.len();
            let at = CheckerRef { vs: v as u32, rs: r as u32, checker: 0 };
            model.update_checker(&old, at, false, None);
        }
        // The table as programmed for the running plan, plus foreign entries.
        let mut programmed: IpvsState = model.desired_ipvs(&old);
        let mut owned = OwnedSet::new();
        owned.record(&programmed);
        let foreign = Dest::new("203.0.113.9".parse().expect("ip"), 80, Forwarding::Masq, 1);
        for entry in programmed.services.values_mut() {
            entry.dests.insert(foreign.key(), foreign);
        }
        programmed.upsert_service(Service::new(
            ServiceKey::tcp("203.0.113.1".parse().expect("ip"), 80),
            Scheduler::from_name("wrr"),
        ));
        let (new_model, touched) = HealthModel::carry_over_delta_touched(
            &new, &d.layout, &old, model.clone(), |_| true,
        );
        let touched = touched.expect("the delta carry-over");
        let update = rkeepalived_check::reload_ipvs::plan(
            &old, &new, &d.layout, &touched, &new_model, &programmed, &owned,
        )
        .expect("no shared services");
        let desired = new_model.desired_ipvs(&new);
        let full = reconcile(&desired, &programmed, &owned);
        prop_assert_eq!(&update.ops, &full);

        let mut full_owned = owned.clone();
        full_owned.record(&desired);
        full_owned.retain_relevant(&desired, &programmed);
        let mut after = programmed.clone();
        update.commit(&mut after, &mut owned);
        for (key, entry) in &desired.services {
            // The foreign dest stays (not ours), the rest is desired.
            let mut want = entry.dests.clone();
            if let Some(f) = programmed.services.get(key).and_then(|e| e.dests.get(&foreign.key())) {
                want.insert(foreign.key(), *f);
            }
            let have = &after.services.get(key).expect("desired service programmed").dests;
            prop_assert!(have == &want || have == &entry.dests, "{:?}", key);
            prop_assert_eq!(owned.dests.get(key), full_owned.dests.get(key));
            prop_assert!(owned.services.contains(key));
        }
        for key in after.services.keys() {
            prop_assert!(desired.services.contains_key(key) || !owned.owns_service(key));
        }
    }
}

#[test]
fn a_global_change_is_no_delta() {
    let mut a = parse(&services(3, 2));
    let mut b = a.clone();
    b.global_defs.lvs_flush = !b.global_defs.lvs_flush;
    assert!(delta(&mut a, &mut b).is_none());
    // An SSL { } change is not one either.
    let mut c = a.clone();
    c.ssl = Some(Default::default());
    assert!(delta(&mut a, &mut c).is_none());
}

async fn apply(t: &TestEngine, d: ConfigDelta) -> DeltaOutcome {
    let d = Arc::new(d);
    t.ask(|o| Control::Delta(DeltaMsg::Apply(d, o))).await
}

#[tokio::test]
async fn a_one_real_server_delta_carries_one_service_and_is_one_ipvs_op() {
    const SERVICES: usize = 200;
    const DESTS: usize = 5;
    // The engine's debug lines: which IPVS path the reload took.
    let cap = LogCapture::start(tracing::Level::DEBUG);
    let base = services(SERVICES, DESTS);
    let mut first = parse(&base);
    let t = TestEngine::start(&first, SERVICES * DESTS).await;
    let (_, mark) = t.ops_since(0);

    let mut next = base.clone();
    next[123].weights[3] = 7;
    let mut second = parse(&next);
    let d = delta(&mut first, &mut second).expect("delta");
    assert_eq!(d.changed(), 1, "exactly the changed virtual server");
    assert_eq!(d.config.virtual_servers[0].real_servers[3].weight, 7);
    assert_eq!(d.layout[123], VsSlot::Changed(0));
    assert_eq!(d.layout[122], VsSlot::Kept(122));
    let wire = serde_json::to_vec(&d).expect("encode");
    let full = serde_json::to_vec(&second).expect("encode");
    assert!(
        wire.len() * 20 < full.len(),
        "delta {} bytes vs {}",
        wire.len(),
        full.len()
    );

    // Not named as the running configuration yet: refused.
    assert_eq!(apply(&t, d.clone()).await, DeltaOutcome::BaseMismatch);
    let (ops, _) = t.ops_since(mark);
    assert!(ops.is_empty(), "{ops:?}");

    t.tx.send(Control::Delta(DeltaMsg::Digest(d.base.clone())))
        .await
        .expect("digest");
    assert_eq!(apply(&t, d.clone()).await, DeltaOutcome::Applied);
    let stats = t.ask(Control::DumpStats).await;
    let (ops, mark) = t.ops_since(mark);
    assert_one_weight_edit(&ops);
    // O(change): only the changed virtual server's service was diffed
    // (engine/reload_sync.rs), not the whole table.
    assert_eq!(
        cap.count("IPVS sync of a delta reload (1 service(s))"),
        1,
        "{}",
        cap.text()
    );
    assert_eq!(cap.count("IPVS sync from the last programmed table"), 0);
    assert!(stats.contains("(last reload 1)"), "{stats}");
    assert_eq!(
        t.built(),
        SERVICES * DESTS,
        "a delta reload must not restart unchanged checkers"
    );
    // The dump shows the new weight.
    let data = t.ask(Control::DumpData).await;
    assert!(data.contains("weight = 7"), "dump not patched");

    // The same delta again: its base is no longer what runs.
    assert_eq!(apply(&t, d).await, DeltaOutcome::BaseMismatch);
    let (ops, _) = t.ops_since(mark);
    assert!(ops.is_empty(), "{ops:?}");

    t.stop().await;
}

/// A delta that removes the first service and adds one at the end moves
/// every other service: the engine re-points their checkers (the debug
/// build checks every checker is served once, engine/reload_match.rs),
/// starts only the new service's and stops the removed one's; a weight
/// edit after that is still one op.
#[tokio::test]
async fn a_delta_moving_every_service_starts_only_the_new_checkers() {
    const SERVICES: usize = 40;
    const DESTS: usize = 3;
    let base = services(SERVICES, DESTS);
    let mut first = parse(&base);
    let t = TestEngine::start(&first, SERVICES * DESTS).await;
    let (_, mark) = t.ops_since(0);

    // The first service's lines become comments (so the others keep their
    // lines, the origins fingerprinted with them) and one service is added
    // at the end: every other service moves down one index.
    let added = Vs {
        port: 11000,
        weights: vec![1; DESTS],
        quorum: 1,
    };
    let next_text = |vss: &[Vs]| {
        let whole = text(vss);
        let first = text(&vss[..1]);
        let global = text(&[]);
        let first_vs = &first[global.len()..];
        let blanked: String = first_vs.lines().map(|_| "# gone\n").collect();
        let mut t = whole.replacen(first_vs, &blanked, 1);
        t.push_str(&text(std::slice::from_ref(&added))[global.len()..]);
        t
    };
    let parse_text = |t: &str| {
        rkeepalived_config::parse_str(t, "delta.conf", &LoadOptions::default())
            .expect("parses")
            .config
    };
    let mut second = parse_text(&next_text(&base));
    let d = delta(&mut first, &mut second).expect("delta");
    assert_eq!(d.changed(), 1);
    assert_eq!(d.layout[0], VsSlot::Kept(1));
    t.tx.send(Control::Delta(DeltaMsg::Digest(d.base.clone())))
        .await
        .expect("digest");
    assert_eq!(apply(&t, d).await, DeltaOutcome::Applied);
    assert_eq!(
        t.built(),
        (SERVICES + 1) * DESTS,
        "only the added service's checkers start"
    );
    assert_eq!(t.dest_count(), SERVICES * DESTS);
    let (_, mark) = t.ops_since(mark);

    // Then one weight, on a service that moved.
    let mut third_vs = base.clone();
    third_vs[5].weights[1] = 9;
    let mut third = parse_text(&next_text(&third_vs));
    let d = delta(&mut second, &mut third).expect("delta");
    assert_eq!(apply(&t, d).await, DeltaOutcome::Applied);
    let (ops, _) = t.ops_since(mark);
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(t.built(), (SERVICES + 1) * DESTS);
    t.stop().await;
}

/// A real server removed by its failed checker, then a delta reload of
/// another virtual server (the lab's failover reload phase): the dead real
/// server stays out, the reload sends only the other service's ops, and
/// the checker engine does not stop (debug builds cross-check the O(change)
/// update against the full sync, whose owned set forgets the dead real
/// server at once: engine/reload_sync.rs).
#[tokio::test]
async fn a_failed_real_server_stays_out_across_a_delta_reload_of_another_service() {
    // Two services of two real servers, checked every second.
    let conf = |w: u32| {
        let mut t = String::new();
        for (port, w1) in [(80, 1), (8080, w)] {
            t.push_str(&format!(
                "virtual_server 192.0.2.1 {port} {{\n  delay_loop 1\n  lb_algo wrr\n  lb_kind NAT\n  protocol TCP\n"
            ));
            for (i, weight) in [(1, w1), (2, 1)] {
                t.push_str(&format!(
                    "  real_server 198.51.100.{i} {port} {{\n    weight {weight}\n    TCP_CHECK {{\n      connect_timeout 1\n      retry 0\n    }}\n  }}\n"
                ));
            }
            t.push_str("}\n");
        }
        rkeepalived_config::parse_str(&t, "failed.conf", &LoadOptions::default())
            .expect("parses")
            .config
    };
    let mut first = conf(1);
    let dead: std::net::SocketAddr = "198.51.100.1:80".parse().expect("addr");
    let t = TestEngine::start_with_down(&first, 3, Some(dead)).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while t.dest_count() != 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} dests",
            t.dest_count()
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (_, mark) = t.ops_since(0);
    let mut second = conf(3);
    let d = delta(&mut first, &mut second).expect("delta");
    assert_eq!(d.changed(), 1);
    t.tx.send(Control::Delta(DeltaMsg::Digest(d.base.clone())))
        .await
        .expect("digest");
    assert_eq!(apply(&t, d).await, DeltaOutcome::Applied);
    let (ops, _) = t.ops_since(mark);
    assert!(
        ops.iter().all(|op| format!("{op:?}").contains("8080")),
        "only the edited service: {ops:?}"
    );
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert_eq!(t.dest_count(), 3, "the dead real server stays out");
    // The engine still answers (it did not stop on a failed cross-check).
    let stats = t.ask(Control::DumpStats).await;
    assert!(stats.contains("(last reload 1)"), "{stats}");
    t.stop().await;
}
