//! Route announcement in the engine, root-free: quorum drives the routes
//! (MockRoutes), a graceful stop withdraws them `announce_drain_delay`
//! before the IPVS entries go (MockIpvs), stale routes of our protocol are
//! swept at start, foreign routes are left alone, and a failing route
//! backend never stops the checks or IPVS.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rkeepalived_check::announce::KernelRoute;
use rkeepalived_check::announce_nl::{MockRoutes, RouteOp};
use rkeepalived_check::{
    from_config, run_plan, CheckPlan, EngineBackend, EngineOptions, SharedBackend,
};
use rkeepalived_config::{parse_str, LoadOptions};
use rkeepalived_control::Control;
use rkeepalived_ipvs::MockIpvs;
use tokio::sync::mpsc;

mod flags;
use flags::Flags;

const PROTO: u8 = 249;
const TABLE: u32 = 100;

fn vs(vip: &str, port: u16, rs: &str, extra: &str) -> String {
    format!(
        "virtual_server {vip} {port} {{\n  delay_loop 1\n  {extra}\n  real_server {rs} {port} {{\n    TCP_CHECK {{\n      connect_timeout 1\n      retry 0\n    }}\n  }}\n}}\n"
    )
}

fn plan(global: &str, servers: &[String]) -> CheckPlan {
    let text = format!("global_defs {{\n{global}\n}}\n{}", servers.concat());
    let loaded = parse_str(&text, "test.conf", &LoadOptions::default()).expect("config parses");
    from_config(&loaded.config).expect("plan builds")
}

type Ipvs = Arc<Mutex<MockIpvs>>;

fn start(
    plan: CheckPlan,
    flags: &Flags,
    ipvs: Ipvs,
    routes: MockRoutes,
) -> (mpsc::Sender<Control>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(8);
    let mut opts = EngineOptions::new(EngineBackend::Custom(Box::new(SharedBackend(ipvs))));
    opts.checker_factory = flags.factory();
    opts.ipvs_retry_interval = Duration::from_millis(200);
    opts.route_backend = Some(Box::new(routes));
    let handle = tokio::spawn(async move { run_plan(plan, rx, opts).await.expect("engine ran") });
    (tx, handle)
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn set(ips: &[&str]) -> BTreeSet<IpAddr> {
    ips.iter().map(|s| ip(s)).collect()
}

async fn eventually(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if cond() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    cond()
}

fn ipvs_services(ipvs: &Ipvs) -> usize {
    ipvs.lock().unwrap().state.services.len()
}

#[tokio::test(start_paused = true)]
async fn quorum_announces_and_withdraws_each_vip() {
    let flags = Flags::default();
    let routes = MockRoutes::default();
    let ipvs: Ipvs = Default::default();
    let p = plan(
        "  announce_table 100\n  announce_metric 5",
        &[
            // One VIP, two ports: announced while either has quorum.
            vs("192.0.2.1", 80, "203.0.113.1", "announce_route"),
            vs("192.0.2.1", 443, "203.0.113.2", "announce_route"),
            vs("192.0.2.2", 80, "203.0.113.3", "announce_route off"),
            vs(
                "192.0.2.3",
                80,
                "203.0.113.4",
                "announce_route table 101 metric 9",
            ),
            vs("2001:db8::1", 80, "2001:db8::10", "announce_route"),
        ],
    );
    let (tx, handle) = start(p, &flags, Arc::clone(&ipvs), routes.clone());
    let all = set(&["192.0.2.1", "2001:db8::1"]);
    assert!(eventually(Duration::from_secs(10), || routes.dsts(TABLE, PROTO) == all).await);
    assert!(
        eventually(Duration::from_secs(10), || routes.dsts(101, PROTO)
            == set(&["192.0.2.3"]))
        .await
    );
    let metrics: BTreeSet<u32> = routes
        .inner
        .lock()
        .unwrap()
        .routes
        .iter()
        .map(|r| r.metric)
        .collect();
    assert_eq!(
        metrics,
        BTreeSet::from([5, 9]),
        "announce_metric and the per-VS override"
    );

    flags.set("203.0.113.1:80", false);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(routes.dsts(TABLE, PROTO), all, "port 443 still has quorum");
    flags.set("203.0.113.2:443", false);
    assert!(
        eventually(Duration::from_secs(10), || routes.dsts(TABLE, PROTO)
            == set(&["2001:db8::1"]))
        .await,
        "both ports lost quorum: withdrawn"
    );
    flags.set("203.0.113.2:443", true);
    assert!(
        eventually(Duration::from_secs(10), || routes.dsts(TABLE, PROTO) == all).await,
        "relearned"
    );
    tx.send(Control::Stop).await.unwrap();
    handle.await.unwrap();
    assert!(routes.dsts(TABLE, PROTO).is_empty() && routes.dsts(101, PROTO).is_empty());
}

#[tokio::test(start_paused = true)]
async fn graceful_stop_withdraws_routes_then_waits_then_removes_ipvs() {
    let flags = Flags::default();
    let routes = MockRoutes::default();
    let ipvs: Ipvs = Default::default();
    let p = plan(
        "  announce_table 100\n  announce_drain_delay 30",
        &[vs("192.0.2.1", 80, "203.0.113.1", "announce_route")],
    );
    let (tx, handle) = start(p, &flags, Arc::clone(&ipvs), routes.clone());
    assert!(
        eventually(Duration::from_secs(10), || routes.dsts(TABLE, PROTO)
            == set(&["192.0.2.1"]))
        .await
    );
    assert!(eventually(Duration::from_secs(10), || ipvs_services(&ipvs) == 1).await);
    let stop_at = tokio::time::Instant::now();
    tx.send(Control::Stop).await.unwrap();
    assert!(
        eventually(Duration::from_secs(1), || routes
            .dsts(TABLE, PROTO)
            .is_empty())
        .await
    );
    // The drain: flows move away while IPVS still serves the old ones.
    tokio::time::sleep(Duration::from_secs(29)).await;
    assert_eq!(
        ipvs_services(&ipvs),
        1,
        "IPVS entries kept during announce_drain_delay"
    );
    handle.await.unwrap();
    assert_eq!(ipvs_services(&ipvs), 0, "removed after the delay");
    let took = tokio::time::Instant::now() - stop_at;
    assert!(
        took >= Duration::from_secs(30) && took < Duration::from_secs(35),
        "{took:?}"
    );
    assert!(matches!(routes.log().last(), Some(RouteOp::Del(_))));
}

#[tokio::test(start_paused = true)]
async fn stale_routes_are_swept_and_foreign_ones_left_alone() {
    let flags = Flags::default();
    let routes = MockRoutes::default();
    let kr = |dst: &str, protocol: u8| KernelRoute {
        table: TABLE,
        dst: ip(dst),
        prefix_len: 32,
        protocol,
        metric: 0,
        ours_shape: true,
    };
    routes.insert(kr("192.0.2.99", PROTO)); // a killed checker's
    routes.insert(kr("192.0.2.1", 4)); // the admin's, for our VIP
    routes.insert(kr("198.51.100.7", 4)); // the admin's
    let ipvs: Ipvs = Default::default();
    let p = plan(
        "  announce_table 100",
        &[
            vs("192.0.2.1", 80, "203.0.113.1", "announce_route"),
            vs("192.0.2.5", 80, "203.0.113.5", "announce_route"),
        ],
    );
    let (tx, handle) = start(p, &flags, Arc::clone(&ipvs), routes.clone());
    assert!(
        eventually(Duration::from_secs(10), || routes.dsts(TABLE, PROTO)
            == set(&["192.0.2.5"]))
        .await
    );
    assert_eq!(routes.dsts(TABLE, 4), set(&["192.0.2.1", "198.51.100.7"]));
    assert!(eventually(Duration::from_secs(10), || ipvs_services(&ipvs) == 2).await);
    tx.send(Control::Stop).await.unwrap();
    handle.await.unwrap();
    assert_eq!(
        routes.dsts(TABLE, 4),
        set(&["192.0.2.1", "198.51.100.7"]),
        "foreign routes survive a stop"
    );
    assert!(routes.dsts(TABLE, PROTO).is_empty());
}

#[tokio::test(start_paused = true)]
async fn failing_route_backend_keeps_checks_and_ipvs_and_recovers() {
    let flags = Flags::default();
    let routes = MockRoutes::default();
    routes.set_fail(Some(1)); // EPERM
    let ipvs: Ipvs = Default::default();
    let p = plan(
        "  announce_table 100",
        &[vs("192.0.2.1", 80, "203.0.113.1", "announce_route")],
    );
    let (tx, handle) = start(p, &flags, Arc::clone(&ipvs), routes.clone());
    assert!(eventually(Duration::from_secs(10), || ipvs_services(&ipvs) == 1).await);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(routes.dsts(TABLE, PROTO).is_empty());
    routes.set_fail(None);
    assert!(
        eventually(Duration::from_secs(10), || routes.dsts(TABLE, PROTO)
            == set(&["192.0.2.1"]))
        .await,
        "retried with the IPVS retries"
    );
    tx.send(Control::Stop).await.unwrap();
    handle.await.unwrap();
}

async fn ask_json(tx: &mpsc::Sender<Control>) -> serde_json::Value {
    let (reply, rx) = tokio::sync::oneshot::channel();
    tx.send(Control::DumpJson(reply)).await.unwrap();
    rx.await.unwrap()
}

async fn ask_text(
    tx: &mpsc::Sender<Control>,
    make: fn(tokio::sync::oneshot::Sender<String>) -> Control,
) -> String {
    let (reply, rx) = tokio::sync::oneshot::channel();
    tx.send(make(reply)).await.unwrap();
    rx.await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn drain_withdraws_and_keeps_serving_until_undrain() {
    let flags = Flags::default();
    let routes = MockRoutes::default();
    let ipvs: Ipvs = Default::default();
    let p = plan(
        "  announce_table 100",
        &[vs("192.0.2.1", 80, "203.0.113.1", "announce_route")],
    );
    let (tx, handle) = start(p, &flags, Arc::clone(&ipvs), routes.clone());
    assert!(
        eventually(Duration::from_secs(10), || routes.dsts(TABLE, PROTO)
            == set(&["192.0.2.1"]))
        .await
    );
    let metrics = ask_text(&tx, Control::Metrics).await;
    rkeepalived_metrics::check(&metrics).unwrap();
    assert!(
        metrics.contains("rkeepalived_check_announced_routes 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("rkeepalived_check_announce_drained 0\n"),
        "{metrics}"
    );
    assert_eq!(
        ask_text(&tx, Control::Drain).await,
        "drained: 1 route(s) withdrawn\n"
    );
    let metrics = ask_text(&tx, Control::Metrics).await;
    assert!(
        metrics.contains("rkeepalived_check_announced_routes 0\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("rkeepalived_check_announce_drained 1\n"),
        "{metrics}"
    );
    assert!(routes.dsts(TABLE, PROTO).is_empty());
    assert_eq!(ask_json(&tx).await["announce"]["drained"], true);
    // Health changes while drained announce nothing; IPVS follows them as usual.
    flags.set("203.0.113.1:80", false);
    tokio::time::sleep(Duration::from_secs(5)).await;
    flags.set("203.0.113.1:80", true);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(routes.dsts(TABLE, PROTO).is_empty(), "stays drained");
    assert_eq!(ipvs_services(&ipvs), 1, "IPVS keeps serving while drained");
    assert_eq!(
        ask_text(&tx, Control::Undrain).await,
        "undrained: 1 route(s) announced\n"
    );
    assert_eq!(routes.dsts(TABLE, PROTO), set(&["192.0.2.1"]));
    let json = ask_json(&tx).await;
    assert_eq!(json["announce"]["drained"], false);
    assert_eq!(
        json["announce"]["routes"][0],
        "192.0.2.1/32 table 100 metric 0"
    );
    tx.send(Control::Stop).await.unwrap();
    handle.await.unwrap();
}

/// A reload (like the periodic pass) dumps and reconciles: routes that are
/// already right, IPv6 ones included (the kernel stores metric 0 as 1024),
/// are not replaced; a changed announce_protocol moves them to the new number.
#[tokio::test(start_paused = true)]
async fn full_passes_leave_correct_routes_alone_and_protocol_changes_move_them() {
    let flags = Flags::default();
    let routes = MockRoutes::default();
    let ipvs: Ipvs = Default::default();
    let servers = [
        vs("192.0.2.1", 80, "203.0.113.1", "announce_route"),
        vs("2001:db8::1", 80, "2001:db8::10", "announce_route"),
    ];
    let (tx, handle) = start(
        plan("  announce_table 100", &servers),
        &flags,
        Arc::clone(&ipvs),
        routes.clone(),
    );
    let both = set(&["192.0.2.1", "2001:db8::1"]);
    assert!(
        eventually(Duration::from_secs(10), || routes.dsts(TABLE, PROTO)
            == both)
        .await
    );
    let v6_metric = routes
        .inner
        .lock()
        .unwrap()
        .routes
        .iter()
        .find(|r| r.dst.is_ipv6())
        .map(|r| r.metric);
    assert_eq!(v6_metric, Some(1024));
    let ops = routes.log().len();
    let cfg = |global: &str| {
        let text = format!("global_defs {{\n{global}\n}}\n{}", servers.concat());
        Arc::new(
            parse_str(&text, "test.conf", &LoadOptions::default())
                .unwrap()
                .config,
        )
    };
    tx.send(Control::Reload(cfg("  announce_table 100")))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        routes.log().len(),
        ops,
        "no route replaced: {:?}",
        &routes.log()[ops..]
    );
    tx.send(Control::Reload(cfg(
        "  announce_table 100\n  announce_protocol 250",
    )))
    .await
    .unwrap();
    assert!(eventually(Duration::from_secs(10), || routes.dsts(TABLE, 250) == both).await);
    assert!(
        routes.dsts(TABLE, PROTO).is_empty(),
        "old protocol's routes removed"
    );
    tx.send(Control::Stop).await.unwrap();
    handle.await.unwrap();
    assert!(routes.dsts(TABLE, 250).is_empty());
}
