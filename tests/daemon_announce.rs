//! Route announcement through the whole daemon (supervisor + checker child)
//! in a network namespace: the VIP route appears in the announce table while
//! the real server answers, `--signum=DRAIN` / `UNDRAIN` withdraw and restore
//! it while the daemon keeps running, and SIGTERM withdraws it first, then
//! waits `announce_drain_delay` before the checker removes its IPVS entries
//! and exits. (No IPVS on the host kernel: the checker says so and goes on.)

mod daemon_util;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use daemon_util::*;

fn routes(ns: &Netns) -> String {
    let out = ns.exec(&["ip", "-o", "route", "show", "table", "100", "proto", "249"]);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn announced(ns: &Netns) -> bool {
    routes(ns).contains("192.0.2.100 dev lo")
}

fn signum(name: &str) -> String {
    let out = sh(&[bin(), &format!("--signum={name}")]);
    assert!(out.status.success(), "--signum={name}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A TCP listener inside the namespace (the real server).
fn listener_in(ns: &Netns, addr: &'static str) -> TcpListener {
    let path = format!("/var/run/netns/{}", ns.name);
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).expect("open netns");
        nix::sched::setns(file, nix::sched::CloneFlags::CLONE_NEWNET).expect("setns");
        TcpListener::bind(addr).expect("bind real server")
    })
    .join()
    .expect("listener thread")
}

#[test]
fn drain_signals_and_sigterm_withdraw_the_route_before_ipvs_goes() {
    if !prerequisites(&[]) {
        return;
    }
    let ns = Netns::new("annc");
    let scratch = Scratch::new("announce");
    scratch.write(
        "keepalived.conf",
        &format!(
            "{}virtual_server 192.0.2.100 80 {{
    delay_loop 1
    lb_kind DR
    protocol TCP
    announce_route
    real_server 192.0.2.2 80 {{
        TCP_CHECK {{
            connect_timeout 1
        }}
    }}
}}
",
            global_block("    announce_table 100\n    announce_drain_delay 5\n")
        ),
    );
    let _server = listener_in(&ns, "192.0.2.2:80");
    let mut d = Daemon::start(&ns, &scratch, &[], &[]);
    wait_for("the VIP route", LIMIT, || announced(&ns));

    assert_eq!(signum("DRAIN"), (libc::SIGRTMIN() + 5).to_string());
    d.signal(&signum("DRAIN"));
    wait_for("the drain to withdraw the route", LIMIT, || {
        routes(&ns).is_empty()
    });
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        routes(&ns).is_empty(),
        "stays drained through health checks"
    );
    assert!(d.is_running());
    d.signal(&signum("UNDRAIN"));
    wait_for("the route back after UNDRAIN", LIMIT, || announced(&ns));

    let stop = Instant::now();
    d.signal("TERM");
    wait_for(
        "the route withdrawn on stop",
        Duration::from_secs(4),
        || routes(&ns).is_empty(),
    );
    let withdrawn = stop.elapsed();
    assert!(d.is_running(), "still draining {withdrawn:?} after SIGTERM");
    let st = d.wait_exit(LIMIT);
    let exited = stop.elapsed();
    assert!(st.success(), "{st:?}\n{}", d.log());
    assert!(
        exited >= withdrawn + Duration::from_secs(4),
        "withdrawn after {withdrawn:?}, exited after {exited:?}"
    );
    let log = d.log();
    let at = |needle: &str| {
        log.find(needle)
            .unwrap_or_else(|| panic!("log lacks {needle:?}:\n{log}"))
    };
    let waiting = at("waiting 5s (announce_drain_delay) before removing the IPVS entries");
    assert!(
        log[..waiting].contains("Withdrawing route 192.0.2.100/32 table 100"),
        "{log}"
    );
    assert!(log.contains("drain: announced routes withdrawn"), "{log}");
}

/// The keywords are rkeepalived extensions: keepalived 2.2.7's `-t` reports
/// them as unknown (exit 5); ours accepts them (exit 0).
#[test]
fn keepalived_rejects_the_announce_keywords_and_our_config_test_accepts_them() {
    if !prerequisites(&["keepalived"]) {
        return;
    }
    let scratch = Scratch::new("announce-t");
    let conf = scratch.write(
        "keepalived.conf",
        "global_defs {
    announce_table 100
    announce_protocol rkeepalived
    announce_metric 10
    announce_drain_delay 5
}
virtual_server 192.0.2.100 80 {
    protocol TCP
    announce_route table 101 metric 20
    real_server 192.0.2.2 80 {
        TCP_CHECK {
            connect_timeout 1
        }
    }
}
",
    );
    let conf = conf.display().to_string();
    let ka = sh(&["keepalived", "-t", "-l", "-f", &conf]);
    let ka_text = format!(
        "{}{}",
        String::from_utf8_lossy(&ka.stdout),
        String::from_utf8_lossy(&ka.stderr)
    );
    assert_eq!(ka.status.code(), Some(5), "{ka_text}");
    for kw in [
        "announce_table",
        "announce_protocol",
        "announce_metric",
        "announce_drain_delay",
        "announce_route",
    ] {
        assert!(
            ka_text.contains(&format!("Unknown keyword '{kw}'")),
            "{kw}: {ka_text}"
        );
    }
    let ours = sh(&[bin(), "-t", "-f", &conf]);
    assert!(
        ours.status.success(),
        "{}{}",
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&ours.stderr)
    );
}
