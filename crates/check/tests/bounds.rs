//! Every connected checker ends its attempt by `connect_timeout`, however
//! the server behaves: one that drips its answer a byte at a time (a
//! per-read timeout would be re-armed forever, as keepalived does), one that
//! streams an endless body (capped), and DNS/UDP servers that answer in
//! pieces or flood. Loopback servers written here with tokio.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rkeepalived_check::checkers::{build, CheckOutcome};
use rkeepalived_check::spec::*;
use rkeepalived_check::wire::http::HttpParseError;
use rkeepalived_check::CheckFailure;
use rkeepalived_script::{ScriptRunner, ScriptSecurity};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

/// Slack for a loaded CI machine on top of connect_timeout.
const MARGIN: Duration = Duration::from_millis(1500);
/// Drip interval: far below connect_timeout, so a per-read timer never fires.
const DRIP: Duration = Duration::from_millis(100);

fn runner() -> ScriptRunner {
    ScriptRunner::new(ScriptSecurity::root(false))
}

fn spec(kind: CheckKind, dst: SocketAddr, timeout: Duration) -> CheckerSpec {
    let mut timing = CheckTiming::defaults_for(&kind, Duration::from_secs(1));
    timing.connect_timeout = timeout;
    CheckerSpec {
        kind,
        conn: ConnOpts::to(dst),
        timing: Arc::new(timing),
    }
}

/// One attempt and how long it took.
async fn timed_check(spec: &CheckerSpec) -> (CheckOutcome, Duration) {
    let checker = build(&Arc::new(spec.clone()), &runner());
    let started = Instant::now();
    let outcome = checker.check().await;
    (outcome, started.elapsed())
}

fn http(tls: bool, digest: Option<&str>) -> CheckKind {
    CheckKind::Http(Box::new(HttpSpec {
        tls,
        urls: vec![UrlSpec {
            path: "/".into(),
            digest: digest.map(Into::into),
            status_codes: StatusCodes(Vec::new()),
            virtualhost: None,
            regex: None,
        }],
        protocol: HttpProtocol::Http10,
        virtualhost: None,
        enable_sni: false,
        client_auth: None,
    }))
}

async fn read_request<S: AsyncRead + Unpin>(sock: &mut S) {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match sock.read(&mut byte).await {
            Ok(1) => buf.push(byte[0]),
            _ => return,
        }
    }
}

/// What a misbehaving server sends after the request.
#[derive(Clone, Copy)]
enum Behaviour {
    /// The status line and headers, one byte every [`DRIP`], never ending.
    DripHead,
    /// A complete head, then one body byte every [`DRIP`], forever.
    DripBody,
    /// A complete head without Content-Length, then 64 KiB blocks forever.
    EndlessBody,
}

/// Serve `behaviour` on `sock`; set `closed` once the checker hung up (a
/// write fails), which shows the attempt really ended.
async fn misbehave<S: AsyncRead + AsyncWrite + Unpin>(
    mut sock: S,
    behaviour: Behaviour,
    closed: Arc<AtomicBool>,
) {
    read_request(&mut sock).await;
    let head: &[u8] = b"HTTP/1.0 200 OK\r\nServer: drip\r\n\r\n";
    let result: std::io::Result<()> = async {
        match behaviour {
            Behaviour::DripHead => loop {
                for b in head[..head.len() - 2].iter().cycle() {
                    sock.write_all(&[*b]).await?;
                    sock.flush().await?;
                    tokio::time::sleep(DRIP).await;
                }
            },
            Behaviour::DripBody => {
                sock.write_all(head).await?;
                loop {
                    sock.write_all(b"x").await?;
                    sock.flush().await?;
                    tokio::time::sleep(DRIP).await;
                }
            }
            Behaviour::EndlessBody => {
                sock.write_all(head).await?;
                let block = vec![b'x'; 64 * 1024];
                loop {
                    sock.write_all(&block).await?;
                }
            }
        }
    }
    .await;
    let _ = result;
    closed.store(true, Ordering::SeqCst);
}

async fn http_server(behaviour: Behaviour) -> (SocketAddr, Arc<AtomicBool>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let closed = Arc::new(AtomicBool::new(false));
    let closed2 = Arc::clone(&closed);
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(misbehave(sock, behaviour, Arc::clone(&closed2)));
        }
    });
    (addr, closed)
}

async fn https_server(behaviour: Behaviour) -> (SocketAddr, Arc<AtomicBool>) {
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
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let closed = Arc::new(AtomicBool::new(false));
    let closed2 = Arc::clone(&closed);
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let closed = Arc::clone(&closed2);
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(sock).await {
                    misbehave(tls, behaviour, closed).await;
                }
            });
        }
    });
    (addr, closed)
}

/// The server notices the checker's hang-up within a few drips.
async fn assert_hung_up(closed: &AtomicBool) {
    let until = Instant::now() + MARGIN;
    while !closed.load(Ordering::SeqCst) {
        assert!(
            Instant::now() < until,
            "the checker still holds the connection after its attempt ended"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn assert_timed_out(outcome: &CheckOutcome, took: Duration, timeout: Duration) {
    assert!(
        matches!(outcome, CheckOutcome::Down(CheckFailure::Timeout(_))),
        "expected a timeout, got {outcome:?}"
    );
    assert!(
        took >= timeout - Duration::from_millis(50) && took < timeout + MARGIN,
        "attempt took {took:?} with connect_timeout {timeout:?}"
    );
}

const TIMEOUT: Duration = Duration::from_millis(800);

#[tokio::test]
async fn http_get_dripping_head_fails_by_connect_timeout() {
    let (addr, closed) = http_server(Behaviour::DripHead).await;
    let (outcome, took) = timed_check(&spec(http(false, None), addr, TIMEOUT)).await;
    assert_timed_out(&outcome, took, TIMEOUT);
    assert_hung_up(&closed).await;
}

#[tokio::test]
async fn http_get_dripping_body_fails_by_connect_timeout() {
    let (addr, closed) = http_server(Behaviour::DripBody).await;
    let digest = "5d41402abc4b2a76b9719d911017c592";
    let (outcome, took) = timed_check(&spec(http(false, Some(digest)), addr, TIMEOUT)).await;
    assert_timed_out(&outcome, took, TIMEOUT);
    assert_hung_up(&closed).await;
}

#[tokio::test]
async fn ssl_get_dripping_head_and_body_fail_by_connect_timeout() {
    let (addr, closed) = https_server(Behaviour::DripHead).await;
    let (outcome, took) = timed_check(&spec(http(true, None), addr, TIMEOUT)).await;
    assert_timed_out(&outcome, took, TIMEOUT);
    assert_hung_up(&closed).await;

    let (addr, closed) = https_server(Behaviour::DripBody).await;
    let digest = "5d41402abc4b2a76b9719d911017c592";
    let (outcome, took) = timed_check(&spec(http(true, Some(digest)), addr, TIMEOUT)).await;
    assert_timed_out(&outcome, took, TIMEOUT);
    assert_hung_up(&closed).await;
}

/// An endless body with a digest to compute: the response cap ends the
/// attempt long before its deadline (which alone would hash at full speed
/// for the whole connect_timeout).
#[tokio::test]
async fn http_get_endless_body_is_capped() {
    let (addr, closed) = http_server(Behaviour::EndlessBody).await;
    let digest = "5d41402abc4b2a76b9719d911017c592";
    let timeout = Duration::from_secs(30);
    let (outcome, took) = timed_check(&spec(http(false, Some(digest)), addr, timeout)).await;
    assert!(
        matches!(
            outcome,
            CheckOutcome::Down(CheckFailure::Http(HttpParseError::TooLarge(_)))
        ),
        "expected the response cap, got {outcome:?}"
    );
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_hung_up(&closed).await;
}

#[tokio::test]
async fn ssl_get_endless_body_is_capped() {
    let (addr, closed) = https_server(Behaviour::EndlessBody).await;
    let digest = "5d41402abc4b2a76b9719d911017c592";
    let timeout = Duration::from_secs(30);
    let (outcome, took) = timed_check(&spec(http(true, Some(digest)), addr, timeout)).await;
    assert!(
        matches!(
            outcome,
            CheckOutcome::Down(CheckFailure::Http(HttpParseError::TooLarge(_)))
        ),
        "expected the response cap, got {outcome:?}"
    );
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_hung_up(&closed).await;
}

#[tokio::test]
async fn smtp_check_dripping_banner_fails_by_connect_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let closed = Arc::new(AtomicBool::new(false));
    let closed2 = Arc::clone(&closed);
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let closed = Arc::clone(&closed2);
            tokio::spawn(async move {
                // A multi-line banner that never reaches its last line.
                for b in b"220-mail.example.test drip\r\n".iter().cycle() {
                    if sock.write_all(&[*b]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(DRIP).await;
                }
                closed.store(true, Ordering::SeqCst);
            });
        }
    });
    let kind = CheckKind::Smtp(Box::new(SmtpSpec {
        helo_name: "checker.example.test".into(),
    }));
    let (outcome, took) = timed_check(&spec(kind, addr, TIMEOUT)).await;
    assert_timed_out(&outcome, took, TIMEOUT);
    assert_hung_up(&closed).await;
}

fn dns_kind() -> CheckKind {
    CheckKind::Dns(Box::new(DnsSpec {
        qtype: 1,
        name: "www.example.test".into(),
    }))
}

/// A DNS server answering every query with datagrams the check must ignore
/// (wrong id, too short, no QR), either in slow pieces or as a flood.
async fn stray_dns_server(flood: bool) -> (SocketAddr, Arc<AtomicBool>) {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = sock.local_addr().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = Arc::clone(&stop);
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        let Ok((n, peer)) = sock.recv_from(&mut buf).await else {
            return;
        };
        let mut wrong_id = buf[..n].to_vec();
        wrong_id[0] ^= 0xff;
        wrong_id[2] |= 0x80;
        let mut no_qr = buf[..n].to_vec();
        no_qr[2] &= 0x7f;
        let short = buf[..4].to_vec();
        let strays = [wrong_id, no_qr, short];
        let mut i = 0usize;
        while !stop2.load(Ordering::SeqCst) {
            // An unreachable error ends the flood: the checker closed its socket.
            if sock.send_to(&strays[i % 3], peer).await.is_err() {
                break;
            }
            i += 1;
            if flood {
                if i % 64 == 0 {
                    tokio::task::yield_now().await;
                }
            } else {
                tokio::time::sleep(DRIP).await;
            }
        }
    });
    (addr, stop)
}

#[tokio::test]
async fn dns_check_slow_stray_replies_fail_by_connect_timeout() {
    let (addr, stop) = stray_dns_server(false).await;
    let (outcome, took) = timed_check(&spec(dns_kind(), addr, TIMEOUT)).await;
    stop.store(true, Ordering::SeqCst);
    assert_timed_out(&outcome, took, TIMEOUT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dns_check_flood_fails_by_connect_timeout() {
    let (addr, stop) = stray_dns_server(true).await;
    let (outcome, took) = timed_check(&spec(dns_kind(), addr, TIMEOUT)).await;
    stop.store(true, Ordering::SeqCst);
    assert_timed_out(&outcome, took, TIMEOUT);
}

/// UDP_CHECK: the first datagram decides (keepalived `udp_socket_state`), so
/// a flood of short pieces fails at once, and a server that answers only
/// after connect_timeout fails by it.
#[tokio::test]
async fn udp_check_pieces_flood_and_late_answer_end_in_time() {
    let server = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = server.local_addr().unwrap();
    let late = Arc::new(AtomicBool::new(false));
    let late2 = Arc::clone(&late);
    tokio::spawn(async move {
        let mut buf = [0u8; 512];
        while let Ok((_, peer)) = server.recv_from(&mut buf).await {
            if late2.load(Ordering::SeqCst) {
                tokio::time::sleep(TIMEOUT * 2).await;
                let _ = server.send_to(b"ABCDEFGH", peer).await;
                continue;
            }
            for _ in 0..10_000 {
                if server.send_to(b"A", peer).await.is_err() {
                    break;
                }
            }
        }
    });
    let u = UdpSpec {
        payload: Some(b"ping".to_vec()),
        require_reply: true,
        min_reply_length: 4,
        ..UdpSpec::default()
    };
    let kind = CheckKind::Udp(Box::new(u));
    let (outcome, took) = timed_check(&spec(kind.clone(), addr, TIMEOUT)).await;
    assert!(
        matches!(
            outcome,
            CheckOutcome::Down(CheckFailure::ReplyLength { len: 1, .. })
        ),
        "{outcome:?}"
    );
    assert!(took < TIMEOUT, "took {took:?}");
    late.store(true, Ordering::SeqCst);
    let (outcome, took) = timed_check(&spec(kind, addr, TIMEOUT)).await;
    assert!(
        matches!(outcome, CheckOutcome::Down(CheckFailure::NoReply)),
        "{outcome:?}"
    );
    assert!(took < TIMEOUT + MARGIN, "took {took:?}");
}
