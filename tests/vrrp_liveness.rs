//! The supervisor's liveness probe tells a busy VRRP engine that makes
//! progress from a hung one (bench/vrrp/README.md "Many instances": a
//! takeover of 1,000 instances under load kept the engine from answering
//! the old stats probe and got the child killed, and every VIP with it).
//! The engine is stalled by a debug-build test hook
//! (`RKEEPALIVED_TEST_VRRP_STALL`, crates/vrrp/src/progress.rs). Needs root.

mod daemon_util;

use std::time::Duration;

use daemon_util::*;

fn config() -> String {
    format!("{}{}", global_block(""), vrrp_block("192.0.2.100"))
}

/// Busy for 8 s with a probe every second: the old probe killed it after
/// three misses (3-4 s); progress keeps it alive.
#[test]
fn a_busy_vrrp_engine_that_progresses_is_not_killed() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("lvbusy");
    let scratch = Scratch::new("lvbusy");
    scratch.write("keepalived.conf", &config());
    let d = Daemon::start(
        &ns,
        &scratch,
        &["--liveness-interval", "1", "-P"],
        &[("RKEEPALIVED_TEST_VRRP_STALL", "busy:8")],
    );
    wait_for("engine busy", LIMIT, || {
        d.log().contains("test hook: engine busy for 8 s")
    });
    let pid = d.child_pid("vrrp.pid").expect("vrrp pid");
    wait_for("busy spell over", LIMIT, || {
        d.log().contains("test hook: engine stall over")
    });
    // One more probe round after the spell.
    std::thread::sleep(Duration::from_secs(2));
    let log = d.log();
    assert!(!log.contains("vrrp child is unresponsive"), "{log}");
    assert!(!log.contains("did not answer a liveness probe"), "{log}");
    assert_eq!(d.child_pid("vrrp.pid"), Some(pid), "{log}");
    assert!(alive(pid));
    wait_for("VIP on eth0", LIMIT, || {
        ns.addr_count("eth0", "192.0.2.100") == 1
    });
}

/// Hung (no progress, no answer): killed after three missed probes.
#[test]
fn a_hung_vrrp_engine_is_killed() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("lvhung");
    let scratch = Scratch::new("lvhung");
    scratch.write("keepalived.conf", &config());
    let d = Daemon::start(
        &ns,
        &scratch,
        &["--liveness-interval", "1", "-P"],
        &[("RKEEPALIVED_TEST_VRRP_STALL", "hang:60")],
    );
    wait_for("engine hung", LIMIT, || {
        d.log().contains("test hook: engine hung for 60 s")
    });
    let hung = d.child_pid("vrrp.pid").expect("vrrp pid");
    wait_for("hung child replaced", LIMIT, || {
        !alive(hung) && d.child_pid("vrrp.pid").is_some_and(|p| p != hung)
    });
    let log = d.log();
    assert!(log.contains("vrrp child is unresponsive"), "{log}");
}
