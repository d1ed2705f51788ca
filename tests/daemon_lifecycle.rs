//! Supervisor lifecycle edges in a private network namespace: the parent
//! dying, --dont-respawn, roles appearing/disappearing on reload, -P.
//! Needs root.

mod daemon_util;

use daemon_util::*;

fn state(d: &Daemon, role: &str) -> Option<String> {
    d.status()
        .and_then(|s| s["children"][role]["state"].as_str().map(str::to_owned))
}

#[test]
fn children_stop_cleanly_when_the_supervisor_is_killed() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("pdeath");
    let scratch = Scratch::new("pdeath");
    scratch.write("keepalived.conf", &config("192.0.2.100", ""));
    let mut d = Daemon::start(&ns, &scratch, &[], &[]);
    wait_for("both children", LIMIT, || {
        state(&d, "vrrp").as_deref() == Some("running")
            && state(&d, "checker").as_deref() == Some("running")
    });
    let vrrp = d.child_pid("vrrp.pid").expect("vrrp pid");
    let checker = d.child_pid("checkers.pid").expect("checker pid");
    wait_for("VIP on eth0", LIMIT, || {
        ns.addr_count("eth0", "192.0.2.100") == 1
    });

    d.signal("KILL");
    d.wait_exit(LIMIT);
    // PR_SET_PDEATHSIG(SIGTERM): the children run their clean stop.
    wait_for("children gone", LIMIT, || !alive(vrrp) && !alive(checker));
    assert_eq!(
        ns.addr_count("eth0", "192.0.2.100"),
        0,
        "the orphaned VRRP child released its VIP"
    );
}

#[test]
fn dont_respawn_stops_the_daemon_when_a_child_dies() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("norespawn");
    let scratch = Scratch::new("norespawn");
    scratch.write("keepalived.conf", &config("192.0.2.100", ""));
    let mut d = Daemon::start(&ns, &scratch, &["--dont-respawn"], &[]);
    wait_for("both children", LIMIT, || {
        state(&d, "vrrp").as_deref() == Some("running")
            && state(&d, "checker").as_deref() == Some("running")
    });
    let vrrp = d.child_pid("vrrp.pid").expect("vrrp pid");
    wait_for("VIP on eth0", LIMIT, || {
        ns.addr_count("eth0", "192.0.2.100") == 1
    });
    let checker = d.child_pid("checkers.pid").expect("checker pid");
    let _ = sh(&["kill", "-9", &checker.to_string()]);
    let st = d.wait_exit(LIMIT);
    assert!(
        !st.success(),
        "a dead child with -R is a failure exit: {st:?}"
    );
    assert!(!alive(vrrp), "the other child was stopped");
    assert_eq!(
        ns.addr_count("eth0", "192.0.2.100"),
        0,
        "and released its VIP"
    );
    assert!(!scratch.p("keepalived.pid").exists());
    assert!(d.log().contains("--dont-respawn"), "{}", d.log());
}

#[test]
fn reload_starts_and_stops_role_children_as_the_config_changes() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("roles");
    let scratch = Scratch::new("roles");
    let conf = scratch.write(
        "keepalived.conf",
        &format!("{}{}", global_block(""), vrrp_block("192.0.2.100")),
    );
    let mut d = Daemon::start(&ns, &scratch, &[], &[]);
    wait_for("vrrp child", LIMIT, || {
        state(&d, "vrrp").as_deref() == Some("running")
    });
    assert_eq!(
        state(&d, "checker").as_deref(),
        Some("disabled"),
        "no virtual_server: no checker child"
    );
    assert!(!scratch.p("checkers.pid").exists());
    wait_for("VIP on eth0", LIMIT, || {
        ns.addr_count("eth0", "192.0.2.100") == 1
    });

    std::fs::write(&conf, config("192.0.2.100", "")).expect("write");
    d.signal("HUP");
    wait_for("checker child started by reload", LIMIT, || {
        state(&d, "checker").as_deref() == Some("running")
    });
    assert!(scratch.p("checkers.pid").exists());

    let vrrp = d.child_pid("vrrp.pid").expect("vrrp pid");
    std::fs::write(
        &conf,
        format!("{}{}", global_block(""), virtual_server_block()),
    )
    .expect("write");
    d.signal("HUP");
    wait_for("vrrp child stopped by reload", LIMIT, || {
        !alive(vrrp) && state(&d, "vrrp").as_deref() == Some("disabled")
    });
    assert_eq!(
        ns.addr_count("eth0", "192.0.2.100"),
        0,
        "its VIP was released"
    );
    assert!(!scratch.p("vrrp.pid").exists());
    assert!(d.is_running());
    assert_eq!(state(&d, "checker").as_deref(), Some("running"));
}

#[test]
fn vrrp_only_flag_runs_only_the_vrrp_child() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("ponly");
    let scratch = Scratch::new("ponly");
    scratch.write("keepalived.conf", &config("192.0.2.100", ""));
    let d = Daemon::start(&ns, &scratch, &["-P"], &[]);
    wait_for("vrrp child", LIMIT, || {
        state(&d, "vrrp").as_deref() == Some("running")
    });
    assert_eq!(state(&d, "checker").as_deref(), Some("disabled"));
    assert!(!scratch.p("checkers.pid").exists());
}

fn backup_config(advert_int: u32) -> String {
    format!(
        "{}vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int {advert_int}
    virtual_ipaddress {{
        192.0.2.100/24
    }}
}}
",
        global_block("")
    )
}

#[test]
fn stale_vip_from_a_previous_run_is_removed_when_starting_as_backup() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("stale");
    let scratch = Scratch::new("stale");
    // Left behind by a daemon that was SIGKILLed while MASTER.
    ns.ip(&["addr", "add", "192.0.2.100/24", "dev", "eth0"]);
    // advert_int 10: master_down_interval > 30 s, so it stays BACKUP here.
    scratch.write("keepalived.conf", &backup_config(10));
    let d = Daemon::start(&ns, &scratch, &[], &[]);
    wait_for("stale VIP removed", LIMIT, || {
        ns.addr_count("eth0", "192.0.2.100") == 0
    });
    assert!(
        d.log().contains("removed stale VIP 192.0.2.100/24"),
        "{}",
        d.log()
    );
    assert_eq!(
        ns.addr_count("eth0", "192.0.2.2"),
        1,
        "the interface's own address is untouched"
    );
}

#[test]
fn respawned_backup_child_does_not_keep_its_predecessors_vip() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("respawnbk");
    let scratch = Scratch::new("respawnbk");
    // No peer: BACKUP becomes MASTER after master_down_interval (~6.6 s).
    scratch.write("keepalived.conf", &backup_config(2));
    let d = Daemon::start(&ns, &scratch, &[], &[]);
    wait_for("MASTER with the VIP", LIMIT, || {
        ns.addr_count("eth0", "192.0.2.100") == 1
    });
    let first = d.child_pid("vrrp.pid").expect("vrrp pid");
    let _ = sh(&["kill", "-9", &first.to_string()]);
    // The respawned child starts as BACKUP: the dead one's VIP must go
    // (a peer may own it now), then come back when it is MASTER again.
    wait_for("stale VIP removed by the new child", LIMIT, || {
        ns.addr_count("eth0", "192.0.2.100") == 0
    });
    assert!(d.child_pid("vrrp.pid").is_some_and(|p| p != first));
    wait_for("MASTER again", LIMIT, || {
        ns.addr_count("eth0", "192.0.2.100") == 1
    });
}

#[test]
fn a_hung_child_is_detected_and_replaced() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("hung");
    let scratch = Scratch::new("hung");
    scratch.write("keepalived.conf", &config("192.0.2.100", ""));
    let d = Daemon::start(&ns, &scratch, &["--liveness-interval", "1"], &[]);
    wait_for("vrrp child", LIMIT, || {
        state(&d, "vrrp").as_deref() == Some("running")
    });
    wait_for("VIP on eth0", LIMIT, || {
        ns.addr_count("eth0", "192.0.2.100") == 1
    });
    let hung = d.child_pid("vrrp.pid").expect("vrrp pid");
    // A stopped process answers nothing, like a deadlocked engine.
    let _ = sh(&["kill", "-STOP", &hung.to_string()]);
    wait_for("hung child replaced", LIMIT, || {
        !alive(hung)
            && d.child_pid("vrrp.pid")
                .is_some_and(|p| p != hung && alive(p))
    });
    assert!(
        d.log().contains("vrrp child is unresponsive"),
        "{}",
        d.log()
    );
    wait_for("new child running", LIMIT, || {
        state(&d, "vrrp").as_deref() == Some("running")
    });
    wait_for("VIP held once", LIMIT, || {
        ns.addr_count("eth0", "192.0.2.100") == 1
    });
    let checker = d.status().expect("status")["children"]["checker"]["restarts"].clone();
    assert_eq!(checker, 0, "the healthy checker was left alone");
}

#[test]
fn namespace_flag_runs_the_daemon_inside_the_named_netns() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("nsflag");
    let scratch = Scratch::new("nsflag");
    scratch.write(
        "keepalived.conf",
        &format!("{}{}", global_block(""), vrrp_block("192.0.2.100")),
    );
    let mut d = Daemon::start_outside(&scratch, &["-s", &ns.name]);
    wait_for("VIP inside the namespace", LIMIT, || {
        ns.addr_count("eth0", "192.0.2.100") == 1
    });
    let vrrp = d.child_pid("vrrp.pid").expect("vrrp pid");
    let netns_of = |pid: i32| std::fs::read_link(format!("/proc/{pid}/ns/net")).ok();
    assert_eq!(
        netns_of(vrrp),
        netns_of(d.pid),
        "children inherit the namespace"
    );
    assert_ne!(
        netns_of(d.pid),
        netns_of(std::process::id() as i32),
        "the daemon left the host namespace"
    );
    d.signal("TERM");
    assert!(d.wait_exit(LIMIT).success());
    assert_eq!(ns.addr_count("eth0", "192.0.2.100"), 0);
}
