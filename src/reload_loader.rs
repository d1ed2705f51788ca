//! Loading a configuration for a reload off the supervisor's event loop.
//!
//! A reload parses files the operator controls; however long that takes
//! (a huge config, a slow filesystem), the supervisor must keep answering
//! SIGTERM, respawning children, probing them and serving status. The load
//! runs on its own detached thread and its result arrives as a message
//! ([`next_result`] in the event loop's `select!`). A detached thread, not
//! `spawn_blocking`: the runtime waits for blocking tasks when it shuts
//! down, so a stuck load would hold up the stop.

use std::path::PathBuf;

use tokio::sync::oneshot;

use crate::config_source::{self, ConfigLoadError, LoadedConfig};

pub type LoadResult = Result<LoadedConfig, ConfigLoadError>;

/// A load in progress.
pub struct PendingLoad {
    rx: oneshot::Receiver<LoadResult>,
    started: std::time::Instant,
}

/// Test hook: every reload's load first sleeps this many milliseconds, so
/// tests can act while a reload is in progress (tests/daemon_config_bounds.rs).
pub const TEST_DELAY_ENV: &str = "RKEEPALIVED_TEST_RELOAD_DELAY_MS";

/// Start loading `path` on a new thread.
pub fn start(
    path: PathBuf,
    config_id: Option<String>,
    procs: rkeepalived_config::Processes,
    reparse: Option<std::sync::Arc<rkeepalived_config::ReparseCache>>,
) -> PendingLoad {
    let started = std::time::Instant::now();
    let (tx, rx) = oneshot::channel();
    let delay = std::env::var(TEST_DELAY_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(std::time::Duration::from_millis);
    let spawned = std::thread::Builder::new()
        .name("config-load".into())
        .spawn(move || {
            if let Some(delay) = delay {
                std::thread::sleep(delay);
            }
            // The running configuration's re-parse cache: the unchanged
            // virtual_server blocks are not parsed again.
            let loaded = config_source::load_config_reusing(
                &path,
                config_id.as_deref(),
                procs,
                reparse.as_deref(),
            );
            drop(reparse);
            // The supervisor may have stopped meanwhile; nobody to tell.
            let _ = tx.send(loaded);
        });
    if let Err(e) = spawned {
        // The closure (and its sender) is gone: report through a fresh channel.
        let (tx, rx) = oneshot::channel();
        let _ = tx.send(Err(ConfigLoadError {
            diagnostics: vec![format!("cannot start the config loader: {e}")],
        }));
        return PendingLoad { rx, started };
    }
    PendingLoad { rx, started }
}

/// The result of the load in `pending` (clearing it) and how long it took
/// (read, parse, validate); never resolves when there is none, so it can
/// sit in a `select!` arm.
pub async fn next_result(pending: &mut Option<PendingLoad>) -> (LoadResult, std::time::Duration) {
    let Some(load) = pending.as_mut() else {
        return std::future::pending().await;
    };
    let result = (&mut load.rx).await.unwrap_or_else(|_| {
        Err(ConfigLoadError {
            diagnostics: vec!["config loader crashed".to_string()],
        })
    });
    let took = load.started.elapsed();
    *pending = None;
    (result, took)
}
