//! A reload costs O(change): with 200 virtual servers (1,000 TCP-checked
//! real servers) in the table, a reload that changes one real server's
//! weight sends exactly one IPVS op (an in-place `EditDest`), starts no
//! checker, and the op counter says so; changing 10 % of the services
//! sends one op per change. keepalived edits surviving virtual and real
//! servers in place on reload too (ipwrapper.c `clear_diff_services()`,
//! `vs_exist()` / `rs_exist()`), but it walks every service to do it.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rkeepalived_check::checkers::{BoxFuture, CheckOutcome, Checker};
use rkeepalived_check::spec::CheckerSpec;
use rkeepalived_check::{from_config, run_plan, EngineBackend, EngineOptions, SharedBackend};
use rkeepalived_config::{Config, LoadOptions};
use rkeepalived_control::Control;
use rkeepalived_ipvs::{MockIpvs, Op};
use tokio::sync::{mpsc, oneshot};

const SERVICES: usize = 200;
const DESTS: usize = 5;

/// Always up; the test counts how many the engine builds.
struct Up;

impl Checker for Up {
    fn kind(&self) -> &'static str {
        "FAKE"
    }
    fn check(&self) -> BoxFuture<'_, CheckOutcome> {
        Box::pin(async { CheckOutcome::Up })
    }
}

/// `SERVICES` virtual servers on 192.0.2.1:10000+, `DESTS` real servers
/// each (on port 20000+ the service's number: one checker each); `weight(service, dest)` gives each real server's weight.
fn config(weight: impl Fn(usize, usize) -> u32) -> Arc<Config> {
    let mut text = String::from("global_defs {\n  router_id reload-ops\n}\n");
    for s in 0..SERVICES {
        text.push_str(&format!(
            "virtual_server 192.0.2.1 {} {{\n  delay_loop 3600\n  lb_algo wrr\n  lb_kind NAT\n  protocol TCP\n",
            10000 + s
        ));
        for d in 1..=DESTS {
            text.push_str(&format!(
                "  real_server 198.51.100.{d} {} {{\n    weight {}\n    TCP_CHECK {{\n      connect_timeout 3\n    }}\n  }}\n",
                20000 + s,
                weight(s, d)
            ));
        }
        text.push_str("}\n");
    }
    let loaded = rkeepalived_config::parse_str(&text, "reload-ops.conf", &LoadOptions::default())
        .expect("generated config parses");
    Arc::new(loaded.config)
}

async fn ask<T>(tx: &mpsc::Sender<Control>, make: impl FnOnce(oneshot::Sender<T>) -> Control) -> T {
    let (otx, orx) = oneshot::channel();
    tx.send(make(otx)).await.expect("engine running");
    orx.await.expect("engine answers")
}

fn dest_count(mock: &Mutex<MockIpvs>) -> usize {
    let m = mock.lock().expect("mock");
    m.state.services.values().map(|e| e.dests.len()).sum()
}

/// The ops the engine sent since `from`, and the new end of the log.
fn ops_since(mock: &Mutex<MockIpvs>, from: usize) -> (Vec<Op>, usize) {
    let m = mock.lock().expect("mock");
    (m.log[from..].to_vec(), m.log.len())
}

#[tokio::test]
async fn a_one_real_server_reload_is_one_ipvs_op_and_restarts_no_checker() {
    let built = Arc::new(AtomicU32::new(0));
    let mock: Arc<Mutex<MockIpvs>> = Arc::new(Mutex::new(MockIpvs::new()));
    let mut opts = EngineOptions::new(EngineBackend::Custom(Box::new(SharedBackend(Arc::clone(
        &mock,
    )))));
    let counter = Arc::clone(&built);
    opts.checker_factory = Arc::new(move |_spec: &Arc<CheckerSpec>, _| {
        counter.fetch_add(1, Ordering::SeqCst);
        Arc::new(Up) as Arc<dyn Checker>
    });
    let (tx, rx) = mpsc::channel(8);
    let first = config(|_, _| 1);
    let plan = from_config(&first).expect("plan");
    let engine = tokio::spawn(run_plan(plan, rx, opts));

    // The whole table is programmed at start (real servers start up).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while dest_count(&mock) < SERVICES * DESTS {
        assert!(
            tokio::time::Instant::now() < deadline,
            "only {} dests programmed",
            dest_count(&mock)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(built.load(Ordering::SeqCst) as usize, SERVICES * DESTS);
    let (_, mut mark) = ops_since(&mock, 0);

    // One real server's weight changes.
    let one = config(|s, d| if (s, d) == (123, 4) { 7 } else { 1 });
    tx.send(Control::Reload(one)).await.expect("reload");
    let stats = ask(&tx, Control::DumpStats).await;
    let (ops, end) = ops_since(&mock, mark);
    mark = end;
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert!(
        matches!(&ops[0], Op::EditDest(svc, d)
            if svc.port() == 10123 && d.addr.to_string() == "198.51.100.4" && d.weight == 7),
        "{ops:?}"
    );
    assert!(stats.contains("(last reload 1)"), "{stats}");
    assert_eq!(
        built.load(Ordering::SeqCst) as usize,
        SERVICES * DESTS,
        "a reload must not restart unchanged checkers"
    );
    let metrics = ask(&tx, Control::Metrics).await;
    assert!(
        metrics.contains("rkeepalived_check_ipvs_ops_last_reload 1\n"),
        "{metrics}"
    );

    // 10 % of the services get one changed real server each: one op each.
    let tenth = config(|s, d| if s % 10 == 0 && d == 2 { 3 } else { 1 });
    tx.send(Control::Reload(tenth)).await.expect("reload");
    let stats = ask(&tx, Control::DumpStats).await;
    let (ops, _) = ops_since(&mock, mark);
    // 20 weight changes, and service 123's real server back to weight 1.
    assert_eq!(ops.len(), SERVICES / 10 + 1, "{ops:?}");
    assert!(
        ops.iter().all(|op| matches!(op, Op::EditDest(..))),
        "{ops:?}"
    );
    assert!(
        stats.contains(&format!("(last reload {})", SERVICES / 10 + 1)),
        "{stats}"
    );
    assert_eq!(built.load(Ordering::SeqCst) as usize, SERVICES * DESTS);

    tx.send(Control::Stop).await.expect("stop");
    engine.await.expect("join").expect("engine ran");
}
