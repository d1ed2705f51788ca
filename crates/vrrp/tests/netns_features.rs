//! Tracking-induced failover, unicast mode, sync groups, IPv6 (VRRPv3) and
//! gratuitous ARP on the wire, between our nodes in a netns lab (root required).

mod common;

use std::time::Duration;

use common::{prerequisites, Impl, InstConf, Lab, NodeConf, ScriptConf};

const VIP: &str = "192.0.2.100";
const SETTLE: Duration = Duration::from_secs(15);

#[test]
fn track_interface_down_moves_the_vip() {
    if !prerequisites(false) {
        return;
    }
    let mut lab = Lab::new("ti", 2);
    // A veth pair inside node 1 stands in for an uplink (no dummy module on all kernels).
    lab.exec(1, "ip link add uplink type veth peer name uplink-p")
        .expect("dummy");
    lab.exec(1, "ip link set uplink-p up")
        .expect("uplink peer up");
    lab.exec(1, "ip link set uplink up").expect("uplink up");
    let mut a = InstConf::new("VI_1", 61, 150, VIP);
    a.track_interfaces = vec![("uplink".into(), 0)];
    lab.start(1, Impl::Ours, &NodeConf::one(a));
    lab.start(
        2,
        Impl::Ours,
        &NodeConf::one(InstConf::new("VI_1", 61, 100, VIP)),
    );
    assert!(
        lab.wait_sole_holder(1, VIP, SETTLE),
        "holders {:?}",
        lab.holders(VIP)
    );
    lab.exec(1, "ip link set uplink down").expect("uplink down");
    let ok = lab.wait_sole_holder(2, VIP, SETTLE);
    if !ok {
        lab.dump_logs();
    }
    assert!(
        ok,
        "tracked interface down -> FAULT, backup takes over; holders {:?}",
        lab.holders(VIP)
    );
    assert_eq!(lab.state(1, "VI_1").as_deref(), Some("FAULT"));
    lab.exec(1, "ip link set uplink up").expect("uplink up");
    assert!(
        lab.wait_sole_holder(1, VIP, SETTLE),
        "recovered node preempts back"
    );
}

#[test]
fn failing_track_script_lowers_priority() {
    if !prerequisites(false) {
        return;
    }
    let mut lab = Lab::new("ts", 2);
    let flag = lab.dir.join("healthy");
    std::fs::write(&flag, "").expect("flag");
    let check = lab.dir.join("check.sh");
    std::fs::write(&check, format!("#!/bin/sh\ntest -e {}\n", flag.display())).expect("script");
    std::process::Command::new("chmod")
        .args(["755"])
        .arg(&check)
        .status()
        .expect("chmod");
    let mut node = NodeConf::one(InstConf::new("VI_1", 62, 150, VIP));
    node.instances[0].track_scripts = vec![("chk".into(), -100)];
    node.scripts = vec![ScriptConf {
        name: "chk".into(),
        command: check.display().to_string(),
        interval_ms: 200,
        weight: -100,
        rise: 1,
        fall: 1,
    }];
    lab.start(1, Impl::Ours, &node);
    lab.start(
        2,
        Impl::Ours,
        &NodeConf::one(InstConf::new("VI_1", 62, 100, VIP)),
    );
    assert!(
        lab.wait_sole_holder(1, VIP, SETTLE),
        "holders {:?}",
        lab.holders(VIP)
    );
    std::fs::remove_file(&flag).expect("rm flag");
    let ok = lab.wait_sole_holder(2, VIP, SETTLE);
    if !ok {
        lab.dump_logs();
    }
    assert!(
        ok,
        "priority 150-100=50 < 100: node 2 must preempt; holders {:?}",
        lab.holders(VIP)
    );
    let d = lab.dump(1).expect("dump");
    assert_eq!(d["vrrp"][0]["effective_priority"], 50, "{d}");
}

#[test]
fn unicast_peers_elect_a_master() {
    if !prerequisites(false) {
        return;
    }
    let mut lab = Lab::new("uc", 2);
    let mut a = InstConf::new("VI_1", 63, 150, VIP);
    a.unicast_src = Some(lab.v4(1));
    a.unicast_peers = vec![lab.v4(2)];
    let mut b = InstConf::new("VI_1", 63, 100, VIP);
    b.unicast_src = Some(lab.v4(2));
    b.unicast_peers = vec![lab.v4(1)];
    lab.start(1, Impl::Ours, &NodeConf::one(a));
    lab.start(2, Impl::Ours, &NodeConf::one(b));
    let ok = lab.wait_sole_holder(1, VIP, SETTLE);
    if !ok {
        lab.dump_logs();
    }
    assert!(ok, "holders {:?}", lab.holders(VIP));
    // Node 2 must actually hear node 1 (not be master by silence).
    let d = lab.dump(2).expect("dump");
    assert!(
        d["vrrp"][0]["stats"]["adverts_rx"].as_u64().unwrap_or(0) > 0,
        "{d}"
    );
    lab.stop(1);
    assert!(lab.wait_sole_holder(2, VIP, SETTLE));
}

#[test]
fn sync_group_members_fail_over_together() {
    if !prerequisites(false) {
        return;
    }
    let mut lab = Lab::new("sg", 2);
    let vip_b = "192.0.2.101";
    let make = |prio: u8| {
        let mut n = NodeConf::default();
        n.instances.push(InstConf::new("VI_A", 64, prio, VIP));
        n.instances.push(InstConf::new("VI_B", 65, prio, vip_b));
        n.sync_groups
            .push(("G1".into(), vec!["VI_A".into(), "VI_B".into()]));
        n
    };
    let mut n1 = make(150);
    lab.exec(1, "ip link add uplink type veth peer name uplink-p")
        .expect("dummy");
    lab.exec(1, "ip link set uplink-p up")
        .expect("uplink peer up");
    lab.exec(1, "ip link set uplink up").expect("uplink up");
    // Only VI_A tracks the uplink; the group must drag VI_B along.
    n1.instances[0].track_interfaces = vec![("uplink".into(), 0)];
    lab.start(1, Impl::Ours, &n1);
    lab.start(2, Impl::Ours, &make(100));
    assert!(lab.wait_sole_holder(1, VIP, SETTLE) && lab.wait_sole_holder(1, vip_b, SETTLE));
    lab.exec(1, "ip link set uplink down").expect("uplink down");
    let ok = lab.wait_sole_holder(2, VIP, SETTLE) && lab.wait_sole_holder(2, vip_b, SETTLE);
    if !ok {
        lab.dump_logs();
    }
    assert!(
        ok,
        "both VIPs move: {:?} {:?}",
        lab.holders(VIP),
        lab.holders(vip_b)
    );
}

#[test]
fn ipv6_v3_election_and_handover() {
    if !prerequisites(false) {
        return;
    }
    let mut lab = Lab::new("v6", 2);
    let vip6 = "2001:db8::100";
    lab.start(
        1,
        Impl::Ours,
        &NodeConf::one(InstConf::new("VI_6", 66, 150, &format!("{vip6}/64")).v6()),
    );
    lab.start(
        2,
        Impl::Ours,
        &NodeConf::one(InstConf::new("VI_6", 66, 100, &format!("{vip6}/64")).v6()),
    );
    let ok = lab.wait_sole_holder(1, vip6, SETTLE);
    if !ok {
        lab.dump_logs();
    }
    assert!(ok, "holders {:?}", lab.holders(vip6));
    let d = lab.dump(2).expect("dump");
    assert!(
        d["vrrp"][0]["stats"]["adverts_rx"].as_u64().unwrap_or(0) > 0,
        "backup hears v6 adverts: {d}"
    );
    lab.stop(1);
    assert!(lab.wait_sole_holder(2, vip6, SETTLE));
}

#[test]
fn gratuitous_arp_is_seen_on_the_wire() {
    if !prerequisites(false) || !common::require_tools(&["tcpdump", "timeout", "ping"]) {
        return;
    }
    let mut lab = Lab::new("ga", 1);
    // Sniff ARP on the bridge from the observer namespace.
    let br = lab.br_ns();
    let sniff = std::thread::spawn(move || {
        let out = std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &br,
                "timeout",
                "12",
                "tcpdump",
                "-l",
                "-n",
                "-c",
                "1",
                "-i",
                "br0",
                "arp and arp[24:4] = 0xc0000264",
            ])
            .output();
        out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    });
    std::thread::sleep(Duration::from_millis(800));
    lab.start(
        1,
        Impl::Ours,
        &NodeConf::one(InstConf::new("VI_1", 67, 150, VIP)),
    );
    assert!(lab.wait_sole_holder(1, VIP, SETTLE));
    let seen = sniff.join().unwrap_or_default();
    assert!(
        seen.contains("192.0.2.100"),
        "expected a GARP for the VIP, tcpdump saw: {seen:?}"
    );
    // And the VIP answers from the observer.
    let ping = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &lab.br_ns(),
            "ping",
            "-c",
            "1",
            "-W",
            "2",
            VIP,
        ])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ping, "VIP must answer ping from the LAN");
}

#[test]
fn sync_group_with_split_priorities_does_not_split() {
    if !prerequisites(false) {
        return;
    }
    let mut lab = Lab::new("ss", 2);
    let vip_b = "192.0.2.101";
    let make = |pa: u8, pb: u8| {
        let mut n = NodeConf::default();
        n.instances.push(InstConf::new("VI_A", 68, pa, VIP));
        n.instances.push(InstConf::new("VI_B", 69, pb, vip_b));
        n.sync_groups
            .push(("G1".into(), vec!["VI_A".into(), "VI_B".into()]));
        n
    };
    lab.start(1, Impl::Ours, &make(150, 100));
    lab.start(2, Impl::Ours, &make(100, 150));
    // Both VIPs end up on one node (whichever), each held exactly once.
    let together = |lab: &Lab| {
        let (a, b) = (lab.holders(VIP), lab.holders(vip_b));
        a.len() == 1 && a == b
    };
    let ok = common::wait_until(SETTLE, || together(&lab));
    if !ok {
        lab.dump_logs();
    }
    assert!(
        ok,
        "group members stay together: {:?} {:?}",
        lab.holders(VIP),
        lab.holders(vip_b)
    );
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        together(&lab),
        "and stay so: {:?} {:?}",
        lab.holders(VIP),
        lab.holders(vip_b)
    );
}
