//! BFD in the daemon (issue #16), against keepalived 2.2.7 in a second
//! namespace running a `bfd_instance` towards us and a competing
//! `vrrp_instance` (priority 100 to our 200), in this order:
//!
//! - our BFD child brings the session Up; `track_bfd` releases our
//!   instance from FAULT and it becomes MASTER; `BFD_CHECK` logs the real
//!   server UP; SIGUSR1 dumps show the session;
//! - a SIGHUP reload keeps the session Up (no Down, still MASTER);
//! - the BFD child runs with `bfd_process_name`, `bfd_priority`,
//!   `bfd_no_swap` and `bfd_cpu_affinity`;
//! - kill -9 of keepalived's bfd process: our instance enters FAULT within
//!   the detection time (3 x 100 ms) plus a scheduling margin, keepalived's
//!   VRRP instance takes the VIP, the BFD_CHECK real server goes DOWN, each
//!   child logs the event's delivery time (-D); keepalived respawns its bfd
//!   process: Up again, we are MASTER again;
//! - kill -9 of our BFD child: the supervisor respawns it and the session
//!   comes back Up (status socket).
//!
//! Ours: eth0 192.0.2.2 in `rkd-bfd-*`; keepalived: peer0 192.0.2.3 in
//! `rkd-bfdka-*` (the veth's other end moved there).

mod daemon_util;

use std::time::{Duration, Instant};

use daemon_util::{alive, prerequisites, read_pid, sh, wait_for, Daemon, Killed, Netns, Scratch};

/// 3 x 100 ms, plus 10 %.
const DETECT: Duration = Duration::from_millis(330);
/// The BFD child -> supervisor -> VRRP child hops, the VRRP engine's
/// wakeup and our 10 ms log polling on a loaded 2-core CI machine; still
/// far below keepalived's 1 s idle rate or any VRRP timer (3 s).
const MARGIN: Duration = Duration::from_millis(700);

const OURS: &str = "global_defs {
    router_id rkd_bfd
    bfd_process_name rkd-bfd-test
    bfd_priority -3
    bfd_no_swap
    bfd_cpu_affinity 0
}

bfd_instance PEER {
    neighbor_ip 192.0.2.3
    source_ip 192.0.2.2
    min_rx 100
    min_tx 100
    multiplier 3
}

vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority 200
    advert_int 1
    track_bfd {
        PEER
    }
    virtual_ipaddress {
        192.0.2.50/24
    }
}

virtual_server 192.0.2.100 80 {
    delay_loop 6
    lb_algo wlc
    lb_kind DR
    protocol TCP
    real_server 192.0.2.11 80 {
        BFD_CHECK {
            name PEER
        }
    }
}
";

const KEEPALIVED: &str = "global_defs {
    router_id ka_bfd_peer
}

bfd_instance OURS {
    neighbor_ip 192.0.2.2
    source_ip 192.0.2.3
    min_rx 100
    min_tx 100
    multiplier 3
}

vrrp_instance VI_1 {
    state BACKUP
    interface peer0
    virtual_router_id 61
    priority 100
    advert_int 1
    virtual_ipaddress {
        192.0.2.50/24
    }
}
";

/// SIGCONT to a stopped process on drop (also when the test fails).
struct Cont(i32);

impl Drop for Cont {
    fn drop(&mut self) {
        let _ = sh(&["kill", "-CONT", &self.0.to_string()]);
    }
}

fn count(log: &str, needle: &str) -> usize {
    log.matches(needle).count()
}

fn has_vip(ns: &str, dev: &str) -> bool {
    let out = sh(&["ip", "-n", ns, "-4", "addr", "show", "dev", dev]);
    String::from_utf8_lossy(&out.stdout).contains("192.0.2.50/24")
}

fn bfd_session_state(d: &Daemon) -> Option<String> {
    let st = d.status()?;
    st["children"]["bfd"]["engine"]["sessions"][0]["state"]
        .as_str()
        .map(str::to_string)
}

/// (nice, comm, VmLck kB, Cpus_allowed_list) of a process.
fn proc_view(pid: i32) -> (i64, String, u64, String) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let nice = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(16))
        .and_then(|n| n.parse().ok())
        .unwrap_or(i64::MIN);
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |k: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(k))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let locked = field("VmLck:")
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap_or(0);
    (nice, comm, locked, field("Cpus_allowed_list:"))
}

#[test]
fn track_bfd_bfd_check_and_the_bfd_child_against_keepalived() {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    let ns = Netns::new("bfd");
    let peer = rkeepalived_testkit::Netns::with_prefix("rkd", "bfdka");
    ns.ip(&["link", "set", "peer0", "netns", peer.name()]);
    peer.ip(&["addr", "add", "192.0.2.3/24", "dev", "peer0"]);
    peer.ip(&["link", "set", "peer0", "up"]);

    let scratch = Scratch::new("bfd");
    scratch.write("keepalived.conf", OURS);
    let ka_conf = scratch.write("ka.conf", KEEPALIVED);
    let p = |n: &str| scratch.p(n).display().to_string();
    let _ka = start_keepalived(&peer, &scratch, &ka_conf);
    let bfd_pid = p("bfd.pid");
    let mut d = Daemon::start(&ns, &scratch, &["-b", &bfd_pid], &[]);

    // Up -> MASTER (and the real server UP).
    wait_for("our BFD session Up", Duration::from_secs(20), || {
        bfd_session_state(&d).as_deref() == Some("Up")
    });
    wait_for("us MASTER with the VIP", Duration::from_secs(20), || {
        has_vip(&ns.name, "eth0")
    });
    assert!(
        d.log()
            .contains("VRRP_Instance(VI_1) Tracked BFD instance PEER is UP"),
        "{}",
        d.log()
    );
    wait_for("BFD_CHECK UP", Duration::from_secs(5), || {
        d.log()
            .contains("BFD check of [PEER] RS([192.0.2.11]:tcp:80) is UP")
    });
    assert!(
        !has_vip(peer.name(), "peer0"),
        "keepalived holds the VIP too"
    );

    dumps_and_a_reload_that_keeps_the_session(&d, &ns, &scratch);

    // The BFD child's process options and name.
    let ours = read_pid(std::path::Path::new(&bfd_pid)).expect("our bfd pid file");
    let (nice, comm, locked, cpus) = proc_view(ours);
    assert_eq!(
        (nice, comm.as_str(), locked > 0, cpus.as_str()),
        (-3, "rkd-bfd-test", true, "0"),
        "bfd_priority, bfd_process_name, bfd_no_swap, bfd_cpu_affinity of the BFD child"
    );

    keepalived_bfd_process_killed(&d, &ns, &scratch);

    our_bfd_child_killed(&d, &ns, &bfd_pid);

    // SIGTERM: the BFD child stops with the daemon.
    let ours = read_pid(std::path::Path::new(&bfd_pid)).expect("our bfd pid file");
    d.signal("TERM");
    d.wait_exit(Duration::from_secs(20));
    assert!(!alive(ours), "the BFD child outlived the daemon");
    assert!(d.log().contains("bfd child stopped cleanly"), "{}", d.log());
}

/// keepalived 2.2.7 as the BFD peer, in `peer` (logging to ka.log).
fn start_keepalived(
    peer: &rkeepalived_testkit::Netns,
    scratch: &Scratch,
    ka_conf: &std::path::Path,
) -> Killed {
    let p = |n: &str| scratch.p(n).display().to_string();
    let ka_log = std::fs::File::create(scratch.p("ka.log")).expect("ka log");
    Killed(
        peer.command("/usr/sbin/keepalived")
            .args(["-n", "-l", "-D", "-P", "-f", &ka_conf.display().to_string()])
            .args([
                "-p",
                &p("ka.pid"),
                "-r",
                &p("ka-v.pid"),
                "-c",
                &p("ka-c.pid"),
            ])
            .args(["-b", &p("ka-b.pid")])
            .stdin(std::process::Stdio::null())
            .stdout(ka_log.try_clone().expect("dup"))
            .stderr(ka_log)
            .spawn()
            .expect("spawn keepalived"),
    )
}

/// SIGUSR1 dumps with the session up, then a reload that keeps it.
fn dumps_and_a_reload_that_keeps_the_session(d: &Daemon, ns: &Netns, scratch: &Scratch) {
    // SIGUSR1: keepalived.data lists the tracked session as up (vrrp_data.c
    // dump_vrrp_data()), keepalived_bfd.data the session.
    d.signal("USR1");
    wait_for("the dumps", Duration::from_secs(10), || {
        let v = std::fs::read_to_string(scratch.p("keepalived.data")).unwrap_or_default();
        let b = std::fs::read_to_string(scratch.p("keepalived_bfd.data")).unwrap_or_default();
        v.contains("------< VRRP Track BFDs >------\n VRRP Track BFD = PEER\n")
            && v.contains("   Bfd is up\n")
            && v.contains("   Tracked BFDs :\n     PEER: weight 0\n")
            && b.contains(" BFD Instance = PEER\n")
            && b.contains("   Local state = Up\n")
    });

    // A reload that keeps the session (bfd_daemon.c reload_bfd_thread():
    // unchanged sessions keep their state): no Down, still MASTER.
    let downs = count(&d.log(), "Tracked BFD instance PEER is DOWN");
    let reloads = count(&d.log(), "reload complete");
    scratch.write(
        "keepalived.conf",
        &OURS.replace(
            "    advert_int 1\n",
            "    advert_int 1\n    garp_master_delay 2\n",
        ),
    );
    d.signal("HUP");
    wait_for("the reload", Duration::from_secs(10), || {
        count(&d.log(), "reload complete") > reloads
    });
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        count(&d.log(), "Tracked BFD instance PEER is DOWN"),
        downs,
        "{}",
        d.log()
    );
    assert_eq!(bfd_session_state(d).as_deref(), Some("Up"));
    assert!(has_vip(&ns.name, "eth0"));
    assert!(
        d.log().contains("bfd child applied the new configuration"),
        "{}",
        d.log()
    );
}

/// Our detection timer notices the silence of keepalived's killed bfd
/// process; keepalived's respawned one brings the session back.
fn keepalived_bfd_process_killed(d: &Daemon, ns: &Netns, scratch: &Scratch) {
    let ka_said = |s: &str| {
        std::fs::read_to_string(scratch.p("ka.log"))
            .unwrap_or_default()
            .contains(s)
    };
    // kill -9 keepalived's bfd process, its parent stopped meanwhile so
    // that no respawned bfd process signals Down at once: our detection
    // timer has to notice the silence.
    let ka_bfd = read_pid(&scratch.p("ka-b.pid")).expect("keepalived's bfd pid");
    let ka_parent = read_pid(&scratch.p("ka.pid")).expect("keepalived's pid");
    sh(&["kill", "-STOP", &ka_parent.to_string()]);
    let _cont = Cont(ka_parent);
    let faults_before = count(&d.log(), "(VI_1) Entering FAULT STATE");
    let masters_before = count(&d.log(), "(VI_1) Entering MASTER STATE");
    let downs_before = count(
        &d.log(),
        "BFD check of [PEER] RS([192.0.2.11]:tcp:80) is DOWN",
    );
    sh(&["kill", "-9", &ka_bfd.to_string()]);
    let killed = Instant::now();
    let limit = DETECT + MARGIN;
    while count(&d.log(), "(VI_1) Entering FAULT STATE") == faults_before {
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "no FAULT after keepalived's bfd process died:\n{}",
            d.log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let took = killed.elapsed();
    eprintln!("FAULT {took:?} after kill -9 of keepalived's bfd process");
    assert!(took <= limit, "FAULT after {took:?}, more than {limit:?}");
    // The detection timer, not a Down from a new peer process.
    assert!(
        took >= Duration::from_millis(150),
        "FAULT after {took:?}: sooner than the 300 ms detection time"
    );
    assert!(d
        .log()
        .contains("VRRP_Instance(VI_1) Tracked BFD instance PEER is DOWN"));
    // -D: each child logs how long the state took from the BFD child
    // (through the supervisor) to it.
    let delivered: Vec<u64> = d
        .log()
        .lines()
        .filter(|l| l.contains("Received BFD event: instance PEER is in state"))
        .filter_map(|l| {
            l.split("delivered in ")
                .nth(1)?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    eprintln!("BFD event delivery (us): {delivered:?}");
    assert!(delivered.len() >= 4, "{}", d.log());
    assert!(
        delivered.iter().all(|us| *us < 250_000),
        "BFD event delivery took {delivered:?} us"
    );
    wait_for("BFD_CHECK DOWN", Duration::from_secs(5), || {
        count(
            &d.log(),
            "BFD check of [PEER] RS([192.0.2.11]:tcp:80) is DOWN",
        ) > downs_before
    });
    // keepalived's VRRP process runs on: it takes the VIP.
    wait_for("keepalived takes the VIP", Duration::from_secs(10), || {
        ka_said("(VI_1) Entering MASTER STATE")
    });
    // Let keepalived's parent respawn its bfd process.
    drop(_cont);
    // keepalived respawns its bfd process: Up again, MASTER again.
    wait_for("MASTER again", Duration::from_secs(30), || {
        count(&d.log(), "(VI_1) Entering MASTER STATE") > masters_before
            && has_vip(&ns.name, "eth0")
    });
}

/// Our BFD child, killed, is respawned and the session comes back.
fn our_bfd_child_killed(d: &Daemon, ns: &Netns, bfd_pid: &str) {
    // kill -9 our BFD child: respawned, the session comes back.
    let ours = read_pid(std::path::Path::new(&bfd_pid)).expect("our bfd pid file");
    sh(&["kill", "-9", &ours.to_string()]);
    wait_for("a new BFD child", Duration::from_secs(15), || {
        read_pid(std::path::Path::new(&bfd_pid)).is_some_and(|p| p != ours && alive(p))
    });
    assert!(
        d.log()
            .contains(&format!("BFD child process({ours}) died: Respawning")),
        "{}",
        d.log()
    );
    wait_for(
        "the session Up after the respawn",
        Duration::from_secs(20),
        || bfd_session_state(d).as_deref() == Some("Up"),
    );
    wait_for("MASTER after the respawn", Duration::from_secs(30), || {
        has_vip(&ns.name, "eth0")
    });
}

/// `bfd_rt_priority` / `bfd_rlimit_rttime` (bfd_daemon.c start_bfd() ->
/// set_process_priorities(): SCHED_RR, RLIMIT_RTTIME soft = half of it),
/// and no BFD child with `-B` (core/main.c: `--no_bfd` clears DAEMON_BFD).
#[test]
fn bfd_rt_priority_and_rlimit_rttime_and_no_bfd() {
    if !prerequisites(&[]) {
        return;
    }
    let conf = "global_defs {
    router_id rkd_bfd_rt
    bfd_rt_priority 4
    bfd_rlimit_rttime 40000
}

bfd_instance PEER {
    neighbor_ip 192.0.2.3
}
";
    let ns = Netns::new("bfdrt");
    let scratch = Scratch::new("bfdrt");
    scratch.write("keepalived.conf", conf);
    let bfd_pid = scratch.p("bfd.pid");
    let d = Daemon::start(&ns, &scratch, &["-b", &bfd_pid.display().to_string()], &[]);
    wait_for("the BFD child", Duration::from_secs(20), || {
        read_pid(&bfd_pid).is_some_and(alive)
    });
    let pid = read_pid(&bfd_pid).expect("bfd pid");
    // Fields 40 (rt_priority) and 41 (policy, 2 = SCHED_RR), once the
    // child applied its options (the pid file is written at the fork).
    let sched = || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let rest: Vec<String> = stat
            .rsplit_once(')')
            .map(|(_, r)| r.split_whitespace().map(str::to_string).collect())
            .unwrap_or_default();
        (
            rest.get(37).cloned().unwrap_or_default(),
            rest.get(38).cloned().unwrap_or_default(),
        )
    };
    wait_for("SCHED_RR on the BFD child", Duration::from_secs(10), || {
        sched().1 == "2"
    });
    assert_eq!(sched(), ("4".to_string(), "2".to_string()), "SCHED_RR 4");
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).expect("limits");
    let rt: Vec<&str> = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max realtime timeout"))
        .expect("rttime line")
        .split_whitespace()
        .collect();
    assert_eq!(&rt[..2], ["20000", "40000"], "RLIMIT_RTTIME soft = half");
    drop(d);

    // -B: no BFD child at all (nothing else to run: the daemon idles).
    let ns = Netns::new("bfdoff");
    let scratch = Scratch::new("bfdoff");
    scratch.write("keepalived.conf", conf);
    let bfd_pid = scratch.p("bfd.pid");
    let d = Daemon::start(
        &ns,
        &scratch,
        &["-B", "-b", &bfd_pid.display().to_string()],
        &[],
    );
    wait_for("startup", Duration::from_secs(20), || {
        d.log().contains("Startup complete")
    });
    assert!(read_pid(&bfd_pid).is_none(), "-B started a BFD child");
    assert!(
        !d.log().contains("Starting BFD child process"),
        "{}",
        d.log()
    );
}
