//! The engine end to end with MockIpvs: detection timing (tokio paused
//! time with fake checkers), quorum/sorry/notify scripts, misc_dynamic,
//! reload diffing, stop, dumps and metrics, and a kernel without IPVS.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rkeepalived_check::checkers::{BoxFuture, CheckOutcome, Checker};
use rkeepalived_check::spec::*;
use rkeepalived_check::{
    run_plan, CheckFailure, CheckerFactory, EngineBackend, EngineOptions, SharedBackend,
};
use rkeepalived_config::model as cfg;
use rkeepalived_config::Config;
use rkeepalived_control::Control;
use rkeepalived_ipvs::{
    Dest, DestKey, Forwarding, IpvsState, MockIpvs, Op, Scheduler, Service, ServiceKey,
};
use rkeepalived_script::{RunAs, Script, ScriptSecurity};
use tokio::sync::{mpsc, oneshot};

/// A checker whose answer the test flips.
struct FlagChecker {
    up: Arc<AtomicBool>,
    calls: Arc<AtomicU32>,
}

impl Checker for FlagChecker {
    fn kind(&self) -> &'static str {
        "FAKE"
    }
    fn check(&self) -> BoxFuture<'_, CheckOutcome> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let up = self.up.load(Ordering::SeqCst);
        Box::pin(async move {
            if up {
                CheckOutcome::Up
            } else {
                CheckOutcome::Down(CheckFailure::NoReply)
            }
        })
    }
}

/// Per target: (answer up?, number of checks run).
type Flag = (Arc<AtomicBool>, Arc<AtomicU32>);

#[derive(Clone, Default)]
struct Flags(Arc<Mutex<HashMap<SocketAddr, Flag>>>);

impl Flags {
    fn get(&self, dst: SocketAddr) -> Flag {
        self.0
            .lock()
            .unwrap()
            .entry(dst)
            .or_insert_with(|| (Arc::new(AtomicBool::new(true)), Arc::new(AtomicU32::new(0))))
            .clone()
    }
    fn set(&self, dst: &str, up: bool) {
        self.get(dst.parse().unwrap()).0.store(up, Ordering::SeqCst);
    }
    fn factory(&self) -> CheckerFactory {
        let flags = self.clone();
        Arc::new(move |spec: &Arc<CheckerSpec>, _| {
            let (up, calls) = flags.get(spec.conn.dst);
            Arc::new(FlagChecker { up, calls }) as Arc<dyn Checker>
        })
    }
}

const VIP: &str = "192.0.2.1";

fn vs_key() -> ServiceKey {
    ServiceKey::tcp(VIP.parse().unwrap(), 80)
}

fn checker_spec(
    dst: &str,
    delay_loop_ms: u64,
    retry: u32,
    delay_before_retry_ms: u64,
) -> CheckerSpec {
    let kind = CheckKind::Tcp;
    let mut timing = CheckTiming::defaults_for(&kind, Duration::from_millis(delay_loop_ms));
    timing.retry = retry;
    timing.delay_before_retry = Duration::from_millis(delay_before_retry_ms);
    timing.warmup = Duration::ZERO;
    CheckerSpec {
        kind,
        conn: ConnOpts::to(dst.parse().unwrap()),
        timing: Arc::new(timing),
    }
}

fn real_server(addr: &str, weight: i32, checkers: Vec<CheckerSpec>) -> RealServerSpec {
    let sa: SocketAddr = addr.parse().unwrap();
    RealServerSpec {
        dest: Dest::new(sa.ip(), sa.port(), Forwarding::Masq, weight),
        inhibit_on_failure: false,
        notify_up: None,
        notify_down: None,
        checkers: checkers.into_iter().map(std::sync::Arc::new).collect(),
        alpha: false,
    }
}

fn plan_with(real_servers: Vec<RealServerSpec>) -> CheckPlan {
    let mut vs = VirtualServerSpec::new(Service::new(vs_key(), Scheduler::Wlc));
    vs.real_servers = real_servers.into();
    CheckPlan {
        virtual_servers: vec![vs],
        lvs_flush: false,
        lvs_timeouts: Default::default(),
        lvs_flush_on_stop: Default::default(),
        checker_syncd: None,
        script_security: Some(ScriptSecurity {
            enable_script_security: false,
            default_user: Some(RunAs::root()),
        }),
        notify_fifos: Vec::new(),
        alerts: Default::default(),
        dump: Default::default(),
        announce: None,
    }
}

type Mock = Arc<Mutex<MockIpvs>>;

fn start(
    plan: CheckPlan,
    flags: Option<&Flags>,
    mock: Mock,
) -> (mpsc::Sender<Control>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(8);
    let mut opts = EngineOptions::new(EngineBackend::Custom(Box::new(SharedBackend(mock))));
    if let Some(f) = flags {
        opts.checker_factory = f.factory();
    }
    opts.ipvs_retry_interval = Duration::from_millis(200);
    opts.script_timeout = Duration::from_secs(10);
    let handle = tokio::spawn(async move { run_plan(plan, rx, opts).await.expect("engine ran") });
    (tx, handle)
}

fn dests(mock: &Mock) -> Vec<(String, i32)> {
    let m = mock.lock().unwrap();
    m.state
        .services
        .get(&vs_key())
        .map(|e| {
            e.dests
                .values()
                .map(|d| (SocketAddr::new(d.addr, d.port).to_string(), d.weight))
                .collect()
        })
        .unwrap_or_default()
}

/// Poll `cond` every 10 ms (virtual or real time) for at most `limit`.
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

/// Assert that within `limit` the virtual server's dests become exactly
/// `want` (address, weight), in the table's order.
async fn assert_dests_within(mock: &Mock, limit: Duration, want: &[(&str, i32)]) {
    let want: Vec<(String, i32)> = want.iter().map(|(a, w)| (a.to_string(), *w)).collect();
    assert!(
        eventually(limit, || dests(mock) == want).await,
        "want {want:?}, have {:?}",
        dests(mock)
    );
}

async fn ask<T>(tx: &mpsc::Sender<Control>, make: impl FnOnce(oneshot::Sender<T>) -> Control) -> T {
    let (otx, orx) = oneshot::channel();
    tx.send(make(otx)).await.unwrap();
    orx.await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn failure_is_detected_within_delay_loop_plus_retry_budget() {
    let flags = Flags::default();
    let mock: Mock = Arc::default();
    // delay_loop 1 s, retry 2, delay_before_retry 500 ms: budget 1 s + 2 x 0.5 s.
    let plan = plan_with(vec![
        real_server(
            "198.51.100.1:80",
            1,
            vec![checker_spec("198.51.100.1:80", 1000, 2, 500)],
        ),
        real_server(
            "198.51.100.2:80",
            1,
            vec![checker_spec("198.51.100.2:80", 1000, 2, 500)],
        ),
    ]);
    let (tx, engine) = start(plan, Some(&flags), Arc::clone(&mock));
    assert!(eventually(Duration::from_secs(1), || dests(&mock).len() == 2).await);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let failed_at = tokio::time::Instant::now();
    flags.set("198.51.100.1:80", false);
    assert!(eventually(Duration::from_secs(5), || dests(&mock).len() == 1).await);
    let detection = failed_at.elapsed();
    assert!(
        detection <= Duration::from_millis(2000 + 20),
        "detected after {detection:?}"
    );
    // Not before the retries were spent: at least 2 x delay_before_retry.
    assert!(
        detection >= Duration::from_millis(1000),
        "declared down too early: {detection:?}"
    );
    assert_eq!(dests(&mock), [("198.51.100.2:80".to_string(), 1)]);

    // Recovery: one success brings it back within one delay_loop.
    let back_at = tokio::time::Instant::now();
    flags.set("198.51.100.1:80", true);
    assert!(eventually(Duration::from_secs(5), || dests(&mock).len() == 2).await);
    assert!(
        back_at.elapsed() <= Duration::from_millis(1000 + 20),
        "recovered after {:?}",
        back_at.elapsed()
    );

    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
    assert!(
        mock.lock().unwrap().state.services.is_empty(),
        "stop removes our services"
    );
}

#[tokio::test(start_paused = true)]
async fn checks_are_staggered_across_warmup() {
    let flags = Flags::default();
    let mock: Mock = Arc::default();
    let mut rss = Vec::new();
    for i in 1..=200u32 {
        let addr = format!("198.51.100.{}:{}", i % 250 + 1, 1000 + i);
        let mut c = checker_spec(&addr, 60_000, 1, 1000);
        Arc::make_mut(&mut c.timing).warmup = Duration::from_secs(10);
        rss.push(real_server(&addr, 1, vec![c]));
    }
    let (tx, engine) = start(plan_with(rss), Some(&flags), Arc::clone(&mock));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let total = |flags: &Flags| {
        flags
            .0
            .lock()
            .unwrap()
            .values()
            .map(|(_, c)| c.load(Ordering::SeqCst))
            .sum::<u32>()
    };
    let early = total(&flags);
    // Uniform spread over 10 s: about a quarter after 2.5 s, certainly not all of them.
    assert!(
        early > 10 && early < 120,
        "{early} of 200 checks ran in the first 2.5 s"
    );
    tokio::time::sleep(Duration::from_millis(8000)).await;
    assert_eq!(total(&flags), 200, "every checker ran once within warmup");
    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn inhibit_sorry_server_and_dumps() {
    let flags = Flags::default();
    let mock: Mock = Arc::default();
    let mut rs1 = real_server(
        "198.51.100.1:80",
        3,
        vec![checker_spec("198.51.100.1:80", 500, 0, 100)],
    );
    rs1.inhibit_on_failure = true;
    let mut plan = plan_with(vec![rs1]);
    plan.virtual_servers[0].sorry_server = Some(Dest::new(
        "203.0.113.5".parse().unwrap(),
        80,
        Forwarding::Masq,
        1,
    ));
    let (tx, engine) = start(plan, Some(&flags), Arc::clone(&mock));
    assert_dests_within(&mock, Duration::from_secs(2), &[("198.51.100.1:80", 3)]).await;
    flags.set("198.51.100.1:80", false);
    assert_dests_within(
        &mock,
        Duration::from_secs(3),
        &[("198.51.100.1:80", 0), ("203.0.113.5:80", 1)],
    )
    .await;
    // Edited in place: the dest was never deleted.
    assert!(!mock
        .lock()
        .unwrap()
        .log
        .iter()
        .any(|op| matches!(op, Op::DelDest(..))));
    // (A plan built by hand carries no configuration to dump: the state
    // shows in the JSON dump; keepalived_check.data is tested from a
    // configuration in reload tests below.)
    let json = ask(&tx, Control::DumpJson).await;
    assert_eq!(json["virtual_servers"][0]["quorum_up"], false);
    assert_eq!(
        json["virtual_servers"][0]["real_servers"][0]["alive"],
        false
    );
    let metrics = ask(&tx, Control::Metrics).await;
    for family in [
        "rkeepalived_check_result{",
        "rkeepalived_check_duration_seconds_bucket{",
        "rkeepalived_check_rs_up{",
        "rkeepalived_check_ipvs_syncs_total ",
    ] {
        assert!(metrics.contains(family), "missing {family} in\n{metrics}");
    }
    rkeepalived_metrics::check(&metrics).expect("valid exposition");
    let stats = ask(&tx, Control::DumpStats).await;
    assert!(stats.contains("check failures"), "{stats}");
    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn ipvs_failures_are_retried_and_never_fatal() {
    let flags = Flags::default();
    let mock: Mock = Arc::default();
    // The first dumps "fail" because every op is rejected: inject errors.
    mock.lock()
        .unwrap()
        .inject
        .extend([rkeepalived_ipvs::Errno::NotFound; 3]);
    let plan = plan_with(vec![real_server(
        "198.51.100.1:80",
        1,
        vec![checker_spec("198.51.100.1:80", 1000, 0, 100)],
    )]);
    let (tx, engine) = start(plan, Some(&flags), Arc::clone(&mock));
    // Retried every 200 ms until the table converges.
    assert!(eventually(Duration::from_secs(3), || dests(&mock).len() == 1).await);
    let metrics = ask(&tx, Control::Metrics).await;
    assert!(
        metrics.contains("rkeepalived_check_ipvs_op_failures_total "),
        "{metrics}"
    );
    assert!(
        !metrics.contains("rkeepalived_check_ipvs_op_failures_total 0"),
        "{metrics}"
    );
    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn stop_keeps_foreign_entries() {
    let flags = Flags::default();
    let foreign_key = ServiceKey::tcp("203.0.113.80".parse().unwrap(), 443);
    let mut foreign = IpvsState::new();
    foreign.upsert_service(Service::new(foreign_key, Scheduler::Rr));
    let mock: Mock = Arc::new(Mutex::new(MockIpvs::with_state(foreign)));
    let plan = plan_with(vec![real_server(
        "198.51.100.1:80",
        1,
        vec![checker_spec("198.51.100.1:80", 1000, 0, 100)],
    )]);
    let (tx, engine) = start(plan, Some(&flags), Arc::clone(&mock));
    assert!(eventually(Duration::from_secs(2), || dests(&mock).len() == 1).await);
    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
    let m = mock.lock().unwrap();
    assert!(
        m.state.services.contains_key(&foreign_key),
        "a service we did not create survives"
    );
    assert!(!m.state.services.contains_key(&vs_key()));
}

// ------------------------------------------------------------------ real time, real scripts and sockets

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("rkc-engine-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn logging_script(log: &std::path::Path, word: &str) -> Script {
    Script {
        argv: vec![
            "/bin/sh".into(),
            "-c".into(),
            format!("echo {word} >> {}", log.display()),
        ],
        user: None,
    }
}

fn read_log(log: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn quorum_and_notify_scripts_run_on_transitions() {
    let d = temp_dir("quorum");
    let log = d.join("events");
    let flags = Flags::default();
    let mock: Mock = Arc::default();
    let mut rs1 = real_server(
        "198.51.100.1:80",
        2,
        vec![checker_spec("198.51.100.1:80", 50, 0, 50)],
    );
    rs1.notify_down = Some(Box::new(logging_script(&log, "down1")));
    rs1.notify_up = Some(Box::new(logging_script(&log, "up1")));
    let rs2 = real_server(
        "198.51.100.2:80",
        2,
        vec![checker_spec("198.51.100.2:80", 50, 0, 50)],
    );
    let mut plan = plan_with(vec![rs1, rs2]);
    let vs = &mut plan.virtual_servers[0];
    vs.quorum = 3;
    vs.quorum_up = Some(logging_script(&log, "qup"));
    vs.quorum_down = Some(logging_script(&log, "qdown"));
    vs.omega = true;
    let (tx, engine) = start(plan, Some(&flags), Arc::clone(&mock));
    assert!(eventually(Duration::from_secs(5), || dests(&mock).len() == 2).await);
    flags.set("198.51.100.1:80", false);
    assert!(
        eventually(Duration::from_secs(5), || read_log(&log)
            == ["down1", "qdown"])
        .await,
        "{:?}",
        read_log(&log)
    );
    flags.set("198.51.100.1:80", true);
    assert!(
        eventually(Duration::from_secs(5), || read_log(&log).len() == 4).await,
        "{:?}",
        read_log(&log)
    );
    assert_eq!(read_log(&log)[2..], ["up1".to_string(), "qup".to_string()]);
    // omega: notify_down for alive servers with a script, then quorum_down.
    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
    assert_eq!(
        read_log(&log)[4..],
        ["down1".to_string(), "qdown".to_string()]
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[tokio::test]
async fn misc_dynamic_weight_reaches_ipvs() {
    let d = temp_dir("dyn");
    let code_file = d.join("code");
    std::fs::write(&code_file, "12").unwrap();
    let script = Script {
        argv: vec![
            "/bin/sh".into(),
            "-c".into(),
            format!("exit $(cat {})", code_file.display()),
        ],
        user: None,
    };
    let kind = CheckKind::Misc(Box::new(MiscSpec {
        script,
        timeout: Some(Duration::from_secs(5)),
        dynamic: true,
        refused: None,
    }));
    let mut timing = CheckTiming::defaults_for(&kind, Duration::from_millis(100));
    timing.warmup = Duration::ZERO;
    let spec = CheckerSpec {
        kind,
        conn: ConnOpts::to("198.51.100.1:80".parse().unwrap()),
        timing: Arc::new(timing),
    };
    let mock: Mock = Arc::default();
    let (tx, engine) = start(
        plan_with(vec![real_server("198.51.100.1:80", 1, vec![spec])]),
        None,
        Arc::clone(&mock),
    );
    assert_dests_within(&mock, Duration::from_secs(5), &[("198.51.100.1:80", 10)]).await;
    std::fs::write(&code_file, "22").unwrap();
    assert_dests_within(&mock, Duration::from_secs(5), &[("198.51.100.1:80", 20)]).await;
    std::fs::write(&code_file, "1").unwrap();
    assert!(
        eventually(Duration::from_secs(5), || dests(&mock).is_empty()).await,
        "{:?}",
        dests(&mock)
    );
    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
    std::fs::remove_dir_all(&d).unwrap();
}

// ------------------------------------------------------------------ from a Config, with reload

fn tcp_checker(port: u16, delay_loop: Duration) -> cfg::Checker {
    let kind = cfg::CheckerKind::Tcp;
    let mut common = cfg::CheckerCommon::defaults_for(&kind, delay_loop);
    common.retry = 0;
    common.warmup = Duration::ZERO;
    common.connect_timeout = Duration::from_millis(500);
    common.connect_port = Some(port);
    cfg::Checker {
        origin: cfg::Origin::default(),
        common,
        kind,
    }
}

fn config_with(rs: &[(&str, u32, u16)]) -> Arc<Config> {
    let mut config = Config::default();
    let mut vs = cfg::VirtualServer::new(cfg::VirtualService::Addr {
        addr: VIP.parse().unwrap(),
        port: Some(80),
    });
    for (addr, weight, check_port) in rs {
        let mut r = cfg::RealServer::new(addr.parse().unwrap(), Some(80));
        r.weight = *weight;
        r.checkers
            .push(tcp_checker(*check_port, Duration::from_millis(100)));
        vs.real_servers.push(r);
    }
    config.virtual_servers.push(vs);
    Arc::new(config)
}

#[tokio::test]
async fn reload_keeps_state_and_edits_in_place() {
    // Real TCP listeners on loopback stand in for the real servers' ports.
    let up1 = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let up3 = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (p1, p3) = (
        up1.local_addr().unwrap().port(),
        up3.local_addr().unwrap().port(),
    );
    let mock: Mock = Arc::default();
    let (tx, rx) = mpsc::channel(8);
    // Checkers connect to 127.0.0.1 via connect_ip.
    let with_connect_ip = |c: Arc<Config>| {
        let mut c = (*c).clone();
        for rs in &mut c.virtual_servers[0].real_servers {
            rs.checkers[0].common.connect_ip = Some("127.0.0.1".parse().unwrap());
        }
        Arc::new(c)
    };
    let first = with_connect_ip(config_with(&[
        ("198.51.100.1", 1, p1),
        ("198.51.100.2", 1, closed),
    ]));
    let engine = tokio::spawn(rkeepalived_check::with_backend(
        first,
        rx,
        SharedBackend(Arc::clone(&mock)),
    ));
    assert_dests_within(&mock, Duration::from_secs(5), &[("198.51.100.1:80", 1)]).await;
    let ops_before = mock.lock().unwrap().log.len();

    // rs1 weight 1 -> 5, rs2 unchanged (still failing), rs3 added.
    let second = with_connect_ip(config_with(&[
        ("198.51.100.1", 5, p1),
        ("198.51.100.2", 1, closed),
        ("198.51.100.3", 1, p3),
    ]));
    tx.send(Control::Reload(second)).await.unwrap();
    assert_dests_within(
        &mock,
        Duration::from_secs(5),
        &[("198.51.100.1:80", 5), ("198.51.100.3:80", 1)],
    )
    .await;
    let new_ops: Vec<Op> = mock.lock().unwrap().log[ops_before..].to_vec();
    let rs1 = DestKey {
        addr: "198.51.100.1".parse().unwrap(),
        port: 80,
    };
    assert!(
        new_ops
            .iter()
            .any(|op| matches!(op, Op::EditDest(_, d) if d.key() == rs1 && d.weight == 5)),
        "{new_ops:?}"
    );
    assert!(
        !new_ops
            .iter()
            .any(|op| matches!(op, Op::DelDest(..) | Op::DelService(..))),
        "{new_ops:?}"
    );
    // rs2 never came up in between (its failed state was kept).
    assert!(
        !new_ops
            .iter()
            .any(|op| matches!(op, Op::AddDest(_, d) if d.addr.to_string() == "198.51.100.2")),
        "{new_ops:?}"
    );

    // A broken reload is rejected and the engine keeps running.
    let mut broken = Config::default();
    broken
        .virtual_servers
        .push(cfg::VirtualServer::new(cfg::VirtualService::Group(
            "missing".into(),
        )));
    tx.send(Control::Reload(Arc::new(broken))).await.unwrap();
    let stats = ask(&tx, Control::DumpStats).await;
    assert!(stats.contains("rejected 1"), "{stats}");
    assert_eq!(dests(&mock).len(), 2);

    // Reorder the real servers and list rs2 twice: kept checkers follow
    // their real server to its new place, so a later failure of rs1 (now
    // third) takes out rs1, not whichever real server is first now.
    let reordered = [
        ("198.51.100.3", 1, p3),
        ("198.51.100.2", 1, closed),
        ("198.51.100.1", 5, p1),
    ];
    let third = with_connect_ip(config_with(
        &[&reordered[..], &[("198.51.100.2", 1, closed)]].concat(),
    ));
    tx.send(Control::Reload(third)).await.unwrap();
    let stats = ask(&tx, Control::DumpStats).await;
    // rs2's twin has the same check: one probe serves both.
    assert!(stats.contains(" checkers 3\n"), "{stats}");
    drop(up1);
    assert_dests_within(&mock, Duration::from_secs(5), &[("198.51.100.3:80", 1)]).await;
    // Without the twin, the shared probe goes on for the one left.
    let fourth = with_connect_ip(config_with(&reordered));
    tx.send(Control::Reload(fourth)).await.unwrap();
    let stats = ask(&tx, Control::DumpStats).await;
    assert!(stats.contains(" checkers 3\n"), "{stats}");
    // The dump finds each checker's counters at its new place.
    let data = ask(&tx, Control::DumpData).await;
    // keepalived's layout: one "Real server" block per real server in the
    // LVS Topology, one " VS -> RS" block per checker after it.
    let rs_block = |rs: &str| {
        data.split("------< Real server >------")
            .find(|b| b.contains(&format!("RIP = {rs}, RPORT = 80,")))
            .map(|b| b.split("------<").next().unwrap_or_default().to_owned())
            .unwrap_or_default()
    };
    let checks = data
        .split("------< Health checkers >------")
        .nth(1)
        .unwrap_or_default();
    let checker = |rs: &str| {
        checks
            .split("\n [")
            .find(|b| b.contains(&format!("-> [{rs}]:tcp:80")))
            .unwrap_or_default()
            .to_owned()
    };
    let (rs1, c1) = (rs_block("198.51.100.1"), checker("198.51.100.1"));
    assert!(
        rs1.contains("   alive = 0\n")
            && c1.contains("   Up = no\n")
            && c1.contains(&format!(":{p1}\n")),
        "{data}"
    );
    let (rs3, c3) = (rs_block("198.51.100.3"), checker("198.51.100.3"));
    assert!(
        rs3.contains("   alive = 1\n")
            && c3.contains("   Up = yes\n")
            && c3.contains(&format!(":{p3}\n")),
        "{data}"
    );
    assert!(c3.contains("   Has run = yes\n"), "{data}");

    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap().unwrap();
    drop(up3);
}

#[tokio::test(start_paused = true)]
async fn entries_removed_behind_our_back_are_restored_by_the_periodic_resync() {
    let flags = Flags::default();
    let mock: Mock = Arc::default();
    let plan = plan_with(vec![real_server(
        "198.51.100.1:80",
        1,
        vec![checker_spec("198.51.100.1:80", 1000, 0, 100)],
    )]);
    let (tx, engine) = start(plan, Some(&flags), Arc::clone(&mock));
    assert!(eventually(Duration::from_secs(2), || dests(&mock).len() == 1).await);
    // `ipvsadm -d` by hand: the engine only diffs against its cache until the full resync.
    mock.lock()
        .unwrap()
        .state
        .services
        .get_mut(&vs_key())
        .unwrap()
        .dests
        .clear();
    assert!(
        eventually(Duration::from_secs(70), || dests(&mock).len() == 1).await,
        "restored within one resync interval"
    );
    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
}

/// Issue #17: a verdict reaches IPVS as the one op of its real server
/// (ipwrapper.c `perform_svr_state()`), not as a diff of the whole table;
/// when that op fails (the table was changed by hand) the engine falls
/// back to a full pass from a dump, which also repairs the rest.
#[tokio::test(start_paused = true)]
async fn a_verdict_is_one_op_and_a_failed_op_falls_back_to_a_full_pass() {
    let flags = Flags::default();
    let mock: Mock = Arc::default();
    let rss = (1..=20)
        .map(|i| {
            let a = format!("198.51.100.{i}:80");
            real_server(&a, 1, vec![checker_spec(&a, 1000, 0, 100)])
        })
        .collect();
    let (tx, engine) = start(plan_with(rss), Some(&flags), Arc::clone(&mock));
    assert!(eventually(Duration::from_secs(2), || dests(&mock).len() == 20).await);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let dest = |i: u8| DestKey {
        addr: format!("198.51.100.{i}").parse().unwrap(),
        port: 80,
    };
    let before = mock.lock().unwrap().log.len();
    flags.set("198.51.100.3:80", false);
    assert!(eventually(Duration::from_secs(3), || dests(&mock).len() == 19).await);
    assert_eq!(
        mock.lock().unwrap().log[before..],
        [Op::DelDest(vs_key(), dest(3))],
        "one verdict, one op"
    );
    // `ipvsadm -d` of .6 and .7 by hand, then .6 fails: its delete fails
    // (ENOENT) and the full pass from a dump puts .7 back.
    {
        let mut m = mock.lock().unwrap();
        let entry = m.state.services.get_mut(&vs_key()).unwrap();
        entry.dests.remove(&dest(6));
        entry.dests.remove(&dest(7));
    }
    let before = mock.lock().unwrap().log.len();
    flags.set("198.51.100.6:80", false);
    assert!(
        eventually(Duration::from_secs(3), || dests(&mock).len() == 18).await,
        "have {:?}",
        dests(&mock)
    );
    let ops = mock.lock().unwrap().log[before..].to_vec();
    assert_eq!(
        ops,
        [
            Op::DelDest(vs_key(), dest(6)),
            Op::AddDest(vs_key(), Dest::new(dest(7).addr, 80, Forwarding::Masq, 1)),
        ]
    );
    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
}
