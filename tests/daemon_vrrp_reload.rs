//! SIGHUP reloads of the real daemon (`rkeepalived -P`) in a netns lab
//! (issue #11 bug 2): a MASTER whose priority, advert_int, router_id,
//! tracking weights, notify scripts, unicast peers or garp settings change
//! keeps its VIP (sampled every 50 ms), never sends priority 0, and shows the
//! new priority/interval on the wire at once; a lowered priority hands over to
//! a preempting keepalived 2.2.7 and a raised one takes it back; a vrid or
//! interface change of an address owner keeps the VIP without a gap. The
//! in-place sequence also runs on keepalived 2.2.7 as node 1, which behaves
//! the same. Needs root, tcpdump and keepalived.

#[path = "../crates/vrrp/tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{prerequisites, wait_until, Impl, InstConf, Lab, NodeConf, ScriptConf};

const VIP: &str = "192.0.2.100";
const SETTLE: Duration = Duration::from_secs(15);

/// Drive the daemon built with this test (not the vrrp-node example).
fn use_daemon() {
    std::env::set_var("RKV_DAEMON", env!("CARGO_BIN_EXE_rkeepalived"));
}

/// (time since the sampler started, nodes holding the address).
type Sample = (Duration, Vec<usize>);

/// Samples every 50 ms which of the lab's nodes hold `addr`.
struct Sampler {
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<Sample>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Sampler {
    fn start(lab: &Lab, addr: &str) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let nss: Vec<String> = (1..=lab.nodes).map(|i| lab.ns(i)).collect();
        let (st, sa, addr) = (stop.clone(), samples.clone(), addr.to_string());
        let thread = std::thread::spawn(move || {
            let t0 = Instant::now();
            let mut next = t0;
            while !st.load(Ordering::SeqCst) {
                let holders: Vec<usize> = nss
                    .iter()
                    .enumerate()
                    .filter(|(_, ns)| {
                        Command::new("ip")
                            .args(["-n", ns, "-o", "addr", "show"])
                            .output()
                            .map(|o| {
                                String::from_utf8_lossy(&o.stdout)
                                    .split_whitespace()
                                    .any(|w| w.split('/').next() == Some(addr.as_str()))
                            })
                            .unwrap_or(false)
                    })
                    .map(|(i, _)| i + 1)
                    .collect();
                if let Ok(mut s) = sa.lock() {
                    s.push((t0.elapsed(), holders));
                }
                next += Duration::from_millis(50);
                if let Some(d) = next.checked_duration_since(Instant::now()) {
                    std::thread::sleep(d);
                }
            }
        });
        Sampler {
            stop,
            samples,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> Vec<Sample> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.samples.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for Sampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// One VRRP advert seen on the wire.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    src: String,
    prio: u32,
    intvl: String,
}

/// tcpdump of IP protocol 112 inside a namespace, parsed line by line.
struct Capture {
    child: Child,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Capture {
    fn start(ns: &str) -> Capture {
        let mut child = Command::new("ip")
            .args([
                "netns",
                "exec",
                ns,
                "tcpdump",
                "-l",
                "-nn",
                "-i",
                "eth0",
                "ip proto 112",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn tcpdump");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let out = child.stdout.take().expect("stdout");
        let s = seen.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(x) = parse(&line) {
                    if let Ok(mut v) = s.lock() {
                        v.push(x);
                    }
                }
            }
        });
        // tcpdump says "listening on" once the capture runs.
        let err = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let _ = rx.recv_timeout(Duration::from_secs(5));
        Capture { child, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `IP 192.0.2.11 > 192.0.2.12: VRRPv3, Advertisement, vrid 51, prio 200, intvl 10cs, length 12`
fn parse(line: &str) -> Option<Seen> {
    let (head, vrrp) = line.split_once(": VRRP")?;
    let src = head.split_whitespace().rev().nth(2)?.to_string();
    let field = |name: &str| {
        vrrp.split(", ")
            .find_map(|f| f.strip_prefix(name))
            .map(str::to_string)
    };
    Some(Seen {
        src,
        prio: field("prio ")?.parse().ok()?,
        intvl: field("intvl ").unwrap_or_default(),
    })
}

/// Samples in which node `i` did not hold the VIP.
fn gaps(samples: &[Sample], i: usize) -> Vec<Duration> {
    samples
        .iter()
        .filter(|(_, h)| !h.contains(&i))
        .map(|(t, _)| *t)
        .collect()
}

/// Samples where no node held the address, except a lone sample at a
/// handover. keepalived's `vrrp_state_master_tx` sends the new MASTER's
/// first advert before it adds the VIPs, so the old MASTER may remove them
/// a moment before the new one adds them; and the sampler reads one
/// namespace after the other, so it can land in that moment. A lone empty
/// sample between two different holders is that; anything longer, or a
/// gap the same node is on both sides of, is a dropped VIP.
fn dropped(samples: &[Sample]) -> Vec<Duration> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < samples.len() {
        if !samples[i].1.is_empty() {
            i += 1;
            continue;
        }
        let start = i;
        while i < samples.len() && samples[i].1.is_empty() {
            i += 1;
        }
        let before = start.checked_sub(1).map(|b| &samples[b].1);
        let after = samples.get(i).map(|a| &a.1);
        let handover = i - start == 1 && matches!((before, after), (Some(b), Some(a)) if a != b);
        if !handover {
            out.extend(samples[start..i].iter().map(|(t, _)| *t));
        }
    }
    out
}

#[test]
fn a_lone_empty_sample_at_a_handover_is_not_a_dropped_vip() {
    let at = |ms: u64, h: &[usize]| (Duration::from_millis(ms), h.to_vec());
    let handover = [at(0, &[1]), at(50, &[]), at(100, &[2])];
    assert!(dropped(&handover).is_empty());
    let same_node = [at(0, &[1]), at(50, &[]), at(100, &[1])];
    assert_eq!(dropped(&same_node), vec![Duration::from_millis(50)]);
    let long = [at(0, &[1]), at(50, &[]), at(100, &[]), at(150, &[2])];
    assert_eq!(dropped(&long).len(), 2);
    let at_the_end = [at(0, &[1]), at(50, &[])];
    assert_eq!(dropped(&at_the_end).len(), 1);
}

fn transitions(lab: &Lab, i: usize, name: &str) -> Option<u64> {
    lab.dump(i)?["vrrp"]
        .as_array()?
        .iter()
        .find(|x| x["iname"] == name)?["stats"]["transitions"]
        .as_u64()
}

/// Write node 1's config file `path` as `text` and SIGHUP it.
fn reload_text(lab: &Lab, path: &std::path::Path, text: &str) {
    std::fs::write(path, text).expect("write conf");
    lab.signal(1, nix::sys::signal::Signal::SIGHUP);
}

fn unicast(mut c: InstConf, lab: &Lab, me: usize, peers: &[usize]) -> InstConf {
    c.unicast_src = Some(lab.v4(me));
    c.unicast_peers = peers.iter().map(|p| lab.v4(*p)).collect();
    c
}

#[test]
fn reload_applies_changes_in_place_without_dropping_the_vip() {
    if !prerequisites(false) || !common::require_tools(&["tcpdump"]) {
        return;
    }
    in_place_reloads(Impl::Ours);
}

/// The same reloads on keepalived 2.2.7: the behaviour we mirror.
#[test]
fn keepalived_applies_the_same_reloads_in_place() {
    if !prerequisites(true) || !common::require_tools(&["tcpdump"]) {
        return;
    }
    in_place_reloads(Impl::Keepalived);
}

/// Node 1 (`which`) is MASTER, node 2 (ours) BACKUP; node 1 is reloaded with
/// one change after the other while the VIP is sampled and node 2 captures.
fn in_place_reloads(which: Impl) {
    use_daemon();
    let mut lab = Lab::new(if which == Impl::Ours { "rl" } else { "rlk" }, 2);
    let script = ScriptConf {
        name: "chk".into(),
        command: "/bin/true".into(),
        interval_ms: 1000,
        weight: 0,
        rise: 1,
        fall: 1,
    };
    let mut master = unicast(InstConf::new("VI_1", 51, 200, VIP).v3(200), &lab, 1, &[2]);
    master.master = true;
    master.track_scripts = vec![("chk".into(), 4)];
    let mut node1 = NodeConf::one(master);
    node1.scripts = vec![script];
    let backup = unicast(InstConf::new("VI_1", 51, 100, VIP).v3(200), &lab, 2, &[1]);
    lab.start(2, Impl::Ours, &NodeConf::one(backup));
    lab.start(1, which, &node1);
    assert!(
        lab.wait_sole_holder(1, VIP, SETTLE),
        "node 1 becomes MASTER"
    );
    let cap = Capture::start(&lab.ns(2));
    // The script's first result: 200 + 4.
    assert!(
        wait_until(SETTLE, || cap.seen().iter().any(|s| s.prio == 204)),
        "tracked priority 204 on the wire: {:?}",
        cap.seen()
    );
    let ours = which == Impl::Ours;
    let before = if ours {
        transitions(&lab, 1, "VI_1")
    } else {
        None
    };
    let conf_path = lab.dir.join(if ours {
        "n1.rkeepalived.conf"
    } else {
        "n1.keepalived.conf"
    });
    let reload = |n: &NodeConf| reload_text(&lab, &conf_path, &n.keepalived_conf());
    let sampler = Sampler::start(&lab, VIP);
    std::thread::sleep(Duration::from_millis(300));

    let src = lab.v4(1);
    let wait_wire = |what: &str, f: &dyn Fn(&Seen) -> bool| {
        let from = cap.seen().len();
        assert!(
            wait_until(Duration::from_secs(5), || cap.seen()[from..]
                .iter()
                .any(|s| s.src == src && f(s))),
            "{what} on the wire: {:?}",
            &cap.seen()[from..]
        );
    };
    let mut n = node1.clone();
    // priority (the tracked +4 stays).
    n.instances[0].priority = 150;
    reload(&n);
    wait_wire("priority 154", &|s| s.prio == 154);
    // advert_int 200 ms -> 500 ms.
    n.instances[0].advert_ms = 500;
    reload(&n);
    wait_wire("interval 50cs", &|s| s.intvl == "50cs" && s.prio == 154);
    // router_id (global_defs).
    reload_text(
        &lab,
        &conf_path,
        &n.keepalived_conf()
            .replace("router_id rkv_test", "router_id rkv_other"),
    );
    std::thread::sleep(Duration::from_millis(700));
    // Tracking weight 4 -> 20, and a changed script definition (its poller
    // restarts with its status carried over: no "no result yet" fault).
    n.instances[0].track_scripts = vec![("chk".into(), 20)];
    n.scripts[0].fall = 2;
    reload(&n);
    wait_wire("tracked priority 170", &|s| s.prio == 170);
    // Notify scripts, garp settings, another unicast peer.
    n.instances[0].extra = "    notify_master /bin/true\n    notify_backup /bin/true\n    garp_master_repeat 2\n    garp_master_refresh 1\n".into();
    n.instances[0].unicast_peers.push("192.0.2.99".into());
    reload(&n);
    std::thread::sleep(Duration::from_millis(1500));
    wait_wire("adverts after the last reload", &|s| s.prio == 170);

    let samples = sampler.finish();
    let seen = cap.seen();
    let log = lab.log(1);
    if !gaps(&samples, 1).is_empty() || seen.iter().any(|s| s.prio == 0) {
        lab.dump_logs();
    }
    assert!(samples.len() > 50, "sampled: {}", samples.len());
    assert_eq!(gaps(&samples, 1), Vec::<Duration>::new(), "VIP gaps");
    assert!(
        samples.iter().all(|(_, h)| h == &vec![1]),
        "the backup never took the VIP"
    );
    assert!(
        !seen.iter().any(|s| s.prio == 0),
        "no priority-0 advert: {seen:?}"
    );
    if ours {
        assert!(before.is_some(), "dump");
        assert_eq!(
            transitions(&lab, 1, "VI_1"),
            before,
            "no state transition on reload"
        );
        assert!(log.contains("applied in place"), "{log}");
        assert!(!log.contains("stopping it"), "{log}");
    }
}

#[test]
fn reload_priority_hands_over_to_keepalived_and_back() {
    if !prerequisites(true) || !common::require_tools(&["tcpdump"]) {
        return;
    }
    use_daemon();
    let mut lab = Lab::new("rk", 2);
    let mut ours = unicast(InstConf::new("VI_1", 52, 200, VIP).v3(200), &lab, 1, &[2]);
    ours.master = true;
    let theirs = unicast(InstConf::new("VI_1", 52, 150, VIP).v3(200), &lab, 2, &[1]);
    lab.start(1, Impl::Ours, &NodeConf::one(ours.clone()));
    assert!(lab.wait_sole_holder(1, VIP, SETTLE), "ours MASTER");
    lab.start(2, Impl::Keepalived, &NodeConf::one(theirs));
    std::thread::sleep(Duration::from_secs(1));
    assert!(lab.wait_sole_holder(1, VIP, SETTLE), "ours stays MASTER");
    let cap = Capture::start(&lab.ns(2));
    let sampler = Sampler::start(&lab, VIP);

    // Lowered below keepalived's 150: it ignores our lower adverts and takes over.
    let mut low = ours.clone();
    low.priority = 100;
    lab.reload(1, &NodeConf::one(low));
    assert!(
        lab.wait_sole_holder(2, VIP, SETTLE),
        "keepalived takes over"
    );
    // Raised again: we preempt back.
    lab.reload(1, &NodeConf::one(ours));
    assert!(lab.wait_sole_holder(1, VIP, SETTLE), "we take back");
    std::thread::sleep(Duration::from_millis(300));

    let samples = sampler.finish();
    let seen = cap.seen();
    let uncovered = dropped(&samples);
    if !uncovered.is_empty() {
        lab.dump_logs();
    }
    assert!(
        uncovered.is_empty(),
        "moments without the VIP: {uncovered:?}\n{samples:?}"
    );
    let ours_seen: Vec<u32> = seen
        .iter()
        .filter(|s| s.src == lab.v4(1))
        .map(|s| s.prio)
        .collect();
    assert!(
        ours_seen.contains(&100),
        "lowered priority on the wire: {ours_seen:?}"
    );
    assert!(
        !ours_seen.contains(&0),
        "no priority 0 from us: {ours_seen:?}"
    );
}

#[test]
fn vrid_or_interface_change_of_an_address_owner_keeps_the_vip() {
    if !prerequisites(false) {
        return;
    }
    use_daemon();
    let mut lab = Lab::new("rv", 1);
    lab.exec(
        1,
        "sh -c 'ip link add eth1 type veth peer name eth1p && ip addr add 198.51.100.1/24 dev eth1 && ip link set eth1p up && ip link set eth1 up'",
    )
    .expect("eth1");
    let mut owner = InstConf::new("VI_1", 53, 255, VIP).v3(100);
    owner.master = true;
    let node = NodeConf::one(owner);
    lab.start(1, Impl::Ours, &node);
    assert!(lab.wait_sole_holder(1, VIP, SETTLE), "owner MASTER");
    let sampler = Sampler::start(&lab, VIP);
    std::thread::sleep(Duration::from_millis(300));

    // vrid 53 -> 54: a new virtual router, MASTER at once (RFC 5798 §6.4.1).
    let mut n = node.clone();
    n.instances[0].vrid = 54;
    lab.reload(1, &n);
    assert!(
        wait_until(SETTLE, || lab
            .log(1)
            .contains("address kept by the new MASTER")),
        "reload done"
    );
    std::thread::sleep(Duration::from_millis(500));
    // Interface eth0 -> eth1 (the VIP stays `dev eth0`).
    let text = n
        .keepalived_conf()
        .replace("interface eth0", "interface eth1");
    reload_text(&lab, &lab.dir.join("n1.rkeepalived.conf"), &text);
    assert!(
        wait_until(SETTLE, || lab
            .log(1)
            .matches("address kept by the new MASTER")
            .count()
            >= 2),
        "second reload done"
    );
    std::thread::sleep(Duration::from_millis(500));
    let samples = sampler.finish();
    if !gaps(&samples, 1).is_empty() {
        lab.dump_logs();
    }
    assert!(samples.len() > 20);
    assert_eq!(gaps(&samples, 1), Vec::<Duration>::new(), "VIP gaps");
    assert_eq!(lab.state(1, "VI_1").as_deref(), Some("MASTER"));
}
