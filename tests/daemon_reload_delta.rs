//! Delta reloads through the daemon (src/reload_delta.rs): a one-real-server
//! change of a 200-service configuration reaches the checker as a delta of
//! exactly that virtual server (no checker restarted), the VRRP child is
//! not reloaded when nothing of its part changed, and a global_defs change
//! falls back to the whole hand-over (and reloads the VRRP child). Needs
//! root (a network namespace of its own); the host has no IPVS, so the op
//! count is checked by crates/check/tests/reload_delta.rs.

mod daemon_util;

use daemon_util::*;

const SERVICES: usize = 200;

fn config(changed: Option<usize>, router_id: &str) -> String {
    let mut t = format!("global_defs {{\n    router_id {router_id}\n}}\n\n");
    t.push_str(&vrrp_block("192.0.2.50"));
    for s in 0..SERVICES {
        t.push_str(&format!(
            "virtual_server 198.51.100.1 {} {{\n    delay_loop 3600\n    lb_algo wrr\n    lb_kind NAT\n    protocol TCP\n",
            10000 + s
        ));
        for d in 1..=5 {
            let w = if changed == Some(s) && d == 4 { 7 } else { 1 };
            t.push_str(&format!(
                "    real_server 192.0.2.{d} {} {{\n        weight {w}\n        TCP_CHECK {{\n            connect_timeout 3\n        }}\n    }}\n",
                20000 + s
            ));
        }
        t.push_str("}\n");
    }
    t
}

fn count(log: &str, what: &str) -> usize {
    log.matches(what).count()
}

/// The `n`th reload is done on both sides (the checker may apply a delta
/// before the supervisor has finished its own part).
fn reloaded(d: &Daemon, n: usize) -> bool {
    let log = d.log();
    count(&log, "configuration reloaded") >= n && count(&log, "reload complete") >= n
}

#[test]
fn a_one_real_server_reload_is_a_one_service_delta_and_globals_reload_whole() {
    if !prerequisites(&[]) {
        return;
    }
    let tag = format!("rdelta{}", std::process::id() % 100_000);
    let ns = Netns::new(&tag);
    let scratch = Scratch::new(&tag);
    scratch.write("keepalived.conf", &config(None, "delta1"));
    let d = Daemon::start(&ns, &scratch, &[], &[]);
    wait_for("both children running", LIMIT, || {
        let log = d.log();
        log.contains("checker child is running") && log.contains("vrrp child is running")
    });

    // One real server's weight.
    scratch.write("keepalived.conf", &config(Some(123), "delta1"));
    d.signal("HUP");
    wait_for("the checker applied the delta", LIMIT, || reloaded(&d, 1));
    let log = d.log();
    assert!(
        log.contains("the checker gets 1 changed or added, 1 removed or replaced, of 200"),
        "{log}"
    );
    assert!(
        log.contains("reloading configuration (1 changed or added virtual server(s))"),
        "{log}"
    );
    assert!(
        log.contains("delta reload: 1 changed or added virtual server(s) of 200"),
        "{log}"
    );
    assert!(
        log.contains("kept=1000 started=0 stopped=0"),
        "no checker restarted: {log}"
    );
    assert!(
        log.contains("nothing of the vrrp child's configuration changed; not reloading it"),
        "{log}"
    );
    assert!(!log.contains("needs the whole configuration"), "{log}");
    // Only the edited virtual_server block was parsed again (the start's
    // re-parse cache; crates/config/src/reparse.rs).
    // The other 199 were taken from their unchanged bytes without reading
    // their lines (the splice).
    assert!(
        log.contains("reload: 1 of 200 virtual servers re-parsed; 199 unchanged ones taken without reading them"),
        "{log}"
    );

    // A global_defs change: the whole configuration, to both children.
    scratch.write("keepalived.conf", &config(Some(123), "delta2"));
    d.signal("HUP");
    wait_for("the checker applied the whole configuration", LIMIT, || {
        reloaded(&d, 2)
    });
    wait_for("the vrrp child reloaded", LIMIT, || {
        count(&d.log(), "vrrp child applied the new configuration") >= 1
    });
    let log = d.log();
    assert_eq!(count(&log, "the checker gets"), 1, "no second delta: {log}");
    assert_eq!(
        count(&log, "delta reload: "),
        1,
        "the checker got the whole configuration: {log}"
    );
    assert!(
        log.contains("reload: 200 of 200 virtual servers re-parsed (something besides virtual_server blocks changed: read in full)"),
        "{log}"
    );

    // And the next one-service change is a delta again (its base is the
    // whole configuration just sent).
    scratch.write("keepalived.conf", &config(Some(7), "delta2"));
    d.signal("HUP");
    wait_for("the second delta applied", LIMIT, || reloaded(&d, 3));
    let log = d.log();
    // Service 123 back to weight 1 and service 7 changed: 2 virtual servers.
    assert!(
        log.contains("the checker gets 2 changed or added, 2 removed or replaced, of 200"),
        "{log}"
    );
    assert_eq!(count(&log, "delta reload: 2 changed"), 1, "{log}");
    assert!(
        log.contains("reload: 2 of 200 virtual servers re-parsed"),
        "{log}"
    );
    assert!(!log.contains("needs the whole configuration"), "{log}");
}
