//! HTTP_GET / SSL_GET (keepalived check_http.c, check_ssl.c): for every
//! url, send `GET path`, accept the status per `status_code` (default
//! 200-299), with `digest` compare the MD5 of the body as genhash prints
//! it (the body as received: chunk framing is not decoded, as keepalived
//! does), and with `regex` match the response as keepalived buffers it.
//! SSL_GET does TLS without certificate verification, presenting the `SSL`
//! block's client certificate if any; SNI only with `enable_sni`.
//!
//! Each url's connection is one attempt with one overall deadline of
//! `connect_timeout` (connect, TLS, request and the whole response; see
//! [`Deadline`]) and at most [`MAX_RESPONSE`] bytes read: a server that
//! drips its answer or streams an endless body fails the attempt.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::time::Duration;

use md5::{Digest, Md5};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::{BoxFuture, CheckOutcome, Checker};
use crate::conn::{tcp_connect_by, Deadline};
use crate::error::CheckFailure;
use crate::spec::{ConnOpts, HttpProtocol, HttpSpec, UrlSpec};
use crate::wire::http::ResponseParser;
pub use crate::wire::http::MAX_RESPONSE;

pub struct HttpChecker {
    conn: ConnOpts,
    timeout: Duration,
    spec: HttpSpec,
    /// SSL_GET: the config shared by every checker of the same `SSL`
    /// block (its session store resumes sessions, [`crate::tls`]).
    tls: Option<Result<(tokio_rustls::TlsConnector, crate::tls::TlsLease), rustls::Error>>,
    /// [`Checker::answer_waited`] of the last attempt, in milliseconds.
    answer_waited_ms: AtomicU32,
}

impl HttpChecker {
    pub fn new(conn: ConnOpts, timeout: Duration, spec: HttpSpec) -> Self {
        let tls = spec
            .tls
            .then(|| crate::tls::shared_connector(spec.client_auth.as_deref()));
        Self {
            conn,
            timeout,
            spec,
            tls,
            answer_waited_ms: AtomicU32::new(0),
        }
    }

    /// Note how long the answer just read on `stream` waited for us: the
    /// age of the last segment the server sent (data or its FIN: the
    /// younger of `tcpi_last_data_recv` and `tcpi_last_ack_recv`). Only
    /// for an answer read to its end and judged: after a timeout or an
    /// I/O error the age is the server's silence, not our lateness.
    fn note_answer_age(&self, stream: &tokio::net::TcpStream, verdict: &Result<(), CheckFailure>) {
        let judged = match verdict {
            Ok(()) => true,
            Err(e) => matches!(
                e,
                CheckFailure::HttpStatus { .. }
                    | CheckFailure::Digest { .. }
                    | CheckFailure::Regex { .. }
                    | CheckFailure::Http(_)
                    | CheckFailure::Closed
            ),
        };
        let age = judged
            .then(|| crate::sys::tcp_last_segment_age(stream).ok())
            .flatten()
            .unwrap_or(Duration::ZERO);
        let ms = u32::try_from(age.as_millis()).unwrap_or(u32::MAX);
        self.answer_waited_ms.store(ms, Relaxed);
    }

    async fn check_url(&self, url: &UrlSpec) -> Result<(), CheckFailure> {
        self.answer_waited_ms.store(0, Relaxed);
        let deadline = Deadline::after(self.timeout);
        let mut stream = tcp_connect_by(&self.conn, deadline).await?;
        let _ = stream.set_nodelay(true);
        let vhost = url
            .virtualhost
            .as_deref()
            .or(self.spec.virtualhost.as_deref());
        let request = build_request(
            &url.path,
            vhost,
            self.conn.dst,
            self.spec.tls,
            self.spec.protocol,
        );
        match &self.tls {
            None => {
                let verdict = self.exchange(&mut stream, &request, url, deadline).await;
                self.note_answer_age(&stream, &verdict);
                verdict
            }
            Some(Err(e)) => Err(CheckFailure::Tls(std::io::Error::other(e.clone()))),
            Some(Ok((connector, _))) => {
                let name = crate::tls::server_name(
                    self.spec.enable_sni.then_some(vhost).flatten(),
                    self.conn.dst.ip(),
                );
                let mut tls_stream = deadline
                    .run("TLS handshake", async {
                        connector
                            .connect(name, stream)
                            .await
                            .map_err(CheckFailure::Tls)
                    })
                    .await?;
                let verdict = self
                    .exchange(&mut tls_stream, &request, url, deadline)
                    .await;
                self.note_answer_age(tls_stream.get_ref().0, &verdict);
                verdict
            }
        }
    }

    async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        stream: &mut S,
        request: &[u8],
        url: &UrlSpec,
        deadline: Deadline,
    ) -> Result<(), CheckFailure> {
        deadline
            .run("HTTP request", async {
                stream.write_all(request).await.map_err(CheckFailure::Io)
            })
            .await?;
        // With a digest or a regex the body is read as keepalived reads it
        // (raw, until Content-Length or EOF); else the status line is all
        // we need.
        let want_body = url.digest.is_some() || url.regex.is_some();
        let mut parser = if want_body {
            ResponseParser::new().raw_body()
        } else {
            ResponseParser::new()
        };
        let mut md5 = Md5::new();
        // The regex subject as keepalived builds it (check_http.c
        // `http_process_response`): its buffer still holds the head when
        // the read that completes the head also brings body bytes, so the
        // head is matched too and the offsets count from the response's
        // first byte; when the head arrives alone it is discarded and they
        // count from the body's.
        let mut subject = Vec::new();
        let mut subject_from: Option<usize> = None;
        let keep_body = url.regex.is_some();
        // Not zeroed: `read_buf` fills the spare capacity (a 16 KiB memset
        // per check otherwise).
        let mut buf = Vec::with_capacity(16 * 1024);
        loop {
            buf.clear();
            let n = deadline
                .run("HTTP response", async {
                    match stream.read_buf(&mut buf).await {
                        Ok(n) => Ok(n),
                        // TLS peers often close without close_notify; treat as EOF.
                        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
                        Err(e) => Err(CheckFailure::Io(e)),
                    }
                })
                .await?;
            if n == 0 {
                parser.finish()?;
                break;
            }
            let had_head = parser.head().is_some();
            let before = subject.len();
            if keep_body {
                subject.extend_from_slice(&buf[..n]);
            }
            let mut body_now = 0usize;
            parser.feed(&buf[..n], &mut |b| {
                md5.update(b);
                body_now += b.len();
            })?;
            if keep_body && !had_head && parser.head().is_some() {
                subject_from = Some(if body_now > 0 { 0 } else { before + n });
            }
            if parser.is_complete() {
                break;
            }
            if !want_body && parser.head().is_some() {
                break;
            }
        }
        let head = parser.head().ok_or(CheckFailure::Closed)?;
        // keepalived http_handle_response: status, then digest, then regex.
        if !url.status_codes.matches(head.status) {
            return Err(CheckFailure::HttpStatus {
                path: url.path.clone(),
                got: head.status,
            });
        }
        if let Some(expected) = &url.digest {
            let got = hex(&md5.finalize());
            if !got.eq_ignore_ascii_case(expected) {
                return Err(CheckFailure::Digest {
                    path: url.path.clone(),
                    got,
                    expected: expected.clone(),
                });
            }
        }
        if let Some(r) = &url.regex {
            let from = subject_from.unwrap_or(subject.len()).min(subject.len());
            if !r.passes(&subject[from..]) {
                return Err(CheckFailure::Regex {
                    path: url.path.clone(),
                    matched: if r.no_match {
                        "matched"
                    } else {
                        "did not match"
                    },
                });
            }
        }
        Ok(())
    }
}

impl Checker for HttpChecker {
    fn kind(&self) -> &'static str {
        if self.spec.tls {
            "SSL_GET"
        } else {
            "HTTP_GET"
        }
    }

    fn check(&self) -> BoxFuture<'_, CheckOutcome> {
        Box::pin(async move {
            for url in &self.spec.urls {
                if let Err(e) = self.check_url(url).await {
                    return CheckOutcome::Down(e);
                }
            }
            CheckOutcome::Up
        })
    }

    fn answer_waited(&self) -> Duration {
        Duration::from_millis(u64::from(self.answer_waited_ms.load(Relaxed)))
    }
}

/// The request keepalived 2.2.7 sends (its binary's template is
/// `GET %s HTTP/1.%d\r\nUser-Agent: KeepAliveClient\r\n%sHost: %s%s\r\n\r\n`):
/// Host is the virtualhost, else the address (IPv6 in brackets), plus
/// `:port` unless it is the scheme's default port.
///
/// Written into one buffer (one allocation per check, not one per part).
pub fn build_request(
    path: &str,
    vhost: Option<&str>,
    dst: SocketAddr,
    tls: bool,
    protocol: HttpProtocol,
) -> Vec<u8> {
    use std::io::Write;
    let (version, close) = match protocol {
        HttpProtocol::Http10 => ("1.0", ""),
        HttpProtocol::Http10Close => ("1.0", "Connection: close\r\n"),
        HttpProtocol::Http11 => ("1.1", "Connection: close\r\n"),
    };
    let mut out = Vec::with_capacity(96 + path.len() + vhost.map_or(48, str::len));
    // Writing to a Vec cannot fail.
    let _ = write!(
        out,
        "GET {path} HTTP/{version}\r\nUser-Agent: KeepAliveClient\r\n{close}Host: "
    );
    let _ = match (vhost, dst) {
        (Some(v), _) => write!(out, "{v}"),
        (None, SocketAddr::V4(a)) => write!(out, "{}", a.ip()),
        (None, SocketAddr::V6(a)) => write!(out, "[{}]", a.ip()),
    };
    let default_port = if tls { 443 } else { 80 };
    if dst.port() != default_port {
        let _ = write!(out, ":{}", dst.port());
    }
    out.extend_from_slice(b"\r\n\r\n");
    out
}

/// Lower-case hex, as genhash prints digests.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_matches_keepalived_template() {
        let dst: SocketAddr = "192.0.2.10:8080".parse().unwrap();
        assert_eq!(
            build_request("/health", None, dst, false, HttpProtocol::Http10),
            b"GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 192.0.2.10:8080\r\n\r\n"
        );
        let dst6: SocketAddr = "[2001:db8::1]:443".parse().unwrap();
        assert_eq!(
            build_request("/", Some("www.example.com"), dst6, true, HttpProtocol::Http11),
            b"GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.example.com\r\n\r\n"
        );
    }

    #[test]
    fn md5_hex_of_known_input() {
        // RFC 1321 test suite: MD5("abc").
        assert_eq!(
            hex(&Md5::digest(b"abc")),
            "900150983cd24fb0d6963f7d28e17f72"
        );
    }
}
