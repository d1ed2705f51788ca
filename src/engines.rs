//! Binds a role to its engine crate's `run(cfg, ctl)` entry point.

use std::sync::Arc;

use rkeepalived_config::Config;
use rkeepalived_control::Control;
use tokio::sync::mpsc;

use crate::cli::Role;

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
        Role::Checker => rkeepalived_check::run(cfg, ctl)
            .await
            .map_err(|e| e.to_string()),
    }
}
