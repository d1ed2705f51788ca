//! Interop with keepalived 2.2.7's own bfd process in network namespaces:
//! `bfd_instance` blocks with default TTL / hop limit on its side (it sends
//! hop limit 64 to IPv6 neighbors), IPv4 and IPv6, 100 ms × 3. Both sides
//! come Up; after kill -9 of keepalived (parent and bfd child) we go Down
//! within the detection time; keepalived reports our death with its own
//! `Expired after N ms` line.

mod common;

use std::time::Duration;

use common::*;
use rkeepalived_testkit::{prerequisites, Daemon, Need};

fn needs() -> bool {
    prerequisites(&[Need::Root, Need::Tool("ip"), Need::Keepalived])
}

fn start(link: &Link, dir: &TempDir) -> Daemon {
    let conf = dir.0.join("keepalived.conf");
    let inst = |name: &str, nbr: &str, src: &str| {
        format!(
            "bfd_instance {name} {{\n  neighbor_ip {nbr}\n  source_ip {src}\n  min_rx {INTERVAL_MS}\n  min_tx {INTERVAL_MS}\n  multiplier {MULT}\n}}\n"
        )
    };
    std::fs::write(
        &conf,
        format!(
            "global_defs {{\n  router_id bfdtest\n}}\n{}{}",
            inst("peer4", "192.0.2.1", "192.0.2.2"),
            inst("peer6", "2001:db8::1", "2001:db8::2")
        ),
    )
    .expect("conf");
    let bfd_pid = dir.0.join("bfd.pid");
    link.peer
        .spawn_keepalived(&conf, &dir.0, &["-b", bfd_pid.to_str().expect("utf-8")])
}

/// keepalived's log lines for `name` containing `what`.
fn lines(log: &str, name: &str, what: &str) -> Vec<String> {
    log.lines()
        .filter(|l| l.contains(&format!("({name})")) && l.contains(what))
        .map(str::to_string)
        .collect()
}

/// kill -9 of every process in namespace `ns` (keepalived's parent and its
/// bfd child at once: killing only the child would make the parent respawn
/// it; killing only the parent makes the child exit cleanly).
fn kill_all(ns: &str) {
    let pids = std::process::Command::new("ip")
        .args(["netns", "pids", ns])
        .output()
        .expect("ip netns pids");
    for pid in String::from_utf8_lossy(&pids.stdout).split_whitespace() {
        if let Ok(pid) = pid.parse::<i32>() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

#[test]
fn keepalived_sessions_come_up_and_we_detect_its_death() {
    if !needs() {
        return;
    }
    let link = Link::new("bfdka1");
    let dir = TempDir::new("bfdka1");
    let ka = start(&link, &dir);
    let peer_ns = link.peer.name().to_string();
    link.us.run(move || {
        let rt = runtime();
        rt.block_on(async move {
            let (handle, mut events) = engine_up().await;
            wait_negotiated(&handle).await;
            // keepalived's view: both of its instances entered Up.
            let log_path = dir.0.join("keepalived.log");
            let ka_log = tokio::task::spawn_blocking(move || {
                poll_until(Duration::from_secs(5), || {
                    let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                    ["peer4", "peer6"]
                        .iter()
                        .all(|n| !lines(&log, n, "Entering Up state").is_empty())
                });
                std::fs::read_to_string(&log_path).unwrap_or_default()
            })
            .await
            .expect("join");
            for n in ["peer4", "peer6"] {
                assert!(
                    !lines(&ka_log, n, "Entering Up state").is_empty(),
                    "keepalived's log:\n{ka_log}"
                );
            }
            kill_and_assert_detected(&handle, &mut events, "keepalived", || {
                kill_all(&peer_ns);
            })
            .await;
            let drops: u64 = handle.counters().snapshot().iter().map(|d| d.1).sum();
            assert_eq!(drops, 0, "{:?}", handle.counters().snapshot());
            drop(dir);
        })
    });
    drop(ka);
}

#[test]
fn keepalived_detects_our_death() {
    if !needs() {
        return;
    }
    let link = Link::new("bfdka2");
    let dir = TempDir::new("bfdka2");
    let ka = start(&link, &dir);
    let log_path = dir.0.join("keepalived.log");
    let log_path2 = log_path.clone();
    link.us.run(move || {
        let rt = runtime();
        rt.block_on(async move {
            let (handle, _events) = engine_up().await;
            wait_negotiated(&handle).await;
            // keepalived's side negotiated too: its detection time line.
            tokio::task::spawn_blocking(move || {
                poll_until(Duration::from_secs(5), || {
                    let log = std::fs::read_to_string(&log_path2).unwrap_or_default();
                    log.matches("Detection time is 300000 us").count() >= 2
                })
            })
            .await
            .expect("join");
            handle.shutdown();
        })
    });
    let read = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let took = poll_until(Duration::from_secs(5), || {
        let log = read();
        ["peer4", "peer6"]
            .iter()
            .all(|n| !lines(&log, n, "Expired after").is_empty())
    });
    // keepalived writes each `Entering Down state` line just after its
    // `Expired after` line: wait for them too (not part of `took`).
    poll_until(Duration::from_secs(2), || {
        let log = read();
        ["peer4", "peer6"]
            .iter()
            .all(|n| !lines(&log, n, "Entering Down state").is_empty())
    });
    let log = read();
    let took = took.unwrap_or_else(|| panic!("keepalived did not see us die:\n{log}"));
    eprintln!("keepalived logged both expiries {took:?} after our engine stopped");
    for n in ["peer4", "peer6"] {
        let l = lines(&log, n, "Expired after");
        // `(peer4) Expired after 301 ms (1234 usec overdue)`: keepalived's
        // own measure of our silence.
        let ms: u64 = l[0]
            .split("Expired after ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{}", l[0]));
        eprintln!("keepalived: {}", l[0]);
        assert!(
            ms >= INTERVAL_MS * MULT && Duration::from_millis(ms) <= DETECT + TIMER_MARGIN,
            "{}",
            l[0]
        );
        assert!(
            !lines(
                &log,
                n,
                "Entering Down state (Local diagnostic - Control Detection Time Expired"
            )
            .is_empty(),
            "{log}"
        );
    }
    assert!(took <= DETECT + MARGIN, "{took:?}:\n{log}");
    drop(ka);
    drop(dir);
}
