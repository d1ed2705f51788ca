//! Binds a role to its engine crate's `run(cfg, ctl)` entry point.

use std::sync::Arc;

use rkeepalived_config::{Config, Control};
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
        Role::Vrrp => unavailable_engine(role, cfg, ctl).await,
        Role::Checker => unavailable_engine(role, cfg, ctl).await,
    }
}

/// Stand-in while an engine crate does not yet export `run`: answers every
/// control request so the supervisor, dumps and status stay functional, and
/// says loudly that nothing is being done.
async fn unavailable_engine(
    role: Role,
    _cfg: Arc<Config>,
    mut ctl: mpsc::Receiver<Control>,
) -> Result<(), String> {
    tracing::error!(%role, "the {role} engine is not available in this build; running without it");
    let note = format!("{role} engine not available in this build\n");
    while let Some(msg) = ctl.recv().await {
        match msg {
            Control::Reload(_) => tracing::info!(%role, "reload received (no engine)"),
            Control::Stop => return Ok(()),
            Control::DumpData(tx) | Control::DumpStats(tx) => {
                let _ = tx.send(note.clone());
            }
            Control::DumpJson(tx) => {
                let _ =
                    tx.send(serde_json::json!({ "role": role.as_str(), "engine": "unavailable" }));
            }
            Control::Metrics(tx) => {
                let _ = tx.send(String::new());
            }
        }
    }
    Ok(())
}
