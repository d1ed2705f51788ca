//! IPv6 link-local sessions (fe80::, no global address on the link)
//! against FRR's bfdd (8.4, `peer fe80::1 interface bfdp local-address
//! fe80::2`; bfdd learns interfaces from zebra, so zebra runs too), at
//! 100 ms × 3: both sides come Up with the interface found from our
//! `source_ip` (crates/bfd/src/scope.rs); a packet with hop limit 254 is
//! dropped (RFC 5881 §5: 255 for link-local neighbors); a reload to no
//! `source_ip` keeps the session Up (the interface is then the only one
//! with a link-local address); bfdd's kill -9 is detected in time.
//!
//! keepalived 2.2.7 cannot run such a session (its `source_ip fe80::1`
//! fails with `bind() error (No such device)`, a neighbor alone with
//! `sendto() error (Network is unreachable)`), so there is no keepalived
//! interop test here; see the crate README.

mod common;

use std::net::{SocketAddr, SocketAddrV6, UdpSocket};
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use rkeepalived_bfd::{BfdEngine, DropReason, SessionConfig, SessionState};
use rkeepalived_testkit::{prerequisites, Daemon, Need, Netns};

const BFDD: &str = "/usr/lib/frr/bfdd";
const ZEBRA: &str = "/usr/lib/frr/zebra";

/// Us at fe80::1 on bfdu, the peer at fe80::2 on bfdp; no other address
/// (addrgenmode none: no EUI-64 address, no DAD delay).
fn link_local_link(tag: &str) -> (Netns, Netns) {
    let link = Link::veth(tag);
    link.us.ip(&["link", "set", "bfdu", "addrgenmode", "none"]);
    link.peer
        .ip(&["link", "set", "bfdp", "addrgenmode", "none"]);
    link.us
        .ip(&["addr", "add", "fe80::1/64", "dev", "bfdu", "nodad"]);
    link.peer
        .ip(&["addr", "add", "fe80::2/64", "dev", "bfdp", "nodad"]);
    link.up();
    (link.us, link.peer)
}

struct Frr {
    // Killed before the directory goes (fields drop in order).
    bfdd: Option<Daemon>,
    zebra: Option<Daemon>,
    dir: TempDir,
}

impl Drop for Frr {
    /// Stops both daemons, then removes the per-process directories FRR
    /// leaves under /var/tmp/frr.
    fn drop(&mut self) {
        let pids: Vec<(String, String)> = ["bfdd", "zebra"]
            .iter()
            .filter_map(|d| {
                let pid = std::fs::read_to_string(self.dir.0.join(format!("{d}.pid"))).ok()?;
                Some((d.to_string(), pid.trim().to_string()))
            })
            .collect();
        self.bfdd = None;
        self.zebra = None;
        for (d, pid) in pids {
            let _ = std::fs::remove_dir_all(format!("/var/tmp/frr/{d}.{pid}"));
        }
    }
}

impl Frr {
    fn start(peer: &Netns, tag: &str) -> Frr {
        let dir = TempDir::new(tag);
        std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let d = dir.0.display().to_string();
        std::fs::write(
            dir.0.join("bfdd.conf"),
            format!(
                "bfd\n peer fe80::1 interface bfdp local-address fe80::2\n  receive-interval {INTERVAL_MS}\n  transmit-interval {INTERVAL_MS}\n  detect-multiplier {MULT}\n !\n!\n"
            ),
        )
        .expect("conf");
        std::fs::write(dir.0.join("zebra.conf"), "!\n").expect("conf");
        let common = |cmd: &mut Command, name: &str| {
            cmd.args(["-f", &format!("{d}/{name}.conf")])
                .args(["-i", &format!("{d}/{name}.pid")])
                .args(["--vty_socket", &d])
                .args(["-z", &format!("{d}/zserv.api")])
                .args(["-P", "0", "-u", "frr", "-g", "frr", "--log", "stdout"]);
        };
        let mut cmd = peer.command(ZEBRA);
        common(&mut cmd, "zebra");
        let zebra = Daemon::spawn(cmd, dir.0.join("zebra.log"));
        let zserv = dir.0.join("zserv.api");
        assert!(
            poll_until(Duration::from_secs(10), || zserv.exists()).is_some(),
            "zebra did not start"
        );
        let mut cmd = peer.command(BFDD);
        common(&mut cmd, "bfdd");
        cmd.args(["--bfdctl", &format!("{d}/bfdd.sock")]);
        let bfdd = Daemon::spawn(cmd, dir.0.join("bfdd.log"));
        Frr {
            bfdd: Some(bfdd),
            zebra: Some(zebra),
            dir,
        }
    }

    fn peers(&self) -> String {
        let out = Command::new("vtysh")
            .arg("--vty_socket")
            .arg(&self.dir.0)
            .args(["-c", "show bfd peers"])
            .stderr(Stdio::null())
            .output()
            .expect("vtysh");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn kill(&mut self) {
        let pid = std::fs::read_to_string(self.dir.0.join("bfdd.pid")).unwrap_or_default();
        if let Ok(pid) = pid.trim().parse::<i32>() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        self.bfdd = None;
    }
}

fn session(source: Option<&str>) -> SessionConfig {
    let mut c = SessionConfig::new("ll", "fe80::2".parse().expect("addr"));
    c.source = source.map(|s| s.parse().expect("addr"));
    c.min_rx_us = (INTERVAL_MS * 1000) as u32;
    c.min_tx_us = (INTERVAL_MS * 1000) as u32;
    c.multiplier = MULT as u8;
    c
}

#[test]
fn link_local_session_with_frr_up_ttl_checked_reloaded_and_death_detected() {
    if !prerequisites(&[
        Need::Root,
        Need::Tool("ip"),
        Need::Tool("vtysh"),
        Need::Path(BFDD, "apt-get install frr"),
        Need::Path(ZEBRA, "apt-get install frr"),
    ]) {
        return;
    }
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let (us, peer) = link_local_link("bfdll");
    let frr = Frr::start(&peer, "bfdll");
    let rt = runtime();
    // Phase 1 (in our namespace: the engine opens its sockets there): Up.
    let (rt, handle, mut events, frr) = us.run(move || {
        let (handle, events, frr) = rt.block_on(async move {
            let (handle, mut events) =
                BfdEngine::spawn(vec![session(Some("fe80::1"))]).expect("engine");
            wait_for(
                &mut events,
                &["ll"],
                SessionState::Up,
                Duration::from_secs(15),
            )
            .await;
            let frr = tokio::task::spawn_blocking(move || {
                let ok = poll_until(Duration::from_secs(5), || {
                    frr.peers().contains("Status: up")
                });
                let view = frr.peers();
                assert!(ok.is_some(), "FRR's view:\n{view}");
                assert!(
                    view.contains("peer fe80::1 local-address fe80::2")
                        && view.contains("interface bfdp"),
                    "{view}"
                );
                frr
            })
            .await
            .expect("join");
            (handle, events, frr)
        });
        (rt, handle, events, frr)
    });

    // GTSM: one hop away (hop limit 254) is dropped for a link-local
    // neighbor (sent from the peer's namespace, a few ms: the session
    // does not notice our engine not running meanwhile).
    peer.run(|| {
        let ifindex = nix::net::if_::if_nametoindex("bfdp").expect("ifindex");
        let s = UdpSocket::bind(SocketAddr::V6(SocketAddrV6::new(
            "fe80::2".parse().expect("addr"),
            49200,
            0,
            ifindex,
        )))
        .expect("bind");
        socket2::SockRef::from(&s)
            .set_unicast_hops_v6(254)
            .expect("hops");
        let down = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/golden/frr_v4_down.bin"
        ))
        .expect("golden");
        s.send_to(
            &down,
            SocketAddrV6::new("fe80::1".parse().expect("addr"), 3784, 0, ifindex),
        )
        .expect("send");
    });

    // Phase 2: the drop counted; a reload; bfdd killed.
    let frr = us.run(move || {
        rt.block_on(async move {
            let c = handle.counters().clone();
            let t0 = Instant::now();
            while c.get(DropReason::BadTtl) == 0 && t0.elapsed() < Duration::from_secs(5) {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            assert_eq!(c.get(DropReason::BadTtl), 1, "{:?}", c.snapshot());

            // Reload without source_ip: a new send socket, on the only
            // interface with a link-local address; the session stays Up.
            handle.reconfigure(vec![session(None)]);
            let sent = c.sent();
            tokio::time::sleep(Duration::from_millis(INTERVAL_MS * MULT * 4)).await;
            assert!(c.sent() >= sent + 5, "sent {} then {}", sent, c.sent());
            while let Ok(ev) = events.try_recv() {
                assert_ne!(ev.state, SessionState::Down, "went Down after the reload");
            }
            let infos = handle.sessions().await;
            assert_eq!(infos[0].state, rkeepalived_bfd::State::Up, "{infos:?}");
            assert_eq!(c.send_errors(), 0);

            wait_negotiated(&handle).await;
            let mut frr = frr;
            let killed = Instant::now();
            frr.kill();
            let downs = wait_for(
                &mut events,
                &["ll"],
                SessionState::Down,
                Duration::from_secs(5),
            )
            .await;
            assert_detected(&handle, &downs, killed, "bfdd").await;
            handle.shutdown();
            frr
        })
    });
    drop(frr);
}
