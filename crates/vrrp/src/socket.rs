//! Raw VRRP sockets (IP protocol 112) for IPv4 and IPv6.
//!
//! One socket per (interface, family), bound with SO_BINDTODEVICE and joined
//! to the VRRP multicast group(s) on that interface. IPv4 sends with
//! IP_HDRINCL so that TTL (255, RFC 3768 §5.2.x / RFC 5798 §5.1.1.3) and the
//! source address used in the v3 pseudo-header checksum are ours; the kernel
//! always hands raw IPv4 receivers the full header (incl. options), which we
//! parse to check TTL. IPv6 uses IPV6_RECVHOPLIMIT / IPV6_PKTINFO cmsgs.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use socket2::{Domain, InterfaceIndexOrAddress, Protocol, Socket, Type};
use tokio::io::unix::AsyncFd;

use crate::error::SocketError;
use crate::sys;
use crate::wire::{self, DropReason, Family, IPPROTO_VRRP, VRRP_MCAST_V6, VRRP_TTL};

/// A datagram as read from a raw VRRP socket, before decoding: for IPv4 the
/// whole IP packet (header + options), for IPv6 the VRRP payload plus the
/// cmsg-reported hop limit and destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDatagram {
    pub bytes: Vec<u8>,
    pub src: IpAddr,
    pub dst: Option<IpAddr>,
    pub hop_limit: Option<u8>,
    pub ifindex: u32,
}

impl RawDatagram {
    /// Run the packet codec over this datagram.
    pub fn decode(&self) -> Result<wire::Received, DropReason> {
        match self.src {
            IpAddr::V4(_) => wire::decode_ipv4(&self.bytes),
            IpAddr::V6(src) => {
                let dst = match self.dst {
                    Some(IpAddr::V6(d)) => d,
                    _ => VRRP_MCAST_V6,
                };
                wire::decode_ipv6(&self.bytes, src, dst, self.hop_limit)
            }
        }
    }
}

/// A raw VRRP socket bound to one interface and family.
pub struct VrrpSocket {
    fd: AsyncFd<Socket>,
    family: Family,
    ifname: String,
    ifindex: u32,
    /// Receive buffer, reused: one socket carries every instance of its
    /// interface (1,000 instances at 100 ms adverts are 10,000 datagrams a
    /// second), and a fresh zeroed 8 KiB per datagram was a measurable
    /// share of the backup's CPU. Only the socket's reader uses it.
    rx_buf: std::sync::Mutex<Vec<u8>>,
}

/// Largest possible advert: IPv4 header with options (60) + AH (24) +
/// VRRP header/auth (16) + 255 IPv6 addresses (4080) < 8 KiB.
const RX_BUF_LEN: usize = 8192;

impl VrrpSocket {
    /// Open, bind to `ifname` and join `groups` (multicast addresses of the
    /// matching family) on it.
    pub fn open(
        family: Family,
        ifname: &str,
        ifindex: u32,
        groups: &[IpAddr],
    ) -> Result<VrrpSocket, SocketError> {
        Self::open_proto(IPPROTO_VRRP, family, ifname, ifindex, groups)
    }

    /// [`Self::open`] for another IP protocol: `auth_type AH` instances receive
    /// on an `IPPROTO_AH` (51) raw socket, as keepalived's `vrrp_create_sockpool`
    /// opens one for them (the kernel hands raw sockets packets by protocol).
    pub fn open_proto(
        protocol: u8,
        family: Family,
        ifname: &str,
        ifindex: u32,
        groups: &[IpAddr],
    ) -> Result<VrrpSocket, SocketError> {
        let opt = |option: &'static str| {
            let iface = ifname.to_string();
            move |source: io::Error| SocketError::Option {
                option,
                iface,
                source,
            }
        };
        let domain = match family {
            Family::Ipv4 => Domain::IPV4,
            Family::Ipv6 => Domain::IPV6,
        };
        let sock = Socket::new(domain, Type::RAW, Some(Protocol::from(i32::from(protocol))))
            .map_err(|source| SocketError::Open {
                what: "raw VRRP",
                source,
            })?;
        sock.bind_device(Some(ifname.as_bytes()))
            .map_err(opt("SO_BINDTODEVICE"))?;
        sock.set_nonblocking(true).map_err(opt("O_NONBLOCK"))?;
        match family {
            Family::Ipv4 => {
                sock.set_header_included_v4(true)
                    .map_err(opt("IP_HDRINCL"))?;
                sock.set_multicast_loop_v4(false)
                    .map_err(opt("IP_MULTICAST_LOOP"))?;
                sock.set_multicast_ttl_v4(u32::from(VRRP_TTL))
                    .map_err(opt("IP_MULTICAST_TTL"))?;
                sock.set_ttl_v4(u32::from(VRRP_TTL))
                    .map_err(opt("IP_TTL"))?;
                sys::set_ipv4_pktinfo(&sock).map_err(opt("IP_PKTINFO"))?;
                for g in groups {
                    if let IpAddr::V4(g) = g {
                        sock.join_multicast_v4_n(g, &InterfaceIndexOrAddress::Index(ifindex))
                            .map_err(opt("IP_ADD_MEMBERSHIP"))?;
                    }
                }
            }
            Family::Ipv6 => {
                sock.set_multicast_loop_v6(false)
                    .map_err(opt("IPV6_MULTICAST_LOOP"))?;
                sock.set_multicast_hops_v6(u32::from(VRRP_TTL))
                    .map_err(opt("IPV6_MULTICAST_HOPS"))?;
                sock.set_unicast_hops_v6(u32::from(VRRP_TTL))
                    .map_err(opt("IPV6_UNICAST_HOPS"))?;
                sock.set_multicast_if_v6(ifindex)
                    .map_err(opt("IPV6_MULTICAST_IF"))?;
                sys::set_ipv6_recv_hoplimit(&sock).map_err(opt("IPV6_RECVHOPLIMIT"))?;
                sys::set_ipv6_recv_pktinfo(&sock).map_err(opt("IPV6_RECVPKTINFO"))?;
                sys::set_ipv6_checksum_off(&sock).map_err(opt("IPV6_CHECKSUM"))?;
                for g in groups {
                    if let IpAddr::V6(g) = g {
                        sock.join_multicast_v6(g, ifindex)
                            .map_err(opt("IPV6_JOIN_GROUP"))?;
                    }
                }
            }
        }
        let fd = sys::register_async(sock).map_err(|source| SocketError::Open {
            what: "async VRRP",
            source,
        })?;
        Ok(VrrpSocket {
            fd,
            family,
            ifname: ifname.to_string(),
            ifindex,
            rx_buf: std::sync::Mutex::new(vec![0u8; RX_BUF_LEN]),
        })
    }

    pub fn family(&self) -> Family {
        self.family
    }
    pub fn ifname(&self) -> &str {
        &self.ifname
    }
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }
    /// The descriptor, for the `fd_in`/`fd_out` lines of keepalived.data.
    pub fn raw_fd(&self) -> i32 {
        use std::os::fd::AsRawFd;
        self.fd.get_ref().as_raw_fd()
    }

    /// Join an extra multicast group (e.g. a per-instance mcast_dst_ip).
    pub fn join(&self, group: IpAddr) -> Result<(), SocketError> {
        let r = match group {
            IpAddr::V4(g) => self
                .fd
                .get_ref()
                .join_multicast_v4_n(&g, &InterfaceIndexOrAddress::Index(self.ifindex)),
            IpAddr::V6(g) => self.fd.get_ref().join_multicast_v6(&g, self.ifindex),
        };
        match r {
            // Already joined by another instance on this interface.
            Err(e) if e.raw_os_error() == Some(libc::EADDRINUSE) => Ok(()),
            other => other.map_err(|source| SocketError::Option {
                option: "multicast join",
                iface: self.ifname.clone(),
                source,
            }),
        }
    }

    /// Send a full IPv4 packet (header from [`wire::emit_ipv4`], TTL 255)
    /// to `dst` (multicast group or unicast peer).
    pub async fn send_v4(&self, dst: Ipv4Addr, ip_packet: &[u8]) -> Result<(), SocketError> {
        let to = SocketAddr::V4(SocketAddrV4::new(dst, 0)).into();
        self.send_to(ip_packet, &to)
            .await
            .map_err(|source| self.send_err(source))
    }

    /// Send one VRRP message from `src` (link-local or unicast_src_ip) to
    /// `dst`; the kernel adds the IPv6 header with hop limit 255.
    pub async fn send_v6(
        &self,
        src: Ipv6Addr,
        dst: Ipv6Addr,
        vrrp: &[u8],
    ) -> Result<(), SocketError> {
        let scope = if is_link_local_scope(&dst) {
            self.ifindex
        } else {
            0
        };
        let to = SocketAddr::V6(SocketAddrV6::new(dst, 0, 0, scope));
        self.send_msg_v6(src, to, vrrp)
            .await
            .map_err(|source| self.send_err(source))
    }

    fn send_err(&self, source: io::Error) -> SocketError {
        SocketError::Send {
            iface: self.ifname.clone(),
            source,
        }
    }

    async fn send_to(&self, pkt: &[u8], to: &socket2::SockAddr) -> io::Result<()> {
        loop {
            let mut guard = self.fd.writable().await?;
            match guard.try_io(|s| s.get_ref().send_to(pkt, to)) {
                Ok(r) => return r.map(|_| ()),
                Err(_would_block) => continue,
            }
        }
    }

    async fn send_msg_v6(&self, src: Ipv6Addr, to: SocketAddr, vrrp: &[u8]) -> io::Result<()> {
        use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, SockaddrIn6};
        use std::os::fd::AsRawFd;
        let SocketAddr::V6(to6) = to else {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "not IPv6"));
        };
        let dest = SockaddrIn6::from(to6);
        // IPV6_PKTINFO chooses the source (link-local or unicast_src_ip) and
        // egress interface per message, so one socket serves all instances.
        let info = libc::in6_pktinfo {
            ipi6_addr: libc::in6_addr {
                s6_addr: src.octets(),
            },
            ipi6_ifindex: self.ifindex,
        };
        let iov = [io::IoSlice::new(vrrp)];
        loop {
            let mut guard = self.fd.writable().await?;
            let res = guard.try_io(|s| {
                let cmsg = [ControlMessage::Ipv6PacketInfo(&info)];
                sendmsg(
                    s.get_ref().as_raw_fd(),
                    &iov,
                    &cmsg,
                    MsgFlags::empty(),
                    Some(&dest),
                )
                .map(|_| ())
                .map_err(io::Error::from)
            });
            match res {
                Ok(r) => return r,
                Err(_would_block) => continue,
            }
        }
    }

    /// Receive the next datagram (undecoded).
    pub async fn recv(&self) -> Result<RawDatagram, SocketError> {
        loop {
            let mut guard = self
                .fd
                .readable()
                .await
                .map_err(|source| SocketError::Recv {
                    iface: self.ifname.clone(),
                    source,
                })?;
            let res = guard.try_io(|s| {
                // The lock is held only inside this synchronous call (never
                // across an await); a poisoned lock still holds a usable buffer.
                let mut buf = self.rx_buf.lock().unwrap_or_else(|p| p.into_inner());
                if buf.len() < RX_BUF_LEN {
                    buf.resize(RX_BUF_LEN, 0);
                }
                sys::recv_msg(s.get_ref(), &mut buf)
                    .map(|meta| (meta, buf.get(..meta.len).unwrap_or(&buf[..]).to_vec()))
            });
            match res {
                Ok(Ok((meta, bytes))) => {
                    return Ok(RawDatagram {
                        bytes,
                        src: meta.src,
                        dst: meta.dst,
                        hop_limit: meta.hop_limit,
                        ifindex: meta.ifindex.unwrap_or(self.ifindex),
                    });
                }
                Ok(Err(source)) => {
                    return Err(SocketError::Recv {
                        iface: self.ifname.clone(),
                        source,
                    })
                }
                Err(_would_block) => continue,
            }
        }
    }
}

fn is_link_local_scope(a: &Ipv6Addr) -> bool {
    let s = a.segments()[0];
    (s & 0xffc0) == 0xfe80 || (s & 0xff0f) == 0xff02
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v4(bytes: Vec<u8>) -> RawDatagram {
        RawDatagram {
            bytes,
            src: IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            dst: None,
            hop_limit: None,
            ifindex: 1,
        }
    }

    #[test]
    fn truncated_datagrams_are_drops_not_panics() {
        assert!(v4(vec![0x45]).decode().is_err());
        let d6 = RawDatagram {
            bytes: vec![0x31, 1],
            src: "fe80::1".parse().unwrap(),
            dst: None,
            hop_limit: Some(255),
            ifindex: 1,
        };
        assert!(d6.decode().is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_datagrams_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), hl in any::<Option<u8>>()) {
            let _ = v4(bytes.clone()).decode();
            let d6 = RawDatagram { bytes, src: "fe80::1".parse().unwrap(), dst: Some("ff02::12".parse().unwrap()), hop_limit: hl, ifindex: 1 };
            let _ = d6.decode();
        }
    }
}
