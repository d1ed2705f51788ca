//! RFC 5881 single-hop UDP edge, as keepalived 2.2.7's
//! `bfd_open_fd_in()`, `bfd_receive_packet()` and `bfd_open_fd_out()`
//! (bfd/bfd_scheduler.c) do it:
//!
//! * receive: UDP port 3784, one socket per family (keepalived uses one
//!   dual-stack IPv6 socket; two sockets give the same packets and need no
//!   v4-mapped address handling), with IP_RECVTTL / IPV6_RECVHOPLIMIT and
//!   IP_PKTINFO / IPV6_RECVPKTINFO for the destination address;
//! * send: one socket per session, bound to a random source port in
//!   49152–65535 (within `ip_local_port_range`, at least 1024 ports), with
//!   IP_TTL / IPV6_UNICAST_HOPS set to the session's `ttl`.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6, UdpSocket};
use std::os::fd::AsRawFd;

use nix::sys::socket::{
    recvmsg, setsockopt, sockopt, ControlMessageOwned, MsgFlags, SockaddrStorage,
};
use socket2::{Domain, Protocol, Socket, Type};

use crate::rng::Rng;

/// RFC 5881 §4: the destination port of single-hop Control packets.
pub const BFD_CONTROL_PORT: u16 = 3784;
/// RFC 5881 §4: the source port range.
pub const BFD_MIN_PORT: u16 = 49152;
pub const BFD_MAX_PORT: u16 = 65535;
/// RFC 5881 §5: the TTL / hop limit single-hop packets are sent with.
pub const BFD_CONTROL_TTL: u8 = 255;
/// keepalived's default hop limit for IPv6 neighbors (include/bfd.h).
pub const BFD_CONTROL_HOPLIMIT: u8 = 64;

/// A datagram as received, with what the kernel told about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub src: SocketAddr,
    /// The destination address (from IP_PKTINFO / IPV6_PKTINFO).
    pub dst: Option<IpAddr>,
    /// TTL / hop limit, 0 when the kernel gave none.
    pub ttl: u8,
    /// The interface it arrived on (from IP_PKTINFO / IPV6_PKTINFO), 0
    /// when the kernel gave none.
    pub ifindex: u32,
    /// The datagram did not fit the buffer (MSG_TRUNC).
    pub truncated: bool,
    pub len: usize,
}

/// Opens the receive socket for one family on `[::]:3784` / `0.0.0.0:3784`
/// (`port` is 3784 except in tests).
pub fn open_receiver(v6: bool, port: u16) -> io::Result<UdpSocket> {
    let domain = if v6 { Domain::IPV6 } else { Domain::IPV4 };
    let sock = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    if v6 {
        sock.set_only_v6(true)?;
        setsockopt(&sock, sockopt::Ipv6RecvHopLimit, &true).map_err(io::Error::from)?;
        setsockopt(&sock, sockopt::Ipv6RecvPacketInfo, &true).map_err(io::Error::from)?;
    } else {
        setsockopt(&sock, sockopt::Ipv4RecvTtl, &true).map_err(io::Error::from)?;
        setsockopt(&sock, sockopt::Ipv4PacketInfo, &true).map_err(io::Error::from)?;
    }
    let addr: SocketAddr = if v6 {
        (Ipv6Addr::UNSPECIFIED, port).into()
    } else {
        (Ipv4Addr::UNSPECIFIED, port).into()
    };
    sock.bind(&addr.into())?;
    sock.set_nonblocking(true)?;
    Ok(sock.into())
}

/// Reads one datagram (non-blocking) into `buf`.
pub fn recv(sock: &impl AsRawFd, buf: &mut [u8]) -> io::Result<Received> {
    // Room for IPV6_PKTINFO (20 bytes) or IP_PKTINFO (12) plus the TTL.
    let mut cmsg = vec![0u8; 128];
    let mut iov = [io::IoSliceMut::new(buf)];
    let msg = recvmsg::<SockaddrStorage>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut cmsg),
        MsgFlags::MSG_DONTWAIT,
    )
    .map_err(io::Error::from)?;
    let mut ttl = 0u8;
    let mut dst = None;
    let mut ifindex = 0u32;
    if let Ok(cmsgs) = msg.cmsgs() {
        for c in cmsgs {
            match c {
                ControlMessageOwned::Ipv4Ttl(t) | ControlMessageOwned::Ipv6HopLimit(t) => {
                    ttl = u8::try_from(t).unwrap_or(0);
                }
                ControlMessageOwned::Ipv4PacketInfo(info) => {
                    dst = Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                        info.ipi_addr.s_addr,
                    ))));
                    ifindex = u32::try_from(info.ipi_ifindex).unwrap_or(0);
                }
                ControlMessageOwned::Ipv6PacketInfo(info) => {
                    dst = Some(IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)));
                    ifindex = info.ipi6_ifindex;
                }
                _ => {}
            }
        }
    }
    let src = msg
        .address
        .and_then(|a| {
            if let Some(v4) = a.as_sockaddr_in() {
                Some(SocketAddr::from((v4.ip(), v4.port())))
            } else {
                a.as_sockaddr_in6()
                    .map(|v6| SocketAddr::from((v6.ip(), v6.port())))
            }
        })
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "no source address"))?;
    Ok(Received {
        src,
        dst,
        ttl,
        ifindex,
        truncated: msg.flags.contains(MsgFlags::MSG_TRUNC),
        len: msg.bytes,
    })
}

/// keepalived's `read_local_port_range()` clamped to 49152–65535, or the
/// whole BFD range when fewer than 1024 ports remain.
pub fn source_port_range() -> (u16, u16) {
    let (lo, hi) = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| {
            let mut it = s.split_whitespace().map(|v| v.parse::<u32>().ok());
            Some((it.next()??, it.next()??))
        })
        .unwrap_or((49152, 60999));
    let lo = lo.max(u32::from(BFD_MIN_PORT));
    let hi = hi.min(u32::from(BFD_MAX_PORT));
    if lo + 1023 > hi {
        (BFD_MIN_PORT, BFD_MAX_PORT)
    } else {
        // Both are within 49152..=65535 here.
        (lo as u16, hi as u16)
    }
}

/// Where a session's packets go: the neighbor's port 3784, with the
/// interface index as scope id for a link-local neighbor
/// ([`crate::scope`]).
pub fn destination(neighbor: IpAddr, scope: Option<u32>) -> SocketAddr {
    match neighbor {
        IpAddr::V6(v6) if crate::scope::is_link_local(neighbor) => SocketAddr::V6(
            SocketAddrV6::new(v6, BFD_CONTROL_PORT, 0, scope.unwrap_or(0)),
        ),
        a => SocketAddr::new(a, BFD_CONTROL_PORT),
    }
}

/// Opens a session's send socket: bound to `source` (or the unspecified
/// address) and a random free port of [`source_port_range`], trying each
/// port once from a random start (`bfd_open_fd_out()`), with the TTL / hop
/// limit set. `scope` is the interface of a link-local session
/// ([`crate::scope::resolve_scope`]): a link-local `source` is bound with
/// it as scope id, and the socket is bound to that interface
/// (SO_BINDTODEVICE) so nothing leaves by another link.
pub fn open_sender(
    neighbor: IpAddr,
    source: Option<IpAddr>,
    scope: Option<u32>,
    ttl: u8,
    rng: &mut Rng,
) -> io::Result<UdpSocket> {
    let domain = if neighbor.is_ipv4() {
        Domain::IPV4
    } else {
        Domain::IPV6
    };
    let sock = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    let local = source.unwrap_or(if neighbor.is_ipv4() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    });
    if let Some(ifindex) = scope {
        sock.bind_device_by_index_v6(std::num::NonZeroU32::new(ifindex))?;
    }
    let (lo, hi) = source_port_range();
    let start = rng.range(u32::from(lo), u32::from(hi)) as u16;
    let mut port = start;
    loop {
        let at = match local {
            IpAddr::V6(v6) if crate::scope::is_link_local(local) => {
                SocketAddr::V6(SocketAddrV6::new(v6, port, 0, scope.unwrap_or(0)))
            }
            a => SocketAddr::new(a, port),
        };
        match sock.bind(&at.into()) {
            Ok(()) => break,
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                port = if port >= hi { lo } else { port + 1 };
                if port == start {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
    if neighbor.is_ipv4() {
        sock.set_ttl_v4(u32::from(ttl))?;
    } else {
        sock.set_unicast_hops_v6(u32::from(ttl))?;
    }
    sock.set_nonblocking(true)?;
    Ok(sock.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_range_is_within_rfc_5881() {
        let (lo, hi) = source_port_range();
        assert!(lo >= BFD_MIN_PORT && hi >= lo + 1023);
    }

    #[test]
    fn loopback_send_receive_reports_ttl_and_destination() {
        // Unprivileged: a high port instead of 3784, on loopback.
        let Ok(rx) = open_receiver(false, 0) else {
            return;
        };
        let port = rx.local_addr().map(|a| a.port()).unwrap_or(0);
        let mut rng = Rng::seeded(3);
        let tx = open_sender(IpAddr::V4(Ipv4Addr::LOCALHOST), None, None, 255, &mut rng)
            .expect("sender");
        let sport = tx.local_addr().expect("addr").port();
        assert!(sport >= BFD_MIN_PORT);
        tx.send_to(&[1, 2, 3], (Ipv4Addr::LOCALHOST, port))
            .expect("send");
        let mut buf = [0u8; 32];
        let got = (0..100)
            .find_map(|_| match recv(&rx, &mut buf) {
                Ok(r) => Some(r),
                Err(_) => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    None
                }
            })
            .expect("received");
        assert_eq!(got.len, 3);
        assert_eq!(got.ttl, 255);
        assert_eq!(got.src.port(), sport);
        assert_eq!(got.dst, Some(IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert!(!got.truncated);
    }
}
