//! The SSL_GET target of bench/check/ceiling.sh: an HTTPS server that
//! answers every request with `HTTP/1.0 200 OK` and the body `ok` (as
//! bench/check/tiny_server.c does over plain TCP), then closes.
//!
//!     tls-server ADDR PORT [THREADS=2]
//!
//! One process, THREADS runtime workers sharing one listener and one
//! rustls config: a self-signed ECDSA P-256 certificate made at start
//! (rcgen), TLS 1.2 and 1.3, and stateless session tickets (one ticket key
//! for the whole process), so a client that resumes (ours) can resume
//! with every connection and one that does not (keepalived 2.2.7, a full
//! handshake per check) pays a full handshake on both sides every time.
//! Bench tool only: no verification of anything, no limits.
//!
//! Every 5 s it prints the handshakes completed so far to stderr, full and
//! resumed (`handshakes full N resumed M`): which contender resumes.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

static FULL: AtomicU64 = AtomicU64::new(0);
static RESUMED: AtomicU64 = AtomicU64::new(0);

const ANSWER: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";

fn usage() -> ! {
    eprintln!("usage: tls-server ADDR PORT [THREADS]");
    std::process::exit(2)
}

fn config() -> Result<rustls::ServerConfig, Box<dyn std::error::Error>> {
    let key = rcgen::KeyPair::generate()?;
    let cert =
        rcgen::CertificateParams::new(vec!["bench.example.test".to_string()])?.self_signed(&key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)?
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der())?,
        )?;
    config.ticketer = rustls::crypto::ring::Ticketer::new()?;
    Ok(config)
}

async fn serve(addr: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config()?));
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    let listener = socket.listen(65535)?;
    tokio::spawn(async {
        loop {
            tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            eprintln!(
                "handshakes full {} resumed {}",
                FULL.load(Relaxed),
                RESUMED.load(Relaxed)
            );
        }
    });
    loop {
        let Ok((sock, _)) = listener.accept().await else {
            continue;
        };
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _ = sock.set_nodelay(true);
            let Ok(mut tls) = acceptor.accept(sock).await else {
                return;
            };
            match tls.get_ref().1.handshake_kind() {
                Some(rustls::HandshakeKind::Resumed) => RESUMED.fetch_add(1, Relaxed),
                _ => FULL.fetch_add(1, Relaxed),
            };
            // The request: read until its blank line (or EOF).
            let mut req = Vec::with_capacity(512);
            let mut buf = [0u8; 1024];
            loop {
                match tls.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
                if req.windows(4).any(|w| w == b"\r\n\r\n") || req.len() > 16 * 1024 {
                    break;
                }
            }
            let _ = tls.write_all(ANSWER).await;
            let _ = tls.shutdown().await;
        });
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        usage();
    }
    let ip: IpAddr = args[0].parse().unwrap_or_else(|_| usage());
    let port: u16 = args[1].parse().unwrap_or_else(|_| usage());
    let threads: usize = args
        .get(2)
        .map_or(Some(2), |t| t.parse().ok())
        .unwrap_or_else(|| usage());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .enable_all()
        .build();
    let result = match runtime {
        Ok(rt) => rt.block_on(serve(SocketAddr::new(ip, port))),
        Err(e) => Err(e.into()),
    };
    if let Err(e) = result {
        eprintln!("tls-server: {e}");
        std::process::exit(1);
    }
}
