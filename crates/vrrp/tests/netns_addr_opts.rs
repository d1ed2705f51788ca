//! VIP / route / rule options side by side with keepalived 2.2.7 (root and
//! keepalived required): each implementation runs the same configuration
//! alone in its own namespace lab, becomes MASTER, and the kernel state it
//! leaves is compared: `ip -j addr` (VIP `peer`, IPv6 `preferred_lft` and
//! the /128 default), `ip -j route show table all` (route `mtu`, `advmss`,
//! multipath `nexthop ... weight`, protocol 18), `ip -j rule` (protocol 18
//! on tracked rules, none with `no_track`), the interface's
//! `promote_secondaries` sysctl (set while running, restored on stop) and
//! the notify FIFO lines of `notify_priority_changes`. Then `no_track`
//! VIPs / routes / rules are deleted by hand: neither side puts them back.
//!
//! Our side is the shipped daemon: run `cargo build --bin rkeepalived` first.

mod common;

use std::io::BufRead;
use std::sync::mpsc::Receiver;
use std::time::Duration;

use common::{prerequisites, wait_until, Impl, InstConf, Lab, NodeConf};

const VIP: &str = "192.0.2.100";
const SETTLE: Duration = Duration::from_secs(15);

/// The configuration under test; `dir` holds the track file and FIFO.
fn node(dir: &std::path::Path) -> NodeConf {
    let mut i = InstConf::new("VI_1", 61, 150, &format!("{VIP}/24"));
    i.master = true;
    i.vips = vec![
        format!("{VIP}/24"),
        // Point-to-point VIP: IFA_LOCAL 192.0.2.101, IFA_ADDRESS the peer.
        "192.0.2.101 peer 192.0.2.201".into(),
        // Secondary in the VIP's subnet, not tracked.
        "192.0.2.102/24 no_track".into(),
    ];
    i.extra = "    promote_secondaries
    notify_priority_changes
    track_file {
        tf weight 1
    }
    virtual_ipaddress_excluded {
        2001:db8:1::100/64 preferred_lft 0
        2001:db8:1::101/128
        2001:db8:1::102/64
        2001:db8:1::103/64 preferred_lft 120
    }
    virtual_routes {
        198.51.100.0/24 via 192.0.2.254 dev eth0 mtu 1400 advmss 1360
        203.0.113.0/24 nexthop via 192.0.2.253 dev eth0 weight 3 nexthop via 192.0.2.254 dev eth0
        203.0.113.128/25 via 192.0.2.254 dev eth0 no_track
    }
    virtual_rules {
        from 198.51.100.0/24 table 100
        from 203.0.113.0/24 table 101 no_track
    }
"
    .into();
    let mut n = NodeConf::one(i);
    n.extra_top = format!(
        "vrrp_track_file tf {{\n    file {}\n    weight 1\n}}\n",
        dir.join("track").display()
    );
    n.notify_fifo = Some(dir.join("notify.fifo").display().to_string());
    n
}

fn json(lab: &Lab, cmd: &str) -> Vec<serde_json::Value> {
    let out = lab.exec(1, cmd).unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{cmd}: {e}: {out}"))
}

/// The addresses on eth0 other than the lab's own (sorted, comparable).
fn addrs(lab: &Lab) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for link in json(lab, "ip -j addr show dev eth0") {
        for a in link["addr_info"].as_array().cloned().unwrap_or_default() {
            let local = a["local"].as_str().unwrap_or("");
            if local == "192.0.2.11" || local == "2001:db8::11" || local.starts_with("fe80") {
                continue;
            }
            out.push(a);
        }
    }
    out.sort_by_key(|a| a["local"].as_str().unwrap_or("").to_string());
    out
}

/// Our virtual routes (IPv4, every table).
fn routes(lab: &Lab) -> Vec<serde_json::Value> {
    let mut out: Vec<_> = json(lab, "ip -j route show table all")
        .into_iter()
        .filter(|r| {
            let d = r["dst"].as_str().unwrap_or("");
            d.starts_with("198.51.100.") || d.starts_with("203.0.113.")
        })
        .filter(|r| r["table"].as_str() != Some("local"))
        .collect();
    out.sort_by_key(|r| r["dst"].as_str().unwrap_or("").to_string());
    out
}

/// Rules other than the kernel's defaults.
fn rules(lab: &Lab) -> Vec<serde_json::Value> {
    json(lab, "ip -j rule")
        .into_iter()
        .filter(|r| !matches!(r["priority"].as_u64(), Some(0 | 32766 | 32767)))
        .collect()
}

fn promote(lab: &Lab) -> String {
    lab.exec(1, "cat /proc/sys/net/ipv4/conf/eth0/promote_secondaries")
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Reader for the node's notify FIFO (opened before the daemon starts).
fn fifo_reader(dir: &std::path::Path) -> Receiver<String> {
    let fifo = dir.join("notify.fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).expect("mkfifo");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if let Ok(f) = std::fs::File::open(&fifo) {
            for line in std::io::BufReader::new(f).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// What one implementation did.
#[derive(Debug)]
struct Observed {
    addrs: Vec<serde_json::Value>,
    routes: Vec<serde_json::Value>,
    rules: Vec<serde_json::Value>,
    promote_running: String,
    promote_stopped: String,
    /// FIFO lines after the track file moved the priority 150 -> 140 -> 150.
    fifo: Vec<String>,
    /// no_track VIP / route / rule still absent 3 s after their deletion.
    untracked_stay_deleted: bool,
    /// The tracked VIP came back after its deletion by hand.
    tracked_vip_back: bool,
    /// FIFO lines meanwhile.
    tracked_vip_fifo: Vec<String>,
}

fn observe(which: Impl, tag: &str) -> Option<Observed> {
    let lab = Lab::new(tag, 1);
    let mut lab = if which == Impl::Ours {
        lab.with_daemon()
    } else {
        lab
    };
    lab.exec(1, "sysctl -qw net.ipv4.conf.eth0.promote_secondaries=0")
        .expect("sysctl");
    std::fs::write(lab.dir.join("track"), "0\n").expect("track file");
    let rx = fifo_reader(&lab.dir);
    let conf = node(&lab.dir);
    lab.start(1, which, &conf);
    let mut lines: Vec<String> = Vec::new();
    let master = wait_until(SETTLE, || {
        lines.extend(rx.try_iter());
        lines.iter().any(|l| l == "INSTANCE \"VI_1\" MASTER 150")
            && lab.has_addr(1, "2001:db8:1::103")
    });
    if !master {
        lab.dump_logs();
        panic!("{which:?}: no MASTER: {lines:?}");
    }
    // Let the routes / rules (added after the VIPs) settle.
    std::thread::sleep(Duration::from_millis(500));
    let (addrs, routes, rules) = (addrs(&lab), routes(&lab), rules(&lab));
    let promote_running = promote(&lab);

    // notify_priority_changes: the track file moves the priority.
    let start = lines.len();
    std::fs::write(lab.dir.join("track"), "-10\n").expect("track file");
    let lowered = wait_until(SETTLE, || {
        lines.extend(rx.try_iter());
        lines[start..].iter().any(|l| l.contains("140"))
    });
    std::fs::write(lab.dir.join("track"), "0\n").expect("track file");
    let restored = wait_until(SETTLE, || {
        lines.extend(rx.try_iter());
        lines[start..].iter().any(|l| l.ends_with("PRIORITY 150"))
    });
    if !lowered || !restored {
        lab.dump_logs();
    }
    std::thread::sleep(Duration::from_millis(300));
    lines.extend(rx.try_iter());
    let fifo = lines[start..].to_vec();

    // no_track: deleted by hand, nobody puts them back.
    for cmd in [
        "ip addr del 192.0.2.102/24 dev eth0",
        "ip route del 203.0.113.128/25",
        "ip rule del from 203.0.113.0/24 table 101",
    ] {
        lab.exec(1, cmd)
            .unwrap_or_else(|e| panic!("{which:?}: {e}"));
    }
    std::thread::sleep(Duration::from_secs(3));
    let untracked_stay_deleted = !lab.has_addr(1, "192.0.2.102")
        && lab
            .exec(1, "ip route show 203.0.113.128/25")
            .unwrap_or_default()
            .trim()
            .is_empty()
        && !lab
            .exec(1, "ip rule")
            .unwrap_or_default()
            .contains("lookup 101");

    // A tracked VIP deleted by hand: both put it back (see the README's
    // differences for how).
    let start = lines.len();
    lab.exec(1, &format!("ip addr del {VIP}/24 dev eth0"))
        .unwrap_or_else(|e| panic!("{which:?}: {e}"));
    let tracked_vip_back = wait_until(SETTLE, || lab.has_addr(1, VIP));
    std::thread::sleep(Duration::from_millis(500));
    lines.extend(rx.try_iter());
    let tracked_vip_fifo = lines[start..].to_vec();

    lab.stop(1);
    let promote_stopped = promote(&lab);
    Some(Observed {
        addrs,
        routes,
        rules,
        promote_running,
        promote_stopped,
        fifo,
        untracked_stay_deleted,
        tracked_vip_back,
        tracked_vip_fifo,
    })
}

#[test]
fn vip_route_rule_options_match_keepalived() {
    if !prerequisites(true) {
        return;
    }
    let Some(ours) = observe(Impl::Ours, "aor") else {
        return;
    };
    let Some(ka) = observe(Impl::Keepalived, "aok") else {
        return;
    };
    eprintln!("ours: {ours:#?}\nkeepalived: {ka:#?}");

    // VIP peer and preferred_lft (and keepalived's /128 default of 0).
    assert_eq!(ours.addrs, ka.addrs, "ip -j addr");
    let peer = ours
        .addrs
        .iter()
        .find(|a| a["local"] == "192.0.2.101")
        .expect("peer VIP");
    assert_eq!(peer["address"], "192.0.2.201", "peer address: {peer}");
    for (a, lft) in [
        ("2001:db8:1::100", Some(0)),
        ("2001:db8:1::101", Some(0)),
        ("2001:db8:1::103", Some(120)),
    ] {
        let x = ours.addrs.iter().find(|x| x["local"] == a).expect(a);
        if let Some(lft) = lft {
            let got = x["preferred_life_time"].as_u64().unwrap_or(u64::MAX);
            assert!(got <= lft, "{a}: preferred_lft {got} > {lft}");
        }
    }

    // mtu / advmss metrics, multipath weights, protocol 18.
    assert_eq!(ours.routes, ka.routes, "ip -j route show table all");
    let r = ours
        .routes
        .iter()
        .find(|r| r["dst"] == "198.51.100.0/24")
        .expect("mtu route");
    assert_eq!(r["metrics"][0]["mtu"], 1400, "{r}");
    let mp = ours
        .routes
        .iter()
        .find(|r| r["dst"] == "203.0.113.0/24")
        .expect("multipath route");
    assert_eq!(mp["nexthops"][0]["weight"], 3, "nexthop weight: {mp}");

    // Rule protocol: 18 when tracked, none with no_track.
    assert_eq!(ours.rules, ka.rules, "ip -j rule");

    // promote_secondaries: 1 while running, restored on stop.
    assert_eq!(
        (ours.promote_running.as_str(), ours.promote_stopped.as_str()),
        ("1", "0")
    );
    assert_eq!(ours.promote_running, ka.promote_running);
    assert_eq!(ours.promote_stopped, ka.promote_stopped);

    // notify_priority_changes: the same FIFO lines.
    assert_eq!(
        ours.fifo,
        [
            "INSTANCE \"VI_1\" MASTER_PRIORITY 140",
            "INSTANCE \"VI_1\" MASTER_PRIORITY 150"
        ]
    );
    assert_eq!(ours.fifo, ka.fifo);

    // no_track: deletions by someone else are ignored on both sides.
    assert!(ours.untracked_stay_deleted && ka.untracked_stay_deleted);

    // A tracked VIP deleted by hand comes back on both sides; keepalived
    // goes through BACKUP (set_vrrp_backup()), we restore it in place (a
    // documented difference, crates/vrrp/README.md).
    assert!(ours.tracked_vip_back && ka.tracked_vip_back);
    assert!(
        ours.tracked_vip_fifo.is_empty(),
        "{:?}",
        ours.tracked_vip_fifo
    );
    assert_eq!(
        ka.tracked_vip_fifo,
        [
            "INSTANCE \"VI_1\" BACKUP 150",
            "INSTANCE \"VI_1\" MASTER 150"
        ]
    );
}
