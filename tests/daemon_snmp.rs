//! `-x`: the AgentX subagent against Debian's net-snmp `snmpd` (started by
//! the test with its own config: AgentX master on a private socket, SNMP on
//! 127.0.0.1 inside a private namespace), compared with keepalived 2.2.7 -x
//! on the same configuration: `snmpwalk` of KEEPALIVED-MIB must match.

mod daemon_util;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use daemon_util::*;

const K: &str = ".1.3.6.1.4.1.9586.100.5";
/// VRRP-MIB's vrrpOperations (RFC 2787).
const RFC2787: &str = ".1.3.6.1.2.1.68.1";
/// VRRPv3-MIB's vrrpv3Operations (RFC 6527).
const RFC6527: &str = ".1.3.6.1.2.1.207.1.1";
/// VRRPv3-MIB's vrrpv3Statistics.
const RFC6527_STATS: &str = ".1.3.6.1.2.1.207.1.2";

/// snmpd in the namespace; killed on drop.
struct Snmpd {
    child: Child,
}

impl Snmpd {
    fn start(ns: &Netns, scratch: &Scratch, extra_addr: &str) -> Snmpd {
        let conf = scratch.write(
            "snmpd.conf",
            &format!(
                "master agentx\nagentXSocket {}\nagentaddress udp:127.0.0.1:16161{extra_addr}\nrocommunity public 127.0.0.1\ntrap2sink 127.0.0.1:16162 public\n",
                scratch.p("agentx.sock").display()
            ),
        );
        std::fs::create_dir_all(scratch.p("snmp-state")).expect("state dir");
        let child = Command::new("ip")
            .args(["netns", "exec", &ns.name, "snmpd", "-f", "-C", "-Lf"])
            .arg(scratch.p("snmpd.log"))
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(scratch.p("snmpd.pid"))
            .env("MIBS", "")
            .env("SNMP_PERSISTENT_DIR", scratch.p("snmp-state"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn snmpd");
        let sock = scratch.p("agentx.sock");
        wait_for("snmpd's AgentX socket", LIMIT, || sock.exists());
        Snmpd { child }
    }
}

impl Drop for Snmpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// keepalived 2.2.7 in the namespace; SIGTERM then SIGKILL on drop.
struct Keepalived {
    child: Child,
}

impl Keepalived {
    fn start(ns: &Netns, scratch: &Scratch) -> Keepalived {
        let log = std::fs::File::create(scratch.p("keepalived.log")).expect("log");
        let child = Command::new("ip")
            .args([
                "netns",
                "exec",
                &ns.name,
                "keepalived",
                "-n",
                "-l",
                "-P",
                "-x",
                "-f",
            ])
            .arg(scratch.p("keepalived.conf"))
            .arg("-p")
            .arg(scratch.p("ka.pid"))
            .arg("-r")
            .arg(scratch.p("ka-vrrp.pid"))
            .arg("-c")
            .arg(scratch.p("ka-check.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup"))
            .stderr(log)
            .spawn()
            .expect("spawn keepalived");
        Keepalived { child }
    }

    fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        for _ in 0..100 {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Keepalived {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

fn snmp(ns: &Netns, tool: &str, oid: &str) -> String {
    let out = Command::new("ip")
        .args([
            "netns", "exec", &ns.name, tool, "-v2c", "-c", "public", "-On", "-t", "2",
        ])
        .args(["-r", "1", "127.0.0.1:16161", oid])
        .env("MIBS", "")
        .output()
        .expect("snmp tool");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn walk(ns: &Netns) -> String {
    snmp(ns, "snmpwalk", K)
}

fn get(ns: &Netns, oid: &str) -> String {
    snmp(ns, "snmpget", oid)
}

/// The walk with the lines that legitimately differ removed:
/// version.0 (the daemon's name and version) and vrrpAddressAdvertising of
/// the second instance's VIPs, where keepalived 2.2.7 reads false because
/// `vrrp_header_ar_table` resets its flag for the first instance only (we
/// serve the documented meaning).
fn normalized(walk: &str) -> Vec<String> {
    walk.lines()
        .filter(|l| !l.starts_with(&format!("{K}.1.1.0 ")))
        .filter(|l| !l.starts_with(&format!("{K}.2.6.1.11.2.")))
        .map(str::to_string)
        .collect()
}

/// BER content of the OID K.2.10.0.2 (vrrpInstanceStateChange).
const VRRP_INSTANCE_STATE_CHANGE: &str = "2b06010401ca726405020a0002";

/// Prints, as hex, the first datagram on 127.0.0.1:16162 that carries
/// vrrpInstanceStateChange (snmpd's own coldStart trap comes first).
const TRAP_LISTENER: &str = "\
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 16162))
while True:
    d = s.recv(65535).hex()
    if '2b06010401ca726405020a0002' in d:
        print(d, flush=True)
        break
";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

const VRRP_CONFIG: &str = "\
global_defs {
  router_id rk-snmp
  snmp_socket unix:SOCKET
  enable_snmp_keepalived
  enable_snmp_vrrp
  enable_snmp_rfcv2
  enable_snmp_rfcv3
  enable_traps
}
vrrp_sync_group G1 {
  group {
    VI_1
  }
}
vrrp_instance VI_1 {
  state MASTER
  interface eth0
  virtual_router_id 51
  priority 150
  advert_int 1
  virtual_ipaddress {
    192.0.2.100/24
  }
  virtual_ipaddress_excluded {
    192.0.2.110/32 dev eth0 scope host label eth0:ex
  }
}
vrrp_instance VI_2 {
  state BACKUP
  interface eth0
  virtual_router_id 52
  priority 90
  advert_int 10
  nopreempt
  virtual_ipaddress {
    192.0.2.101/24
    192.0.2.102/24
  }
}
";

/// Same configuration, same tables, same values as keepalived 2.2.7 -x.
/// VI_1 becomes MASTER; VI_2 (advert_int 10) stays BACKUP during the test.
#[test]
fn keepalived_mib_walk_matches_keepalived() {
    if !prerequisites(&[
        "snmpd",
        "snmpwalk",
        "snmpget",
        "keepalived",
        "python3",
        "timeout",
    ]) {
        return;
    }
    let ns = Netns::new("snmpwalk");
    let scratch = Scratch::new("snmpwalk");
    let _snmpd = Snmpd::start(&ns, &scratch, "");
    let sock = scratch.p("agentx.sock").display().to_string();
    scratch.write("keepalived.conf", &VRRP_CONFIG.replace("SOCKET", &sock));
    let master = format!("{K}.2.3.1.4.1 = INTEGER: 2");

    let ka = Keepalived::start(&ns, &scratch);
    wait_for("keepalived's VI_1 MASTER over SNMP", LIMIT, || {
        get(&ns, &format!("{K}.2.3.1.4.1")).contains(&master)
    });
    let theirs = walk(&ns);
    let theirs_rfc = snmp(&ns, "snmpwalk", RFC2787);
    let theirs_rfc_stats = snmp(&ns, "snmpwalk", ".1.3.6.1.2.1.68.2");
    let theirs_v3 = snmp(&ns, "snmpwalk", RFC6527);
    let theirs_v3_stats = snmp(&ns, "snmpwalk", RFC6527_STATS);
    ka.stop();
    wait_for("keepalived's subagent to go", LIMIT, || {
        !get(&ns, &format!("{K}.1.2.0")).contains("rk-snmp")
    });
    wait_for("keepalived to remove its VIP", LIMIT, || {
        ns.addr_count("eth0", "192.0.2.100") == 0
    });

    // snmpd forwards our notifications to 127.0.0.1:16162: a listener in
    // the namespace waits for vrrpInstanceStateChange (its BER-encoded OID).
    let trap_listener = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.name,
            "timeout",
            "25",
            "python3",
            "-c",
            TRAP_LISTENER,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("trap listener");
    std::thread::sleep(Duration::from_millis(300));
    // The configuration alone (enable_snmp_*, enable_traps, snmp_socket)
    // starts the subagent and its notifications, as keepalived's does.
    let _ours = Daemon::start(&ns, &scratch, &["-P"], &[]);
    wait_for("our VI_1 MASTER over SNMP", LIMIT, || {
        get(&ns, &format!("{K}.2.3.1.4.1")).contains(&master)
    });
    let ours = walk(&ns);

    let trap = trap_listener.wait_with_output().expect("trap listener");
    let trap = String::from_utf8_lossy(&trap.stdout);
    assert!(
        trap.contains(VRRP_INSTANCE_STATE_CHANGE) && trap.contains(&hex(b"VI_1")),
        "no vrrpInstanceStateChange for VI_1 reached snmpd's trap sink: {trap:?}"
    );
    assert!(theirs.lines().count() > 90, "keepalived's walk:\n{theirs}");
    assert!(
        ours.contains(&format!("{K}.1.1.0 = STRING: \"rkeepalived v")),
        "{ours}"
    );
    // VRRP-MIB: every object keepalived serves, except the MAC (keepalived
    // serves the interface's, which differs per run) and the uptime, reads
    // the same from us. (keepalived's GetNext skips the second instance's
    // vrrpOperTable rows, so a walk is not compared.)
    let rfc_lines: Vec<&str> = theirs_rfc
        .lines()
        .filter(|l| !l.starts_with(&format!("{RFC2787}.3.1.2.")))
        .filter(|l| !l.starts_with(&format!("{RFC2787}.3.1.13.")))
        .collect();
    assert!(
        rfc_lines.len() > 10,
        "keepalived's VRRP-MIB walk:\n{theirs_rfc}"
    );
    for line in rfc_lines {
        let oid = line.split(' ').next().unwrap_or_default();
        let got = get(&ns, oid);
        assert_eq!(got.trim_end(), line.trim_end(), "VRRP-MIB {oid}");
    }
    // VRRPv3-MIB: the same walk, except the MAC and the uptime columns.
    let v3 = |w: &str| -> Vec<String> {
        w.lines()
            .filter(|l| !l.starts_with(&format!("{RFC6527}.1.1.5.")))
            .filter(|l| !l.starts_with(&format!("{RFC6527}.1.1.12.")))
            .map(str::to_string)
            .collect()
    };
    let ours_v3 = snmp(&ns, "snmpwalk", RFC6527);
    assert!(
        v3(&theirs_v3).len() > 10,
        "keepalived's VRRPv3-MIB walk:\n{theirs_v3}"
    );
    assert_eq!(v3(&ours_v3), v3(&theirs_v3), "VRRPv3-MIB walks");
    // Statistics: the same objects with the same types (values are counters).
    let shape = |w: &str| -> Vec<String> {
        w.lines()
            .map(|l| match l.split_once(": ") {
                Some((head, _)) => head.to_string(),
                None => l.to_string(),
            })
            .collect()
    };
    assert!(shape(&theirs_rfc_stats).len() > 10, "{theirs_rfc_stats}");
    for line in shape(&theirs_rfc_stats) {
        let oid = line.split(' ').next().unwrap_or_default();
        assert_eq!(shape(&get(&ns, oid)), vec![line.clone()], "VRRP-MIB {oid}");
    }
    let ours_v3_stats = snmp(&ns, "snmpwalk", RFC6527_STATS);
    assert!(shape(&theirs_v3_stats).len() > 20, "{theirs_v3_stats}");
    assert_eq!(
        shape(&ours_v3_stats),
        shape(&theirs_v3_stats),
        "VRRPv3-MIB statistics"
    );
    let (t, o) = (normalized(&theirs), normalized(&ours));
    if t != o {
        let only_theirs: Vec<_> = t.iter().filter(|l| !o.contains(l)).collect();
        let only_ours: Vec<_> = o.iter().filter(|l| !t.contains(l)).collect();
        panic!("walks differ\nonly keepalived: {only_theirs:#?}\nonly ours: {only_ours:#?}");
    }
}

/// The LVS tables (keepalived's checker cannot run without IPVS on this
/// host, so these are checked against the values keepalived's
/// check_snmp.c would give): a TCP-checked real server that answers is
/// alive, one that refuses is dead; sets are refused (read-only).
#[test]
fn virtual_and_real_server_tables() {
    if !prerequisites(&["snmpd", "snmpwalk", "snmpget", "snmpset"]) {
        return;
    }
    let ns = Netns::new("snmplvs");
    let scratch = Scratch::new("snmplvs");
    // snmpd doubles as the TCP service the first real server's check reaches.
    let _snmpd = Snmpd::start(&ns, &scratch, ",tcp:192.0.2.2:8080");
    let sock = scratch.p("agentx.sock").display().to_string();
    scratch.write(
        "keepalived.conf",
        &"global_defs {\n  router_id rk-lvs\n  enable_snmp_checker\n  snmp_socket SOCKET\n}\n\
         virtual_server 192.0.2.100 80 {\n  delay_loop 1\n  lb_algo wrr\n  lb_kind NAT\n  protocol TCP\n  quorum 1\n\
           real_server 192.0.2.2 8080 {\n    weight 3\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }\n\
           real_server 192.0.2.2 8081 {\n    weight 1\n    TCP_CHECK {\n      connect_timeout 1\n    }\n  }\n}\n"
            .replace("SOCKET", &sock),
    );
    // The configuration alone (enable_snmp_checker, snmp_socket) starts the
    // subagent, as keepalived's does; no -x / -A.
    let ours = Daemon::start(&ns, &scratch, &["-C"], &[]);
    let rs = |col: u32, i: u32| get(&ns, &format!("{K}.3.4.1.{col}.1.{i}"));
    wait_for("real server 1 alive and 2 dead over SNMP", LIMIT, || {
        rs(6, 1).contains("INTEGER: 1") && rs(6, 2).contains("INTEGER: 2")
    });
    let w = walk(&ns);
    for line in [
        format!("{K}.1.2.0 = STRING: \"rk-lvs\""),
        format!("{K}.3.3.1.2.1 = INTEGER: 2"),
        format!("{K}.3.3.1.6.1 = Hex-STRING: C0 00 02 64 "),
        format!("{K}.3.3.1.7.1 = Gauge32: 80"),
        format!("{K}.3.3.1.9.1 = INTEGER: 2"),
        format!("{K}.3.3.1.10.1 = INTEGER: 1"),
        format!("{K}.3.3.1.16.1 = Gauge32: 1"),
        format!("{K}.3.3.1.20.1 = Gauge32: 2"),
        format!("{K}.3.3.1.21.1 = Gauge32: 1"),
        format!("{K}.3.3.1.22.1 = Gauge32: 1"),
        format!("{K}.3.4.1.4.1.1 = Hex-STRING: C0 00 02 02 "),
        format!("{K}.3.4.1.5.1.2 = Gauge32: 8081"),
        format!("{K}.3.4.1.7.1.1 = INTEGER: 3"),
    ] {
        assert!(w.lines().any(|l| l == line), "missing {line:?} in\n{w}");
    }
    // -C: no VRRP tables, as keepalived's checker-only process.
    assert!(!w.contains(&format!("{K}.2.3.")), "{w}");
    // snmpbulkwalk (GetBulk) sees the same objects.
    let bulk = snmp(&ns, "snmpbulkwalk", K);
    assert_eq!(bulk.lines().count(), w.lines().count(), "{bulk}");
    // Read-only: a set is refused, nothing changes.
    let out = Command::new("ip")
        .args([
            "netns", "exec", &ns.name, "snmpset", "-v2c", "-c", "public", "-On",
        ])
        .args(["127.0.0.1:16161", &format!("{K}.3.4.1.7.1.1"), "i", "9"])
        .env("MIBS", "")
        .output()
        .expect("snmpset");
    assert!(!out.status.success(), "a set succeeded");
    assert!(rs(7, 1).contains("INTEGER: 3"));
    // A reload: the subagent serves the new configuration.
    let conf = std::fs::read_to_string(scratch.p("keepalived.conf")).expect("conf");
    scratch.write(
        "keepalived.conf",
        &conf.replace("rk-lvs", "rk-lvs-reloaded"),
    );
    ours.signal("HUP");
    wait_for("the reloaded router_id over SNMP", LIMIT, || {
        get(&ns, &format!("{K}.1.2.0")).contains("\"rk-lvs-reloaded\"")
    });
}
