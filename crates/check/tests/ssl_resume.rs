//! SSL_GET resumes TLS sessions (issue #17 item 4; a deliberate difference
//! from keepalived 2.2.7, which makes a full handshake per check:
//! check_ssl.c `ssl_connect()`, `SSL_new()` per attempt), and the verdicts
//! stay keepalived's: every check still connects, handshakes, sends the
//! request and judges the whole response, so a server that stops speaking
//! TLS, answers another body (digest) or status, fails that very check
//! while resumption is on. Loopback only.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering::SeqCst};
use std::sync::Arc;
use std::time::Duration;

use rkeepalived_check::checkers::{build, CheckOutcome, Checker};
use rkeepalived_check::tls::shared_connector;
use rkeepalived_script::{RunAs, ScriptRunner, ScriptSecurity};
use rustls::HandshakeKind;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

mod tls_server;

/// What the test server does with the next connection.
const OK: u8 = 0;
const OTHER_BODY: u8 = 1;
const STATUS_500: u8 = 2;
const PLAIN_HTTP: u8 = 3;

/// Handshakes the server completed, and how many were resumed.
#[derive(Default)]
struct Counts {
    full: AtomicU32,
    resumed: AtomicU32,
}

/// An HTTPS server (self-signed, TLS `version`) whose behaviour follows
/// `mode`; it counts full and resumed handshakes (rustls' server-side
/// session cache, its default: stateful TLS 1.3 tickets and TLS 1.2 ids).
///
/// Each test has its own loopback address: sessions are kept per server
/// name, the address when there is no SNI (tests run in parallel).
async fn server(
    ip: &str,
    version: &'static rustls::SupportedProtocolVersion,
    mode: Arc<AtomicU8>,
    counts: Arc<Counts>,
) -> SocketAddr {
    let config = tls_server::self_signed_config(&[version]);
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind((ip, 0)).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (acceptor, mode, counts) = (acceptor.clone(), mode.load(SeqCst), counts.clone());
            tokio::spawn(async move {
                if mode == PLAIN_HTTP {
                    // A server that stopped speaking TLS: plain HTTP.
                    let mut buf = [0u8; 1024];
                    let _ = sock.read(&mut buf).await;
                    let _ = sock
                        .write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
                        .await;
                    return;
                }
                let Ok(mut tls) = acceptor.accept(sock).await else {
                    return;
                };
                match tls.get_ref().1.handshake_kind() {
                    Some(HandshakeKind::Resumed) => counts.resumed.fetch_add(1, SeqCst),
                    _ => counts.full.fetch_add(1, SeqCst),
                };
                let mut buf = vec![0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let answer: &[u8] = match mode {
                    OTHER_BODY => b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nno",
                    STATUS_500 => b"HTTP/1.0 500 Oops\r\nContent-Length: 2\r\n\r\nok",
                    _ => b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
                };
                let _ = tls.write_all(answer).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    addr
}

/// An SSL_GET checker of `ip:port`, path `/`, digest of "ok".
fn checker(ip: &str, port: u16) -> Arc<dyn Checker> {
    let text = format!(
        r#"
virtual_server 192.0.2.1 443 {{
    protocol TCP
    real_server {ip} {port} {{
        SSL_GET {{
            url {{
                path /
                digest 444bcb3a3fcf8389296c49467f27e1d6
            }}
            connect_timeout 3
        }}
    }}
}}
"#
    );
    let config = rkeepalived_config::parse_str(&text, "t.conf", &Default::default())
        .expect("parses")
        .config;
    let plan = rkeepalived_check::from_config(&config).expect("plan");
    let spec = Arc::clone(&plan.virtual_servers[0].real_servers[0].checkers[0]);
    let runner = ScriptRunner::new(ScriptSecurity {
        enable_script_security: false,
        default_user: Some(RunAs::root()),
    });
    build(&spec, &runner)
}

async fn check(c: &Arc<dyn Checker>) -> CheckOutcome {
    tokio::time::timeout(Duration::from_secs(10), c.check())
        .await
        .expect("the check ends")
}

async fn resumes_and_keeps_verdicts(ip: &str, version: &'static rustls::SupportedProtocolVersion) {
    let mode = Arc::new(AtomicU8::new(OK));
    let counts = Arc::new(Counts::default());
    let addr = server(ip, version, Arc::clone(&mode), Arc::clone(&counts)).await;
    let c = checker(ip, addr.port());

    // The first check: a full handshake.
    assert!(check(&c).await.is_up());
    assert_eq!(counts.full.load(SeqCst), 1);
    assert_eq!(counts.resumed.load(SeqCst), 0);
    // The next ones resume the session.
    for _ in 0..3 {
        assert!(check(&c).await.is_up());
    }
    assert_eq!(counts.full.load(SeqCst), 1, "no more full handshakes");
    assert_eq!(counts.resumed.load(SeqCst), 3, "each later check resumed");

    // Another body: the digest fails on the very next check, although its
    // handshake was resumed.
    mode.store(OTHER_BODY, SeqCst);
    let out = check(&c).await;
    assert!(!out.is_up(), "{out:?}");
    assert!(format!("{out:?}").contains("Digest"), "{out:?}");
    assert_eq!(counts.resumed.load(SeqCst), 4, "that check was resumed");

    // Another status: fails too.
    mode.store(STATUS_500, SeqCst);
    let out = check(&c).await;
    assert!(!out.is_up(), "{out:?}");
    assert!(format!("{out:?}").contains("HttpStatus"), "{out:?}");

    // The server stops speaking TLS: fails at once, ticket or not.
    mode.store(PLAIN_HTTP, SeqCst);
    let out = check(&c).await;
    assert!(!out.is_up(), "{out:?}");

    // Back to normal: up again.
    mode.store(OK, SeqCst);
    let out = check(&c).await;
    assert!(out.is_up(), "{out:?}");
    let (full, resumed) = (counts.full.load(SeqCst), counts.resumed.load(SeqCst));
    assert!(
        resumed >= 5,
        "resumption stays on: {full} full, {resumed} resumed"
    );
}

#[tokio::test]
async fn ssl_get_resumes_tls13_sessions_and_keeps_keepalived_verdicts() {
    resumes_and_keeps_verdicts("127.0.0.2", &rustls::version::TLS13).await;
}

#[tokio::test]
async fn ssl_get_resumes_tls12_sessions_and_keeps_keepalived_verdicts() {
    resumes_and_keeps_verdicts("127.0.0.3", &rustls::version::TLS12).await;
}

/// Every SSL_GET checker (same `SSL` block) shares one config and session
/// store, and the store holds at least as many servers as checkers use it
/// (rustls' default holds 32: 10,000 checkers would evict each other's
/// sessions every round).
#[test]
fn one_session_store_sized_to_the_checkers() {
    // (connector, lease) pairs, as each checker holds them.
    let checkers: Vec<_> = (0..1000)
        .map(|_| shared_connector(None).expect("config"))
        .collect();
    let store = checkers[0].1.store();
    assert!(checkers.iter().all(|(_, l)| Arc::ptr_eq(l.store(), store)));
    assert!(store.capacity() >= 1000, "{store:?}");
}

/// Two checkers of one server: the second one's first check resumes the
/// session the first one made (one store for both).
#[tokio::test]
async fn checkers_share_sessions() {
    let mode = Arc::new(AtomicU8::new(OK));
    let counts = Arc::new(Counts::default());
    let ip = "127.0.0.4";
    let addr = server(ip, &rustls::version::TLS13, mode, Arc::clone(&counts)).await;
    let (a, b) = (checker(ip, addr.port()), checker(ip, addr.port()));
    assert!(check(&a).await.is_up());
    assert!(check(&b).await.is_up());
    assert_eq!(counts.full.load(SeqCst), 1);
    assert_eq!(counts.resumed.load(SeqCst), 1);
}
