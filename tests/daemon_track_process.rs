//! `vrrp_track_process` / `track_process` on the real daemon, side by side
//! with keepalived 2.2.7 (each in its own namespace, same configuration):
//! an instance tracking a process without a weight is in FAULT (no VIP)
//! while the process is absent, becomes MASTER (VIP) once it runs, and
//! falls back to FAULT when it is killed (keepalived vrrp/vrrp_track.c
//! `process_update_track_process_status()`). The tracked process is a
//! `sleep` with an argument unique to this test run, matched with
//! `param_match` (exact parameters). Needs root.

mod daemon_util;

use std::process::{Command, Stdio};
use std::time::Duration;

use daemon_util::*;

/// `process sleep ARG` with `param_match`: only a `sleep ARG` counts.
fn conf(arg: &str) -> String {
    format!(
        "{}vrrp_track_process chk_sleep {{
    param_match
    process sleep {arg}
    quorum 1
}}

vrrp_instance VI_1 {{
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {{
        192.0.2.100/24
    }}
    track_process {{
        chk_sleep
    }}
}}
",
        global_block("")
    )
}

/// Spawns `sleep ARG` (argv[0] "sleep"), killed on drop.
fn tracked(arg: &str) -> Killed {
    Killed(
        Command::new("sleep")
            .arg(arg)
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn sleep"),
    )
}

#[test]
fn track_process_faults_the_instance_until_the_process_runs() {
    if !prerequisites(&["sleep"]) {
        return;
    }
    // A float sleep understands, unique to this run.
    let arg = format!("3600.{}", std::process::id());
    let scratch = Scratch::new("trackproc");
    let rk_ns = Netns::new("tproc-rk");
    scratch.write("keepalived.conf", &conf(&arg));
    // A decoy with another argument must not count.
    let _decoy = tracked(&format!("3601.{}", std::process::id()));

    // keepalived 2.2.7 on the same config, when installed.
    let ka_ns = Netns::new("tproc-ka");
    let have_ka = std::path::Path::new("/usr/sbin/keepalived").exists();
    if !have_ka {
        eprintln!("keepalived 2.2.7 not installed: checking rkeepalived alone");
    }
    let start_ka = |log_name: &str| {
        spawn_keepalived(
            &ka_ns,
            &scratch,
            &scratch.p("keepalived.conf"),
            &["-P", "-D"],
            log_name,
        )
    };
    let _ka = have_ka.then(|| start_ka("ka.log"));
    let daemon = Daemon::start(&rk_ns, &scratch, &["-P"], &[]);
    let ka_log = |n: &str| std::fs::read_to_string(scratch.p(n)).unwrap_or_default();
    let vip = |ns: &Netns| ns.addr_count("eth0", "192.0.2.100");

    // No tracked process: FAULT, no VIP (MASTER would take it within ~3 s).
    wait_for("rkeepalived to enter FAULT", LIMIT, || {
        daemon.log().contains("(VI_1) Entering FAULT STATE")
    });
    assert!(
        daemon.log().contains(
            "(VI_1) entering FAULT state (tracked process chk_sleep quorum not achieved)"
        ),
        "keepalived's wording: {}",
        daemon.log()
    );
    if have_ka {
        wait_for("keepalived to enter FAULT", LIMIT, || {
            ka_log("ka.log").contains(
                "(VI_1) entering FAULT state (tracked process chk_sleep quorum not achieved)",
            )
        });
    }
    // In a network namespace the kernel's process-event connector refuses
    // the subscription: both say so in keepalived's words, and rkeepalived
    // says once that it scans /proc instead.
    let refused = "Failed to set/clear process event listen - errno 111 - Connection refused";
    wait_for("rkeepalived to log the connector fallback", LIMIT, || {
        daemon.log().contains(
            "track_process: process event connector unusable (the kernel sends process events only to the initial network namespace); scanning /proc every 1 s instead",
        )
    });
    assert!(daemon.log().contains(refused), "{}", daemon.log());
    assert_eq!(
        daemon
            .log()
            .matches("process event connector unusable")
            .count(),
        1,
        "logged once"
    );
    if have_ka {
        assert!(ka_log("ka.log").contains(refused), "{}", ka_log("ka.log"));
    }
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        vip(&rk_ns),
        0,
        "no VIP while the process is absent:\n{}",
        daemon.log()
    );
    if have_ka {
        assert_eq!(
            vip(&ka_ns),
            0,
            "keepalived holds the VIP back too:\n{}",
            ka_log("ka.log")
        );
    }

    // The process starts: quorum gained, MASTER with the VIP.
    let sleeper = tracked(&arg);
    wait_for("rkeepalived to take the VIP", LIMIT, || vip(&rk_ns) == 1);
    if have_ka {
        // keepalived follows processes with the netlink process connector,
        // which the kernel serves in the initial network namespace only:
        // in a namespace its subscription fails ("Failed to set/clear
        // process event listen - errno 111") and `init_track_processes()`
        // returns before its /proc scan, so it never counts a process and
        // stays in FAULT. rkeepalived's /proc scan works in any namespace
        // (a deliberate difference, crates/vrrp/README.md); in the initial
        // namespace keepalived takes the VIP as we do.
        let log = ka_log("ka.log");
        if log.contains("process event listen") {
            assert_eq!(vip(&ka_ns), 0, "{log}");
        } else {
            wait_for("keepalived to take the VIP", LIMIT, || vip(&ka_ns) == 1);
        }
    }
    assert!(
        daemon
            .log()
            .contains("Quorum gained for tracked process chk_sleep"),
        "keepalived's wording: {}",
        daemon.log()
    );

    // Killed: quorum lost, FAULT again within a few seconds, VIP dropped.
    drop(sleeper);
    wait_for(
        "rkeepalived to drop the VIP",
        Duration::from_secs(10),
        || vip(&rk_ns) == 0,
    );
    assert!(
        daemon
            .log()
            .contains("Quorum lost for tracked process chk_sleep"),
        "{}",
        daemon.log()
    );
}
