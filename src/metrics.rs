//! The supervisor's own Prometheus metrics, written with the same
//! exposition writer as the engines' (`rkeepalived-metrics`). The HTTP
//! endpoint that serves them is [`crate::metrics_http`].

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use rkeepalived_metrics::{Kind, Labels, Writer};

use crate::cli::Role;

/// The trait the endpoint serves from (kept here for existing users).
pub use crate::metrics_http::Exposition;

/// Per-role counters, indexed like [`Role::ALL`].
#[derive(Debug, Default)]
struct PerRole<T>([T; Role::ALL.len()]);

impl<T> PerRole<T> {
    fn get(&self, role: Role) -> &T {
        let i = Role::ALL.iter().position(|r| *r == role).unwrap_or(0);
        &self.0[i]
    }
}

/// Counters of the metrics/status HTTP endpoint itself.
#[derive(Debug, Default)]
pub struct HttpStats {
    /// Connections being served now (bounded by the connection cap).
    pub open: AtomicI64,
    /// Answered requests by status code class.
    pub ok: AtomicU64,
    pub client_errors: AtomicU64,
    pub unauthorized: AtomicU64,
    /// Connections closed because the client was too slow (request head,
    /// TLS handshake or reading the response).
    pub timeouts: AtomicU64,
}

#[derive(Debug, Default)]
pub struct ParentMetrics {
    child_restarts: PerRole<AtomicU64>,
    child_up: PerRole<AtomicI64>,
    child_hangs: PerRole<AtomicU64>,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    config_errors: AtomicU64,
    ipc_errors: AtomicU64,
    pub http: std::sync::Arc<HttpStats>,
}

impl ParentMetrics {
    pub fn new() -> ParentMetrics {
        ParentMetrics::default()
    }

    pub fn child_restarted(&self, role: Role) {
        self.child_restarts.get(role).fetch_add(1, Relaxed);
    }

    pub fn set_child_up(&self, role: Role, up: bool) {
        self.child_up.get(role).store(i64::from(up), Relaxed);
    }

    pub fn child_hung(&self, role: Role) {
        self.child_hangs.get(role).fetch_add(1, Relaxed);
    }

    pub fn ipc_error(&self) {
        self.ipc_errors.fetch_add(1, Relaxed);
    }

    pub fn reload(&self, ok: bool, errors: usize) {
        if ok {
            self.reloads_ok.fetch_add(1, Relaxed);
        } else {
            self.reloads_failed.fetch_add(1, Relaxed);
        }
        self.config_errors.fetch_add(errors as u64, Relaxed);
    }

    /// The supervisor's part of the exposition (series exist from the
    /// start, so dashboards see zeros, not absence).
    pub fn encode(&self) -> String {
        let mut w = Writer::new();
        w.family(
            "rkeepalived_build_info",
            "rkeepalived build information (always 1).",
            Kind::Gauge,
        );
        w.sample(
            "rkeepalived_build_info",
            &Labels::new().with("version", env!("CARGO_PKG_VERSION")),
            1,
        );
        let per_role: [(&str, &str, Kind, &PerRole<AtomicU64>); 2] = [
            (
                "rkeepalived_child_restarts_total",
                "Role child processes respawned after exiting.",
                Kind::Counter,
                &self.child_restarts,
            ),
            (
                "rkeepalived_child_hangs_total",
                "Role children killed for not answering liveness probes.",
                Kind::Counter,
                &self.child_hangs,
            ),
        ];
        for (name, help, kind, values) in per_role {
            w.family(name, help, kind);
            for role in Role::ALL {
                let l = Labels::new().with("role", role.as_str());
                w.sample(name, &l, values.get(role).load(Relaxed));
            }
        }
        w.family(
            "rkeepalived_child_up",
            "Whether the role child process is running (1) or not (0).",
            Kind::Gauge,
        );
        for role in Role::ALL {
            let l = Labels::new().with("role", role.as_str());
            w.sample(
                "rkeepalived_child_up",
                &l,
                self.child_up.get(role).load(Relaxed),
            );
        }
        w.family(
            "rkeepalived_reloads_total",
            "Configuration reloads (SIGHUP) by result.",
            Kind::Counter,
        );
        for (result, n) in [("ok", &self.reloads_ok), ("failed", &self.reloads_failed)] {
            let l = Labels::new().with("result", result);
            w.sample("rkeepalived_reloads_total", &l, n.load(Relaxed));
        }
        w.single(
            "rkeepalived_config_errors_total",
            "Configuration errors found by reloads.",
            Kind::Counter,
            self.config_errors.load(Relaxed),
        );
        w.single(
            "rkeepalived_ipc_errors_total",
            "Malformed or failed messages on the supervisor/child channels.",
            Kind::Counter,
            self.ipc_errors.load(Relaxed),
        );
        let http = &self.http;
        w.single(
            "rkeepalived_http_connections",
            "Connections the metrics endpoint is serving now.",
            Kind::Gauge,
            http.open.load(Relaxed),
        );
        w.family(
            "rkeepalived_http_responses_total",
            "Responses of the metrics endpoint by class.",
            Kind::Counter,
        );
        for (class, n) in [
            ("ok", &http.ok),
            ("unauthorized", &http.unauthorized),
            ("client_error", &http.client_errors),
        ] {
            let l = Labels::new().with("class", class);
            w.sample("rkeepalived_http_responses_total", &l, n.load(Relaxed));
        }
        w.single(
            "rkeepalived_http_timeouts_total",
            "Metrics endpoint connections closed because the client was too slow.",
            Kind::Counter,
            http.timeouts.load(Relaxed),
        );
        w.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_metrics_text() {
        let m = ParentMetrics::new();
        m.child_restarted(Role::Vrrp);
        m.reload(false, 2);
        m.set_child_up(Role::Checker, true);
        let text = m.encode();
        for needle in [
            "rkeepalived_child_restarts_total{role=\"vrrp\"} 1\n",
            "rkeepalived_child_restarts_total{role=\"checker\"} 0\n",
            "rkeepalived_reloads_total{result=\"failed\"} 1\n",
            "rkeepalived_config_errors_total 2\n",
            "rkeepalived_child_up{role=\"checker\"} 1\n",
            "# TYPE rkeepalived_build_info gauge\n",
            "rkeepalived_build_info{version=\"",
        ] {
            assert!(text.contains(needle), "{needle} in {text}");
        }
        assert!(
            !text.contains("# EOF") && !text.contains(" info\n"),
            "{text}"
        );
        rkeepalived_metrics::check(&text).expect("valid exposition");
    }
}
