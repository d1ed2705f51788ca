//! Gratuitous ARP (RFC 5227 §3 / RFC 5798 §6.4.2) and unsolicited neighbour
//! advertisements (RFC 4861 §7.2.6) announcing VIPs after becoming Master.
//!
//! Frame builders are pure; [`Announcer`] owns the AF_PACKET and ICMPv6
//! sockets of one interface.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV6};

use socket2::{Domain, Protocol, Socket, Type};

use crate::error::SocketError;
use crate::sys;

pub const ETH_P_ARP: u16 = 0x0806;
pub const BROADCAST_MAC: [u8; 6] = [0xff; 6];
/// All-nodes multicast, destination of unsolicited NAs.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);

/// Ethernet + ARP request announcing `ip` at `mac`, as keepalived sends it
/// (broadcast, sender = target = VIP, target MAC all-ones).
pub fn gratuitous_arp(mac: [u8; 6], ip: Ipv4Addr) -> [u8; 42] {
    let mut f = [0u8; 42];
    f[0..6].copy_from_slice(&BROADCAST_MAC);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&ETH_P_ARP.to_be_bytes());
    // ARP: Ethernet / IPv4, hlen 6, plen 4, op 1 (request).
    f[14..22].copy_from_slice(&[0, 1, 0x08, 0x00, 6, 4, 0, 1]);
    f[22..28].copy_from_slice(&mac);
    f[28..32].copy_from_slice(&ip.octets());
    f[32..38].copy_from_slice(&BROADCAST_MAC);
    f[38..42].copy_from_slice(&ip.octets());
    f
}

/// Checked view of an ARP frame, used by tests and the sniffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArpAnnouncement {
    pub op: u16,
    pub sender_mac: [u8; 6],
    pub sender_ip: Ipv4Addr,
    pub target_ip: Ipv4Addr,
}

impl ArpAnnouncement {
    /// Parse an Ethernet frame carrying IPv4-over-Ethernet ARP; `None` otherwise.
    pub fn parse(frame: &[u8]) -> Option<ArpAnnouncement> {
        let f = frame.get(..42)?;
        if f[12..14] != ETH_P_ARP.to_be_bytes() || f[14..20] != [0, 1, 0x08, 0x00, 6, 4] {
            return None;
        }
        let mut sender_mac = [0u8; 6];
        sender_mac.copy_from_slice(&f[22..28]);
        Some(ArpAnnouncement {
            op: u16::from_be_bytes([f[20], f[21]]),
            sender_mac,
            sender_ip: Ipv4Addr::new(f[28], f[29], f[30], f[31]),
            target_ip: Ipv4Addr::new(f[38], f[39], f[40], f[41]),
        })
    }
}

/// ICMPv6 neighbour advertisement body (checksum left 0: the kernel fills it
/// in for ICMPv6 raw sockets). Flags: Override, plus Router if `router`.
pub fn unsolicited_na(mac: [u8; 6], target: Ipv6Addr, router: bool) -> [u8; 32] {
    let mut m = [0u8; 32];
    m[0] = 136; // type: neighbour advertisement
    m[4] = if router { 0xa0 } else { 0x20 }; // R=0x80, S=0x40 (never), O=0x20
    m[8..24].copy_from_slice(&target.octets());
    m[24] = 2; // option: target link-layer address
    m[25] = 1; // length in units of 8 octets
    m[26..32].copy_from_slice(&mac);
    m
}

/// Read an interface's MAC from sysfs (Ethernet-like devices only).
pub fn interface_mac(ifname: &str) -> io::Result<[u8; 6]> {
    let text = std::fs::read_to_string(format!("/sys/class/net/{ifname}/address"))?;
    parse_mac(text.trim())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "not a 6-byte MAC"))
}

pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.split(':');
    for b in mac.iter_mut() {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Sends GARPs and unsolicited NAs on one interface.
pub struct Announcer {
    ifname: String,
    ifindex: u32,
    mac: [u8; 6],
    packet: Socket,
    icmp6: Option<Socket>,
}

impl Announcer {
    pub fn open(ifname: &str, ifindex: u32) -> Result<Announcer, SocketError> {
        let opt = |option: &'static str| {
            let iface = ifname.to_string();
            move |source: io::Error| SocketError::Option {
                option,
                iface,
                source,
            }
        };
        let mac = interface_mac(ifname).map_err(opt("read MAC"))?;
        // Protocol 0: send-only, the kernel never queues received frames here.
        let packet =
            Socket::new(Domain::PACKET, Type::RAW, Some(Protocol::from(0))).map_err(|source| {
                SocketError::Open {
                    what: "AF_PACKET",
                    source,
                }
            })?;
        packet.set_nonblocking(true).map_err(opt("O_NONBLOCK"))?;
        // IPv6 may be disabled on the host; NAs are then simply not sent.
        let icmp6 = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6)).ok();
        if let Some(s) = &icmp6 {
            s.bind_device(Some(ifname.as_bytes()))
                .map_err(opt("SO_BINDTODEVICE"))?;
            s.set_multicast_hops_v6(255)
                .map_err(opt("IPV6_MULTICAST_HOPS"))?;
            s.set_multicast_if_v6(ifindex)
                .map_err(opt("IPV6_MULTICAST_IF"))?;
            s.set_multicast_loop_v6(false)
                .map_err(opt("IPV6_MULTICAST_LOOP"))?;
            s.set_nonblocking(true).map_err(opt("O_NONBLOCK"))?;
        }
        Ok(Announcer {
            ifname: ifname.to_string(),
            ifindex,
            mac,
            packet,
            icmp6,
        })
    }

    pub fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// The index of the interface this was opened on.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    pub fn send_garp(&self, ip: Ipv4Addr) -> Result<(), SocketError> {
        let frame = gratuitous_arp(self.mac, ip);
        let to = sys::link_sockaddr(self.ifindex, ETH_P_ARP, BROADCAST_MAC)
            .map_err(|source| self.send_err(source))?;
        self.packet
            .send_to(&frame, &to)
            .map(|_| ())
            .map_err(|source| self.send_err(source))
    }

    pub fn send_na(&self, ip: Ipv6Addr, router: bool) -> Result<(), SocketError> {
        use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags, SockaddrIn6};
        use std::os::fd::AsRawFd;
        let Some(sock) = &self.icmp6 else {
            return Err(self.send_err(io::Error::new(
                io::ErrorKind::Unsupported,
                "IPv6 unavailable",
            )));
        };
        let msg = unsolicited_na(self.mac, ip, router);
        let dest = SockaddrIn6::from(SocketAddrV6::new(ALL_NODES, 0, 0, self.ifindex));
        // Source = the VIP itself (RFC 4861 §7.2.6), set per message.
        let info = libc::in6_pktinfo {
            ipi6_addr: libc::in6_addr {
                s6_addr: ip.octets(),
            },
            ipi6_ifindex: self.ifindex,
        };
        let cmsg = [ControlMessage::Ipv6PacketInfo(&info)];
        let iov = [io::IoSlice::new(&msg)];
        sendmsg(
            sock.as_raw_fd(),
            &iov,
            &cmsg,
            MsgFlags::empty(),
            Some(&dest),
        )
        .map(|_| ())
        .map_err(|e| self.send_err(io::Error::from(e)))
    }

    fn send_err(&self, source: io::Error) -> SocketError {
        SocketError::Send {
            iface: self.ifname.clone(),
            source,
        }
    }
}

/// A tiny AF_PACKET ARP sniffer (tests and diagnostics).
pub fn open_arp_sniffer(ifindex: u32) -> io::Result<Socket> {
    let s = Socket::new(
        Domain::PACKET,
        Type::RAW,
        Some(Protocol::from(i32::from(ETH_P_ARP.to_be()))),
    )?;
    s.bind(&sys::link_sockaddr(ifindex, ETH_P_ARP, [0; 6])?)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garp_matches_known_bytes() {
        let mac = [0x02, 0, 0, 0, 0, 1];
        let f = gratuitous_arp(mac, Ipv4Addr::new(192, 0, 2, 100));
        // keepalived 2.2.7 layout (vrrp_arp.c): broadcast request, spa = tpa = VIP.
        let expected: [u8; 42] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06, 0, 1, 0x08, 0, 6,
            4, 0, 1, 0x02, 0, 0, 0, 0, 1, 192, 0, 2, 100, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 192,
            0, 2, 100,
        ];
        assert_eq!(f, expected);
        let a = ArpAnnouncement::parse(&f).expect("parses");
        assert_eq!(a.sender_ip, Ipv4Addr::new(192, 0, 2, 100));
        assert_eq!(a.target_ip, a.sender_ip);
        assert_eq!(a.op, 1);
    }

    #[test]
    fn garp_is_byte_identical_to_keepalived_capture() {
        // keepalived 2.2.7, `tcpdump -xx -i br0 arp` in the netns lab (2026-11-25).
        let captured: [u8; 42] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x6a, 0x43, 0x51, 0x1b, 0xdc, 0x8d, 0x08, 0x06,
            0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x6a, 0x43, 0x51, 0x1b, 0xdc, 0x8d,
            0xc0, 0x00, 0x02, 0x64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc0, 0x00, 0x02, 0x64,
        ];
        let mac = [0x6a, 0x43, 0x51, 0x1b, 0xdc, 0x8d];
        assert_eq!(gratuitous_arp(mac, Ipv4Addr::new(192, 0, 2, 100)), captured);
    }

    #[test]
    fn na_has_override_flag_and_tlla() {
        let m = unsolicited_na(
            [2, 0, 0, 0, 0, 9],
            "2001:db8::10".parse().expect("addr"),
            false,
        );
        assert_eq!(m[0], 136);
        assert_eq!(m[4] & 0x20, 0x20);
        assert_eq!(m[4] & 0x40, 0, "solicited flag must be clear");
        assert_eq!(&m[24..26], &[2, 1]);
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_frames_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..80)) {
            let _ = ArpAnnouncement::parse(&bytes);
            let _ = parse_mac(&String::from_utf8_lossy(&bytes));
        }
    }

    #[test]
    fn mac_parsing() {
        assert_eq!(
            parse_mac("00:00:5e:00:01:0a"),
            Some([0, 0, 0x5e, 0, 1, 0x0a])
        );
        assert_eq!(parse_mac("00:00:5e:00:01"), None);
        assert_eq!(parse_mac("00:00:5e:00:01:0a:ff"), None);
        assert_eq!(ArpAnnouncement::parse(&[0u8; 10]), None);
    }
}
