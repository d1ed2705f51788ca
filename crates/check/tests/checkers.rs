//! Every checker kind against real servers written here with tokio, on loopback.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rkeepalived_check::checkers::{build, CheckOutcome};
use rkeepalived_check::spec::*;
use rkeepalived_check::CheckFailure;
use rkeepalived_script::{RunAs, Script, ScriptRunner, ScriptSecurity};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

fn runner() -> ScriptRunner {
    ScriptRunner::new(ScriptSecurity {
        enable_script_security: false,
        default_user: Some(RunAs::root()),
    })
}

fn spec(kind: CheckKind, dst: SocketAddr, timeout_ms: u64) -> CheckerSpec {
    let mut timing = CheckTiming::defaults_for(&kind, Duration::from_secs(1));
    timing.connect_timeout = Duration::from_millis(timeout_ms);
    CheckerSpec {
        kind,
        conn: ConnOpts::to(dst),
        timing: Arc::new(timing),
    }
}

async fn check(spec: &CheckerSpec) -> CheckOutcome {
    build(&std::sync::Arc::new(spec.clone()), &runner())
        .check()
        .await
}

// ---------------------------------------------------------------- TCP

#[tokio::test]
async fn tcp_check_up_then_refused() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let s = spec(CheckKind::Tcp, addr, 1000);
    assert!(check(&s).await.is_up());
    drop(listener);
    match check(&s).await {
        CheckOutcome::Down(CheckFailure::Connect(e)) => {
            assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused)
        }
        other => panic!("expected connection refused, got {other:?}"),
    }
}

#[tokio::test]
async fn tcp_check_honours_bindto_and_bind_port() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut s = spec(CheckKind::Tcp, addr, 1000);
    s.conn = ConnOpts::with_source(
        addr,
        SourceOpts {
            bindto: Some("127.0.0.2".parse().unwrap()),
            ..SourceOpts::default()
        },
    );
    assert!(check(&s).await.is_up());
    // The probe never reaches the application (see
    // tcp_probe_never_reaches_the_application); that it really binds shows
    // with an address this host does not have.
    s.conn = ConnOpts::with_source(
        addr,
        SourceOpts {
            bindto: Some("192.0.2.55".parse().unwrap()),
            ..SourceOpts::default()
        },
    );
    match check(&s).await {
        CheckOutcome::Down(CheckFailure::Socket(e)) => {
            assert_eq!(e.raw_os_error(), Some(libc::EADDRNOTAVAIL), "{e}")
        }
        other => panic!("expected a bind failure, got {other:?}"),
    }
    // The connected checkers (HTTP, SMTP...) share the socket setup: their
    // connection arrives from the bindto address and bind_port.
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.2:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let conn = ConnOpts::with_source(
        addr,
        SourceOpts {
            bindto: Some("127.0.0.2".parse().unwrap()),
            bind_port: Some(port),
            ..SourceOpts::default()
        },
    );
    let accept = tokio::spawn(async move { listener.accept().await.unwrap().1 });
    let _stream = rkeepalived_check::conn::tcp_connect(&conn, Duration::from_secs(1))
        .await
        .unwrap();
    let peer = accept.await.unwrap();
    assert_eq!(peer.to_string(), format!("127.0.0.2:{port}"));
}

/// TCP_CHECK's probe has a fast path (the handshake already finished when
/// `connect()` returns, as on loopback) and a reactor path (the answer is
/// still on its way). A listener whose accept queue is full drops new SYNs,
/// which forces the second: the client's SYN retransmission (~1 s later)
/// is answered once the queue has been drained.
#[tokio::test]
async fn tcp_probe_waits_for_a_late_handshake_and_times_out() {
    use socket2::{Domain, Socket, Type};
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    listener
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    listener.listen(0).unwrap(); // an accept queue of one
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let conn = ConnOpts::to(addr);
    let fill = std::net::TcpStream::connect(addr).unwrap(); // queue full now
                                                            // Timed out while the queue stays full.
    match rkeepalived_check::conn::tcp_probe(&conn, Duration::from_millis(300)).await {
        Err(CheckFailure::Timeout("connect")) => {}
        other => panic!("expected a connect timeout, got {other:?}"),
    }
    // Drain the queue shortly after the next probe's SYN was dropped (the
    // probe's own connection never reaches the queue: see below).
    let drain = tokio::task::spawn_blocking(move || {
        std::thread::sleep(Duration::from_millis(200));
        let first = listener.accept().unwrap();
        (first, listener)
    });
    let started = std::time::Instant::now();
    rkeepalived_check::conn::tcp_probe(&conn, Duration::from_secs(5))
        .await
        .expect("the retransmitted SYN is answered");
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "answered by the SYN retransmission, not at once: {:?}",
        started.elapsed()
    );
    let (_first, listener) = drain.await.unwrap();
    listener.set_nonblocking(true).unwrap();
    assert_eq!(
        listener.accept().map(|_| ()).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "the late probe was reset before its handshake completed"
    );
    drop(fill);
}

/// TCP_CHECK holds back the handshake's final ACK and resets the
/// connection on the SYN-ACK: the real server's application never sees the
/// check (no accept, no connection reset in its logs), yet a listening
/// port is up and a closed one is down, exactly as with a full handshake.
#[tokio::test]
async fn tcp_probe_never_reaches_the_application() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let conn = ConnOpts::to(listener.local_addr().unwrap());
    for _ in 0..5 {
        rkeepalived_check::conn::tcp_probe(&conn, Duration::from_secs(1))
            .await
            .expect("a listening port is up");
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        listener.accept().map(|_| ()).unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock,
        "no probe completed its handshake at the server"
    );
}

/// Probe sockets are reused between checks (reset with connect(AF_UNSPEC)):
/// a verdict must never leak into the next check, whatever the order of
/// up, refused, timed-out and up-again servers.
#[tokio::test]
async fn reused_probe_sockets_carry_no_state_between_checks() {
    use socket2::{Domain, Socket, Type};
    let up = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let up = ConnOpts::to(up.local_addr().unwrap());
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        ConnOpts::to(l.local_addr().unwrap())
    }; // dropped: refused from now on
    let full = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    full.bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    full.listen(0).unwrap();
    let full_addr = full.local_addr().unwrap().as_socket().unwrap();
    let _filler = std::net::TcpStream::connect(full_addr).unwrap(); // SYNs dropped from now on
    let full = ConnOpts::to(full_addr);
    let probe = |co: ConnOpts| async move {
        rkeepalived_check::conn::tcp_probe(&co, Duration::from_millis(200)).await
    };
    for round in 0..3 {
        assert!(probe(up.clone()).await.is_ok(), "round {round}: up");
        match probe(closed.clone()).await {
            Err(CheckFailure::Connect(e)) => {
                assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused)
            }
            other => panic!("round {round}: expected refused, got {other:?}"),
        }
        assert!(
            probe(up.clone()).await.is_ok(),
            "round {round}: up after refused"
        );
        match probe(full.clone()).await {
            Err(CheckFailure::Timeout("connect")) => {}
            other => panic!("round {round}: expected a timeout, got {other:?}"),
        }
        assert!(
            probe(up.clone()).await.is_ok(),
            "round {round}: up after a timeout"
        );
    }
}

// ---------------------------------------------------------------- HTTP

#[derive(Default)]
struct Seen {
    hosts: Vec<String>,
}

/// Minimal HTTP/1.x server: /ok (200 "hello"), /missing (404),
/// /chunked (200 chunked "hello world"), /slow (never answers).
async fn http_server() -> (SocketAddr, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let seen2 = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let seen = Arc::clone(&seen2);
            tokio::spawn(async move {
                let request = read_head(&mut sock).await;
                serve_http(&mut sock, &request, &seen).await;
            });
        }
    });
    (addr, seen)
}

async fn read_head<S: tokio::io::AsyncRead + Unpin>(sock: &mut S) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match sock.read(&mut byte).await {
            Ok(1) => buf.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

async fn serve_http<S: tokio::io::AsyncWrite + Unpin>(
    sock: &mut S,
    request: &str,
    seen: &Mutex<Seen>,
) {
    let path = request.split_whitespace().nth(1).unwrap_or("").to_string();
    if let Some(h) = request.lines().find_map(|l| l.strip_prefix("Host: ")) {
        seen.lock().unwrap().hosts.push(h.to_string());
    }
    let response: Vec<u8> = match path.as_str() {
        "/ok" => b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello".to_vec(),
        "/missing" => b"HTTP/1.0 404 Not Found\r\n\r\nnope".to_vec(),
        "/chunked" => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n".to_vec(),
        "/slow" => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            return;
        }
        _ => b"HTTP/1.0 500 Oops\r\n\r\n".to_vec(),
    };
    let _ = sock.write_all(&response).await;
    let _ = sock.shutdown().await;
}

fn http(urls: Vec<UrlSpec>) -> CheckKind {
    CheckKind::Http(Box::new(HttpSpec {
        tls: false,
        urls,
        protocol: HttpProtocol::Http10,
        virtualhost: None,
        enable_sni: false,
        client_auth: None,
    }))
}

fn url(path: &str, digest: Option<&str>, codes: &[(u16, u16)]) -> UrlSpec {
    UrlSpec {
        path: path.into(),
        digest: digest.map(Into::into),
        status_codes: StatusCodes(codes.to_vec()),
        virtualhost: None,
        regex: None,
    }
}

// md5("hello") and md5("hello world") (RFC 1321 implementation, e.g. `printf hello | md5sum`).
const MD5_HELLO: &str = "5d41402abc4b2a76b9719d911017c592";
const MD5_HELLO_WORLD: &str = "5eb63bbbe01eeed093cb22bb8f5acdc3";
// md5("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"): /chunked as received.
const MD5_CHUNKED_RAW: &str = "fc3946cc674492e3e09d9e45c4c09023";

#[tokio::test]
async fn http_get_status_codes() {
    let (addr, seen) = http_server().await;
    assert!(check(&spec(http(vec![url("/ok", None, &[])]), addr, 2000))
        .await
        .is_up());
    match check(&spec(http(vec![url("/missing", None, &[])]), addr, 2000)).await {
        CheckOutcome::Down(CheckFailure::HttpStatus { got: 404, .. }) => {}
        other => panic!("expected status 404 failure, got {other:?}"),
    }
    // status_code 200-299 404 accepts the 404.
    assert!(check(&spec(
        http(vec![url("/missing", None, &[(200, 299), (404, 404)])]),
        addr,
        2000
    ))
    .await
    .is_up());
    // All urls must pass.
    assert!(!check(&spec(
        http(vec![url("/ok", None, &[]), url("/missing", None, &[])]),
        addr,
        2000
    ))
    .await
    .is_up());
    assert_eq!(
        seen.lock().unwrap().hosts[0],
        format!("127.0.0.1:{}", addr.port())
    );
}

#[tokio::test]
async fn http_get_digest_and_virtualhost() {
    let (addr, seen) = http_server().await;
    assert!(check(&spec(
        http(vec![url("/ok", Some(MD5_HELLO), &[])]),
        addr,
        2000
    ))
    .await
    .is_up());
    match check(&spec(
        http(vec![url("/ok", Some(MD5_HELLO_WORLD), &[])]),
        addr,
        2000,
    ))
    .await
    {
        CheckOutcome::Down(CheckFailure::Digest { got, .. }) => assert_eq!(got, MD5_HELLO),
        other => panic!("expected digest mismatch, got {other:?}"),
    }
    // Chunked body: as keepalived and genhash, the digest covers the body
    // as received, chunk framing included (golden values from genhash in
    // tests/http_features.rs).
    assert!(check(&spec(
        http(vec![url("/chunked", Some(MD5_CHUNKED_RAW), &[])]),
        addr,
        2000
    ))
    .await
    .is_up());
    let mut u = url("/ok", None, &[]);
    u.virtualhost = Some("www.example.test".into());
    assert!(check(&spec(http(vec![u]), addr, 2000)).await.is_up());
    assert!(seen
        .lock()
        .unwrap()
        .hosts
        .contains(&format!("www.example.test:{}", addr.port())));
}

#[tokio::test]
async fn http_get_slow_server_times_out() {
    let (addr, _) = http_server().await;
    match check(&spec(http(vec![url("/slow", None, &[])]), addr, 300)).await {
        CheckOutcome::Down(CheckFailure::Timeout(_)) => {}
        other => panic!("expected timeout, got {other:?}"),
    }
}

// ---------------------------------------------------------------- HTTPS

async fn https_server() -> (SocketAddr, Arc<Mutex<Vec<Option<String>>>>) {
    let cert = rcgen::generate_simple_self_signed(vec!["www.example.test".to_string()]).unwrap();
    let cert_der = rustls::pki_types::CertificateDer::from(cert.cert.der().to_vec());
    let key_der =
        rustls::pki_types::PrivateKeyDer::try_from(cert.key_pair.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert_der], key_der)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let snis = Arc::new(Mutex::new(Vec::new()));
    let snis2 = Arc::clone(&snis);
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let config = Arc::clone(&config);
            let snis = Arc::clone(&snis2);
            tokio::spawn(async move {
                let acceptor = tokio_rustls::LazyConfigAcceptor::new(
                    rustls::server::Acceptor::default(),
                    sock,
                );
                let Ok(start) = acceptor.await else { return };
                snis.lock()
                    .unwrap()
                    .push(start.client_hello().server_name().map(str::to_string));
                let Ok(mut tls) = start.into_stream(config).await else {
                    return;
                };
                let request = read_head(&mut tls).await;
                serve_http(&mut tls, &request, &Mutex::new(Seen::default())).await;
            });
        }
    });
    (addr, snis)
}

#[tokio::test]
async fn ssl_get_without_verification_and_with_sni() {
    let (addr, snis) = https_server().await;
    let mut h = HttpSpec {
        tls: true,
        urls: vec![url("/ok", Some(MD5_HELLO), &[])],
        protocol: HttpProtocol::Http11,
        virtualhost: Some("www.example.test".into()),
        enable_sni: false,
        client_auth: None,
    };
    assert!(
        check(&spec(CheckKind::Http(Box::new(h.clone())), addr, 3000))
            .await
            .is_up(),
        "self-signed cert must be accepted"
    );
    h.enable_sni = true;
    assert!(
        check(&spec(CheckKind::Http(Box::new(h.clone())), addr, 3000))
            .await
            .is_up()
    );
    h.urls = vec![url("/missing", None, &[])];
    assert!(!check(&spec(CheckKind::Http(Box::new(h)), addr, 3000))
        .await
        .is_up());
    let snis = snis.lock().unwrap().clone();
    assert_eq!(snis[0], None, "no SNI unless enable_sni");
    assert_eq!(snis[1].as_deref(), Some("www.example.test"));
}

#[tokio::test]
async fn ssl_get_against_plain_http_fails() {
    let (addr, _) = http_server().await;
    let h = HttpSpec {
        tls: true,
        urls: vec![url("/ok", None, &[])],
        protocol: HttpProtocol::Http10,
        virtualhost: None,
        enable_sni: false,
        client_auth: None,
    };
    assert!(!check(&spec(CheckKind::Http(Box::new(h)), addr, 1000))
        .await
        .is_up());
}

// ---------------------------------------------------------------- SMTP

async fn smtp_server(banner: &'static str) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let lines2 = Arc::clone(&lines);
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = listener.accept().await else {
                return;
            };
            let lines = Arc::clone(&lines2);
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut r = tokio::io::BufReader::new(r);
                let _ = w.write_all(banner.as_bytes()).await;
                let mut line = String::new();
                while tokio::io::AsyncBufReadExt::read_line(&mut r, &mut line)
                    .await
                    .unwrap_or(0)
                    > 0
                {
                    lines.lock().unwrap().push(line.trim_end().to_string());
                    let reply: &[u8] = if line.starts_with("QUIT") {
                        b"221 bye\r\n"
                    } else {
                        b"250-hello\r\n250 OK\r\n"
                    };
                    let _ = w.write_all(reply).await;
                    line.clear();
                }
            });
        }
    });
    (addr, lines)
}

#[tokio::test]
async fn smtp_check_banner_helo_quit() {
    let (addr, lines) = smtp_server("220-mail.example.test\r\n220 ESMTP ready\r\n").await;
    let s = spec(
        CheckKind::Smtp(Box::new(SmtpSpec {
            helo_name: "checker.example.test".into(),
        })),
        addr,
        2000,
    );
    assert!(check(&s).await.is_up());
    for _ in 0..50 {
        if lines.lock().unwrap().len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        lines.lock().unwrap()[..2],
        ["HELO checker.example.test".to_string(), "QUIT".to_string()]
    );
    let (bad, _) = smtp_server("554 go away\r\n").await;
    match check(&spec(
        CheckKind::Smtp(Box::new(SmtpSpec {
            helo_name: "x".into(),
        })),
        bad,
        2000,
    ))
    .await
    {
        CheckOutcome::Down(CheckFailure::SmtpCode {
            expected: 220,
            got: 554,
            ..
        }) => {}
        other => panic!("expected banner failure, got {other:?}"),
    }
}

// ---------------------------------------------------------------- DNS

/// Replies to each query: first a datagram with a wrong id, then the real reply with `rcode`.
async fn dns_server(rcode: u8) -> SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        loop {
            let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
                return;
            };
            let mut reply = buf[..n].to_vec();
            reply[2] |= 0x80; // QR
            reply[3] = (reply[3] & 0xf0) | rcode;
            let mut wrong = reply.clone();
            wrong[0] ^= 0xff;
            let _ = sock.send_to(&wrong, peer).await;
            let _ = sock.send_to(&reply, peer).await;
        }
    });
    addr
}

#[tokio::test]
async fn dns_check_noerror_nxdomain_and_no_server() {
    let ok = dns_server(0).await;
    let kind = CheckKind::Dns(Box::new(DnsSpec {
        qtype: 1,
        name: "www.example.test".into(),
    }));
    assert!(check(&spec(kind.clone(), ok, 2000)).await.is_up());
    let nx = dns_server(3).await;
    match check(&spec(kind.clone(), nx, 2000)).await {
        CheckOutcome::Down(CheckFailure::DnsRcode(3)) => {}
        other => panic!("expected NXDOMAIN failure, got {other:?}"),
    }
    // Nothing listening: ICMP port unreachable on loopback.
    let closed = UdpSocket::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    assert!(!check(&spec(kind, closed, 1000)).await.is_up());
}

// ---------------------------------------------------------------- UDP

#[tokio::test]
async fn udp_check_reply_patterns_and_unreachable() {
    let echo = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = echo.local_addr().unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((n, peer)) = echo.recv_from(&mut buf).await {
            let _ = echo.send_to(&buf[..n], peer).await;
        }
    });
    let mut u = UdpSpec {
        payload: Some(vec![0xab, 0xcd, 0x01]),
        require_reply: true,
        reply_pattern: Some(ReplyPattern(vec![(0xab, 0xff), (0xc0, 0xf0)])),
        ..UdpSpec::default()
    };
    assert!(
        check(&spec(CheckKind::Udp(Box::new(u.clone())), addr, 1000))
            .await
            .is_up()
    );
    u.reply_pattern = Some(ReplyPattern(vec![(0xac, 0xff)]));
    assert!(matches!(
        check(&spec(CheckKind::Udp(Box::new(u.clone())), addr, 1000)).await,
        CheckOutcome::Down(CheckFailure::ReplyMismatch)
    ));
    let closed = UdpSocket::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    u.reply_pattern = None;
    assert!(matches!(
        check(&spec(CheckKind::Udp(Box::new(u.clone())), closed, 1000)).await,
        CheckOutcome::Down(CheckFailure::Unreachable(_))
    ));
    // A silent listener: up without require_reply, down with it.
    let silent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let silent_addr = silent.local_addr().unwrap();
    assert!(matches!(
        check(&spec(CheckKind::Udp(Box::new(u.clone())), silent_addr, 300)).await,
        CheckOutcome::Down(CheckFailure::NoReply)
    ));
    u.require_reply = false;
    assert!(check(&spec(CheckKind::Udp(Box::new(u)), silent_addr, 300))
        .await
        .is_up());
    drop(silent);
}

// ---------------------------------------------------------------- PING

#[tokio::test]
async fn ping_check_loopback_v4_v6() {
    // Raw ICMP needs root.
    if !rkeepalived_testkit::prerequisites(&[rkeepalived_testkit::Need::Root]) {
        return;
    }
    assert!(
        check(&spec(CheckKind::Ping, "127.0.0.1:0".parse().unwrap(), 2000))
            .await
            .is_up()
    );
    if std::fs::read_to_string("/proc/net/if_inet6").is_ok_and(|s| s.contains(" lo")) {
        assert!(
            check(&spec(CheckKind::Ping, "[::1]:0".parse().unwrap(), 2000))
                .await
                .is_up()
        );
    }
}

// ---------------------------------------------------------------- MISC

#[tokio::test]
async fn misc_check_exit_codes_dynamic_and_timeout() {
    let misc = |cmd: &str, dynamic: bool, timeout_ms: u64| {
        let script = Script {
            argv: vec!["/bin/sh".into(), "-c".into(), cmd.into()],
            user: None,
        };
        spec(
            CheckKind::Misc(Box::new(MiscSpec {
                script,
                timeout: Some(Duration::from_millis(timeout_ms)),
                dynamic,
                refused: None,
            })),
            "127.0.0.1:0".parse().unwrap(),
            1000,
        )
    };
    assert!(check(&misc("exit 0", false, 2000)).await.is_up());
    assert!(!check(&misc("exit 3", false, 2000)).await.is_up());
    assert!(matches!(
        check(&misc("exit 12", true, 2000)).await,
        CheckOutcome::UpWithWeight(10)
    ));
    assert!(!check(&misc("exit 1", true, 2000)).await.is_up());
    assert!(matches!(
        check(&misc("sleep 30", false, 300)).await,
        CheckOutcome::Down(CheckFailure::ScriptTimeout)
    ));
}

/// HTTP_GET's connect (`conn::tcp_connect_by`) reads the socket's state
/// right after `connect()` and waits in the reactor only when the
/// handshake is still in flight: refused at once, timed out while a full
/// accept queue drops the SYNs, and up when the queue drains in time (the
/// SYN retransmission ~1 s later is answered: the reactor path).
#[tokio::test]
async fn http_get_connect_refused_in_flight_and_timed_out() {
    use socket2::{Domain, Socket, Type};
    // Refused: a port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused_at = closed.local_addr().unwrap();
    drop(closed);
    match check(&spec(http(vec![url("/", None, &[])]), refused_at, 2000)).await {
        CheckOutcome::Down(CheckFailure::Connect(e)) => {
            assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused)
        }
        other => panic!("expected refused, got {other:?}"),
    }
    // A listener whose accept queue is full.
    let listener = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    listener
        .bind(&"127.0.0.1:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    listener.listen(0).unwrap();
    let addr = listener.local_addr().unwrap().as_socket().unwrap();
    let fill = std::net::TcpStream::connect(addr).unwrap();
    match check(&spec(http(vec![url("/", None, &[])]), addr, 300)).await {
        CheckOutcome::Down(CheckFailure::Timeout("connect")) => {}
        other => panic!("expected a connect timeout, got {other:?}"),
    }
    // Drained after the next check's SYN was dropped: it connects on the
    // retransmission and is served.
    let serve = tokio::task::spawn_blocking(move || {
        std::thread::sleep(Duration::from_millis(200));
        let first = listener.accept().unwrap();
        let (mut sock, _) = listener.accept().unwrap();
        use std::io::{Read, Write};
        let mut buf = [0u8; 1024];
        let _ = sock.read(&mut buf);
        let _ = sock.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
        drop((first, fill));
    });
    let started = std::time::Instant::now();
    let out = check(&spec(http(vec![url("/", None, &[])]), addr, 5000)).await;
    assert!(out.is_up(), "{out:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(500),
        "the answer came with the SYN retransmission: {:?}",
        started.elapsed()
    );
    serve.await.unwrap();
}
