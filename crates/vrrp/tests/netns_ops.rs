//! Operational features in a netns lab (root required): use_vmac, virtual
//! routes/rules/excluded addresses, notify FIFO lines, diff-based reload,
//! unsolicited neighbour advertisements.

mod common;

use std::io::BufRead;
use std::time::Duration;

use common::{prerequisites, wait_until, Impl, InstConf, Lab, NodeConf};

const VIP: &str = "192.0.2.100";
const SETTLE: Duration = Duration::from_secs(15);

#[test]
fn vmac_routes_rules_and_excluded_addresses() {
    if !prerequisites(false) {
        return;
    }
    let mut lab = Lab::new("vm", 2);
    let mut a = InstConf::new("VI_1", 81, 150, &format!("{VIP}/24"));
    a.extra = "    use_vmac vrrp.81\n    virtual_ipaddress_excluded {\n        198.51.100.1/32 dev eth0\n    }\n    virtual_routes {\n        203.0.113.0/24 via 192.0.2.254 dev eth0\n    }\n    virtual_rules {\n        from 198.51.100.0/24 table 100\n    }\n".into();
    lab.start(1, Impl::Ours, &NodeConf::one(a));
    lab.start(
        2,
        Impl::Ours,
        &NodeConf::one(InstConf::new("VI_1", 81, 100, &format!("{VIP}/24"))),
    );
    let ok = lab.wait_sole_holder(1, VIP, SETTLE);
    if !ok {
        lab.dump_logs();
    }
    assert!(ok, "holders {:?}", lab.holders(VIP));
    let link = lab.exec(1, "ip -o link show vrrp.81").expect("vmac exists");
    assert!(
        link.contains("00:00:5e:00:01:51"),
        "RFC 5798 §7.3 virtual MAC expected: {link}"
    );
    let on_vmac = lab
        .exec(1, "ip -o addr show dev vrrp.81")
        .unwrap_or_default();
    assert!(on_vmac.contains(VIP), "VIP lives on the vmac: {on_vmac}");
    assert!(lab.has_addr(1, "198.51.100.1"), "excluded address added");
    let routes = lab
        .exec(1, "ip route show 203.0.113.0/24")
        .unwrap_or_default();
    assert!(
        routes.contains("via 192.0.2.254"),
        "virtual route added: {routes:?}"
    );
    let rules = lab.exec(1, "ip rule show").unwrap_or_default();
    assert!(
        rules.contains("from 198.51.100.0/24 lookup 100"),
        "virtual rule added: {rules}"
    );
    // The backup hears adverts sent from the vmac.
    assert_eq!(lab.state(2, "VI_1").as_deref(), Some("BACKUP"));
    // Hosts on the LAN resolve the VIP to the virtual router MAC only.
    let br = lab.br_ns();
    let _ = std::process::Command::new("ip")
        .args(["netns", "exec", &br, "ping", "-c", "1", "-W", "2", VIP])
        .status();
    let neigh = std::process::Command::new("ip")
        .args(["-n", &br, "neigh", "show", VIP])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    assert!(
        neigh.contains("00:00:5e:00:01:51"),
        "VIP must resolve to the vmac MAC: {neigh:?}"
    );
    lab.stop(1);
    assert!(
        !lab.has_addr(1, VIP) && !lab.has_addr(1, "198.51.100.1"),
        "addresses removed on stop"
    );
    assert!(
        lab.exec(1, "ip route show 203.0.113.0/24")
            .unwrap_or_default()
            .trim()
            .is_empty(),
        "route removed"
    );
    assert!(
        !lab.exec(1, "ip rule show")
            .unwrap_or_default()
            .contains("lookup 100"),
        "rule removed"
    );
    assert!(
        lab.exec(1, "ip link show vrrp.81").is_err(),
        "vmac removed on stop"
    );
    assert!(lab.wait_sole_holder(2, VIP, SETTLE));
}

#[test]
fn notify_fifo_lines_and_diff_reload() {
    if !prerequisites(false) {
        return;
    }
    let mut lab = Lab::new("nf", 1);
    let fifo = lab.dir.join("notify.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    let mut node = NodeConf::one(InstConf::new("VI_1", 83, 150, VIP));
    node.notify_fifo = Some(fifo.display().to_string());
    // Reader first (opening a FIFO for reading blocks until a writer appears).
    let (tx, rx) = std::sync::mpsc::channel();
    let path = fifo.clone();
    std::thread::spawn(move || {
        if let Ok(f) = std::fs::File::open(&path) {
            for line in std::io::BufReader::new(f).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        }
    });
    lab.start(1, Impl::Ours, &node);
    let mut lines = Vec::new();
    let got = wait_until(SETTLE, || {
        lines.extend(rx.try_iter());
        lines.iter().any(|l| l == "INSTANCE \"VI_1\" MASTER 150")
    });
    assert!(got, "keepalived-format FIFO line expected, got {lines:?}");
    assert!(
        lines.iter().any(|l| l == "INSTANCE \"VI_1\" BACKUP 150"),
        "startup BACKUP line: {lines:?}"
    );

    // Reload adding VI_2: VI_1 keeps its state (no new transition), VI_2 starts.
    let before = lab.dump(1).expect("dump");
    let transitions = before["vrrp"][0]["stats"]["transitions"]
        .as_u64()
        .unwrap_or(0);
    let mut node2 = node.clone();
    node2
        .instances
        .push(InstConf::new("VI_2", 84, 150, "192.0.2.102"));
    lab.reload(1, &node2);
    assert!(
        wait_until(SETTLE, || lab.has_addr(1, "192.0.2.102")),
        "new instance starts on reload"
    );
    let after = lab.dump(1).expect("dump");
    let vi1 = after["vrrp"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["iname"] == "VI_1"))
        .cloned()
        .expect("VI_1");
    assert_eq!(vi1["state"], "MASTER");
    assert_eq!(
        vi1["stats"]["transitions"].as_u64().unwrap_or(0),
        transitions,
        "unchanged instance keeps its state"
    );
    assert!(lab.has_addr(1, VIP));

    // Reload dropping VI_1: it stops and removes its VIP; VI_2 stays.
    let mut node3 = node.clone();
    node3.instances = vec![InstConf::new("VI_2", 84, 150, "192.0.2.102")];
    lab.reload(1, &node3);
    assert!(
        wait_until(SETTLE, || !lab.has_addr(1, VIP)),
        "removed instance drops its VIP"
    );
    assert!(lab.has_addr(1, "192.0.2.102"));
    assert!(
        wait_until(SETTLE, || {
            lines.extend(rx.try_iter());
            lines.iter().any(|l| l == "INSTANCE \"VI_1\" STOP 150")
        }),
        "STOP line for the removed instance: {lines:?}"
    );
}

#[test]
fn ipv6_master_sends_unsolicited_na() {
    if !prerequisites(false) || !common::require_tools(&["tcpdump", "timeout"]) {
        return;
    }
    let mut lab = Lab::new("na", 1);
    let br = lab.br_ns();
    let sniff = std::thread::spawn(move || {
        std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &br,
                "timeout",
                "12",
                "tcpdump",
                "-l",
                "-n",
                "-vv",
                "-c",
                "1",
                "-i",
                "br0",
                "icmp6 and ip6[40] = 136",
            ])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    });
    std::thread::sleep(Duration::from_millis(800));
    lab.start(
        1,
        Impl::Ours,
        &NodeConf::one(InstConf::new("VI_6", 85, 150, "2001:db8::100/64").v6()),
    );
    assert!(lab.wait_sole_holder(1, "2001:db8::100", SETTLE));
    let seen = sniff.join().unwrap_or_default();
    assert!(
        seen.contains("2001:db8::100") && seen.contains("hlim 255") && seen.contains("override"),
        "unsolicited NA expected: {seen:?}"
    );
}

#[test]
fn ipv6_instance_waits_for_its_link_local_address() {
    if !prerequisites(false) {
        return;
    }
    let mut lab = Lab::new("ll", 1);
    // Link down: no link-local address, interface fault.
    lab.set_link(1, false);
    lab.start(
        1,
        Impl::Ours,
        &NodeConf::one(InstConf::new("VI_6", 86, 150, "2001:db8::100/64").v6()),
    );
    assert!(wait_until(SETTLE, || lab.state(1, "VI_6").as_deref() == Some("FAULT")));
    lab.set_link(1, true);
    let ok = wait_until(SETTLE, || lab.has_addr(1, "2001:db8::100"));
    if !ok {
        lab.dump_logs();
    }
    assert!(ok, "instance recovers once the link-local address appears");
}

#[test]
fn static_addresses_and_routes_live_with_the_daemon() {
    if !prerequisites(false) {
        return;
    }
    let mut lab = Lab::new("st", 2);
    let mut node = NodeConf::one(InstConf::new("VI_1", 87, 100, VIP));
    node.extra_top = "static_ipaddress {\n    198.51.100.5/32 dev eth0\n}\nstatic_routes {\n    203.0.113.0/24 via 192.0.2.254 dev eth0\n}\n".into();
    // A higher priority peer keeps node 1 BACKUP: statics do not depend on state.
    lab.start(
        2,
        Impl::Ours,
        &NodeConf::one(InstConf::new("VI_1", 87, 150, VIP)),
    );
    assert!(lab.wait_sole_holder(2, VIP, SETTLE));
    lab.start(1, Impl::Ours, &node);
    let ok = wait_until(SETTLE, || lab.has_addr(1, "198.51.100.5"));
    if !ok {
        lab.dump_logs();
    }
    assert!(ok, "static address added at startup");
    let routes = lab
        .exec(1, "ip route show 203.0.113.0/24")
        .unwrap_or_default();
    assert!(
        routes.contains("via 192.0.2.254"),
        "static route added: {routes:?}"
    );
    assert_eq!(lab.state(1, "VI_1").as_deref(), Some("BACKUP"));
    lab.stop(1);
    assert!(
        !lab.has_addr(1, "198.51.100.5"),
        "static address removed on stop"
    );
    assert!(lab
        .exec(1, "ip route show 203.0.113.0/24")
        .unwrap_or_default()
        .trim()
        .is_empty());
}

#[test]
fn reload_changing_vips_applies_in_place_without_transition() {
    if !prerequisites(false) {
        return;
    }
    let mut lab = Lab::new("ip", 1);
    let node = NodeConf::one(InstConf::new("VI_1", 85, 150, VIP));
    lab.start(1, Impl::Ours, &node);
    assert!(lab.wait_sole_holder(1, VIP, SETTLE), "master holds the VIP");
    assert!(
        wait_until(SETTLE, || lab.state(1, "VI_1").as_deref() == Some("MASTER")),
        "VI_1 reaches MASTER"
    );
    let transitions = |lab: &Lab| {
        lab.dump(1).and_then(|d| {
            d["vrrp"]
                .as_array()
                .and_then(|a| a.iter().find(|x| x["iname"] == "VI_1"))
                .and_then(|x| x["stats"]["transitions"].as_u64())
        })
    };
    let before = transitions(&lab).expect("dump with VI_1 transitions");

    // Add a second VIP: it appears, the first stays, no state change.
    let mut added = node.clone();
    added.instances[0].vips.push("192.0.2.103".into());
    lab.reload(1, &added);
    assert!(
        wait_until(SETTLE, || lab.has_addr(1, "192.0.2.103")),
        "added VIP appears without a restart"
    );
    assert!(lab.has_addr(1, VIP), "kept VIP never removed");
    assert_eq!(lab.state(1, "VI_1").as_deref(), Some("MASTER"));
    assert_eq!(
        transitions(&lab),
        Some(before),
        "no transition for a VIP change"
    );

    // Drop the first VIP: it goes, the second stays, still no state change.
    let mut dropped = node.clone();
    dropped.instances[0].vips = vec!["192.0.2.103".into()];
    lab.reload(1, &dropped);
    assert!(
        wait_until(SETTLE, || !lab.has_addr(1, VIP)),
        "removed VIP is deleted"
    );
    assert!(lab.has_addr(1, "192.0.2.103"));
    assert_eq!(lab.state(1, "VI_1").as_deref(), Some("MASTER"));
    assert_eq!(
        transitions(&lab),
        Some(before),
        "no transition for a VIP change"
    );
}
