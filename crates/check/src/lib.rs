//! rkeepalived health-checker engine: keepalived-compatible TCP_CHECK,
//! HTTP_GET, SSL_GET, SMTP_CHECK, DNS_CHECK, MISC_CHECK, PING_CHECK and
//! UDP_CHECK driving IPVS through the ipvs crate's reconciler.
//!
//! Layers (sans-IO core, IO at the edge):
//! * [`wire`]: protocol codecs (HTTP response, DNS, ICMP echo, SMTP replies).
//! * [`fsm`]: per-checker retry/up/down state machine (keepalived's epilog).
//! * [`health`]: real server / quorum / sorry server logic and the desired
//!   IPVS table.
//! * [`checkers`]: one attempt of each checker kind over real sockets.
//! * [`engine`]: scheduling, reload diffing, IPVS sync, scripts, dumps, metrics.
//!
//! Entry points: [`run`] (production: the kernel IPVS), [`with_backend`]
//! (inject an [`rkeepalived_ipvs::IpvsBackend`], e.g. `MockIpvs`), and
//! [`engine::run_plan`] (a [`spec::CheckPlan`] plus [`engine::EngineOptions`]).

use std::sync::Arc;

use rkeepalived_config::Config;
use rkeepalived_control::Control;
use rkeepalived_ipvs::IpvsBackend;
use tokio::sync::mpsc;

pub mod addrwatch;
pub mod announce;
pub mod announce_nl;
pub mod backend;
pub mod bfd_check;
pub mod check_print;
pub mod checkers;
pub mod conn;
mod deadlines;
pub mod drain;
mod driver;
pub mod engine;
pub mod error;
pub mod events;
pub mod failure_log;
pub mod fsm;
pub mod genhash;
pub mod health;
pub mod health_delta;
pub mod logfmt;
pub mod mail;
pub mod metrics;
pub mod plan;
pub mod plan_apart;
pub mod plan_delta;
mod probe_pool;
pub mod reload_ipvs;
pub mod routing_daemon;
pub mod spec;
#[allow(unsafe_code)] // the only unsafe: socket options (SAFETY notes inside)
mod sys;
pub mod tls;
pub mod tls_key;
pub mod wire;

pub use backend::{EngineBackend, KernelIpvs, SharedBackend};
pub use engine::{run_plan, CheckerFactory, EngineOptions};
pub use error::{CheckError, CheckFailure, PlanError};
pub use plan::from_config;
pub use probe_pool::set_probe_threads;
pub use spec::CheckPlan;

/// Run the checker for `cfg`, programming the kernel's IPVS, until
/// `Control::Stop`. A kernel without IPVS is not fatal: checks keep
/// running and the IPVS sync is retried.
pub async fn run(cfg: Arc<Config>, ctl: mpsc::Receiver<Control>) -> Result<(), CheckError> {
    run_with(cfg, ctl, RunOptions::default()).await
}

/// Daemon options of the checker process (command-line flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// `false` with `-I` / `--dont-release-ipvs`.
    pub release_ipvs_on_stop: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            release_ipvs_on_stop: true,
        }
    }
}

/// [`run`] with daemon options.
pub async fn run_with(
    cfg: Arc<Config>,
    ctl: mpsc::Receiver<Control>,
    opts: RunOptions,
) -> Result<(), CheckError> {
    // Built apart from the model's heap pages (plan_apart), which are
    // then freed whole: the plan has everything the checker needs, and the
    // model (10,000 real servers are megabytes) is not kept.
    let plan = plan_apart::from_config_apart(&cfg)?;
    drop(cfg);
    let mut engine = EngineOptions::new(EngineBackend::Kernel(KernelIpvs::new()));
    engine.release_ipvs_on_stop = opts.release_ipvs_on_stop;
    run_plan(plan, ctl, engine).await
}

/// Same as [`run`] with an injected IPVS backend (tests: `MockIpvs`,
/// possibly wrapped in [`SharedBackend`] to inspect it while running).
pub async fn with_backend<B: IpvsBackend + Send + 'static>(
    cfg: Arc<Config>,
    ctl: mpsc::Receiver<Control>,
    backend: B,
) -> Result<(), CheckError> {
    let plan = from_config(&cfg)?;
    drop(cfg);
    run_plan(
        plan,
        ctl,
        EngineOptions::new(EngineBackend::Custom(Box::new(backend))),
    )
    .await
}
