//! The supervisor's own Prometheus metrics (prometheus-client) and the
//! tiny HTTP/1.1 server behind `metrics_listen` / `--metrics-listen`.

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::cli::Role;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RoleLabels {
    pub role: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: String,
}

pub struct ParentMetrics {
    registry: Registry,
    child_restarts: Family<RoleLabels, Counter>,
    child_up: Family<RoleLabels, Gauge>,
    reloads: Family<ResultLabels, Counter>,
    config_errors: Counter,
    ipc_errors: Counter,
    child_hangs: Family<RoleLabels, Counter>,
}

impl Default for ParentMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl ParentMetrics {
    pub fn new() -> ParentMetrics {
        let mut registry = Registry::with_prefix("rkeepalived");
        let child_restarts = Family::<RoleLabels, Counter>::default();
        let child_up = Family::<RoleLabels, Gauge>::default();
        let reloads = Family::<ResultLabels, Counter>::default();
        let config_errors = Counter::default();
        let ipc_errors = Counter::default();
        let child_hangs = Family::<RoleLabels, Counter>::default();
        registry.register(
            "child_restarts",
            "Role child processes respawned after exiting",
            child_restarts.clone(),
        );
        registry.register(
            "child_up",
            "Whether the role child process is running (1) or not (0)",
            child_up.clone(),
        );
        registry.register(
            "reloads",
            "Configuration reloads (SIGHUP) by result",
            reloads.clone(),
        );
        registry.register(
            "config_errors",
            "Configuration errors found by reloads",
            config_errors.clone(),
        );
        registry.register(
            "child_hangs",
            "Role children killed for not answering liveness probes",
            child_hangs.clone(),
        );
        registry.register(
            "ipc_errors",
            "Malformed or failed messages on the supervisor/child channels",
            ipc_errors.clone(),
        );
        registry.register(
            "build",
            "rkeepalived build information",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );
        // Pre-create the series so dashboards see zeros, not absence.
        for role in Role::ALL {
            let _ = child_restarts.get_or_create(&labels(role));
            let _ = child_up.get_or_create(&labels(role));
            let _ = child_hangs.get_or_create(&labels(role));
        }
        for result in ["ok", "failed"] {
            let _ = reloads.get_or_create(&ResultLabels {
                result: result.into(),
            });
        }
        ParentMetrics {
            registry,
            child_restarts,
            child_up,
            reloads,
            config_errors,
            ipc_errors,
            child_hangs,
        }
    }

    pub fn child_restarted(&self, role: Role) {
        self.child_restarts.get_or_create(&labels(role)).inc();
    }

    pub fn set_child_up(&self, role: Role, up: bool) {
        self.child_up
            .get_or_create(&labels(role))
            .set(i64::from(up));
    }

    pub fn child_hung(&self, role: Role) {
        self.child_hangs.get_or_create(&labels(role)).inc();
    }

    pub fn ipc_error(&self) {
        self.ipc_errors.inc();
    }

    pub fn reload(&self, ok: bool, errors: usize) {
        let result = if ok { "ok" } else { "failed" };
        self.reloads
            .get_or_create(&ResultLabels {
                result: result.into(),
            })
            .inc();
        self.config_errors.inc_by(errors as u64);
    }

    /// Text exposition (without OpenMetrics' `# EOF`, so children's text can follow).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            return String::new();
        }
        strip_eof(out)
    }
}

fn labels(role: Role) -> RoleLabels {
    RoleLabels {
        role: role.as_str().into(),
    }
}

fn strip_eof(mut text: String) -> String {
    if let Some(pos) = text.rfind("# EOF") {
        text.truncate(pos);
    }
    text
}

/// Joins metric texts into one exposition, each part newline-terminated.
pub fn join_exposition<'a>(parts: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::new();
    for part in parts {
        let part = part.trim_end_matches('\n');
        if part.is_empty() {
            continue;
        }
        out.push_str(part);
        out.push('\n');
    }
    out.push_str("# EOF\n");
    out
}

#[derive(Debug, PartialEq, Eq)]
pub enum HttpRequestError {
    TooLarge,
    Malformed,
}

/// Parses the request line of an HTTP/1.x request head: (method, path).
pub fn parse_request_head(head: &[u8]) -> Result<(String, String), HttpRequestError> {
    let line_end = head
        .windows(2)
        .position(|w| w == b"\r\n")
        .ok_or(HttpRequestError::Malformed)?;
    let line = std::str::from_utf8(&head[..line_end]).map_err(|_| HttpRequestError::Malformed)?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(HttpRequestError::Malformed);
    };
    if !version.starts_with("HTTP/1.") || method.is_empty() || !target.starts_with('/') {
        return Err(HttpRequestError::Malformed);
    }
    let path = target.split('?').next().unwrap_or(target);
    Ok((method.to_owned(), path.to_owned()))
}

const MAX_HEAD: usize = 8192;
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// Something that can produce the current metrics and status.
pub trait Exposition: Send + Sync + 'static {
    fn metrics_text(&self) -> impl std::future::Future<Output = String> + Send;
    fn status_json(&self) -> impl std::future::Future<Output = serde_json::Value> + Send;
}

/// Serves `GET /metrics` (Prometheus text) and `GET /status` (JSON) until
/// the task is aborted.
pub async fn serve_http<E: Exposition>(listener: TcpListener, source: Arc<E>) {
    loop {
        match listener.accept().await {
            Ok((stream, _peer)) => {
                let source = source.clone();
                tokio::spawn(async move {
                    if let Err(e) = handle_http(stream, source).await {
                        tracing::debug!("metrics http connection: {e}");
                    }
                });
            }
            Err(e) => {
                tracing::warn!("metrics listener accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn handle_http<E: Exposition>(mut stream: TcpStream, source: Arc<E>) -> std::io::Result<()> {
    let mut head = Vec::with_capacity(512);
    let read_head = async {
        let mut buf = [0u8; 1024];
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>(false);
            }
            head.extend_from_slice(&buf[..n]);
            if head.windows(4).any(|w| w == b"\r\n\r\n") {
                return Ok(true);
            }
            if head.len() > MAX_HEAD {
                return Ok(true);
            }
        }
    };
    match tokio::time::timeout(READ_TIMEOUT, read_head).await {
        Ok(Ok(true)) => {}
        _ => return Ok(()),
    }
    let (status, ctype, body) = if head.len() > MAX_HEAD {
        (
            "431 Request Header Fields Too Large",
            "text/plain",
            "request head too large\n".to_string(),
        )
    } else {
        match parse_request_head(&head) {
            Err(_) => ("400 Bad Request", "text/plain", "bad request\n".to_string()),
            Ok((method, _)) if method != "GET" && method != "HEAD" => (
                "405 Method Not Allowed",
                "text/plain",
                "only GET\n".to_string(),
            ),
            Ok((_, path)) => match path.as_str() {
                "/metrics" => (
                    "200 OK",
                    "text/plain; version=0.0.4; charset=utf-8",
                    source.metrics_text().await,
                ),
                "/status" => {
                    let v = source.status_json().await;
                    ("200 OK", "application/json", format!("{v:#}\n"))
                }
                "/" => (
                    "200 OK",
                    "text/plain",
                    "rkeepalived: see /metrics and /status\n".to_string(),
                ),
                _ => ("404 Not Found", "text/plain", "not found\n".to_string()),
            },
        }
    };
    let is_head = head.starts_with(b"HEAD ");
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if !is_head {
        response.extend_from_slice(body.as_bytes());
    }
    stream.write_all(&response).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parent_metrics_text() {
        let m = ParentMetrics::new();
        m.child_restarted(Role::Vrrp);
        m.reload(false, 2);
        m.set_child_up(Role::Checker, true);
        let text = m.encode();
        assert!(
            text.contains("rkeepalived_child_restarts_total{role=\"vrrp\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("rkeepalived_reloads_total{result=\"failed\"} 1"),
            "{text}"
        );
        assert!(text.contains("rkeepalived_config_errors_total 2"), "{text}");
        assert!(
            text.contains("rkeepalived_child_up{role=\"checker\"} 1"),
            "{text}"
        );
        assert!(!text.contains("# EOF"));
    }

    #[test]
    fn join_parts() {
        assert_eq!(join_exposition(["a 1\n", "", "b 2"]), "a 1\nb 2\n# EOF\n");
    }

    #[test]
    fn request_heads() {
        assert_eq!(
            parse_request_head(b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"),
            Ok(("GET".into(), "/metrics".into()))
        );
        assert_eq!(
            parse_request_head(b"GET /metrics\r\n\r\n"),
            Err(HttpRequestError::Malformed)
        );
        assert_eq!(
            parse_request_head(b"GET metrics HTTP/1.1\r\n"),
            Err(HttpRequestError::Malformed)
        );
        assert_eq!(
            parse_request_head(b"garbage"),
            Err(HttpRequestError::Malformed)
        );
    }

    proptest! {
        #[test]
        fn arbitrary_heads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_request_head(&bytes);
        }
    }
}
