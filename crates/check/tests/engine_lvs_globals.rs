//! The global_defs keywords that act on the whole IPVS table, through the
//! engine with MockIpvs: `lvs_timeouts` (set at start, re-applied or
//! restored on reload, restored on stop, as keepalived's
//! check_daemon.c/ipvswrapper.c do), `lvs_flush` (one flush at start, never
//! on reload) and `lvs_flush_on_stop` (ALL flushes everything; VS and the
//! default remove only the configured virtual servers), with and without
//! `--dont-release-ipvs`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rkeepalived_check::{run_plan, EngineBackend, EngineOptions, SharedBackend};
use rkeepalived_config::{Config, LoadOptions};
use rkeepalived_control::Control;
use rkeepalived_ipvs::netlink::Timeouts;
use rkeepalived_ipvs::{Dest, Forwarding, MockIpvs, Op, Scheduler, Service, ServiceKey};
use tokio::sync::mpsc;

type Mock = Arc<Mutex<MockIpvs>>;

fn config(global: &str) -> Arc<Config> {
    let text = format!(
        "global_defs {{\n{global}\n}}\n\
         virtual_server 192.0.2.1 80 {{\n  lb_algo rr\n  lb_kind NAT\n  protocol TCP\n  \
         real_server 198.51.100.1 80 {{\n    weight 2\n  }}\n}}\n"
    );
    let loaded = rkeepalived_config::parse_str(&text, "lvs_globals.conf", &LoadOptions::default())
        .unwrap_or_else(|e| panic!("config must load: {e}\n{text}"));
    Arc::new(loaded.config)
}

fn ours() -> ServiceKey {
    ServiceKey::tcp("192.0.2.1".parse().unwrap(), 80)
}

fn foreign() -> ServiceKey {
    ServiceKey::tcp("203.0.113.9".parse().unwrap(), 8080)
}

/// A service some other tool created (as `ipvsadm -A` / `-a` would).
fn add_foreign(mock: &Mock, key: ServiceKey) {
    let mut m = mock.lock().unwrap();
    m.state.upsert_service(Service::new(key, Scheduler::Wlc));
    m.state.upsert_dest(
        &key,
        Dest::new("198.51.100.9".parse().unwrap(), 80, Forwarding::Direct, 1),
    );
}

fn has(mock: &Mock, key: &ServiceKey) -> bool {
    mock.lock().unwrap().state.services.contains_key(key)
}

fn timeouts(mock: &Mock) -> Timeouts {
    mock.lock().unwrap().timeouts
}

fn flushes(mock: &Mock) -> usize {
    mock.lock()
        .unwrap()
        .log
        .iter()
        .filter(|op| matches!(op, Op::Flush))
        .count()
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

fn start(
    cfg: &Config,
    mock: &Mock,
    release_ipvs_on_stop: bool,
) -> (mpsc::Sender<Control>, tokio::task::JoinHandle<()>) {
    let plan = rkeepalived_check::from_config(cfg).expect("plan");
    let (tx, rx) = mpsc::channel(8);
    let mut opts = EngineOptions::new(EngineBackend::Custom(Box::new(SharedBackend(Arc::clone(
        mock,
    )))));
    opts.release_ipvs_on_stop = release_ipvs_on_stop;
    let handle = tokio::spawn(async move { run_plan(plan, rx, opts).await.expect("engine ran") });
    (tx, handle)
}

async fn stop(tx: mpsc::Sender<Control>, engine: tokio::task::JoinHandle<()>) {
    tx.send(Control::Stop).await.unwrap();
    engine.await.unwrap();
}

const ORIGINAL: Timeouts = Timeouts {
    tcp: 7200,
    tcp_fin: 60,
    udp: 30,
};

#[tokio::test]
async fn lvs_timeouts_set_at_start_reapplied_on_reload_restored_on_stop() {
    let mock: Mock = Arc::default();
    mock.lock().unwrap().timeouts = ORIGINAL;
    let (tx, engine) = start(&config("  lvs_timeouts tcp 900 udp 10"), &mock, true);
    assert!(eventually(|| has(&mock, &ours())).await);
    // Unconfigured tcpfin keeps the value read at start.
    assert_eq!(
        timeouts(&mock),
        Timeouts {
            tcp: 900,
            tcp_fin: 60,
            udp: 10
        }
    );

    // Reload with only tcpfin: tcp and udp go back to the saved originals.
    tx.send(Control::Reload(config("  lvs_timeouts tcpfin 5")))
        .await
        .unwrap();
    let want = Timeouts {
        tcp: 7200,
        tcp_fin: 5,
        udp: 30,
    };
    assert!(
        eventually(|| timeouts(&mock) == want).await,
        "{:?}",
        timeouts(&mock)
    );

    // Reload without lvs_timeouts: everything restored (ipvs_set_timeouts(NULL)).
    tx.send(Control::Reload(config(""))).await.unwrap();
    assert!(eventually(|| timeouts(&mock) == ORIGINAL).await);

    tx.send(Control::Reload(config(
        "  lvs_timeouts tcp 100 tcpfin 20 udp 30",
    )))
    .await
    .unwrap();
    let want = Timeouts {
        tcp: 100,
        tcp_fin: 20,
        udp: 30,
    };
    assert!(eventually(|| timeouts(&mock) == want).await);

    stop(tx, engine).await;
    assert_eq!(
        timeouts(&mock),
        ORIGINAL,
        "ipvs_stop() restores the originals"
    );
    let m = mock.lock().unwrap();
    assert_eq!(m.timeout_reads, 1, "the originals are read once");
    assert_eq!(m.timeout_log.last(), Some(&ORIGINAL));
}

#[tokio::test]
async fn without_lvs_timeouts_the_kernel_timeouts_are_never_touched() {
    let mock: Mock = Arc::default();
    mock.lock().unwrap().timeouts = ORIGINAL;
    let (tx, engine) = start(&config(""), &mock, true);
    assert!(eventually(|| has(&mock, &ours())).await);
    tx.send(Control::Reload(config(""))).await.unwrap();
    stop(tx, engine).await;
    let m = mock.lock().unwrap();
    assert_eq!((m.timeout_reads, m.timeout_log.len()), (0, 0));
    assert_eq!(m.timeouts, ORIGINAL);
}

#[tokio::test]
async fn lvs_flush_flushes_once_at_start_and_not_on_reload() {
    let mock: Mock = Arc::default();
    add_foreign(&mock, foreign());
    // A foreign real server inside the service we configure goes too.
    add_foreign(&mock, ours());
    let (tx, engine) = start(&config("  lvs_flush"), &mock, true);
    let programmed = || {
        let m = mock.lock().unwrap();
        m.log.len() > 1 && m.state.services.contains_key(&ours())
    };
    assert!(eventually(programmed).await);
    assert!(
        !has(&mock, &foreign()),
        "lvs_flush removes foreign services"
    );
    {
        let m = mock.lock().unwrap();
        assert_eq!(m.log.first(), Some(&Op::Flush), "flush before programming");
        let dests: Vec<_> = m.state.services[&ours()].dests.keys().collect();
        assert_eq!(dests.len(), 1, "only the configured real server: {dests:?}");
    }
    // Added by hand while running: keepalived leaves it, reload or not.
    let later = ServiceKey::tcp("203.0.113.10".parse().unwrap(), 80);
    add_foreign(&mock, later);
    tx.send(Control::Reload(config("  lvs_flush")))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(has(&mock, &later), "no flush on reload");
    assert_eq!(flushes(&mock), 1);
    stop(tx, engine).await;
    assert!(has(&mock, &later), "default stop keeps foreign services");
    assert!(!has(&mock, &ours()));
}

#[tokio::test]
async fn without_lvs_flush_foreign_entries_survive_start_and_stop() {
    let mock: Mock = Arc::default();
    add_foreign(&mock, foreign());
    let (tx, engine) = start(&config(""), &mock, true);
    assert!(eventually(|| has(&mock, &ours())).await);
    assert!(has(&mock, &foreign()));
    stop(tx, engine).await;
    assert!(has(&mock, &foreign()));
    assert!(!has(&mock, &ours()), "our virtual server removed on stop");
    assert_eq!(flushes(&mock), 0);
}

#[tokio::test]
async fn lvs_flush_on_stop_all_flushes_the_whole_table() {
    let mock: Mock = Arc::default();
    add_foreign(&mock, foreign());
    let (tx, engine) = start(&config("  lvs_flush_on_stop"), &mock, true);
    assert!(eventually(|| has(&mock, &ours())).await);
    assert!(has(&mock, &foreign()));
    stop(tx, engine).await;
    let m = mock.lock().unwrap();
    assert!(m.state.services.is_empty(), "{:?}", m.state);
    assert_eq!(m.log.last(), Some(&Op::Flush));
}

#[tokio::test]
async fn lvs_flush_on_stop_vs_removes_only_the_configured_virtual_servers() {
    let mock: Mock = Arc::default();
    add_foreign(&mock, foreign());
    let (tx, engine) = start(&config("  lvs_flush_on_stop VS"), &mock, true);
    assert!(eventually(|| has(&mock, &ours())).await);
    stop(tx, engine).await;
    assert!(has(&mock, &foreign()));
    assert!(!has(&mock, &ours()));
    let m = mock.lock().unwrap();
    assert_eq!(m.log.last(), Some(&Op::DelService(ours())));
    assert!(!m.log.contains(&Op::Flush));
}

#[tokio::test]
async fn dont_release_ipvs_keeps_the_table_but_restores_the_timeouts() {
    let mock: Mock = Arc::default();
    mock.lock().unwrap().timeouts = ORIGINAL;
    add_foreign(&mock, foreign());
    let (tx, engine) = start(
        &config("  lvs_flush_on_stop\n  lvs_timeouts tcp 1000"),
        &mock,
        false,
    );
    assert!(eventually(|| has(&mock, &ours())).await);
    assert_eq!(timeouts(&mock).tcp, 1000);
    stop(tx, engine).await;
    assert!(has(&mock, &ours()) && has(&mock, &foreign()));
    assert_eq!(flushes(&mock), 0);
    assert_eq!(timeouts(&mock), ORIGINAL, "ipvs_stop() runs even with -I");
}

#[tokio::test]
async fn lvs_sync_daemon_without_instance_runs_both_daemons_in_the_checker() {
    use rkeepalived_ipvs::netlink::DaemonState;
    let mock: Mock = Arc::default();
    // A master daemon left by a crashed predecessor, with another sync id.
    mock.lock().unwrap().sync_master = Some(
        rkeepalived_ipvs::syncd::SyncdConfig::new(
            "eth9",
            1,
            None,
            8848,
            None,
            rkeepalived_ipvs::syncd::DEFAULT_SYNC_GROUP,
        )
        .daemon(DaemonState::Master),
    );
    let (tx, engine) = start(
        &config("  lvs_sync_daemon eth1 id 5 port 9000"),
        &mock,
        true,
    );
    let running = |m: &MockIpvs| {
        m.sync_master
            .as_ref()
            .is_some_and(|d| d.mcast_ifn == "eth1" && d.sync_id == 5 && d.mcast_port == Some(9000))
            && m.sync_backup
                .as_ref()
                .is_some_and(|d| d.mcast_ifn == "eth1" && d.sync_id == 5)
    };
    assert!(eventually(|| running(&mock.lock().unwrap())).await);
    // Same settings on reload: left alone.
    let before = mock.lock().unwrap().syncd_log.len();
    tx.send(Control::Reload(config(
        "  lvs_sync_daemon eth1 id 5 port 9000",
    )))
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(mock.lock().unwrap().syncd_log.len(), before);
    // Changed: restarted with the new id.
    tx.send(Control::Reload(config("  lvs_sync_daemon eth1 id 6")))
        .await
        .unwrap();
    assert!(
        eventually(|| {
            let m = mock.lock().unwrap();
            m.sync_master.as_ref().is_some_and(|d| d.sync_id == 6)
                && m.sync_backup.as_ref().is_some_and(|d| d.sync_id == 6)
        })
        .await
    );
    stop(tx, engine).await;
    let m = mock.lock().unwrap();
    assert!(m.sync_master.is_none() && m.sync_backup.is_none());
}

#[tokio::test]
async fn lvs_sync_daemon_with_an_instance_is_left_to_the_vrrp_process() {
    let mock: Mock = Arc::default();
    let text = "global_defs {\n  lvs_sync_daemon eth1 inst VI_1\n}\n\
        vrrp_instance VI_1 {\n  interface eth1\n  virtual_router_id 51\n  priority 100\n  \
        virtual_ipaddress {\n    192.0.2.50/24\n  }\n}\n\
        virtual_server 192.0.2.1 80 {\n  protocol TCP\n  real_server 198.51.100.1 80 {\n  }\n}\n";
    let cfg = rkeepalived_config::parse_str(text, "syncd.conf", &LoadOptions::default())
        .expect("config")
        .config;
    let (tx, engine) = start(&cfg, &mock, true);
    assert!(eventually(|| has(&mock, &ours())).await);
    stop(tx, engine).await;
    assert!(mock.lock().unwrap().syncd_log.is_empty());
}
