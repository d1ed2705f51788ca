//! Interfaces that appear late, are deleted and re-created, renamed, or (a
//! vmac) deleted by hand (issue #11, bug 1): the engine's sockets and vmacs
//! must follow, so that there is never more than one MASTER and a MASTER
//! always advertises.
//!
//! Topology: the lab's two nodes; each runs VRRP on `vl10` (198.51.100.0/24),
//! a veth whose other end is on a second bridge in the lab's bridge
//! namespace, so node 1's `vl10` can be deleted, re-created and renamed
//! without touching node 2. Node 1 runs
//! our engine (`vrrp-node`, or the daemon with `RKV_DAEMON`), node 2 the
//! real keepalived 2.2.7 or our engine. advert_int 1 s.
//!
//! Every test samples, every 75 ms, which nodes hold the VIP, and captures
//! VRRP on node 2's `vl10` with tcpdump. It asserts:
//! * never two MASTERs: no two consecutive samples in which both nodes hold
//!   the VIP (the two `ip` reads of one sample are not atomic, so a single
//!   sample can catch a legitimate sub-millisecond handover; a split brain
//!   lasts for seconds);
//! * a MASTER advertises: from 1.5 s (one advert interval + 500 ms of slack
//!   for this loaded machine) after a node got the VIP, and while it keeps
//!   it, an advert from that node was captured in the preceding 1.5 s. So
//!   adverts start within one interval (+ 500 ms) of the node becoming
//!   MASTER once its interface is usable, and never pause longer.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::{prerequisites, require_tools, wait_until, Impl, InstConf, Lab, NodeConf};

const IFACE: &str = "vl10";
const VIP: &str = "198.51.100.100";
const VIP6: &str = "2001:db8:51::100";
const SLACK: f64 = 1.5;
const SETTLE: Duration = Duration::from_secs(15);

fn check() -> bool {
    prerequisites(true) && require_tools(&["tcpdump"])
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

fn src(i: usize) -> String {
    format!("198.51.100.{}", 10 + i)
}

fn sh(cmd: &str) -> Result<String, String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("{cmd}: {}", String::from_utf8_lossy(&out.stderr)))
    }
}

fn must(lab: &Lab, i: usize, cmd: &str) {
    if let Err(e) = lab.exec(i, cmd) {
        panic!("node {i}: {e}");
    }
}

/// Create node `i`'s `vl10` (a veth whose other end sits on a second
/// bridge `br1` in the lab's bridge namespace) with its address, up. (The
/// host kernel may lack 8021q, so a veth stands in for "a VLAN created later".)
fn add_vlan(lab: &Lab, i: usize) {
    add_vlan_family(lab, i, false)
}

fn add_vlan_family(lab: &Lab, i: usize, v6: bool) {
    let br = lab.br_ns();
    if sh(&format!("ip -n {br} link show br1")).is_err() {
        sh(&format!(
            "ip -n {br} link add br1 type bridge forward_delay 0 stp_state 0"
        ))
        .expect("bridge br1");
        sh(&format!("ip -n {br} link set br1 up")).expect("br1 up");
    }
    sh(&format!(
        "ip -n {br} link add q{i} type veth peer name {IFACE} netns {}",
        lab.ns(i)
    ))
    .expect("veth");
    sh(&format!("ip -n {br} link set q{i} master br1 up")).expect("veth on br1");
    must(lab, i, &format!("ip addr add {}/24 dev {IFACE}", src(i)));
    if v6 {
        must(
            lab,
            i,
            &format!("ip addr add 2001:db8:51::{}/64 dev {IFACE} nodad", 10 + i),
        );
    }
    must(lab, i, &format!("ip link set {IFACE} up"));
}

fn node_conf(prio: u8, dynamic: bool, extra: &str) -> NodeConf {
    node_conf_family(prio, dynamic, extra, false)
}

fn node_conf_family(prio: u8, dynamic: bool, extra: &str, v6: bool) -> NodeConf {
    let mut inst = if v6 {
        InstConf::new("VI_1", 51, prio, &format!("{VIP6}/64")).v6()
    } else {
        InstConf::new("VI_1", 51, prio, &format!("{VIP}/24"))
    };
    inst.extra = extra.to_string();
    let mut n = NodeConf::one(inst);
    n.interface = Some(IFACE.into());
    if dynamic {
        n.global_extra = "    dynamic_interfaces\n".into();
    }
    n
}

/// VIP holders sampled in the background, and VRRP captured on node 2.
struct Observer {
    vip: &'static str,
    /// Advertised priority of node 1 and node 2 (identifies their adverts).
    prios: [u8; 2],
    stop: Arc<AtomicBool>,
    samples: Arc<Mutex<Vec<(f64, bool, bool)>>>,
    sampler: Option<std::thread::JoinHandle<()>>,
    tcpdump: Child,
    capture: std::path::PathBuf,
}

impl Observer {
    fn start(lab: &Lab, vip: &'static str, prios: [u8; 2]) -> Observer {
        let capture = lab.dir.join("vrrp.txt");
        let errlog = lab.dir.join("tcpdump.err");
        let tcpdump = Command::new("ip")
            .args(["netns", "exec", &lab.ns(2), "tcpdump", "-i", IFACE])
            .args(["-n", "-tt", "-l", "-U"])
            .args(["ip", "proto", "112", "or", "ip6", "proto", "112"])
            .stdout(std::fs::File::create(&capture).expect("capture file"))
            .stderr(std::fs::File::create(&errlog).expect("tcpdump log"))
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn tcpdump");
        assert!(
            wait_until(Duration::from_secs(10), || std::fs::read_to_string(&errlog)
                .map(|t| t.contains("listening on"))
                .unwrap_or(false)),
            "tcpdump did not start: {}",
            std::fs::read_to_string(&errlog).unwrap_or_default()
        );
        let stop = Arc::new(AtomicBool::new(false));
        let samples = Arc::new(Mutex::new(Vec::new()));
        let (ns1, ns2) = (lab.ns(1), lab.ns(2));
        let sampler = {
            let stop = stop.clone();
            let samples = samples.clone();
            std::thread::spawn(move || {
                let holds = |ns: &str| {
                    sh(&format!("ip -n {ns} -o addr show"))
                        .map(|o| o.contains(&format!(" {vip}/")))
                        .unwrap_or(false)
                };
                while !stop.load(Ordering::SeqCst) {
                    let t = now();
                    let a = holds(&ns1);
                    let b = holds(&ns2);
                    if let Ok(mut s) = samples.lock() {
                        s.push((t, a, b));
                    }
                    std::thread::sleep(Duration::from_millis(75));
                }
            })
        };
        Observer {
            vip,
            prios,
            stop,
            samples,
            sampler: Some(sampler),
            tcpdump,
            capture,
        }
    }

    /// Stop sampling and capturing; check both properties (see the module
    /// doc) and return the adverts seen as (time, priority).
    fn finish(mut self, lab: &Lab) -> Vec<(f64, u8)> {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.sampler.take() {
            let _ = h.join();
        }
        // Let tcpdump flush, then stop it.
        std::thread::sleep(Duration::from_millis(200));
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.tcpdump.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = self.tcpdump.wait();
        let adverts = parse_capture(&self.capture);
        let samples = self.samples.lock().map(|s| s.clone()).unwrap_or_default();
        let verdict = verify(&samples, &adverts, self.prios, self.vip);
        if let Err(e) = verdict {
            lab.dump_logs();
            panic!("{e}");
        }
        if std::env::var_os("RKV_SHOW_LOGS").is_some() {
            lab.dump_logs();
        }
        adverts
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.tcpdump.kill();
        let _ = self.tcpdump.wait();
    }
}

/// `1733452345.123456 IP 198.51.100.11 > 224.0.0.18: VRRPv2, Advertisement, vrid 51, prio 200, ...`
/// -> (time, priority).
fn parse_capture(path: &std::path::Path) -> Vec<(f64, u8)> {
    let Ok(f) = std::fs::File::open(path) else {
        return Vec::new();
    };
    BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .filter(|l| l.contains("Advertisement"))
        .filter_map(|l| {
            let t: f64 = l.split_whitespace().next()?.parse().ok()?;
            let rest = &l[l.find(" prio ")? + 6..];
            let prio = rest
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()?;
            Some((t, prio))
        })
        .collect()
}

fn verify(
    samples: &[(f64, bool, bool)],
    adverts: &[(f64, u8)],
    prios: [u8; 2],
    vip: &str,
) -> Result<(), String> {
    if samples.len() < 10 {
        return Err(format!("too few samples: {}", samples.len()));
    }
    for w in samples.windows(2) {
        if w[0].1 && w[0].2 && w[1].1 && w[1].2 {
            return Err(format!(
                "two MASTERs: both nodes hold {vip} at {:.3} and {:.3}",
                w[0].0, w[1].0
            ));
        }
    }
    for (node, pick) in [(1usize, 0usize), (2, 1)] {
        let me = prios[pick];
        let mut since: Option<f64> = None;
        for s in samples {
            let holds = if pick == 0 { s.1 } else { s.2 };
            if !holds {
                since = None;
                continue;
            }
            let start = *since.get_or_insert(s.0);
            if s.0 - start < SLACK {
                continue;
            }
            let advertised = adverts
                .iter()
                .any(|(t, from)| *from == me && *t >= s.0 - SLACK && *t <= s.0 + 0.1);
            if !advertised {
                let last = adverts
                    .iter()
                    .filter(|(t, from)| *from == me && *t <= s.0)
                    .map(|(t, _)| *t)
                    .fold(None, |a: Option<f64>, t| Some(a.map_or(t, |a| a.max(t))));
                return Err(format!(
                    "node {node} holds {vip} since {start:.3} but sent no advert (priority {me}) in the {SLACK} s before {:.3} (last one: {last:?})",
                    s.0
                ));
            }
        }
    }
    Ok(())
}

fn state(lab: &Lab, i: usize) -> String {
    lab.state(i, "VI_1").unwrap_or_default()
}

fn wait_sole(lab: &Lab, i: usize, what: &str) {
    wait_sole_vip(lab, i, VIP, what)
}

fn wait_sole_vip(lab: &Lab, i: usize, vip: &str, what: &str) {
    if !lab.wait_sole_holder(i, vip, SETTLE) {
        lab.dump_logs();
        panic!(
            "{what}: expected node {i} alone to hold {vip}; holders {:?}",
            lab.holders(vip)
        );
    }
}

fn wait_state(lab: &Lab, i: usize, want: &str, limit: Duration, what: &str) {
    let mut last = String::new();
    if !wait_until(limit, || {
        last = state(lab, i);
        last == want
    }) {
        lab.dump_logs();
        panic!("{what}: node {i} should be {want}, is {last:?}");
    }
}

/// Stay in `want` (and without the VIP) for `d`: checked by sampling.
fn hold_state(lab: &Lab, i: usize, want: &str, d: Duration, what: &str) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if lab.has_addr(i, VIP) {
            lab.dump_logs();
            panic!("{what}: node {i} took {VIP}");
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let s = state(lab, i);
    if s != want {
        lab.dump_logs();
        panic!("{what}: node {i} should still be {want}, is {s:?}");
    }
}

// -- scenarios ----------------------------------------------------------------

/// Our node starts before its interface exists, waits in FAULT, and once the
/// VLAN appears takes over from the lower-priority peer with adverts.
fn late_interface(tag: &str, peer: Impl, dynamic: bool) {
    const PRIO_1: u8 = 200;
    const PRIO_2: u8 = 100;
    let mut lab = Lab::new(tag, 2);
    add_vlan(&lab, 2);
    lab.start(2, peer, &node_conf(100, false, ""));
    wait_sole(&lab, 2, "peer alone");
    let obs = Observer::start(&lab, VIP, [PRIO_1, PRIO_2]);
    lab.start(1, Impl::Ours, &node_conf(200, dynamic, ""));
    wait_state(&lab, 1, "FAULT", Duration::from_secs(5), "no interface yet");
    std::thread::sleep(Duration::from_secs(1));
    add_vlan(&lab, 1);
    let usable = now();
    wait_sole(&lab, 1, "late interface, priority 200");
    std::thread::sleep(Duration::from_secs(3));
    let adverts = obs.finish(&lab);
    let first = adverts
        .iter()
        .find(|(t, prio)| *prio == PRIO_1 && *t >= usable)
        .map(|(t, _)| *t);
    assert!(first.is_some(), "node 1 never advertised");
    let log = lab.log(1);
    let expected = if dynamic {
        "does not exist yet"
    } else {
        "Non-existent interface specified in configuration"
    };
    assert!(log.contains(expected), "startup warning missing: {log}");
}

/// Our Master loses its VLAN (deleted): FAULT, the peer takes over; the VLAN
/// is re-created: our node preempts again, advertising.
fn recreate_while_master(tag: &str, peer: Impl, v6: bool, unicast: bool) {
    let vip = if v6 { VIP6 } else { VIP };
    let mut lab = Lab::new(tag, 2);
    add_vlan_family(&lab, 1, v6);
    add_vlan_family(&lab, 2, v6);
    let conf = |i: usize, prio: u8| {
        let mut n = node_conf_family(prio, false, "", v6);
        if unicast {
            n.instances[0].unicast_src = Some(src(i));
            n.instances[0].unicast_peers = vec![src(3 - i)];
        }
        n
    };
    lab.start(2, peer, &conf(2, 100));
    lab.start(1, Impl::Ours, &conf(1, 200));
    wait_sole_vip(&lab, 1, vip, "priority 200 first");
    let obs = Observer::start(&lab, vip, [200, 100]);
    must(&lab, 1, &format!("ip link del {IFACE}"));
    wait_state(&lab, 1, "FAULT", Duration::from_secs(5), "VLAN deleted");
    wait_sole_vip(&lab, 2, vip, "peer takes over");
    add_vlan_family(&lab, 1, v6);
    wait_sole_vip(&lab, 1, vip, "VLAN re-created");
    std::thread::sleep(Duration::from_secs(3));
    obs.finish(&lab);
}

/// Our Backup's VLAN is deleted and re-created, then renamed away and back:
/// it must keep hearing the Master (not time out into a second MASTER).
fn recreate_and_rename_while_backup(tag: &str, peer: Impl) {
    const PRIO_1: u8 = 100;
    const PRIO_2: u8 = 200;
    let mut lab = Lab::new(tag, 2);
    add_vlan(&lab, 1);
    add_vlan(&lab, 2);
    lab.start(2, peer, &node_conf(200, false, ""));
    wait_sole(&lab, 2, "priority 200");
    lab.start(1, Impl::Ours, &node_conf(100, false, ""));
    wait_state(&lab, 1, "BACKUP", Duration::from_secs(5), "priority 100");
    let obs = Observer::start(&lab, VIP, [PRIO_1, PRIO_2]);
    must(&lab, 1, &format!("ip link del {IFACE}"));
    wait_state(&lab, 1, "FAULT", Duration::from_secs(5), "VLAN deleted");
    add_vlan(&lab, 1);
    wait_state(&lab, 1, "BACKUP", Duration::from_secs(5), "VLAN re-created");
    // Longer than Master_Down_Interval (3.6 s): a deaf socket would go MASTER.
    hold_state(
        &lab,
        1,
        "BACKUP",
        Duration::from_secs(5),
        "after re-creation",
    );
    must(&lab, 1, &format!("ip link set {IFACE} name {IFACE}x"));
    wait_state(
        &lab,
        1,
        "FAULT",
        Duration::from_secs(5),
        "VLAN renamed away",
    );
    must(&lab, 1, &format!("ip link set {IFACE}x name {IFACE}"));
    wait_state(
        &lab,
        1,
        "BACKUP",
        Duration::from_secs(5),
        "VLAN renamed back",
    );
    hold_state(&lab, 1, "BACKUP", Duration::from_secs(5), "after rename");
    obs.finish(&lab);
}

/// As above with `auth_type AH`: the re-created interface also needs its
/// IPPROTO_AH receive socket back, or our Backup would stop hearing the
/// Master's AH adverts and go MASTER beside it.
fn recreate_while_backup_ah(tag: &str, peer: Impl) {
    let mut lab = Lab::new(tag, 2);
    add_vlan(&lab, 1);
    add_vlan(&lab, 2);
    let conf = |prio: u8| {
        let mut n = node_conf(prio, false, "");
        n.instances[0].auth_ah = true;
        n
    };
    lab.start(2, peer, &conf(200));
    wait_sole(&lab, 2, "priority 200");
    lab.start(1, Impl::Ours, &conf(100));
    wait_state(&lab, 1, "BACKUP", Duration::from_secs(5), "priority 100");
    must(&lab, 1, &format!("ip link del {IFACE}"));
    wait_state(&lab, 1, "FAULT", Duration::from_secs(5), "VLAN deleted");
    add_vlan(&lab, 1);
    wait_state(&lab, 1, "BACKUP", Duration::from_secs(5), "VLAN re-created");
    // Longer than Master_Down_Interval (3.6 s): a deaf AH socket would go MASTER.
    hold_state(
        &lab,
        1,
        "BACKUP",
        Duration::from_secs(5),
        "after re-creation",
    );
    wait_sole(&lab, 2, "the peer is still the only Master");
}

/// The vmac of our Master is deleted by hand: re-created at once, VIP back,
/// adverts continue; the peer never takes over.
fn vmac_deleted(tag: &str, peer: Impl) {
    const PRIO_1: u8 = 200;
    const PRIO_2: u8 = 100;
    let mut lab = Lab::new(tag, 2);
    add_vlan(&lab, 1);
    add_vlan(&lab, 2);
    lab.start(2, peer, &node_conf(100, false, ""));
    lab.start(
        1,
        Impl::Ours,
        &node_conf(200, false, "    use_vmac vrrp.51\n"),
    );
    wait_sole(&lab, 1, "priority 200 first");
    assert!(lab.exec(1, "ip link show vrrp.51").is_ok(), "vmac missing");
    let obs = Observer::start(&lab, VIP, [PRIO_1, PRIO_2]);
    std::thread::sleep(Duration::from_secs(1));
    let deleted = now();
    must(&lab, 1, "ip link del vrrp.51");
    assert!(
        wait_until(Duration::from_secs(5), || lab
            .exec(1, "ip -o -4 addr show dev vrrp.51")
            .map(|o| o.contains(VIP))
            .unwrap_or(false)),
        "vmac with the VIP not restored"
    );
    std::thread::sleep(Duration::from_secs(5));
    let adverts = obs.finish(&lab);
    // Within one advert interval (+ slack) of the vmac being deleted and
    // re-created, and the peer never took over.
    let first = adverts
        .iter()
        .find(|(t, prio)| *prio == PRIO_1 && *t > deleted)
        .map(|(t, _)| *t);
    assert!(
        first.is_some_and(|t| t - deleted <= SLACK),
        "first advert after the vmac was deleted at {deleted:.3}: {first:?}"
    );
    assert!(
        !adverts
            .iter()
            .any(|(t, prio)| *prio == PRIO_2 && *t > deleted),
        "the peer advertised (took over) although our Master kept advertising"
    );
    assert_eq!(state(&lab, 1), "MASTER");
}

// -- tests ----------------------------------------------------------------------

#[test]
fn late_interface_vs_keepalived() {
    if check() {
        late_interface("ilk", Impl::Keepalived, false);
    }
}

#[test]
fn late_interface_dynamic_vs_ours() {
    if check() {
        late_interface("ilo", Impl::Ours, true);
    }
}

#[test]
fn recreated_while_master_vs_keepalived() {
    if check() {
        recreate_while_master("irk", Impl::Keepalived, false, false);
    }
}

#[test]
fn recreated_while_master_vs_ours() {
    if check() {
        recreate_while_master("iro", Impl::Ours, false, false);
    }
}

#[test]
fn recreated_and_renamed_while_backup_vs_keepalived() {
    if check() {
        recreate_and_rename_while_backup("ibk", Impl::Keepalived);
    }
}

#[test]
fn vmac_deleted_by_hand_vs_keepalived() {
    if check() {
        vmac_deleted("ivk", Impl::Keepalived);
    }
}

#[test]
fn recreated_while_master_ipv6_vs_keepalived() {
    if check() {
        recreate_while_master("i6k", Impl::Keepalived, true, false);
    }
}

#[test]
fn recreated_and_renamed_while_backup_vs_ours() {
    if check() {
        recreate_and_rename_while_backup("ibo", Impl::Ours);
    }
}

#[test]
fn vmac_deleted_by_hand_vs_ours() {
    if check() {
        vmac_deleted("ivo", Impl::Ours);
    }
}

#[test]
fn recreated_while_master_unicast_vs_keepalived() {
    if check() {
        recreate_while_master("iuk", Impl::Keepalived, false, true);
    }
}

#[test]
fn recreated_while_backup_ah_vs_keepalived() {
    if check() {
        recreate_while_backup_ah("iak", Impl::Keepalived);
    }
}
