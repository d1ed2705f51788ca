//! Interop with BIRD 2's BFD in network namespaces (`protocol bfd` with
//! static neighbors), IPv4 and IPv6 single-hop sessions at 100 ms × 3:
//! both sides come Up; after a kill -9 of bird we go Down within the
//! detection time (+10 % + a scheduling margin), and after our engine
//! stops bird does.

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;
use rkeepalived_testkit::{prerequisites, Daemon, Need};

fn needs() -> bool {
    prerequisites(&[
        Need::Root,
        Need::Tool("ip"),
        Need::Tool("bird"),
        Need::Tool("birdc"),
    ])
}

struct Bird {
    daemon: Option<Daemon>,
    dir: TempDir,
}

impl Bird {
    fn start(link: &Link, tag: &str) -> Bird {
        let dir = TempDir::new(tag);
        let conf = dir.0.join("bird.conf");
        std::fs::write(
            &conf,
            format!(
                "router id 192.0.2.2;\n\
                 protocol device {{}}\n\
                 protocol bfd {{\n\
                 \x20 interface \"*\" {{ min rx interval {INTERVAL_MS} ms; min tx interval {INTERVAL_MS} ms; multiplier {MULT}; }};\n\
                 \x20 neighbor 192.0.2.1;\n\
                 \x20 neighbor 2001:db8::1;\n\
                 }}\n"
            ),
        )
        .expect("conf");
        let mut cmd = link.peer.command("bird");
        cmd.arg("-f")
            .arg("-c")
            .arg(&conf)
            .arg("-s")
            .arg(dir.0.join("bird.ctl"))
            .arg("-P")
            .arg(dir.0.join("bird.pid"));
        let daemon = Daemon::spawn(cmd, dir.0.join("bird.log"));
        Bird {
            daemon: Some(daemon),
            dir,
        }
    }

    fn sessions(&self) -> String {
        let out = Command::new("birdc")
            .arg("-s")
            .arg(self.dir.0.join("bird.ctl"))
            .args(["show", "bfd", "sessions"])
            .stderr(Stdio::null())
            .output()
            .expect("birdc");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Lines of `show bfd sessions` for our two addresses in `state`.
    fn count(&self, state: &str) -> usize {
        self.sessions()
            .lines()
            .filter(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                f.len() >= 3 && (f[0] == "192.0.2.1" || f[0] == "2001:db8::1") && f[2] == state
            })
            .count()
    }

    fn kill(&mut self) {
        if let Some(d) = &self.daemon {
            d.signal(nix::sys::signal::Signal::SIGKILL);
        }
        self.daemon = None;
    }
}

#[test]
fn bird_sessions_come_up_and_we_detect_its_death() {
    if !needs() {
        return;
    }
    let link = Link::new("bfdbird1");
    let bird = Bird::start(&link, "bfdbird1");
    link.us.run(move || {
        let rt = runtime();
        rt.block_on(async move {
            let (handle, mut events) = engine_up().await;
            // birdc runs off the runtime's thread (it must not stall the engine).
            let mut bird = tokio::task::spawn_blocking(move || {
                let ok = poll_until(Duration::from_secs(5), || bird.count("Up") == 2);
                assert!(ok.is_some(), "BIRD's view:\n{}", bird.sessions());
                bird
            })
            .await
            .expect("join");
            wait_negotiated(&handle).await;
            kill_and_assert_detected(&handle, &mut events, "bird", || {
                bird.kill();
            })
            .await;
            let drops: u64 = handle.counters().snapshot().iter().map(|d| d.1).sum();
            assert_eq!(drops, 0, "{:?}", handle.counters().snapshot());
        })
    });
}

#[test]
fn bird_detects_our_death() {
    if !needs() {
        return;
    }
    let link = Link::new("bfdbird2");
    let bird = Bird::start(&link, "bfdbird2");
    let bird = link.us.run(move || {
        let rt = runtime();
        rt.block_on(async move {
            let (handle, _events) = engine_up().await;
            let bird = tokio::task::spawn_blocking(move || {
                let ok = poll_until(Duration::from_secs(5), || bird.count("Up") == 2);
                assert!(ok.is_some(), "BIRD's view:\n{}", bird.sessions());
                bird
            })
            .await
            .expect("join");
            wait_negotiated(&handle).await;
            handle.shutdown();
            bird
        })
    });
    let took = poll_until(Duration::from_secs(5), || bird.count("Down") == 2);
    let view = bird.sessions();
    let took = took.unwrap_or_else(|| panic!("BIRD still sees us:\n{view}"));
    eprintln!("BIRD saw both sessions Down {took:?} after our engine stopped");
    assert!(
        took <= DETECT + MARGIN,
        "BIRD took {took:?}, more than {DETECT:?} + {MARGIN:?}:\n{view}"
    );
}
