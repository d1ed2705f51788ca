//! An engine on the in-memory IPVS with always-up checkers, for the reload
//! tests (reload_ops.rs, reload_delta.rs): it counts the checkers it
//! builds (a reload must not restart unchanged ones) and logs every op.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rkeepalived_check::checkers::{BoxFuture, CheckOutcome, Checker};
use rkeepalived_check::spec::CheckerSpec;
use rkeepalived_check::{from_config, run_plan, EngineBackend, EngineOptions, SharedBackend};
use rkeepalived_config::Config;
use rkeepalived_control::Control;
use rkeepalived_ipvs::{MockIpvs, Op};
use tokio::sync::{mpsc, oneshot};

/// Always up; the engine counts how many it builds.
struct Up;

/// Always down (a dead real server).
struct Down;

impl Checker for Down {
    fn kind(&self) -> &'static str {
        "FAKE"
    }
    fn check(&self) -> BoxFuture<'_, CheckOutcome> {
        Box::pin(async {
            CheckOutcome::Down(rkeepalived_check::error::CheckFailure::Timeout("connect"))
        })
    }
}

impl Checker for Up {
    fn kind(&self) -> &'static str {
        "FAKE"
    }
    fn check(&self) -> BoxFuture<'_, CheckOutcome> {
        Box::pin(async { CheckOutcome::Up })
    }
}

pub struct TestEngine {
    pub tx: mpsc::Sender<Control>,
    pub mock: Arc<Mutex<MockIpvs>>,
    built: Arc<AtomicU32>,
    engine: tokio::task::JoinHandle<Result<(), rkeepalived_check::error::CheckError>>,
}

impl TestEngine {
    /// Runs `config` and waits until its `dests` real servers are all in
    /// the table (they start up).
    pub async fn start(config: &Config, dests: usize) -> TestEngine {
        Self::start_with_down(config, dests, None).await
    }

    /// [`Self::start`], with the checkers of real server `down` failing
    /// (it leaves the table once its checker settles).
    pub async fn start_with_down(
        config: &Config,
        dests: usize,
        down: Option<std::net::SocketAddr>,
    ) -> TestEngine {
        let built = Arc::new(AtomicU32::new(0));
        let mock: Arc<Mutex<MockIpvs>> = Arc::new(Mutex::new(MockIpvs::new()));
        let mut opts = EngineOptions::new(EngineBackend::Custom(Box::new(SharedBackend(
            Arc::clone(&mock),
        ))));
        let counter = Arc::clone(&built);
        opts.checker_factory = Arc::new(move |spec: &Arc<CheckerSpec>, _| {
            counter.fetch_add(1, Ordering::SeqCst);
            if Some(spec.conn.dst) == down {
                return Arc::new(Down) as Arc<dyn Checker>;
            }
            Arc::new(Up) as Arc<dyn Checker>
        });
        let (tx, rx) = mpsc::channel(8);
        let plan = from_config(config).expect("plan");
        let engine = tokio::spawn(run_plan(plan, rx, opts));
        let t = TestEngine {
            tx,
            mock,
            built,
            engine,
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while t.dest_count() < dests {
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} of {dests} dests programmed",
                t.dest_count()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        t
    }

    /// Sends a request made with a reply channel and waits for the answer.
    pub async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Control) -> T {
        let (otx, orx) = oneshot::channel();
        self.tx.send(make(otx)).await.expect("engine running");
        orx.await.expect("engine answers")
    }

    pub fn dest_count(&self) -> usize {
        let m = self.mock.lock().expect("mock");
        m.state.services.values().map(|e| e.dests.len()).sum()
    }

    /// The ops the engine sent since `from`, and the new end of the log.
    pub fn ops_since(&self, from: usize) -> (Vec<Op>, usize) {
        let m = self.mock.lock().expect("mock");
        (m.log[from..].to_vec(), m.log.len())
    }

    /// How many checkers the engine has built so far.
    pub fn built(&self) -> usize {
        self.built.load(Ordering::SeqCst) as usize
    }

    pub async fn stop(self) {
        self.tx.send(Control::Stop).await.expect("stop");
        self.engine.await.expect("join").expect("engine ran");
    }
}

/// `ops` is exactly the in-place weight edit (7) of real server
/// 198.51.100.4 of the virtual server on port 10123.
pub fn assert_one_weight_edit(ops: &[Op]) {
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert!(
        matches!(&ops[0], Op::EditDest(svc, d)
            if svc.port() == 10123 && d.addr.to_string() == "198.51.100.4" && d.weight == 7),
        "{ops:?}"
    );
}
