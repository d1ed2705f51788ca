//! Pure IPVS model: what a virtual service and its real servers look like,
//! independent of how they reach the kernel. Values mirror
//! `include/uapi/linux/ip_vs.h` so the codec is a thin mapping.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

/// Address family of a service or destination (`AF_INET` / `AF_INET6`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    Inet,
    Inet6,
}

impl Family {
    pub const AF_INET: u16 = 2;
    pub const AF_INET6: u16 = 10;

    pub fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::Inet,
            IpAddr::V6(_) => Family::Inet6,
        }
    }

    pub fn to_raw(self) -> u16 {
        match self {
            Family::Inet => Self::AF_INET,
            Family::Inet6 => Self::AF_INET6,
        }
    }

    pub fn from_raw(raw: u16) -> Option<Family> {
        match raw {
            Self::AF_INET => Some(Family::Inet),
            Self::AF_INET6 => Some(Family::Inet6),
            _ => None,
        }
    }

    /// Netmask meaning "one client address" for persistence:
    /// 255.255.255.255 (as the kernel's big-endian u32) or prefix 128.
    pub fn full_netmask(self) -> u32 {
        match self {
            Family::Inet => 0xffff_ffff,
            Family::Inet6 => 128,
        }
    }
}

/// Transport protocol of an address-based service (IPPROTO_* numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
    Other(u16),
}

impl Protocol {
    pub fn to_raw(self) -> u16 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
            Protocol::Other(p) => p,
        }
    }

    pub fn from_raw(raw: u16) -> Protocol {
        match raw {
            6 => Protocol::Tcp,
            17 => Protocol::Udp,
            132 => Protocol::Sctp,
            p => Protocol::Other(p),
        }
    }
}

/// Identity of a virtual service inside the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServiceKey {
    Addr {
        proto: Protocol,
        addr: IpAddr,
        port: u16,
    },
    Fwmark {
        mark: u32,
        family: Family,
    },
}

impl ServiceKey {
    pub fn tcp(addr: IpAddr, port: u16) -> Self {
        ServiceKey::Addr {
            proto: Protocol::Tcp,
            addr,
            port,
        }
    }

    pub fn udp(addr: IpAddr, port: u16) -> Self {
        ServiceKey::Addr {
            proto: Protocol::Udp,
            addr,
            port,
        }
    }

    pub fn family(&self) -> Family {
        match self {
            ServiceKey::Addr { addr, .. } => Family::of(addr),
            ServiceKey::Fwmark { family, .. } => *family,
        }
    }

    /// Port real servers inherit when none is given (0 for fwmark).
    pub fn port(&self) -> u16 {
        match self {
            ServiceKey::Addr { port, .. } => *port,
            ServiceKey::Fwmark { .. } => 0,
        }
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Addr { proto, addr, port } => {
                let p = match proto {
                    Protocol::Tcp => "TCP".to_string(),
                    Protocol::Udp => "UDP".to_string(),
                    Protocol::Sctp => "SCTP".to_string(),
                    Protocol::Other(n) => format!("proto{n}"),
                };
                write!(f, "{p} {}", SocketFmt(*addr, *port))
            }
            ServiceKey::Fwmark { mark, family } => match family {
                Family::Inet => write!(f, "FWM {mark}"),
                Family::Inet6 => write!(f, "FWM {mark} IPv6"),
            },
        }
    }
}

/// `addr:port` with IPv6 in brackets, as ipvsadm prints it.
pub struct SocketFmt(pub IpAddr, pub u16);

impl fmt::Display for SocketFmt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.1),
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.1),
        }
    }
}

/// IPVS scheduling algorithm (kernel module `ip_vs_<name>`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scheduler {
    Rr,
    Wrr,
    Lc,
    Wlc,
    Lblc,
    Lblcr,
    Dh,
    Sh,
    Sed,
    Nq,
    Fo,
    Ovf,
    Mh,
    Other(String),
}

impl Scheduler {
    pub fn name(&self) -> &str {
        match self {
            Scheduler::Rr => "rr",
            Scheduler::Wrr => "wrr",
            Scheduler::Lc => "lc",
            Scheduler::Wlc => "wlc",
            Scheduler::Lblc => "lblc",
            Scheduler::Lblcr => "lblcr",
            Scheduler::Dh => "dh",
            Scheduler::Sh => "sh",
            Scheduler::Sed => "sed",
            Scheduler::Nq => "nq",
            Scheduler::Fo => "fo",
            Scheduler::Ovf => "ovf",
            Scheduler::Mh => "mh",
            Scheduler::Other(s) => s,
        }
    }

    pub fn from_name(name: &str) -> Scheduler {
        match name {
            "rr" => Scheduler::Rr,
            "wrr" => Scheduler::Wrr,
            "lc" => Scheduler::Lc,
            "wlc" => Scheduler::Wlc,
            "lblc" => Scheduler::Lblc,
            "lblcr" => Scheduler::Lblcr,
            "dh" => Scheduler::Dh,
            "sh" => Scheduler::Sh,
            "sed" => Scheduler::Sed,
            "nq" => Scheduler::Nq,
            "fo" => Scheduler::Fo,
            "ovf" => Scheduler::Ovf,
            "mh" => Scheduler::Mh,
            other => Scheduler::Other(other.to_string()),
        }
    }

    pub const ALL: [Scheduler; 13] = [
        Scheduler::Rr,
        Scheduler::Wrr,
        Scheduler::Lc,
        Scheduler::Wlc,
        Scheduler::Lblc,
        Scheduler::Lblcr,
        Scheduler::Dh,
        Scheduler::Sh,
        Scheduler::Sed,
        Scheduler::Nq,
        Scheduler::Fo,
        Scheduler::Ovf,
        Scheduler::Mh,
    ];
}

impl fmt::Display for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Service flags bitmask (`IP_VS_SVC_F_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ServiceFlags(pub u32);

impl ServiceFlags {
    pub const PERSISTENT: u32 = 0x0001;
    /// Set by the kernel on every hashed service; never part of the desired state.
    pub const HASHED: u32 = 0x0002;
    pub const ONEPACKET: u32 = 0x0004;
    pub const SCHED1: u32 = 0x0008;
    pub const SCHED2: u32 = 0x0010;
    pub const SCHED3: u32 = 0x0020;
    pub const SH_FALLBACK: u32 = Self::SCHED1;
    pub const SH_PORT: u32 = Self::SCHED2;
    pub const MH_FALLBACK: u32 = Self::SCHED1;
    pub const MH_PORT: u32 = Self::SCHED2;

    pub fn contains(self, bit: u32) -> bool {
        self.0 & bit == bit
    }

    pub fn with(self, bit: u32, on: bool) -> Self {
        if on {
            ServiceFlags(self.0 | bit)
        } else {
            ServiceFlags(self.0 & !bit)
        }
    }

    /// Flags a user can set (everything but the kernel-owned HASHED bit).
    pub fn user(self) -> Self {
        ServiceFlags(self.0 & !Self::HASHED)
    }
}

/// A virtual service (without its real servers).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Service {
    pub key: ServiceKey,
    pub sched: Scheduler,
    pub flags: ServiceFlags,
    /// Persistence timeout in seconds (meaningful with `PERSISTENT`).
    pub timeout: u32,
    /// Persistence granularity: IPv4 netmask as a host-order u32
    /// (0xffffffff = /32), IPv6 prefix length.
    pub netmask: u32,
    /// Persistence engine, e.g. "sip".
    pub pe_name: Option<String>,
}

impl Service {
    /// A non-persistent service with the ipvsadm defaults.
    pub fn new(key: ServiceKey, sched: Scheduler) -> Self {
        Service {
            netmask: key.family().full_netmask(),
            key,
            sched,
            flags: ServiceFlags::default(),
            timeout: 0,
            pe_name: None,
        }
    }

    /// Make the service persistent, as `ipvsadm -p timeout`.
    pub fn persistent(mut self, timeout: u32) -> Self {
        self.flags = self.flags.with(ServiceFlags::PERSISTENT, true);
        self.timeout = timeout;
        self
    }

    /// Whether the kernel entry `current` needs an edit to become `self`.
    /// The kernel-owned HASHED flag is ignored.
    pub fn differs_from(&self, current: &Service) -> bool {
        self.sched != current.sched
            || self.flags.user() != current.flags.user()
            || self.timeout != current.timeout
            || self.netmask != current.netmask
            || self.pe_name != current.pe_name
    }
}

/// Tunnel encapsulation (`IP_VS_CONN_F_TUNNEL_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum TunnelType {
    #[default]
    Ipip,
    Gue,
    Gre,
}

impl TunnelType {
    pub fn to_raw(self) -> u8 {
        match self {
            TunnelType::Ipip => 0,
            TunnelType::Gue => 1,
            TunnelType::Gre => 2,
        }
    }

    pub fn from_raw(raw: u8) -> Option<TunnelType> {
        match raw {
            0 => Some(TunnelType::Ipip),
            1 => Some(TunnelType::Gue),
            2 => Some(TunnelType::Gre),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TunnelType::Ipip => "ipip",
            TunnelType::Gue => "gue",
            TunnelType::Gre => "gre",
        }
    }
}

/// Tunnel encapsulation flags (`IP_VS_TUNNEL_ENCAP_FLAG_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct TunnelFlags(pub u16);

impl TunnelFlags {
    pub const NOCSUM: u16 = 0;
    pub const CSUM: u16 = 1 << 0;
    pub const REMCSUM: u16 = 1 << 1;
}

/// Packet forwarding method (`IP_VS_CONN_F_*` & `IP_VS_CONN_F_FWD_MASK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Forwarding {
    /// NAT (`-m`).
    Masq,
    Local,
    /// IP-in-IP / GUE / GRE tunnelling (`-i`).
    Tunnel {
        tun_type: TunnelType,
        port: u16,
        flags: TunnelFlags,
    },
    /// Direct routing, "gatewaying" (`-g`).
    Direct,
    Bypass,
}

impl Forwarding {
    pub const FWD_MASK: u32 = 0x0007;

    pub fn to_raw(self) -> u32 {
        match self {
            Forwarding::Masq => 0,
            Forwarding::Local => 1,
            Forwarding::Tunnel { .. } => 2,
            Forwarding::Direct => 3,
            Forwarding::Bypass => 4,
        }
    }

    pub fn ipip() -> Forwarding {
        Forwarding::Tunnel {
            tun_type: TunnelType::Ipip,
            port: 0,
            flags: TunnelFlags::default(),
        }
    }
}

/// Identity of a real server inside its service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DestKey {
    pub addr: IpAddr,
    pub port: u16,
}

/// A real server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dest {
    pub addr: IpAddr,
    pub port: u16,
    pub fwd: Forwarding,
    /// The kernel keeps weight as an `int`; negative values are rejected with ERANGE.
    pub weight: i32,
    /// Upper connection threshold (0 = none).
    pub u_threshold: u32,
    /// Lower connection threshold (0 = none).
    pub l_threshold: u32,
}

impl Dest {
    pub fn new(addr: IpAddr, port: u16, fwd: Forwarding, weight: i32) -> Self {
        Dest {
            addr,
            port,
            fwd,
            weight,
            u_threshold: 0,
            l_threshold: 0,
        }
    }

    pub fn key(&self) -> DestKey {
        DestKey {
            addr: self.addr,
            port: self.port,
        }
    }

    pub fn family(&self) -> Family {
        Family::of(&self.addr)
    }
}

/// A service and its real servers, in kernel identity order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    pub service: Service,
    pub dests: BTreeMap<DestKey, Dest>,
}

impl ServiceEntry {
    pub fn new(service: Service) -> Self {
        ServiceEntry {
            service,
            dests: BTreeMap::new(),
        }
    }
}

/// The IPVS table: all services with their dests.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IpvsState {
    pub services: BTreeMap<ServiceKey, ServiceEntry>,
}

impl IpvsState {
    pub fn new() -> Self {
        Self::default()
    }

    /// Insert or replace a service, keeping its dests when it already exists.
    pub fn upsert_service(&mut self, service: Service) -> &mut ServiceEntry {
        let entry = self
            .services
            .entry(service.key)
            .or_insert_with(|| ServiceEntry::new(service.clone()));
        entry.service = service;
        entry
    }

    /// Insert or replace a dest; returns false when the service is unknown.
    pub fn upsert_dest(&mut self, key: &ServiceKey, dest: Dest) -> bool {
        match self.services.get_mut(key) {
            Some(entry) => {
                entry.dests.insert(dest.key(), dest);
                true
            }
            None => false,
        }
    }

    pub fn dest_count(&self) -> usize {
        self.services.values().map(|e| e.dests.len()).sum()
    }
}

/// One change to the kernel table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    AddService(Service),
    EditService(Service),
    DelService(ServiceKey),
    AddDest(ServiceKey, Dest),
    EditDest(ServiceKey, Dest),
    DelDest(ServiceKey, DestKey),
    /// Delete every service (`ipvsadm -C`).
    Flush,
}

impl Op {
    /// The service this op concerns (None for Flush).
    pub fn service_key(&self) -> Option<&ServiceKey> {
        match self {
            Op::AddService(s) | Op::EditService(s) => Some(&s.key),
            Op::DelService(k) | Op::AddDest(k, _) | Op::EditDest(k, _) | Op::DelDest(k, _) => {
                Some(k)
            }
            Op::Flush => None,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Op::AddService(s) => write!(f, "add service {}", s.key),
            Op::EditService(s) => write!(f, "edit service {}", s.key),
            Op::DelService(k) => write!(f, "delete service {k}"),
            Op::AddDest(k, d) => write!(f, "add dest {} to {k}", SocketFmt(d.addr, d.port)),
            Op::EditDest(k, d) => write!(f, "edit dest {} of {k}", SocketFmt(d.addr, d.port)),
            Op::DelDest(k, d) => write!(f, "delete dest {} from {k}", SocketFmt(d.addr, d.port)),
            Op::Flush => f.write_str("flush"),
        }
    }
}
