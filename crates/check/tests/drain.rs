//! `drain_on_remove` (rkeepalived extension) through the engine with
//! MockIpvs on virtual time: a reload that removes a real server leaves its
//! dest at weight 0 until the kernel counts no active connection for it or
//! the time is up; later reloads keep, cancel or drop the drain; stop
//! removes draining dests with the rest. Without the keyword a removed real
//! server is deleted at once, as keepalived 2.2.7 does (ipwrapper.c
//! `clear_diff_rs()`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rkeepalived_check::{run_plan, EngineBackend, EngineOptions, SharedBackend};
use rkeepalived_config::{Config, LoadOptions};
use rkeepalived_control::Control;
use rkeepalived_ipvs::{DestKey, MockIpvs, ServiceKey};
use tokio::sync::mpsc;
use tokio::time::Instant;

type Mock = Arc<Mutex<MockIpvs>>;

/// A virtual server with the real servers 198.51.100.N (weight N+1).
fn config(global: &str, vs_opts: &str, servers: &[u8]) -> Arc<Config> {
    let mut text = format!(
        "global_defs {{\n{global}\n}}\nvirtual_server 192.0.2.1 80 {{\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n{vs_opts}\n"
    );
    for n in servers {
        text.push_str(&format!(
            "  real_server 198.51.100.{n} 80 {{\n    weight {}\n  }}\n",
            n + 1
        ));
    }
    text.push_str("}\n");
    let loaded = rkeepalived_config::parse_str(&text, "drain.conf", &LoadOptions::default())
        .unwrap_or_else(|e| panic!("config must load: {e}\n{text}"));
    Arc::new(loaded.config)
}

fn svc() -> ServiceKey {
    ServiceKey::tcp("192.0.2.1".parse().unwrap(), 80)
}

fn rs(n: u8) -> DestKey {
    DestKey {
        addr: format!("198.51.100.{n}").parse().unwrap(),
        port: 80,
    }
}

/// The weight of each dest in the service, by last address byte.
fn weights(mock: &Mock) -> Vec<(u8, i32)> {
    let m = mock.lock().unwrap();
    m.state
        .services
        .get(&svc())
        .map(|e| {
            e.dests
                .values()
                .map(|d| match d.addr {
                    std::net::IpAddr::V4(a) => (a.octets()[3], d.weight),
                    std::net::IpAddr::V6(_) => (0, d.weight),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn set_conns(mock: &Mock, n: u8, active: u32) {
    mock.lock()
        .unwrap()
        .active_conns
        .insert((svc(), rs(n)), active);
}

async fn eventually(mut cond: impl FnMut() -> bool) -> bool {
    for _ in 0..500 {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cond()
}

fn start(cfg: &Config, mock: &Mock) -> (mpsc::Sender<Control>, tokio::task::JoinHandle<()>) {
    let plan = rkeepalived_check::from_config(cfg).expect("plan");
    let (tx, rx) = mpsc::channel(8);
    let opts = EngineOptions::new(EngineBackend::Custom(Box::new(SharedBackend(Arc::clone(
        mock,
    )))));
    let handle = tokio::spawn(async move { run_plan(plan, rx, opts).await.expect("engine ran") });
    (tx, handle)
}

async fn stop(tx: mpsc::Sender<Control>, engine: tokio::task::JoinHandle<()>) {
    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
}

/// The whole life of a drain: weight 0 at the reload, deleted when idle
/// (within a poll), deleted at the deadline with connections left,
/// cancelled by a reload that brings the real server back (its weight
/// returns), and kept across a reload that changes nothing about it.
#[tokio::test(start_paused = true)]
async fn reload_drains_a_removed_real_server_until_idle_or_timeout() {
    let mock: Mock = Arc::default();
    let drain = "  drain_on_remove 30";
    let (tx, engine) = start(&config("", drain, &[1, 2, 3, 4]), &mock);
    assert!(eventually(|| weights(&mock).len() == 4).await);
    set_conns(&mock, 2, 5);
    set_conns(&mock, 3, 2);
    set_conns(&mock, 4, 1);

    // Reload without 2, 3, 4: they stay, at weight 0.
    let t0 = Instant::now();
    tx.send(Control::Reload(config("", drain, &[1])))
        .await
        .unwrap();
    assert!(
        eventually(|| weights(&mock) == [(1, 2), (2, 0), (3, 0), (4, 0)]).await,
        "{:?}",
        weights(&mock)
    );

    // 3's last connection ends: it is deleted within a poll or two.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(weights(&mock).len(), 4, "nothing idle yet");
    set_conns(&mock, 3, 0);
    let idle_at = Instant::now();
    assert!(eventually(|| !weights(&mock).iter().any(|(n, _)| *n == 3)).await);
    assert!(
        idle_at.elapsed() <= Duration::from_secs(2),
        "{:?}",
        idle_at.elapsed()
    );

    // A reload that still drains keeps the drains (and their deadline).
    tx.send(Control::Reload(config("", drain, &[1])))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(weights(&mock), [(1, 2), (2, 0), (4, 0)]);

    // 2 comes back: its drain ends and its weight (3) returns.
    tx.send(Control::Reload(config("", drain, &[1, 2])))
        .await
        .unwrap();
    assert!(
        eventually(|| weights(&mock) == [(1, 2), (2, 3), (4, 0)]).await,
        "{:?}",
        weights(&mock)
    );

    // 4 keeps its connection: deleted at the deadline (30 s after the
    // first reload), not before.
    tokio::time::sleep_until(t0 + Duration::from_secs(29)).await;
    assert!(weights(&mock).contains(&(4, 0)), "{:?}", weights(&mock));
    assert!(eventually(|| weights(&mock) == [(1, 2), (2, 3)]).await);
    let gone = t0.elapsed();
    assert!(
        gone >= Duration::from_secs(30) && gone <= Duration::from_secs(32),
        "{gone:?}"
    );
    stop(tx, engine).await;
}

/// keepalived's behaviour without the keyword: deleted at the reload.
#[tokio::test(start_paused = true)]
async fn without_drain_on_remove_a_removed_real_server_is_deleted_at_once() {
    let mock: Mock = Arc::default();
    let (tx, engine) = start(&config("", "", &[1, 2]), &mock);
    assert!(eventually(|| weights(&mock).len() == 2).await);
    set_conns(&mock, 2, 5);
    tx.send(Control::Reload(config("", "", &[1])))
        .await
        .unwrap();
    assert!(eventually(|| weights(&mock) == [(1, 2)]).await);
    // `drain_on_remove 0` in a virtual server turns a global default off.
    let (g, off) = ("  drain_on_remove 60", "  drain_on_remove 0");
    tx.send(Control::Reload(config(g, off, &[1, 2])))
        .await
        .unwrap();
    assert!(eventually(|| weights(&mock).len() == 2).await);
    set_conns(&mock, 2, 5);
    tx.send(Control::Reload(config(g, off, &[1])))
        .await
        .unwrap();
    assert!(eventually(|| weights(&mock) == [(1, 2)]).await);
    stop(tx, engine).await;
}

/// The global_defs default applies to virtual servers without their own
/// value; stop removes draining dests with everything else.
#[tokio::test(start_paused = true)]
async fn global_default_drains_and_stop_removes_draining_dests() {
    let mock: Mock = Arc::default();
    let g = "  drain_on_remove 600";
    let (tx, engine) = start(&config(g, "", &[1, 2]), &mock);
    assert!(eventually(|| weights(&mock).len() == 2).await);
    set_conns(&mock, 2, 1);
    tx.send(Control::Reload(config(g, "", &[1]))).await.unwrap();
    assert!(eventually(|| weights(&mock) == [(1, 2), (2, 0)]).await);
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(weights(&mock), [(1, 2), (2, 0)]);
    stop(tx, engine).await;
    assert!(mock.lock().unwrap().state.services.is_empty());
}

/// A removed virtual server is deleted at once, drains or not (its
/// service goes, and the kernel drops its dests with it).
#[tokio::test(start_paused = true)]
async fn a_removed_virtual_server_is_not_drained() {
    let mock: Mock = Arc::default();
    let drain = "  drain_on_remove 30";
    let (tx, engine) = start(&config("", drain, &[1, 2]), &mock);
    assert!(eventually(|| weights(&mock).len() == 2).await);
    set_conns(&mock, 1, 1);
    let text = "global_defs {\n}\n";
    let empty = rkeepalived_config::parse_str(text, "e.conf", &LoadOptions::default()).unwrap();
    tx.send(Control::Reload(Arc::new(empty.config)))
        .await
        .unwrap();
    assert!(eventually(|| mock.lock().unwrap().state.services.is_empty()).await);
    stop(tx, engine).await;
}

/// Bad values are errors at their position, naming the keyword.
#[test]
fn bad_drain_values_are_positioned_errors() {
    for (text, want) in [
        (
            "virtual_server 192.0.2.1 80 {\n  protocol TCP\n  drain_on_remove soon\n}\n",
            "d.conf:3:19: 'drain_on_remove': invalid number 'soon'",
        ),
        (
            "global_defs {\n  drain_on_remove -1\n}\n",
            "d.conf:2:19: 'drain_on_remove': value -1 out of range",
        ),
        (
            "global_defs {\n  drain_on_remove\n}\n",
            "d.conf:2:3: 'drain_on_remove' needs",
        ),
    ] {
        let err = match rkeepalived_config::parse_str(text, "d.conf", &LoadOptions::default()) {
            Ok(l) => panic!("{text} loaded: {:?}", l.warnings),
            Err(e) => e.to_string(),
        };
        assert!(err.contains(want), "{err}\nwanted {want}");
    }
}

/// The printed configuration (`-t` dumps, reload hand-off) keeps both
/// values, the global default and a virtual server's `0`.
#[test]
fn drain_on_remove_survives_print_and_parse() {
    let cfg = config("  drain_on_remove 45", "  drain_on_remove 0", &[1]);
    let text = rkeepalived_config::print(&cfg);
    let back = rkeepalived_config::parse_str(&text, "p.conf", &LoadOptions::default())
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .config;
    assert_eq!(
        back.global_defs.drain_on_remove,
        Some(Duration::from_secs(45))
    );
    assert_eq!(
        back.virtual_servers[0].drain_on_remove,
        Some(Duration::ZERO)
    );
    let plan = rkeepalived_check::from_config(&back).expect("plan");
    assert_eq!(plan.virtual_servers[0].drain_on_remove, None, "0 = off");
    let plan = rkeepalived_check::from_config(&config("  drain_on_remove 45", "", &[1])).unwrap();
    assert_eq!(
        plan.virtual_servers[0].drain_on_remove,
        Some(Duration::from_secs(45))
    );
}
