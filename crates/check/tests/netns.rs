//! Root tests in private network namespaces (prefix `rkc-`): ha_suspend
//! following address changes, and the kernel backend on a host without
//! IPVS (the engine keeps checking, reports the error, stops cleanly).

use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rkeepalived_check::spec::*;
use rkeepalived_check::{run_plan, EngineBackend, EngineOptions, KernelIpvs, SharedBackend};
use rkeepalived_control::Control;
use rkeepalived_ipvs::{Dest, Forwarding, MockIpvs, Scheduler, Service, ServiceKey};
use rkeepalived_script::{RunAs, ScriptSecurity};
use rkeepalived_testkit::{Need, Netns};
use tokio::sync::{mpsc, oneshot};

/// A network namespace (`rkc-<tag>-<pid>`) deleted on drop, also when the
/// test fails.
fn netns(tag: &str) -> Netns {
    Netns::with_prefix("rkc", tag)
}

/// Root and iproute2, or skip (fail in CI). `_test` is kept for callers:
/// the test name is taken from the test thread.
fn prerequisites(_test: &str) -> bool {
    rkeepalived_testkit::prerequisites(&[Need::Root, Need::Tool("ip")])
}

async fn ask<T>(tx: &mpsc::Sender<Control>, make: impl FnOnce(oneshot::Sender<T>) -> Control) -> T {
    let (otx, orx) = oneshot::channel();
    tx.send(make(otx)).await.unwrap();
    orx.await.unwrap()
}

fn metric(text: &str, prefix: &str) -> Option<u64> {
    text.lines()
        .find(|l| l.starts_with(prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn tcp_plan(vip: &str, target: SocketAddr, ha_suspend: bool) -> CheckPlan {
    let kind = CheckKind::Tcp;
    let mut timing = CheckTiming::defaults_for(&kind, Duration::from_millis(100));
    timing.warmup = Duration::ZERO;
    timing.retry = 0;
    let checker = CheckerSpec {
        kind,
        conn: ConnOpts::to(target),
        timing: Arc::new(timing),
    };
    let mut vs = VirtualServerSpec::new(Service::new(
        ServiceKey::tcp(vip.parse().unwrap(), 80),
        Scheduler::Rr,
    ));
    vs.ha_suspend = ha_suspend;
    vs.real_servers.make_mut().push(RealServerSpec {
        dest: Dest::new("198.51.100.1".parse().unwrap(), 80, Forwarding::Masq, 1),
        inhibit_on_failure: false,
        notify_up: None,
        notify_down: None,
        checkers: vec![std::sync::Arc::new(checker)],
        alpha: false,
    });
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

#[test]
fn ha_suspend_follows_the_virtual_address() {
    if !prerequisites("ha_suspend_follows_the_virtual_address") {
        return;
    }
    let ns = netns("hasusp");
    let ns_name = ns.name().to_string();
    ns.run(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let target = listener.local_addr().unwrap();
            tokio::spawn(async move { while listener.accept().await.is_ok() {} });
            let (tx, rx) = mpsc::channel(8);
            let mock = Arc::new(Mutex::new(MockIpvs::new()));
            let opts = EngineOptions::new(EngineBackend::Custom(Box::new(SharedBackend(mock))));
            let engine = tokio::spawn(run_plan(tcp_plan("192.0.2.1", target, true), rx, opts));
            let runs = |m: &str| metric(m, "rkeepalived_check_runs_total{").unwrap_or(0);
            let suspended = |m: &str| metric(m, "rkeepalived_check_suspended{");
            tokio::time::sleep(Duration::from_millis(400)).await;
            let m = ask(&tx, Control::Metrics).await;
            assert_eq!(suspended(&m), Some(1), "{m}");
            assert_eq!(runs(&m), 0, "no checks while the VIP is absent\n{m}");
            // The VRRP side adds the VIP: checks resume (bounded polling).
            let add = Command::new("ip")
                .args(["-n", &ns_name, "addr", "add", "192.0.2.1/32", "dev", "lo"])
                .status()
                .unwrap();
            assert!(add.success());
            let mut resumed = false;
            for _ in 0..100 {
                let m = ask(&tx, Control::Metrics).await;
                if suspended(&m) == Some(0) && runs(&m) > 0 {
                    resumed = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert!(resumed, "checks did not resume after the VIP appeared");
            let del = Command::new("ip")
                .args(["-n", &ns_name, "addr", "del", "192.0.2.1/32", "dev", "lo"])
                .status()
                .unwrap();
            assert!(del.success());
            let mut suspended_again = false;
            for _ in 0..100 {
                if suspended(&ask(&tx, Control::Metrics).await) == Some(1) {
                    suspended_again = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert!(suspended_again, "checks did not suspend after the VIP left");
            tx.send(Control::Stop).await.unwrap();
            engine.await.unwrap().unwrap();
        });
    });
}

#[test]
fn kernel_without_ipvs_is_not_fatal() {
    if !prerequisites("kernel_without_ipvs_is_not_fatal") {
        return;
    }
    let ns = netns("noipvs");
    ns.run(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let target = listener.local_addr().unwrap();
            tokio::spawn(async move { while listener.accept().await.is_ok() {} });
            let (tx, rx) = mpsc::channel(8);
            let mut opts = EngineOptions::new(EngineBackend::Kernel(KernelIpvs::new()));
            opts.ipvs_retry_interval = Duration::from_millis(100);
            let engine = tokio::spawn(run_plan(tcp_plan("192.0.2.1", target, false), rx, opts));
            tokio::time::sleep(Duration::from_millis(600)).await;
            let json = ask(&tx, Control::DumpJson).await;
            let m = ask(&tx, Control::Metrics).await;
            let ipvs_present = std::path::Path::new("/proc/net/ip_vs").exists();
            if ipvs_present {
                eprintln!("this kernel has IPVS; only checking that the engine runs");
            } else {
                assert!(json["ipvs_error"].is_string(), "{json}");
                assert!(
                    metric(&m, "rkeepalived_check_ipvs_sync_failures_total").unwrap_or(0) >= 2,
                    "retried\n{m}"
                );
            }
            // Checks keep running regardless.
            assert!(
                metric(&m, "rkeepalived_check_runs_total{").unwrap_or(0) >= 2,
                "{m}"
            );
            assert_eq!(json["virtual_servers"][0]["real_servers"][0]["alive"], true);
            tx.send(Control::Stop).await.unwrap();
            engine.await.unwrap().unwrap();
        });
    });
}
