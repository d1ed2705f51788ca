//! Shared by the interop tests: two namespaces joined by a veth pair,
//! us at 192.0.2.1 / 2001:db8::1, the peer daemon at 192.0.2.2 / 2001:db8::2,
//! and our engine running inside ours.

#![allow(dead_code)]

use std::net::IpAddr;
use std::time::{Duration, Instant};

use rkeepalived_bfd::{BfdEngine, BfdEvent, SessionConfig, SessionState};
use rkeepalived_testkit::Netns;
use tokio::sync::mpsc::UnboundedReceiver;

/// Timers used by both sides: 100 ms × 3 → 300 ms detection.
pub const INTERVAL_MS: u64 = 100;
pub const MULT: u64 = 3;
/// What RFC 5880 §6.8.4 promises plus the 10 % the issue allows.
pub const DETECT: Duration = Duration::from_millis(INTERVAL_MS * MULT * 11 / 10);
/// Scheduling margin on this shared 2-core machine (a busy CI runner):
/// the timer wakeup, the event channel, and for the peer side the
/// polling of its CLI (`vtysh` / `birdc` take ~10–40 ms a call). Still far
/// below what an idle-rate (1 s) or a missing detection would take.
pub const MARGIN: Duration = Duration::from_millis(300);
/// Our own timer's lateness after the last packet heard (tokio timer
/// wheel: 1 ms; the engine thread's wakeup on a loaded CI machine).
pub const TIMER_MARGIN: Duration = Duration::from_millis(100);

/// Waits until both sessions' Poll Sequences completed and the detection
/// time is the negotiated 300 ms (until then it is the peer's Detect Mult
/// × its 1 s idle interval: RFC 5880 §6.8.3).
pub async fn wait_negotiated(handle: &rkeepalived_bfd::BfdHandle) {
    let want = INTERVAL_MS * MULT * 1000;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let infos = handle.sessions().await;
        if infos
            .iter()
            .all(|i| i.detect_time_us == want && i.tx_interval_us == (INTERVAL_MS * 1000) as u32)
        {
            return;
        }
        assert!(Instant::now() < deadline, "not negotiated: {infos:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Kills the peer (`kill`), waits until both sessions went Down and asserts
/// each was detected in time ([`assert_detected`]); returns the Downs.
pub async fn kill_and_assert_detected(
    handle: &rkeepalived_bfd::BfdHandle,
    events: &mut UnboundedReceiver<BfdEvent>,
    peer: &str,
    kill: impl FnOnce(),
) -> Vec<(String, Instant, BfdEvent)> {
    let killed = Instant::now();
    kill();
    let downs = wait_for(
        events,
        &["peer4", "peer6"],
        SessionState::Down,
        Duration::from_secs(5),
    )
    .await;
    assert_detected(handle, &downs, killed, peer).await;
    downs
}

/// Asserts each Down came within the detection time: measured from the
/// last packet heard (our timer's accuracy) and from the peer's death.
pub async fn assert_detected(
    handle: &rkeepalived_bfd::BfdHandle,
    downs: &[(String, Instant, BfdEvent)],
    killed: Instant,
    peer: &str,
) {
    let infos = handle.sessions().await;
    for (name, at, ev) in downs {
        let took = *at - killed;
        let last = infos
            .iter()
            .find(|i| &i.name == name)
            .and_then(|i| i.last_seen)
            .expect("heard the peer");
        let silent = *at - last;
        eprintln!(
            "{name}: Down {took:?} after kill -9 of {peer}, {silent:?} after its last packet"
        );
        assert_eq!(
            ev.diag,
            rkeepalived_bfd::Diag::ControlDetectionTimeExpired,
            "{name}"
        );
        assert!(
            silent >= Duration::from_millis(INTERVAL_MS * MULT) && silent <= DETECT + TIMER_MARGIN,
            "{name}: Down {silent:?} after the last packet, expected {DETECT:?} (+{TIMER_MARGIN:?})"
        );
        assert!(
            took <= DETECT + MARGIN,
            "{name}: Down after {took:?}, more than {DETECT:?} + {MARGIN:?}"
        );
    }
}

pub struct Link {
    pub us: Netns,
    pub peer: Netns,
}

impl Link {
    /// Us at 192.0.2.1 / 2001:db8::1 on bfdu, the peer at .2 / ::2 on bfdp.
    pub fn new(tag: &str) -> Link {
        let link = Link::veth(tag);
        link.us.ip(&["addr", "add", "192.0.2.1/24", "dev", "bfdu"]);
        link.us
            .ip(&["addr", "add", "2001:db8::1/64", "dev", "bfdu", "nodad"]);
        link.peer
            .ip(&["addr", "add", "192.0.2.2/24", "dev", "bfdp"]);
        link.peer
            .ip(&["addr", "add", "2001:db8::2/64", "dev", "bfdp", "nodad"]);
        link.up();
        link
    }

    /// Two namespaces joined by the veth pair bfdu (us) / bfdp (peer), both
    /// ends down and without addresses: the caller configures, then [`Self::up`].
    pub fn veth(tag: &str) -> Link {
        let us = Netns::new(&format!("{tag}u"));
        let peer = Netns::new(&format!("{tag}p"));
        us.ip(&[
            "link",
            "add",
            "bfdu",
            "type",
            "veth",
            "peer",
            "name",
            "bfdp",
            "netns",
            peer.name(),
        ]);
        Link { us, peer }
    }

    pub fn up(&self) {
        self.us.ip(&["link", "set", "bfdu", "up"]);
        self.peer.ip(&["link", "set", "bfdp", "up"]);
    }
}

pub fn sessions() -> Vec<SessionConfig> {
    let mk = |name: &str, addr: &str| {
        let mut c = SessionConfig::new(name, addr.parse::<IpAddr>().expect("addr"));
        c.min_rx_us = (INTERVAL_MS * 1000) as u32;
        c.min_tx_us = (INTERVAL_MS * 1000) as u32;
        c.multiplier = MULT as u8;
        c
    };
    vec![mk("peer4", "192.0.2.2"), mk("peer6", "2001:db8::2")]
}

/// Waits until every name in `names` reported `state`; returns when each did.
pub async fn wait_for(
    events: &mut UnboundedReceiver<BfdEvent>,
    names: &[&str],
    state: SessionState,
    timeout: Duration,
) -> Vec<(String, Instant, BfdEvent)> {
    let deadline = tokio::time::Instant::now() + timeout;
    let mut got: Vec<(String, Instant, BfdEvent)> = vec![];
    while got.len() < names.len() {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(ev)) => {
                if ev.state == state
                    && names.contains(&ev.name.as_str())
                    && !got.iter().any(|g| g.0 == ev.name)
                {
                    got.push((ev.name.clone(), Instant::now(), ev));
                }
            }
            Ok(None) => panic!("engine stopped"),
            Err(_) => panic!(
                "timed out after {timeout:?} waiting for {names:?} {state}; got {:?}",
                got.iter().map(|g| &g.0).collect::<Vec<_>>()
            ),
        }
    }
    got
}

/// A current-thread runtime for our engine: it opens its sockets on the
/// runtime's thread, which must be inside our namespace.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("rt")
}

/// Starts our engine (inside the current namespace) and waits until both
/// sessions (peer4, peer6) came Up.
pub async fn engine_up() -> (rkeepalived_bfd::BfdHandle, UnboundedReceiver<BfdEvent>) {
    let (handle, mut events) = engine();
    wait_for(
        &mut events,
        &["peer4", "peer6"],
        SessionState::Up,
        Duration::from_secs(15),
    )
    .await;
    (handle, events)
}

/// Starts our engine (inside the current namespace).
pub fn engine() -> (rkeepalived_bfd::BfdHandle, UnboundedReceiver<BfdEvent>) {
    BfdEngine::spawn(sessions()).expect("engine")
}

/// Polls `f` every 10 ms until it returns true or `timeout` passes;
/// returns the time it took.
pub fn poll_until(timeout: Duration, mut f: impl FnMut() -> bool) -> Option<Duration> {
    let t0 = Instant::now();
    while t0.elapsed() < timeout {
        if f() {
            return Some(t0.elapsed());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// A scratch directory removed on drop.
pub use rkeepalived_testkit::TempDir;
