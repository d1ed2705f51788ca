//! Binds a role to its engine crate's `run(cfg, ctl)` entry point.

use std::sync::Arc;

use rkeepalived_config::{Config, Control};
use tokio::sync::mpsc;

use crate::cli::Role;

/// `-I` / `--dont-release-ipvs` of this process (set once by the role child
/// before its engine starts).
static DONT_RELEASE_IPVS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn set_dont_release_ipvs(on: bool) {
    DONT_RELEASE_IPVS.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Runs the engine for `role` until it returns (after `Control::Stop`, or
/// on a fatal error, rendered as text for the supervisor's log).
pub async fn run_engine(
    role: Role,
    cfg: Arc<Config>,
    ctl: mpsc::Receiver<Control>,
) -> Result<(), String> {
    match role {
        Role::Vrrp => rkeepalived_vrrp::run(cfg, ctl)
            .await
            .map_err(|e| e.to_string()),
        Role::Checker => rkeepalived_check::run_with(
            cfg,
            ctl,
            rkeepalived_check::RunOptions {
                release_ipvs_on_stop: !DONT_RELEASE_IPVS.load(std::sync::atomic::Ordering::Relaxed),
            },
        )
        .await
        .map_err(|e| e.to_string()),
    }
}
