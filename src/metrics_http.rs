//! The HTTP/1.1 endpoint behind `metrics_listen` / `--metrics-listen`.
//!
//! It is built so that no client can hurt the supervisor:
//! - it runs on a thread of its own with its own runtime, so request
//!   parsing, TLS and bcrypt never run on the thread that reaps, respawns
//!   and handles signals;
//! - at most [`MAX_CONNECTIONS`] connections are served at once; beyond
//!   that, new ones wait in the kernel's listen backlog and hold no file
//!   descriptor of ours;
//! - the request head (TLS handshake included) must arrive within
//!   [`HEAD_TIMEOUT`] and the response be read within [`WRITE_TIMEOUT`];
//!   one request per connection (`Connection: close`);
//! - the children are asked for their metrics (and status) by at most one
//!   request at a time, and an answer younger than [`CACHE_TTL`] is reused,
//!   so a flood of scrapes cannot queue work on the engines' channels;
//! - `/status` (the JSON the root-only status socket serves) is off unless
//!   `metrics_serve_status` is set; TLS and basic auth come from
//!   `metrics_web_config` (see [`crate::web_config`]).

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{oneshot, Mutex, Semaphore};

use crate::metrics::HttpStats;
use crate::web_config::WebConfig;

/// Connections served at once.
pub const MAX_CONNECTIONS: usize = 16;
/// Time to receive the whole request head, from accept (TLS handshake included).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for the client to take the whole response.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one answer of the children serves further requests.
pub const CACHE_TTL: Duration = Duration::from_millis(250);
const MAX_HEAD: usize = 8192;

/// Something that can produce the current metrics and status.
pub trait Exposition: Send + Sync + 'static {
    fn metrics_text(&self) -> impl std::future::Future<Output = String> + Send;
    fn status_json(&self) -> impl std::future::Future<Output = serde_json::Value> + Send;
}

/// What the endpoint serves and how.
#[derive(Clone, Debug, Default)]
pub struct HttpOptions {
    /// Also serve `GET /status`.
    pub serve_status: bool,
    /// TLS and basic auth.
    pub web: Option<Arc<WebConfig>>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum HttpRequestError {
    TooLarge,
    Malformed,
}

/// The parts of a request head we use.
#[derive(Debug, PartialEq, Eq)]
pub struct RequestHead {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
}

/// Parses an HTTP/1.x request head (request line and headers).
pub fn parse_request_head(head: &[u8]) -> Result<RequestHead, HttpRequestError> {
    if head.len() > MAX_HEAD {
        return Err(HttpRequestError::TooLarge);
    }
    let text = std::str::from_utf8(head).map_err(|_| HttpRequestError::Malformed)?;
    let (line, headers) = text.split_once("\r\n").ok_or(HttpRequestError::Malformed)?;
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
    let mut authorization = None;
    for h in headers.split("\r\n") {
        if let Some((name, value)) = h.split_once(':') {
            if name.trim().eq_ignore_ascii_case("authorization") {
                authorization = Some(value.trim().to_owned());
            }
        }
    }
    Ok(RequestHead {
        method: method.to_owned(),
        path: path.to_owned(),
        authorization,
    })
}

/// A running endpoint; dropping it stops the thread and closes the port.
pub struct HttpServer {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HttpServer {
    /// Binds `addr` now (so the caller sees bind errors) and serves it from
    /// a new thread.
    pub fn start<E: Exposition>(
        addr: SocketAddr,
        options: HttpOptions,
        source: Arc<E>,
        stats: Arc<HttpStats>,
    ) -> std::io::Result<HttpServer> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (shutdown, stop) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("rk-metrics".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            tracing::error!("metrics listener: {e}");
                            return;
                        }
                    };
                    tokio::select! {
                        _ = serve(listener, options, source, stats) => {}
                        _ = stop => {}
                    }
                });
                // Connections in flight are dropped, not awaited.
                runtime.shutdown_background();
            })?;
        Ok(HttpServer {
            addr,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// The bound address (the port chosen when `addr` had port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        // Returns at once: the loop only awaits (bcrypt runs on the
        // blocking pool, which shutdown_background leaves behind).
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The children's answers, shared by concurrent requests.
struct Cache {
    metrics: Mutex<Option<(Instant, Arc<String>)>>,
    status: Mutex<Option<(Instant, Arc<String>)>>,
    /// One bcrypt at a time: a flood of wrong passwords costs one core at most.
    auth: Semaphore,
}

async fn cached<F>(slot: &Mutex<Option<(Instant, Arc<String>)>>, fetch: F) -> Arc<String>
where
    F: std::future::Future<Output = String>,
{
    let mut guard = slot.lock().await;
    if let Some((at, text)) = guard.as_ref() {
        if at.elapsed() < CACHE_TTL {
            return text.clone();
        }
    }
    let text = Arc::new(fetch.await);
    *guard = Some((Instant::now(), text.clone()));
    text
}

async fn serve<E: Exposition>(
    listener: TcpListener,
    options: HttpOptions,
    source: Arc<E>,
    stats: Arc<HttpStats>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let cache = Arc::new(Cache {
        metrics: Mutex::new(None),
        status: Mutex::new(None),
        auth: Semaphore::new(1),
    });
    let tls = options
        .web
        .as_ref()
        .and_then(|w| w.tls.clone())
        .map(tokio_rustls::TlsAcceptor::from);
    let options = Arc::new(options);
    loop {
        // A slot first: past the cap, clients wait in the kernel backlog.
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let stream = match listener.accept().await {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                tracing::warn!("metrics listener accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (source, stats, cache, options, tls) = (
            source.clone(),
            stats.clone(),
            cache.clone(),
            options.clone(),
            tls.clone(),
        );
        stats.open.fetch_add(1, Relaxed);
        tokio::spawn(async move {
            let deadline = tokio::time::Instant::now() + HEAD_TIMEOUT;
            let result = match tls {
                None => serve_one(stream, deadline, &options, &*source, &stats, &cache).await,
                Some(acceptor) => {
                    match tokio::time::timeout_at(deadline, acceptor.accept(stream)).await {
                        Ok(Ok(tls_stream)) => {
                            serve_one(tls_stream, deadline, &options, &*source, &stats, &cache)
                                .await
                        }
                        Ok(Err(e)) => Err(e),
                        Err(_) => {
                            stats.timeouts.fetch_add(1, Relaxed);
                            Ok(())
                        }
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!("metrics http connection: {e}");
            }
            stats.open.fetch_sub(1, Relaxed);
            drop(permit);
        });
    }
}

struct Response {
    status: &'static str,
    content_type: &'static str,
    body: Arc<String>,
    extra_headers: &'static str,
}

impl Response {
    fn text(status: &'static str, body: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: Arc::new(body.to_owned()),
            extra_headers: "",
        }
    }
}

async fn serve_one<S, E>(
    mut stream: S,
    deadline: tokio::time::Instant,
    options: &HttpOptions,
    source: &E,
    stats: &HttpStats,
    cache: &Cache,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
    E: Exposition,
{
    let mut head = Vec::with_capacity(512);
    let read_head = async {
        let mut buf = [0u8; 1024];
        loop {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>(false);
            }
            head.extend_from_slice(&buf[..n]);
            if head.windows(4).any(|w| w == b"\r\n\r\n") || head.len() > MAX_HEAD {
                return Ok(true);
            }
        }
    };
    match tokio::time::timeout_at(deadline, read_head).await {
        Ok(Ok(true)) => {}
        Ok(Ok(false)) => return Ok(()),
        Ok(Err(e)) => return Err(e),
        Err(_) => {
            stats.timeouts.fetch_add(1, Relaxed);
            return Ok(());
        }
    }
    let request = parse_request_head(&head);
    let response = respond(request.as_ref(), options, source, cache).await;
    let counter = match response.status.as_bytes().first() {
        Some(b'2') => &stats.ok,
        _ if response.status.starts_with("401") => &stats.unauthorized,
        _ => &stats.client_errors,
    };
    counter.fetch_add(1, Relaxed);
    let is_head = matches!(&request, Ok(r) if r.method == "HEAD");
    let mut out = format!(
        "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{}Connection: close\r\n\r\n",
        response.status,
        response.content_type,
        response.body.len(),
        response.extra_headers,
    )
    .into_bytes();
    if !is_head {
        out.extend_from_slice(response.body.as_bytes());
    }
    let write = async {
        stream.write_all(&out).await?;
        stream.shutdown().await
    };
    match tokio::time::timeout(WRITE_TIMEOUT, write).await {
        Ok(r) => r,
        Err(_) => {
            stats.timeouts.fetch_add(1, Relaxed);
            Ok(())
        }
    }
}

async fn respond<E: Exposition>(
    request: Result<&RequestHead, &HttpRequestError>,
    options: &HttpOptions,
    source: &E,
    cache: &Cache,
) -> Response {
    let request = match request {
        Err(HttpRequestError::TooLarge) => {
            return Response::text(
                "431 Request Header Fields Too Large",
                "request head too large\n",
            )
        }
        Err(HttpRequestError::Malformed) => {
            return Response::text("400 Bad Request", "bad request\n")
        }
        Ok(r) => r,
    };
    if let Some(web) = options.web.as_ref().filter(|w| w.requires_auth()) {
        let ok = {
            let _one = cache.auth.acquire().await;
            let web = web.clone();
            let header = request.authorization.clone();
            tokio::task::spawn_blocking(move || web.authorized(header.as_deref()))
                .await
                .unwrap_or(false)
        };
        if !ok {
            let mut r = Response::text("401 Unauthorized", "unauthorized\n");
            r.extra_headers = "WWW-Authenticate: Basic realm=\"rkeepalived\"\r\n";
            return r;
        }
    }
    if request.method != "GET" && request.method != "HEAD" {
        let mut r = Response::text("405 Method Not Allowed", "only GET\n");
        r.extra_headers = "Allow: GET, HEAD\r\n";
        return r;
    }
    match request.path.as_str() {
        "/metrics" => Response {
            status: "200 OK",
            content_type: rkeepalived_metrics::CONTENT_TYPE,
            body: cached(&cache.metrics, source.metrics_text()).await,
            extra_headers: "",
        },
        "/status" if options.serve_status => Response {
            status: "200 OK",
            content_type: "application/json",
            body: cached(&cache.status, async {
                format!("{:#}\n", source.status_json().await)
            })
            .await,
            extra_headers: "",
        },
        "/" => Response::text(
            "200 OK",
            if options.serve_status {
                "rkeepalived: see /metrics and /status\n"
            } else {
                "rkeepalived: see /metrics\n"
            },
        ),
        _ => Response::text("404 Not Found", "not found\n"),
    }
}

/// What the supervisor's configuration asks of the endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EndpointSettings {
    pub addr: Option<SocketAddr>,
    pub serve_status: bool,
    pub web_config: Option<std::path::PathBuf>,
}

/// The running endpoint and the settings it was started with.
pub struct Endpoint {
    settings: EndpointSettings,
    server: HttpServer,
}

/// Starts, restarts or stops the endpoint to match `wanted` (at start and
/// after each reload). Failures are logged, never fatal: failover matters
/// more than metrics. A web config file is read again on every reload
/// (certificate rotation); one that does not load keeps the running
/// endpoint as it is, and at start means no endpoint (never an endpoint
/// without the TLS or authentication the operator asked for).
pub fn reconcile<E: Exposition>(
    current: &mut Option<Endpoint>,
    wanted: EndpointSettings,
    source: &Arc<E>,
    stats: &Arc<HttpStats>,
) {
    let Some(addr) = wanted.addr else {
        if let Some(old) = current.take() {
            tracing::info!("stopped serving metrics on {}", old.server.addr());
        }
        return;
    };
    if wanted.web_config.is_none() && current.as_ref().is_some_and(|c| c.settings == wanted) {
        return;
    }
    let web = match &wanted.web_config {
        None => None,
        Some(path) => match WebConfig::load(path) {
            Ok(w) => Some(Arc::new(w)),
            Err(e) => {
                match current {
                    Some(_) => tracing::error!(
                        "metrics_web_config {e}; the metrics endpoint keeps its previous settings"
                    ),
                    None => tracing::error!(
                        "metrics_web_config {e}; running without the metrics endpoint"
                    ),
                }
                return;
            }
        },
    };
    // The old server must let go of the port before the new one binds it.
    *current = None;
    let scheme = if web.as_ref().is_some_and(|w| w.tls.is_some()) {
        "https"
    } else {
        "http"
    };
    let auth = web.as_ref().is_some_and(|w| w.requires_auth());
    let options = HttpOptions {
        serve_status: wanted.serve_status,
        web,
    };
    match HttpServer::start(addr, options, source.clone(), stats.clone()) {
        Ok(server) => {
            tracing::info!(
                "serving Prometheus metrics on {scheme}://{addr}/metrics{}{}",
                if wanted.serve_status {
                    " and /status"
                } else {
                    ""
                },
                if auth { " (basic auth)" } else { "" },
            );
            *current = Some(Endpoint {
                settings: wanted,
                server,
            });
        }
        Err(e) => {
            tracing::error!("cannot listen for metrics on {addr}: {e}; running without /metrics")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn request_heads() {
        assert_eq!(
            parse_request_head(
                b"GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAuthorization: Basic eA==\r\n\r\n"
            ),
            Ok(RequestHead {
                method: "GET".into(),
                path: "/metrics".into(),
                authorization: Some("Basic eA==".into()),
            })
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
        assert_eq!(
            parse_request_head(&[b'a'; MAX_HEAD + 1]),
            Err(HttpRequestError::TooLarge)
        );
    }

    proptest! {
        #[test]
        fn arbitrary_heads_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse_request_head(&bytes);
        }
    }

    struct Fixed(std::sync::atomic::AtomicU64);

    impl Exposition for Fixed {
        async fn metrics_text(&self) -> String {
            self.0.fetch_add(1, Relaxed);
            "# HELP m M.\n# TYPE m gauge\nm 1\n".into()
        }
        async fn status_json(&self) -> serde_json::Value {
            serde_json::json!({"daemon": "rkeepalived"})
        }
    }

    fn get(addr: SocketAddr, path: &str, auth: Option<&str>) -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).ok();
        let auth = auth
            .map(|a| format!("Authorization: {a}\r\n"))
            .unwrap_or_default();
        write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n{auth}\r\n").expect("write");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    fn start(options: HttpOptions) -> (HttpServer, SocketAddr, Arc<Fixed>, Arc<HttpStats>) {
        let source = Arc::new(Fixed(0.into()));
        let stats = Arc::new(HttpStats::default());
        let server = HttpServer::start(
            "127.0.0.1:0".parse().expect("addr"),
            options,
            source.clone(),
            stats.clone(),
        )
        .expect("start");
        let addr = server.addr();
        (server, addr, source, stats)
    }

    #[test]
    fn status_is_opt_in() {
        let (server, addr, source, stats) = start(HttpOptions::default());
        let r = get(addr, "/metrics", None);
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(
            r.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            "{r}"
        );
        assert!(r.ends_with("m 1\n"), "{r}");
        let r = get(addr, "/status", None);
        assert!(r.starts_with("HTTP/1.1 404"), "{r}");
        drop(server);
        let server = HttpServer::start(
            addr,
            HttpOptions {
                serve_status: true,
                web: None,
            },
            source,
            stats,
        )
        .expect("restart on the same port");
        let r = get(addr, "/status", None);
        assert!(
            r.starts_with("HTTP/1.1 200 OK\r\n") && r.contains("\"daemon\""),
            "{r}"
        );
        drop(server);
    }

    #[test]
    fn basic_auth_is_enforced() {
        use base64::Engine as _;
        let hash = bcrypt::hash("pw", 4).expect("hash");
        let web = WebConfig::parse(
            std::path::Path::new("/x/web.yml"),
            &format!("basic_auth_users:\n  prom: '{hash}'\n"),
        )
        .expect("web config");
        let (_server, addr, _, stats) = start(HttpOptions {
            serve_status: false,
            web: Some(Arc::new(web)),
        });
        let r = get(addr, "/metrics", None);
        assert!(r.starts_with("HTTP/1.1 401"), "{r}");
        assert!(r.contains("WWW-Authenticate: Basic"), "{r}");
        let bad = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("prom:nope")
        );
        assert!(get(addr, "/metrics", Some(&bad)).starts_with("HTTP/1.1 401"));
        let good = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("prom:pw")
        );
        let r = get(addr, "/metrics", Some(&good));
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        assert_eq!(stats.unauthorized.load(Relaxed), 2);
    }

    #[test]
    fn idle_clients_beyond_the_cap_hold_no_descriptor_and_time_out() {
        let (_server, addr, source, stats) = start(HttpOptions::default());
        let idle: Vec<_> = (0..MAX_CONNECTIONS + 20)
            .filter_map(|_| {
                std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        assert!(stats.open.load(Relaxed) <= MAX_CONNECTIONS as i64);
        // The idle ones are cut after HEAD_TIMEOUT; then requests go through.
        let start = Instant::now();
        let r = get(addr, "/metrics", None);
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        assert!(start.elapsed() < HEAD_TIMEOUT * 3, "{:?}", start.elapsed());
        assert!(stats.timeouts.load(Relaxed) >= 1);
        drop(idle);
        // Concurrent scrapes share one answer of the children.
        let before = source.0.load(Relaxed);
        let threads: Vec<_> = (0..8)
            .map(|_| std::thread::spawn(move || get(addr, "/metrics", None)))
            .collect();
        for t in threads {
            assert!(t.join().expect("join").starts_with("HTTP/1.1 200"));
        }
        assert!(source.0.load(Relaxed) - before < 8);
    }

    #[test]
    fn tls_from_the_web_config() {
        let dir = std::env::temp_dir().join(format!("rk-metrics-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
        std::fs::write(dir.join("server.crt"), cert.cert.pem()).expect("crt");
        std::fs::write(dir.join("server.key"), cert.key_pair.serialize_pem()).expect("key");
        let web = WebConfig::parse(
            &dir.join("web.yml"),
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n",
        );
        let _ = std::fs::remove_dir_all(&dir);
        let web = web.expect("web config");
        let (_server, addr, _, _) = start(HttpOptions {
            serve_status: false,
            web: Some(Arc::new(web)),
        });
        // Plain HTTP on the TLS port gets no answer.
        let plain = get(addr, "/metrics", None);
        assert!(!plain.contains("HTTP/1.1 200"), "{plain}");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("rt");
        let reply = rt.block_on(async move {
            let config = rkeepalived_check::tls::no_verify_client_config().expect("client");
            let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
            let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
            let name = rustls::pki_types::ServerName::try_from("localhost").expect("name");
            let mut tls = connector.connect(name, tcp).await.expect("handshake");
            tls.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .expect("write");
            let mut out = String::new();
            let _ = tls.read_to_string(&mut out).await;
            out
        });
        assert!(reply.starts_with("HTTP/1.1 200 OK\r\n"), "{reply}");
        assert!(reply.ends_with("m 1\n"), "{reply}");
    }

    #[test]
    fn reconcile_never_serves_without_the_asked_protection() {
        let source = Arc::new(Fixed(0.into()));
        let stats = Arc::new(HttpStats::default());
        let dir = std::env::temp_dir().join(format!("rk-metrics-rec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let bad = dir.join("bad.yml");
        std::fs::write(&bad, "basic_auth_users:\n  prom: not-a-hash\n").expect("write");
        let good = dir.join("good.yml");
        let hash = bcrypt::hash("pw", 4).expect("hash");
        std::fs::write(&good, format!("basic_auth_users:\n  prom: '{hash}'\n")).expect("write");
        let with = |web: Option<&std::path::Path>, addr| EndpointSettings {
            addr: Some(addr),
            serve_status: false,
            web_config: web.map(|p| p.to_path_buf()),
        };
        let any: SocketAddr = "127.0.0.1:0".parse().expect("addr");

        // At start, a web config that does not load means no endpoint.
        let mut current = None;
        reconcile(&mut current, with(Some(&bad), any), &source, &stats);
        assert!(current.is_none());

        // Running plain: unchanged settings keep the same server.
        reconcile(&mut current, with(None, any), &source, &stats);
        let addr = current.as_ref().map(|c| c.server.addr()).expect("running");
        reconcile(&mut current, with(None, any), &source, &stats);
        assert_eq!(current.as_ref().map(|c| c.server.addr()), Some(addr));
        assert!(get(addr, "/metrics", None).starts_with("HTTP/1.1 200"));

        // A reload to a broken web config keeps the running endpoint.
        reconcile(&mut current, with(Some(&bad), addr), &source, &stats);
        assert_eq!(current.as_ref().map(|c| c.server.addr()), Some(addr));
        assert!(get(addr, "/metrics", None).starts_with("HTTP/1.1 200"));

        // A good one restarts it on the same port, with authentication.
        reconcile(&mut current, with(Some(&good), addr), &source, &stats);
        assert_eq!(current.as_ref().map(|c| c.server.addr()), Some(addr));
        assert!(get(addr, "/metrics", None).starts_with("HTTP/1.1 401"));

        // No address: stopped.
        let off = EndpointSettings::default();
        reconcile(&mut current, off, &source, &stats);
        assert!(current.is_none());
        assert!(std::net::TcpStream::connect(addr).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
