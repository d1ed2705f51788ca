//! A running daemon and configurations that block, take long or produce
//! floods of errors: a reload never stalls the supervisor (SIGTERM and
//! respawns are handled while it parses), an included FIFO is skipped, and
//! `/status` keeps a capped list of errors. Needs root (netns).

mod daemon_util;

use std::time::{Duration, Instant};

use daemon_util::*;

/// Every reload's parse takes this long (test hook in src/reload_loader.rs).
const RELOAD_DELAY_MS: u64 = 4000;

fn running(d: &Daemon, role: &str) -> bool {
    d.status()
        .is_some_and(|s| s["children"][role]["state"] == "running")
}

#[test]
fn reload_parses_off_the_event_loop_and_skips_fifos() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("cfgbound");
    let scratch = Scratch::new("cfgbound");
    let conf = scratch.write("keepalived.conf", &config("192.0.2.100", ""));
    let delay = RELOAD_DELAY_MS.to_string();
    let mut d = Daemon::start(
        &ns,
        &scratch,
        &[],
        &[("RKEEPALIVED_TEST_RELOAD_DELAY_MS", delay.as_str())],
    );
    wait_for("both children running", LIMIT, || {
        running(&d, "vrrp") && running(&d, "checker")
    });
    let vrrp_pid = d.child_pid("vrrp.pid").expect("vrrp.pid");

    // 1. A reload including a FIFO: while it is being parsed the supervisor
    //    answers status and respawns a killed child.
    let fifo = scratch.p("fifo.conf");
    assert!(sh(&["mkfifo", &fifo.display().to_string()])
        .status
        .success());
    std::fs::write(
        &conf,
        format!("{}include {}\n", config("192.0.2.100", ""), fifo.display()),
    )
    .unwrap();
    let hup = Instant::now();
    d.signal("HUP");
    let _ = sh(&["kill", "-9", &vrrp_pid.to_string()]);
    wait_for("a respawned vrrp child during the reload", LIMIT, || {
        d.child_pid("vrrp.pid")
            .is_some_and(|p| p != vrrp_pid && alive(p))
            && running(&d, "vrrp")
    });
    let status = d.status().expect("status answered during the reload");
    assert_eq!(status["reloads"]["ok"], 0, "{status:#}");
    assert!(
        hup.elapsed() < Duration::from_millis(RELOAD_DELAY_MS),
        "the respawn had to wait for the reload ({:?})",
        hup.elapsed()
    );
    wait_for("the reload applied", LIMIT, || {
        d.status().is_some_and(|s| s["reloads"]["ok"] == 1)
    });
    let log = d.log();
    assert!(
        log.contains(&format!(
            "Configuration file '{}' is not a regular non-executable file - skipping",
            fifo.display()
        )),
        "{log}"
    );

    // 2. A megabyte of garbage: /status keeps the first 100 errors and a count.
    let garbage = rkeepalived_testkit::garbage_config();
    std::fs::write(&conf, &garbage).unwrap();
    d.signal("HUP");
    wait_for("the garbage reload refused", LIMIT, || {
        d.status().is_some_and(|s| s["reloads"]["failed"] == 1)
    });
    let status = d.status().expect("status");
    let errors = status["reloads"]["last_errors"]
        .as_array()
        .expect("last_errors");
    assert_eq!(errors.len(), 101, "{:#}", status["reloads"]);
    assert!(
        errors[100]
            .as_str()
            .is_some_and(|e| e.contains("more errors not shown")),
        "{}",
        errors[100]
    );
    assert!(d.is_running());

    // 3. SIGTERM while a reload is still parsing: the daemon stops at once.
    std::fs::write(&conf, config("192.0.2.100", "")).unwrap();
    d.signal("HUP");
    std::thread::sleep(Duration::from_millis(300));
    let term = Instant::now();
    d.signal("TERM");
    d.wait_exit(LIMIT);
    assert!(
        term.elapsed() < Duration::from_millis(RELOAD_DELAY_MS),
        "the stop waited for the reload ({:?})",
        term.elapsed()
    );
    let log = d.log();
    assert!(log.contains("SIGTERM: stopping"), "{log}");
    assert_eq!(log.matches("reload complete").count(), 1, "{log}");
}
