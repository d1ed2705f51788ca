//! `max_auto_priority` and `min_auto_priority_delay` (global_defs), side by
//! side with keepalived 2.2.7's VRRP child on the same configuration.
//! keepalived's scheduler (lib/scheduler.c) checks on each wake-up whether
//! its earliest timer expired more than `min_auto_priority_delay` µs ago;
//! if so it logs "A thread timer expired S.UUUUUU seconds ago" and
//! `increment_process_priority()` (lib/process.c) switches the process to
//! SCHED_RR at priority 1, then one higher after each late wake-up, up to
//! `max_auto_priority`. A late wake-up is produced here by stopping the
//! VRRP child (SIGSTOP) for 0.7 s while its 100 ms advert timer runs, then
//! continuing it. Needs root.

mod daemon_util;

use std::time::Duration;

use daemon_util::*;

fn conf() -> String {
    format!(
        "{}vrrp_instance VI_1 {{
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 0.1
    virtual_ipaddress {{
        192.0.2.100/24
    }}
}}
",
        global_block(
            "    vrrp_version 3\n    max_auto_priority 2\n    min_auto_priority_delay 200000\n"
        )
    )
}

/// (policy, rt_priority) of a process's main thread.
fn sched(pid: i32) -> (i64, i64) {
    sched_task(pid, pid)
}

/// (policy, rt_priority) of one thread: fields 41 and 40 of its stat.
fn sched_task(pid: i32, tid: i32) -> (i64, i64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/task/{tid}/stat")).unwrap_or_default();
    let rest: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    // rest[0] is field 3 (state).
    let field = |n: usize| rest.get(n - 3).and_then(|w| w.parse().ok()).unwrap_or(-1);
    (field(41), field(40))
}

fn stop_for(pids: &[i32], d: Duration) {
    for p in pids {
        sh(&["kill", "-STOP", &p.to_string()]);
    }
    std::thread::sleep(d);
    for p in pids {
        sh(&["kill", "-CONT", &p.to_string()]);
    }
}

const SCHED_OTHER: i64 = 0;
const SCHED_RR: i64 = 2;

#[test]
fn late_wakeups_raise_the_vrrp_child_to_sched_rr_as_keepalived() {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    let scratch = Scratch::new("autoprio");
    scratch.write("keepalived.conf", &conf());
    let rk_ns = Netns::new("autoprio-rk");
    let ka_ns = Netns::new("autoprio-ka");
    let d = Daemon::start(&rk_ns, &scratch, &["-P"], &[]);
    let _ka = spawn_keepalived(
        &ka_ns,
        &scratch,
        &scratch.p("keepalived.conf"),
        &["-P", "-D"],
        "ka.log",
    );
    let ka_log = || std::fs::read_to_string(scratch.p("ka.log")).unwrap_or_default();
    wait_for("both to take the VIP", LIMIT, || {
        rk_ns.addr_count("eth0", "192.0.2.100") == 1 && ka_ns.addr_count("eth0", "192.0.2.100") == 1
    });
    let ours = d.child_pid("vrrp.pid").expect("vrrp.pid");
    let theirs = read_pid(&scratch.p("ka-v.pid")).expect("keepalived's vrrp pid");
    assert_eq!(sched(ours).0, SCHED_OTHER, "no RT before a late wake-up");
    assert_eq!(sched(theirs).0, SCHED_OTHER, "keepalived neither");

    for (round, want) in [(1, 1), (2, 2), (3, 2)] {
        stop_for(&[ours, theirs], Duration::from_millis(700));
        wait_for(
            &format!("SCHED_RR {want} after late wake-up {round}"),
            Duration::from_secs(10),
            || sched(ours) == (SCHED_RR, want) && sched(theirs) == (SCHED_RR, want),
        );
        // Nothing more happens without another late wake-up.
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(sched(ours), (SCHED_RR, want), "round {round}: ours");
        assert_eq!(sched(theirs), (SCHED_RR, want), "round {round}: keepalived");
        eprintln!("round {round}: both SCHED_RR {want}");
    }
    // Every thread of ours, as keepalived's single thread.
    for t in std::fs::read_dir(format!("/proc/{ours}/task"))
        .expect("tasks")
        .flatten()
    {
        let tid: i32 = t.file_name().to_string_lossy().parse().expect("tid");
        let (policy, prio) = sched_task(ours, tid);
        // Threads started after the last raise (blocking pool) start
        // SCHED_OTHER because of SCHED_RESET_ON_FORK, as keepalived's
        // forked scripts do.
        assert!(
            (policy, prio) == (SCHED_RR, 2) || policy == SCHED_OTHER,
            "thread {tid}: {policy} {prio}"
        );
    }
    for (who, log) in [("rkeepalived", d.log()), ("keepalived", ka_log())] {
        assert!(
            log.contains("A thread timer expired 0."),
            "{who} logs the late timer: {log}"
        );
        assert!(log.contains("Set realtime priority 1"), "{who}: {log}");
        assert!(log.contains("Set realtime priority 2"), "{who}: {log}");
        assert!(
            !log.contains("Set realtime priority 3"),
            "{who} stops at max_auto_priority: {log}"
        );
    }
}
