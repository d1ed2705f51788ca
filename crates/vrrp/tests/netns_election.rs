//! Election, preemption, nopreempt, graceful handover and kill -9 failover
//! between our nodes in a network-namespace lab (root required).

mod common;

use std::time::Duration;

use common::{prerequisites, Impl, InstConf, Lab, NodeConf};

const VIP: &str = "192.0.2.100";
/// Bounded waits only (never timing assertions): generous for loaded CI.
const SETTLE: Duration = Duration::from_secs(15);

fn pair(lab: &mut Lab, p1: u8, p2: u8, tweak: impl Fn(InstConf) -> InstConf) {
    lab.start(
        1,
        Impl::Ours,
        &NodeConf::one(tweak(InstConf::new("VI_1", 51, p1, &format!("{VIP}/24")))),
    );
    lab.start(
        2,
        Impl::Ours,
        &NodeConf::one(tweak(InstConf::new("VI_1", 51, p2, &format!("{VIP}/24")))),
    );
}

#[test]
fn higher_priority_wins_and_graceful_stop_hands_over() {
    if !prerequisites(false) {
        return;
    }
    let mut lab = Lab::new("el", 2);
    pair(&mut lab, 150, 100, |i| i);
    let ok = lab.wait_sole_holder(1, VIP, SETTLE);
    if !ok {
        lab.dump_logs();
    }
    assert!(
        ok,
        "node 1 (priority 150) should be the only VIP holder, holders: {:?}",
        lab.holders(VIP)
    );
    assert_eq!(lab.state(1, "VI_1").as_deref(), Some("MASTER"));
    assert_eq!(lab.state(2, "VI_1").as_deref(), Some("BACKUP"));

    // Graceful stop: priority 0 advert, VIP removed, backup takes over.
    lab.stop(1);
    assert!(!lab.has_addr(1, VIP), "stopped node must remove its VIP");
    assert!(
        lab.wait_sole_holder(2, VIP, SETTLE),
        "backup should take over after priority 0"
    );

    // Preemption: the higher priority node comes back and takes the VIP.
    lab.start(
        1,
        Impl::Ours,
        &NodeConf::one(InstConf::new("VI_1", 51, 150, &format!("{VIP}/24"))),
    );
    let ok = lab.wait_sole_holder(1, VIP, SETTLE);
    if !ok {
        lab.dump_logs();
    }
    assert!(
        ok,
        "higher priority node should preempt, holders: {:?}",
        lab.holders(VIP)
    );
}

#[test]
fn kill9_master_fails_over_after_master_down_interval() {
    if !prerequisites(false) {
        return;
    }
    let mut lab = Lab::new("k9", 2);
    pair(&mut lab, 150, 100, |i| i.v3(100));
    assert!(
        lab.wait_sole_holder(1, VIP, SETTLE),
        "holders: {:?}",
        lab.holders(VIP)
    );
    lab.kill9(1);
    // The killed node's VIP stays (nobody removed it); the backup must claim it too.
    let ok = common::wait_until(SETTLE, || lab.has_addr(2, VIP));
    if !ok {
        lab.dump_logs();
    }
    assert!(ok, "backup should become master after Master_Down_Interval");
    assert_eq!(lab.state(2, "VI_1").as_deref(), Some("MASTER"));
}

#[test]
fn nopreempt_keeps_the_current_master() {
    if !prerequisites(false) {
        return;
    }
    let mut lab = Lab::new("np", 2);
    lab.start(
        2,
        Impl::Ours,
        &NodeConf::one(InstConf::new("VI_1", 52, 100, &format!("{VIP}/24"))),
    );
    assert!(
        lab.wait_sole_holder(2, VIP, SETTLE),
        "lone node should become master"
    );
    let mut hi = InstConf::new("VI_1", 52, 150, &format!("{VIP}/24"));
    hi.nopreempt = true;
    lab.start(1, Impl::Ours, &NodeConf::one(hi));
    assert!(common::wait_until(SETTLE, || lab
        .state(1, "VI_1")
        .as_deref()
        == Some("BACKUP")));
    // Give a would-be preemption several Master_Down_Intervals to (not) happen.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(
        lab.holders(VIP),
        vec![2],
        "nopreempt node must not take over"
    );
}

#[test]
fn vip_removed_by_hand_is_restored() {
    if !prerequisites(false) {
        return;
    }
    let mut lab = Lab::new("rs", 1);
    lab.start(
        1,
        Impl::Ours,
        &NodeConf::one(InstConf::new("VI_1", 53, 100, &format!("{VIP}/24"))),
    );
    assert!(lab.wait_sole_holder(1, VIP, SETTLE));
    lab.exec(1, &format!("ip addr del {VIP}/24 dev eth0"))
        .expect("ip addr del");
    let ok = common::wait_until(SETTLE, || lab.has_addr(1, VIP));
    assert!(ok, "VIP should be restored while MASTER");
    let dump = lab.dump(1).expect("dump");
    let restores = dump["vrrp"][0]["stats"]["vip_restores"]
        .as_u64()
        .unwrap_or(0);
    assert!(restores >= 1, "restore must be counted: {dump}");
}
