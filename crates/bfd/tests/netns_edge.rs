//! The RFC 5881 edge over real sockets in network namespaces: packets
//! with a TTL below 255 / hop limit below 64 (keepalived's defaults) are
//! dropped and counted (GTSM, RFC 5881 §5), oversized ones are dropped as truncated,
//! and the same packet at 255 reaches the session. Two of our engines
//! also come Up with each other, and one sees the other die.

mod common;

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::*;
use rkeepalived_bfd::{BfdEngine, DropReason, SessionState, State};
use rkeepalived_testkit::{prerequisites, Need};

fn frr_down() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/frr_v4_down.bin"
    ))
    .expect("golden")
}

/// Sends `data` from the peer namespace to our 3784 with `ttl`.
fn send_from_peer(link: &Link, to: IpAddr, ttl: u32, data: Vec<u8>) {
    link.peer.run(move || {
        let bind: SocketAddr = if to.is_ipv4() {
            "0.0.0.0:49200".parse().expect("addr")
        } else {
            "[::]:49200".parse().expect("addr")
        };
        let s = UdpSocket::bind(bind).expect("bind");
        let sock = socket2::SockRef::from(&s);
        if to.is_ipv4() {
            sock.set_ttl_v4(ttl).expect("ttl");
        } else {
            sock.set_unicast_hops_v6(ttl).expect("hops");
        }
        s.send_to(&data, (to, 3784)).expect("send");
    });
}

#[test]
fn wrong_ttl_and_hop_limit_are_dropped_and_counted() {
    if !prerequisites(&[Need::Root, Need::Tool("ip")]) {
        return;
    }
    let link = Link::new("bfdttl");
    let rt = runtime();
    let (handle, _events) = link.us.run({
        let rt_handle = rt.handle().clone();
        move || {
            let _g = rt_handle.enter();
            // Passive: we send nothing, the test's packets drive it.
            let mut cfgs = sessions();
            for c in &mut cfgs {
                c.passive = true;
            }
            BfdEngine::spawn(cfgs).expect("engine")
        }
    });
    let wait = |what: &dyn Fn() -> bool| {
        let t0 = Instant::now();
        while !what() && t0.elapsed() < Duration::from_secs(5) {
            rt.block_on(async { tokio::time::sleep(Duration::from_millis(10)).await });
        }
    };
    let c = handle.counters().clone();
    let v4: IpAddr = "192.0.2.1".parse().expect("addr");
    let v6: IpAddr = "2001:db8::1".parse().expect("addr");

    send_from_peer(&link, v4, 254, frr_down());
    wait(&|| c.get(DropReason::BadTtl) == 1);
    assert_eq!(c.get(DropReason::BadTtl), 1, "{:?}", c.snapshot());
    // IPv6: keepalived's default base is hop limit 64 (a keepalived 2.2.7
    // peer sends 64); 63 is one router away from that.
    send_from_peer(&link, v6, 63, frr_down());
    wait(&|| c.get(DropReason::BadTtl) == 2);
    assert_eq!(c.get(DropReason::BadTtl), 2, "{:?}", c.snapshot());

    // Longer than keepalived's 32-byte buffer (e.g. with a Keyed MD5 section).
    let mut long = frr_down();
    long[1] |= 0x04;
    long[3] = 48;
    long.resize(48, 0);
    send_from_peer(&link, v4, 255, long);
    wait(&|| c.get(DropReason::Truncated) == 1);
    assert_eq!(c.get(DropReason::Truncated), 1, "{:?}", c.snapshot());
    assert_eq!(c.received(), 0);

    // The same Down at 255: the sessions go Init.
    send_from_peer(&link, v4, 255, frr_down());
    send_from_peer(&link, v6, 255, frr_down());
    wait(&|| c.received() == 2);
    assert_eq!(c.received(), 2, "{:?}", c.snapshot());
    let states: Vec<State> = rt
        .block_on(handle.sessions())
        .into_iter()
        .map(|s| s.state)
        .collect();
    assert_eq!(states, [State::Init, State::Init]);
    drop(handle);
}

#[test]
fn two_engines_come_up_and_detect_each_others_death() {
    if !prerequisites(&[Need::Root, Need::Tool("ip")]) {
        return;
    }
    let link = Link::new("bfdself");
    // The peer: our engine too, at 192.0.2.2 / 2001:db8::2, 100 ms x 3.
    let peer_rt = runtime();
    let peer = link.peer.run({
        let h = peer_rt.handle().clone();
        move || {
            let _g = h.enter();
            let mut cfgs = sessions();
            cfgs[0].neighbor = "192.0.2.1".parse().expect("addr");
            cfgs[1].neighbor = "2001:db8::1".parse().expect("addr");
            BfdEngine::spawn(cfgs).expect("peer engine")
        }
    });
    // The peer's runtime runs on its own thread (its sockets are already
    // in its namespace).
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let peer_thread = std::thread::spawn(move || {
        peer_rt.block_on(async move {
            let _ = stop_rx.await;
            drop(peer);
        });
    });
    link.us.run(move || {
        let rt = runtime();
        rt.block_on(async move {
            let (handle, mut events) = engine_up().await;
            wait_negotiated(&handle).await;
            kill_and_assert_detected(&handle, &mut events, "the peer engine", || {
                let _ = stop_tx.send(());
            })
            .await;
        })
    });
    peer_thread.join().expect("peer thread");
}

/// `target/debug/examples/bfd-node` (cargo test builds the examples).
fn bfd_node() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.parent()?.join("examples/bfd-node");
    p.is_file().then_some(p)
}

#[test]
fn bfd_node_process_killed_and_seeing_us_die() {
    let node = bfd_node();
    if !prerequisites(&[
        Need::Root,
        Need::Tool("ip"),
        Need::That(
            node.is_some(),
            "the bfd-node example (cargo build --example bfd-node)",
        ),
    ]) {
        return;
    }
    let node = node.expect("checked");
    let link = Link::new("bfdnode");
    let dir = TempDir::new("bfdnode");
    let spawn_node = |log: &str| {
        let mut cmd = link.peer.command(&node);
        cmd.args([
            "peer4=192.0.2.1,rx=100,tx=100,mult=3",
            "peer6=2001:db8::1,rx=100,tx=100,mult=3",
        ]);
        rkeepalived_testkit::Daemon::spawn(cmd, dir.0.join(log))
    };
    let node1 = spawn_node("node1.log");
    let node2_log = dir.0.join("node2.log");
    let node2_log_read = node2_log.clone();
    let (node1, node2) = link.us.run({
        let node2_spawn = {
            let mut cmd = link.peer.command(&node);
            cmd.args([
                "peer4=192.0.2.1,rx=100,tx=100,mult=3",
                "peer6=2001:db8::1,rx=100,tx=100,mult=3",
            ]);
            cmd
        };
        move || {
            let rt = runtime();
            rt.block_on(async move {
                // 1. kill -9 of the bfd-node process: we detect it.
                let (handle, mut events) = engine_up().await;
                wait_negotiated(&handle).await;
                kill_and_assert_detected(&handle, &mut events, "bfd-node", || {
                    node1.signal(nix::sys::signal::Signal::SIGKILL);
                })
                .await;

                // 2. A new bfd-node sees us die.
                let node2 = rkeepalived_testkit::Daemon::spawn(node2_spawn, node2_log);
                wait_for(
                    &mut events,
                    &["peer4", "peer6"],
                    SessionState::Up,
                    Duration::from_secs(15),
                )
                .await;
                wait_negotiated(&handle).await;
                handle.shutdown();
                (node1, node2)
            })
        }
    });
    let stopped = Instant::now();
    let downs = |log: &str| {
        log.lines()
            .filter(|l| l.ends_with("Down Control Detection Time Expired"))
            .count()
    };
    let took = poll_until(Duration::from_secs(5), || {
        downs(&std::fs::read_to_string(&node2_log_read).unwrap_or_default()) == 2
    });
    let log = std::fs::read_to_string(&node2_log_read).unwrap_or_default();
    let took = took.unwrap_or_else(|| panic!("bfd-node did not see us die:\n{log}"));
    eprintln!(
        "bfd-node saw us Down {took:?} after our engine stopped ({:?} wall)",
        stopped.elapsed()
    );
    assert!(took <= DETECT + MARGIN, "{took:?}:\n{log}");
    // Its stdout lines (`<ms> <name> <state> <diag>`), not its log lines.
    let ups = log
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()) && l.contains(" Up "))
        .count();
    assert_eq!(ups, 2, "{log}");
    drop((node1, node2));
}

#[test]
fn unusable_source_address_is_admin_down_until_it_exists() {
    if !prerequisites(&[Need::Root, Need::Tool("ip")]) {
        return;
    }
    let link = std::sync::Arc::new(Link::new("bfdadm"));
    let l = link.clone();
    // The runtime runs inside our namespace: the engine opens send
    // sockets later, on its own thread.
    link.us.run(move || {
        let rt = runtime();
        rt.block_on(async move {
            // source_ip 192.0.2.5 is on no interface yet: keepalived's
            // "Unable to open output socket, disabling instance" (AdminDown).
            let mut cfg = sessions().remove(0);
            cfg.source = Some("192.0.2.5".parse().expect("addr"));
            cfg.passive = true;
            let (handle, mut events) = BfdEngine::spawn(vec![cfg]).expect("engine");
            assert_eq!(handle.sessions().await[0].state, State::AdminDown);
            // Reported as Down (bfd_register_workers() sends every state).
            let ev = events.recv().await.expect("event");
            assert_eq!(ev.state, SessionState::Down);
            assert_eq!(handle.counters().sent(), 0);

            // With the address in place, the next packet from the neighbor
            // reopens the socket (bfd_handle_packet() in AdminDown) and
            // the session proceeds.
            let l2 = l.clone();
            tokio::task::spawn_blocking(move || {
                l2.us.ip(&["addr", "add", "192.0.2.5/32", "dev", "bfdu"]);
                send_from_peer(&l2, "192.0.2.5".parse().expect("addr"), 255, frr_down());
            })
            .await
            .expect("join");
            let t0 = Instant::now();
            while handle.sessions().await[0].state != State::Init
                && t0.elapsed() < Duration::from_secs(5)
            {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert_eq!(
                handle.sessions().await[0].state,
                State::Init,
                "received {} {:?}",
                handle.counters().received(),
                handle.counters().snapshot()
            );
        })
    });
}
