//! The kernel side of route announcement ([`crate::announce`]): a small
//! synchronous rtnetlink client (dump one table, add and delete one host
//! route) behind [`RouteBackend`], and [`MockRoutes`] for tests. Like the
//! IPVS client, it is called from the engine task between events; a route
//! operation is one request and its ACK.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL,
    NLM_F_REQUEST,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteHeader, RouteMessage, RouteProtocol, RouteScope, RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use crate::announce::{KernelRoute, Route};

/// A route operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum RouteError {
    #[error("rtnetlink socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("{op} {what}: {}", std::io::Error::from_raw_os_error(*.errno))]
    Kernel {
        op: &'static str,
        what: String,
        errno: i32,
    },
    #[error("undecodable rtnetlink reply: {0}")]
    Decode(String),
    #[error("no loopback interface 'lo': {0}")]
    NoLoopback(nix::Error),
}

impl RouteError {
    /// The kernel's errno, if it refused.
    pub fn errno(&self) -> Option<i32> {
        match self {
            RouteError::Kernel { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

/// Where routes are read and written.
pub trait RouteBackend: Send {
    /// Every route (any protocol, any type) of `table`, IPv4 and IPv6.
    fn dump(&mut self, table: u32) -> Result<Vec<KernelRoute>, RouteError>;
    /// `unicast DST dev lo table T proto P metric M scope link`; an
    /// existing route with the same key is an error (`EEXIST`).
    fn add(&mut self, r: &Route, protocol: u8) -> Result<(), RouteError>;
    /// Delete the route of `protocol` with `r`'s table, destination and
    /// metric, whatever its type and interface.
    fn del(&mut self, r: &Route, protocol: u8) -> Result<(), RouteError>;
}

/// The kernel's routing tables over rtnetlink.
pub struct NetlinkRoutes {
    socket: Socket,
    seq: u32,
    lo: u32,
}

impl NetlinkRoutes {
    pub fn new() -> Result<Self, RouteError> {
        let lo = nix::net::if_::if_nametoindex("lo").map_err(RouteError::NoLoopback)?;
        let mut socket = Socket::new(NETLINK_ROUTE)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        // Kernel-side filtering of dumps by table (Linux >= 4.20); without
        // it the kernel sends every table and `dump` filters.
        let _ = socket.set_netlink_get_strict_chk(true);
        let _ = socket.set_ext_ack(true);
        Ok(Self { socket, seq: 0, lo })
    }

    fn header(family: IpAddr, table: u32, protocol: u8) -> RouteHeader {
        RouteHeader {
            address_family: if family.is_ipv4() {
                AddressFamily::Inet
            } else {
                AddressFamily::Inet6
            },
            // Tables above 255 only fit RTA_TABLE (iproute2 does the same).
            table: u8::try_from(table).unwrap_or(RouteHeader::RT_TABLE_UNSPEC),
            protocol: RouteProtocol::from(protocol),
            ..RouteHeader::default()
        }
    }

    fn route_message(r: &Route, protocol: u8) -> RouteMessage {
        let mut m = RouteMessage::default();
        m.header = Self::header(r.dst, r.table, protocol);
        m.header.destination_prefix_length = r.prefix_len();
        m.attributes.push(RouteAttribute::Destination(r.dst.into()));
        m.attributes.push(RouteAttribute::Priority(r.metric));
        m.attributes.push(RouteAttribute::Table(r.table));
        m
    }

    /// Send one request; collect the routes of a dump, or the ACK.
    fn request(
        &mut self,
        msg: RouteNetlinkMessage,
        flags: u16,
        op: &'static str,
        what: &dyn Fn() -> String,
    ) -> Result<Vec<RouteMessage>, RouteError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let mut header = NetlinkHeader::default();
        header.flags = flags | NLM_F_REQUEST;
        header.sequence_number = seq;
        let mut nl = NetlinkMessage::new(header, NetlinkPayload::from(msg));
        nl.finalize();
        let mut buf = vec![0u8; nl.buffer_len()];
        nl.serialize(&mut buf);
        self.socket.send(&buf, 0)?;
        let mut out = Vec::new();
        loop {
            let (data, _) = self.socket.recv_from_full()?;
            let mut off = 0;
            while off < data.len() {
                let reply = NetlinkMessage::<RouteNetlinkMessage>::deserialize(&data[off..])
                    .map_err(|e| RouteError::Decode(e.to_string()))?;
                let len = reply.header.length as usize;
                if len == 0 {
                    return Err(RouteError::Decode("zero-length message".into()));
                }
                off += (len + 3) & !3;
                if reply.header.sequence_number != seq {
                    continue;
                }
                match reply.payload {
                    NetlinkPayload::Done(d) if d.code < 0 => {
                        return Err(RouteError::Kernel {
                            op,
                            what: what(),
                            errno: -d.code,
                        })
                    }
                    NetlinkPayload::Done(_) => return Ok(out),
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(out),
                            Some(c) => Err(RouteError::Kernel {
                                op,
                                what: what(),
                                errno: -c.get(),
                            }),
                        }
                    }
                    NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewRoute(m)) => out.push(m),
                    _ => {}
                }
            }
        }
    }

    /// A dumped route as [`KernelRoute`] (None: not IPv4/IPv6).
    fn kernel_route(&self, m: &RouteMessage) -> Option<KernelRoute> {
        let mut table = u32::from(m.header.table);
        let mut dst = None;
        let mut metric = 0;
        let mut oif = None;
        let mut gateway = false;
        for a in &m.attributes {
            match a {
                RouteAttribute::Table(t) => table = *t,
                RouteAttribute::Destination(RouteAddress::Inet(a)) => dst = Some(IpAddr::V4(*a)),
                RouteAttribute::Destination(RouteAddress::Inet6(a)) => dst = Some(IpAddr::V6(*a)),
                RouteAttribute::Priority(p) => metric = *p,
                RouteAttribute::Oif(o) => oif = Some(*o),
                RouteAttribute::Gateway(_) | RouteAttribute::MultiPath(_) => gateway = true,
                _ => {}
            }
        }
        let dst = match (dst, m.header.address_family) {
            (Some(d), _) => d,
            (None, AddressFamily::Inet) => IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            (None, AddressFamily::Inet6) => IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
            _ => return None,
        };
        Some(KernelRoute {
            table,
            dst,
            prefix_len: m.header.destination_prefix_length,
            protocol: u8::from(m.header.protocol),
            metric,
            ours_shape: m.header.kind == RouteType::Unicast && oif == Some(self.lo) && !gateway,
        })
    }
}

const ENOENT: i32 = libc::ENOENT;

impl RouteBackend for NetlinkRoutes {
    fn dump(&mut self, table: u32) -> Result<Vec<KernelRoute>, RouteError> {
        let mut routes = Vec::new();
        for family in [
            IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(std::net::Ipv6Addr::UNSPECIFIED),
        ] {
            let mut m = RouteMessage::default();
            m.header = Self::header(family, table, 0);
            m.attributes.push(RouteAttribute::Table(table));
            let what = || format!("table {table}");
            let msgs = match self.request(
                RouteNetlinkMessage::GetRoute(m),
                NLM_F_DUMP,
                "dump routes of",
                &what,
            ) {
                Ok(msgs) => msgs,
                // A table without routes does not exist (strict dumps).
                Err(e) if e.errno() == Some(ENOENT) => Vec::new(),
                Err(e) => return Err(e),
            };
            routes.extend(
                msgs.iter()
                    .filter_map(|m| self.kernel_route(m))
                    .filter(|r| r.table == table),
            );
        }
        Ok(routes)
    }

    fn add(&mut self, r: &Route, protocol: u8) -> Result<(), RouteError> {
        let mut m = Self::route_message(r, protocol);
        m.header.scope = RouteScope::Link;
        m.header.kind = RouteType::Unicast;
        m.attributes.push(RouteAttribute::Oif(self.lo));
        self.request(
            RouteNetlinkMessage::NewRoute(m),
            NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
            "add route",
            &|| r.to_string(),
        )
        .map(drop)
    }

    fn del(&mut self, r: &Route, protocol: u8) -> Result<(), RouteError> {
        let mut m = Self::route_message(r, protocol);
        // Any scope, any type (iproute2's `ip route del`).
        m.header.scope = RouteScope::NoWhere;
        m.header.kind = RouteType::Unspec;
        self.request(
            RouteNetlinkMessage::DelRoute(m),
            NLM_F_ACK,
            "delete route",
            &|| r.to_string(),
        )
        .map(drop)
    }
}

/// One operation [`MockRoutes`] performed, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteOp {
    Add(Route),
    Del(Route),
}

/// In-memory routing tables with the kernel's add/delete semantics, shared
/// (clone it to inspect the tables and the operation log while the engine runs).
#[derive(Debug, Clone, Default)]
pub struct MockRoutes {
    pub inner: Arc<Mutex<MockTables>>,
}

#[derive(Debug, Default)]
pub struct MockTables {
    pub routes: Vec<KernelRoute>,
    pub log: Vec<RouteOp>,
    /// When set, every operation fails with this errno.
    pub fail: Option<i32>,
}

impl MockRoutes {
    fn lock(&self) -> std::sync::MutexGuard<'_, MockTables> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Destinations of `protocol`'s routes in `table`.
    pub fn dsts(&self, table: u32, protocol: u8) -> BTreeSet<IpAddr> {
        self.lock()
            .routes
            .iter()
            .filter(|r| r.table == table && r.protocol == protocol)
            .map(|r| r.dst)
            .collect()
    }

    /// Add a route as another tool would.
    pub fn insert(&self, r: KernelRoute) {
        self.lock().routes.push(r);
    }

    pub fn log(&self) -> Vec<RouteOp> {
        self.lock().log.clone()
    }

    pub fn set_fail(&self, errno: Option<i32>) {
        self.lock().fail = errno;
    }
}

impl RouteBackend for MockRoutes {
    fn dump(&mut self, table: u32) -> Result<Vec<KernelRoute>, RouteError> {
        let t = self.lock();
        if let Some(errno) = t.fail {
            return Err(RouteError::Kernel {
                op: "dump routes of",
                what: format!("table {table}"),
                errno,
            });
        }
        Ok(t.routes
            .iter()
            .filter(|r| r.table == table)
            .copied()
            .collect())
    }

    fn add(&mut self, r: &Route, protocol: u8) -> Result<(), RouteError> {
        let mut t = self.lock();
        let err = |errno| RouteError::Kernel {
            op: "add route",
            what: r.to_string(),
            errno,
        };
        if let Some(errno) = t.fail {
            return Err(err(errno));
        }
        let metric = crate::announce::kernel_metric(r.dst, r.metric);
        let exists = t.routes.iter().any(|k| {
            k.table == r.table
                && k.dst == r.dst
                && k.metric == metric
                && k.prefix_len == r.prefix_len()
        });
        if exists {
            return Err(err(libc::EEXIST));
        }
        t.routes.push(KernelRoute {
            table: r.table,
            dst: r.dst,
            prefix_len: r.prefix_len(),
            protocol,
            // As the kernel: IPv6 metric 0 is stored as 1024.
            metric: crate::announce::kernel_metric(r.dst, r.metric),
            ours_shape: true,
        });
        t.log.push(RouteOp::Add(*r));
        Ok(())
    }

    fn del(&mut self, r: &Route, protocol: u8) -> Result<(), RouteError> {
        let mut t = self.lock();
        if let Some(errno) = t.fail {
            return Err(RouteError::Kernel {
                op: "delete route",
                what: r.to_string(),
                errno,
            });
        }
        let before = t.routes.len();
        t.routes.retain(|k| {
            !(k.table == r.table
                && k.dst == r.dst
                // IPv6: a delete with metric 0 matches any metric.
                && (k.metric == r.metric || (r.dst.is_ipv6() && r.metric == 0))
                && k.protocol == protocol
                && k.prefix_len == r.prefix_len())
        });
        if t.routes.len() == before {
            return Err(RouteError::Kernel {
                op: "delete route",
                what: r.to_string(),
                errno: libc::ESRCH,
            });
        }
        t.log.push(RouteOp::Del(*r));
        Ok(())
    }
}
