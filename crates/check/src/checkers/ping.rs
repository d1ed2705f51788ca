//! PING_CHECK (keepalived check_ping.c): one ICMP/ICMPv6 echo request, up
//! when the matching echo reply arrives within connect_timeout. Uses an
//! unprivileged ping socket when allowed (net.ipv4.ping_group_range), else
//! a raw socket (root).

use std::net::SocketAddr;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;

use super::{BoxFuture, CheckOutcome, Checker};
use crate::conn::{is_unreachable, random_u64, within};
use crate::error::CheckFailure;
use crate::spec::ConnOpts;
use crate::wire::icmp::{encode_echo_request, parse_echo_reply};

pub struct PingChecker {
    conn: ConnOpts,
    timeout: Duration,
    ident: u16,
    seq: std::sync::atomic::AtomicU16,
}

impl PingChecker {
    pub fn new(conn: ConnOpts, timeout: Duration) -> Self {
        Self {
            conn,
            timeout,
            ident: random_u64() as u16,
            seq: std::sync::atomic::AtomicU16::new(0),
        }
    }

    /// (socket, raw?) — raw sockets see every ICMP packet and, for IPv4, the IP header.
    fn open(&self) -> Result<(UdpSocket, bool), CheckFailure> {
        let v6 = self.conn.dst.is_ipv6();
        let (domain, proto) = if v6 {
            (Domain::IPV6, Protocol::ICMPV6)
        } else {
            (Domain::IPV4, Protocol::ICMPV4)
        };
        let (sock, raw) =
            match Socket::new(domain, Type::DGRAM.nonblocking().cloexec(), Some(proto)) {
                Ok(s) => (s, false),
                Err(_) => (
                    Socket::new(domain, Type::RAW.nonblocking().cloexec(), Some(proto))
                        .map_err(CheckFailure::Socket)?,
                    true,
                ),
            };
        if let Some(mark) = self.conn.fwmark() {
            sock.set_mark(mark).map_err(CheckFailure::Socket)?;
        }
        if let Some(ifname) = self.conn.bind_if() {
            sock.bind_device(Some(ifname.as_bytes()))
                .map_err(CheckFailure::Socket)?;
        }
        if let Some(ip) = self.conn.bindto() {
            sock.bind(&SocketAddr::new(ip, 0).into())
                .map_err(CheckFailure::Socket)?;
        }
        sock.connect(&SocketAddr::new(self.conn.dst.ip(), 0).into())
            .map_err(CheckFailure::Connect)?;
        // tokio's UdpSocket is a plain datagram fd wrapper; ICMP sockets work with it.
        let std_sock: std::net::UdpSocket = sock.into();
        Ok((
            UdpSocket::from_std(std_sock).map_err(CheckFailure::Socket)?,
            raw,
        ))
    }

    async fn ping(&self) -> Result<(), CheckFailure> {
        let v6 = self.conn.dst.is_ipv6();
        let (sock, raw) = self.open()?;
        let seq = self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let payload = random_u64().to_be_bytes();
        let request = encode_echo_request(v6, self.ident, seq, &payload);
        within(self.timeout, "ICMP echo", async {
            sock.send(&request).await.map_err(CheckFailure::Io)?;
            let mut buf = [0u8; 1500];
            loop {
                let n = match sock.recv(&mut buf).await {
                    Ok(n) => n,
                    Err(e) if is_unreachable(&e) => return Err(CheckFailure::Unreachable(e)),
                    Err(e) => return Err(CheckFailure::Io(e)),
                };
                let Ok(reply) = parse_echo_reply(&buf[..n], v6, raw && !v6) else {
                    continue;
                };
                // Ping sockets rewrite the identifier to their port and filter for us.
                let ours = reply.seq == seq
                    && reply.payload == payload
                    && (!raw || reply.ident == self.ident);
                if ours {
                    return Ok(());
                }
            }
        })
        .await
    }
}

impl Checker for PingChecker {
    fn kind(&self) -> &'static str {
        "PING_CHECK"
    }

    fn check(&self) -> BoxFuture<'_, CheckOutcome> {
        Box::pin(async move { self.ping().await.into() })
    }
}
