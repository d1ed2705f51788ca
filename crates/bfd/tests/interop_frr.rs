//! Interop with FRR's bfdd (8.4) in network namespaces, IPv4 and IPv6
//! single-hop sessions at 100 ms × 3: both sides come Up; after a kill -9
//! of bfdd we go Down within the detection time (+10 % + a scheduling
//! margin), and after our engine stops bfdd does.

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use rkeepalived_testkit::{prerequisites, Daemon, Need};

const BFDD: &str = "/usr/lib/frr/bfdd";

fn needs() -> bool {
    prerequisites(&[
        Need::Root,
        Need::Tool("ip"),
        Need::Tool("vtysh"),
        Need::Path(BFDD, "apt-get install frr"),
    ])
}

struct Frr {
    // Killed before its directory goes (fields drop in order).
    daemon: Option<Daemon>,
    dir: TempDir,
}

impl Frr {
    /// bfdd alone (no zebra needed for static peers), run as user frr
    /// (FRR refuses a vty group the user is not in), its vty on a unix
    /// socket in a private directory.
    fn start(link: &Link, tag: &str) -> Frr {
        let dir = TempDir::new(tag);
        std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o777)).expect("chmod");
        let conf = dir.0.join("bfdd.conf");
        let peer = |addr: &str, local: &str| {
            format!(
                " peer {addr} local-address {local}\n  receive-interval {INTERVAL_MS}\n  transmit-interval {INTERVAL_MS}\n  detect-multiplier {MULT}\n !\n"
            )
        };
        std::fs::write(
            &conf,
            format!(
                "bfd\n{}{}!\n",
                peer("192.0.2.1", "192.0.2.2"),
                peer("2001:db8::1", "2001:db8::2")
            ),
        )
        .expect("conf");
        let d = dir.0.display().to_string();
        let mut cmd = link.peer.command(BFDD);
        cmd.args(["-f", &format!("{d}/bfdd.conf")])
            .args(["-i", &format!("{d}/bfdd.pid")])
            .args(["--vty_socket", &d])
            .args(["--bfdctl", &format!("{d}/bfdd.sock")])
            .args(["-z", &format!("{d}/zserv.api")])
            .args(["-P", "0", "-u", "frr", "-g", "frr", "--log", "stdout"]);
        let daemon = Daemon::spawn(cmd, dir.0.join("bfdd.log"));
        Frr {
            dir,
            daemon: Some(daemon),
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

    fn count(&self, what: &str) -> usize {
        self.peers().matches(what).count()
    }

    /// kill -9 (the `ip netns exec` child execs bfdd; its pid file names it).
    fn kill(&mut self) {
        let pid = std::fs::read_to_string(self.dir.0.join("bfdd.pid")).unwrap_or_default();
        if let Ok(pid) = pid.trim().parse::<i32>() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
        self.daemon = None;
    }
}

#[test]
fn frr_sessions_come_up_and_we_detect_its_death() {
    if !needs() {
        return;
    }
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let link = Link::new("bfdfrr1");
    let frr = Frr::start(&link, "bfdfrr1");
    let rt = runtime();
    let (handle, events, frr_back) = link.us.run(move || {
        rt.block_on(async move {
            let (handle, mut events) = engine_up().await;
            // The peer's view: both sessions Up. (vtysh runs off the
            // runtime's thread: blocking it would stall our engine.)
            let frr = tokio::task::spawn_blocking(move || {
                let ok = poll_until(Duration::from_secs(5), || frr.count("Status: up") == 2);
                let peers = frr.peers();
                assert!(ok.is_some(), "FRR's view:\n{peers}");
                assert!(peers.contains("peer 192.0.2.1 local-address 192.0.2.2"));
                assert!(peers.contains("peer 2001:db8::1 local-address 2001:db8::2"));
                frr
            })
            .await
            .expect("join");
            let mut frr = frr;
            wait_negotiated(&handle).await;
            kill_and_assert_detected(&handle, &mut events, "bfdd", || {
                frr.kill();
            })
            .await;
            let c = handle.counters().clone();
            assert!(
                c.received() >= 4 && c.sent() >= 4,
                "received {} sent {}",
                c.received(),
                c.sent()
            );
            let drops: u64 = c.snapshot().iter().map(|d| d.1).sum();
            assert_eq!(drops, 0, "{:?}", c.snapshot());
            (handle, events, frr)
        })
    });
    drop((handle, events, frr_back));
}

#[test]
fn frr_detects_our_death() {
    if !needs() {
        return;
    }
    let link = Link::new("bfdfrr2");
    let frr = Frr::start(&link, "bfdfrr2");
    let rt = runtime();
    let frr = link.us.run(move || {
        rt.block_on(async move {
            let (handle, _events) = engine_up().await;
            let frr = tokio::task::spawn_blocking(move || {
                let ok = poll_until(Duration::from_secs(5), || frr.count("Status: up") == 2);
                assert!(ok.is_some(), "FRR's view:\n{}", frr.peers());
                frr
            })
            .await
            .expect("join");
            wait_negotiated(&handle).await;
            // Our process dies: sockets close, nothing more is sent.
            handle.shutdown();
            drop(handle);
            tokio::task::yield_now().await;
            frr
        })
    });
    let took = poll_until(Duration::from_secs(5), || frr.count("Status: down") == 2);
    let view = frr.peers();
    let took = took.unwrap_or_else(|| panic!("FRR still sees us:\n{view}"));
    eprintln!("FRR saw both sessions Down {took:?} after our engine stopped");
    assert!(
        took <= DETECT + MARGIN,
        "FRR took {took:?}, more than {DETECT:?} + {MARGIN:?}:\n{view}"
    );
    assert!(
        view.matches("Diagnostics: control detection time expired")
            .count()
            == 2,
        "{view}"
    );
}
