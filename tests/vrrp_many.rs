//! Many VRRP instances on many interfaces (issue #17 item 3), reduced to CI
//! size: 40 VRRPv3 instances on 10 links (4 per link, VRIDs 10..13 repeated
//! on every link), 2 IPv6 VIPs each, 1 s adverts, two daemons in two network
//! namespaces. The full-size run with timings (1,000 instances, 250 links,
//! 4,000 VIPs, against keepalived 2.2.7) is `bench/vrrp/many.sh`, whose
//! layout this test shares (`bench/vrrp/many_gen.py`: one veth pair per
//! "VLAN", the host kernel having no 802.1Q).
//!
//! Functional outcomes only, no timing beyond generous limits: every
//! instance is MASTER on the higher-priority node and BACKUP on the other,
//! after kill -9 of the master every VIP appears on the backup, and no
//! netlink error counter moves (per-instance `netlink_errors`, and no
//! overrun or failed address request in the log).

mod daemon_util;

use std::time::Duration;

use daemon_util::*;

const LINKS: u32 = 10;
const PER_LINK: u32 = 4;
const VIPS: u32 = 2;
const VID0: u32 = 10;
/// Generous: a node starts as BACKUP and claims after Master_Down_Interval
/// (3.6 s at 1 s adverts), on a machine shared with other builds.
const FUNCTIONAL: Duration = Duration::from_secs(60);

fn instances() -> u32 {
    LINKS * PER_LINK
}

/// The config of one node: the layout of `bench/vrrp/many_gen.py`.
fn config(priority: u8) -> String {
    let mut c = String::from("global_defs {\n    router_id many\n}\n");
    for v in VID0..VID0 + LINKS {
        for k in 0..PER_LINK {
            let vrid = 10 + k;
            c += &format!(
                "vrrp_instance VI_{v}_{vrid} {{\n    state BACKUP\n    interface vl{v}\n    \
                 virtual_router_id {vrid}\n    priority {priority}\n    version 3\n    \
                 advert_int 1\n    virtual_ipaddress {{\n"
            );
            for i in 1..=VIPS {
                c += &format!("        {}/64\n", vip(v, vrid, i));
            }
            c += "    }\n}\n";
        }
    }
    c
}

fn vip(vid: u32, vrid: u32, i: u32) -> String {
    format!("2001:db8:{vid:x}:{vrid:x}::{i:x}")
}

fn all_vips() -> Vec<String> {
    let mut out = Vec::new();
    for v in VID0..VID0 + LINKS {
        for k in 0..PER_LINK {
            for i in 1..=VIPS {
                out.push(vip(v, 10 + k, i));
            }
        }
    }
    out
}

/// The 2001:db8:: addresses present in `ns` (one dump).
fn vips_in(ns: &Netns) -> std::collections::HashSet<String> {
    let out = sh(&["ip", "-n", &ns.name, "-6", "-o", "addr", "show"]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split(" inet6 ").nth(1))
        .filter_map(|a| a.split('/').next())
        .filter(|a| a.starts_with("2001:db8:"))
        .map(str::to_string)
        .collect()
}

/// (state, netlink_errors) of every instance, from the status socket.
fn instance_states(d: &Daemon) -> Option<Vec<(String, String, u64)>> {
    let s = d.status()?;
    let list = s["children"]["vrrp"]["engine"]["vrrp"].as_array()?.clone();
    Some(
        list.iter()
            .map(|i| {
                (
                    i["iname"].as_str().unwrap_or("?").to_string(),
                    i["state"].as_str().unwrap_or("?").to_string(),
                    i["stats"]["netlink_errors"].as_u64().unwrap_or(u64::MAX),
                )
            })
            .collect(),
    )
}

fn all_in_state(d: &Daemon, state: &str) -> bool {
    instance_states(d)
        .is_some_and(|l| l.len() == instances() as usize && l.iter().all(|(_, s, _)| s == state))
}

fn assert_no_netlink_errors(d: &Daemon, node: &str) {
    let states = instance_states(d).expect("status answers");
    let bad: Vec<_> = states.iter().filter(|(_, _, e)| *e != 0).collect();
    assert!(bad.is_empty(), "{node}: netlink errors {bad:?}");
    let log = d.log();
    for needle in [
        "Netlink: Receive buffer overrun",
        "cannot add",
        "cannot delete",
    ] {
        assert!(!log.contains(needle), "{node} logged {needle:?}");
    }
}

#[test]
fn forty_instances_on_ten_links_fail_over_completely() {
    if !prerequisites(&[]) {
        return;
    }
    let tag = format!("many{}", std::process::id());
    let n1 = Netns::new("vmany1");
    let n2 = Netns::new("vmany2");
    for ns in [&n1, &n2] {
        let out = ns.exec(&[
            "sysctl",
            "-qw",
            "net.ipv6.conf.all.accept_dad=0",
            "net.ipv6.conf.default.accept_dad=0",
        ]);
        assert!(out.status.success(), "sysctl accept_dad");
    }
    for v in VID0..VID0 + LINKS {
        let name = format!("vl{v}");
        n1.ip(&[
            "link", "add", &name, "type", "veth", "peer", "name", &name, "netns", &n2.name,
        ]);
        n1.ip(&["link", "set", &name, "up"]);
        n2.ip(&["link", "set", &name, "up"]);
    }
    let s1 = Scratch::new(&format!("{tag}-n1"));
    let s2 = Scratch::new(&format!("{tag}-n2"));
    s1.write("keepalived.conf", &config(150));
    s2.write("keepalived.conf", &config(100));
    let d2 = Daemon::start(&n2, &s2, &["-P"], &[]);
    let d1 = Daemon::start(&n1, &s1, &["-P"], &[]);

    let want: std::collections::HashSet<String> = all_vips().into_iter().collect();
    wait_for("node 1 master of every instance", FUNCTIONAL, || {
        all_in_state(&d1, "MASTER") && vips_in(&n1) == want
    });
    wait_for("node 2 backup of every instance", FUNCTIONAL, || {
        all_in_state(&d2, "BACKUP") && vips_in(&n2).is_empty()
    });
    assert_no_netlink_errors(&d1, "node 1");
    assert_no_netlink_errors(&d2, "node 2");

    // kill -9 every process of node 1, frozen first (as bench/vrrp/many.sh).
    let pids = sh(&["ip", "netns", "pids", &n1.name]);
    let pids: Vec<String> = String::from_utf8_lossy(&pids.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert!(!pids.is_empty(), "node 1 runs processes");
    let mut stop = vec!["kill", "-STOP"];
    stop.extend(pids.iter().map(String::as_str));
    sh(&stop);
    let mut kill = vec!["kill", "-9"];
    kill.extend(pids.iter().map(String::as_str));
    sh(&kill);

    wait_for("every VIP on node 2 after kill -9", FUNCTIONAL, || {
        vips_in(&n2) == want
    });
    wait_for("node 2 master of every instance", FUNCTIONAL, || {
        all_in_state(&d2, "MASTER")
    });
    assert_no_netlink_errors(&d2, "node 2");
    drop(d1);
}
