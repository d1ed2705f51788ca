//! The only `unsafe` of the crate: socket options and ancillary data that
//! neither socket2 nor nix expose (IPV6_RECVHOPLIMIT cmsg, sockaddr_ll).
//!
//! Every function here is a thin, checked wrapper around one libc call.

use std::io;
use std::mem::{size_of, zeroed, MaybeUninit};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsRawFd, RawFd};

/// What the kernel told us about one received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvMeta {
    pub len: usize,
    pub src: IpAddr,
    /// Destination address (IP_PKTINFO / IPV6_PKTINFO), if enabled.
    pub dst: Option<IpAddr>,
    /// Arrival interface (IP_PKTINFO / IPV6_PKTINFO), if enabled.
    pub ifindex: Option<u32>,
    /// IPv6 hop limit (IPV6_RECVHOPLIMIT); IPv4 carries TTL in the header.
    pub hop_limit: Option<u8>,
}

fn set_int_opt(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: value is a live c_int and the length passed matches it.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &value as *const libc::c_int as *const libc::c_void,
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// IPV6_RECVHOPLIMIT: RFC 5798 §5.1.2.3 requires checking hop limit == 255.
pub fn set_ipv6_recv_hoplimit(sock: &impl AsRawFd) -> io::Result<()> {
    set_int_opt(
        sock.as_raw_fd(),
        libc::IPPROTO_IPV6,
        libc::IPV6_RECVHOPLIMIT,
        1,
    )
}

/// IPV6_RECVPKTINFO: destination address + arrival interface.
pub fn set_ipv6_recv_pktinfo(sock: &impl AsRawFd) -> io::Result<()> {
    set_int_opt(
        sock.as_raw_fd(),
        libc::IPPROTO_IPV6,
        libc::IPV6_RECVPKTINFO,
        1,
    )
}

/// IP_PKTINFO: destination address + arrival interface for IPv4.
pub fn set_ipv4_pktinfo(sock: &impl AsRawFd) -> io::Result<()> {
    set_int_opt(sock.as_raw_fd(), libc::IPPROTO_IP, libc::IP_PKTINFO, 1)
}

/// IPV6_CHECKSUM off (-1): the VRRP codec computes/validates the checksum itself.
pub fn set_ipv6_checksum_off(sock: &impl AsRawFd) -> io::Result<()> {
    set_int_opt(
        sock.as_raw_fd(),
        libc::IPPROTO_IPV6,
        libc::IPV6_CHECKSUM,
        -1,
    )
}

/// recvmsg(2) with IP(V6)_PKTINFO and IPV6_HOPLIMIT parsing.
pub fn recv_msg(sock: &impl AsRawFd, buf: &mut [u8]) -> io::Result<RecvMeta> {
    // SAFETY: all-zero is a valid sockaddr_storage / msghdr.
    let mut addr: libc::sockaddr_storage = unsafe { zeroed() };
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut libc::c_void,
        iov_len: buf.len(),
    };
    // 8-byte aligned room for in6_pktinfo + hoplimit (+ slack).
    let mut cmsg_buf = [MaybeUninit::<u64>::uninit(); 16];
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = &mut addr as *mut _ as *mut libc::c_void;
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg_buf.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = std::mem::size_of_val(&cmsg_buf) as _;

    // SAFETY: msg points at live buffers of the advertised sizes.
    let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let src = match addr.ss_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: family says this storage holds a sockaddr_in.
            let sin: &libc::sockaddr_in =
                unsafe { &*(&addr as *const _ as *const libc::sockaddr_in) };
            IpAddr::V4(Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)))
        }
        libc::AF_INET6 => {
            // SAFETY: family says this storage holds a sockaddr_in6.
            let sin6: &libc::sockaddr_in6 =
                unsafe { &*(&addr as *const _ as *const libc::sockaddr_in6) };
            IpAddr::V6(Ipv6Addr::from(sin6.sin6_addr.s6_addr))
        }
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "unexpected address family",
            ))
        }
    };
    let mut meta = RecvMeta {
        len: n as usize,
        src,
        dst: None,
        ifindex: None,
        hop_limit: None,
    };

    // SAFETY: standard CMSG_* iteration over the buffer the kernel filled in.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let hdr = &*cmsg;
            let data = libc::CMSG_DATA(cmsg);
            match (hdr.cmsg_level, hdr.cmsg_type) {
                (libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT) => {
                    let v = std::ptr::read_unaligned(data as *const libc::c_int);
                    meta.hop_limit = u8::try_from(v).ok();
                }
                (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) => {
                    let info = std::ptr::read_unaligned(data as *const libc::in6_pktinfo);
                    meta.dst = Some(IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)));
                    meta.ifindex = Some(info.ipi6_ifindex);
                }
                (libc::IPPROTO_IP, libc::IP_PKTINFO) => {
                    let info = std::ptr::read_unaligned(data as *const libc::in_pktinfo);
                    meta.dst = Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                        info.ipi_addr.s_addr,
                    ))));
                    meta.ifindex = u32::try_from(info.ipi_ifindex).ok();
                }
                _ => {}
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok(meta)
}

/// A link-layer destination (sockaddr_ll) for AF_PACKET sendto.
pub fn link_sockaddr(
    ifindex: u32,
    ethertype: u16,
    dst_mac: [u8; 6],
) -> io::Result<socket2::SockAddr> {
    // SAFETY: we fill a zeroed sockaddr_storage with a valid sockaddr_ll and
    // report its exact length.
    let ((), addr) = unsafe {
        socket2::SockAddr::try_init(|storage, len| {
            let sll = &mut *(storage as *mut libc::sockaddr_ll);
            sll.sll_family = libc::AF_PACKET as u16;
            sll.sll_protocol = ethertype.to_be();
            sll.sll_ifindex = ifindex as i32;
            sll.sll_halen = 6;
            sll.sll_addr[..6].copy_from_slice(&dst_mac);
            *len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
            Ok(())
        })
    }?;
    Ok(addr)
}

/// Register an fd owner (socket, timerfd) with the tokio reactor.
pub fn register_async<T: std::os::fd::AsFd + AsRawFd>(
    owner: T,
) -> io::Result<tokio::io::unix::AsyncFd<T>> {
    // SAFETY: `AsFd` (I/O safety) means `owner` keeps its fd open for as long
    // as it lives, and the AsyncFd owns `owner`.
    let fd = unsafe { tokio::io::unix::AsyncFd::register(owner) }?;
    Ok(fd)
}

/// The kernel's process-event connector: a non-blocking `NETLINK_CONNECTOR`
/// datagram socket bound to the `CN_IDX_PROC` multicast group
/// (keepalived core/track_process.c `nl_connect()`). The codec is
/// [`crate::proc_event`].
pub struct ProcConnector {
    sock: socket2::Socket,
}

impl ProcConnector {
    /// Opens and binds the socket (port id chosen by the kernel: the
    /// engine's other netlink sockets may hold the process id already).
    /// `EPROTONOSUPPORT`: the kernel has no connector (CONFIG_CONNECTOR).
    pub fn open() -> io::Result<ProcConnector> {
        use nix::sys::socket::{bind, NetlinkAddr};
        use socket2::{Domain, Protocol, Socket, Type};
        let sock = Socket::new(
            Domain::from(libc::AF_NETLINK),
            Type::DGRAM.nonblocking().cloexec(),
            Some(Protocol::from(crate::proc_event::NETLINK_CONNECTOR)),
        )?;
        bind(
            sock.as_raw_fd(),
            &NetlinkAddr::new(0, crate::proc_event::CN_IDX_PROC),
        )
        .map_err(io::Error::from)?;
        Ok(ProcConnector { sock })
    }

    /// The netlink port id the kernel gave the socket.
    pub fn port_id(&self) -> u32 {
        nix::sys::socket::getsockname::<nix::sys::socket::NetlinkAddr>(self.sock.as_raw_fd())
            .map(|a| a.pid())
            .unwrap_or(0)
    }

    /// Sends one request to the kernel. In a network namespace other than
    /// the initial one there is no connector to receive it: ECONNREFUSED.
    pub fn send(&self, msg: &[u8]) -> io::Result<()> {
        let n = self.sock.send(msg)?;
        if n == msg.len() {
            Ok(())
        } else {
            Err(io::Error::new(io::ErrorKind::WriteZero, "short send"))
        }
    }

    /// One datagram: its length and the sender's port id (0: the kernel).
    /// `ENOBUFS` means events were dropped because the buffer was full.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<(usize, u32)> {
        let (n, from) =
            nix::sys::socket::recvfrom::<nix::sys::socket::NetlinkAddr>(self.sock.as_raw_fd(), buf)
                .map_err(io::Error::from)?;
        Ok((n, from.map_or(u32::MAX, |a| a.pid())))
    }

    /// SO_RCVBUF as the kernel reports it (twice what was set).
    pub fn recv_buffer(&self) -> io::Result<usize> {
        self.sock.recv_buffer_size()
    }

    /// SO_RCVBUF, or SO_RCVBUFFORCE (above rmem_max, needs CAP_NET_ADMIN)
    /// with `force` (keepalived `set_rcv_buf()`).
    pub fn set_recv_buffer(&self, size: usize, force: bool) -> io::Result<()> {
        if force {
            nix::sys::socket::setsockopt(&self.sock, nix::sys::socket::sockopt::RcvBufForce, &size)
                .map_err(io::Error::from)
        } else {
            self.sock.set_recv_buffer_size(size)
        }
    }
}

impl std::os::fd::AsFd for ProcConnector {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl AsRawFd for ProcConnector {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}
