//! State the supervisor loop shares with the status socket, the metrics
//! endpoint and dump tasks: the running children and the reload record.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use crate::cli::Role;
use crate::ipc::{Query, Reply};
use crate::metrics::ParentMetrics;
use crate::metrics_http::Exposition;

use super::link::ChildLink;

/// What status/metrics/dump tasks may see of a child.
#[derive(Clone)]
pub(super) struct ChildView {
    pub(super) pid: u32,
    pub(super) link: ChildLink,
    pub(super) started: Instant,
    pub(super) ready: bool,
}

#[derive(Default, Clone, serde::Serialize)]
pub(super) struct ReloadRecord {
    pub(super) ok: u64,
    pub(super) failed: u64,
    pub(super) last_unix: Option<u64>,
    pub(super) last_ok: Option<bool>,
    pub(super) last_errors: Vec<String>,
}

/// State shared between the supervisor loop and the status/metrics servers.
pub struct Shared {
    pub(super) metrics: ParentMetrics,
    pub(super) children: Mutex<BTreeMap<Role, ChildView>>,
    pub(super) restarts: Mutex<BTreeMap<Role, u64>>,
    pub(super) roles: Mutex<Vec<Role>>,
    pub(super) reloads: Mutex<ReloadRecord>,
    pub(super) started: Instant,
    pub(super) started_unix: u64,
    pub(super) config_file: PathBuf,
}

impl Shared {
    pub(super) fn child(&self, role: Role) -> Option<ChildView> {
        self.children.lock().ok()?.get(&role).cloned()
    }

    pub(super) fn running(&self) -> Vec<(Role, ChildView)> {
        match self.children.lock() {
            Ok(c) => c.iter().map(|(r, v)| (*r, v.clone())).collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Asks every running child at once (a slow one does not delay the others).
    pub(super) async fn ask_all(&self, query: Query) -> Vec<(Role, Reply)> {
        let pending: Vec<_> = self
            .running()
            .into_iter()
            .map(|(role, view)| {
                (
                    role,
                    tokio::spawn(async move { view.link.ask(query).await }),
                )
            })
            .collect();
        let mut out = Vec::with_capacity(pending.len());
        for (role, task) in pending {
            let reply = task
                .await
                .unwrap_or_else(|e| Reply::Unavailable(format!("query task failed: {e}")));
            out.push((role, reply));
        }
        out
    }
}

impl Exposition for Shared {
    async fn metrics_text(&self) -> String {
        let own = self.metrics.encode();
        let children = self.ask_all(Query::Metrics).await;
        let texts: Vec<String> = children
            .into_iter()
            .filter_map(|(role, r)| match r {
                Reply::Text(t) => Some(t),
                Reply::Json(_) => None,
                Reply::Unavailable(why) => {
                    tracing::debug!(%role, "no metrics from {role} child: {why}");
                    None
                }
            })
            .collect();
        rkeepalived_metrics::join(
            std::iter::once(own.as_str()).chain(texts.iter().map(String::as_str)),
        )
    }

    async fn status_json(&self) -> serde_json::Value {
        let mut children = serde_json::Map::new();
        let roles = self.roles.lock().map(|r| r.clone()).unwrap_or_default();
        let restarts = self.restarts.lock().map(|r| r.clone()).unwrap_or_default();
        let mut engines: BTreeMap<Role, Reply> =
            self.ask_all(Query::Json).await.into_iter().collect();
        for role in Role::ALL {
            let configured = roles.contains(&role);
            let view = self.child(role);
            let engine = match engines.remove(&role) {
                Some(reply) => match reply {
                    Reply::Json(j) => j,
                    Reply::Text(t) => serde_json::Value::String(t),
                    Reply::Unavailable(why) => serde_json::json!({ "unavailable": why }),
                },
                None => serde_json::Value::Null,
            };
            let state = match (&view, configured) {
                (Some(v), _) if v.ready => "running",
                (Some(_), _) => "starting",
                (None, true) => "respawning",
                (None, false) => "disabled",
            };
            children.insert(
                role.as_str().into(),
                serde_json::json!({
                    "state": state,
                    "pid": view.as_ref().map(|v| v.pid),
                    "uptime_seconds": view.as_ref().map(|v| v.started.elapsed().as_secs()),
                    "restarts": restarts.get(&role).copied().unwrap_or(0),
                    "engine": engine,
                }),
            );
        }
        let reloads = self.reloads.lock().map(|r| r.clone()).unwrap_or_default();
        serde_json::json!({
            "daemon": "rkeepalived",
            "version": env!("CARGO_PKG_VERSION"),
            "pid": std::process::id(),
            "config_file": self.config_file,
            "started_unix": self.started_unix,
            "uptime_seconds": self.started.elapsed().as_secs(),
            "reloads": reloads,
            "children": children,
        })
    }
}
