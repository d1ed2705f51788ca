//! The process options of the children (`vrrp_priority`, `vrrp_rt_priority`,
//! `vrrp_rlimit_rttime`, `vrrp_no_swap`, `vrrp_cpu_affinity` and the
//! `checker_*` ones) observed on the running children through /proc: nice
//! value and scheduling policy (`stat`), locked memory (`VmLck`), CPU
//! affinity (`Cpus_allowed_list`), RLIMIT_RTTIME (`limits`). Each child
//! applies only its own options, on every thread, and again after a reload;
//! both children's values are compared with keepalived 2.2.7's children on
//! the same config. Needs root.

mod daemon_util;

use std::path::Path;
use std::process::{Command, Stdio};

use daemon_util::*;

/// What /proc says about one task.
#[derive(Debug, Clone, PartialEq, Eq)]
struct View {
    nice: i64,
    /// 0 SCHED_OTHER, 2 SCHED_RR.
    policy: i64,
    rt_priority: i64,
    cpus: String,
    locked_kb: u64,
    /// RLIMIT_RTTIME soft, hard ("unlimited" or µs).
    rttime: (String, String),
}

fn view(pid: i32) -> View {
    view_task(&format!("/proc/{pid}"))
}

fn view_task(dir: &str) -> View {
    let stat = std::fs::read_to_string(format!("{dir}/stat")).expect("stat");
    // Fields after "(comm)": index 0 is field 3 (state).
    let rest: Vec<&str> = stat
        .rsplit_once(')')
        .expect("comm")
        .1
        .split_whitespace()
        .collect();
    let field = |n: usize| -> i64 { rest[n - 3].parse().expect("stat field") };
    let status = std::fs::read_to_string(format!("{dir}/status")).expect("status");
    let status_field = |key: &str| -> String {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or("")
            .trim()
            .to_string()
    };
    let locked_kb = status_field("VmLck:")
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap_or(0);
    let limits = std::fs::read_to_string(format!("{dir}/limits")).expect("limits");
    let rt = limits
        .lines()
        .find(|l| l.starts_with("Max realtime timeout"))
        .expect("rttime line");
    let words: Vec<&str> = rt["Max realtime timeout".len()..]
        .split_whitespace()
        .collect();
    View {
        nice: field(19),
        policy: field(41),
        rt_priority: field(40),
        cpus: status_field("Cpus_allowed_list:"),
        locked_kb,
        rttime: (words[0].to_string(), words[1].to_string()),
    }
}

/// Every thread of `pid`.
fn thread_views(pid: i32) -> Vec<View> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("task dir")
        .filter_map(|e| e.ok())
        .map(|e| view_task(&e.path().display().to_string()))
        .collect()
}

fn wait_children(d: &Daemon) -> (i32, i32) {
    wait_for("both children running", LIMIT, || {
        d.status().is_some_and(|s| {
            s["children"]["vrrp"]["state"] == "running"
                && s["children"]["checker"]["state"] == "running"
        })
    });
    let v = d.child_pid("vrrp.pid").expect("vrrp.pid");
    let c = d.child_pid("checkers.pid").expect("checkers.pid");
    (v, c)
}

fn online_cpus() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// keepalived 2.2.7 on `conf` in `ns`, both children (its checker on this
/// IPVS-less host through bench/check/fake_ipvs.c, preloaded, as in
/// daemon_check_wording.rs); returns it and its VRRP and checker children's
/// pids.
fn keepalived_children(ns: &Netns, scratch: &Scratch, conf: &Path) -> (Killed, i32, i32) {
    let shim = scratch.fake_ipvs();
    let log = std::fs::File::create(scratch.p("ka.log")).expect("log");
    let p = |n: &str| scratch.p(n).display().to_string();
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.name, "/usr/sbin/keepalived"])
        .args(["-n", "-l", "-G", "-f", &conf.display().to_string()])
        .args([
            "-p",
            &p("ka.pid"),
            "-r",
            &p("ka-v.pid"),
            "-c",
            &p("ka-c.pid"),
        ])
        .env("LD_PRELOAD", shim.display().to_string())
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("dup"))
        .stderr(log)
        .spawn()
        .expect("spawn keepalived");
    let ka = Killed(child);
    let (mut vrrp, mut checker) = (None, None);
    wait_for("keepalived's children", LIMIT, || {
        vrrp = read_pid(&scratch.p("ka-v.pid")).filter(|p| alive(*p));
        checker = read_pid(&scratch.p("ka-c.pid")).filter(|p| alive(*p));
        vrrp.is_some() && checker.is_some()
    });
    (ka, vrrp.unwrap_or_default(), checker.unwrap_or_default())
}

#[test]
fn nice_no_swap_and_affinity_apply_to_each_child_and_follow_a_reload() {
    if !prerequisites(&["keepalived", "cc"]) {
        return;
    }
    let ns = Netns::new("procnice");
    let scratch = Scratch::new("procnice");
    let last = online_cpus() - 1;
    let global = format!(
        "    vrrp_priority -5\n    vrrp_no_swap\n    vrrp_cpu_affinity {last}\n    checker_priority 7\n    checker_cpu_affinity 0\n"
    );
    let conf = scratch.write("keepalived.conf", &config("192.0.2.100", &global));
    let d = Daemon::start(&ns, &scratch, &[], &[]);
    let (vrrp, checker) = wait_children(&d);
    let v = view(vrrp);
    assert_eq!(v.nice, -5, "vrrp_priority: {v:?}");
    assert!(v.locked_kb > 0, "vrrp_no_swap locks memory: {v:?}");
    assert_eq!(v.cpus, last.to_string(), "vrrp_cpu_affinity: {v:?}");
    for t in thread_views(vrrp) {
        assert_eq!(
            (t.nice, t.cpus.as_str()),
            (-5, v.cpus.as_str()),
            "every vrrp thread: {t:?}"
        );
    }
    let c = view(checker);
    assert_eq!(c.nice, 7, "checker_priority: {c:?}");
    assert_eq!(c.locked_kb, 0, "no checker_no_swap: {c:?}");
    assert_eq!(c.cpus, "0", "checker_cpu_affinity: {c:?}");
    let parent = view(d.pid);
    assert_eq!(parent.nice, 0, "the supervisor keeps its nice value");
    assert_eq!(parent.locked_kb, 0, "nor is the supervisor locked");

    // keepalived 2.2.7's VRRP child on the same config shows the same.
    let ka_ns = Netns::new("procnice-ka");
    let (_ka, ka_vrrp, ka_checker) = keepalived_children(&ka_ns, &scratch, &conf);
    // keepalived applies them at the end of start_vrrp / start_check.
    wait_for("keepalived's options", LIMIT, || {
        view(ka_vrrp).nice == -5 && view(ka_checker).nice == 7
    });
    let (kv, kc) = (view(ka_vrrp), view(ka_checker));
    assert_eq!(
        (kv.nice, kv.cpus.as_str(), kv.locked_kb > 0),
        (v.nice, v.cpus.as_str(), v.locked_kb > 0),
        "vrrp: keepalived {kv:?} vs ours {v:?}"
    );
    assert_eq!(
        (kc.nice, kc.cpus.as_str(), kc.locked_kb > 0),
        (c.nice, c.cpus.as_str(), c.locked_kb > 0),
        "checker: keepalived {kc:?} vs ours {c:?}"
    );

    // A reload resets and applies the new values (reload_vrrp_thread:
    // reset_process_priorities, then start_vrrp sets them again).
    scratch.write(
        "keepalived.conf",
        &config(
            "192.0.2.100",
            "    vrrp_priority 3\n    checker_priority -2\n",
        ),
    );
    d.signal("HUP");
    wait_for("reloaded nice values", LIMIT, || {
        view(vrrp).nice == 3 && view(checker).nice == -2
    });
    assert_eq!(
        view(vrrp).locked_kb,
        0,
        "no vrrp_no_swap any more: unlocked"
    );
}

#[test]
fn realtime_priority_with_rttime_limit_wins_over_nice() {
    if !prerequisites(&["keepalived", "cc"]) {
        return;
    }
    let ns = Netns::new("procrt");
    let scratch = Scratch::new("procrt");
    let global = "    vrrp_rt_priority 10\n    vrrp_rlimit_rttime 30000\n    vrrp_priority -5\n    checker_rt_priority 5\n    checker_rlimit_rttime 20000\n";
    let conf = scratch.write("keepalived.conf", &config("192.0.2.100", global));
    let d = Daemon::start(&ns, &scratch, &[], &[]);
    let (vrrp, checker) = wait_children(&d);
    let v = view(vrrp);
    assert_eq!((v.policy, v.rt_priority), (2, 10), "SCHED_RR 10: {v:?}");
    assert_eq!(
        v.nice, 0,
        "keepalived ignores vrrp_priority with vrrp_rt_priority"
    );
    assert_eq!(
        v.rttime,
        ("15000".to_string(), "30000".to_string()),
        "RLIMIT_RTTIME soft = half of vrrp_rlimit_rttime"
    );
    let c = view(checker);
    assert_eq!((c.policy, c.rt_priority), (2, 5), "SCHED_RR 5: {c:?}");
    assert_eq!(
        c.rttime,
        ("10000".to_string(), "20000".to_string()),
        "RLIMIT_RTTIME soft = half of checker_rlimit_rttime"
    );
    let parent = view(d.pid);
    assert_eq!(parent.policy, 0, "the supervisor stays SCHED_OTHER");

    let ka_ns = Netns::new("procrt-ka");
    let (_ka, ka_vrrp, ka_checker) = keepalived_children(&ka_ns, &scratch, &conf);
    wait_for("keepalived's options", LIMIT, || {
        view(ka_vrrp).policy == 2 && view(ka_checker).policy == 2
    });
    let (k, kc) = (view(ka_vrrp), view(ka_checker));
    assert_eq!(
        (k.policy, k.rt_priority, k.nice, &k.rttime),
        (v.policy, v.rt_priority, v.nice, &v.rttime),
        "vrrp: keepalived {k:?} vs ours {v:?}"
    );
    assert_eq!(
        (kc.policy, kc.rt_priority, kc.nice, &kc.rttime),
        (c.policy, c.rt_priority, c.nice, &c.rttime),
        "checker: keepalived {kc:?} vs ours {c:?}"
    );
    // SCHED_RESET_ON_FORK, as keepalived: what the child forks (scripts)
    // does not inherit SCHED_RR.
    let chrt = sh(&["chrt", "-p", &vrrp.to_string()]);
    let text = String::from_utf8_lossy(&chrt.stdout);
    assert!(text.contains("SCHED_RR|SCHED_RESET_ON_FORK"), "{text}");
    let ka_chrt = sh(&["chrt", "-p", &ka_vrrp.to_string()]);
    assert!(
        String::from_utf8_lossy(&ka_chrt.stdout).contains("SCHED_RR|SCHED_RESET_ON_FORK"),
        "keepalived sets it too"
    );
}
