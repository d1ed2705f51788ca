//! Outgoing sockets for checkers: `bindto`, `bind_port`, `bind_if`,
//! `fwmark` and connect timeouts, shared by every TCP and UDP checker.

use std::cell::RefCell;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpStream, UdpSocket};

use crate::error::CheckFailure;
use crate::spec::ConnOpts;

fn prepared_socket(co: &ConnOpts, ty: Type, proto: Protocol) -> Result<Socket, CheckFailure> {
    let domain = Domain::for_address(co.dst);
    let sock = Socket::new(domain, ty.nonblocking().cloexec(), Some(proto))
        .map_err(CheckFailure::Socket)?;
    let Some(src) = co.source.as_deref() else {
        return Ok(sock);
    };
    if let Some(mark) = src.fwmark {
        sock.set_mark(mark).map_err(CheckFailure::Socket)?;
    }
    if let Some(ifname) = &src.bind_if {
        sock.bind_device(Some(ifname.as_bytes()))
            .map_err(CheckFailure::Socket)?;
    }
    if src.bindto.is_some() || src.bind_port.is_some() {
        let ip = src.bindto.unwrap_or(match co.dst {
            SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        });
        if src.bind_port.is_some() {
            sock.set_reuse_address(true).map_err(CheckFailure::Socket)?;
        }
        sock.bind(&SocketAddr::new(ip, src.bind_port.unwrap_or(0)).into())
            .map_err(CheckFailure::Socket)?;
    }
    Ok(sock)
}

/// Connect a TCP stream within `timeout`.
pub async fn tcp_connect(co: &ConnOpts, timeout: Duration) -> Result<TcpStream, CheckFailure> {
    tcp_connect_by(co, Deadline::after(timeout)).await
}

/// Connect a TCP stream before `deadline` (the attempt's overall deadline).
///
/// As in [`tcp_probe`], a near server has usually answered before the
/// non-blocking `connect()` returns: the socket's state is read at once
/// and the reactor is only waited on when the handshake is really still
/// in flight. (tokio's `TcpSocket::connect` always waits for a writable
/// event: one more reactor turn and task wake per HTTP_GET / SSL_GET /
/// SMTP check, ~10 % of an HTTP_GET's CPU on loopback.)
pub async fn tcp_connect_by(co: &ConnOpts, deadline: Deadline) -> Result<TcpStream, CheckFailure> {
    if tokio::time::Instant::now() >= deadline.instant() {
        return Err(CheckFailure::Timeout("connect"));
    }
    let sock = prepared_socket(co, Type::STREAM, Protocol::TCP)?;
    match sock.connect(&co.dst.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(CheckFailure::Connect(e)),
    }
    let connected = connect_state(&sock)?;
    let std_stream: std::net::TcpStream = sock.into();
    let stream = TcpStream::from_std(std_stream).map_err(CheckFailure::Socket)?;
    if !connected {
        deadline.run("connect", connect_finished(&stream)).await?;
    }
    Ok(stream)
}

/// Right after a non-blocking `connect()`: connected (true), still in
/// flight (false), or refused (the error). One getpeername() answers the
/// common case; the pending error is read only when it does not.
fn connect_state(sock: &Socket) -> Result<bool, CheckFailure> {
    if sock.peer_addr().is_ok() {
        return Ok(true);
    }
    match sock.take_error() {
        Ok(Some(refused)) => Err(CheckFailure::Connect(refused)),
        Ok(None) => Ok(false),
        Err(e) => Err(CheckFailure::Socket(e)),
    }
}

/// Waits in the reactor for a connect still in flight, as tokio's connect
/// does (`TcpStream::connect_mio`): writable, then the pending error, then
/// whether there is a peer.
async fn connect_finished(stream: &TcpStream) -> Result<(), CheckFailure> {
    stream.writable().await.map_err(CheckFailure::Connect)?;
    match stream.take_error().map_err(CheckFailure::Socket)? {
        Some(e) => Err(CheckFailure::Connect(e)),
        None => stream
            .peer_addr()
            .map(|_| ())
            .map_err(CheckFailure::Connect),
    }
}

/// TCP_CHECK's probe: connect within `timeout`, then abort with RST.
///
/// A server on loopback or next door has usually answered before the
/// non-blocking `connect()` returns (the handshake runs in the same
/// softirq pass), so the socket's state is read right away and the
/// reactor (epoll add, wakeup, epoll delete) is only involved when the
/// answer is really still on its way.
///
/// The handshake's final ACK is held back (delayed-ACK mode set before
/// connect): the kernel reports the socket connected when the SYN-ACK
/// arrives, and the RST goes out before the ACK would. The verdict is the
/// one a full handshake gives (connect() succeeds on the SYN-ACK, and a
/// listener whose accept queue is full drops the SYN either way), but the
/// real server never creates, queues and wakes its application for a
/// connection that is torn down at once.
///
/// Probes with default options reuse idle sockets (`ProbeSocket`).
pub async fn tcp_probe(co: &ConnOpts, timeout: Duration) -> Result<(), CheckFailure> {
    let sock = ProbeSocket::take(co)?;
    match sock.sock.connect(&co.dst.into()) {
        Ok(()) => return sock.finish(Ok(())),
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return sock.finish(Err(CheckFailure::Connect(e))),
    }
    match connect_state(&sock.sock) {
        Ok(true) => return sock.finish(Ok(())),
        Ok(false) => {}
        Err(e) => return sock.finish(Err(e)),
    }
    // Still in flight: wait in the reactor; this socket is not reused.
    let stream = TcpStream::from_std(sock.into_socket().into()).map_err(CheckFailure::Socket)?;
    within(timeout, "connect", connect_finished(&stream)).await?;
    abortive_close(stream);
    Ok(())
}

/// How many idle probe sockets each thread keeps per address family. Probes
/// that finish inline need one at a time; the rest covers bursts.
const IDLE_PROBE_SOCKETS: usize = 16;

thread_local! {
    /// Idle TCP probe sockets with default options, `[IPv4, IPv6]`.
    static IDLE: RefCell<[Vec<Socket>; 2]> = const { RefCell::new([Vec::new(), Vec::new()]) };
}

/// A TCP_CHECK socket. With default options (no bindto, bind_port,
/// bind_if or fwmark) it comes from a per-thread pool and goes back to it
/// reset by `connect(AF_UNSPEC)`, which sends the RST itself: a check then
/// costs no socket()/close() and no file, inode and socket allocation,
/// which at thousands of checks a second is a quarter of the kernel's work
/// per check. Any other socket is closed with RST (SO_LINGER 0).
struct ProbeSocket {
    sock: Socket,
    /// Pool index when the socket may be reused.
    family: Option<usize>,
}

impl ProbeSocket {
    fn take(co: &ConnOpts) -> Result<ProbeSocket, CheckFailure> {
        if co.source.is_some() {
            let sock = prepared_socket(co, Type::STREAM, Protocol::TCP)?;
            sock.set_tcp_quickack(false).map_err(CheckFailure::Socket)?;
            return Ok(ProbeSocket { sock, family: None });
        }
        let family = usize::from(co.dst.is_ipv6());
        let sock = match IDLE.with(|idle| idle.borrow_mut()[family].pop()) {
            Some(sock) => sock,
            None => {
                let sock = prepared_socket(co, Type::STREAM, Protocol::TCP)?;
                // Survives the resets between checks (TCP_QUICKACK does not).
                crate::sys::set_tcp_defer_accept(&sock, 1).map_err(CheckFailure::Socket)?;
                sock
            }
        };
        Ok(ProbeSocket {
            sock,
            family: Some(family),
        })
    }

    /// For the reactor: this socket will be closed with RST, not reused.
    fn into_socket(self) -> Socket {
        abortive_close_socket(&self.sock);
        self.sock
    }

    /// The attempt is over (no await follows, so nothing can cancel the
    /// probe between its connect and here): reset the socket and pool it,
    /// or close it with RST.
    fn finish(self, result: Result<(), CheckFailure>) -> Result<(), CheckFailure> {
        let ProbeSocket { sock, family } = self;
        match family {
            Some(family) if crate::sys::tcp_disconnect(&sock).is_ok() => {
                IDLE.with(|idle| {
                    let pool = &mut idle.borrow_mut()[family];
                    if pool.len() < IDLE_PROBE_SOCKETS {
                        pool.push(sock);
                    }
                    // else: a surplus socket, already reset, is just closed.
                });
            }
            _ => abortive_close_socket(&sock),
        }
        result
    }
}

/// Arm RST-on-close (see [`abortive_close`]); the socket closes when dropped.
fn abortive_close_socket(sock: &Socket) {
    let _ = sock.set_linger(Some(Duration::ZERO));
}

/// Close a probe connection with RST (SO_LINGER 0), as HAProxy does for its
/// health checks: no FIN exchange and no TIME_WAIT left on the checker
/// host, which matters at thousands of checks per second.
pub fn abortive_close(stream: TcpStream) {
    let _ = socket2::SockRef::from(&stream).set_linger(Some(Duration::ZERO));
    drop(stream);
}

/// A UDP socket connected to the destination (so ICMP errors are reported).
pub fn udp_connect(co: &ConnOpts) -> Result<UdpSocket, CheckFailure> {
    let sock = prepared_socket(co, Type::DGRAM, Protocol::UDP)?;
    sock.connect(&co.dst.into())
        .map_err(CheckFailure::Connect)?;
    let std_sock: std::net::UdpSocket = sock.into();
    UdpSocket::from_std(std_sock).map_err(CheckFailure::Socket)
}

/// Run `fut` with a deadline; a timeout becomes `CheckFailure::Timeout(phase)`.
pub async fn within<T>(
    timeout: Duration,
    phase: &'static str,
    fut: impl Future<Output = Result<T, CheckFailure>>,
) -> Result<T, CheckFailure> {
    tokio::time::timeout(timeout, fut)
        .await
        .unwrap_or(Err(CheckFailure::Timeout(phase)))
}

/// The overall deadline of one check attempt: every phase (connect, TLS
/// handshake, request, each read) runs against the same instant, so a
/// server that drips one byte just before each read would time out cannot
/// keep the attempt alive past `connect_timeout`.
///
/// keepalived re-arms `connect_timeout` for every read (check_http.c
/// `http_read_thread`, check_smtp.c `smtp_get_line_cb`: each
/// `thread_add_read(..., co->connection_to, ...)`), so a dripping server
/// stays "alive" there forever; DNS_CHECK already runs against the
/// remaining time (check_dns.c `dns_recv_thread`: `timeout =
/// thread->sands - time_now`). We use the total deadline for every kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(tokio::time::Instant);

impl Deadline {
    /// `timeout` from now.
    pub fn after(timeout: Duration) -> Deadline {
        Deadline(tokio::time::Instant::now() + timeout)
    }

    /// The instant itself.
    pub fn instant(self) -> tokio::time::Instant {
        self.0
    }

    /// Run `fut` until the deadline; past it, `CheckFailure::Timeout(phase)`.
    pub async fn run<T>(
        self,
        phase: &'static str,
        fut: impl Future<Output = Result<T, CheckFailure>>,
    ) -> Result<T, CheckFailure> {
        // A stream that always has data ready would otherwise keep
        // completing reads past the deadline (the timer is only consulted
        // when the read has to wait).
        if tokio::time::Instant::now() >= self.0 {
            return Err(CheckFailure::Timeout(phase));
        }
        tokio::time::timeout_at(self.0, fut)
            .await
            .unwrap_or(Err(CheckFailure::Timeout(phase)))
    }
}

/// ICMP errors reported on a connected UDP socket.
pub fn is_unreachable(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ECONNREFUSED)
            | Some(libc::EHOSTUNREACH)
            | Some(libc::ENETUNREACH)
            | Some(libc::EHOSTDOWN)
    )
}

/// Small non-cryptographic random numbers (ids, payloads, warmup jitter).
pub fn random_u64() -> u64 {
    use std::cell::Cell;
    use std::hash::{BuildHasher, Hasher};
    thread_local! {
        static STATE: Cell<u64> = Cell::new({
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(std::process::id() as u64);
            h.finish() | 1
        });
    }
    STATE.with(|s| {
        // xorshift64*
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    })
}
