//! Interoperability with the reference keepalived 2.2.7 in a netns lab:
//! ours Master / theirs Backup and the reverse, mixed election by priority,
//! VRRPv2 with PASS authentication, VRRPv3 (IPv4 and IPv6). Our side is the
//! shipped daemon (`Lab::with_daemon`), as operators run it. Root required.

mod common;

use std::time::Duration;

use common::{prerequisites, Impl, InstConf, Lab, NodeConf};

const VIP: &str = "192.0.2.100";
const SETTLE: Duration = Duration::from_secs(20);

/// Node 1 runs `first` with priority 150, node 2 `second` with 100; check
/// the election, then stop node 1 gracefully and check the handover, then
/// restart it and check preemption.
fn election(tag: &str, first: Impl, second: Impl, tweak: impl Fn(InstConf) -> InstConf, vip: &str) {
    let mut lab = Lab::new(tag, 2).with_daemon();
    let hi = NodeConf::one(tweak(InstConf::new("VI_1", 71, 150, vip)));
    let lo = NodeConf::one(tweak(InstConf::new("VI_1", 71, 100, vip)));
    let addr = vip.split('/').next().unwrap_or(vip).to_string();
    lab.start(2, second, &lo);
    // Let the lower priority become master first, so node 1 must preempt it.
    let ok = lab.wait_sole_holder(2, &addr, SETTLE);
    if !ok {
        lab.dump_logs();
    }
    assert!(
        ok,
        "{second:?} alone should become master; holders {:?}",
        lab.holders(&addr)
    );
    lab.start(1, first, &hi);
    let ok = lab.wait_sole_holder(1, &addr, SETTLE);
    if !ok {
        lab.dump_logs();
    }
    assert!(
        ok,
        "{first:?} (150) should preempt {second:?} (100); holders {:?}",
        lab.holders(&addr)
    );
    if first == Impl::Ours {
        let d = lab.dump(1).expect("dump");
        let drops = &d["vrrp"][0]["stats"]["drops"];
        assert!(
            drops.as_object().map(|m| m.is_empty()).unwrap_or(true),
            "no drops of keepalived adverts expected: {d}"
        );
    }
    // Graceful stop: priority 0 from node 1, node 2 takes over.
    lab.stop(1);
    let ok = lab.wait_sole_holder(2, &addr, SETTLE);
    if !ok {
        lab.dump_logs();
    }
    assert!(
        ok,
        "{second:?} should take over after {first:?} stops; holders {:?}",
        lab.holders(&addr)
    );
    if second == Impl::Ours {
        let d = lab.dump(2).expect("dump");
        assert!(
            d["vrrp"][0]["stats"]["priority_zero_rx"]
                .as_u64()
                .unwrap_or(0)
                >= 1,
            "{d}"
        );
        assert!(
            d["vrrp"][0]["stats"]["adverts_rx"].as_u64().unwrap_or(0) >= 1,
            "{d}"
        );
    }
}

fn check() -> bool {
    prerequisites(true)
}

#[test]
fn v2_ours_master_keepalived_backup() {
    if check() {
        election("i1", Impl::Ours, Impl::Keepalived, |i| i, VIP);
    }
}

#[test]
fn v2_keepalived_master_ours_backup() {
    if check() {
        election("i2", Impl::Keepalived, Impl::Ours, |i| i, VIP);
    }
}

#[test]
fn v2_pass_auth_both_ways() {
    if check() {
        let auth = |mut i: InstConf| {
            i.auth_pass = Some("s3cret".into());
            i
        };
        election("i3", Impl::Ours, Impl::Keepalived, auth, VIP);
        election("i4", Impl::Keepalived, Impl::Ours, auth, VIP);
    }
}

#[test]
fn v3_ipv4_both_ways() {
    if check() {
        election("i5", Impl::Ours, Impl::Keepalived, |i| i.v3(100), VIP);
        election("i6", Impl::Keepalived, Impl::Ours, |i| i.v3(100), VIP);
    }
}

#[test]
fn v3_ipv6_both_ways() {
    if check() {
        let v6 = |i: InstConf| i.v6();
        election("i7", Impl::Ours, Impl::Keepalived, v6, "2001:db8::100/64");
        election("i8", Impl::Keepalived, Impl::Ours, v6, "2001:db8::100/64");
    }
}

#[test]
fn wrong_password_is_dropped_and_counted() {
    if !check() {
        return;
    }
    let mut lab = Lab::new("i9", 2).with_daemon();
    let mut theirs = InstConf::new("VI_1", 72, 150, VIP);
    theirs.auth_pass = Some("theirs".into());
    let mut ours = InstConf::new("VI_1", 72, 100, VIP);
    ours.auth_pass = Some("ours".into());
    lab.start(1, Impl::Keepalived, &NodeConf::one(theirs));
    lab.start(2, Impl::Ours, &NodeConf::one(ours));
    let counted = common::wait_until(SETTLE, || {
        lab.dump(2)
            .map(|d| {
                d["vrrp"][0]["stats"]["drops"]["auth_failure"]
                    .as_u64()
                    .unwrap_or(0)
                    > 0
            })
            .unwrap_or(false)
    });
    if !counted {
        lab.dump_logs();
        eprintln!("{:?}", lab.dump(2));
    }
    assert!(
        counted,
        "adverts with the wrong password must be dropped and counted"
    );
}

/// Unicast peers (v2 and v3): keepalived and ours elect and hand over.
fn unicast_election(tag: &str, first: Impl, second: Impl, v3: bool) {
    let mut lab = Lab::new(tag, 2).with_daemon();
    let make = |i: usize, prio: u8| {
        let mut c = InstConf::new("VI_1", 73, prio, VIP);
        if v3 {
            c = c.v3(100);
        }
        c.unicast_src = Some(lab.v4(i));
        c.unicast_peers = vec![lab.v4(3 - i)];
        NodeConf::one(c)
    };
    let (n1, n2) = (make(1, 150), make(2, 100));
    lab.start(2, second, &n2);
    assert!(
        lab.wait_sole_holder(2, VIP, SETTLE),
        "{second:?} alone becomes master"
    );
    lab.start(1, first, &n1);
    let ok = lab.wait_sole_holder(1, VIP, SETTLE);
    if !ok {
        lab.dump_logs();
    }
    assert!(
        ok,
        "{first:?} (150) preempts {second:?} over unicast; holders {:?}",
        lab.holders(VIP)
    );
    let ours = if first == Impl::Ours { 1 } else { 2 };
    let d = lab.dump(ours).expect("dump");
    assert!(
        d["vrrp"][0]["stats"]["adverts_rx"].as_u64().unwrap_or(0) > 0,
        "ours hears keepalived: {d}"
    );
    lab.stop(1);
    assert!(
        lab.wait_sole_holder(2, VIP, SETTLE),
        "handover over unicast"
    );
}

#[test]
fn unicast_v2_and_v3_both_ways() {
    if check() {
        unicast_election("u1", Impl::Ours, Impl::Keepalived, false);
        unicast_election("u2", Impl::Keepalived, Impl::Ours, false);
        unicast_election("u3", Impl::Ours, Impl::Keepalived, true);
        unicast_election("u4", Impl::Keepalived, Impl::Ours, true);
    }
}
