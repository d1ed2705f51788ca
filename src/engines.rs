//! Binds a role to its engine crate's `run(cfg, ctl)` entry point.

use std::sync::Arc;

use rkeepalived_config::Config;
use rkeepalived_control::Control;
use tokio::sync::mpsc;

use crate::cli::Role;

/// `-I` / `--dont-release-ipvs` of this process (set once by the role child
/// before its engine starts).
static DONT_RELEASE_IPVS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// `-D` / `--log-detail` of this process (set once by the role child).
static LOG_DETAIL: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn set_log_detail(on: bool) {
    LOG_DETAIL.store(on, std::sync::atomic::Ordering::Relaxed);
}

pub fn log_detail() -> bool {
    LOG_DETAIL.load(std::sync::atomic::Ordering::Relaxed)
}

pub fn set_dont_release_ipvs(on: bool) {
    DONT_RELEASE_IPVS.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// keepalived's command-line options of the VRRP child (`-V`, `-X`, and
/// what keepalived.data shows: `-s`, `-u`), set once before its engine starts.
static VRRP_OPTIONS: std::sync::Mutex<Option<rkeepalived_vrrp::RunOptions>> =
    std::sync::Mutex::new(None);

pub fn set_vrrp_options(cli: &crate::cli::Cli) {
    let opts = rkeepalived_vrrp::RunOptions {
        dont_release_vrrp: cli.dont_release_vrrp,
        release_vips: cli.release_vips,
        log_address_changes: cli.address_monitoring,
        dump: rkeepalived_dump::global::Context {
            prog: rkeepalived_dump::global::Prog::Vrrp,
            namespace: cli.namespace.clone(),
            umask: cli.umask.unwrap_or(crate::cli::KEEPALIVED_UMASK),
        },
    };
    if let Ok(mut o) = VRRP_OPTIONS.lock() {
        *o = Some(opts);
    }
}

/// `-P` / `-C` / `--all` of the supervisor (the VRRP child gets them):
/// which children run, for [`vrrp_config`].
static ROLE_FLAGS: std::sync::Mutex<(bool, bool, bool)> =
    std::sync::Mutex::new((false, false, false));

pub fn set_role_flags(cli: &crate::cli::Cli) {
    if let Ok(mut f) = ROLE_FLAGS.lock() {
        *f = (cli.vrrp_only, cli.check_only, cli.all);
    }
}

/// The configuration as the `role` engine sees it. keepalived's VRRP
/// process drops the global `notify_fifo_script` when a checker process
/// runs (vrrp.c `vrrp_complete_init()`: "Only one process must run the
/// script to process the global fifo, so let the checker process do so"),
/// so one reader gets both processes' lines.
pub fn engine_config(role: Role, cfg: Config) -> Config {
    let (vrrp_only, check_only, all) = ROLE_FLAGS.lock().map(|f| *f).unwrap_or_default();
    let checker_runs = (!vrrp_only || check_only)
        && (all || crate::config_source::role_has_work(&cfg, Role::Checker));
    let mut cfg = cfg;
    if role == Role::Vrrp && checker_runs {
        if let Some(f) = cfg.global_defs.notify_fifo.as_mut() {
            f.script = None;
        }
    }
    cfg
}

/// Why an engine stopped on its own: each engine crate's typed error, or
/// the engine task dying (a panic), kept typed up to the role runner.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Vrrp(#[from] rkeepalived_vrrp::VrrpError),
    #[error(transparent)]
    Check(#[from] rkeepalived_check::CheckError),
    #[error(transparent)]
    Bfd(#[from] rkeepalived_bfd::EngineError),
    #[error("engine task died: {0}")]
    Died(#[from] tokio::task::JoinError),
}

/// Runs the engine for `role` until it returns (after `Control::Stop`, or
/// on a fatal error). `to_supervisor`: the BFD engine's session states.
pub async fn run_engine(
    role: Role,
    cfg: Arc<Config>,
    ctl: mpsc::Receiver<Control>,
    to_supervisor: mpsc::Sender<crate::ipc::FromChild>,
) -> Result<(), EngineError> {
    match role {
        Role::Bfd => crate::bfd_child::run(cfg, ctl, to_supervisor).await,
        Role::Vrrp => {
            let opts = VRRP_OPTIONS
                .lock()
                .ok()
                .and_then(|o| o.clone())
                .unwrap_or_default();
            Ok(rkeepalived_vrrp::run_with(cfg, ctl, opts).await?)
        }
        Role::Checker => Ok(rkeepalived_check::run_with(
            cfg,
            ctl,
            rkeepalived_check::RunOptions {
                release_ipvs_on_stop: !DONT_RELEASE_IPVS.load(std::sync::atomic::Ordering::Relaxed),
            },
        )
        .await?),
    }
}
