//! The supervisor in a private network namespace: children, respawn,
//! reloads, clean stop, dumps, /metrics, sd_notify. Needs root.

mod daemon_util;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use daemon_util::*;

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

#[test]
fn starts_both_children_and_respawns_a_killed_one_without_duplicate_vips() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("respawn");
    let scratch = Scratch::new("respawn");
    scratch.write("keepalived.conf", &config("192.0.2.100", ""));
    let d = Daemon::start(&ns, &scratch, &[], &[]);
    let (vrrp_pid, checker_pid) = wait_children(&d);
    assert!(alive(vrrp_pid) && alive(checker_pid));
    assert_ne!(vrrp_pid, checker_pid);
    let with_vips = true;
    if with_vips {
        wait_for("VIP on eth0", LIMIT, || {
            ns.addr_count("eth0", "192.0.2.100") == 1
        });
    }

    let _ = sh(&["kill", "-9", &vrrp_pid.to_string()]);
    wait_for("a new vrrp child", LIMIT, || {
        d.child_pid("vrrp.pid")
            .is_some_and(|p| p != vrrp_pid && alive(p))
    });
    wait_for("respawned child running", LIMIT, || {
        d.status()
            .is_some_and(|s| s["children"]["vrrp"]["state"] == "running")
    });
    let status = d.status().expect("status");
    assert_eq!(status["children"]["vrrp"]["restarts"], 1, "{status:#}");
    assert_eq!(
        status["children"]["checker"]["pid"], checker_pid,
        "the checker was not disturbed"
    );
    assert!(!alive(vrrp_pid), "the killed child is reaped");
    if with_vips {
        wait_for("VIP back on eth0", LIMIT, || {
            ns.addr_count("eth0", "192.0.2.100") >= 1
        });
        assert_eq!(
            ns.addr_count("eth0", "192.0.2.100"),
            1,
            "VIP must not be duplicated"
        );
    }
    assert!(d.log().contains("respawning the vrrp child"), "{}", d.log());
}

#[test]
fn sighup_with_broken_config_keeps_running_and_good_config_applies() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("reload");
    let scratch = Scratch::new("reload");
    let conf = scratch.write("keepalived.conf", &config("192.0.2.100", ""));
    let mut d = Daemon::start(&ns, &scratch, &[], &[]);
    let (vrrp_pid, checker_pid) = wait_children(&d);
    let with_vips = true;
    if with_vips {
        wait_for("VIP on eth0", LIMIT, || {
            ns.addr_count("eth0", "192.0.2.100") == 1
        });
    }

    // Broken: vrid out of range on line 8, column 23.
    std::fs::write(
        &conf,
        config("192.0.2.100", "").replace("virtual_router_id 51", "virtual_router_id 999"),
    )
    .expect("write broken");
    d.signal("HUP");
    wait_for("reload failure logged", LIMIT, || {
        d.log().contains("reload failed")
    });
    let log = d.log();
    let location = format!("{}:8:23:", conf.display());
    assert!(
        log.contains(&location),
        "the log names file:line:col ({location}):\n{log}"
    );
    assert!(d.is_running(), "a bad reload must not stop the daemon");
    let status = d.status().expect("status");
    assert_eq!(status["reloads"]["failed"], 1, "{status:#}");
    assert_eq!(
        status["children"]["vrrp"]["pid"], vrrp_pid,
        "children keep running the old config"
    );
    assert_eq!(status["children"]["checker"]["pid"], checker_pid);
    if with_vips {
        assert_eq!(ns.addr_count("eth0", "192.0.2.100"), 1, "old state kept");
    }

    std::fs::write(&conf, config("192.0.2.101", "")).expect("write good");
    d.signal("HUP");
    wait_for("reload applied", LIMIT, || {
        d.status().is_some_and(|s| s["reloads"]["ok"] == 1)
    });
    wait_for("children acknowledged", LIMIT, || {
        d.log().matches("applied the new configuration").count() >= 2
    });
    if with_vips {
        wait_for("new VIP present, old one gone", LIMIT, || {
            ns.addr_count("eth0", "192.0.2.101") == 1 && ns.addr_count("eth0", "192.0.2.100") == 0
        });
    }
    let status = d.status().expect("status");
    assert_eq!(
        status["children"]["vrrp"]["pid"], vrrp_pid,
        "a reload does not restart children"
    );
}

#[test]
fn sigterm_stops_cleanly_removing_vips_and_pid_files() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("stop");
    let scratch = Scratch::new("stop");
    scratch.write("keepalived.conf", &config("192.0.2.100", ""));
    let mut d = Daemon::start(&ns, &scratch, &[], &[]);
    let (vrrp_pid, checker_pid) = wait_children(&d);
    let with_vips = true;
    if with_vips {
        wait_for("VIP on eth0", LIMIT, || {
            ns.addr_count("eth0", "192.0.2.100") == 1
        });
    }
    assert!(scratch.p("keepalived.pid").exists());
    d.signal("TERM");
    let st = d.wait_exit(LIMIT);
    assert!(st.success(), "clean stop exits 0: {st:?}\n{}", d.log());
    for f in ["keepalived.pid", "vrrp.pid", "checkers.pid", "status.sock"] {
        assert!(!scratch.p(f).exists(), "{f} removed on stop");
    }
    assert!(
        !alive(vrrp_pid) && !alive(checker_pid),
        "children gone with the parent"
    );
    if with_vips {
        assert_eq!(
            ns.addr_count("eth0", "192.0.2.100"),
            0,
            "VIP released on stop"
        );
    }
    let log = d.log();
    assert!(
        log.contains("vrrp child stopped cleanly") && log.contains("checker child stopped cleanly"),
        "{log}"
    );
}

#[test]
fn signal_dumps_are_written() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("dumps");
    let scratch = Scratch::new("dumps");
    scratch.write("keepalived.conf", &config("192.0.2.100", ""));
    let d = Daemon::start(&ns, &scratch, &[], &[]);
    wait_children(&d);
    d.signal("USR1");
    wait_for("data dumps", LIMIT, || {
        scratch.p("keepalived.data").exists() && scratch.p("keepalived_check.data").exists()
    });
    d.signal("USR2");
    wait_for("stats dump", LIMIT, || {
        scratch.p("keepalived.stats").exists()
    });
    let json_sig = String::from_utf8_lossy(&sh(&[bin(), "--signum=JSON"]).stdout)
        .trim()
        .to_string();
    d.signal(&json_sig);
    wait_for("json dump", LIMIT, || scratch.p("keepalived.json").exists());
    let json = std::fs::read(scratch.p("keepalived.json")).expect("read json");
    serde_json::from_slice::<serde_json::Value>(&json).expect("keepalived.json is JSON");
}

#[test]
fn metrics_endpoint_serves_rkeepalived_metrics() {
    if !prerequisites(&["curl"]) {
        return;
    }
    let ns = Netns::new("metrics");
    let scratch = Scratch::new("metrics");
    // The config keyword; --metrics-listen on the CLI overrides it.
    scratch.write(
        "keepalived.conf",
        &config("192.0.2.100", "    metrics_listen 127.0.0.1:9650\n"),
    );
    let d = Daemon::start(&ns, &scratch, &[], &[]);
    wait_children(&d);
    let mut body = String::new();
    wait_for("/metrics answers", LIMIT, || {
        let out = ns.exec(&[
            "curl",
            "-sf",
            "--max-time",
            "5",
            "http://127.0.0.1:9650/metrics",
        ]);
        body = String::from_utf8_lossy(&out.stdout).into_owned();
        out.status.success()
    });
    for needle in [
        "rkeepalived_child_up{role=\"vrrp\"} 1",
        "rkeepalived_child_up{role=\"checker\"} 1",
        "rkeepalived_child_restarts_total",
        "rkeepalived_reloads_total{result=\"ok\"} 0",
        "rkeepalived_build_info",
    ] {
        assert!(body.contains(needle), "/metrics lacks {needle}:\n{body}");
    }
    let out = ns.exec(&[
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "http://127.0.0.1:9650/nope",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "404");

    // A reload that moves metrics_listen rebinds the endpoint.
    std::fs::write(
        scratch.p("keepalived.conf"),
        config("192.0.2.100", "    metrics_listen 127.0.0.1:9651\n"),
    )
    .expect("write");
    d.signal("HUP");
    wait_for("/metrics on the new port", LIMIT, || {
        ns.exec(&[
            "curl",
            "-sf",
            "--max-time",
            "5",
            "http://127.0.0.1:9651/metrics",
        ])
        .status
        .success()
    });
    let old = ns.exec(&[
        "curl",
        "-sf",
        "--max-time",
        "5",
        "http://127.0.0.1:9650/metrics",
    ]);
    assert!(!old.status.success(), "the old listener is closed");
    let body = String::from_utf8_lossy(
        &ns.exec(&[
            "curl",
            "-sf",
            "--max-time",
            "5",
            "http://127.0.0.1:9651/metrics",
        ])
        .stdout,
    )
    .into_owned();
    assert!(
        body.contains("rkeepalived_reloads_total{result=\"ok\"} 1"),
        "{body}"
    );
}

#[test]
fn sd_notify_ready_reloading_watchdog_stopping() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("notify");
    let scratch = Scratch::new("notify");
    scratch.write("keepalived.conf", &config("192.0.2.100", ""));
    let sock_path = scratch.p("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).expect("bind fake NOTIFY_SOCKET");
    sock.set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let sock_str = sock_path.display().to_string();
    let mut d = Daemon::start(
        &ns,
        &scratch,
        &[],
        &[("NOTIFY_SOCKET", &sock_str), ("WATCHDOG_USEC", "400000")],
    );

    let mut seen: Vec<String> = Vec::new();
    let wait_msg = |what: &str, seen: &mut Vec<String>| {
        wait_for(what, LIMIT, || {
            let mut buf = [0u8; 4096];
            if let Ok(n) = sock.recv(&mut buf) {
                seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
            seen.iter().any(|m| m.lines().any(|l| l == what))
        });
    };
    // READY only after the children are up: the moment READY=1 arrives, the
    // VRRP child must already hold its raw IPPROTO_VRRP socket (the
    // supervisor owns none). /proc/PID/net/raw lists the sockets of the
    // daemon's network namespace, read without a fork so the check runs
    // within microseconds of the datagram.
    let vrrp_socket_open = || {
        std::fs::read_to_string(format!("/proc/{}/net/raw", d.pid))
            .map(|t| {
                t.lines().skip(1).any(|l| {
                    l.split_whitespace()
                        .nth(1)
                        .is_some_and(|a| a.ends_with(":0070"))
                })
            })
            .unwrap_or(false)
    };
    let mut socket_at_ready = None;
    wait_for("READY=1", LIMIT, || {
        let mut buf = [0u8; 4096];
        if let Ok(n) = sock.recv(&mut buf) {
            let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
            if msg.lines().any(|l| l == "READY=1") {
                socket_at_ready = Some(vrrp_socket_open());
            }
            seen.push(msg);
        }
        socket_at_ready.is_some()
    });
    assert_eq!(
        socket_at_ready,
        Some(true),
        "READY=1 was sent before the VRRP child opened its socket: {seen:?}"
    );
    let status = d.status().expect("status");
    assert_eq!(status["children"]["vrrp"]["state"], "running");

    // The watchdog is pinged at half of WATCHDOG_USEC (400 ms): over 2 s,
    // about 10 pings, and never a gap that would let systemd's 400 ms
    // watchdog expire.
    seen.clear();
    let mut pings = Vec::new();
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(2) {
        let mut buf = [0u8; 4096];
        if let Ok(n) = sock.recv(&mut buf) {
            if String::from_utf8_lossy(&buf[..n])
                .lines()
                .any(|l| l == "WATCHDOG=1")
            {
                pings.push(Instant::now());
            }
        }
    }
    assert!(
        (7..=14).contains(&pings.len()),
        "{} watchdog pings in 2 s at WATCHDOG_USEC=400000 (expected ~10)",
        pings.len()
    );
    let max_gap = pings
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();
    assert!(
        max_gap < Duration::from_millis(400),
        "watchdog gap {max_gap:?} >= WATCHDOG_USEC"
    );

    seen.clear();
    d.signal("HUP");
    wait_msg("RELOADING=1", &mut seen);
    wait_msg("READY=1", &mut seen);
    assert!(
        seen.iter().any(|m| m.contains("MONOTONIC_USEC=")),
        "{seen:?}"
    );

    d.signal("TERM");
    wait_msg("STOPPING=1", &mut seen);
    assert!(d.wait_exit(LIMIT).success());
}
